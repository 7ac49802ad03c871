/// What an award is computed against besides the basket: when and where the sale happens, the
/// member's tier, and their earlier purchases for Nth-purchase rules.
public struct EarnContext: Hashable, Sendable, Codable {
    public var time: LocalDateTime
    public var storeID: String
    public var tierCode: String?
    /// Rule id → qualifying purchases this member made in that rule's period, before this sale.
    public var priorPurchases: [String: Int64]
    /// The member's personal offers usable in this sale (valid here and now, uses left).
    public var offers: [PersonalOffer]

    public init(time: LocalDateTime, storeID: String, tierCode: String?, priorPurchases: [String: Int64] = [:], offers: [PersonalOffer] = []) {
        self.time = time
        self.storeID = storeID
        self.tierCode = tierCode
        self.priorPurchases = priorPurchases
        self.offers = offers
    }
}

extension LocalDateTime: Codable {
    public init(from decoder: any Decoder) throws { minutes = try decoder.singleValueContainer().decode(Int64.self) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(minutes)
    }
}

/// Points earned, rule by rule: every part names the rule that produced it.
public struct PointsAward: Hashable, Sendable, Codable {
    public struct Part: Hashable, Sendable, Codable {
        public var rule: String
        public var label: String
        public var points: Points
        public init(rule: String, label: String, points: Points) {
            self.rule = rule
            self.label = label
            self.points = points
        }
    }

    public var parts: [Part]
    public var total: Points { parts.sum(\.points) }
    public init(parts: [Part]) { self.parts = parts }
}

/// Why points could not be redeemed. Messages quote the numbers and say what to do.
public enum RedemptionError: Error, Equatable, Sendable, CustomStringConvertible {
    case noCustomer
    case belowMinimum(points: Points, minimum: Points)
    case aboveBalance(points: Points, available: Points)
    case aboveShare(amount: Money, limit: Money, shareText: String)
    case aboveOfflineCap(points: Points, left: Points)
    case nothingToRedeem

    public var description: String {
        switch self {
        case .noCustomer: "Scan the customer's loyalty card before paying with points"
        case .belowMinimum(let p, let m): "\(p) points is below the minimum of \(m) points that can be redeemed"
        case .aboveBalance(let p, let a): "\(p) points is more than the \(a) points the card has available"
        case .aboveShare(let amount, let limit, let share): "\(amount) in points is more than the \(share) of this sale points may pay (\(limit)): key a smaller amount"
        case .aboveOfflineCap(let p, let left): "\(p) points is more than the \(left) points this card may redeem until head office confirms its balance"
        case .nothingToRedeem: "There is nothing this card can pay with points now"
        }
    }
}

extension LoyaltyProgramme {
    var moneyCurrency: Currency { Currency(code: currency) ?? .eur }

    // MARK: Earning

    /// The points a basket earns, rule by rule. Never negative; voided and excluded lines earn
    /// nothing, and bonuses apply only to lines that earn.
    public func award(for basket: Basket, context: EarnContext) -> PointsAward {
        let c = moneyCurrency
        var parts: [PointsAward.Part] = []
        var eligible: [(line: BasketLine, net: Int64)] = []
        for (line, a) in zip(basket.lines, basket.totals.lines) where !line.voided && a.net > 0 {
            if earn.excludedCategories.contains(line.item.category) || earn.excludedSKUs.contains(line.item.sku) { continue }
            eligible.append((line, a.net))
        }
        let eligibleNet = eligible.reduce(0) { $0 + $1.net }
        let base = Points(divide(eligibleNet * earn.pointsPerUnit.count, earn.unitMinor))
        if base > 0 || !eligible.isEmpty {
            parts.append(.init(rule: "base", label: "\(earn.pointsPerUnit) pt per \(c.format(earn.unitMinor)) on \(c.format(eligibleNet))", points: base))
        }
        for b in bonuses {
            let matching = eligible.filter { b.skus.contains($0.line.item.sku) || b.categories.contains($0.line.item.category) }
            guard !matching.isEmpty else { continue }
            var points: Points = 0
            if let m = b.multiplierBP, m > 10_000 {
                let net = matching.reduce(0) { $0 + $1.net }
                points += Points(divide(net * earn.pointsPerUnit.count, earn.unitMinor, times: m - 10_000))
            }
            if let f = b.fixedPointsPerUnit {
                points += Points(f.count * matching.reduce(0) { $0 + ($1.line.item.soldByWeight ? 1 : $1.line.item.quantity.wholeUnits) })
            }
            if points > 0 { parts.append(.init(rule: b.id, label: b.name, points: points)) }
        }
        for q in quantityRules {
            let units = eligible.filter { $0.line.item.sku == q.sku }
                .reduce(0) { $0 + ($1.line.item.soldByWeight ? 1 : $1.line.item.quantity.wholeUnits) }
            if units >= q.minQuantity { parts.append(.init(rule: q.id, label: q.name, points: q.points)) }
        }
        for n in nthPurchaseRules {
            let qualifies = n.skus.isEmpty && n.categories.isEmpty
                ? !eligible.isEmpty
                : eligible.contains { n.skus.contains($0.line.item.sku) || n.categories.contains($0.line.item.category) }
            guard qualifies else { continue }
            let prior = context.priorPurchases[n.id] ?? 0
            if (prior + 1) % n.every == 0 { parts.append(.init(rule: n.id, label: n.name, points: n.points)) }
        }
        if !eligible.isEmpty {
            for p in promotions where isActive(p, context) {
                var points: Points = 0
                if let m = p.multiplierBP, m > 10_000 { points += Points(divide(base.count, 1, times: m - 10_000)) }
                if let b = p.bonusPoints { points += b }
                if points > 0 { parts.append(.init(rule: p.id, label: p.name, points: points)) }
            }
            // Personal offers (a campaign's): on their lines, once their lines reach the minimum.
            for o in context.offers {
                let matching = o.skus.isEmpty && o.categories.isEmpty
                    ? eligible : eligible.filter { o.skus.contains($0.line.item.sku) || o.categories.contains($0.line.item.category) }
                let net = matching.reduce(0) { $0 + $1.net }
                guard !matching.isEmpty, net >= o.minSpend else { continue }
                var points: Points = 0
                if let m = o.multiplierBP, m > 10_000 { points += Points(divide(net * earn.pointsPerUnit.count, earn.unitMinor, times: m - 10_000)) }
                if let b = o.bonusPoints, b > 0 { points += Points(b) }
                if points > 0 { parts.append(.init(rule: o.rule, label: o.name, points: points)) }
            }
            if let code = context.tierCode, let t = tiers.first(where: { $0.code == code }), t.earnMultiplierBP > 10_000 {
                let extra = Points(divide(base.count, 1, times: t.earnMultiplierBP - 10_000))
                if extra > 0 { parts.append(.init(rule: "tier-" + t.code, label: "\(t.name) tier x\(multiplierText(t.earnMultiplierBP))", points: extra)) }
            }
        }
        return PointsAward(parts: parts)
    }

    /// What an order paid outside the store earns (a web shop or app sends its amount, not its
    /// items): the base rate on `amount` and the member's tier multiplier, as a basket of that net
    /// earns at the till. Nothing for an amount that is not positive or would not fit.
    public func award(forSpend amount: Int64, tierCode: String?) -> PointsAward {
        let c = moneyCurrency
        guard amount > 0, case let (product, false) = amount.multipliedReportingOverflow(by: earn.pointsPerUnit.count) else { return PointsAward(parts: []) }
        let base = Points(divide(product, earn.unitMinor))
        var parts: [PointsAward.Part] = [.init(rule: "base", label: "\(earn.pointsPerUnit) pt per \(c.format(earn.unitMinor)) on \(c.format(amount))", points: base)]
        if let code = tierCode, let t = tiers.first(where: { $0.code == code }), t.earnMultiplierBP > 10_000 {
            let extra = Points(divide(base.count, 1, times: t.earnMultiplierBP - 10_000))
            if extra > 0 { parts.append(.init(rule: "tier-" + t.code, label: "\(t.name) tier x\(multiplierText(t.earnMultiplierBP))", points: extra)) }
        }
        return PointsAward(parts: parts)
    }

    /// The welcome bonus when a card is issued.
    public var welcomeAward: PointsAward {
        PointsAward(parts: welcomeBonus > 0 ? [.init(rule: "welcome", label: "Welcome bonus", points: welcomeBonus)] : [])
    }

    /// Whether a promotion's window, weekdays, time of day and stores include the sale.
    public func isActive(_ p: Promotion, _ context: EarnContext) -> Bool {
        guard let s = LocalDateTime.parseMinutes(p.starts), let e = LocalDateTime.parseMinutes(p.ends),
              context.time.minutes >= s, context.time.minutes < e else { return false }
        if !p.weekdays.isEmpty && !p.weekdays.contains(context.time.weekday) { return false }
        if let from = p.timeFrom.flatMap(LocalDateTime.parseTime), let to = p.timeTo.flatMap(LocalDateTime.parseTime) {
            let m = context.time.minuteOfDay
            if !(m >= from && m < to) { return false }
        }
        if !p.stores.isEmpty && !p.stores.contains(context.storeID) { return false }
        return true
    }

    /// (numerator × times / 10000) / denominator, rounded as the programme says.
    func divide(_ numerator: Int64, _ denominator: Int64, times: Int64 = 10_000) -> Int64 {
        guard numerator > 0, denominator > 0 else { return 0 }
        guard let (q, r) = MinorUnits.mulDivTruncating(numerator, times, denominator * 10_000) else { return 0 }
        let d = UInt64(denominator * 10_000)
        switch earn.rounding {
        case .down: return q
        case .up: return r > 0 ? q + 1 : q
        case .nearest: return r >= d - r ? q + 1 : q
        }
    }

    func multiplierText(_ bp: Int64) -> String {
        let whole = bp / 10_000, frac = bp % 10_000
        if frac == 0 { return String(whole) }
        var f = String(frac)
        f = String(repeating: "0", count: 4 - f.count) + f
        while f.hasSuffix("0") { f.removeLast() }
        return "\(whole).\(f)"
    }

    // MARK: Redeeming

    /// The money value of `points` redeemed at once (minor units, rounded down).
    public func value(ofPoints points: Points) -> Int64 {
        Self.value(points, bands: redemption.bands)
    }

    static func value(_ points: Points, bands: [Band]) -> Int64 {
        guard points > 0, let band = bands.last(where: { $0.minPoints <= points }) else { return 0 }
        return MinorUnits.mulDivTruncating(points.count, band.minorPer100Points, 100)?.quotient ?? 0
    }

    /// The fewest points worth at least `amount`, or nil if no number of points is.
    public func points(forAmount amount: Int64) -> Points? {
        guard amount > 0 else { return 0 }
        var best: Points?
        let bands = redemption.bands
        for (i, b) in bands.enumerated() where b.minorPer100Points > 0 {
            let upper = i + 1 < bands.count ? bands[i + 1].minPoints - 1 : Points(Int64.max)
            guard let (q, r) = MinorUnits.mulDivTruncating(amount, 100, b.minorPer100Points) else { continue }
            let candidate = max(b.minPoints, Points(r > 0 ? q + 1 : q))
            if candidate <= upper, value(ofPoints: candidate) >= amount { best = min(best ?? candidate, candidate) }
        }
        return best
    }

    /// Points that pay an amount, at exactly what the programme's table makes them worth.
    public struct PointsPayment: Sendable, Hashable {
        public var points: Points
        public var amount: Int64
        public init(points: Points, amount: Int64) {
            self.points = points
            self.amount = amount
        }
    }

    /// How `amount` can be paid in points. The customer never gives points worth more than what
    /// they pay, and points never pay more than they are worth: a payment is always `points`
    /// worth exactly `amount` by the table. `exact`: the fewest points worth exactly `amount`.
    /// Where the bands make `amount` unreachable (5.00 when 999 points are worth 4.99 and 1,000
    /// points 6.00), `below` is the most that can be paid under it with the fewest points
    /// (998 points = 4.99) and `above` the fewest points worth more (1,000 points = 6.00).
    public func payments(for amount: Int64) -> (exact: PointsPayment?, below: PointsPayment?, above: PointsPayment?) {
        guard amount > 0 else { return (nil, nil, nil) }
        guard let up = points(forAmount: amount) else { return (nil, nil, nil) }
        let upValue = value(ofPoints: up)
        if upValue == amount { return (PointsPayment(points: up, amount: amount), nil, nil) }
        // Value never falls as points rise: one point fewer is worth less than `amount`.
        let under = value(ofPoints: up - 1)
        let below = under > 0 ? points(forAmount: under).map { PointsPayment(points: $0, amount: under) } : nil
        return (nil, below, PointsPayment(points: up, amount: upValue))
    }

    /// The most a sale can take in points: the due amount, the programme's share of the total,
    /// and the value of the points available, whichever is least.
    public func redemptionLimit(available: Points, total: Int64, due: Int64) -> Int64 {
        let share = MinorUnits.mulDivTruncating(total, redemption.maxShareBP, 10_000)?.quotient ?? 0
        return max(0, min(due, share, value(ofPoints: available)))
    }

    /// Checks a redemption of `points` worth `amount` against the programme and the card.
    /// `offlineLeft` is what the card may still redeem before head office confirms it (nil: confirmed).
    public func checkRedemption(points: Points, amount: Int64, available: Points, offlineLeft: Points?, total: Int64, due: Int64) throws(RedemptionError) {
        let c = moneyCurrency
        if points < redemption.minimumPoints { throw .belowMinimum(points: points, minimum: redemption.minimumPoints) }
        if points > available { throw .aboveBalance(points: points, available: available) }
        if let left = offlineLeft, points > left { throw .aboveOfflineCap(points: points, left: left) }
        let share = MinorUnits.mulDivTruncating(total, redemption.maxShareBP, 10_000)?.quotient ?? 0
        if amount > min(share, due) {
            throw .aboveShare(amount: Money(minor: amount, currency: c), limit: Money(minor: min(share, due), currency: c),
                              shareText: TaxRate(code: "", basisPoints: redemption.maxShareBP).percentText)
        }
    }

    // MARK: Cashback

    /// What a scheduled cashback run converts for a balance: all the points, at the cashback
    /// table's rate, if the balance reaches the minimum.
    public func cashback(balance: Points) -> (points: Points, amount: Int64)? {
        guard let c = cashback, balance >= c.minimumPoints, balance > 0 else { return nil }
        return (balance, Self.value(balance, bands: c.bands))
    }
}
