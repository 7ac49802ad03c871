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

    public init(id: String, name: String, multiplierBP: Int64? = nil, bonusPoints: Int64? = nil, skus: [String] = [], categories: [String] = [],
                minSpend: Int64 = 0, validFrom: Int64, validTo: Int64, stores: [String] = [], uses: Int64 = 1, mustActivate: Bool? = nil) {
        self.mustActivate = mustActivate
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

    /// What it gives, in a few words (the till's screen, the receipt, the e-mail).
    public var summary: String {
        var parts: [String] = []
        if let m = multiplierBP, m > 10_000 { parts.append("\(m / 10_000)\(m % 10_000 == 0 ? "" : ".\(m % 10_000 / 1_000)")× points") }
        if let b = bonusPoints, b > 0 { parts.append("+\(b) points") }
        let on = skus.isEmpty && categories.isEmpty ? "" : " on " + (categories + skus).joined(separator: ", ")
        return parts.joined(separator: " and ") + on
    }
}

extension LoyaltyOutcome {
    /// The member's offers still open after this sale: those the till knew at the card scan, less
    /// the use this sale made of each; the soonest to end first, at most 20.
    public var openOffers: [(offer: PersonalOffer, usesLeft: Int64)] {
        let used = Set(earned.parts.compactMap { PersonalOffer.id(ofRule: $0.rule) })
        return customer.offers.map { ($0, $0.uses - (used.contains($0.id) ? 1 : 0)) }.filter { $0.1 > 0 }
            .sorted { ($0.0.validTo, $0.0.id) < ($1.0.validTo, $1.0.id) }.prefix(20).map { $0 }
    }
}
