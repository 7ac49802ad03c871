import Foundation
import GRDB
import Testing
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillStore
import TillTestSupport

private let till = TillIdentity(storeID: "0001", storeName: "Demo Store", tillID: "01", currency: .eur)
private let ann = Cashier(number: "1", name: "Ann")

/// A paid sale of milk ×3 and a pen, with a 10% discount on the pen, paid 10.00 cash.
private func paidSale(id: String = "00000000-0000-4000-8000-000000000001") throws -> OpenSale {
    var s = OpenSale(id: id, startedAt: 1_795_000_000_000, cashier: ann, currency: .eur)
    s = try s.trying(.addLine(item: LineItem(sku: "F0002", description: "Milk 1L", taxCode: "B", taxBasisPoints: 500,
                                             unitPrice: 119, quantity: .units(3), code: "5012345678900")))
    s = try s.trying(.addLine(item: LineItem(sku: "F0001", description: "Highlighter pen", taxCode: "A", taxBasisPoints: 2000,
                                             unitPrice: 149, quantity: .one, code: "4006381333931")))
    s = try s.trying(.discountLine(number: 2, discount: .percent(basisPoints: 1000)))
    s = try s.trying(.addTender(tender: Tender(kind: .cash, amount: 1000)))
    return s
}

@Suite("Till database")
struct TillDatabaseTests {
    @Test func commitWritesSaleLinesVATTendersAndOutboxTogether() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        let sale = try paidSale()
        // Record the events as the till does, so the open sale exists before the commit.
        for n in 1...sale.events.count {
            let partial = try OpenSale(id: sale.id, startedAt: sale.startedAt, cashier: ann, currency: .eur,
                                       events: Array(sale.events.prefix(n)))
            try db.recordEvent(of: partial)
        }
        #expect(try db.openSale(currency: .eur) == sale)

        let done = try db.commit(sale, at: 1_795_000_060_000, till: till) { completed in
            PrintJobDraft(kind: .receipt, receiptNumber: completed.receiptNumber, payload: Array("receipt \(completed.sequence)".utf8))
        }
        #expect(done.sequence == 1)
        #expect(done.receiptNumber == "0001-01-000001")
        #expect(try db.openSale(currency: .eur) == nil)
        #expect(try db.pendingOutboxCount() == 1)

        let q = try DatabaseQueue(path: db.path)
        try q.read { d in
            let row = try #require(try Row.fetchOne(d, sql: "SELECT * FROM sale"))
            #expect(row["total"] as Int64 == 357 + 134)
            #expect(row["change"] as Int64 == 1000 - 491)
            #expect(try Int.fetchOne(d, sql: "SELECT COUNT(*) FROM sale_line") == 2)
            #expect(try Int.fetchOne(d, sql: "SELECT COUNT(*) FROM sale_tender") == 1)
            #expect(try Int64.fetchAll(d, sql: "SELECT vat FROM sale_vat ORDER BY tax_code") == [22, 17])
            let payload = try #require(try String.fetchOne(d, sql: "SELECT payload FROM outbox WHERE ref_id = ?", arguments: [sale.id]))
            let doc = try JSONDecoder().decode(SaleDocument.self, from: Data(payload.utf8))
            #expect(doc.sequence == 1)
            #expect(doc.totals.total == 491)
            #expect(doc.completedAt == "2026-11-18T11:07:40.000Z")
        }
        // The receipt job was written in the same transaction, with the sale's final number.
        let job = try #require(try db.nextPendingPrintJob())
        #expect(job.saleID == sale.id)
        #expect(job.receiptNumber == "0001-01-000001")
        #expect(job.payload == Array("receipt 1".utf8))
    }

    @Test func aSaleIsRebuiltExactlyFromItsJournalledDocument() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        var s = try paidSale()
        s = try OpenSale(id: s.id, startedAt: s.startedAt, cashier: ann, currency: .eur, events: Array(s.events.dropLast()) + [
            .addLine(item: LineItem(sku: "V", description: "Voided", taxCode: "A", taxBasisPoints: 2000, unitPrice: 999, quantity: .one)),
            .voidLine(number: 3),
            .discountSale(discount: .percent(basisPoints: 500)),
            .addTender(tender: Tender(kind: .card, amount: 200, reference: "R1")),
            .addTender(tender: Tender(kind: .cash, amount: 1000)),
        ])
        let done = try db.commit(s, at: 1_795_000_060_000, till: till, receipt: { _ in nil })
        let rebuilt = try #require(try db.completedSale(receipt: "0001-01-000001", till: till))
        #expect(rebuilt.basket.totals == done.basket.totals)
        #expect(rebuilt.basket.lines == done.basket.lines)
        #expect(rebuilt.receiptNumber == done.receiptNumber)
        #expect(try db.completedSale(receipt: "1", till: till)?.id == done.id)
        #expect(try db.lastCompletedSale(till: till)?.id == done.id)
        #expect(try db.completedSale(receipt: "0001-01-000099", till: till) == nil)
    }

    @Test func printJobsRecordAttemptsAndGiveUp() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        let id = try db.enqueuePrintJob(PrintJobDraft(kind: .reprint, receiptNumber: "R", payload: [1, 2]), saleID: nil, at: 10)
        try db.recordPrintFailure(id, error: "paper out", at: 20)
        #expect(try db.nextPendingPrintJob()?.attempts == 1)
        #expect(try db.nextPendingPrintJob()?.lastError == "paper out")
        try db.recordPrintFailure(id, error: "paper out", at: 30, giveUp: true)
        #expect(try db.nextPendingPrintJob() == nil)
        #expect(try db.printJobs().map(\.state) == [.failed])
        let other = try db.enqueuePrintJob(PrintJobDraft(kind: .receipt, receiptNumber: "S", payload: [3]), saleID: nil, at: 40)
        try db.markPrinted(other, at: 50)
        #expect(try db.pendingPrintJobCount() == 0)
    }

    @Test func sequenceNumbersAreConsecutivePerTill() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        for i in 1...3 {
            let s = try paidSale(id: "00000000-0000-4000-8000-00000000000\(i)")
            #expect(try db.commit(s, at: 1_795_000_000_000 + Int64(i), till: till, receipt: { _ in nil }).sequence == Int64(i))
        }
        #expect(try db.lastSequence(tillID: "01") == 3)
        #expect(try db.saleDocuments().map(\.sequence) == [1, 2, 3])
    }

    @Test func theJournalIsAppendOnly() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        _ = try db.commit(try paidSale(), at: 1_795_000_060_000, till: till, receipt: { _ in nil })
        let q = try DatabaseQueue(path: db.path)
        for sql in ["UPDATE sale SET total = 1", "DELETE FROM sale", "UPDATE sale_line SET net = 0", "DELETE FROM sale_tender"] {
            #expect(throws: DatabaseError.self) { try q.write { try $0.execute(sql: sql) } }
        }
    }

    @Test func anUnpaidSaleIsNotCommitted() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        var s = OpenSale(id: "u", startedAt: 0, cashier: ann, currency: .eur)
        s = try s.trying(.addLine(item: LineItem(sku: "X", description: "X", taxCode: "A", taxBasisPoints: 2000, unitPrice: 100, quantity: .one)))
        #expect(throws: SaleError.notFullyPaid(due: Money(minor: 100, currency: .eur))) {
            try db.commit(s, at: 0, till: till, receipt: { _ in PrintJobDraft(kind: .receipt, receiptNumber: nil, payload: [1]) })
        }
        #expect(try db.saleDocuments().isEmpty)
        #expect(try db.nextPendingPrintJob() == nil)
        #expect(try db.pendingOutboxCount() == 0)
    }

    @Test func anOpenSaleSurvivesReopeningTheDatabase() throws {
        let dir = TemporaryDirectory()
        let sale = try paidSale()
        do {
            let db = try makeDemoDatabase(in: dir)
            for n in 1..<sale.events.count {
                try db.recordEvent(of: try OpenSale(id: sale.id, startedAt: sale.startedAt, cashier: ann, currency: .eur,
                                                    events: Array(sale.events.prefix(n))))
            }
        }
        let reopened = try TillDatabase(path: dir.file("till.sqlite"))
        let restored = try #require(try reopened.openSale(currency: .eur))
        #expect(restored.events == Array(sale.events.dropLast()))
        #expect(restored.basket.totals.total == 491)
    }

    @Test func suspendResumeAndCancel() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        var s = OpenSale(id: "s1", startedAt: 5, cashier: ann, currency: .eur)
        s = try s.trying(.addLine(item: LineItem(sku: "X", description: "X", taxCode: "A", taxBasisPoints: 2000, unitPrice: 250, quantity: .units(2))))
        try db.recordEvent(of: s)
        try db.suspend(s, at: 10)
        #expect(try db.openSale(currency: .eur) == nil)
        let list = try db.suspendedSales()
        #expect(list.map(\.total) == [500])
        #expect(list.map(\.itemCount) == [2])

        let bob = Cashier(number: "2", name: "Bob")
        let resumed = try db.resume(list[0], cashier: bob, currency: .eur)
        #expect(resumed.basket == s.basket)
        #expect(resumed.cashier == bob)
        #expect(try db.suspendedSales().isEmpty)
        #expect(try db.openSale(currency: .eur)?.basket == s.basket)
        #expect(throws: TillStoreError.noSuchSuspendedSale(list[0].id)) { try db.resume(list[0], cashier: bob, currency: .eur) }

        try db.cancel(resumed, at: 20)
        #expect(try db.openSale(currency: .eur) == nil)
        let q = try DatabaseQueue(path: db.path)
        #expect(try q.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM cancelled_sale") } == 1)
        #expect(try db.saleDocuments().isEmpty)
    }

    @Test func aDatabaseFromANewerTillIsRefusedWithAClearMessage() throws {
        let dir = TemporaryDirectory()
        _ = try makeDemoDatabase(in: dir)
        let q = try DatabaseQueue(path: dir.file("till.sqlite"))
        try q.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v9-from-the-future')") }
        let error = #expect(throws: TillStoreError.self) { try TillDatabase(path: dir.file("till.sqlite")) }
        #expect(error == .newerVersion(path: dir.file("till.sqlite"), unknown: ["v9-from-the-future"]))
        #expect(error?.description.contains("written by a newer version of till") == true)
    }

    @Test func aFileThatIsNotADatabaseIsRefusedWithAClearMessage() throws {
        let dir = TemporaryDirectory()
        dir.write("till.sqlite", String(repeating: "this is not sqlite ", count: 400))
        let error = #expect(throws: TillStoreError.self) { try TillDatabase(path: dir.file("till.sqlite")) }
        guard case .notADatabase(let path, _) = error else {
            Issue.record("expected notADatabase, got \(String(describing: error))")
            return
        }
        #expect(path == dir.file("till.sqlite"))
    }

    @Test func theDataDirectoryBelongsToOneTill() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        try db.checkIdentity(storeID: "0001", tillID: "01")
        try db.checkIdentity(storeID: "0001", tillID: "01")
        #expect(throws: TillStoreError.wrongTill(path: db.path, recorded: "0001/01", configured: "0001/02")) {
            try db.checkIdentity(storeID: "0001", tillID: "02")
        }
    }

    @Test func cashiersSignOnWithTheirPINOnly() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        #expect(try db.authenticate(number: "1", pin: "1234") == DemoCatalog.cashier)
        #expect(try db.authenticate(number: "1", pin: "4321") == nil)
        #expect(try db.authenticate(number: "7", pin: "1234") == nil)
        let q = try DatabaseQueue(path: db.path)
        let stored = try q.read { try String.fetchOne($0, sql: "SELECT pin_hash FROM cashier WHERE number = '1'") }
        #expect(stored?.hasPrefix("pbkdf2-sha256$") == true)
        #expect(stored?.contains("1234") == false)
    }

    @Test func lookupsByBarcodeAndPLU() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        #expect(try db.product(gtin: "5012345678900")?.description == "Milk 1L")
        #expect(try db.product(gtin: "0036000291452")?.barcodes == ["0036000291452"])
        #expect(try db.product(plu: "42")?.soldByWeight == true)
        #expect(try db.product(plu: "4242") == nil)
    }

    @Test func exportFiltersByCompletionTime() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        for i in 1...3 {
            _ = try db.commit(try paidSale(id: "id-\(i)"), at: Int64(i) * 1_000, till: till, receipt: { _ in nil })
        }
        #expect(try db.saleDocuments(from: 2_000).map(\.saleID) == ["id-2", "id-3"])
        #expect(try db.saleDocuments(to: 2_000).map(\.saleID) == ["id-1"])
        #expect(try db.saleDocuments(from: 2_000, to: 3_000).map(\.saleID) == ["id-2"])
    }
}

@Suite("PIN hashing")
struct PINHasherTests {
    @Test func verifiesOnlyTheRightPIN() {
        let h = PINHasher.hash("2468", rounds: 1_000)
        #expect(PINHasher.verify("2468", against: h))
        #expect(!PINHasher.verify("2469", against: h))
        #expect(!PINHasher.verify("2468", against: "garbage"))
        #expect(PINHasher.hash("2468", rounds: 1_000) != h) // salted
    }
}
