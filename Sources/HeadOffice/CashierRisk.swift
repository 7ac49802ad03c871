import Foundation
import TillCore

/// A cashier's day (or period) against their store's norm (issue 19, "daily cashier risk"): voids
/// per 100 lines rung, price overrides per 100 items sold, refunds per 100 sales — each as the
/// cashier's rate and how many times the store's rate it is (the store's norm: all its cashiers
/// together). A cashier is ranked by their highest ratio among the figures with at least
/// `minimumCount` events (a void or two is no pattern); 2× the norm or more is flagged.
public struct CashierRisk: Sendable, Equatable {
    public struct Figure: Sendable, Equatable {
        public var name: String
        public var count: Int64
        /// The cashier's rate and the store's, per 10,000 (basis points of "per 100").
        public var rateBP: Int64, normBP: Int64
        /// The cashier's rate as a percentage of the store's (100: the norm); nil when the store has none.
        public var ratioPercent: Int64?
    }
    public var store: String, cashier: String, sales: Int64
    public var figures: [Figure]
    /// The highest ratio among the figures that count (0: none does).
    public var scorePercent: Int64
    public var flagged: Bool { scorePercent >= 200 }

    public static let minimumCount: Int64 = 3

    /// Each store's cashiers, highest score first (then by cashier).
    public static func rank(_ rows: [CashierFigures]) -> [CashierRisk] {
        var out: [CashierRisk] = []
        for (store, cashiers) in Dictionary(grouping: rows, by: \.store).sorted(by: { $0.key < $1.key }) {
            func sum(_ f: (CashierFigures) -> Int64) -> Int64 { cashiers.reduce(0) { $0.addingClamped(f($1)) } }
            let storeVoids = sum(\.voids), storeLines = sum(\.items).addingClamped(storeVoids)
            let storeOverrides = sum(\.overrides), storeItems = sum(\.items), storeRefunds = sum(\.refunds), storeSales = sum(\.sales)
            func rate(_ n: Int64, _ base: Int64) -> Int64 { base > 0 ? MinorUnits.mulDivTruncating(n, 10_000, base)?.quotient ?? 0 : 0 }
            let ranked = cashiers.map { c -> CashierRisk in
                func figure(_ name: String, _ n: Int64, _ base: Int64, _ storeN: Int64, _ storeBase: Int64) -> Figure {
                    let r = rate(n, base), norm = rate(storeN, storeBase)
                    return Figure(name: name, count: n, rateBP: r, normBP: norm, ratioPercent: norm > 0 ? MinorUnits.mulDivTruncating(r, 100, norm)?.quotient : nil)
                }
                let figures = [figure("voids per 100 lines", c.voids, c.items.addingClamped(c.voids), storeVoids, storeLines),
                               figure("overrides per 100 items", c.overrides, c.items, storeOverrides, storeItems),
                               figure("refunds per 100 sales", c.refunds, c.sales, storeRefunds, storeSales)]
                let score = figures.filter { $0.count >= minimumCount }.compactMap(\.ratioPercent).max() ?? 0
                return CashierRisk(store: store, cashier: c.cashier, sales: c.sales, figures: figures, scorePercent: score)
            }
            out += ranked.sorted { ($0.scorePercent, $1.cashier) > ($1.scorePercent, $0.cashier) }
        }
        return out
    }
}
