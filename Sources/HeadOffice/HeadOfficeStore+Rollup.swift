import Foundation
import TillProtocol

/// The reports read daily roll-ups, not millions of sales: each sale and each partner's order is
/// counted once into them, in the background while head office serves and by any report before
/// it reads. A sale waits in `sales_to_roll` (ingest queues it in the sale's own transaction) and
/// is taken out of it in the transaction that counts it; a partner's order is marked `rolled`.
extension HeadOfficeStore {
    /// Counts the sales and orders not yet rolled up, `chunk` a transaction, until none is left;
    /// returns how many (the nightly RFM scores and a segment's count bring the roll-ups up to date
    /// first). Each chunk is a background write: the tills' batches and the channels' requests
    /// waiting go first, so a backlog (after an upgrade or a bulk load) met by the night's work does
    /// not hold them up. Two head office processes may run it together: a sale is taken by
    /// deleting it from the queue, an order by a conditional update, so each is counted by one.
    @discardableResult
    public func rollUpReports(chunk: Int = 1_000) throws -> Int {
        var total = 0
        while case let (n, _) = try rollUpReportsOnce(chunk: chunk, background: true), n > 0 { total += n }
        return total
    }

    /// One chunk of sales and one of orders; how many were counted.
    /// Nothing waiting (the usual case for a report and the background's every few seconds) is
    /// found by a read of the queue and a partial index, without taking the write lock from the tills' ingest.
    public func rollUpReportsOnce(chunk: Int = 5_000) throws -> Int {
        try rollUpReportsOnce(chunk: chunk, background: false).counted
    }

    /// The background roll-up's step: one chunk as a write that gives way to the tills' and the
    /// channels' (`SQLDatabase.backgroundWrite`). Returns how many were counted and how long the
    /// writer spent on them (the wait for the others not included).
    public func rollUpReportsInBackground(chunk: Int) throws -> (counted: Int, busy: Duration) {
        try rollUpReportsOnce(chunk: chunk, background: true)
    }

    private func rollUpReportsOnce(chunk: Int, background: Bool) throws -> (counted: Int, busy: Duration) {
        let waiting = try database.read { c in
            try c.queryOne("SELECT 1 AS w FROM sales_to_roll LIMIT 1", []) != nil
                || c.queryOne("SELECT 1 AS w FROM channel_orders WHERE rolled = 0 LIMIT 1", []) != nil
        }
        guard waiting else { return (0, .zero) }
        let body = { (c: any SQLConnection) in
            let clock = ContinuousClock(), start = clock.now
            let n = try Self.rollUpSales(chunk, c) + Self.rollUpOrders(chunk, c)
            return (n, clock.now - start)
        }
        return try background ? database.backgroundWrite(body) : database.write(body)
    }

    static func rollUpSales(_ chunk: Int, _ c: any SQLConnection) throws -> Int {
        let taken = try c.query("DELETE FROM sales_to_roll WHERE sale_id IN (SELECT sale_id FROM sales_to_roll LIMIT ?) RETURNING sale_id",
                                [.int(Int64(chunk))]).map { SQLValue.text($0.text("sale_id")) }
        guard !taken.isEmpty else { return 0 }
        let rows = try c.query("""
            SELECT sale_id, store_id, COALESCE(cashier, '') AS cashier, completed_ms, total, items, duration_ms, card_number, voids, overrides,
                discounts, paid_cash, paid_card, paid_points, categories, skus
            FROM sales WHERE sale_id IN (\(placeholders(taken.count)))
            """, taken)
        guard !rows.isEmpty else { return taken.count }   // sales erased since they were queued
        let ids = rows.map { $0.text("sale_id") }
        let enrolled = Set(try c.query("SELECT sale_id FROM registrations WHERE sale_id IN (\(placeholders(ids.count)))", ids.map { .text($0) })
            .map { $0.text("sale_id") })
        struct CashierKey: Hashable { var day: Int64, store: String, cashier: String }
        struct HourKey: Hashable { var day: Int64, store: String, hour: Int64 }
        struct BasketKey: Hashable { var day: Int64, category: String, member: Int64 }
        struct CardDay: Hashable { var card: String, day: Int64 }
        struct CardItem: Hashable { var item: String, day: Int64, card: String }
        var cashiers: [CashierKey: [Int64]] = [:], hours: [HourKey: [Int64]] = [:], baskets: [BasketKey: [Int64]] = [:]
        var cardDays: [CardDay: [Int64]] = [:], cardItems: Set<CardItem> = [], basketRows: [[SQLValue]] = []
        func add(_ a: inout [Int64], _ b: [Int64]) { for i in b.indices { a[i] = a[i].addingClamped(b[i]) } }
        for r in rows {
            let ms = r.int("completed_ms"), day = ms / 86_400_000, store = r.text("store_id")
            add(&cashiers[CashierKey(day: day, store: store, cashier: r.text("cashier")), default: Array(repeating: 0, count: 12)], [
                1, r.int("total"), r.int("items"), r.int("duration_ms"), r["card_number"].text == nil ? 0 : 1, enrolled.contains(r.text("sale_id")) ? 1 : 0,
                r.int("voids"), r.int("overrides"), r.int("discounts"), r.int("paid_cash"), r.int("paid_card"), r.int("paid_points"),
            ])
            add(&hours[HourKey(day: day, store: store, hour: ms / 3_600_000 % 24), default: [0, 0]], [1, r.int("total")])
            let member: Int64 = r["card_number"].text == nil ? 0 : 1
            if !r.text("skus").isEmpty { basketRows.append([.int(day), .text(store), .text(r.text("skus"))]) }
            for part in r.text("categories").split(separator: ";") {
                guard let eq = part.lastIndex(of: "="), let net = Int64(part[part.index(after: eq)...]) else { continue }
                let category = unescapeCategory(part[..<eq])
                add(&baskets[BasketKey(day: day, category: category, member: member), default: [0, 0]], [net, 1])
                if let card = r["card_number"].text { cardItems.insert(CardItem(item: "c:" + category, day: day, card: card)) }
            }
            // A member's sale: the segments' visits, spend and what was bought, by card and day.
            if let card = r["card_number"].text {
                add(&cardDays[CardDay(card: card, day: day), default: [0, 0]], [1, r.int("total")])
                for sku in r.text("skus").split(separator: ";") { cardItems.insert(CardItem(item: "s:" + unescapeCategory(sku), day: day, card: card)) }
            }
        }
        try insertRows(c, "INSERT INTO cashier_days (day, store_id, cashier, sales, total, items, duration_ms, carded, enrolments, voids, overrides, discounts, paid_cash, paid_card, paid_points)",
                       cashiers.map { k, v in [.int(k.day), .text(k.store), .text(k.cashier)] + v.map { .int($0) } }, suffix: """
            ON CONFLICT (day, store_id, cashier) DO UPDATE SET sales = cashier_days.sales + excluded.sales, total = cashier_days.total + excluded.total,
                items = cashier_days.items + excluded.items, duration_ms = cashier_days.duration_ms + excluded.duration_ms,
                carded = cashier_days.carded + excluded.carded, enrolments = cashier_days.enrolments + excluded.enrolments,
                voids = cashier_days.voids + excluded.voids, overrides = cashier_days.overrides + excluded.overrides,
                discounts = cashier_days.discounts + excluded.discounts, paid_cash = cashier_days.paid_cash + excluded.paid_cash,
                paid_card = cashier_days.paid_card + excluded.paid_card, paid_points = cashier_days.paid_points + excluded.paid_points
            """)
        try insertRows(c, "INSERT INTO store_hours (day, store_id, hour, sales, total)",
                       hours.map { k, v in [.int(k.day), .text(k.store), .int(k.hour), .int(v[0]), .int(v[1])] }, suffix: """
            ON CONFLICT (day, store_id, hour) DO UPDATE SET sales = store_hours.sales + excluded.sales, total = store_hours.total + excluded.total
            """)
        try upsertBaskets(baskets.map { ($0.key.day, "chain", $0.key.category, $0.key.member, $0.value[0], $0.value[1]) }, c)
        try insertRows(c, "INSERT INTO card_days (day, card_number, visits, spend)",
                       cardDays.sorted { ($0.key.day, $0.key.card) < ($1.key.day, $1.key.card) }.map { k, v in [.int(k.day), .text(k.card), .int(v[0]), .int(v[1])] },
                       suffix: """
            ON CONFLICT (day, card_number) DO UPDATE SET visits = card_days.visits + excluded.visits, spend = card_days.spend + excluded.spend
            """)
        try insertRows(c, "INSERT INTO baskets (day, store_id, skus)", basketRows)
        try insertRows(c, "INSERT INTO card_items (day, item, card_number)",
                       cardItems.sorted { ($0.day, $0.item, $0.card) < ($1.day, $1.item, $1.card) }.map { [.int($0.day), .text($0.item), .text($0.card)] },
                       suffix: "ON CONFLICT DO NOTHING")
        return taken.count
    }

    /// Sales just inserted, queued for the roll-up (one statement for a till's batch).
    static func queueForRollUp(_ saleIDs: [SQLValue], _ c: any SQLConnection) throws {
        guard !saleIDs.isEmpty else { return }
        try c.execute("INSERT INTO sales_to_roll (sale_id) VALUES \(Array(repeating: "(?)", count: saleIDs.count).joined(separator: ", "))", saleIDs)
    }

    static func upsertBaskets(_ cells: [(Int64, String, String, Int64, Int64, Int64)], _ c: any SQLConnection) throws {
        try insertRows(c, "INSERT INTO basket_days (day, partner, category, member, amount, baskets)",
                       cells.map { [.int($0.0), .text($0.1), .text($0.2), .int($0.3), .int($0.4), .int($0.5)] }, suffix: """
            ON CONFLICT (day, partner, category, member) DO UPDATE SET amount = basket_days.amount + excluded.amount, baskets = basket_days.baskets + excluded.baskets
            """)
    }

    /// Partners' orders and transactions (a reversal takes its amount off, and is no basket), by
    /// the day they happened, under the partner (the chain's own channels: the chain).
    static func rollUpOrders(_ chunk: Int, _ c: any SQLConnection) throws -> Int {
        let rows = try c.query("""
            UPDATE channel_orders SET rolled = 1 WHERE order_id IN (SELECT order_id FROM channel_orders WHERE rolled = 0 LIMIT ?) AND rolled = 0
            RETURNING channel, card_number, amount, category, reverses, COALESCE(occurred_at, created_at) AS at
            """, [.int(Int64(chunk))])
        guard !rows.isEmpty else { return 0 }
        let partners = Set(try c.query("SELECT id FROM partners WHERE kind <> 'chain'", []).map { $0.text("id") })
        let cards = Array(Set(rows.map { $0.text("card_number") }))
        let members = Set(try c.query("SELECT number FROM cards WHERE customer_id IS NOT NULL AND number IN (\(placeholders(cards.count)))",
                                      cards.map { .text($0) }).map { $0.text("number") })
        struct Key: Hashable { var day: Int64, partner: String, category: String, member: Int64 }
        var cells: [Key: (Int64, Int64)] = [:]
        for r in rows {
            let key = Key(day: r.int("at") / 86_400_000, partner: partners.contains(r.text("channel")) ? r.text("channel") : "chain",
                          category: r["category"].text ?? "", member: members.contains(r.text("card_number")) ? 1 : 0)
            let old = cells[key] ?? (0, 0)
            cells[key] = (old.0.addingClamped(r.int("amount")), old.1 + (r["reverses"].text == nil ? 1 : 0))
        }
        try upsertBaskets(cells.map { ($0.key.day, $0.key.partner, $0.key.category, $0.key.member, $0.value.0, $0.value.1) }, c)
        return rows.count
    }
}
