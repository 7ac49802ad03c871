import Foundation
import HeadOffice
import Testing
import TillProtocol
import TillTestSupport

/// `headoffice report … --json`: what the IT people's scripts read.
@Suite("headoffice report --json")
struct ReportCommandTests {
    struct Gaps: Decodable, Equatable {
        var till: String
        var storeID: String
        var tillID: String
        var missing: [SequenceGap]
    }
    struct Ledger: Decodable {
        struct Mismatch: Decodable { var card: String; var balance: Int64; var movements: Int64 }
        var consistent: Bool
        var mismatches: [Mismatch]
    }
    struct Summary: Decodable, Equatable {
        var sales: Int, tills: Int, exceptions: Int, discrepancies: Int, rejects: Int
    }

    @Test func gapsLedgerAndSummaryPrintJSON() throws {
        let dir = TemporaryDirectory("ho-report")
        let store = try makeHeadOffice(.sqlite, dir)
        _ = try store.registerTill(till1)
        let t = try TillSide()
        try t.generator.ring(6)
        let docs = try t.batch().documents
        _ = try store.ingest(IngestBatch(storeID: "0001", tillID: "01", documents: [docs[0], docs[1], docs[4], docs[5]]), from: till1)
        let binary = PackagePaths.binary("headoffice"), database = dir.file("headoffice.sqlite")
        func report(_ kind: String) throws -> (status: Int32, json: Data) {
            let r = try runProcess(binary, ["report", kind, "--json", "--database", database])
            return (r.status, Data(r.stdout.utf8))
        }

        let gaps = try JSONDecoder().decode([Gaps].self, from: try report("gaps").json)
        #expect(gaps == [Gaps(till: till1.name, storeID: "0001", tillID: "01", missing: [SequenceGap(from: 3, to: 4)])])

        let summary = try JSONDecoder().decode(Summary.self, from: try report("summary").json)
        #expect(summary == Summary(sales: 4, tills: 1, exceptions: 0, discrepancies: 0, rejects: 0))

        let good = try report("ledger")
        #expect(good.status == 0)
        let consistent = try JSONDecoder().decode(Ledger.self, from: good.json)
        #expect(consistent.consistent && consistent.mismatches.isEmpty)

        // A balance edited by hand: the check fails, names the card in full and exits 1.
        let cards = docs.compactMap { $0.sale?.loyalty?.cardNumber }
        let card = try #require(cards.first)
        _ = try store.database.write { c in try c.execute("UPDATE cards SET balance = balance + 7 WHERE number = ?", [.text(card)]) }
        let bad = try report("ledger")
        #expect(bad.status == 1)
        let mismatch = try JSONDecoder().decode(Ledger.self, from: bad.json)
        #expect(!mismatch.consistent)
        #expect(mismatch.mismatches.map(\.card) == [card])
        #expect(mismatch.mismatches.first.map { $0.balance - $0.movements } == 7)
    }
}
