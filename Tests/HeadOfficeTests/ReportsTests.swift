import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillTestSupport

/// Head office's reports (issue 17): sales by store, day and hour, tenders, discounts, voids,
/// overrides and refunds per store, the sales assistants' performance, the baskets by partner and
/// category, the programme's liability — each equal to the tills' own journals.
@Suite("Head office's reports", .serialized)
struct ReportsTests {
    static let october = CashbackPeriod.parse("2026-10")!
    static let store2 = TillCredential(storeID: "0002", tillID: "01")

    /// Three tills of two stores ring up varied sales (four cashiers, voids, overrides, discounts,
    /// cash and card), the last crossing into November; some are refunded; all sent to head office.
    static func generate(_ store: HeadOfficeStore) throws -> [TillSide] {
        let starts = [(till1, "2026-10-01T08:00:00Z", [("11", "Ann"), ("12", "Bob"), ("13", "Cy")]),
                      (till2, "2026-10-02T09:00:00Z", [("11", "Ann"), ("14", "Dan")]),
                      (store2, "2026-10-31T22:30:00Z", [("21", "Dee")])]
        var tills: [TillSide] = []
        for (i, (credential, start, people)) in starts.enumerated() {
            _ = try store.registerTill(credential)
            let t = try TillSide(till: credential, seed: UInt64(40 + i))
            t.generator = SaleGenerator(database: t.db, till: t.identity, seed: UInt64(40 + i), start: ProtocolTime.parse(start)!)
            t.generator.sales.variety = true
            t.generator.sales.cashiers = people.map { Cashier(number: $0.0, name: $0.1, role: .cashier) }
            // New members at the tills: the stock cards, each issued once.
            t.generator.sales.cardsToIssue = [[0, 1], [2], [3, 4]][i].map { DemoCatalog.cardNumber(DemoCatalog.firstStockCard + $0) }
            let sales = try t.generator.ring(160)
            for (k, sale) in sales.enumerated() where k % 17 == 3 {
                let selections = sale.basket.lines.filter { !$0.voided }.map { ReturnSelection(line: $0.number, quantity: $0.item.quantity) }
                _ = try t.db.commitRefund(.receipt(saleID: sale.id, selections: selections, toCash: true), id: "refund-\(credential.storeID)-\(credential.tillID)-\(k)",
                                          cashier: t.generator.sales.cashiers[k % people.count], supervisor: nil, at: sale.completedAt + 60_000,
                                          till: t.identity, programme: DemoCatalog.programme) { _ in nil }
            }
            _ = try store.ingest(try t.batch(), from: credential)
            tills.append(t)
        }
        return tills
    }

    /// Schema 29 moved the sales waiting for the roll-up from a flag on each sale (`rolled`) to a
    /// queue: a head office upgraded part-way through rolling up counts each sale once.
    @Test(arguments: Backend.allCases)
    func salesWaitingForTheRollUpWhenHeadOfficeIsUpgradedAreCountedOnce(backend: Backend) throws {
        let dir = TemporaryDirectory("rollup-upgrade-\(backend)")
        let store = try makeHeadOffice(backend, dir)
        _ = try Self.generate(store)
        let held = try store.saleCount()
        #expect(try store.rollUpReportsOnce(chunk: 200) == 200)
        // The database as schema 28 left it: the 200 marked rolled, the rest not.
        try store.database.write { c in
            try c.execute("UPDATE sales SET rolled = CASE WHEN sale_id IN (SELECT sale_id FROM sales_to_roll) THEN 0 ELSE 1 END", [])
            try c.execute("DROP TABLE sales_to_roll", [])
            try c.execute("CREATE INDEX sales_unrolled ON sales (rolled) WHERE rolled = 0", [])
            // Schemas 30 to 34 undone too (they come after, and run again; the rules stay, and
            // schema 33 leaves the one it would add, already there, as it is).
            try c.execute("DROP INDEX ledger_bonus", [])
            try c.execute("DROP INDEX sales_completed", [])
            try c.execute("DROP INDEX refunds_created", [])
            try c.execute("DROP INDEX registrations_till_time", [])
            try c.execute("ALTER TABLE registrations DROP COLUMN registered_ms", [])
            try c.execute("DROP INDEX fraud_alerts_unenforced", [])
            try c.execute("ALTER TABLE fraud_alerts DROP COLUMN enforced_at", [])
            try c.execute("DELETE FROM schema_version WHERE version >= 29", [])
        }
        let upgraded = try HeadOfficeStore(database: store.database)
        #expect(try upgraded.rollUpReports() == held - 200)
        #expect(try upgraded.rollUpReports() == 0)
        let (counted, sold) = try upgraded.database.read { c in
            (try c.queryOne("SELECT SUM(sales) AS n, SUM(total) AS t FROM cashier_days", []), try c.queryOne("SELECT COUNT(*) AS n, SUM(total) AS t FROM sales", []))
        }
        #expect(counted?.int("n") == Int64(held) && counted?.int("n") == sold?.int("n") && counted?.int("t") == sold?.int("t"))
        // A sale ingested after the upgrade is queued and counted too.
        let another = TillCredential(storeID: "0002", tillID: "02")
        _ = try upgraded.registerTill(another)
        let till = try TillSide(till: another, seed: 99)
        _ = try till.generator.ring(3)
        #expect(try upgraded.ingest(try till.batch(), from: another).results.allSatisfy { $0.status == .accepted })
        #expect(try upgraded.rollUpReports() == 3)
    }

    @Test(arguments: Backend.allCases)
    func theReportsEqualTheTillsJournals(backend: Backend) throws {
        let dir = TemporaryDirectory("reports-\(backend)")
        let store = try makeHeadOffice(backend, dir)
        let tills = try Self.generate(store)
        // The journals' own figures for October, by store, by cashier, by category.
        struct Figures: Equatable { var sales: Int64 = 0, total: Int64 = 0, items: Int64 = 0, ms: Int64 = 0, carded: Int64 = 0, enrolled: Int64 = 0, voids: Int64 = 0,
                                    overrides: Int64 = 0, discounts: Int64 = 0, cash: Int64 = 0, card: Int64 = 0, points: Int64 = 0, refunds: Int64 = 0,
                                    refunded: Int64 = 0 }
        var byStore: [String: Figures] = [:], byCashier: [String: Figures] = [:], hours = Array(repeating: Int64(0), count: 24)
        var days: [String: Int64] = [:]
        var baskets: [String: (Int64, Int64)] = [:]
        var outside = 0
        for t in tills {
            for d in try t.db.saleDocuments() {
                let at = ProtocolTime.parse(d.completedAt)!
                guard at >= Self.october.start && at < Self.october.end else { outside += 1; continue }
                var f = Figures(sales: 1, total: d.totals.total)
                for l in d.lines {
                    if l.voided { f.voids += 1; continue }
                    f.items += 1
                    if l.priceOverride != nil { f.overrides += 1 }
                    f.discounts += l.lineDiscount + l.saleDiscountShare
                }
                f.ms = at - ProtocolTime.parse(d.startedAt)!
                f.carded = d.loyalty == nil ? 0 : 1
                f.enrolled = d.loyalty?.registration == nil ? 0 : 1
                for tender in d.tenders {
                    switch tender.kind {
                    case "cash": f.cash += tender.amount
                    case "points": f.points += tender.amount
                    default: f.card += tender.amount
                    }
                }
                func add(_ a: inout Figures, _ b: Figures) {
                    a.sales += b.sales; a.total += b.total; a.items += b.items; a.ms += b.ms; a.carded += b.carded; a.enrolled += b.enrolled; a.voids += b.voids
                    a.overrides += b.overrides; a.discounts += b.discounts; a.cash += b.cash; a.card += b.card; a.points += b.points
                }
                add(&byStore[d.storeID, default: Figures()], f)
                add(&byCashier[d.storeID + "/" + d.cashier.number, default: Figures()], f)
                hours[Int(at / 3_600_000 % 24)] += 1
                days[d.storeID + " " + String(d.completedAt.prefix(10)), default: 0] += d.totals.total
                var net: [String: Int64] = [:]
                for l in d.lines where !l.voided { net[l.category, default: 0] += l.net }
                for (category, amount) in net {
                    let key = "\(category)|\(d.loyalty == nil ? 0 : 1)"
                    baskets[key] = ((baskets[key]?.0 ?? 0) + amount, (baskets[key]?.1 ?? 0) + 1)
                }
            }
            for p in try t.db.outboxPayloads(kind: "refund") {
                let r = try JSONDecoder().decode(RefundDocument.self, from: Data(p.utf8))
                let at = ProtocolTime.parse(r.createdAt)!
                guard at >= Self.october.start && at < Self.october.end else { continue }
                byStore[r.storeID, default: Figures()].refunds += 1
                byStore[r.storeID, default: Figures()].refunded += r.total
                byCashier[r.storeID + "/" + r.cashier, default: Figures()].refunds += 1
            }
        }
        #expect(outside > 0, "the last till's sales should cross into November")
        #expect(byCashier.values.reduce(0) { $0 + $1.enrolled } >= 3, "new members should have been enrolled at the tills")
        #expect(byStore.values.allSatisfy { $0.voids > 0 && $0.overrides > 0 && $0.discounts > 0 && $0.card > 0 && $0.refunds > 0 })

        // Per store.
        let stores = try store.storeFigures(Self.october)
        #expect(stores.map(\.store) == ["0001", "0002"])
        for s in stores {
            let e = byStore[s.store]!
            #expect([s.sales, s.total, s.cash, s.card, s.points, s.discounts, s.voids, s.overrides, s.refunds, s.refunded]
                    == [e.sales, e.total, e.cash, e.card, e.points, e.discounts, e.voids, e.overrides, e.refunds, e.refunded], "store \(s.store)")
        }
        // A store manager's scope: only their store.
        #expect(try store.storeFigures(Self.october, store: "0002").map(\.store) == ["0002"])
        // By day and hour.
        let byDay = try store.salesByDay(Self.october)
        #expect(Dictionary(uniqueKeysWithValues: byDay.map { ($0.store + " " + $0.day, $0.total) }) == days)
        #expect(try store.salesByHour(Self.october).map(\.sales) == hours)
        // The sales assistants.
        let cashiers = try store.cashierReport(Self.october)
        #expect(Set(cashiers.map { $0.store + "/" + $0.cashier }) == Set(byCashier.keys))
        for c in cashiers {
            let e = byCashier[c.store + "/" + c.cashier]!
            #expect([c.sales, c.total, c.averageCheck, c.itemsPerMinuteX100, c.attachBP, c.enrolments, c.voids, c.refunds, c.overrides]
                    == [e.sales, e.total, e.total / e.sales, e.items * 6_000_000 / e.ms, e.carded * 10_000 / e.sales, e.enrolled, e.voids, e.refunds, e.overrides],
                    "cashier \(c.store)/\(c.cashier)")
        }
        #expect(try store.cashierReport(Self.october, store: "0001").map(\.cashier) == ["11", "12", "13", "14"])
        // The chain's baskets by category, members and not (no partner sold anything).
        let cells = try store.partnerBaskets(Self.october)
        #expect(cells.allSatisfy { $0.partner == "chain" })
        #expect(Dictionary(uniqueKeysWithValues: cells.map { ("\($0.category)|\($0.member ? 1 : 0)", ($0.amount, $0.baskets)) }).mapValues { [$0.0, $0.1] }
                == baskets.mapValues { [$0.0, $0.1] })
        // The Z reports (none sent), and the liability: the points on usable cards, by the test's own SQL.
        #expect(try store.zReports(Self.october).isEmpty)
        let liability = try store.liability()
        let outstanding = try store.database.read { c in
            try c.queryOne("SELECT SUM(balance) AS n FROM cards WHERE balance > 0 AND status IN ('active', 'blocked', 'lost')", [])!.int("n")
        }
        #expect(liability.outstanding == outstanding && liability.value > 0)
        // Sending everything again changes no report: each sale is counted once.
        for t in tills { _ = try store.ingest(try t.batch(), from: t.credential) }
        #expect(try store.storeFigures(Self.october) == stores && (try store.cashierReport(Self.october)) == cashiers)
    }
}
