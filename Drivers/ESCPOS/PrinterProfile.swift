import Foundation

/// What a class of printer can do, as data (the JSON files in `Drivers/ESCPOS/profiles`, built
/// into the binary): paper widths with their dots and characters per line per font, the ESC t
/// numbers of its code pages, and its features.
public struct PrinterProfile: Codable, Sendable, Hashable {
    public var name: String
    public var description: String
    /// Paper width in mm ("80", "58") → dots per line and characters per line for each font.
    public var paper: [String: Paper]
    /// Font name ("A", "B") → cell size in dots.
    public var fonts: [String: FontCell]
    /// Code page name ("CP858") → its ESC t number on this printer.
    public var codePages: [String: UInt8]
    public var features: Features

    public struct Paper: Codable, Sendable, Hashable {
        public var dots: Int
        public var columns: [String: Int]
    }

    public struct FontCell: Codable, Sendable, Hashable {
        public var width: Int
        public var height: Int
    }

    public struct Features: Codable, Sendable, Hashable {
        public var cut: Bool
        public var partialCut: Bool
        public var drawer: Bool
        /// QR codes with GS ( k; otherwise they are sent as raster images.
        public var nativeQR: Bool
        /// Everything, text included, must be sent as raster images (GS v 0).
        public var rasterOnly: Bool
        /// Answers DLE EOT status requests.
        public var status: Bool
        /// Prints EAN-13 and CODE128 with GS k; otherwise they are sent as raster images.
        public var barcodes: Bool
    }

    /// Code pages this printer has, in the order the encoder tries them.
    public var availableCodePages: [(CodePage, UInt8)] {
        CodePage.allCases.compactMap { page in codePages[page.rawValue].map { (page, $0) } }
    }

    /// The profiles built into the till.
    public static let builtIn: [PrinterProfile] = {
        let decoder = JSONDecoder()
        return [
            PackageResources.generic_80_json, PackageResources.generic_58_json, PackageResources.epson_tm_t88_json,
            PackageResources.epson_tm_t20_json, PackageResources.star_tsp100_raster_json,
        ].map { try! decoder.decode(PrinterProfile.self, from: Data($0)) }
    }()

    /// The built-in profile with this name, or an error naming the nearest ones.
    public static func named(_ name: String) throws(ProfileError) -> PrinterProfile {
        if let p = builtIn.first(where: { $0.name == name.lowercased() }) { return p }
        let ranked = builtIn.map(\.name).sorted {
            editDistance($0, name.lowercased()) < editDistance($1, name.lowercased())
        }
        throw ProfileError(message: "Unknown printer profile '\(name)'. Try one that does exist, such as \(ranked.prefix(2).joined(separator: " or ")) (all: \(builtIn.map(\.name).joined(separator: ", ")))")
    }

    /// The paper this profile prints on at `widthMM`, or an error listing the widths it has.
    public func paper(widthMM: Int) throws(ProfileError) -> Paper {
        guard let p = paper[String(widthMM)] else {
            let widths = paper.keys.sorted().map { "\($0) mm" }.joined(separator: ", ")
            throw ProfileError(message: "Printer profile \(name) has no \(widthMM) mm paper: it takes \(widths)")
        }
        return p
    }

    /// Levenshtein distance, for "did you mean" suggestions.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var prev = row[0]
            row[0] = i
            for j in 1...b.count {
                let cur = row[j]
                row[j] = Swift.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[b.count]
    }
}

public struct ProfileError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
