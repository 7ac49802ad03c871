/// Baskets as a chain's tills ring them, for the cross-sell mining's benchmark and tests: SKUs of
/// the demo's generated range (`D0000000001`…), a few popular and many rarely bought, 1 to 8 of them
/// a basket; and planted associations (known ground truth): a basket with the trigger also holds
/// the companion `percent` times in a hundred. Deterministic for a seed.
public struct DemoBaskets: Sendable {
    public struct Plant: Sendable, Equatable {
        public var trigger: String, companion: String, percent: UInt64
        public init(trigger: String, companion: String, percent: UInt64) {
            self.trigger = trigger
            self.companion = companion
            self.percent = percent
        }
    }

    public let items: Int
    public let plants: [Plant]
    private let byTrigger: [String: [Plant]]
    private var rng: SplitMix64

    /// `plants` nil: one item in three (every third from the tenth) has a companion, in 30% of its baskets.
    public init(items: Int = 2_000, plants: [Plant]? = nil, seed: UInt64 = 7) {
        let n = max(2, items)
        self.items = n
        let planted = plants ?? stride(from: 9, to: n, by: 3).map { i in
            let c = (i * 7 + 13) % n
            return Plant(trigger: Self.sku(i), companion: Self.sku(c == i ? (i + 1) % n : c), percent: 30)
        }
        self.plants = planted
        byTrigger = Dictionary(grouping: planted, by: \.trigger)
        rng = SplitMix64(seed: seed)
    }

    /// The demo range's SKU of item `i` (0-based), as `DemoCatalog.products` numbers them.
    public static func sku(_ i: Int) -> String {
        let s = String(i + 1)
        return "D" + String(repeating: "0", count: max(0, 10 - s.count)) + s
    }

    /// The next basket: its distinct SKUs.
    public mutating func next() -> [String] {
        var basket: [String] = []
        for _ in 0..<(1 + Int(rng.next() % 8)) {
            // Popularity falls with the item's number: u² of a uniform u.
            let u = Double(rng.next() >> 11) / Double(1 << 53)
            let s = Self.sku(min(items - 1, Int(u * u * Double(items))))
            if !basket.contains(s) { basket.append(s) }
        }
        for s in basket {
            for p in byTrigger[s] ?? [] where rng.next() % 100 < p.percent && !basket.contains(p.companion) { basket.append(p.companion) }
        }
        return basket
    }
}
