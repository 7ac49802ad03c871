import Foundation
import HeadOffice
import Testing
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillStore
import TillSync
import TillTestSupport

@Suite("Staff and roles from head office")
struct StaffTests {
    @Test(arguments: Backend.allCases)
    func aStoresTillsTakeTheirStaffAndOnlyThem(backend: Backend) async throws {
        let (dir, store, token, server) = try await ServerTests.serving(backend)
        defer { Task { await server.stop() }; withExtendedLifetime(dir) {} }
        try store.importStaff(try StaffRecord.parse(csv: """
            number,name,role,pin,store
            21,Clara Cashier,cashier,2121,0001
            31,Sam Supervisor,supervisor,3131,
            41,Mona Manager,manager,4141,0002
            """))
        let t = try TillSide()
        let forwarder = Forwarder(link: ServerTests.link(server, token), database: t.db, storeID: "0001", tillID: "01")
        let n = try await onThread { try forwarder.pullStaff() }
        #expect(n == 2)                                             // the chain's and store 0001's, not 0002's manager
        #expect(try t.db.authenticate(number: "31", pin: "3131")?.role == .supervisor)
        #expect(try t.db.authenticate(number: "21", pin: "2121")?.role == .cashier)
        #expect(try t.db.authenticate(number: "41", pin: "4141") == nil)
        #expect(try t.db.authenticate(number: "1", pin: "1234") == nil)   // the demo's cashier is gone
        #expect(try t.db.authenticate(number: "31", pin: "0000") == nil)
        // The PIN never travels: the list holds slow hashes only.
        let list = try store.staff(store: "0001")
        #expect(list.staff.allSatisfy { $0.pinHash.hasPrefix("pbkdf2-sha256$100000$") && !$0.pinHash.contains("3131") })
        // Someone leaves: after the next update they cannot sign on.
        #expect(try store.removeStaff(number: "21"))
        _ = try await onThread { try forwarder.pullStaff() }
        #expect(try t.db.authenticate(number: "21", pin: "2121") == nil)
        #expect(try t.db.authenticate(number: "31", pin: "3131") != nil)
    }

    @Test func aStaffFileIsReadAsCSVQuotesBlankLinesAndAll() throws {
        let rows = try StaffRecord.parse(csv: "number,name,role,pin,store\n\n31,\"Smith, Jo\",supervisor,3131,0001\n")
        #expect(rows == [StaffRecord(number: "31", name: "Smith, Jo", role: .supervisor, pin: "3131", storeID: "0001")])
        #expect(throws: StaffFileError(problems: ["line 4: role 'boss' must be cashier, supervisor or manager"])) {
            try StaffRecord.parse(csv: "number,name,role,pin\n21,A,cashier,1234\n\n22,B,boss,1234\n")
        }
    }

    @Test func aStaffFileWithMistakesNamesEachRowAndImportsNothing() {
        #expect(throws: StaffFileError(problems: [
            "line 2: role 'boss' must be cashier, supervisor or manager",
            "line 3: the PIN of 22 must be 4 to 8 digits",
            "line 4: number 'x1' must be 1 to 8 digits",
            "line 6: number 23 appears twice",
        ])) {
            try StaffRecord.parse(csv: "number,name,role,pin,store\n21,A,boss,1234,\n22,B,cashier,12,\nx1,C,cashier,1234,\n23,D,cashier,1234,\n23,E,cashier,1234,\n")
        }
    }
}

@Suite("Returns at another till of the store")
struct CrossTillReturnTests {
    @Test(arguments: Backend.allCases)
    func aSaleOfOneTillIsReturnedAtAnotherOnceAndADoubleReturnOfflineIsAnException(backend: Backend) async throws {
        let (dir, store, token1, server) = try await ServerTests.serving(backend)
        defer { Task { await server.stop() }; withExtendedLifetime(dir) {} }
        let token2 = try store.registerTill(till2)
        let one = try TillSide(seed: 21)
        let sales = try one.generator.ring(6)
        _ = try store.ingest(try one.batch(), from: till1)
        let sale = try #require(sales.first { $0.loyalty != nil && $0.basket.lines.count > 1 })

        // At till 2: the receipt is not in its journal; head office has it.
        let two = try TillSide(till: till2, seed: 22)
        let office2 = OnlineCashOffice(database: two.db, link: ServerTests.link(server, token2), forwarder: nil)
        let found = try await onThread { try office2.returnableSale(receipt: sale.receiptNumber, till: two.identity) }
        #expect(found?.sale == sale)
        let line = sale.basket.lines[0]
        let refund = try office2.commitRefund(.receipt(saleID: sale.id, selections: [.init(line: 1, quantity: line.item.quantity)], toCash: false),
                                              id: "refund-at-2", cashier: DemoCatalog.supervisor, supervisor: nil, at: sale.completedAt + 60_000,
                                              till: two.identity, programme: DemoCatalog.programme, cardReference: nil, reason: "Faulty") { _ in nil }
        #expect(refund.plan.originalReceipt == sale.receiptNumber)
        _ = try store.ingest(try two.batch(), from: till2)

        // Back at till 1, online: head office says line 1 went back at till 2.
        let office1 = OnlineCashOffice(database: one.db, link: ServerTests.link(server, token1), forwarder: nil)
        let again = try await onThread { try office1.returnableSale(receipt: sale.receiptNumber, till: one.identity) }
        #expect(again?.left(line: 1) == 0)
        #expect(throws: ReturnError.alreadyReturned(line: 1, description: line.item.description)) {
            _ = try office1.commitRefund(.receipt(saleID: sale.id, selections: [.init(line: 1, quantity: .one)], toCash: false), id: "r-1b",
                                         cashier: DemoCatalog.supervisor, supervisor: nil, at: sale.completedAt + 120_000, till: one.identity,
                                         programme: DemoCatalog.programme, cardReference: nil, reason: nil) { _ in nil }
        }
        try expectConsistent(store, [one, two])

        // Offline, a third till could not know: its double return stands (the money was given) and is an exception.
        let three = try TillSide(till: TillCredential(storeID: "0001", tillID: "03"), seed: 23)
        let token3 = try store.registerTill(TillCredential(storeID: "0001", tillID: "03"))
        _ = token3
        let offline = OnlineCashOffice(database: three.db, link: HeadOfficeLink(url: "http://127.0.0.1:9", ca: nil, token: "x", lookupTimeoutMilliseconds: 300),
                                       forwarder: nil, timeoutMilliseconds: 300)
        #expect(try await onThread { try offline.returnableSale(receipt: sale.receiptNumber, till: three.identity) } == nil)
        try three.db.rememberRemoteSale(SaleForReturn(sale: SaleDocument(sale, timeZone: TimeZone(identifier: "UTC")!), refunds: []), at: 0)
        _ = try three.db.commitRefund(.receipt(saleID: sale.id, selections: [.init(line: 1, quantity: line.item.quantity)], toCash: true),
                                      id: "refund-at-3", cashier: DemoCatalog.supervisor, supervisor: nil, at: sale.completedAt + 180_000,
                                      till: three.identity, programme: DemoCatalog.programme) { _ in nil }
        _ = try store.ingest(try three.batch(), from: TillCredential(storeID: "0001", tillID: "03"))
        let exceptions = try store.exceptions()
        #expect(exceptions.contains { $0.kind == "double-return" && $0.detail.contains("Line 1") && $0.detail.contains(sale.receiptNumber) })
    }
}
