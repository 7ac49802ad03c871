import ArgumentParser
import Foundation
import TillCore
import TillDemo
import TillStore

/// `till-bench loyalty`: card lookup in a card cache of the seed programme's size, and the points
/// of a 50-line basket under a programme of 20 active rules.
struct LoyaltyScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loyalty",
        abstract: "Card lookup among 400,000 cached cards; points of a 50-line basket under 20 active rules.")

    @Option(help: "Cards in the card cache.") var cards = 400_000
    @Option(help: "Card lookups to time.") var lookups = 20_000
    @Option(help: "Baskets to compute the points of.") var baskets = 20_000
    @Option(help: "Lines per basket.") var lines = 50
    @Option(help: "Catalog size.") var items = DemoCatalog.defaultSize

    func run() throws {
        let scratch = ScratchDirectory()
        let db = try TillDatabase(path: scratch.path + "/till.sqlite")
        let products = DemoCatalog.products(count: items)
        try db.installDemo(products: products, staff: DemoCatalog.staff)
        let programme = try Self.programme(rules: 20)
        guard programme.validate().isEmpty else { throw ValidationError("bench programme invalid: \(programme.validate())") }
        try db.installProgramme(programme, at: 0)
        // The cards made one at a time as they are written (made and loaded, both timed): memory
        // stays bounded at any count.
        let loadStart = Date()
        try db.importCards(expected: cards) { insert in try DemoCatalog.forEachCard(members: cards, stock: 0, insert) }
        let load = Date().timeIntervalSince(loadStart)
        let now: Timestamp = 1_795_000_000_000
        let context = EarnContext(time: LocalDateTime(minutes: now / 60_000), storeID: "0001", tierCode: "SLV",
                                  priorPurchases: ["visit-5": 4, "dairy-3": 2, "bakery-10": 9])
        let active = programme.promotions.filter { programme.isActive($0, context) }.count
        let ruleCount = programme.bonuses.count + programme.quantityRules.count + programme.nthPurchaseRules.count + active

        var rng = SplitMix64(seed: 99)
        var lookup = Samples()
        for _ in 0..<lookups {
            let number = DemoCatalog.cardNumber(1 + Int(rng.next() % UInt64(cards)))
            // A blocked or lost card is an answer too (the demo cards 3 and 4).
            let found = lookup.time { () -> CardLookup? in try? db.lookupCard(number, programme: programme, now: now) }
            if case .notIssued = found { throw ValidationError("card \(number) not found") }
        }

        // Baskets of random products (the whole catalog, so every kind of rule meets lines).
        var prepared: [Basket] = []
        for _ in 0..<100 {
            var b = Basket(currency: .eur)
            for _ in 0..<lines {
                let p = products[Int(rng.next() % UInt64(products.count))]
                let item = LineItem(sku: p.sku, description: p.description, category: p.category, taxCode: p.taxCode, taxBasisPoints: 500,
                                    unitPrice: p.unitPrice, quantity: p.soldByWeight ? Quantity(milli: 750) : .units(1 + Int64(rng.next() % 3)),
                                    soldByWeight: p.soldByWeight)
                try b.apply(.addLine(item: item))
            }
            prepared.append(b)
        }
        var points = Samples()
        var total: Int64 = 0
        for i in 0..<baskets {
            let award = points.time { programme.award(for: prepared[i % prepared.count], context: context) }
            total &+= award.total.count
        }

        printTable("till-bench loyalty (\(cards) cards, \(ruleCount) active rules, \(lines)-line baskets)", [
            ("card cache load", "\(fixed(load, 2)) s  (target < 30 s for 4,000,000)"),
            ("card lookup p50 / p99 / max", "\(fixed(us(lookup.percentile(50)))) / \(fixed(us(lookup.percentile(99)))) / \(fixed(us(lookup.percentile(100)))) us  (target p99 < 1000 us)"),
            ("basket points p50 / p99 / max", "\(fixed(us(points.percentile(50)))) / \(fixed(us(points.percentile(99)))) / \(fixed(us(points.percentile(100)))) us  (target p99 < 500 us)"),
            ("mean points per basket", "\(total / Int64(max(1, baskets)))"),
        ])
        print(jsonLine([
            ("scenario", "loyalty"),
            ("cards", cards),
            ("card_load_s", load),
            ("card_lookup_p99_us", us(lookup.percentile(99))),
            ("points_p99_us", us(points.percentile(99))),
        ]))
    }

    /// The demo programme grown to `rules` active rules: category and product bonuses, quantity
    /// rules, Nth-purchase rules and promotions whose windows include the benchmark's time.
    static func programme(rules: Int) throws -> LoyaltyProgramme {
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(DemoCatalog.programme)) as! [String: Any]
        let categories = ["Dairy", "Bakery", "Produce", "Grocery", "Frozen", "Beverages", "Personal care", "Household"]
        json["bonuses"] = categories.enumerated().map { i, c -> [String: Any] in
            i % 3 == 2 ? ["id": "bonus-\(i)", "name": "\(c): 2 pts a unit", "categories": [c], "fixedPointsPerUnit": 2]
                : ["id": "bonus-\(i)", "name": "\(c) x\(i % 2 == 0 ? "2" : "1.5")", "categories": [c], "multiplierBP": i % 2 == 0 ? 20_000 : 15_000]
        }
        json["quantityRules"] = (0..<5).map { i -> [String: Any] in
            ["id": "qty-\(i)", "name": "3+ of D\(i): +25", "sku": "D" + String(repeating: "0", count: 9) + String(i + 1), "minQuantity": 3, "points": 25]
        }
        json["nthPurchaseRules"] = [
            ["id": "visit-5", "name": "Every 5th visit", "every": 5, "periodDays": 30, "points": 50],
            ["id": "dairy-3", "name": "Every 3rd dairy shop", "categories": ["Dairy"], "every": 3, "periodDays": 30, "points": 20],
            ["id": "bakery-10", "name": "Every 10th bakery shop", "categories": ["Bakery"], "every": 10, "periodDays": 60, "points": 40],
        ] as [[String: Any]]
        let left = rules - categories.count - 5 - 3
        json["promotions"] = (0..<left).map { i -> [String: Any] in
            var p: [String: Any] = ["id": "promo-\(i)", "name": "Promotion \(i)", "starts": "2026-01-01T00:00", "ends": "2028-01-01T00:00",
                                    "weekdays": [1, 2, 3, 4, 5, 6, 7], "stores": ["0001"]]
            if i % 2 == 0 { p["multiplierBP"] = 12_500 } else { p["bonusPoints"] = 5 }
            if i == 0 { p["timeFrom"] = "00:00"; p["timeTo"] = "23:59" }
            return p
        }
        return try JSONDecoder().decode(LoyaltyProgramme.self, from: JSONSerialization.data(withJSONObject: json))
    }
}
