import ArgumentParser
import Dispatch
import Foundation
import HeadOffice
import TillDemo

/// `till-bench engagement`: head office's nightly cross-sell mining over a chain's baskets with
/// planted associations (`DemoBaskets`): the whole run as head office makes it (reading the
/// baskets day by day from its database, counting, scoring, checking on the held-out week,
/// publishing), and how well the suggestions predicted the held-out week against the most popular items.
struct EngagementScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engagement",
        abstract: "Cross-sell mining of 1,000,000 baskets with planted associations: its time, and hit rate at 3 against the most popular items.")

    @Option(help: "Baskets loaded at head office (SQLite), over the days mined.") var baskets = 1_000_000
    @Option(help: "Items in the range.") var items = 2_000
    @Option(help: "Days of baskets (the last 7 held out to check the suggestions).") var days: Int64 = 35

    func run() throws {
        let scratch = ScratchDirectory()
        let store = try HeadOfficeStore(database: try SQLiteDatabase(path: scratch.path + "/headoffice.sqlite"))
        let now = HeadOfficeStore.now(), today = now / 86_400_000
        var generator = DemoBaskets(items: items)
        var rows: [(day: Int64, store: String, skus: [String])] = []
        rows.reserveCapacity(baskets)
        for i in 0..<baskets {
            rows.append((today - days + 1 + Int64(i) * days / Int64(max(1, baskets)), "000\(1 + i % 4)", generator.next()))
        }
        let loadStart = Date()
        try store.loadSyntheticBaskets(rows)
        let loaded = Date().timeIntervalSince(loadStart)
        try store.saveSuggestionSettings(SuggestionSettings(days: days, minSupport: 5))
        let t0 = DispatchTime.now().uptimeNanoseconds
        let runs = try store.mineSuggestions(by: "bench", at: now)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        guard let chain = runs.first(where: { $0.scope == "chain" }) else { throw ValidationError("the mining found no baskets") }
        // The planted pairs found: the companion among the trigger's three suggestions.
        let pairs = try store.suggestionPairs(scope: "chain", limit: 1_000_000)
        var suggested: [String: Set<String>] = [:]
        for p in pairs { suggested[p.sku, default: []].insert(p.also) }
        let found = generator.plants.filter { suggested[$0.trigger]?.contains($0.companion) ?? false }.count
        let hit = Double(chain.hitBP) / 10_000, baseline = Double(chain.baselineBP) / 10_000
        printTable("Cross-sell mining (SQLite, release build)", [
            ("baskets", "\(chain.baskets) over \(days) days, \(items) items, \(generator.plants.count) planted pairs (30%)"),
            ("loaded", "\(fixed(loaded)) s (straight into the table)"),
            ("mining", "\(fixed(seconds, 2)) s (read, count \(chain.pairs) pairs, score, check, publish version \(chain.version.map(String.init) ?? "-"))"),
            ("planted pairs found", "\(found) of \(generator.plants.count)"),
            ("hit rate at 3", "\(fixed(hit * 100, 2))% against \(fixed(baseline * 100, 2))% for the most popular items (\(chain.queries) tries, held-out week)"),
            ("challenge evaluation", "not measured: challenges are not built yet"),
        ])
        print(jsonLine([("scenario", "engagement"), ("baskets", Int(chain.baskets)), ("mining_s", seconds), ("hit_rate_at_3", hit),
                        ("baseline_hit_rate_at_3", baseline), ("planted_found", found), ("planted", generator.plants.count), ("challenge_eval_us", NSNull())]))
    }
}
