import ArgumentParser
import Dispatch
import Foundation
import HeadOffice
import TillCore
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
        let challenge = try challengeEvaluation()
        printTable("Cross-sell mining (SQLite, release build)", [
            ("baskets", "\(chain.baskets) over \(days) days, \(items) items, \(generator.plants.count) planted pairs (30%)"),
            ("loaded", "\(fixed(loaded)) s (straight into the table)"),
            ("mining", "\(fixed(seconds, 2)) s (read, count \(chain.pairs) pairs, score, check, publish version \(chain.version.map(String.init) ?? "-"))"),
            ("planted pairs found", "\(found) of \(generator.plants.count)"),
            ("hit rate at 3", "\(fixed(hit * 100, 2))% against \(fixed(baseline * 100, 2))% for the most popular items (\(chain.queries) tries, held-out week)"),
            ("challenge evaluation at the till", "p50 \(fixed(us(challenge.percentile(50)))) / p99 \(fixed(us(challenge.percentile(99)))) us a sale: 5 challenges, 60 earlier sales in each, 30 lines (target p99 < 200 us)"),
        ])
        print(jsonLine([("scenario", "engagement"), ("baskets", Int(chain.baskets)), ("mining_s", seconds), ("hit_rate_at_3", hit),
                        ("baseline_hit_rate_at_3", baseline), ("planted_found", found), ("planted", generator.plants.count), ("challenge_eval_us", us(challenge.percentile(99)))]))
    }
}

extension EngagementScenario {
    /// A member's progress in five challenges (a rolling 30 days, a week, a month, a streak, spend
    /// in a month), each with 60 earlier sales, for a 30-line basket: what the till works out at
    /// every line and at the sale's end.
    func challengeEvaluation() throws -> Samples {
        let m = LocalDateTime(epochMillis: HeadOfficeStore.now(), utcOffsetSeconds: 0).minutes
        func challenge(_ id: String, _ window: Challenge.Window, _ measure: Challenge.Measure = .visits, length: Int64 = 0, target: Int64 = 20) -> Challenge {
            Challenge(id: id, name: id, measure: measure, categories: ["Grocery", "Dairy"], target: target, window: window, length: length, maxCompletions: 5,
                      rewardPoints: 100, starts: "2020-01-01T00:00", ends: "2100-01-01T00:00")
        }
        var programme = DemoCatalog.programme
        programme.challenges = [challenge("days", .days, length: 30), challenge("week", .week), challenge("month", .month),
                                challenge("streak", .streak, length: 8, target: 1), challenge("spend", .month, .spend, target: 50_000)]
        var customer = SaleCustomer(cardNumber: DemoCatalog.cardNumber(1), customerID: "M1", name: "Anna", tierCode: nil, tierName: nil, balance: 0,
                                    qualifying: 0, offlineLeft: nil, provisional: false)
        customer.challenges = programme.challenges.map { ch in
            ChallengeRecord(id: ch.id, completions: 1, lastCompletedAt: m - 60 * 1440,
                            events: (0..<60).map { ChallengeEvent(sale: "s\($0)", at: m - Int64($0) * 720, amount: ch.measure == .spend ? 1_250 : 1) })
        }
        let products = DemoCatalog.featured.filter { !$0.soldByWeight }
        var sale = OpenSale(id: "bench", startedAt: 0, cashier: DemoCatalog.cashier, currency: .eur)
        for i in 0..<30 {
            let p = products[i % products.count]
            sale = try sale.trying(.addLine(item: LineItem(sku: p.sku, description: p.description, category: p.category, taxCode: p.taxCode,
                                                           taxBasisPoints: 0, unitPrice: p.unitPrice, quantity: .units(1), code: p.barcodes.first ?? p.plu)))
        }
        var samples = Samples()
        var shown = 0
        for _ in 0..<20_000 {
            samples.time {
                shown += programme.challengeProgress(lines: sale.basket.challengeLines, saleID: "bench", customer: customer, time: LocalDateTime(minutes: m)).count
            }
        }
        guard shown == 20_000 * 5 else { throw ValidationError("the challenges were not all evaluated (\(shown) shown)") }
        return samples
    }
}
