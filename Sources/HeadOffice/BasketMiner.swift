import Foundation

/// Item-to-item association from baskets (each a set of SKUs): how many baskets hold each item and
/// each pair, then for each item the items found with it more often than chance (lift above 1),
/// each pair in at least `minSupport` baskets, ranked by how many of the item's baskets hold them
/// too (its confidence: what most often completes the basket; Dunning's log-likelihood ratio
/// breaks ties). Ranked by the log-likelihood ratio alone, an item's second and third suggestions
/// were rare items a little above chance, which the held-out week bought less often (on the
/// benchmark's baskets: hit rate at 3 20.7% against 26.5%). A basket of more than `maxBasket`
/// different items counts towards the items' popularity but not towards pairs: a stock-up
/// basket's hundreds of pairs say little about what goes together.
///
/// Counts are exact integers; only the scores that rank them are floating point (never money).
public struct BasketMiner: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Baskets a pair must be in to be suggested.
        public var minSupport: Int
        public var maxBasket: Int
        /// Suggestions kept per item.
        public var top: Int
        public init(minSupport: Int = 5, maxBasket: Int = 40, top: Int = 3) {
            self.minSupport = minSupport
            self.maxBasket = maxBasket
            self.top = top
        }
    }

    /// One suggestion: the item, the baskets with both, how many times more often than chance.
    public struct Suggestion: Sendable, Equatable {
        public var sku: String
        public var together: Int
        public var lift: Double
        public var llr: Double
    }

    public let settings: Settings
    private var ids: [Substring: Int32] = [:]
    public private(set) var names: [String] = []
    private var itemBaskets: [Int] = []
    private var pairs: [UInt64: Int32] = [:]
    /// Baskets added (with at least one item).
    public private(set) var baskets = 0
    private var scratch: [Int32] = []

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    public var itemCount: Int { names.count }
    public var pairCount: Int { pairs.count }

    /// The item's number, made on first sight.
    mutating func id(_ sku: Substring) -> Int32 {
        if let i = ids[sku] { return i }
        let i = Int32(names.count)
        let own = String(sku)
        ids[Substring(own)] = i
        names.append(own)
        itemBaskets.append(0)
        return i
    }

    /// Adds a basket: its items (repeats count once).
    public mutating func add<S: Sequence>(_ items: S) where S.Element == Substring {
        scratch.removeAll(keepingCapacity: true)
        for sku in items where !sku.isEmpty { scratch.append(id(sku)) }
        guard !scratch.isEmpty else { return }
        scratch.sort()
        var w = 0
        for i in scratch.indices where i == 0 || scratch[i] != scratch[i - 1] {
            scratch[w] = scratch[i]
            w += 1
        }
        scratch.removeSubrange(w...)
        baskets += 1
        for i in scratch { itemBaskets[Int(i)] += 1 }
        guard scratch.count >= 2, scratch.count <= settings.maxBasket else { return }
        for a in 0..<(scratch.count - 1) {
            let high = UInt64(UInt32(scratch[a])) << 32
            for b in (a + 1)..<scratch.count {
                pairs[high | UInt64(UInt32(scratch[b])), default: 0] += 1
            }
        }
    }

    /// Adds a basket kept as `sku;sku;…` (the sales' `skus`, escaped: escapes are kept as they are,
    /// which keeps different SKUs different; `unescape` gives the names back).
    public mutating func add(line: String) {
        add(line.split(separator: ";"))
    }

    /// How many baskets held the item.
    public func baskets(with sku: String) -> Int {
        ids[Substring(sku)].map { itemBaskets[Int($0)] } ?? 0
    }

    /// The items in the most baskets, most first (ties by SKU).
    public func popular(_ count: Int) -> [String] {
        var order = Array(names.indices)
        order.sort { (itemBaskets[$0], names[$1]) > (itemBaskets[$1], names[$0]) }
        return order.prefix(count).map { names[$0] }
    }

    /// For each item with any, its best `top` suggestions.
    public func suggestions() -> [String: [Suggestion]] {
        var candidates: [[Suggestion]] = Array(repeating: [], count: names.count)
        let n = Double(baskets)
        for (key, count) in pairs where Int(count) >= settings.minSupport {
            let a = Int(key >> 32), b = Int(key & 0xFFFF_FFFF)
            let k11 = Double(count), na = Double(itemBaskets[a]), nb = Double(itemBaskets[b])
            let lift = k11 * n / (na * nb)
            guard lift > 1 else { continue }
            let llr = Self.llr(k11: k11, k12: na - k11, k21: nb - k11, k22: n - na - nb + k11)
            candidates[a].append(Suggestion(sku: names[b], together: Int(count), lift: lift, llr: llr))
            candidates[b].append(Suggestion(sku: names[a], together: Int(count), lift: lift, llr: llr))
        }
        var out: [String: [Suggestion]] = [:]
        for (i, list) in candidates.enumerated() where !list.isEmpty {
            out[names[i]] = Array(list.sorted { ($0.together, $0.llr, $1.sku) > ($1.together, $1.llr, $0.sku) }.prefix(settings.top))
        }
        return out
    }

    /// Dunning's log-likelihood ratio of a 2×2 table of counts (as Mahout computes it).
    static func llr(k11: Double, k12: Double, k21: Double, k22: Double) -> Double {
        func xlx(_ x: Double) -> Double { x <= 0 ? 0 : x * log(x) }
        func entropy(_ xs: Double...) -> Double { xlx(xs.reduce(0, +)) - xs.reduce(0) { $0 + xlx($1) } }
        let row = entropy(k11 + k12, k21 + k22), column = entropy(k11 + k21, k12 + k22), matrix = entropy(k11, k12, k21, k22)
        return max(0, 2 * (row + column - matrix))
    }

    /// How well suggestions predict: over `baskets` (each a set of SKUs), for every item of every
    /// basket of two or more (at most `maxBasket` of them), whether one of the item's suggestions
    /// (at most 3) is among the basket's other items: the hits and the tries. `suggest` gives an
    /// item's suggestions.
    public static func hitRate(_ baskets: [[Substring]], maxBasket: Int, suggest: (Substring) -> [String]) -> (hits: Int, queries: Int) {
        var hits = 0, queries = 0
        for basket in baskets {
            let items = Set(basket.filter { !$0.isEmpty })
            guard items.count >= 2, items.count <= maxBasket else { continue }
            for q in items {
                queries += 1
                if suggest(q).prefix(3).contains(where: { $0[...] != q && items.contains($0[...]) }) { hits += 1 }
            }
        }
        return (hits, queries)
    }
}
