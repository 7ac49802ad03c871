/// A loyalty programme: how points are earned and redeemed, tiers, cashback and the card ranges.
/// Versioned data (JSON), checked by `validate()` before use; the same engine runs on the till
/// and at head office. README "Loyalty programme" documents every field.
public struct LoyaltyProgramme: Codable, Sendable, Hashable {
    public var version: String
    public var name: String
    public var currency: String
    public var earn: Earn
    public var bonuses: [Bonus] = []
    public var quantityRules: [QuantityRule] = []
    public var nthPurchaseRules: [NthPurchaseRule] = []
    public var promotions: [Promotion] = []
    public var tiers: [Tier] = []
    public var tierQualification: TierQualification
    /// Points for a new member when the card is issued.
    public var welcomeBonus: Points
    public var redemption: Redemption
    public var cashback: Cashback?
    public var cardRanges: [CardRange]
    /// When points expire (nil: never).
    public var expiry: Expiry? = nil
    /// Challenges members complete for a reward and a badge (issue 18).
    public var challenges: [Challenge] = []

    /// How the base points are earned: `pointsPerUnit` points for every `unitMinor` minor units of
    /// eligible spend (after discounts), rounded as `rounding` says.
    public struct Earn: Codable, Sendable, Hashable {
        public var pointsPerUnit: Points
        public var unitMinor: Int64
        public var rounding: Rounding
        public var excludedCategories: [String] = []
        public var excludedSKUs: [String] = []
    }

    public enum Rounding: String, Codable, Sendable, Hashable {
        case down, nearest, up
    }

    /// Extra points on some products or categories: a multiplier on their base points
    /// (`multiplierBP`, 20000 = ×2) and/or fixed points per unit sold.
    public struct Bonus: Codable, Sendable, Hashable {
        public var id: String
        public var name: String
        public var skus: [String] = []
        public var categories: [String] = []
        public var multiplierBP: Int64?
        public var fixedPointsPerUnit: Points?
    }

    /// "3 or more of product X: +N points" (once per sale).
    public struct QuantityRule: Codable, Sendable, Hashable {
        public var id: String
        public var name: String
        public var sku: String
        public var minQuantity: Int64
        public var points: Points
    }

    /// Every Nth purchase (of a product or category, or any) within a period earns points.
    public struct NthPurchaseRule: Codable, Sendable, Hashable {
        public var id: String
        public var name: String
        public var skus: [String] = []
        public var categories: [String] = []
        public var every: Int64
        public var periodDays: Int64
        public var points: Points
    }

    /// A promotion with a window: start and end local date-times ("2026-11-24T00:00"), weekdays
    /// (1 = Monday … 7 = Sunday; empty = every day), a time of day ("09:00"–"12:00"), stores (empty
    /// = all). It multiplies the base points and/or adds points per sale.
    public struct Promotion: Codable, Sendable, Hashable {
        public var id: String
        public var name: String
        public var starts: String
        public var ends: String
        public var weekdays: [Int] = []
        public var timeFrom: String?
        public var timeTo: String?
        public var stores: [String] = []
        public var multiplierBP: Int64?
        public var bonusPoints: Points?
    }

    /// A tier: reached at `threshold` (minor units of spend, or points, per `tierQualification`)
    /// within the rolling period; it multiplies base points and may give a discount.
    public struct Tier: Codable, Sendable, Hashable {
        public var code: String
        public var name: String
        public var threshold: Int64
        public var earnMultiplierBP: Int64
        public var discountBP: Int64

        public init(code: String, name: String, threshold: Int64, earnMultiplierBP: Int64, discountBP: Int64) {
            self.code = code
            self.name = name
            self.threshold = threshold
            self.earnMultiplierBP = earnMultiplierBP
            self.discountBP = discountBP
        }
    }

    public struct TierQualification: Codable, Sendable, Hashable {
        public enum Basis: String, Codable, Sendable, Hashable { case spend, points }
        public var basis: Basis
        public var periodDays: Int64
    }

    /// Points as a tender. The value of points depends on how many are redeemed: the band with
    /// the largest `minPoints` not above the points redeemed gives `minorPer100Points`.
    public struct Redemption: Codable, Sendable, Hashable {
        public var bands: [Band]
        public var minimumPoints: Points
        /// At most this share of a sale (basis points of its total) may be paid in points.
        public var maxShareBP: Int64
        /// Points a till may redeem per card while head office has not confirmed its balance.
        public var offlineCapPoints: Points
    }

    public struct Band: Codable, Sendable, Hashable {
        public var minPoints: Points
        public var minorPer100Points: Int64

        public init(minPoints: Points, minorPer100Points: Int64) {
            self.minPoints = minPoints
            self.minorPer100Points = minorPer100Points
        }
    }

    /// Points expire `months` after they were earned, oldest first (with `atYearEnd`, at the end of
    /// the year in which they reach that age); members are told `noticeDays` ahead. Run by head office.
    public struct Expiry: Codable, Sendable, Hashable {
        public var months: Int64
        public var atYearEnd: Bool
        public var noticeDays: Int64

        public init(months: Int64, atYearEnd: Bool = false, noticeDays: Int64 = 30) {
            self.months = months
            self.atYearEnd = atYearEnd
            self.noticeDays = noticeDays
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(months: try c.decode(Int64.self, forKey: .months), atYearEnd: try c.decodeIfPresent(Bool.self, forKey: .atYearEnd) ?? false,
                      noticeDays: try c.decodeIfPresent(Int64.self, forKey: .noticeDays) ?? 30)
        }

        /// When points earned at `earnedAt` are expired by head office's daily run (just after
        /// midnight UTC): the start of the first UTC day whose cutoff is past them.
        public func expiresAt(earnedAt c: Int64) -> Int64 {
            var day = max(c / 86_400_000 + 1, c / 86_400_000 + max(0, min(months, 1_200)) * 28 - 3)
            for _ in 0..<800 where cutoff(at: day * 86_400_000) <= c { day += 1 }
            return day * 86_400_000
        }

        /// Points earned before this instant (epoch ms, UTC) have expired at `time`.
        public func cutoff(at time: Int64) -> Int64 {
            var days = time / 86_400_000
            if time < 0 && time % 86_400_000 != 0 { days -= 1 }
            let (y, m, d) = LocalDateTime.civil(fromDays: days)
            let total = y * 12 + (m - 1) - max(0, min(months, 1_200))   // years 2000–2200: never negative
            let year = total / 12, month = total % 12 + 1
            if atYearEnd { return LocalDateTime.daysFromCivil(year, 1, 1) * 86_400_000 }
            // The same day of the month (the last day of a shorter month), at the same time of day.
            let day = min(d, LocalDateTime.daysInMonth(year, month))
            return LocalDateTime.daysFromCivil(year, month, day) * 86_400_000 + (time - days * 86_400_000)
        }
    }

    /// Converting points to money on the card, on a schedule (run by head office).
    public struct Cashback: Codable, Sendable, Hashable {
        public enum Schedule: String, Codable, Sendable, Hashable { case monthly, quarterly, yearly }
        public var schedule: Schedule
        public var minimumPoints: Points
        public var bands: [Band]
    }
}

/// A problem with a programme: the field (a JSON path) and what is wrong with it.
public struct ProgrammeIssue: Error, Hashable, Sendable, CustomStringConvertible {
    public var field: String
    public var message: String
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
    public var description: String { "\(field): \(message)" }
}

extension LoyaltyProgramme {
    /// Every problem with the programme, each naming its field. Empty: the programme can be used.
    public func validate() -> [ProgrammeIssue] {
        var issues: [ProgrammeIssue] = []
        func bad(_ field: String, _ message: String) { issues.append(ProgrammeIssue(field: field, message: message)) }
        func nonNegative(_ v: Int64, _ field: String) { if v < 0 { bad(field, "\(v) must not be negative") } }
        func nonNegative(_ v: Points, _ field: String) { nonNegative(v.count, field) }

        if version.isEmpty { bad("version", "must not be empty") }
        if Currency(code: currency) == nil { bad("currency", "'\(currency)' is not a currency code such as EUR") }
        nonNegative(earn.pointsPerUnit, "earn.pointsPerUnit")
        if earn.unitMinor <= 0 { bad("earn.unitMinor", "\(earn.unitMinor) must be more than 0, e.g. 100 for one unit of currency") }
        var ids = Set<String>()
        func uniqueID(_ id: String, _ field: String) {
            if id.isEmpty { bad(field, "must not be empty") } else if !ids.insert(id).inserted { bad(field, "'\(id)' is used by another rule") }
        }
        for (i, b) in bonuses.enumerated() {
            let f = "bonuses[\(i)]"
            uniqueID(b.id, f + ".id")
            if b.skus.isEmpty && b.categories.isEmpty { bad(f, "names no skus or categories") }
            if b.multiplierBP == nil && b.fixedPointsPerUnit == nil { bad(f, "has neither multiplierBP nor fixedPointsPerUnit") }
            if let m = b.multiplierBP, m < 10_000 { bad(f + ".multiplierBP", "\(m) must be at least 10000 (×1)") }
            if let p = b.fixedPointsPerUnit { nonNegative(p, f + ".fixedPointsPerUnit") }
        }
        for (i, q) in quantityRules.enumerated() {
            let f = "quantityRules[\(i)]"
            uniqueID(q.id, f + ".id")
            if q.minQuantity < 1 { bad(f + ".minQuantity", "\(q.minQuantity) must be at least 1") }
            nonNegative(q.points, f + ".points")
        }
        for (i, n) in nthPurchaseRules.enumerated() {
            let f = "nthPurchaseRules[\(i)]"
            uniqueID(n.id, f + ".id")
            if n.every < 2 { bad(f + ".every", "\(n.every) must be at least 2") }
            if n.periodDays < 1 { bad(f + ".periodDays", "\(n.periodDays) must be at least 1") }
            nonNegative(n.points, f + ".points")
        }
        for (i, p) in promotions.enumerated() {
            let f = "promotions[\(i)]"
            uniqueID(p.id, f + ".id")
            let s = LocalDateTime.parseMinutes(p.starts), e = LocalDateTime.parseMinutes(p.ends)
            if s == nil { bad(f + ".starts", "'\(p.starts)' is not a date-time YYYY-MM-DDTHH:MM") }
            if e == nil { bad(f + ".ends", "'\(p.ends)' is not a date-time YYYY-MM-DDTHH:MM") }
            if let s, let e, e <= s { bad(f + ".ends", "\(p.ends) is not after the start \(p.starts)") }
            for d in p.weekdays where !(1...7).contains(d) { bad(f + ".weekdays", "\(d) is not a weekday 1 (Monday) to 7 (Sunday)") }
            let from = p.timeFrom.map(LocalDateTime.parseTime), to = p.timeTo.map(LocalDateTime.parseTime)
            if let from, from == nil { bad(f + ".timeFrom", "'\(p.timeFrom!)' is not a time HH:MM") }
            if let to, to == nil { bad(f + ".timeTo", "'\(p.timeTo!)' is not a time HH:MM") }
            if (p.timeFrom == nil) != (p.timeTo == nil) { bad(f, "give both timeFrom and timeTo, or neither") }
            if p.multiplierBP == nil && p.bonusPoints == nil { bad(f, "has neither multiplierBP nor bonusPoints") }
            if let m = p.multiplierBP, m < 10_000 { bad(f + ".multiplierBP", "\(m) must be at least 10000 (×1)") }
            if let b = p.bonusPoints { nonNegative(b, f + ".bonusPoints") }
        }
        for (i, ch) in challenges.enumerated() {
            let f = "challenges[\(i)]"
            uniqueID(ch.id, f + ".id")
            if ch.id.count > 32 || !ch.id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) {
                bad(f + ".id", "'\(ch.id)' must be up to 32 letters, digits or -")
            }
            if ch.name.isEmpty || ch.name.count > 60 { bad(f + ".name", "must be 1 to 60 characters") }
            let s = LocalDateTime.parseMinutes(ch.starts), e = LocalDateTime.parseMinutes(ch.ends)
            if s == nil { bad(f + ".starts", "'\(ch.starts)' is not a date-time YYYY-MM-DDTHH:MM") }
            if e == nil { bad(f + ".ends", "'\(ch.ends)' is not a date-time YYYY-MM-DDTHH:MM") }
            if let s, let e, e <= s { bad(f + ".ends", "\(ch.ends) is not after the start \(ch.starts)") }
            if !(1...1_000_000_000).contains(ch.target) { bad(f + ".target", "\(ch.target) must be 1 to 1000000000") }
            switch ch.window {
            case .days where !(1...Challenge.maxDays).contains(ch.length): bad(f + ".length", "\(ch.length) days must be 1 to \(Challenge.maxDays)")
            case .streak where !(2...Challenge.maxWeeks).contains(ch.length): bad(f + ".length", "\(ch.length) weeks must be 2 to \(Challenge.maxWeeks)")
            default: break
            }
            if !(1...1_000).contains(ch.maxCompletions) { bad(f + ".maxCompletions", "\(ch.maxCompletions) must be 1 to 1000") }
            if !(0...1_000_000).contains(ch.rewardPoints.count) { bad(f + ".rewardPoints", "\(ch.rewardPoints) must be 0 to 1000000") }
            if ch.rewardPoints == 0 && (ch.badge ?? "").isEmpty { bad(f, "gives neither rewardPoints nor a badge") }
            if let b = ch.badge, b.count > 40 { bad(f + ".badge", "must be up to 40 characters") }
        }
        if challenges.count > 20 { bad("challenges", "\(challenges.count) challenges: at most 20 run at once") }
        var codes = Set<String>()
        for (i, t) in tiers.enumerated() {
            let f = "tiers[\(i)]"
            if t.code.isEmpty || !codes.insert(t.code).inserted { bad(f + ".code", "'\(t.code)' must be set and unique") }
            nonNegative(t.threshold, f + ".threshold")
            if t.earnMultiplierBP < 10_000 { bad(f + ".earnMultiplierBP", "\(t.earnMultiplierBP) must be at least 10000 (×1)") }
            if !(0...10_000).contains(t.discountBP) { bad(f + ".discountBP", "\(t.discountBP) must be 0 to 10000 (100%)") }
            if i > 0 && t.threshold <= tiers[i - 1].threshold {
                bad(f + ".threshold", "\(t.threshold) overlaps tiers[\(i - 1)] (\(tiers[i - 1].threshold)): each tier must start above the one before")
            }
        }
        if let first = tiers.first, first.threshold != 0 { bad("tiers[0].threshold", "\(first.threshold) must be 0: every member is in a tier") }
        if tierQualification.periodDays < 1 { bad("tierQualification.periodDays", "\(tierQualification.periodDays) must be at least 1") }
        nonNegative(welcomeBonus, "welcomeBonus")
        checkBands(redemption.bands, "redemption.bands", bad)
        nonNegative(redemption.minimumPoints, "redemption.minimumPoints")
        if !(0...10_000).contains(redemption.maxShareBP) { bad("redemption.maxShareBP", "\(redemption.maxShareBP) must be 0 to 10000 (100%)") }
        nonNegative(redemption.offlineCapPoints, "redemption.offlineCapPoints")
        if let c = cashback {
            checkBands(c.bands, "cashback.bands", bad)
            nonNegative(c.minimumPoints, "cashback.minimumPoints")
        }
        if let e = expiry {
            if !(1...120).contains(e.months) { bad("expiry.months", "\(e.months) must be 1 to 120") }
            if !(0...365).contains(e.noticeDays) { bad("expiry.noticeDays", "\(e.noticeDays) must be 0 to 365") }
        }
        if cardRanges.isEmpty { bad("cardRanges", "needs at least one range of card numbers") }
        for (i, r) in cardRanges.enumerated() {
            let f = "cardRanges[\(i)]"
            if r.prefix.isEmpty || !r.prefix.isAllASCIIDigits { bad(f + ".prefix", "'\(r.prefix)' must be digits") }
            if !(8...19).contains(r.length) || r.length <= r.prefix.count { bad(f + ".length", "\(r.length) must be 8 to 19 and longer than the prefix") }
        }
        return issues
    }

    private func checkBands(_ bands: [Band], _ field: String, _ bad: (String, String) -> Void) {
        if bands.isEmpty { bad(field, "needs at least one band") }
        if let first = bands.first, first.minPoints != 0 { bad(field + "[0].minPoints", "\(first.minPoints) must be 0 so every amount of points has a rate") }
        for (i, b) in bands.enumerated() {
            if b.minorPer100Points < 0 { bad(field + "[\(i)].minorPer100Points", "\(b.minorPer100Points) must not be negative") }
            if i > 0 {
                let p = bands[i - 1]
                if b.minPoints <= p.minPoints { bad(field + "[\(i)].minPoints", "\(b.minPoints) must be above \(field)[\(i - 1)]'s \(p.minPoints)") }
                if b.minorPer100Points < p.minorPer100Points {
                    bad(field + "[\(i)].minorPer100Points", "\(b.minorPer100Points) is below \(field)[\(i - 1)]'s \(p.minorPer100Points): the table must not decrease, or redeeming more points would be worth less")
                }
            }
        }
    }

    /// The tier a member is in for a qualifying amount (spend or points in the period).
    public func tier(for qualifying: Int64) -> Tier? {
        tiers.last { $0.threshold <= qualifying }
    }

    /// The next tier and how much more qualifying spend or points it needs.
    public func nextTier(after qualifying: Int64) -> (tier: Tier, needed: Int64)? {
        tiers.first { $0.threshold > qualifying }.map { ($0, $0.threshold - qualifying) }
    }
}

// Lists may be left out of the JSON: a missing list is empty. (In extensions, so the memberwise
// initialisers stay.)
extension KeyedDecodingContainer {
    func list<T: Decodable>(_ key: Key) throws -> [T] { try decodeIfPresent([T].self, forKey: key) ?? [] }
}

extension LoyaltyProgramme {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            version: try c.decode(String.self, forKey: .version), name: try c.decode(String.self, forKey: .name),
            currency: try c.decode(String.self, forKey: .currency), earn: try c.decode(Earn.self, forKey: .earn),
            bonuses: try c.list(.bonuses), quantityRules: try c.list(.quantityRules), nthPurchaseRules: try c.list(.nthPurchaseRules),
            promotions: try c.list(.promotions), tiers: try c.list(.tiers),
            tierQualification: try c.decode(TierQualification.self, forKey: .tierQualification),
            welcomeBonus: try c.decodeIfPresent(Points.self, forKey: .welcomeBonus) ?? 0,
            redemption: try c.decode(Redemption.self, forKey: .redemption),
            cashback: try c.decodeIfPresent(Cashback.self, forKey: .cashback), cardRanges: try c.decode([CardRange].self, forKey: .cardRanges),
            expiry: try c.decodeIfPresent(Expiry.self, forKey: .expiry), challenges: try c.list(.challenges))
    }
}

extension LoyaltyProgramme.Earn {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            pointsPerUnit: try c.decode(Points.self, forKey: .pointsPerUnit), unitMinor: try c.decode(Int64.self, forKey: .unitMinor),
            rounding: try c.decode(LoyaltyProgramme.Rounding.self, forKey: .rounding),
            excludedCategories: try c.list(.excludedCategories), excludedSKUs: try c.list(.excludedSKUs))
    }
}

extension LoyaltyProgramme.Bonus {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id), name: try c.decode(String.self, forKey: .name), skus: try c.list(.skus),
            categories: try c.list(.categories), multiplierBP: try c.decodeIfPresent(Int64.self, forKey: .multiplierBP),
            fixedPointsPerUnit: try c.decodeIfPresent(Points.self, forKey: .fixedPointsPerUnit))
    }
}

extension LoyaltyProgramme.NthPurchaseRule {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id), name: try c.decode(String.self, forKey: .name), skus: try c.list(.skus),
            categories: try c.list(.categories), every: try c.decode(Int64.self, forKey: .every),
            periodDays: try c.decode(Int64.self, forKey: .periodDays), points: try c.decode(Points.self, forKey: .points))
    }
}

extension LoyaltyProgramme.Promotion {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id), name: try c.decode(String.self, forKey: .name),
            starts: try c.decode(String.self, forKey: .starts), ends: try c.decode(String.self, forKey: .ends),
            weekdays: try c.list(.weekdays), timeFrom: try c.decodeIfPresent(String.self, forKey: .timeFrom),
            timeTo: try c.decodeIfPresent(String.self, forKey: .timeTo), stores: try c.list(.stores),
            multiplierBP: try c.decodeIfPresent(Int64.self, forKey: .multiplierBP),
            bonusPoints: try c.decodeIfPresent(Points.self, forKey: .bonusPoints))
    }
}
