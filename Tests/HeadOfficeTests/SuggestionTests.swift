import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillSync
import TillTestSupport

/// Cross-sell suggestions (issue 18): item-to-item association mined from the chain's baskets,
/// checked on a held-out week against the most popular items, published to the tills as data.
@Suite("Cross-sell suggestions", .serialized)
struct SuggestionTests {
    @Test func theMinerFindsThePlantedPairsAndPredictsBetterThanPopularity() throws {
        var generator = DemoBaskets(items: 2_000, seed: 3)
        var miner = BasketMiner(settings: .init(minSupport: 5))
        for _ in 0..<100_000 { miner.add(generator.next().map { $0[...] }) }
        let held = (0..<20_000).map { _ in generator.next().map { $0[...] } }
        let found = miner.suggestions()
        let planted = generator.plants.filter { p in found[p.trigger]?.contains { $0.sku == p.companion } ?? false }
        #expect(planted.count == generator.plants.count, "every planted pair is among its trigger's three suggestions")
        #expect(found.values.allSatisfy { $0.count <= 3 && $0.allSatisfy { $0.lift > 1 && $0.together >= 5 } })
        let popular = miner.popular(4)
        let hit = BasketMiner.hitRate(held, maxBasket: 40) { found[String($0)]?.map(\.sku) ?? [] }
        let base = BasketMiner.hitRate(held, maxBasket: 40) { q in popular.filter { $0[...] != q } }
        #expect(hit.queries == base.queries && hit.queries > 10_000)
        #expect(Double(hit.hits) >= 1.5 * Double(base.hits), "hit rate at 3 \(hit.hits)/\(hit.queries) against \(base.hits)/\(base.queries)")
    }

    @Test func countsAreExactAndLargeBasketsCountOnlyTowardsPopularity() throws {
        var miner = BasketMiner(settings: .init(minSupport: 2, maxBasket: 4))
        // Pasta and parmesan together 3 times, pasta alone once, a repeat counted once.
        for _ in 0..<3 { miner.add(["pasta", "parmesan", "pasta"]) }
        miner.add(["pasta"])
        miner.add(["water"])
        miner.add(["bread", "butter"])   // together once: below the support
        miner.add(["a", "b", "c", "d", "pasta"])   // over the cap: popularity only
        #expect(miner.baskets == 7 && miner.baskets(with: "pasta") == 5 && miner.baskets(with: "parmesan") == 3)
        #expect(miner.pairCount == 2, "pasta-parmesan and bread-butter; the large basket made none")
        let s = miner.suggestions()
        #expect(s["pasta"]?.map(\.sku) == ["parmesan"] && s["parmesan"]?.map(\.sku) == ["pasta"] && s["bread"] == nil)
        #expect(s["pasta"]?.first?.together == 3)
        // lift = 3 × 7 / (5 × 3) = 1.4
        #expect(abs((s["pasta"]?.first?.lift ?? 0) - 1.4) < 1e-9)
        #expect(miner.popular(2) == ["pasta", "parmesan"])
        #expect(BasketMiner.llr(k11: 10, k12: 0, k21: 0, k22: 10) > 27 && BasketMiner.llr(k11: 5, k12: 5, k21: 5, k22: 5) < 1e-9)
        #expect(HeadOfficeStore.lift(1_400) == "1.40" && HeadOfficeStore.lift(12_055) == "12.05" && HeadOfficeStore.lift(1_004) == "1.00")
    }

    @Test(arguments: Backend.allCases)
    func theChainsBasketsAreMinedPublishedOnceAndTheTillFollowsItsGroup(backend: Backend) throws {
        let dir = TemporaryDirectory("suggestions-\(backend)")
        let store = try makeHeadOffice(backend, dir)
        try store.importProducts(DemoCatalog.featured)
        let till = try TillSide(seed: 41)
        let day: Int64 = 86_400_000
        let start = (HeadOfficeStore.now() / day - 25) * day
        till.generator = SaleGenerator(database: till.db, till: till.identity, seed: 41, start: start)
        // Coffee beans bring milk into 60% of their baskets; 21 days of sales.
        till.generator.sales.companions = ["F0015": ("F0002", 60)]
        till.generator.sales.step = 21 * day / 700
        try till.generator.ring(700, redeemEvery: 0)
        _ = try store.ingest(try till.batch(), from: till.credential)
        while try store.rollUpReportsOnce() > 0 {}
        let baskets = try store.database.read { c in try c.queryOne("SELECT COUNT(*) AS n FROM baskets", [])!.int("n") }
        #expect(baskets == 700, "every sale's basket, members' or not")
        #expect(throws: PublicationError.self) { try store.publish(.suggestions, scope: .chain, by: "mia", note: "") }

        let now = start + 21 * day + 3_600_000
        let runs = try store.mineSuggestions(by: "mia", at: now, groupMinimum: 100)
        #expect(runs.map(\.scope) == ["chain"] && runs[0].baskets == 700 && runs[0].version != nil, "\(runs)")
        // Fourteen items: the three most popular are in most baskets already; the suggestions do as well as them.
        #expect(runs[0].queries > 100 && runs[0].hitBP > 5_000 && runs[0].hitBP * 10 >= runs[0].baselineBP * 9, "\(runs[0])")
        let pairs = try store.suggestionPairs(query: "coffee")
        #expect(pairs.first { $0.sku == "F0015" && $0.rank == 1 }?.also == "F0002", "\(pairs)")
        #expect(pairs.first?.description == "Coffee beans 500g" && pairs.first?.alsoDescription == "Milk 1L")
        #expect(try store.suggestionPairs(query: "%").isEmpty, "a % typed is a %")

        // The till: milk is what customers who buy coffee also buy.
        try till.db.receive(try store.updates(for: till.credential, after: .start, at: now), at: now)
        let applied = try till.db.applyPendingPublications(at: now)
        #expect(applied.contains { $0.summary.hasPrefix("Suggestions for ") && $0.problem == nil }, "\(applied.map(\.summary))")
        #expect(try till.db.suggestions(for: "F0015").first?.description == "Milk 1L")
        #expect(try till.db.suggestions(for: "F9999").isEmpty)

        // Mined again with nothing new: the same suggestions, nothing published.
        let again = try store.mineSuggestions(by: "nightly", at: now + 60_000, groupMinimum: 100)
        #expect(again.count == 1 && again[0].version == nil)
        #expect(try store.mineDueSuggestions(at: now + 120_000) == nil, "today's is done")
        #expect(try store.suggestionRuns().count == 2)

        // A store group with enough baskets gets its own; the chain's then no longer replace them at its tills.
        _ = try store.database.write { c in try c.execute("INSERT INTO store_groups (group_name, store_id) VALUES ('north', '0001')", []) }
        let grouped = try store.mineSuggestions(by: "mia", at: now + 180_000, groupMinimum: 100)
        #expect(grouped.map(\.scope) == ["chain", "group:north"] && grouped[0].version == nil && grouped[1].version != nil, "\(grouped)")
        func sync(_ time: Int64) throws -> [String] {
            try till.db.receive(try store.updates(for: till.credential, after: try till.db.receivedPublicationCursor(), at: time), at: time)
            return try till.db.applyPendingPublications(at: time).map(\.summary)
        }
        let groupApplied = try sync(now + 180_000)
        #expect(groupApplied.count == 1 && groupApplied[0].hasPrefix("Suggestions for ") && groupApplied[0].hasSuffix(" (group:north)"), "\(groupApplied)")
        // The chain's mined anew (its pairs forgotten): published, and the till keeps its group's.
        _ = try store.database.write { c in try c.execute("DELETE FROM suggestion_pairs WHERE scope = 'chain'", []) }
        let chainAgain = try store.mineSuggestions(by: "mia", at: now + 240_000, groupMinimum: 100)
        #expect(chainAgain[0].version != nil && chainAgain[1].version == nil)
        #expect(try sync(now + 240_000) == ["Suggestions for the chain: this till keeps those for group:north"])
        #expect(try till.db.suggestions(for: "F0015").first?.description == "Milk 1L")
        // Bounds of the settings.
        #expect(throws: ChannelRefusal.self) { try store.saveSuggestionSettings(SuggestionSettings(days: 7, minSupport: 5)) }
        #expect(throws: ChannelRefusal.self) { try store.saveSuggestionSettings(SuggestionSettings(days: 90, minSupport: 1)) }
    }

    /// A till of before this release names no kinds and cannot read a suggestions publication:
    /// head office never sends it one. This release's till names the kinds it reads and gets them.
    @Test func onlyATillThatReadsSuggestionsIsSentThem() async throws {
        let (dir, store, token, server) = try await ServerTests.serving(.sqlite)
        defer { Task { await server.stop() }; withExtendedLifetime(dir) {} }
        try store.importProducts(DemoCatalog.featured)
        let settings = try store.publish(.settings, scope: .chain, by: "it", note: "", settings: TerminalSettings(autoLockMinutes: 3))
        try store.database.write { c in
            try HeadOfficeStore.insertRows(c, "INSERT INTO baskets (day, store_id, skus)",
                                           (0..<120).map { i in [.int(HeadOfficeStore.now() / 86_400_000 - 10), .text("0001"), .text(["F0015;F0002", "F0005", "F0002"][i % 3])] })
        }
        let mined = try store.mineSuggestions(by: "mia")
        let version = try #require(mined.first?.version)
        let old = try await request("GET", server.url + "/api/v1/updates?after=0&from=0&wait=0", token: token.description)
        #expect(try JSONDecoder().decode(UpdateBatch.self, from: Data(old.body)).publications.map(\.version) == [settings.version])
        let named = try await request("GET", server.url + "/api/v1/updates?after=0&from=0&wait=0&kinds=settings,suggestions,games", token: token.description)
        #expect(try JSONDecoder().decode(UpdateBatch.self, from: Data(named.body)).publications.map(\.version) == [settings.version, version])
        let tooMany = try await request("GET", server.url + "/api/v1/updates?after=0&wait=0&kinds=" + String(repeating: "prices,", count: 60), token: token.description)
        #expect(tooMany.status == 400)
        for bad in ["Prices", "prices,,settings", "pr%C3%AFces", ""] {
            #expect(try await request("GET", server.url + "/api/v1/updates?after=0&wait=0&kinds=" + bad, token: token.description).status == 400, "\(bad)")
        }
        let here = try TillSide()
        let updates = UpdateService(link: ServerTests.link(server, token), database: here.db)
        #expect(try await onThread { try updates.pollOnce(wait: 0) } == 2)
        _ = try here.db.applyPendingPublications(at: 1)
        #expect(try here.db.suggestions(for: "F0015").first?.sku == "F0002")
    }
}
