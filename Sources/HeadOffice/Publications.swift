import Foundation
public import TillCore
import TillDocuments
public import TillProtocol

/// Why a publication was refused.
public struct PublicationError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ d: String) { description = d }
}

/// One till on the rollout page: the version it runs, when it last asked, what it has not applied.
public struct RolloutRow: Sendable, Equatable, Codable {
    public var till: String
    public var storeID: String
    /// The highest publication version the till reports it runs (0: none yet).
    public var version: Int64
    public var ackedAt: Int64?
    public var lastPoll: Int64?
    /// The newest version in force for this till.
    public var latest: Int64
    /// Publications in force for this till that it has not applied yet.
    public var pending: Int
}

extension HeadOfficeStore {
    /// Publishes to the tills of `scope`, now or at `effectiveAt`. Programmes are validated with
    /// the tills' own rules; price changes must name known items.
    @discardableResult
    public func publish(
        _ kind: PublicationKind, scope: PublicationScope, by user: String, note: String, effectiveAt: Int64? = nil,
        programme: LoyaltyProgramme? = nil, prices: [PriceChange]? = nil, settings: TerminalSettings? = nil, cards: [CardChange]? = nil,
        at time: Int64 = HeadOfficeStore.now()
    ) throws -> Publication {
        // Never in force before it was made: a till that asked a moment ago must still hear of it.
        var p = Publication(version: 0, kind: kind, scope: scope, createdBy: user, note: note, createdAt: time, effectiveAt: max(effectiveAt ?? time, time))
        switch kind {
        case .programme:
            guard let programme else { throw PublicationError("A programme publication needs the programme") }
            let issues = programme.validate()
            guard issues.isEmpty else { throw PublicationError("The programme is not valid: " + issues.map { "\($0)" }.joined(separator: "; ")) }
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            p.programme = String(decoding: try e.encode(programme), as: UTF8.self)
        case .prices:
            guard let prices, !prices.isEmpty else { throw PublicationError("A price publication needs at least one price change") }
            if let bad = prices.first(where: { $0.unitPrice < 0 }) { throw PublicationError("Item \(bad.sku): a price cannot be negative") }
            let known = try productCount() > 0
            if known {
                let unknown = try prices.map(\.sku).filter { try product(sku: $0) == nil }
                guard unknown.isEmpty else { throw PublicationError("Unknown items: \(unknown.prefix(10).joined(separator: ", ")); load the catalog first") }
            }
            p.prices = prices
        case .settings:
            guard let settings else { throw PublicationError("A settings publication needs the settings") }
            p.settings = settings
        case .cards:
            guard let cards, !cards.isEmpty else { throw PublicationError("A cards publication needs at least one card") }
            if let bad = cards.first(where: { !CardChange.statuses.contains($0.status) }) {
                throw PublicationError("Card \(LoyaltyCardNumber.masked(bad.number)): status '\(bad.status)' is not one a card can have")
            }
            p.cards = cards
        case .offers:
            throw PublicationError("Offers reach the tills when their campaign starts: create a campaign with an offer")
        case .suggestions:
            throw PublicationError("Suggestions reach the tills from their nightly mining: run headoffice suggestions mine to mine them now")
        case .unknown:
            throw PublicationError("There is no such kind of publication")
        }
        try checkScope(scope)
        p.version = try database.write { c in try insertPublication(p, c) }
        if kind == .programme, let programme { try importProgramme(programme) }
        return p
    }

    /// Writes a publication in the caller's transaction; its version.
    func insertPublication(_ p: Publication, _ c: any SQLConnection) throws -> Int64 {
        var payload = p
        payload.version = 0
        let json = String(decoding: try JSONEncoder().encode(payload), as: UTF8.self)
        try c.execute("""
            INSERT INTO publications (kind, scope_kind, scope_value, created_by, note, created_at, effective_at, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(p.kind.rawValue), .text(p.scope.kind.rawValue), SQLValue(p.scope.value), .text(p.createdBy), .text(p.note), .int(p.createdAt),
                  .int(p.effectiveAt), .text(json)])
        // PostgreSQL tells every head office process listening (each wakes its tills' long
        // polls) when this transaction commits; SQLite's readers look every 200 ms.
        if database.kind == .postgres { try c.execute("SELECT pg_notify(?, '')", [.text(Self.publicationChannel)]) }
        return try c.queryOne("SELECT MAX(version) AS v FROM publications", [])?.int("v") ?? 0
    }

    /// Card changes to every till, in the transaction that made them (a till refuses a card that
    /// is not active from the moment it has this).
    func publishCards(_ changes: [CardChange], by user: String, note: String, _ c: any SQLConnection, at time: Int64) throws {
        let p = Publication(version: 0, kind: .cards, scope: .chain, createdBy: user, note: note, createdAt: time, effectiveAt: time, cards: changes)
        _ = try insertPublication(p, c)
    }

    func checkScope(_ scope: PublicationScope) throws {
        switch scope.kind {
        case .chain: return
        case .group:
            guard try database.read({ c in try c.queryOne("SELECT store_id FROM store_groups WHERE group_name = ?", [SQLValue(scope.value)]) }) != nil else {
                throw PublicationError("There is no store group '\(scope.value ?? "")': make it first (headoffice group set NAME STORE…)")
            }
        case .store:
            guard try database.read({ c in try c.queryOne("SELECT till_id FROM tills WHERE store_id = ?", [SQLValue(scope.value)]) }) != nil else {
                throw PublicationError("No till of store '\(scope.value ?? "")' is registered: check the store id")
            }
        case .till:
            let parts = (scope.value ?? "").split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, try database.read({ c in
                try c.queryOne("SELECT till_id FROM tills WHERE store_id = ? AND till_id = ?", [.text(parts[0]), .text(parts[1])])
            }) != nil else {
                throw PublicationError("Till '\(scope.value ?? "")' is not registered: write it STORE/TILL, e.g. till:0001/01")
            }
        }
    }

    /// Makes (or replaces) a store group.
    public func setGroup(_ name: String, stores: [String]) throws {
        try database.write { c in
            try c.execute("DELETE FROM store_groups WHERE group_name = ?", [.text(name)])
            for s in stores { try c.execute("INSERT INTO store_groups (group_name, store_id) VALUES (?, ?)", [.text(name), .text(s)]) }
        }
    }

    /// The publications for a till that came into force after `after` (the last one it has), in
    /// the order they came into force: by time, then version. A publication scheduled earlier for
    /// a later time comes after newer ones made for now, and is never skipped. `after` with no
    /// time (`effectiveAt` 0) is a version cursor from a till of before 2026-11-28.
    /// `kinds`: only those (the kinds the till reads; nil: all).
    public func updates(for till: TillCredential, after: ReleaseCursor, at time: Int64 = HeadOfficeStore.now(),
                        kinds: Set<PublicationKind>? = nil) throws -> [Publication] {
        let only = kinds.map { $0.map(\.rawValue).sorted() }
        return try database.read { c in
            try c.query("""
                SELECT * FROM publications WHERE (effective_at > ? OR (effective_at = ? AND version > ?)) AND effective_at <= ? AND \(Self.meantFor)
                \(only.map { " AND kind IN (\(Self.placeholders($0.count)))" } ?? "") ORDER BY effective_at, version LIMIT 500
                """, [.int(after.effectiveAt), .int(after.effectiveAt), .int(after.version), .int(time)] + Self.meantFor(till)
                    + (only ?? []).map { .text($0) }).map(Self.publication)
        }
    }

    /// What a till that names no kinds reads: those there were before tills said (2026-12-06).
    public static let kindsBeforeTillsSaid: Set<PublicationKind> = [.programme, .prices, .settings, .cards, .offers]

    /// The publications meant for a till: the chain's, its store's groups', its store's and its
    /// own. The arguments are `meantFor(till)`.
    static let meantFor = """
        (scope_kind = 'chain'
            OR (scope_kind = 'store' AND scope_value = ?)
            OR (scope_kind = 'till' AND scope_value = ?)
            OR (scope_kind = 'group' AND scope_value IN (SELECT group_name FROM store_groups WHERE store_id = ?)))
        """

    static func meantFor(_ till: TillCredential) -> [SQLValue] { [.text(till.storeID), .text(till.name), .text(till.storeID)] }

    /// The publications for a till newer than version `after` (the cursor of tills before 2026-11-28).
    /// Versions above `after` in force now, in the order of their versions (500 at a time: the
    /// till asks again from the last). It had been every publication in force, the 500 oldest
    /// kept and those above `after` sent: past 500 publications such a till heard nothing new.
    public func updates(for till: TillCredential, after: Int64, at time: Int64 = HeadOfficeStore.now(), kinds: Set<PublicationKind>? = nil) throws -> [Publication] {
        let only = kinds.map { $0.map(\.rawValue).sorted() }
        return try database.read { c in
            try c.query("""
                SELECT * FROM publications WHERE version > ? AND effective_at <= ? AND \(Self.meantFor)
                \(only.map { " AND kind IN (\(Self.placeholders($0.count)))" } ?? "") ORDER BY version LIMIT 500
                """, [.int(after), .int(time)] + Self.meantFor(till) + (only ?? []).map { .text($0) }).map(Self.publication)
        }
    }

    /// The newest publication version there is (an acknowledgement can name no higher).
    public func latestPublicationVersion() throws -> Int64 {
        try database.read { c in try c.queryOne("SELECT COALESCE(MAX(version), 0) AS v FROM publications", [])?.int("v") ?? 0 }
    }

    /// Every publication, newest first.
    public func publications(limit: Int = 100) throws -> [Publication] {
        try database.read { c in try c.query("SELECT * FROM publications ORDER BY version DESC LIMIT ?", [.int(Int64(limit))]).map(Self.publication) }
    }

    static func publication(_ row: SQLRow) throws -> Publication {
        var p = try JSONDecoder().decode(Publication.self, from: Data(row.text("payload").utf8))
        p.version = row.int("version")
        p.effectiveAt = row.int("effective_at")
        return p
    }

    /// The newest version any till may see now, and how many are in force (changes wake long polls).
    public func visibleState(at time: Int64 = HeadOfficeStore.now()) throws -> Int64 {
        try database.read { c in try c.queryOne("SELECT COALESCE(MAX(version), 0) AS v FROM publications WHERE effective_at <= ?", [.int(time)])?.int("v") ?? 0 }
    }

    /// When the next publication made for later comes into force (nil: none is waiting).
    public func nextComingIntoForce(after time: Int64 = HeadOfficeStore.now()) throws -> Int64? {
        try database.read { c in try c.queryOne("SELECT MIN(effective_at) AS t FROM publications WHERE effective_at > ?", [.int(time)])?["t"].int }
    }

    /// The PostgreSQL channel a publication is announced on (`LISTEN publications`).
    public static let publicationChannel = "publications"

    public func recordPoll(_ till: TillCredential, at time: Int64 = HeadOfficeStore.now()) throws {
        _ = try database.write { c in
            try c.execute("""
                INSERT INTO till_versions (store_id, till_id, version, last_poll) VALUES (?, ?, 0, ?)
                ON CONFLICT (store_id, till_id) DO UPDATE SET last_poll = excluded.last_poll
                """, [.text(till.storeID), .text(till.tillID), .int(time)])
        }
    }

    /// A till says how far it has applied publications: the version of the last one, and when it
    /// came into force (nil from tills of before 2026-11-28). A version head office never
    /// published is refused.
    public func acknowledge(_ till: TillCredential, version: Int64, effectiveAt: Int64? = nil, at time: Int64 = HeadOfficeStore.now()) throws {
        try database.write { c in
            let latest = try c.queryOne("SELECT COALESCE(MAX(version), 0) AS v FROM publications", [])?.int("v") ?? 0
            guard version >= 0, version <= latest else {
                throw PublicationError("version \(version) was never published (the latest is \(latest))")
            }
            try c.execute("""
                INSERT INTO till_versions (store_id, till_id, version, acked_effective, acked_at, last_poll) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (store_id, till_id) DO UPDATE SET version = excluded.version, acked_effective = excluded.acked_effective,
                    acked_at = excluded.acked_at, last_poll = excluded.last_poll
                """, [.text(till.storeID), .text(till.tillID), .int(version), SQLValue(effectiveAt), .int(time), .int(time)])
        }
    }

    /// Every registered till: the version it runs and what it has not applied.
    public func rollout(at time: Int64 = HeadOfficeStore.now()) throws -> [RolloutRow] {
        let tills = try self.tills().filter { $0.revokedAt == nil }
        let versions = try database.read { c in
            try c.query("SELECT * FROM till_versions", []).reduce(into: [String: SQLRow]()) { $0[$1.text("store_id") + "/" + $1.text("till_id")] = $1 }
        }
        // Publications in force and the groups, once; each till's share worked out here.
        let all = try database.read { c in
            try c.query("SELECT * FROM publications WHERE effective_at <= ? ORDER BY version", [.int(time)]).map(Self.publication)
        }
        let groups = try database.read { c in
            try c.query("SELECT group_name, store_id FROM store_groups", []).reduce(into: [String: Set<String>]()) {
                $0[$1.text("group_name"), default: []].insert($1.text("store_id"))
            }
        }
        func applies(_ p: Publication, _ till: TillCredential) -> Bool {
            switch p.scope.kind {
            case .chain: true
            case .store: p.scope.value == till.storeID
            case .till: p.scope.value == till.name
            case .group: groups[p.scope.value ?? ""]?.contains(till.storeID) == true
            }
        }
        return tills.map { t in
            let row = versions[t.till.name]
            let version = row?.int("version") ?? 0
            let inForce = all.filter { applies($0, t.till) }.sorted { $0.cursor < $1.cursor }
            // Not applied: whatever came into force after the till's cursor (or, for a till that
            // acknowledges by version alone, any version above it).
            let pending: Int
            if let effective = row?["acked_effective"].int {
                let cursor = ReleaseCursor(effectiveAt: effective, version: version)
                pending = inForce.filter { $0.cursor > cursor }.count
            } else {
                pending = inForce.filter { $0.version > version }.count
            }
            return RolloutRow(
                till: t.till.name, storeID: t.till.storeID, version: version, ackedAt: row.flatMap { $0["acked_at"].int },
                lastPoll: row.flatMap { $0["last_poll"].int }, latest: inForce.last?.version ?? 0, pending: pending)
        }
    }

    /// How many tills have asked for updates, and how many run at least `version` (cheap, for waiting on a broadcast).
    public func tillVersionCounts(atLeast version: Int64) throws -> (polled: Int, running: Int) {
        try database.read { c in
            let r = try c.queryOne("""
                SELECT COUNT(last_poll) AS polled, COALESCE(SUM(CASE WHEN version >= ? THEN 1 ELSE 0 END), 0) AS running FROM till_versions
                """, [.int(version)])
            return (Int(r?.int("polled") ?? 0), Int(r?.int("running") ?? 0))
        }
    }

    /// Publishes again the publication before the latest one of this kind and scope (a rollback is
    /// a new version, so every till moves forward to it).
    @discardableResult
    public func rollback(_ kind: PublicationKind, scope: PublicationScope, by user: String, at time: Int64 = HeadOfficeStore.now()) throws -> Publication {
        guard kind != .cards else {
            throw PublicationError("Card changes are not rolled back: unblock or replace the card from the member's page")
        }
        guard kind != .offers else {
            throw PublicationError("Offers are not rolled back: pause the campaign, or let its offer end")
        }
        let same = try publications(limit: 10_000).filter { $0.kind == kind && $0.scope == scope }
        guard same.count >= 2 else {
            throw PublicationError("There is no earlier \(kind.rawValue) publication for \(scope) to go back to")
        }
        let previous = same[1]
        let programme = try previous.programme.map { try JSONDecoder().decode(LoyaltyProgramme.self, from: Data($0.utf8)) }
        return try publish(kind, scope: scope, by: user, note: "Rollback to version \(previous.version) (\(previous.note))", programme: programme,
                           prices: previous.prices, settings: previous.settings, at: time)
    }
}

extension HeadOfficeStore {
    /// How many items head office's catalog holds.
    public func productCount() throws -> Int {
        try database.read { c in Int(try c.queryOne("SELECT COUNT(*) AS n FROM products", [])?.int("n") ?? 0) }
    }

    /// One item of head office's catalog.
    public func product(sku: String) throws -> Product? {
        try database.read { c in
            try c.queryOne("SELECT * FROM products WHERE sku = ?", [.text(sku)]).map {
                Product(sku: $0.text("sku"), barcodes: $0.text("barcodes").split(separator: "|").map(String.init), plu: $0["plu"].text,
                        description: $0.text("description"), unitPrice: $0.int("unit_price"), taxCode: $0.text("tax_code"),
                        category: $0.text("category"), soldByWeight: $0.int("sold_by_weight") != 0)
            }
        }
    }
}

/// A price change file: `sku,price` with the price as written (1.99), every row checked.
public enum PriceFile {
    public static func parse(_ text: String, currency: Currency = .eur) throws(StaffFileError) -> [PriceChange] {
        let records: [CSVRecord]
        do { records = try CSVReader.records(text) } catch { throw StaffFileError(problems: ["line \(error.line): \(error.message)"]) }
        guard records.first?.fields.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) == ["sku", "price"] else {
            throw StaffFileError(problems: ["line 1: the header must be sku,price"])
        }
        var out: [PriceChange] = [], problems: [String] = []
        for r in records.dropFirst() {
            let f = r.fields.map { $0.trimmingCharacters(in: .whitespaces) }
            if f.allSatisfy(\.isEmpty) { continue }
            guard f.count == 2, !f[0].isEmpty else { problems.append("line \(r.line): expected sku,price"); continue }
            guard let minor = currency.parse(f[1]), minor >= 0 else { problems.append("line \(r.line): price '\(f[1])' must be an amount such as 1.99"); continue }
            out.append(PriceChange(sku: f[0], unitPrice: minor))
        }
        guard problems.isEmpty else { throw StaffFileError(problems: problems) }
        return out
    }
}
