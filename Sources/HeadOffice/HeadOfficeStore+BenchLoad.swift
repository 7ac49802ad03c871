import Foundation

extension HeadOfficeStore {
    /// For `till-bench reports`: `count` partners' orders (the partners in turn, 15 categories,
    /// one a second from `start`) on the first `members` members' cards, written straight into the
    /// table; they earn nothing (the baskets report reads their amounts and categories).
    public func loadSyntheticOrders(_ count: Int, partners: [String], members: Int, startingAt start: Int64) throws {
        let pg = database.kind == .postgres
        let cards = try database.read { c in
            try c.query("SELECT number FROM cards WHERE customer_id IS NOT NULL ORDER BY number LIMIT ?", [.int(Int64(members))]).map { $0.text("number") }
        }
        guard !cards.isEmpty, !partners.isEmpty else { throw SQLError("There are no members or partners for the orders") }
        let chunk = 1_000_000
        for first in stride(from: 1, through: count, by: chunk) {
            let last = min(count, first + chunk - 1)
            try database.write { c in
                try c.execute("DROP TABLE IF EXISTS bench_partners", [])
                try c.execute("CREATE TABLE bench_partners (k BIGINT PRIMARY KEY, id TEXT NOT NULL)", [])
                try Self.insertRows(c, "INSERT INTO bench_partners (k, id)", partners.enumerated().map { [.int(Int64($0.offset)), .text($0.element)] })
                let columns = """
                    INSERT INTO channel_orders (channel, order_id, card_number, amount, points, created_at, category, occurred_at)
                    SELECT p.id, 'bench-' || CAST(n.i AS TEXT), ?, 500 + n.i % 20000, 0, CAST(? AS BIGINT) + n.i * 1000,
                        'mcc' || CAST(n.i % 15 AS TEXT), CAST(? AS BIGINT) + n.i * 1000
                    """
                let card: SQLValue = .text(cards[first % cards.count])
                let tail = " JOIN bench_partners p ON p.k = n.i % \(partners.count)"
                if pg {
                    try c.execute(columns + " FROM generate_series(CAST(? AS BIGINT), CAST(? AS BIGINT)) AS n(i)" + tail,
                                  [card, .int(start), .int(start), .int(Int64(first)), .int(Int64(last))])
                } else {
                    try c.execute("WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?) " + columns + " FROM n" + tail,
                                  [.int(Int64(first)), .int(Int64(last)), card, .int(start), .int(start)])
                }
                try c.execute("DROP TABLE bench_partners", [])
            }
        }
    }

    /// For `till-bench crm`: `count` sales of store 9999, till 99 (sequences 1…count), one `earn`
    /// movement of 10 points each on the ledger, spread over the first `members` members' cards,
    /// written straight into the tables a million at a time — a benchmark of customer service's
    /// reads among 10,000,000 sales must not spend hours ingesting them. The documents are stubs
    /// (`{}`); the cards' balances move by what the ledger adds, so every balance stays the sum
    /// of its movements. `progress` is told how many are in.
    public func loadSyntheticSales(_ count: Int, members: Int, startingAt start: Int64, progress: (Int) -> Void = { _ in }) throws {
        let pg = database.kind == .postgres
        try database.write { c in
            try c.execute("DROP TABLE IF EXISTS bench_cards", [])
            try c.execute("CREATE TABLE bench_cards (k BIGINT PRIMARY KEY, number TEXT NOT NULL)", [])
            try c.execute("""
                INSERT INTO bench_cards (k, number)
                SELECT ROW_NUMBER() OVER (ORDER BY number), number FROM (SELECT number FROM cards WHERE customer_id IS NOT NULL ORDER BY number LIMIT ?) AS m
                """, [.int(Int64(members))])
        }
        let size = try database.read { c in try c.queryOne("SELECT COUNT(*) AS n FROM bench_cards", [])?.int("n") ?? 0 }
        guard size > 0 else { throw SQLError("There are no members to give the sales to: load cards first") }
        let chunk = 1_000_000
        for first in stride(from: 1, through: count, by: chunk) {
            let last = min(count, first + chunk - 1)
            try database.write { c in
                // PostgreSQL counts with generate_series; SQLite (whose library lacks it) with a recursive CTE.
                let columns = """
                    INSERT INTO sales (sale_id, store_id, till_id, sequence, receipt_number, completed_at, completed_ms, total, currency, card_number,
                        loyalty_spend, document, received_at, cashier, items, voids, overrides, discounts, duration_ms, paid_cash, paid_card,
                        paid_points, categories, skus)
                    SELECT 'bench-' || CAST(n.i AS TEXT), '9999', '99', n.i, '9999-99-' || CAST(n.i AS TEXT), '2026-01-01T00:00:00Z',
                        CAST(? AS BIGINT) + n.i * 1000, 1000 + n.i % 5000, 'EUR', b.number, 1000, '{}', CAST(? AS BIGINT),
                        CAST(100 + n.i % 20 AS TEXT), 1 + n.i % 9, CASE WHEN n.i % 40 = 0 THEN 1 ELSE 0 END, CASE WHEN n.i % 97 = 0 THEN 1 ELSE 0 END,
                        n.i % 7 * 10, 20000 + n.i % 60 * 1000, CASE WHEN n.i % 2 = 0 THEN 1000 + n.i % 5000 ELSE 0 END,
                        CASE WHEN n.i % 2 = 1 THEN 1000 + n.i % 5000 ELSE 0 END, 0,
                        'cat' || CAST(n.i % 12 AS TEXT) || '=' || CAST(1000 + n.i % 5000 AS TEXT),
                        'SKU' || CAST(n.i % 2000 AS TEXT) || ';SKU' || CAST((n.i * 7 + 3) % 2000 AS TEXT)
                    """
                let range: [SQLValue] = [.int(Int64(first)), .int(Int64(last))]
                if pg {
                    try c.execute(columns + " FROM generate_series(CAST(? AS BIGINT), CAST(? AS BIGINT)) AS n(i) JOIN bench_cards b ON b.k = n.i % ? + 1",
                                  [.int(start), .int(start)] + range + [.int(size)])
                } else {
                    try c.execute("WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?) " + columns
                                  + " FROM n JOIN bench_cards b ON b.k = n.i % ? + 1", range + [.int(start), .int(start), .int(size)])
                }
                try c.execute("""
                    INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, till_id, created_at)
                    SELECT card_number, sale_id, 'earn', 10, 'base', 'Bench sale', store_id, till_id, completed_ms FROM sales
                    WHERE store_id = '9999' AND till_id = '99' AND sequence BETWEEN ? AND ?
                    """, [.int(Int64(first)), .int(Int64(last))])
                try c.execute("INSERT INTO sales_to_roll (sale_id) SELECT sale_id FROM sales WHERE store_id = '9999' AND till_id = '99' AND sequence BETWEEN ? AND ?",
                              [.int(Int64(first)), .int(Int64(last))])
            }
            progress(last)
        }
        try database.write { c in
            if pg {
                try c.execute("""
                    UPDATE cards SET balance = cards.balance + 10 * x.n FROM (SELECT card_number, COUNT(*) AS n FROM sales WHERE store_id = '9999' GROUP BY card_number) AS x
                    WHERE cards.number = x.card_number
                    """, [])
            } else {
                try c.execute("""
                    UPDATE cards SET balance = balance + 10 * (SELECT COUNT(*) FROM ledger l WHERE l.card_number = cards.number AND l.store_id = '9999')
                    WHERE number IN (SELECT number FROM bench_cards)
                    """, [])
            }
            try c.execute("DROP TABLE bench_cards", [])
            try c.execute("ANALYZE", [])
        }
        if pg { _ = try database.write { c in try c.execute("CHECKPOINT", []) } }
    }
}

extension HeadOfficeStore {
    /// For `till-bench crm --backlog`: the last `count` sales waiting for the reports' roll-up
    /// are set aside while `settle` runs, then queued again: head office serves with that backlog,
    /// as after an upgrade that queues old sales or a bulk load.
    public func keepingRollUpBacklog<T>(_ count: Int, while settle: () throws -> T) throws -> T {
        try database.write { c in
            try c.execute("DROP TABLE IF EXISTS bench_backlog", [])
            try c.execute("CREATE TABLE bench_backlog (sale_id TEXT PRIMARY KEY)", [])
            try c.execute("INSERT INTO bench_backlog (sale_id) SELECT sale_id FROM sales_to_roll ORDER BY sale_id DESC LIMIT ?", [.int(Int64(count))])
            try c.execute("DELETE FROM sales_to_roll WHERE sale_id IN (SELECT sale_id FROM bench_backlog)", [])
        }
        let result = try settle()
        try database.write { c in
            try c.execute("INSERT INTO sales_to_roll (sale_id) SELECT sale_id FROM bench_backlog", [])
            try c.execute("DROP TABLE bench_backlog", [])
        }
        return result
    }

    /// Sales waiting for the reports' roll-up.
    public func rollUpBacklog() throws -> Int {
        try database.read { c in Int(clamping: try c.queryOne("SELECT COUNT(*) AS n FROM sales_to_roll", [])?.int("n") ?? 0) }
    }

    /// For `till-bench engagement`: baskets (day, store, SKUs) written straight into the table the
    /// roll-up fills from the sales, for the cross-sell mining.
    public func loadSyntheticBaskets(_ baskets: [(day: Int64, store: String, skus: [String])]) throws {
        for start in stride(from: 0, to: baskets.count, by: 100_000) {
            let chunk = baskets[start..<min(baskets.count, start + 100_000)]
            try database.write { c in
                try Self.insertRows(c, "INSERT INTO baskets (day, store_id, skus)",
                                    chunk.map { [.int($0.day), .text($0.store), .text($0.skus.map(Self.escapeCategory).joined(separator: ";"))] })
            }
        }
    }
}
