import Foundation
import GRDB
public import TillCore
import TillDocuments
public import TillProtocol

extension TillDatabase: SaleJournal {
    public func recordEvent(of sale: OpenSale) throws {
        guard let event = sale.events.last else { return }
        let json = try Self.encode(event)
        let position = sale.events.count
        try run("save the sale in progress") {
            try withRelaxedSync { db in
                if position == 1 { try Self.insertOpenSale(sale, db: db) }
                try db.cachedStatement(sql: "INSERT INTO open_sale_event (sale_id, position, event) VALUES (?, ?, ?)")
                    .execute(arguments: [sale.id, position, json])
            }
        }
    }

    private static func insertOpenSale(_ sale: OpenSale, db: Database) throws {
        try db.execute(sql: "DELETE FROM open_sale")
        try db.execute(
            sql: """
                INSERT INTO open_sale (sale_id, started_at, cashier_number, cashier_name, cashier_role)
                VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [sale.id, sale.startedAt, sale.cashier.number, sale.cashier.name, sale.cashier.role.rawValue])
    }

    public func openSale(currency: Currency) throws -> OpenSale? {
        let loaded = try run("load the sale in progress") {
            try pool.read { db -> (Row, [String])? in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM open_sale LIMIT 1") else { return nil }
                let events = try String.fetchAll(
                    db, sql: "SELECT event FROM open_sale_event WHERE sale_id = ? ORDER BY position",
                    arguments: [row["sale_id"] as String])
                return (row, events)
            }
        }
        guard let (row, texts) = loaded else { return nil }
        let events = try texts.map(Self.decodeEvent)
        let cashier = Cashier(
            number: row["cashier_number"], name: row["cashier_name"],
            role: Cashier.Role(rawValue: row["cashier_role"]) ?? .cashier)
        return try OpenSale(
            id: row["sale_id"], startedAt: row["started_at"], cashier: cashier, currency: currency, events: events)
    }

    public func commit(
        _ sale: OpenSale, at time: Timestamp, till: TillIdentity, loyalty: LoyaltyOutcome?, receipt: (CompletedSale) -> PrintJobDraft?
    ) throws -> CompletedSale {
        let encoder = SaleDocument.makeEncoder()
        return try journal("record the sale") {
            try pool.writeWithoutTransaction { db -> CompletedSale in
                // A completed sale is on disk when this returns, whatever an earlier step left set.
                try Self.restoreFullSync(db)
                var done: CompletedSale?
                try db.inTransaction {
                    let last = try Int64.fetchOne(
                        db, sql: "SELECT MAX(sequence) FROM sale WHERE till_id = ?", arguments: [till.tillID]) ?? 0
                    let completed = try sale.complete(sequence: last + 1, at: time, till: till, loyalty: loyalty)
                    let document = SaleDocument(completed, timeZone: timeZone)
                    let json = String(decoding: try encoder.encode(document), as: UTF8.self)
                    try Self.insertJournal(completed, document: json, db: db)
                    try db.cachedStatement(sql: """
                        INSERT INTO outbox (kind, ref_id, sequence, payload, created_at) VALUES ('sale', ?, ?, ?, ?)
                        """).execute(arguments: [completed.id, completed.sequence, json, time])
                    if let o = completed.loyalty { try Self.insertLoyalty(o, saleID: completed.id, at: time, db: db) }
                    if let job = receipt(completed) {
                        try Self.insertPrintJob(job, saleID: completed.id, at: time, db: db)
                    }
                    try db.execute(sql: "DELETE FROM open_sale WHERE sale_id = ?", arguments: [sale.id])
                    done = completed
                    return .commit
                }
                return done!
            }
        }
    }

    private static func insertJournal(_ s: CompletedSale, document: String, db: Database) throws {
        let t = s.totals
        try db.cachedStatement(sql: """
            INSERT INTO sale (id, store_id, till_id, sequence, receipt_number, cashier_number, started_at,
                completed_at, currency, subtotal, line_discounts, sale_discount, total, paid, change, item_count, document,
                card_number, loyalty_spend)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
            s.id, s.till.storeID, s.till.tillID, s.sequence, s.receiptNumber, s.cashier.number, s.startedAt,
            s.completedAt, s.till.currency.code, t.subtotal, t.lineDiscounts, t.saleDiscount, t.total, t.paid,
            t.change, t.itemCount, document, s.loyalty?.customer.cardNumber,
            s.loyalty.map { max(0, t.total - $0.redeemedValue) } ?? 0,
        ])
        let line = try db.cachedStatement(sql: """
            INSERT INTO sale_line (sale_id, line_number, sku, description, quantity_milli, unit_price, amount,
                line_discount, sale_discount_share, net, tax_code, tax_rate_bp, voided, category)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for (l, a) in zip(s.basket.lines, t.lines) {
            try line.execute(arguments: [
                s.id, l.number, l.item.sku, l.item.description, l.item.quantity.milli, l.item.unitPrice, a.gross,
                a.lineDiscount, a.saleDiscountShare, a.net, l.item.taxCode, l.item.taxBasisPoints, l.voided, l.item.category,
            ])
        }
        let vat = try db.cachedStatement(sql: """
            INSERT INTO sale_vat (sale_id, tax_code, rate_bp, gross, vat, net) VALUES (?, ?, ?, ?, ?, ?)
            """)
        for v in t.vat { try vat.execute(arguments: [s.id, v.code, v.basisPoints, v.gross, v.vat, v.net]) }
        let tender = try db.cachedStatement(sql: """
            INSERT INTO sale_tender (sale_id, position, kind, amount, reference) VALUES (?, ?, ?, ?, ?)
            """)
        for (i, x) in s.basket.tenders.enumerated() {
            try tender.execute(arguments: [s.id, i + 1, x.kind.rawValue, x.amount, x.reference])
        }
    }

    public func discardOpenSale(_ id: String) throws {
        try run("clear the empty sale") {
            try pool.write { db in
                try db.execute(sql: "DELETE FROM open_sale_event WHERE sale_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM open_sale WHERE sale_id = ?", arguments: [id])
            }
        }
    }

    public func takeOver(_ sale: OpenSale) throws {
        try run("hand the sale to the cashier signing on") {
            try pool.write { db in
                try db.execute(
                    sql: "UPDATE open_sale SET cashier_number = ?, cashier_name = ?, cashier_role = ? WHERE sale_id = ?",
                    arguments: [sale.cashier.number, sale.cashier.name, sale.cashier.role.rawValue, sale.id])
            }
        }
    }

    public func suspend(_ sale: OpenSale, at time: Timestamp) throws {
        let events = try Self.encodeEvents(sale.events)
        try run("suspend the sale") {
            try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO suspended_sale (sale_id, started_at, suspended_at, cashier_number, cashier_name,
                            item_count, total, events) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [sale.id, sale.startedAt, time, sale.cashier.number, sale.cashier.name,
                                sale.basket.totals.itemCount, sale.basket.totals.total, events])
                try db.execute(sql: "DELETE FROM open_sale WHERE sale_id = ?", arguments: [sale.id])
            }
        }
    }

    public func suspendedSales() throws -> [SuspendedSale] {
        try run("list suspended sales") {
            try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM suspended_sale ORDER BY id").map {
                    SuspendedSale(
                        id: $0["id"], saleID: $0["sale_id"], suspendedAt: $0["suspended_at"],
                        cashierName: $0["cashier_name"], itemCount: $0["item_count"], total: $0["total"])
                }
            }
        }
    }

    public func resume(_ suspended: SuspendedSale, cashier: Cashier, currency: Currency) throws -> OpenSale {
        let sale = try journal("resume the sale") {
            try pool.write { db -> OpenSale? in
                guard let row = try Row.fetchOne(
                    db, sql: "SELECT started_at, events FROM suspended_sale WHERE id = ?", arguments: [suspended.id])
                else { return nil }
                let events = try JSONDecoder().decode([BasketEvent].self, from: Data((row["events"] as String).utf8))
                let sale = try OpenSale(
                    id: suspended.saleID, startedAt: row["started_at"], cashier: cashier, currency: currency,
                    events: events)
                try db.execute(sql: "DELETE FROM suspended_sale WHERE id = ?", arguments: [suspended.id])
                try Self.insertOpenSale(sale, db: db)
                let insert = try db.cachedStatement(sql: "INSERT INTO open_sale_event (sale_id, position, event) VALUES (?, ?, ?)")
                for (i, e) in events.enumerated() { try insert.execute(arguments: [sale.id, i + 1, try Self.encode(e)]) }
                return sale
            }
        }
        guard let sale else { throw TillStoreError.noSuchSuspendedSale(suspended.id) }
        return sale
    }

    public func cancel(_ sale: OpenSale, at time: Timestamp, registering member: NewMember?) throws {
        let events = try Self.encodeEvents(sale.events)
        try journal("cancel the sale") {
            try pool.write { db in
                if let member { try insertStandaloneRegistration(member, cancelledSaleID: sale.id, at: time, db: db) }
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO cancelled_sale (sale_id, started_at, cancelled_at, cashier_number,
                            item_count, total, events) VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [sale.id, sale.startedAt, time, sale.cashier.number, sale.basket.totals.itemCount,
                                sale.basket.totals.total, events])
                try db.execute(sql: "DELETE FROM open_sale WHERE sale_id = ?", arguments: [sale.id])
            }
        }
    }

    public func lastSequence(tillID: String) throws -> Int64 {
        try run("read the last sale number") {
            try pool.read {
                try Int64.fetchOne($0, sql: "SELECT MAX(sequence) FROM sale WHERE till_id = ?", arguments: [tillID]) ?? 0
            }
        }
    }

    /// Journalled sales completed in `[from, to)` (epoch ms; nil = open-ended), by till and sequence.
    public func saleDocuments(from: Timestamp? = nil, to: Timestamp? = nil) throws(TillStoreError) -> [SaleDocument] {
        let texts = try run("read the sales journal") {
            try pool.read { db in
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT document FROM sale WHERE completed_at >= ? AND completed_at < ?
                        ORDER BY till_id, sequence
                        """,
                    arguments: [from ?? Int64.min, to ?? Int64.max])
            }
        }
        let decoder = JSONDecoder()
        return try run("read the sales journal") {
            try texts.map { try decoder.decode(SaleDocument.self, from: Data($0.utf8)) }
        }
    }

    /// The outbox's documents of a kind ("sale", "registration"), oldest first, as JSON.
    public func outboxPayloads(kind: String) throws(TillStoreError) -> [String] {
        try run("read the outbox") {
            try pool.read { try String.fetchAll($0, sql: "SELECT payload FROM outbox WHERE kind = ? ORDER BY id", arguments: [kind]) }
        }
    }

    /// The number of documents in the outbox not yet acknowledged by head office.
    public func pendingOutboxCount() throws(TillStoreError) -> Int {
        try run("count the outbox") {
            try pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'pending'") ?? 0 }
        }
    }

    // MARK: - Event encoding

    static func encode(_ event: BasketEvent) throws -> String {
        do { return String(decoding: try JSONEncoder().encode(event), as: UTF8.self) } catch {
            throw TillStoreError.failed(context: "save the sale in progress", reason: "\(error)")
        }
    }

    static func encodeEvents(_ events: [BasketEvent]) throws -> String {
        do { return String(decoding: try JSONEncoder().encode(events), as: UTF8.self) } catch {
            throw TillStoreError.failed(context: "save the sale", reason: "\(error)")
        }
    }

    static func decodeEvent(_ text: String) throws -> BasketEvent {
        do { return try JSONDecoder().decode(BasketEvent.self, from: Data(text.utf8)) } catch {
            throw TillStoreError.failed(context: "read the sale in progress", reason: "a saved step is unreadable (\(error))")
        }
    }

}
