import Foundation
import Hummingbird
import TillProtocol

/// The cross-sell suggestions page (admin and marketing): the mining runs with how well each
/// predicted its held-out week against the most popular items, the suggestions in force (searchable),
/// the mining's settings, and mining now.
extension HeadOfficeServer {
    struct SuggestionForm: Decodable { var days: String?, minSupport: String? }

    func addSuggestionPages(_ router: RouterGroup<HeadOfficeContext>) {
        router.get("/suggestions") { request, context -> Response in
            try await page(context, roles: Self.coalitionRoles) { session in
                try await suggestionsPage(session, query: String(formField(request, "q").prefix(100)), scope: String(formField(request, "scope").prefix(60)))
            }
        }
        router.post("/suggestions") { _, context -> Response in
            try await post(context, roles: Self.coalitionRoles) { session, posted in
                let f = try posted.decode(SuggestionForm.self)
                let text = { (s: String?) in (s ?? "").trimmingCharacters(in: .whitespaces) }
                guard let days = Int64(text(f.days)), let support = Int64(text(f.minSupport)) else {
                    return try await suggestionsPage(session, notice: ("Days '\(text(f.days).prefix(20))' and baskets '\(text(f.minSupport).prefix(20))' must be whole numbers", true),
                                                     status: .unprocessableContent, keyed: (text(f.days), text(f.minSupport)))
                }
                do {
                    try await work.run { [store] in try store.saveSuggestionSettings(SuggestionSettings(days: days, minSupport: support)) }
                    return try await suggestionsPage(session, notice: ("Suggestions are now mined from \(days) days of baskets, a pair in at least \(support) of them.", false))
                } catch let e as ChannelRefusal {
                    return try await suggestionsPage(session, notice: (e.message, true), status: .unprocessableContent, keyed: (text(f.days), text(f.minSupport)))
                }
            }
        }
        router.post("/suggestions/mine") { _, context -> Response in
            try await post(context, roles: Self.coalitionRoles) { session, _ in
                let runs = try await work.run { [store] in try store.mineSuggestions(by: session.user.username) }
                let said = runs.map { r in "\(r.scope): \(r.baskets) baskets, " + (r.version.map { "published as version \($0)" } ?? "unchanged") }
                return try await suggestionsPage(session, notice: (runs.isEmpty ? "There were no baskets to mine." : "Mined. " + said.joined(separator: "; ") + ".", false))
            }
        }
    }

    func suggestionsPage(_ session: BackOfficeSession, query: String = "", scope: String = "", notice: (String, Bool)? = nil,
                         status: HTTPResponse.Status = .ok, keyed: (String, String)? = nil) async throws -> Response {
        let wanted = scope.isEmpty ? "chain" : scope
        let (runs, pairs, settings) = try await work.run { [store] in
            (try store.suggestionRuns(), try store.suggestionPairs(scope: wanted, query: query), try store.suggestionSettings())
        }
        var page = SuggestionsPage(session: session, runs: runs, pairs: pairs, settings: settings, query: query, scope: wanted, notice: notice)
        if let keyed { (page.days, page.minSupport) = keyed }
        return render(status, "suggestions", page)
    }
}

struct SuggestionsPage: Sendable {
    struct Run: Sendable {
        var when: String, scope: String, baskets: Int64, items: Int64, pairs: Int64, seconds: String, queries: Int64
        var hit: String, baseline: String, better: Bool, published: String, by: String
    }
    struct Pair: Sendable { var sku: String, description: String, rank: Int64, also: String, alsoDescription: String, together: Int64, lift: String }
    struct Scope: Sendable { var name: String, selected: Bool }
    var frame: Frame
    var runs: [Run], anyRuns: Bool
    var pairs: [Pair], anyPairs: Bool
    var scopes: [Scope]
    var query: String
    var days: String, minSupport: String
    var heldOutDays = SuggestionSettings.heldOutDays

    init(session: BackOfficeSession, runs: [SuggestionRun], pairs: [SuggestionPair], settings: SuggestionSettings, query: String, scope: String,
         notice: (String, Bool)?) {
        frame = Frame("Suggestions", session: session, active: "/suggestions", notice: notice)
        let utc = TimeZone(identifier: "UTC")!
        self.runs = runs.map { r in
            Run(when: String(ProtocolTime.format(r.minedAt, timeZone: utc).prefix(16)).replacingOccurrences(of: "T", with: " "), scope: r.scope,
                baskets: r.baskets, items: r.items, pairs: r.pairs, seconds: String(format: "%.1f", Double(r.miningMS) / 1000), queries: r.queries,
                hit: HeadOfficeStore.percent(r.hitBP), baseline: HeadOfficeStore.percent(r.baselineBP), better: r.hitBP > r.baselineBP,
                published: r.version.map { "version \($0)" } ?? "unchanged", by: r.minedBy)
        }
        anyRuns = !runs.isEmpty
        self.pairs = pairs.map { Pair(sku: $0.sku, description: $0.description, rank: $0.rank, also: $0.also, alsoDescription: $0.alsoDescription,
                                      together: $0.together, lift: HeadOfficeStore.lift($0.liftMilli)) }
        anyPairs = !pairs.isEmpty
        var names = ["chain"] + Set(runs.map(\.scope)).subtracting(["chain"]).sorted()
        if !names.contains(scope) { names.append(scope) }
        scopes = names.map { Scope(name: $0, selected: $0 == scope) }
        self.query = query
        days = String(settings.days)
        minSupport = String(settings.minSupport)
    }
}
