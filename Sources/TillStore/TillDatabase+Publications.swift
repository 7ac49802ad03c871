import Foundation
import GRDB
public import TillCore
public import TillProtocol

extension TillDatabase {
    /// Keeps publications head office sent (each once); they wait to be applied between sales.
    public func receive(_ publications: [Publication], at time: Timestamp) throws(TillStoreError) {
        guard !publications.isEmpty else { return }
        let rows = try run("keep head office's publications") {
            try publications.map { ($0.version, $0.kind.rawValue, String(decoding: try JSONEncoder().encode($0), as: UTF8.self), $0.effectiveAt) }
        }
        try run("keep head office's publications") {
            try pool.write { db in
                for (v, kind, json, effective) in rows {
                    try db.execute(sql: "INSERT OR IGNORE INTO publication (version, kind, payload, received_at, effective_at) VALUES (?, ?, ?, ?, ?)",
                                   arguments: [v, kind, json, time, effective])
                }
            }
        }
    }

    /// The last publication received, in the order they come into force (what the till asks head
    /// office for what came after).
    public func receivedPublicationCursor() throws(TillStoreError) -> ReleaseCursor {
        try run("read the publications") {
            try pool.read { db in
                try Row.fetchOne(db, sql: "SELECT effective_at, version FROM publication ORDER BY effective_at DESC, version DESC LIMIT 1")
                    .map { ReleaseCursor(effectiveAt: $0["effective_at"], version: $0["version"]) } ?? .start
            }
        }
    }

    /// How far the till has applied publications: the last one applied (or skipped with its
    /// problem) with none before it, in the order they came into force, still waiting.
    public func appliedPublicationCursor() throws(TillStoreError) -> ReleaseCursor {
        try run("read the publications") {
            try pool.read { db in
                let firstPending = try Row.fetchOne(db, sql: """
                    SELECT effective_at, version FROM publication WHERE applied_at IS NULL ORDER BY effective_at, version LIMIT 1
                    """).map { ReleaseCursor(effectiveAt: $0["effective_at"], version: $0["version"]) }
                var sql = "SELECT effective_at, version FROM publication WHERE applied_at IS NOT NULL"
                var arguments: StatementArguments = []
                if let p = firstPending {
                    sql += " AND (effective_at < ? OR (effective_at = ? AND version < ?))"
                    arguments = [p.effectiveAt, p.effectiveAt, p.version]
                }
                return try Row.fetchOne(db, sql: sql + " ORDER BY effective_at DESC, version DESC LIMIT 1", arguments: arguments)
                    .map { ReleaseCursor(effectiveAt: $0["effective_at"], version: $0["version"]) } ?? .start
            }
        }
    }

    /// The version the till runs (the status bar's `Config vN`): the last applied in the order they
    /// came into force, with nothing before it waiting.
    public func appliedPublicationVersion() throws(TillStoreError) -> Int64 {
        try appliedPublicationCursor().version
    }

    public func hasPendingPublications() throws(TillStoreError) -> Bool {
        try run("read the publications") {
            try pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM publication WHERE applied_at IS NULL") ?? 0 } > 0
        }
    }

    /// Applies every received publication in version order, all in one transaction (a sale never
    /// sees half an update). A publication that cannot be applied is skipped with its reason.
    /// Whether head office holds a card's points as this till knows it now: its card, then the
    /// cards publications received and not applied yet (they apply between sales; a hold must
    /// stop a redemption in the sale already open), the last one saying so winning.
    public func redemptionsHeld(card number: String) throws(TillStoreError) -> Bool {
        try run("read the card's hold") {
            try pool.read { db in
                var held = (try Int64.fetchOne(db, sql: "SELECT redemption_hold FROM card WHERE number = ?", arguments: [number]) ?? 0) != 0
                for payload in try String.fetchAll(db, sql: """
                    SELECT payload FROM publication WHERE applied_at IS NULL AND kind = 'cards' ORDER BY effective_at, version
                    """) {
                    guard let p = try? JSONDecoder().decode(Publication.self, from: Data(payload.utf8)) else { continue }
                    for c in p.cards ?? [] where c.number == number { if let h = c.redemptionHold { held = h } }
                }
                return held
            }
        }
    }

    public func applyPendingPublications(at time: Timestamp) throws(TillStoreError) -> [AppliedPublication] {
        try run("apply head office's publications") {
            try pool.write { db -> [AppliedPublication] in
                var done: [AppliedPublication] = []
                for row in try Row.fetchAll(db, sql: "SELECT version, payload FROM publication WHERE applied_at IS NULL ORDER BY effective_at, version") {
                    let version: Int64 = row["version"]
                    guard let p = try? JSONDecoder().decode(Publication.self, from: Data((row["payload"] as String).utf8)) else {
                        try db.execute(sql: "UPDATE publication SET applied_at = ?, problem = ? WHERE version = ?",
                                       arguments: [time, "unreadable", version])
                        continue
                    }
                    var summary = ""
                    var problem: String?
                    do {
                        summary = try Self.apply(p, at: time, db: db)
                    } catch {
                        problem = "\(error)"
                    }
                    try db.execute(sql: "UPDATE publication SET applied_at = ?, problem = ? WHERE version = ?", arguments: [time, problem, version])
                    done.append(AppliedPublication(publication: p, summary: problem.map { "Not applied: \($0)" } ?? summary, problem: problem))
                }
                return done
            }
        }
    }

    struct PublicationProblem: Error, CustomStringConvertible {
        var description: String
    }

    static func apply(_ p: Publication, at time: Timestamp, db: Database) throws -> String {
        switch p.kind {
        case .programme:
            guard let json = p.programme, let programme = try? JSONDecoder().decode(LoyaltyProgramme.self, from: Data(json.utf8)) else {
                throw PublicationProblem(description: "the programme could not be read")
            }
            let issues = programme.validate()
            guard issues.isEmpty else { throw PublicationProblem(description: issues.map { "\($0)" }.joined(separator: "; ")) }
            try db.execute(sql: "INSERT OR REPLACE INTO programme (id, version, json, applied_at) VALUES (1, ?, ?, ?)",
                           arguments: [programme.version, json, time])
            let c = Currency(code: programme.currency) ?? .eur
            return "Programme \(programme.version): \(programme.earn.pointsPerUnit) pt per \(c.format(programme.earn.unitMinor))"
        case .prices:
            let changes = p.prices ?? []
            var changed = 0
            for ch in changes where ch.unitPrice >= 0 {
                try db.execute(sql: "UPDATE product SET unit_price = ? WHERE sku = ?", arguments: [ch.unitPrice, ch.sku])
                changed += db.changesCount
            }
            return "Prices of \(changed) item\(changed == 1 ? "" : "s")" + (changed < changes.count ? " (\(changes.count - changed) not sold here)" : "")
        case .settings:
            guard let new = p.settings else { throw PublicationProblem(description: "no settings") }
            var merged = try terminalSettings(db) ?? TerminalSettings()
            if let v = new.loyaltyPromptAtTotal { merged.loyaltyPromptAtTotal = v }
            if let v = new.receiptHeader { merged.receiptHeader = v }
            if let v = new.receiptFooter { merged.receiptFooter = v }
            if let v = new.printerProfile { merged.printerProfile = v }
            if let v = new.keymap { merged.keymap = v }
            if let v = new.discountLimit { merged.discountLimit = v }
            if let v = new.autoLockMinutes { merged.autoLockMinutes = v }
            try db.execute(sql: "INSERT OR REPLACE INTO terminal_setting (id, json, version) VALUES (1, ?, ?)",
                           arguments: [String(decoding: try JSONEncoder().encode(merged), as: UTF8.self), p.version])
            return "Terminal settings (\(p.note.isEmpty ? "from head office" : p.note))"
        case .cards:
            let changes = p.cards ?? []
            for change in changes { try apply(change, at: time, db: db) }
            return changes.count == 1 ? "Card \(LoyaltyCardNumber.masked(changes[0].number)) \(changes[0].status)" : "\(changes.count) cards changed"
        case .offers:
            let changes = p.offers ?? OfferChanges(definitions: [], members: [])
            for d in changes.definitions {
                let offer = PersonalOffer(id: d.id, name: d.name, multiplierBP: d.multiplierBP, bonusPoints: d.bonusPoints, skus: d.skus,
                                          categories: d.categories, minSpend: d.minSpend, validFrom: d.validFrom, validTo: d.validTo, stores: d.stores,
                                          percentOffBP: d.percentOffBP, amountOff: d.amountOff, freeItem: d.freeItem)
                try db.execute(sql: "INSERT OR REPLACE INTO offer (id, json, valid_to) VALUES (?, ?, ?)",
                               arguments: [d.id, String(decoding: try JSONEncoder().encode(offer), as: UTF8.self), d.validTo])
            }
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO member_offer (customer_id, offer_id, uses) VALUES (?, ?, ?)
                ON CONFLICT(customer_id, offer_id) DO UPDATE SET uses = MIN(member_offer.uses, excluded.uses)
                """)
            for m in changes.members { try upsert.execute(arguments: [m.customerID, m.offer, max(0, m.uses)]) }
            let names = changes.definitions.map(\.name).joined(separator: ", ")
            return "Offers\(names.isEmpty ? "" : " " + names): \(changes.members.count) members"
        case .suggestions:
            guard let set = p.suggestions else { throw PublicationProblem(description: "no suggestions") }
            return try applySuggestions(set, scope: p.scope, db: db)
        case .unknown:
            throw PublicationProblem(description: "this till does not know this kind of publication: upgrade it to take such updates")
        }
    }

    /// A suggestions publication replaces the till's suggestions, but the chain's do not replace
    /// a store group's (the group's baskets say more of its stores).
    static func applySuggestions(_ set: SuggestionSet, scope: PublicationScope, db: Database) throws -> String {
        let current = try String.fetchOne(db, sql: "SELECT scope FROM suggestion_source WHERE id = 1")
        if scope.kind == .chain, let current, current != "chain" {
            return "Suggestions for the chain: this till keeps those for \(current)"
        }
        try db.execute(sql: "DELETE FROM suggestion")
        let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO suggestion (sku, rank, also) VALUES (?, ?, ?)")
        for item in set.items {
            for (rank, also) in item.also.prefix(3).enumerated() where also != item.sku { try insert.execute(arguments: [item.sku, rank + 1, also]) }
        }
        try db.execute(sql: "INSERT OR REPLACE INTO suggestion_source (id, scope, mined_at) VALUES (1, ?, ?)", arguments: [scope.description, set.minedAt])
        return "Suggestions for \(set.items.count) item\(set.items.count == 1 ? "" : "s") (\(scope))"
    }

    /// A card as customer service left it: its status (a till refuses all but active cards), its
    /// member, and for a card given in replacement the balance, qualification and tier it carries.
    static func apply(_ change: CardChange, at time: Timestamp, db: Database) throws {
        guard CardChange.statuses.contains(change.status) else {
            throw PublicationProblem(description: "card \(LoyaltyCardNumber.masked(change.number)) has status '\(change.status)'")
        }
        if let id = change.customerID {
            if change.erased == true {
                try db.execute(sql: """
                    UPDATE customer SET first_name = ?, last_name = ?, phone = NULL, phone_rev = NULL, email = NULL,
                        postcode = NULL, birth_date = NULL, marketing_consent = 0 WHERE id = ?
                    """, arguments: [change.firstName ?? "Erased", change.lastName ?? "member", id])
            } else if let first = change.firstName, let last = change.lastName {
                try db.execute(sql: """
                    INSERT INTO customer (id, first_name, last_name, registered_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name
                    """, arguments: [id, first, last, time])
            }
        }
        try db.execute(sql: """
            INSERT INTO card (number, customer_id, status, replaced_by) VALUES (?, ?, ?, ?)
            ON CONFLICT(number) DO UPDATE SET status = excluded.status, replaced_by = excluded.replaced_by,
                customer_id = COALESCE(excluded.customer_id, card.customer_id)
            """, arguments: [change.number, change.customerID, change.status, change.replacedBy])
        if let held = change.redemptionHold {
            try db.execute(sql: "UPDATE card SET redemption_hold = ? WHERE number = ?", arguments: [held, change.number])
        }
        if let balance = change.balance {
            try db.execute(sql: "UPDATE card SET confirmed_balance = ?, confirmed_at = ?, qualifying = ?, tier_code = ? WHERE number = ?",
                           arguments: [balance, time, change.qualifying ?? 0, change.tierCode, change.number])
        }
    }

    static func terminalSettings(_ db: Database) throws -> TerminalSettings? {
        try String.fetchOne(db, sql: "SELECT json FROM terminal_setting WHERE id = 1")
            .map { try JSONDecoder().decode(TerminalSettings.self, from: Data($0.utf8)) }
    }

    /// The terminal settings head office published (nil: none yet).
    public func terminalSettings() throws(TillStoreError) -> TerminalSettings? {
        try run("read the terminal settings") { try pool.read { try Self.terminalSettings($0) } }
    }

    /// The publications applied, newest first, for "what changed".
    public func appliedPublications(limit: Int = 20) throws(TillStoreError) -> [(Publication, Timestamp, String?)] {
        try run("read the publications") {
            try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT payload, applied_at, problem FROM publication WHERE applied_at IS NOT NULL ORDER BY version DESC LIMIT ?",
                                 arguments: [limit]).compactMap { row in
                    guard let p = try? JSONDecoder().decode(Publication.self, from: Data((row["payload"] as String).utf8)) else { return nil }
                    return (p, row["applied_at"], row["problem"])
                }
            }
        }
    }
}
