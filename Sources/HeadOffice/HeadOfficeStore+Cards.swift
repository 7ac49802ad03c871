import Foundation
import Synchronization
public import TillCore
public import TillDocuments
public import TillProtocol

extension HeadOfficeStore {
    // MARK: - Cards

    /// A card's authoritative state, and which of `pending` (sale UUIDs) head office has applied.
    public func cardStatus(_ number: String, pending: [String], at time: Int64 = HeadOfficeStore.now()) throws -> CardStatus? {
        let programme = try latestProgramme()
        let expiry = programme?.expiry
        return try database.read { c in
            guard let row = try c.queryOne("""
                SELECT c.balance, c.qualifying, c.tier_code, c.status, c.replaced_by, cu.first_name, cu.last_name
                FROM cards c LEFT JOIN customers cu ON cu.id = c.customer_id WHERE c.number = ?
                """, [.text(number)]) else { return nil }
            var applied: [String] = []
            for id in pending.prefix(200) where try c.queryOne("SELECT sale_id FROM sales WHERE sale_id = ?", [.text(id)]) != nil {
                applied.append(id)
            }
            let name = [row["first_name"].text, row["last_name"].text].compactMap { $0 }.joined(separator: " ")
            let expiring = try expiry.map { try Self.expirySchedule(number, expiry: $0, balance: row.int("balance"), at: time, c) }
            return CardStatus(
                card: CardBalance(number: number, balance: row.int("balance"), tierCode: row["tier_code"].text, qualifying: row.int("qualifying")),
                status: row.text("status"), customerName: name.isEmpty ? nil : name, applied: applied, replacedBy: row["replaced_by"].text,
                expiring: expiring?.isEmpty == false ? expiring : nil, challenges: try challengeStates(card: number, programme: programme, at: time, c))
        }
    }

    /// Loads cards (and their members) with opening balances, each balance an `opening` movement
    /// of the ledger so that a balance is always the sum of its movements. All or nothing.
    public func importCards(_ cards: [CardRecord], at time: Int64? = nil) throws {
        let now = time ?? Self.now()
        let programme = try latestProgramme()
        // The last record of a card (or customer) wins, as if loaded one by one.
        var byNumber: [String: Int] = [:]
        for (i, card) in cards.enumerated() { byNumber[card.number] = i }
        let unique = cards.indices.filter { byNumber[cards[$0].number] == $0 }.map { cards[$0] }
        try database.write { c in
            for chunk in stride(from: 0, to: unique.count, by: Self.rowsPerStatement).map({ unique[$0..<min(unique.count, $0 + Self.rowsPerStatement)] }) {
                let numbers = chunk.map { SQLValue.text($0.number) }
                var previous: [String: Int64] = [:]
                for row in try c.query("SELECT number, balance FROM cards WHERE number IN (\(Self.placeholders(chunk.count)))", numbers) {
                    previous[row.text("number")] = row.int("balance")
                }
                var customers: [String: [SQLValue]] = [:]
                for card in chunk {
                    guard let m = card.member, let id = card.customerID else { continue }
                    customers[id] = [.text(id), .text(m.firstName), .text(m.lastName), SQLValue(m.phone), SQLValue(m.email), SQLValue(m.postcode),
                                     SQLValue(m.birthDate), SQLValue(m.marketingConsent), .text(ProtocolTime.format(m.registeredAt, timeZone: .gmt))]
                }
                try Self.insertRows(c, """
                    INSERT INTO customers (id, first_name, last_name, phone, email, postcode, birth_date, marketing_consent, registered_at)
                    """, Array(customers.values), suffix: """
                    ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name, phone = excluded.phone,
                        email = excluded.email, postcode = excluded.postcode, birth_date = excluded.birth_date,
                        marketing_consent = excluded.marketing_consent
                    """)
                try Self.indexCustomers(Array(customers.keys), c)
                // Consent as the file has it, where it is new or changed (the history's first line).
                if !customers.isEmpty {
                    try c.execute("""
                        INSERT INTO consents (customer_id, purpose, granted, text_version, channel, recorded_by, given_at, created_at)
                        SELECT cu.id, 'marketing', cu.marketing_consent,
                               (SELECT version FROM consent_texts WHERE purpose = 'marketing' ORDER BY created_at DESC, version DESC LIMIT 1),
                               'card import', NULL, COALESCE(cu.registered_at, ''), ?
                        FROM customers cu WHERE cu.id IN (\(Self.placeholders(customers.count)))
                            AND COALESCE((SELECT k.granted FROM consents k WHERE k.customer_id = cu.id ORDER BY k.id DESC LIMIT 1), -1) <> cu.marketing_consent
                        """, [.int(now)] + customers.keys.map { .text($0) })
                }
                try Self.linkCards(chunk.compactMap { card in card.customerID.map { (customer: $0, card: card.number) } }, c)
                try Self.insertRows(c, "INSERT INTO cards (number, customer_id, status, balance, qualifying, tier_code, updated_at)", chunk.map { card in
                    [.text(card.number), SQLValue(card.customerID), .text(card.status), .int(card.balance), .int(card.qualifying),
                     SQLValue(card.tierCode ?? programme?.tier(for: card.qualifying)?.code), .int(now)]
                }, suffix: """
                    ON CONFLICT (number) DO UPDATE SET customer_id = excluded.customer_id, status = excluded.status, balance = excluded.balance,
                        qualifying = excluded.qualifying, tier_code = excluded.tier_code, updated_at = excluded.updated_at
                    """)
                let openings: [[SQLValue]] = chunk.compactMap { card in
                    let delta = card.balance - (previous[card.number] ?? 0)
                    return delta == 0 ? nil : [.text(card.number), .int(delta), .text("Balance loaded"), .int(now)]
                }
                try Self.insertRows(c, "INSERT INTO ledger (card_number, kind, points, rule, label, created_at)", openings,
                                    values: "(?, 'opening', ?, 'opening', ?, ?)")
            }
        }
        // After a large load PostgreSQL's planner is told at once what the tables now hold (its own
        // analysis would come later, in the middle of the day's sales).
        if database.kind == .postgres && unique.count >= 10_000 {
            _ = try database.write { c in try c.execute("ANALYZE cards, customers, customer_search, member_cards, ledger", []) }
        }
    }

    /// Rows per multi-row statement when loading (well inside both databases' parameter limits).
    static let rowsPerStatement = 500

    static func placeholders(_ n: Int) -> String { Array(repeating: "?", count: n).joined(separator: ", ") }

    /// `INSERT … VALUES (…), (…), … suffix`, `rowsPerStatement` rows at a time.
    static func insertRows(_ c: any SQLConnection, _ insert: String, _ rows: [[SQLValue]], values: String? = nil, suffix: String = "") throws {
        guard let width = rows.first?.count else { return }
        let one = values ?? "(" + placeholders(width) + ")"
        for start in stride(from: 0, to: rows.count, by: rowsPerStatement) {
            let chunk = rows[start..<min(rows.count, start + rowsPerStatement)]
            let sql = insert + " VALUES " + Array(repeating: one, count: chunk.count).joined(separator: ", ") + " " + suffix
            try c.execute(sql, Array(chunk.joined()))
        }
    }

    /// Products for head office's catalog (prices are published to tills by the back office).
    public func importProducts(_ products: [Product]) throws {
        var bySKU: [String: Int] = [:]
        for (i, p) in products.enumerated() { bySKU[p.sku] = i }
        let rows: [[SQLValue]] = products.indices.filter { bySKU[products[$0].sku] == $0 }.map { i in
            let p = products[i]
            return [.text(p.sku), .text(p.description), .int(p.unitPrice), .text(p.taxCode), .text(p.category),
                    .text(p.barcodes.joined(separator: "|")), SQLValue(p.plu), SQLValue(p.soldByWeight)]
        }
        try database.write { c in
            try Self.insertRows(c, "INSERT INTO products (sku, description, unit_price, tax_code, category, barcodes, plu, sold_by_weight)", rows, suffix: """
                ON CONFLICT (sku) DO UPDATE SET description = excluded.description, unit_price = excluded.unit_price, tax_code = excluded.tax_code,
                    category = excluded.category, barcodes = excluded.barcodes, plu = excluded.plu, sold_by_weight = excluded.sold_by_weight
                """)
        }
    }
}
