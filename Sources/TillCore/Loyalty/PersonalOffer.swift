/// A member's personal offer, from a campaign: bonus points on some SKUs or categories (or the
/// whole basket when it names none) — the base rate's points again times a multiple, a fixed
/// number of points, or both — when the matching lines come to at least `minSpend`, at the named
/// stores (all when none), between two times, up to `uses` sales per member. The tills apply it
/// by themselves, offline too; head office computes the same and counts the uses.
public struct PersonalOffer: Hashable, Sendable, Codable {
    public var id: String
    public var name: String
    /// The multiple of the base rate on matching lines, in basis points (30000 = 3× the points,
    /// 2× more than the base); nil or ≤ 10000: none.
    public var multiplierBP: Int64?
    /// Points given once per sale that qualifies.
    public var bonusPoints: Int64?
    public var skus: [String]
    public var categories: [String]
    /// Least net of the matching lines (minor units).
    public var minSpend: Int64
    /// Epoch milliseconds.
    public var validFrom: Int64
    public var validTo: Int64
    public var stores: [String]
    /// Sales per member it can be used in.
    public var uses: Int64
    /// Given only to members who activate it (on their page, or by following the e-mail's link).
    public var mustActivate: Bool?
    /// Percent off its lines, in basis points (1000 = 10% off).
    public var percentOffBP: Int64?
    /// An amount off its lines once per sale (minor units), spread over them in proportion.
    public var amountOff: Int64?
    /// One unit of its cheapest item free (the offer names the items).
    public var freeItem: Bool?

    public init(id: String, name: String, multiplierBP: Int64? = nil, bonusPoints: Int64? = nil, skus: [String] = [], categories: [String] = [],
                minSpend: Int64 = 0, validFrom: Int64, validTo: Int64, stores: [String] = [], uses: Int64 = 1, mustActivate: Bool? = nil,
                percentOffBP: Int64? = nil, amountOff: Int64? = nil, freeItem: Bool? = nil) {
        self.mustActivate = mustActivate
        self.percentOffBP = percentOffBP
        self.amountOff = amountOff
        self.freeItem = freeItem
        self.id = id
        self.name = name
        self.multiplierBP = multiplierBP
        self.bonusPoints = bonusPoints
        self.skus = skus
        self.categories = categories
        self.minSpend = minSpend
        self.validFrom = validFrom
        self.validTo = validTo
        self.stores = stores
        self.uses = uses
    }

    /// The rule name its points carry in an award, a document and the ledger.
    public var rule: String { "offer:" + id }

    /// Whether it can be used at `store` at `time` (epoch ms).
    public func isValid(at time: Int64, store: String) -> Bool {
        time >= validFrom && time < validTo && (stores.isEmpty || stores.contains(store))
    }

    /// The offer's id in an award part's rule, or nil for another rule.
    public static func id(ofRule rule: String) -> String? { rule.hasPrefix("offer:") ? String(rule.dropFirst(6)) : nil }

    /// Whether it takes money off the sale (a percent, an amount or a free item) rather than giving points.
    public var givesDiscount: Bool { (percentOffBP ?? 0) > 0 || (amountOff ?? 0) > 0 || freeItem == true }

    /// What it gives, in a few words (the till's screen, the receipt, the e-mail).
    public func summary(currency: Currency) -> String {
        var parts: [String] = []
        if let m = multiplierBP, m > 10_000 { parts.append("\(m / 10_000)\(m % 10_000 == 0 ? "" : ".\(m % 10_000 / 1_000)")× points") }
        if let b = bonusPoints, b > 0 { parts.append("+\(b) points") }
        if let p = percentOffBP, p > 0 { parts.append("\(TaxRate(code: "", basisPoints: p).percentText) off") }
        if let a = amountOff, a > 0 { parts.append("\(currency.format(a)) off") }
        let named = (categories + skus).joined(separator: ", ")
        if freeItem == true { parts.append("a free " + (named.isEmpty ? "item" : named)) }
        let on = named.isEmpty || freeItem == true ? "" : " on " + named
        let minimum = minSpend > 0 ? " when you spend \(currency.format(minSpend))" : ""
        return parts.joined(separator: " and ") + on + minimum
    }

    /// What it takes off each line of a sale (by index in `lines`), given what each line comes to
    /// so far (`nets`: after line discounts and earlier offers); empty when the sale does not
    /// qualify. A percent comes off each of its lines, rounded; an amount is spread over its lines
    /// in proportion (the shares add up to it exactly); a free item is one unit of the cheapest of
    /// its items sold by the unit. The minimum spend counts its lines, or the whole sale for a free item.
    public func discounts(_ lines: [BasketLine], nets: [Int64]) -> [(index: Int, amount: Int64)] {
        guard givesDiscount else { return [] }
        let all = lines.indices.filter { !lines[$0].voided && nets[$0] > 0 }
        let named = skus.isEmpty && categories.isEmpty
        let mine = all.filter { named || skus.contains(lines[$0].item.sku) || categories.contains(lines[$0].item.category) }
        guard !mine.isEmpty, let spend = MinorUnits.sum((freeItem == true ? all : mine).map { nets[$0] }), spend >= minSpend else { return [] }
        if freeItem == true {
            guard !named, let i = mine.filter({ !lines[$0].item.soldByWeight })
                .min(by: { (lines[$0].item.unitPrice, $0) < (lines[$1].item.unitPrice, $1) }) else { return [] }
            return [(i, min(lines[i].item.unitPrice, nets[i]))]
        }
        if let bp = percentOffBP, bp > 0 {
            return mine.compactMap { i in
                let off = min(nets[i], MinorUnits.mulDivRounded(nets[i], min(bp, 10_000), 10_000) ?? 0)
                return off > 0 ? (i, off) : nil
            }
        }
        guard let amount = amountOff, amount > 0, let mineTotal = MinorUnits.sum(mine.map { nets[$0] }) else { return [] }
        let shares = MinorUnits.shares(of: min(amount, mineTotal), over: mine.map { nets[$0] })
        return zip(mine, shares).filter { $0.1 > 0 }.map { ($0.0, $0.1) }
    }
}

extension LoyaltyOutcome {
    /// The offers this sale used: those it earned points by, and those that took money off it.
    public var offersUsed: Set<String> {
        Set(earned.parts.compactMap { PersonalOffer.id(ofRule: $0.rule) }).union(discountOffers)
    }

    /// The member's offers still open after this sale: those the till knew at the card scan, less
    /// the use this sale made of each; the soonest to end first, at most 20.
    public var openOffers: [(offer: PersonalOffer, usesLeft: Int64)] {
        let used = offersUsed
        return customer.offers.map { ($0, $0.uses - (used.contains($0.id) ? 1 : 0)) }.filter { $0.1 > 0 }
            .sorted { ($0.0.validTo, $0.0.id) < ($1.0.validTo, $1.0.id) }.prefix(20).map { $0 }
    }
}
