import ESCPOS
import Foundation
import Printers
import Receipts
import Synchronization
import TillCore
import TillDocuments
import TillProtocol
import TillStore
import TillUI

/// Receipts for the till: renders them from the templates for the configured printer, queues them
/// with the sale, keeps a text copy in the data directory, and reports the spooler's view.
final class ReceiptService: ReceiptPrinting {
    let config: TillConfig
    let database: TillDatabase
    let template: ReceiptTemplate
    let slipTemplate: ReceiptTemplate
    let refundTemplate: ReceiptTemplate
    let reportTemplate: ReceiptTemplate
    let profile: PrinterProfile
    let columns: Int
    let spooler: PrintSpooler?
    let timeZone: TimeZone
    private let lastRendered = Mutex<(id: String, bytes: [UInt8])?>(nil)
    /// The receipt's extra header and footer lines: the configuration's, or head office's when it published some.
    private let lines: Mutex<(header: [String], footer: [String])>
    private let toldProblem = Mutex(0)

    init(config: TillConfig, database: TillDatabase, spooler: PrintSpooler?, timeZone: TimeZone = .current) throws {
        self.config = config
        self.database = database
        self.spooler = spooler
        self.timeZone = timeZone
        self.lines = Mutex((config.receiptHeader, config.receiptFooter))
        let loaded = try ReceiptLayout(config: config)
        self.template = loaded.sale
        self.slipTemplate = loaded.registration
        self.refundTemplate = loaded.refund
        self.reportTemplate = loaded.report
        self.profile = loaded.profile
        self.columns = loaded.columns
    }

    /// The programme the last loyalty sale was computed with (for how "to next tier" reads).
    private let programme = Mutex<LoyaltyProgramme?>(nil)

    private func programme(version: String) -> LoyaltyProgramme? {
        programme.withLock { p in
            if p?.version != version { p = (try? database.programme()) ?? p }
            return p
        }
    }

    /// The receipt's bytes for this printer; `copy` marks a reprint. A sale that issued a card
    /// is followed by the registration slip.
    func render(_ sale: CompletedSale, copy: Bool = false) -> [UInt8] {
        let spendBasis = sale.loyalty.map { programme(version: $0.programmeVersion)?.tierQualification.basis != .points } ?? true
        let data = SaleReceipt.data(
            sale, date: ProtocolTime.display(sale.completedAt, timeZone: timeZone), copy: copy,
            address: config.storeAddress, header: lines.withLock { $0.header }, footer: lines.withLock { $0.footer }, spendBasis: spendBasis,
            survey: config.surveyURL.map { $0 + "/" + sale.id.lowercased() })
        var bytes = escpos(template.render(data, columns: columns))
        if !copy, let o = sale.loyalty, let r = o.customer.registration {
            bytes += renderSlip(r, welcome: o.welcome.total, programmeName: programme(version: o.programmeVersion)?.name ?? "Loyalty", at: sale.completedAt)
        }
        return bytes
    }

    /// The registration slip's bytes.
    func renderSlip(_ r: Registration, welcome: Points, programmeName: String, at time: Timestamp) -> [UInt8] {
        let data = RegistrationSlip.data(
            r, programme: programmeName, welcome: welcome, storeID: config.storeID, storeName: config.storeName,
            address: config.storeAddress, tillID: config.tillID, date: ProtocolTime.display(time, timeZone: timeZone))
        return escpos(slipTemplate.render(data, columns: columns))
    }

    func registrationSlip(for r: Registration, welcome: Points, programmeName: String) -> PrintJobDraft? {
        guard config.printerConnection != .none else { return nil }
        return PrintJobDraft(kind: .registration, receiptNumber: nil, payload: renderSlip(r, welcome: welcome, programmeName: programmeName, at: r.registeredAt))
    }

    func queued() { spooler?.jobQueued() }

    func settingsChanged(_ t: TerminalSettings) {
        lines.withLock { l in
            if let h = t.receiptHeader { l.header = h }
            if let f = t.receiptFooter { l.footer = f }
        }
    }

    // MARK: Cash office

    func renderRefund(_ r: CompletedRefund) -> [UInt8] {
        let data = RefundSlip.data(r, date: ProtocolTime.display(r.at, timeZone: timeZone), address: config.storeAddress,
                                   header: lines.withLock { $0.header }, footer: lines.withLock { $0.footer })
        return escpos(refundTemplate.render(data, columns: columns))
    }

    func renderReport(_ r: PeriodReport) -> [UInt8] {
        let data = ReportSlip.data(
            r, storeName: config.storeName, from: ProtocolTime.display(r.from, timeZone: timeZone),
            to: ProtocolTime.display(r.to, timeZone: timeZone), address: config.storeAddress, header: lines.withLock { $0.header })
        return escpos(reportTemplate.render(data, columns: columns))
    }

    func refundJob(for r: CompletedRefund) -> PrintJobDraft? {
        guard config.printerConnection != .none else { return nil }
        return PrintJobDraft(kind: .refund, receiptNumber: r.receiptNumber, payload: renderRefund(r))
    }

    func reportJob(for r: PeriodReport) -> PrintJobDraft? {
        guard config.printerConnection != .none else { return nil }
        return PrintJobDraft(kind: .report, receiptNumber: "\(r.kind)\(r.number)", payload: renderReport(r))
    }

    func drawerJob(for m: CashMovement) -> PrintJobDraft? {
        guard config.printerConnection != .none, m.kind != .pickup || m.amount > 0 else { return nil }
        return PrintJobDraft(kind: .drawer, receiptNumber: nil, payload: escpos(ReceiptDocument(columns: columns, blocks: [.drawer])))
    }

    func reportLines(for r: PeriodReport) -> [String] { keepText(paperText(renderReport(r)), name: "\(r.kind)-\(r.number)") }
    func refundLines(for r: CompletedRefund) -> [String] { keepText(paperText(renderRefund(r)), name: r.receiptNumber) }

    /// A text copy for people in the receipts directory; failing to write it never matters.
    private func keepText(_ lines: [String], name: String) -> [String] {
        spooler?.jobQueued()
        let dir = config.receiptsDirectory
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try? Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/" + name + ".txt"), options: .atomic)
        return lines
    }

    private func escpos(_ document: ReceiptDocument) -> [UInt8] {
        // Templates are checked when they load and the paper width with the configuration, so
        // this only fails on data no barcode can hold; print the rest of the receipt then.
        if let bytes = try? document.escpos(profile: profile, paperWidthMM: config.paperWidthMM) { return bytes }
        var safe = document
        safe.blocks = safe.blocks.filter { if case .barcode = $0 { return false }; if case .qrCode = $0 { return false }; return true }
        return (try? safe.escpos(profile: profile, paperWidthMM: config.paperWidthMM)) ?? []
    }

    func receiptJob(for sale: CompletedSale) -> PrintJobDraft? {
        let bytes = render(sale)
        lastRendered.withLock { $0 = (sale.id, bytes) }
        guard config.printerConnection != .none else { return nil }
        return PrintJobDraft(kind: .receipt, receiptNumber: sale.receiptNumber, payload: bytes)
    }

    func saleCompleted(_ sale: CompletedSale) -> [String] {
        spooler?.jobQueued()
        let bytes = lastRendered.withLock { $0?.id == sale.id ? $0?.bytes : nil } ?? render(sale)
        let lines = paperText(bytes)
        // A text copy for people; failing to write it never affects the sale.
        let dir = config.receiptsDirectory
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try? Data((lines.joined(separator: "\n") + "\n").utf8)
            .write(to: URL(fileURLWithPath: dir + "/" + sale.receiptNumber + ".txt"), options: .atomic)
        return lines
    }

    func reprint(_ sale: CompletedSale) throws {
        guard config.printerConnection != .none else {
            throw CLIError("No printer is configured ([printer] connection = \"none\"): the receipt is in \(config.receiptsDirectory)/\(sale.receiptNumber).txt")
        }
        try database.enqueuePrintJob(
            PrintJobDraft(kind: .reprint, receiptNumber: sale.receiptNumber, payload: render(sale, copy: true)),
            saleID: sale.id, at: Int64(Date().timeIntervalSince1970 * 1000))
        spooler?.jobQueued()
    }

    /// What the paper shows, read back from the bytes by the virtual printer.
    func paperText(_ bytes: [UInt8]) -> [String] {
        guard var v = try? VirtualPrinter(profile: profile, paperWidthMM: config.paperWidthMM) else { return [] }
        v.feed(bytes)
        return v.text
    }

    var statusLine: String {
        guard let spooler else { return "none" }
        let s = spooler.snapshot
        return s.waiting > 0 ? "\(s.printer) (\(s.waiting) waiting)" : s.printer
    }

    func takeProblem() -> String? {
        guard let s = spooler?.snapshot, let problem = s.problem else { return nil }
        return toldProblem.withLock { told in
            guard s.problemNumber > told else { return nil }
            told = s.problemNumber
            return problem
        }
    }
}

/// The configured printer's profile, paper and templates, loaded and checked.
struct ReceiptLayout {
    let profile: PrinterProfile
    let columns: Int
    let dots: Int
    let source: any TemplateSource
    let sale: ReceiptTemplate
    let registration: ReceiptTemplate
    let refund: ReceiptTemplate
    let report: ReceiptTemplate

    init(config: TillConfig) throws {
        profile = try PrinterProfile.named(config.printerProfile)
        let paper = try profile.paper(widthMM: config.paperWidthMM)
        columns = paper.columns["A"] ?? 48
        dots = paper.dots
        source = config.templatesDirectory.map { DirectoryTemplates(directory: $0) as any TemplateSource } ?? BuiltInTemplates()
        sale = try ReceiptTemplate(named: "sale.receipt", from: source, schema: SaleReceipt.schema, maxImageWidth: dots)
        registration = try ReceiptTemplate(named: "registration.receipt", from: source, schema: RegistrationSlip.schema, maxImageWidth: dots)
        refund = try ReceiptTemplate(named: "refund.receipt", from: source, schema: RefundSlip.schema, maxImageWidth: dots)
        report = try ReceiptTemplate(named: "report.receipt", from: source, schema: ReportSlip.schema, maxImageWidth: dots)
    }

    func testPage(config: TillConfig, connection: String, date: String) throws -> [UInt8] {
        let t = try ReceiptTemplate(named: "testpage.receipt", from: source, schema: TestPage.schema, maxImageWidth: dots)
        let data = TestPage.data(
            storeID: config.storeID, storeName: config.storeName, address: config.storeAddress, tillID: config.tillID,
            profile: profile.name, paperWidthMM: config.paperWidthMM, columns: columns, connection: connection, date: date)
        return try t.render(data, columns: columns).escpos(profile: profile, paperWidthMM: config.paperWidthMM)
    }
}
