import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillStore
import TillTestSupport

/// Every input of the fuzzing corpora (Fuzz/corpus/NAME) and every crash fuzzing ever found
/// (Fuzz/regressions/NAME) through the parser it was found for, with the harness's checks: no
/// crash, and what the fast ingest reader accepts JSONDecoder reads the same.
@Suite("Fuzzing corpora and regressions")
struct FuzzRegressionTests {
    static func inputs(_ name: String) -> [(String, [UInt8])] {
        let root = PackagePaths.fuzz
        var out: [(String, [UInt8])] = []
        for dir in ["corpus", "regressions"] {
            let path = root + "/\(dir)/\(name)"
            for file in ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() {
                if let data = FileManager.default.contents(atPath: path + "/" + file) { out.append((dir + "/" + file, Array(data))) }
            }
        }
        return out
    }

    @Test func ingest() throws {
        let all = Self.inputs("ingest")
        #expect(all.count >= 5)
        for (file, bytes) in all {
            let fast = bytes.withUnsafeBytes { FastIngestDecoder.decode($0) }
            _ = bytes.withUnsafeBytes { FastIngestDecoder.numberProblem($0) }
            guard let (batch, raws) = fast else { continue }
            let slow = try? JSONDecoder().decode(IngestBatch.self, from: Data(bytes))
            #expect(slow == batch, "\(file)")
            for (i, raw) in raws.enumerated() {
                guard let raw else { continue }
                let back = try? JSONDecoder().decode(SaleDocument.self, from: Data(raw.utf8))
                #expect(back == batch.documents[i].sale, "\(file): sale \(i)")
            }
            for d in batch.documents {
                if let s = d.sale, s.problem() == nil { _ = try? CompletedSale(document: s, storeName: nil) }
                _ = d.registration?.boundsProblem()
                _ = d.refund?.boundsProblem()
                _ = d.zreport?.boundsProblem()
            }
        }
    }

    @Test func csvFiles() {
        for (_, bytes) in Self.inputs("csv") + Self.inputs("catalog") + Self.inputs("cards") + Self.inputs("staff") {
            let text = String(decoding: bytes, as: UTF8.self)
            _ = try? CSVReader.records(text)
            let (rows, issues) = CatalogCSV.parse(text, currency: .eur, taxCodes: ["A", "B", "Z"], rules: BarcodeRules())
            #expect(rows.isEmpty || issues.isEmpty)
            _ = StaffCSV.parse(text, storeColumn: true)
            if let records = try? CSVReader.records(text) {
                _ = CardsCSV.parse(records, programme: DemoCatalog.programme, now: 1_795_000_000_000)
            }
        }
    }

    @Test func formBodies() {
        for (_, bytes) in Self.inputs("multipart") {
            let newline = bytes.firstIndex(of: 0x0A) ?? bytes.count
            let body = Array(bytes[min(bytes.count, newline + 1)...])
            _ = FormBody.multipart(body, contentType: String(decoding: bytes[..<newline], as: UTF8.self))
            _ = FormBody.urlencoded(body)
        }
    }
}

extension PackagePaths {
    static var fuzz: String { root + "/Fuzz" }
}

@Suite("Times on the wire")
struct ProtocolTimeTests {
    @Test func fractionsOfAnyLengthAreReadAsMilliseconds() {
        // Four digits of fraction trapped the reader (found by fuzzing the ingest reader).
        #expect(ProtocolTime.parse("2026-11-18T11:08:40.0010Z") == ProtocolTime.parse("2026-11-18T11:08:40.001Z"))
        #expect(ProtocolTime.parse("2026-11-18T11:08:40.123456789Z") == ProtocolTime.parse("2026-11-18T11:08:40.123Z"))
        #expect(ProtocolTime.parse("2026-11-18T11:08:40.5Z") == ProtocolTime.parse("2026-11-18T11:08:40.500Z"))
        #expect(ProtocolTime.parse("2026-11-18T11:08:40.Z") == nil)
    }
}

@Suite("Barcodes in files")
struct BarcodeFileTests {
    @Test func aDigitWithACombiningMarkIsNotADigit() {
        // "5\u{308}" is one Character that sorts between "0" and "9": the GTIN check trapped on it.
        let text = "sku,barcodes,plu,description,unit_price,tax_code,category,sold_by_weight\nF0001,501234567890\u{308}0,,Milk,1.19,A,Dairy,0\n"
        let (rows, issues) = CatalogCSV.parse(text, currency: .eur, taxCodes: ["A"], rules: BarcodeRules())
        #expect(rows.isEmpty)
        #expect(issues.count == 1)
        #expect(!GTIN.isValid("501234567890\u{308}0"))
    }
}
