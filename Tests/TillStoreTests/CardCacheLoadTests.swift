import Foundation
import GRDB
import Synchronization
import Testing
import TillCore
import TillDemo
import TillDocuments
@testable import TillStore
import TillTestSupport

/// The card cache's bulk load: rows made on a second thread (`Handoff`) and written on the
/// database's, all or none, and the members' table of v11.
@Suite("Card cache load")
struct CardCacheLoadTests {
    struct Boom: Error {}

    @Test func aWriteThatFailsStopsTheReaderAtOnceAndIsTheErrorThrown() throws {
        let made = Atomic<Int>(0)
        var written = 0
        #expect(throws: Boom.self) {
            try Handoff<Int>.run(batch: 100, produce: { put in
                for i in 0..<1_000_000 {
                    made.add(1, ordering: .relaxed)
                    try put(i)
                }
            }) { rows in
                written += rows.count
                if written >= 300 { throw Boom() }
            }
        }
        // The reader was stopped, not left to read the whole file, and has ended: nothing more
        // is made after `run` returned.
        let atReturn = made.load(ordering: .relaxed)
        #expect(atReturn < 2_000, "\(atReturn) rows made")
        Thread.sleep(forTimeInterval: 0.05)
        #expect(made.load(ordering: .relaxed) == atReturn)
        #expect(written == 300)
    }

    @Test func aReaderThatFailsIsTheErrorThrownAfterWhatItGaveIsWritten() throws {
        var written: [Int] = []
        #expect(throws: Boom.self) {
            try Handoff<Int>.run(batch: 7, produce: { put in
                for i in 0..<50 { try put(i) }
                throw Boom()
            }) { rows in written += rows }
        }
        #expect(written == Array(0..<49))   // whole batches reach the writer; the last partial one does not
    }

    @Test func everyRowArrivesInOrder() throws {
        var written: [Int] = []
        try Handoff<Int>.run(batch: 64, produce: { put in for i in 0..<10_000 { try put(i) } }) { rows in written += rows }
        #expect(written == Array(0..<10_000))
    }

    /// A bulk load (the indexes dropped and rebuilt) whose file fails two thirds of the way loads
    /// nothing: the cache, its indexes and its foreign keys are as they were.
    @Test func aBulkLoadThatFailsPartWayLeavesTheCacheAsItWas() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        try db.importCards(DemoCatalog.cards(members: 10, stock: 3))
        #expect(throws: TillStoreError.self) {
            try db.importCards(expected: 150_000) { insert in
                var n = 0
                try DemoCatalog.forEachCard(members: 150_000, stock: 0, seed: 3) { card in
                    n += 1
                    if n == 100_000 { throw Boom() }
                    try insert(card)
                }
            }
        }
        #expect(try db.cardCount() == 13)
        let indexes = try DatabaseQueue(path: dir.file("till.sqlite")).read { db in
            (try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('card', 'customer') ORDER BY name"),
             try Bool.fetchOne(db, sql: "PRAGMA foreign_keys"))
        }
        #expect(indexes.0 == ["card_customer", "customer_email", "customer_first_name", "customer_last_name", "customer_phone_rev"])
        #expect(try db.searchCustomers("ivanova", limit: 5, offset: 0).total == 1)
        // The same load, whole, then goes in.
        try db.importCards(expected: 150_000) { insert in try DemoCatalog.forEachCard(members: 150_000, stock: 0, seed: 3, insert) }
        #expect(try db.cardCount() == 150_003)
        #expect(try db.searchCustomers("900 000 0002", limit: 5, offset: 0).results.map(\.cardNumber) == [DemoCatalog.cardNumber(2)])
    }

    /// A card naming a customer without bringing one is refused in a bulk load (foreign keys are
    /// off while it runs), unless the cache has that customer already; nothing is loaded.
    @Test func aBulkLoadRefusesACardWhoseCustomerIsNowhere() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        try db.importCards(DemoCatalog.cards(members: 10, stock: 3))
        func load(_ customer: String) throws {
            try db.importCards(expected: 120_000) { insert in
                try DemoCatalog.forEachCard(members: 120_000, stock: 0, seed: 4) { card in
                    try insert(card)
                    if card.number == DemoCatalog.cardNumber(60_000) {
                        var orphan = CardRecord(number: DemoCatalog.cardNumber(500_000), status: "active", member: nil, balance: 0,
                                                confirmedAt: nil, tierCode: nil, qualifying: 0)
                        orphan.customerID = customer
                        try insert(orphan)
                    }
                }
            }
        }
        #expect {
            try load("GHOST")
        } throws: { e in
            "\(e)".contains("refers to customer GHOST, which neither the file nor the cache has")
        }
        #expect(try db.cardCount() == 13)
        try load("M1")        // Anna, in the cache before the load
        #expect(try db.cardCount() == 120_004)
    }

    /// A till database from before v11 (members in a rowid table with phone_digits) keeps its
    /// members, found as before, in the table v11 makes.
    @Test func aDatabaseFromBeforeV11KeepsItsMembers() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("till.sqlite")
        do {
            let pool = try DatabasePool(path: path)
            try TillDatabase.migrator.migrate(pool, upTo: "v10-product-search")
            try pool.write { db in
                try db.execute(sql: """
                    INSERT INTO customer (id, first_name, last_name, phone, phone_digits, phone_rev, email, registered_at)
                        VALUES ('M1', 'Maria', 'Schmidt', '+49 30 1234567', '49301234567', '76543210394', 'maria@example.com', 1);
                    INSERT INTO card (number, customer_id, status) VALUES ('\(DemoCatalog.cardNumber(1))', 'M1', 'active');
                    """)
            }
        }
        let db = try TillDatabase(path: path)
        #expect(try db.searchCustomers("maria schmidt", limit: 5, offset: 0).results.map(\.cardNumber) == [DemoCatalog.cardNumber(1)])
        #expect(try db.searchCustomers("1234567", limit: 5, offset: 0).total == 1)
        #expect(try db.searchCustomers("Maria@Example.com", limit: 5, offset: 0).total == 1)
        let table = try DatabaseQueue(path: path).read { db in
            (try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'customer'") ?? "",
             try Row.fetchAll(db, sql: "PRAGMA table_info(customer)").map { $0["name"] as String })
        }
        #expect(table.0.contains("WITHOUT ROWID"))
        #expect(!table.1.contains("phone_digits"))
    }

    @Test func aNewDatabaseHasEightKilobytePages() throws {
        let dir = TemporaryDirectory()
        _ = try makeDemoDatabase(in: dir)
        #expect(try DatabaseQueue(path: dir.file("till.sqlite")).read { try Int.fetchOne($0, sql: "PRAGMA page_size") } == 8192)
    }
}
