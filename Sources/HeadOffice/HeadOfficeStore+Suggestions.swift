import Foundation
import TillProtocol

/// How cross-sell suggestions are mined: from the baskets of the last `days` days, a pair in at
/// least `minSupport` baskets; the last `heldOutDays` of them first held out to measure how well
/// the rest predicts them.
public struct SuggestionSettings: Sendable, Equatable {
    public var days: Int64
    public var minSupport: Int64
    public static let heldOutDays: Int64 = 7
    /// A store group with fewer baskets than this in the window uses the chain's suggestions.
    public static let groupMinimum = 1_000
    public init(days: Int64 = 90, minSupport: Int64 = 5) {
        self.days = days
        self.minSupport = minSupport
    }
}

/// One mining of one scope (the chain, or a store group as `group:NAME`).
public struct SuggestionRun: Sendable, Equatable {
    public var minedAt: Int64
    public var scope: String
    public var fromDay: Int64, toDay: Int64
    public var baskets: Int64, items: Int64, pairs: Int64
    /// The whole mining (reading every scope's baskets, counting, scoring, checking), milliseconds.
    public var miningMS: Int64
    /// On the held-out days: the items tried, and in how many (basis points) one of the three
    /// suggestions was in the rest of the basket, against the three most popular items.
    public var queries: Int64, hitBP: Int64, baselineBP: Int64
    /// The publication that took them to the tills; nil when unchanged or empty.
    public var version: Int64?
    public var minedBy: String
}

/// A suggestion as the back office lists it.
public struct SuggestionPair: Sendable, Equatable {
    public var sku: String, description: String, rank: Int64, also: String, alsoDescription: String, together: Int64, liftMilli: Int64
}

/// Cross-sell suggestions (issue 18): nightly, item-to-item association from the chain's baskets
/// (`BasketMiner`) for the chain and for each store group with enough baskets; each scope's best
/// three per item published to its tills when they changed.
extension HeadOfficeStore {
    public func suggestionSettings() throws -> SuggestionSettings {
        let d = SuggestionSettings(), saved = try wholeOptions(["suggestion_days", "suggestion_support"])
        return SuggestionSettings(days: saved["suggestion_days"] ?? d.days, minSupport: saved["suggestion_support"] ?? d.minSupport)
    }

    public func saveSuggestionSettings(_ s: SuggestionSettings) throws {
        guard (SuggestionSettings.heldOutDays + 1...730).contains(s.days) else {
            throw ChannelRefusal(422, "Suggestions are mined from \(SuggestionSettings.heldOutDays + 1) to 730 days of baskets (got \(s.days))")
        }
        guard (2...1_000_000).contains(s.minSupport) else { throw ChannelRefusal(422, "A pair must be in 2 to 1,000,000 baskets (got \(s.minSupport))") }
        try saveWholeOptions(["suggestion_days": s.days, "suggestion_support": s.minSupport])
    }

    /// Mines the suggestions now, for the chain and each store group with at least `groupMinimum`
    /// baskets, and publishes each scope's that changed; the runs. `progress` hears of each day read.
    @discardableResult
    public func mineSuggestions(by user: String, at time: Int64 = HeadOfficeStore.now(), groupMinimum: Int = SuggestionSettings.groupMinimum,
                                progress: (String) -> Void = { _ in }) throws -> [SuggestionRun] {
        let started = DispatchTime.now().uptimeNanoseconds
        let settings = try suggestionSettings()
        let today = time / 86_400_000
        let fromDay = today - settings.days + 1, testDay = today - SuggestionSettings.heldOutDays + 1
        let minerSettings = BasketMiner.Settings(minSupport: Int(settings.minSupport))
        struct Scope {
            var name: String
            var stores: Set<String>?
            var miner: BasketMiner
            var held: [[Substring]] = []
        }
        var scopes = [Scope(name: "chain", stores: nil, miner: BasketMiner(settings: minerSettings))]
        let groups = try database.read { c in try c.query("SELECT group_name, store_id FROM store_groups ORDER BY group_name", []) }
        for (name, rows) in Dictionary(grouping: groups, by: { $0.text("group_name") }).sorted(by: { $0.key < $1.key }) {
            scopes.append(Scope(name: "group:" + name, stores: Set(rows.map { $0.text("store_id") }), miner: BasketMiner(settings: minerSettings)))
        }
        // Day by day, oldest first: the days before the held-out week train, the held-out week is kept to test.
        for day in fromDay...today {
            let rows = try database.read { c in try c.query("SELECT store_id, skus FROM baskets WHERE day = ?", [.int(day)]) }
            if !rows.isEmpty { progress("day \(day - fromDay + 1) of \(settings.days): \(rows.count) baskets") }
            for r in rows {
                let line = r.text("skus"), store = r.text("store_id")
                for i in scopes.indices where scopes[i].stores?.contains(store) ?? true {
                    if day >= testDay { scopes[i].held.append(line.split(separator: ";")) } else { scopes[i].miner.add(line: line) }
                }
            }
        }
        var runs: [SuggestionRun] = []
        var sets: [(Scope, [String: [BasketMiner.Suggestion]])] = []
        for var s in scopes {
            guard s.stores == nil || s.miner.baskets + s.held.count >= groupMinimum else { continue }
            // Checked on the held-out days against the most popular items, then mined from every day.
            let trained = s.miner.suggestions(), popular = s.miner.popular(4)
            let hit = BasketMiner.hitRate(s.held, maxBasket: minerSettings.maxBasket) { trained[String($0)]?.map(\.sku) ?? [] }
            let base = BasketMiner.hitRate(s.held, maxBasket: minerSettings.maxBasket) { q in popular.filter { $0[...] != q } }
            for basket in s.held { s.miner.add(basket) }
            let bp = { (h: Int, q: Int) in q == 0 ? Int64(0) : Int64(h) * 10_000 / Int64(q) }
            runs.append(SuggestionRun(minedAt: time, scope: s.name, fromDay: fromDay, toDay: today, baskets: Int64(s.miner.baskets), items: Int64(s.miner.itemCount),
                                      pairs: Int64(s.miner.pairCount), miningMS: 0, queries: Int64(hit.queries), hitBP: bp(hit.hits, hit.queries),
                                      baselineBP: bp(base.hits, base.queries), version: nil, minedBy: user))
            sets.append((s, s.miner.suggestions()))
        }
        let elapsed = Int64((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)
        for i in runs.indices { runs[i].miningMS = elapsed }
        try database.write { c in
            for (i, (s, found)) in sets.enumerated() {
                let pairs = found.sorted { $0.key < $1.key }.flatMap { sku, list in
                    list.enumerated().map { (Self.unescapeCategory(sku[...]), Int64($0.offset + 1), Self.unescapeCategory($0.element.sku[...]),
                                             Int64($0.element.together), Int64(min(1e12, $0.element.lift * 1000))) }
                }
                let before = try c.query("SELECT sku, rank, also FROM suggestion_pairs WHERE scope = ? ORDER BY sku, rank", [.text(s.name)])
                let unchanged = before.count == pairs.count && zip(before, pairs).allSatisfy { $0.text("sku") == $1.0 && $0.int("rank") == $1.1 && $0.text("also") == $1.2 }
                try c.execute("DELETE FROM suggestion_pairs WHERE scope = ?", [.text(s.name)])
                try Self.insertRows(c, "INSERT INTO suggestion_pairs (scope, sku, rank, also, together, lift_milli)",
                                    pairs.map { [.text(s.name), .text($0.0), .int($0.1), .text($0.2), .int($0.3), .int($0.4)] })
                if !unchanged {
                    var items: [SuggestionSet.Item] = []
                    for p in pairs {
                        if items.last?.sku == p.0 { items[items.count - 1].also.append(p.2) } else { items.append(.init(sku: p.0, also: [p.2])) }
                    }
                    let scope = s.stores == nil ? PublicationScope.chain : PublicationScope(kind: .group, value: String(s.name.dropFirst("group:".count)))
                    let p = Publication(version: 0, kind: .suggestions, scope: scope, createdBy: user,
                                        note: "Suggestions for \(items.count) items from \(s.miner.baskets) baskets", createdAt: time, effectiveAt: time,
                                        suggestions: SuggestionSet(minedAt: time, baskets: Int64(s.miner.baskets), items: items))
                    runs[i].version = try insertPublication(p, c)
                }
                let r = runs[i]
                try c.execute("""
                    INSERT INTO suggestion_runs (mined_at, scope, from_day, to_day, baskets, items, pairs, mining_ms, queries, hit_bp, baseline_bp, version, mined_by)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (mined_at, scope) DO UPDATE SET baskets = excluded.baskets, version = excluded.version
                    """, [.int(r.minedAt), .text(r.scope), .int(r.fromDay), .int(r.toDay), .int(r.baskets), .int(r.items), .int(r.pairs), .int(r.miningMS),
                          .int(r.queries), .int(r.hitBP), .int(r.baselineBP), SQLValue(r.version), .text(r.minedBy)])
            }
            try c.execute("INSERT INTO options (name, value) VALUES ('suggestion_day', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                          [.text(String(today))])
        }
        return runs
    }

    /// The nightly mining, once a day (UTC), for the scheduler: nil when today's is done.
    public func mineDueSuggestions(at time: Int64 = HeadOfficeStore.now()) throws -> [SuggestionRun]? {
        let last = try database.read { c in try c.queryOne("SELECT value FROM options WHERE name = 'suggestion_day'", [])?.text("value") }
        guard last != String(time / 86_400_000) else { return nil }
        return try mineSuggestions(by: "nightly", at: time)
    }

    /// A lift kept in thousandths, as people read it ("2.35").
    public static func lift(_ milli: Int64) -> String {
        let hundredths = milli / 10
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }

    /// The latest runs, newest first.
    public func suggestionRuns(limit: Int = 20) throws -> [SuggestionRun] {
        try database.read { c in
            try c.query("SELECT * FROM suggestion_runs ORDER BY mined_at DESC, scope LIMIT ?", [.int(Int64(limit))]).map { r in
                SuggestionRun(minedAt: r.int("mined_at"), scope: r.text("scope"), fromDay: r.int("from_day"), toDay: r.int("to_day"), baskets: r.int("baskets"),
                              items: r.int("items"), pairs: r.int("pairs"), miningMS: r.int("mining_ms"), queries: r.int("queries"), hitBP: r.int("hit_bp"),
                              baselineBP: r.int("baseline_bp"), version: r["version"].int, minedBy: r.text("mined_by"))
            }
        }
    }

    /// A scope's suggestions, by item, strongest pairs first; `query` narrows to items whose SKU
    /// or description holds it.
    public func suggestionPairs(scope: String = "chain", query: String = "", limit: Int = 60) throws -> [SuggestionPair] {
        let like = "%" + Self.likeEscaped(String(query.trimmingCharacters(in: .whitespaces).prefix(100).lowercased())) + "%"
        return try database.read { c in
            try c.query("""
                SELECT p.sku, COALESCE(a.description, '') AS description, p.rank, p.also, COALESCE(b.description, '') AS also_description, p.together, p.lift_milli
                FROM suggestion_pairs p LEFT JOIN products a ON a.sku = p.sku LEFT JOIN products b ON b.sku = p.also
                WHERE p.scope = ? AND (LOWER(p.sku) LIKE ? ESCAPE '\\' OR LOWER(a.description) LIKE ? ESCAPE '\\')
                ORDER BY p.together DESC, p.sku, p.rank LIMIT ?
                """, [.text(scope), .text(like), .text(like), .int(Int64(limit))]).map { r in
                SuggestionPair(sku: r.text("sku"), description: r.text("description"), rank: r.int("rank"), also: r.text("also"),
                               alsoDescription: r.text("also_description"), together: r.int("together"), liftMilli: r.int("lift_milli"))
            }
        }
    }
}
