import Foundation

/// The templates built into the till (the files in `Receipts/templates`).
public struct BuiltInTemplates: TemplateSource {
    public init() {}

    static let files: [String: [UInt8]] = [
        "sale.receipt": PackageResources.sale_receipt,
        "header.receipt": PackageResources.header_receipt,
        "footer.receipt": PackageResources.footer_receipt,
        "testpage.receipt": PackageResources.testpage_receipt,
        "registration.receipt": PackageResources.registration_receipt,
        "logo.png": PackageResources.logo_png,
        "refund.receipt": PackageResources.refund_receipt,
        "report.receipt": PackageResources.report_receipt,
    ]

    /// The names of the built-in files, for `till receipt templates`.
    public static var names: [String] { files.keys.sorted() }

    public func file(named name: String) -> [UInt8]? { Self.files[name] }
    public var description: String { "the built-in templates" }
}

/// A store's template directory: its files replace the built-in ones of the same name, so a
/// store can change just `header.receipt`, `footer.receipt` or `logo.png`.
public struct DirectoryTemplates: TemplateSource {
    public let directory: String
    let fallback = BuiltInTemplates()

    public init(directory: String) { self.directory = directory }

    public func file(named name: String) -> [UInt8]? {
        guard !name.contains("/") else { return nil }
        if let data = FileManager.default.contents(atPath: directory + "/" + name) { return [UInt8](data) }
        return fallback.file(named: name)
    }

    public var description: String { "\(directory) (or the built-in templates)" }
}
