public import Foundation
import TillCore
import TillDocuments
import TillProtocol

/// A member's data protection rights at head office: everything held, as JSON (Art. 15 and 20),
/// and erasure (Art. 17) that keeps the ledger's totals true.
extension HeadOfficeStore {
    /// A till's document with its member's name and registration details replaced; nil when it
    /// names nobody.
    static func pseudonymised(_ document: String, first: String, last: String) throws -> String? {
        guard var doc = try JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any],
              var loyalty = doc["loyalty"] as? [String: Any] else { return nil }
        var changed = false
        if loyalty["customerName"] != nil {
            loyalty["customerName"] = "\(first) \(last)"
            changed = true
        }
        if var reg = loyalty["registration"] as? [String: Any] {
            reg["firstName"] = first
            reg["lastName"] = last
            for k in ["phone", "email", "postcode", "birthDate"] { reg.removeValue(forKey: k) }
            loyalty["registration"] = reg
            changed = true
        }
        guard changed else { return nil }
        doc["loyalty"] = loyalty
        return String(decoding: try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys]), as: UTF8.self)
    }

    /// Everything head office holds about a member, as JSON (GDPR Art. 15 and 20): details,
    /// consents, cards, every ledger movement, the sales and refunds made with their cards, the
    /// audit trail.
    public func exportMember(_ id: String) throws -> Data {
        let object: [String: Any] = try database.read { c in
            guard let m = try c.queryOne("SELECT * FROM customers WHERE id = ?", [.text(id)]) else { throw ServiceError("Head office has no member '\(id)'") }
            func dict(_ r: SQLRow, _ columns: [String]) -> [String: Any] {
                var d: [String: Any] = [:]
                for k in columns {
                    switch r[k] {
                    case .int(let v): d[k] = v
                    case .text(let v): d[k] = v
                    default: d[k] = NSNull()
                    }
                }
                return d
            }
            let numbers = try c.query("SELECT number FROM member_cards WHERE customer_id = ?", [.text(id)]).map { $0.text("number") }
            var cards: [[String: Any]] = [], ledger: [[String: Any]] = [], sales: [[String: Any]] = [], refunds: [[String: Any]] = []
            if !numbers.isEmpty {
                let args = numbers.map { SQLValue.text($0) }, marks = Self.placeholders(numbers.count)
                cards = try c.query("SELECT * FROM cards WHERE number IN (\(marks)) AND customer_id = ? ORDER BY number", args + [.text(id)])
                    .map { dict($0, ["number", "status", "balance", "qualifying", "tier_code", "replaced_by"]) }
                ledger = try c.query("SELECT * FROM ledger WHERE card_number IN (\(marks)) ORDER BY id", args)
                    .map { dict($0, ["card_number", "sale_id", "kind", "points", "rule", "label", "store_id", "till_id", "created_at"]) }
                // Every sale made with the cards, points or not (read without an index: an export is rare).
                sales = try c.query("SELECT * FROM sales WHERE card_number IN (\(marks)) ORDER BY completed_ms", args)
                    .map { r in
                        var d = dict(r, ["sale_id", "store_id", "till_id", "receipt_number", "completed_at", "total", "currency", "card_number"])
                        d["document"] = (try? JSONSerialization.jsonObject(with: Data(r.text("document").utf8))) ?? NSNull()
                        return d
                    }
                refunds = try c.query("SELECT * FROM refunds WHERE card_number IN (\(marks)) ORDER BY received_at", args)
                    .map { dict($0, ["refund_id", "store_id", "till_id", "receipt_number", "original_sale_id", "card_number", "total", "points_taken_back", "points_restored"]) }
            }
            let consents = try Self.consents(id, c).map { k -> [String: Any] in
                ["purpose": k.purpose, "granted": k.granted, "text_version": k.textVersion ?? NSNull(), "text": k.text ?? NSNull(),
                 "channel": k.channel, "recorded_by": k.recordedBy ?? NSNull(), "given_at": k.givenAt]
            }
            let audit = try c.query("SELECT * FROM audit WHERE customer_id = ? ORDER BY id", [.text(id)])
                .map { dict($0, ["created_at", "username", "action", "card_number", "reason", "note", "detail"]) }
            return [
                "member": dict(m, ["id", "first_name", "last_name", "phone", "email", "postcode", "birth_date", "marketing_consent", "registered_at",
                                   "store_id", "till_id", "merged_into", "erased_at"]),
                "consents": consents, "cards": cards, "ledger": ledger, "sales": sales, "refunds": refunds, "audit": audit,
                "exported_at": ProtocolTime.format(Self.now(), timeZone: .gmt),
            ]
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }

    /// Records on the member's audit trail that their data was exported, and by whom.
    public func noteExport(_ id: String, by user: String, at time: Int64 = HeadOfficeStore.now()) throws {
        try database.write { c in
            try Self.audit(c, user: user, action: "export", customer: id, card: nil, reason: .gdprRequest, note: "", detail: "all data exported as JSON", at: time)
        }
    }

    /// Erases a member (GDPR Art. 17): the personal fields are replaced by a pseudonym (here, in
    /// the sale documents that registered their cards, and on the tills), the cards are closed,
    /// the ledger's movements stay so every total stays true. Refused while the cards hold points
    /// unless `forfeit` (a forfeit movement on each card, with the reason).
    public func eraseMember(_ id: String, by user: String, reason: ServiceReason, note: String, forfeit: Bool,
                            at time: Int64 = HeadOfficeStore.now()) throws {
        let note = try Self.serviceNote(note, reason)
        try eraseMember(id, by: user, reason: reason, note: note, forfeit: forfeit, scanned: try documentsToErase(id, forfeit: forfeit), at: time)
    }

    /// The sale and refund documents of a member's cards and the registration events webhooks
    /// carried, found before erasure's write (SQLite): sales have no index by card (every sale
    /// would write one), so finding them reads every sale (and every event), and inside the write
    /// that read would hold up every till's batch for as long.
    struct ErasureScan {
        /// The member's cards when read.
        var cards: Set<String>
        /// Per table (`sales`, `refunds`): the keys found, and the highest rowid read.
        var keys: [String: [String]] = [:]
        var marks: [String: Int64] = [:]
        /// The registration events found, and the highest id read.
        var events: [Int64] = []
        var eventMark: Int64 = 0
    }

    /// The name an erased member's documents carry.
    static let erasedName = (first: "Erased", last: "member")
    /// A card whose member was erased.
    static let erasedMembersCard = "SELECT 1 AS e FROM cards c JOIN customers m ON m.id = c.customer_id WHERE c.number = ? AND m.erased_at IS NOT NULL"

    /// A sale just stored on a closed card: when the card's member was erased (the sale was made
    /// offline before the till heard of it), its document is kept as erasure left the others.
    static func eraseIfErased(saleID: String, _ json: String, card: String, _ c: any SQLConnection) throws {
        guard try c.queryOne(erasedMembersCard, [.text(card)]) != nil,
              let erased = try pseudonymised(json, first: erasedName.first, last: erasedName.last) else { return }
        try c.execute("UPDATE sales SET document = ? WHERE sale_id = ?", [.text(erased), .text(saleID)])
    }

    /// A member's cards, as erasure closes them.
    static let memberCards = "SELECT c.* FROM member_cards m JOIN cards c ON c.number = m.number AND c.customer_id = m.customer_id WHERE m.customer_id = ?"

    /// The tables of documents erasure rewrites, with their keys.
    static let erasedDocuments = [("sales", "sale_id"), ("refunds", "refund_id")]

    /// Nil on PostgreSQL: its writes do not wait for each other's reads, the write reads itself.
    /// Nil too when the write is going to refuse (`erasableCards`): the long read is not made for
    /// nothing (if the write does go ahead after all, it reads itself).
    func documentsToErase(_ id: String, forfeit: Bool) throws -> ErasureScan? {
        guard database.kind == .sqlite else { return nil }
        return try database.read { c in
            // No such member: refused here, in the write's words. Any other refusal: the write's.
            _ = try Self.liveMember(id, c)
            let cards: [SQLRow]
            do { cards = try Self.erasableCards(id, forfeit: forfeit, c).cards } catch is ServiceError { return nil }
            let numbers = cards.map { $0.text("number") }
            var scan = ErasureScan(cards: Set(numbers))
            guard !numbers.isEmpty else { return scan }
            for (table, key) in Self.erasedDocuments {
                // The mark first: a row inserted after it is read again in the write.
                scan.marks[table] = try c.queryOne("SELECT COALESCE(MAX(rowid), 0) AS m FROM \(table)", [])?.int("m") ?? 0
                scan.keys[table] = try c.query("SELECT \(key) AS id FROM \(table) WHERE card_number IN (\(Self.placeholders(numbers.count))) AND rowid <= ?",
                                               numbers.map { .text($0) } + [.int(scan.marks[table] ?? 0)]).map { $0.text("id") }
            }
            // The registration events webhooks carried (every event is in that table, unindexed by card).
            scan.eventMark = try c.queryOne("SELECT COALESCE(MAX(id), 0) AS m FROM webhook_deliveries", [])?.int("m") ?? 0
            scan.events = try Self.registrationEvents(numbers, after: nil, upTo: scan.eventMark, c)
            return scan
        }
    }

    /// The documents of `cards` in `table`: those `scan` found, by key, and those inserted after
    /// it, by rowid (SQLite gives a new row a higher one); without a scan of these cards, all of
    /// them read here.
    static func documentsToErase(_ table: String, key: String, cards numbers: [String], scan: ErasureScan?, _ c: any SQLConnection) throws -> [SQLRow] {
        let cards = numbers.map { SQLValue.text($0) }
        guard let scan, scan.cards == Set(numbers), let mark = scan.marks[table] else {
            return try c.query("SELECT \(key) AS id, document FROM \(table) WHERE card_number IN (\(placeholders(cards.count)))", cards)
        }
        var rows: [SQLRow] = []
        let keys = scan.keys[table] ?? []
        for start in stride(from: 0, to: keys.count, by: 500) {
            let part = keys[start..<min(keys.count, start + 500)]
            rows += try c.query("SELECT \(key) AS id, document FROM \(table) WHERE \(key) IN (\(placeholders(part.count)))", part.map { .text($0) })
        }
        return rows + (try c.query(Self.erasedSince(table, key: key, cards: cards.count), cards + [.int(mark)]))
    }

    /// The registration events of `cards` that webhooks carried, with ids in the range given.
    static func registrationEvents(_ cards: [String], after: Int64?, upTo: Int64?, _ c: any SQLConnection) throws -> [Int64] {
        let likes = Array(repeating: "payload LIKE ?", count: cards.count).joined(separator: " OR ")
        return try c.query("SELECT id FROM webhook_deliveries WHERE id > ? AND id <= ? AND event = 'member.registered' AND (\(likes))",
                           [.int(after ?? 0), .int(upTo ?? Int64.max)] + cards.map { .text("%\"card\":\"\($0)\"%") }).map { $0.int("id") }
    }

    /// A table's documents of the given cards inserted after a rowid: a search by rowid.
    static func erasedSince(_ table: String, key: String, cards: Int) -> String {
        "SELECT \(key) AS id, document FROM \(table) WHERE card_number IN (\(placeholders(cards))) AND rowid > ?"
    }

    /// The member's cards (`memberCards`) if erasing them may go ahead now; else why not: no such
    /// member (or erased already), points not forfeited (on the cards, or held by open
    /// reservations), adjustments waiting for approval. Only reads: erasure's write refuses with
    /// it, and the read before that write (`documentsToErase`) is not made when it would.
    static func erasableCards(_ id: String, forfeit: Bool, _ c: any SQLConnection) throws -> (cards: [SQLRow], balance: Int64) {
        _ = try liveMember(id, c)
        let cards = try c.query(memberCards, [.text(id)])
        let balance = cards.reduce(Int64(0)) { $0.addingClamped($1.int("balance")) }
        if balance != 0 && !forfeit {
            throw ServiceError("Member \(id) holds \(balance) points: spend or forfeit them first (tick 'forfeit the points' and give the reason)")
        }
        let held = try openReservations(cards.map { $0.text("number") }, c)
        if held != 0 && !forfeit {
            throw ServiceError("Member \(id) has \(held) points held by open reservations (an order in a web shop or app): wait for it to be captured or cancelled, or forfeit them")
        }
        let pending = try c.queryOne("SELECT COUNT(*) AS n FROM adjustments WHERE customer_id = ? AND state = 'pending'", [.text(id)])?.int("n") ?? 0
        if pending > 0 { throw ServiceError("Member \(id) has \(pending) adjustment(s) waiting for approval: decide them first") }
        return (cards, balance)
    }

    func eraseMember(_ id: String, by user: String, reason: ServiceReason, note: String, forfeit: Bool, scanned: ErasureScan?,
                     at time: Int64) throws {
        try database.write { c in
            let (cards, balance) = try Self.erasableCards(id, forfeit: forfeit, c)
            // Forfeited reservations stay off the balance (their points were taken when reserved).
            for card in cards {
                try c.execute("UPDATE reservations SET state = 'forfeited', settled_at = ? WHERE card_number = ? AND state = 'reserved'",
                              [.int(time), .text(card.text("number"))])
            }
            for card in cards where card.int("balance") != 0 {
                _ = try Self.moveByService(card.text("number"), card: card, points: -card.int("balance"), kind: "forfeit",
                                           label: "Forfeited at erasure", rule: reason.rawValue, c, at: time)
            }
            let (pseudonym, last) = Self.erasedName
            try c.execute("""
                UPDATE customers SET first_name = ?, last_name = ?, phone = NULL, email = NULL, postcode = NULL, birth_date = NULL,
                    marketing_consent = 0, erased_at = ? WHERE id = ?
                """, [.text(pseudonym), .text(last), .int(time), .text(id)])
            try c.execute("DELETE FROM customer_search WHERE customer_id = ?", [.text(id)])
            // The member's sign-in codes (their e-mail) and sessions; the registration events
            // webhooks carried (their details) keep only that they were erased.
            try c.execute("DELETE FROM member_codes WHERE customer_id = ?", [.text(id)])
            try c.execute("DELETE FROM member_sessions WHERE customer_id = ?", [.text(id)])
            let numbers = cards.map { $0.text("number") }
            // The events found before this write and those queued since (ids go up); without a
            // read of these cards before, all of them.
            let known = scanned.flatMap { $0.cards == Set(numbers) ? $0 : nil }
            let events = numbers.isEmpty ? [] : (known?.events ?? []) + (try Self.registrationEvents(numbers, after: known?.eventMark, upTo: nil, c))
            for event in events {
                try c.execute("UPDATE webhook_deliveries SET payload = ? WHERE id = ?",
                              [.text("{\"data\":{\"erased\":true},\"type\":\"member.registered\"}"), .int(event)])
            }
            try c.execute("UPDATE cards SET status = 'closed', updated_at = ? WHERE customer_id = ?", [.int(time), .text(id)])
            // The member's name (and a registration's details) in every sale and refund document of
            // their cards: those found before this write, and those that came in since.
            if !numbers.isEmpty {
                for (table, key) in Self.erasedDocuments {
                    for r in try Self.documentsToErase(table, key: key, cards: numbers, scan: scanned, c) {
                        guard let json = try Self.pseudonymised(r.text("document"), first: pseudonym, last: last) else { continue }
                        try c.execute("UPDATE \(table) SET document = ? WHERE \(key) = ?", [.text(json), .text(r.text("id"))])
                    }
                }
            }
            try Self.audit(c, user: user, action: "erase", customer: id, card: nil, reason: reason, note: note,
                           detail: "personal details erased; \(cards.count) card(s) closed" + (balance != 0 ? "; \(balance) points forfeited" : ""), at: time)
            if !cards.isEmpty {
                try publishCards(cards.map { CardChange(number: $0.text("number"), status: "closed", customerID: id, firstName: pseudonym, lastName: last,
                                                        erased: true) },
                                 by: user, note: "Member \(id) erased", c, at: time)
            }
        }
    }
}
