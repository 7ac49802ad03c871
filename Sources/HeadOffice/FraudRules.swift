import Foundation
import Synchronization

/// What a fraud rule looks at (issue 19). Each is evaluated as head office applies a till's
/// documents; the rule's figures (threshold, window, percent) are data the fraud team sets.
public enum FraudRuleKind: String, Sendable, Codable, CaseIterable {
    /// A card's sales, redemptions or stores (`measure`) within the window reaching the threshold.
    case cardVelocity = "card-velocity"
    /// A card on at least `threshold` sales within the window, `percent` or more of them rung by one
    /// cashier: a cashier collecting customers' unclaimed points on a card of their own.
    case cardOneCashier = "card-one-cashier"
    /// Points redeemed within the window after the member's card was replaced or their details changed.
    case redeemAfterChange = "redeem-after-change"
    /// Points redeemed within the window after the member was merged with another (cards moved).
    case mergeThenRedeem = "merge-then-redeem"
    /// Points redeemed within the window after a welcome or referral bonus was given to the card.
    case bonusRedeemed = "bonus-redeemed"
    /// `threshold` or more members registered with one phone number or e-mail address.
    case sharedDetails = "shared-details"
    /// `threshold` or more members registered on one device (a till) within the window: fake
    /// sign-ups made in a row for their welcome or referral bonuses.
    case sharedDevice = "shared-device"
    /// A cashier's refunds in a day (`measure` refunds, or no-receipt: refunds without a receipt).
    case cashierRefunds = "cashier-refunds"
    /// A cashier's voids or price overrides (`measure`) in a day, `percent`% or more of the rate of
    /// the rest of their store that day, with at least `threshold` of them.
    case cashierNorm = "cashier-norm"

    public var label: String {
        switch self {
        case .cardVelocity: "Card velocity"
        case .cardOneCashier: "Card mostly on one cashier's sales"
        case .redeemAfterChange: "Redeemed soon after a card replacement or a detail change"
        case .mergeThenRedeem: "Redeemed soon after a merge"
        case .bonusRedeemed: "Welcome or referral bonus redeemed at once"
        case .sharedDetails: "Registrations sharing a phone or e-mail"
        case .sharedDevice: "Registrations on one device (till) in a row"
        case .cashierRefunds: "Refunds per cashier"
        case .cashierNorm: "Voids or price overrides against the store's norm"
        }
    }

    /// The measures a rule of this kind may take (none: the kind has one).
    public var measures: [String] {
        switch self {
        case .cardVelocity: ["sales", "redemptions", "stores"]
        case .cashierRefunds: ["refunds", "no-receipt"]
        case .cashierNorm: ["voids", "overrides"]
        default: []
        }
    }

    /// Whether an alert of this kind is about a card (which a hold or a block can stop); the others
    /// are about a cashier or a device.
    public var isAboutCards: Bool { ![.cashierRefunds, .cashierNorm, .sharedDevice].contains(self) }
    /// The kinds checked per card for each sale as it is applied (in memory, no query).
    var isPerSale: Bool { [.cardVelocity, .cardOneCashier, .cashierRefunds, .cashierNorm].contains(self) }
    /// The kinds checked with a query when a sale redeems points.
    var isOnRedemption: Bool { [.redeemAfterChange, .mergeThenRedeem, .bonusRedeemed].contains(self) }
}

/// What a rule does when it fires besides raising an alert: hold the card's redemptions, or block it.
public enum FraudAction: String, Sendable, Codable, CaseIterable {
    case alert, hold, block
}

/// A fraud rule as the fraud team sets it in the back office.
public struct FraudRule: Sendable, Codable, Equatable {
    public var id: String
    public var kind: FraudRuleKind
    public var measure: String
    /// Seconds (a day for the cashiers' and the shared-details kinds, which count by day or for good).
    public var windowSeconds: Int64
    public var threshold: Int64
    public var percent: Int64
    public var action: FraudAction
    public var enabled: Bool

    public init(id: String, kind: FraudRuleKind, measure: String = "", windowSeconds: Int64, threshold: Int64, percent: Int64 = 0,
                action: FraudAction = .alert, enabled: Bool = true) {
        self.id = id
        self.kind = kind
        self.measure = measure
        self.windowSeconds = windowSeconds
        self.threshold = threshold
        self.percent = percent
        self.action = action
        self.enabled = enabled
    }

    public static let windowBounds: ClosedRange<Int64> = 60...(31 * 86_400)
    public static let thresholdBounds: ClosedRange<Int64> = 1...100_000
    public static let percentBounds: ClosedRange<Int64> = 0...100_000

    /// The rule within its bounds, or why not (quoting the figure).
    public func validated() throws -> FraudRule {
        func refuse(_ s: String) -> ChannelRefusal { ChannelRefusal(422, "Rule \(id): \(s)") }
        guard id.count <= 40, !id.isEmpty, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw ChannelRefusal(422, "A rule's name '\(id.prefix(60))' must be 1 to 40 letters, digits or -")
        }
        if kind.measures.isEmpty { guard measure.isEmpty else { throw refuse("\(kind.label) takes no measure, not '\(measure.prefix(30))'") } }
        else { guard kind.measures.contains(measure) else { throw refuse("the measure '\(measure.prefix(30))' is not one of \(kind.measures.joined(separator: ", "))") } }
        guard Self.windowBounds.contains(windowSeconds) else {
            throw refuse("the window of \(windowSeconds) seconds is outside 1 minute to 31 days")
        }
        guard Self.thresholdBounds.contains(threshold) else { throw refuse("the threshold \(threshold) is outside 1 to 100,000") }
        guard Self.percentBounds.contains(percent) else { throw refuse("the percentage \(percent) is outside 0 to 100,000") }
        if kind == .cardOneCashier { guard (1...100).contains(percent) else { throw refuse("the share of one cashier, \(percent)%, must be 1 to 100") } }
        if kind == .cashierNorm { guard percent >= 100 else { throw refuse("\(percent)% of the store's rate is not above it: give 100 or more") } }
        guard action == .alert || kind.isAboutCards else { throw refuse("\(kind.label) is about a cashier or a device: it can raise an alert, not hold or block a card") }
        return self
    }

    /// The rules a new head office starts with, each set to what a normal month stays under.
    public static let defaults: [FraudRule] = [
        FraudRule(id: "card-sales-hour", kind: .cardVelocity, measure: "sales", windowSeconds: 3_600, threshold: 5),
        FraudRule(id: "card-redemptions-day", kind: .cardVelocity, measure: "redemptions", windowSeconds: 86_400, threshold: 3),
        FraudRule(id: "card-stores-day", kind: .cardVelocity, measure: "stores", windowSeconds: 86_400, threshold: 3),
        FraudRule(id: "card-one-cashier", kind: .cardOneCashier, windowSeconds: 7 * 86_400, threshold: 15, percent: 80),
        FraudRule(id: "redeem-after-change", kind: .redeemAfterChange, windowSeconds: 86_400, threshold: 1),
        FraudRule(id: "merge-then-redeem", kind: .mergeThenRedeem, windowSeconds: 86_400, threshold: 1),
        FraudRule(id: "bonus-redeemed", kind: .bonusRedeemed, windowSeconds: 86_400, threshold: 1),
        FraudRule(id: "shared-details", kind: .sharedDetails, windowSeconds: 86_400, threshold: 3),
        FraudRule(id: "shared-device", kind: .sharedDevice, windowSeconds: 3_600, threshold: 5),
        FraudRule(id: "cashier-refunds", kind: .cashierRefunds, measure: "refunds", windowSeconds: 86_400, threshold: 8),
        FraudRule(id: "cashier-no-receipt", kind: .cashierRefunds, measure: "no-receipt", windowSeconds: 86_400, threshold: 4),
        FraudRule(id: "cashier-voids", kind: .cashierNorm, measure: "voids", windowSeconds: 86_400, threshold: 10, percent: 300),
        FraudRule(id: "cashier-overrides", kind: .cashierNorm, measure: "overrides", windowSeconds: 86_400, threshold: 10, percent: 300),
    ]
}

/// A rule having fired: what the alert will say, and the key that keeps it to one alert per
/// subject and day (a card rule's: the day its window starts; the database holds the key unique).
public struct FraudAlertDraft: Sendable, Equatable {
    public var rule: FraudRule
    public var key: String
    /// "card", "cashier" or "details".
    public var subjectKind: String
    public var subject: String
    public var card: String?
    public var cashier: String?
    public var storeID: String?
    public var figures: String
    /// The sales (or refunds, or members) that made it fire, newest last, at most 50.
    public var evidence: [String]
    /// When it happened (the newest document's time, epoch ms).
    public var at: Int64
}

/// What the per-sale rules need of an applied sale or refund.
struct FraudFact: Sendable {
    var id: String
    var card: String?
    var cashier: String
    var storeID: String
    var time: Int64
    var redeemed: Bool
    var lines: Int64 = 0, voids: Int64 = 0, items: Int64 = 0, overrides: Int64 = 0
    var refund = false, withoutReceipt = false
}

/// The per-sale rules' memory: each card's recent sales, each cashier's and store's counts by day.
/// Kept in memory so that evaluating them costs no query per sale; filled again from the database
/// when head office starts (`HeadOfficeStore.fraudMonitor`).
final class FraudMonitor: Sendable {
    struct CardEvent: Sendable { var time: Int64, id: String, storeID: String, cashier: String, redeemed: Bool }
    struct DayCounts: Sendable {
        var lines: Int64 = 0, voids: Int64 = 0, items: Int64 = 0, overrides: Int64 = 0, refunds: Int64 = 0, noReceipt: Int64 = 0
        /// The newest documents that counted, by what they count for (at most 50 each).
        var recentVoids: [String] = [], recentOverrides: [String] = [], recentRefunds: [String] = []
        /// A store's: the cashiers who rang up or refunded that day.
        var cashiers: Set<String> = []
        mutating func add(_ f: FraudFact) {
            lines = lines.addingClamped(f.lines); voids = voids.addingClamped(f.voids)
            items = items.addingClamped(f.items); overrides = overrides.addingClamped(f.overrides)
            if f.refund { refunds = refunds.addingClamped(1) }
            if f.withoutReceipt { noReceipt = noReceipt.addingClamped(1) }
            func keep(_ list: inout [String]) {
                list.append(f.id)
                if list.count > 50 { list.removeFirst(list.count - 50) }
            }
            if f.refund { keep(&recentRefunds) }
            if f.voids > 0 { keep(&recentVoids) }
            if f.overrides > 0 { keep(&recentOverrides) }
        }
    }
    struct State: Sendable {
        var cards: [String: [CardEvent]] = [:]
        var cashierDays: [String: DayCounts] = [:]
        var storeDays: [String: DayCounts] = [:]
        var fired: Set<String> = []
        var newestDay: Int64 = 0
    }
    let state = Mutex(State())
    /// A card's sales kept (the longest card window, and at most this many).
    static let keptPerCard = 500
    /// Lines (or items) the rest of a store must have rung that day before it is a norm.
    static let normBase: Int64 = 50

    static func day(_ t: Int64) -> Int64 { t >= 0 ? t / 86_400_000 : (t - 86_399_999) / 86_400_000 }

    /// Takes in one applied sale or refund and returns what the per-sale rules say of it.
    /// `record`: false while filling from the database (no alert for what was already seen).
    func observe(_ f: FraudFact, rules: [FraudRule], longestCardWindowMs: Int64, record: Bool = true) -> [FraudAlertDraft] {
        observe([f], rules: rules, longestCardWindowMs: longestCardWindowMs, record: record)
    }

    /// Takes in a batch's applied sales and refunds, in order, under one lock: the tills' batches
    /// coming in together take turns a batch at a time, not a sale at a time.
    func observe(_ facts: [FraudFact], rules: [FraudRule], longestCardWindowMs: Int64, record: Bool = true) -> [FraudAlertDraft] {
        state.withLock { s in
            var out: [FraudAlertDraft] = []
            for f in facts { Self.take(f, into: &s, alerts: &out, rules: rules, longestCardWindowMs: longestCardWindowMs, record: record) }
            return out
        }
    }

    private static func take(_ f: FraudFact, into s: inout State, alerts out: inout [FraudAlertDraft], rules: [FraudRule], longestCardWindowMs: Int64,
                             record: Bool) {
        let day = Self.day(f.time)
        if day > s.newestDay {
            s.newestDay = day
            // Counts of days before yesterday are no longer wanted (late documents of those days count from zero).
            s.cashierDays = s.cashierDays.filter { $0.key.hasPrefix("\(day)|") || $0.key.hasPrefix("\(day - 1)|") }
            s.storeDays = s.storeDays.filter { $0.key.hasPrefix("\(day)|") || $0.key.hasPrefix("\(day - 1)|") }
            s.fired = s.fired.filter { $0.hasSuffix("|\(day)") || $0.hasSuffix("|\(day - 1)") }
            // Cards not seen within the longest window of the newest sale: nothing of theirs
            // can count again (the memory would otherwise grow with every card ever used).
            let horizon = f.time.subtractingReportingOverflow(longestCardWindowMs).partialValue
            s.cards = s.cards.filter { ($0.value.last?.time ?? .min) >= horizon }
        }
        // `since`: a card rule's window start. Its day keys the alert, so that a spree running
        // over midnight is one alert, not one on each side of it.
        func fire(_ rule: FraudRule, subjectKind: String, subject: String, card: String?, cashier: String?, figures: String, evidence: [String],
                  since: Int64? = nil) {
            let key = "\(rule.id)|\(subject)|\(since.map(Self.day) ?? day)"
            guard record, s.fired.insert(key).inserted else { return }
            out.append(FraudAlertDraft(rule: rule, key: key, subjectKind: subjectKind, subject: subject, card: card, cashier: cashier, storeID: f.storeID,
                                       figures: figures, evidence: Array(evidence.suffix(50)), at: f.time))
        }
        if let card = f.card, !f.refund {
            var events = s.cards[card] ?? []
            let e = CardEvent(time: f.time, id: f.id, storeID: f.storeID, cashier: f.cashier, redeemed: f.redeemed)
            if let last = events.last, last.time > f.time {
                events.insert(e, at: events.firstIndex { $0.time > f.time } ?? events.count)
            } else {
                events.append(e)
            }
            let newest = events.last?.time ?? f.time
            let (oldest, _) = newest.subtractingReportingOverflow(longestCardWindowMs)
            if let keep = events.firstIndex(where: { $0.time >= oldest }), keep > 0 { events.removeFirst(keep) }
            if events.count > Self.keptPerCard { events.removeFirst(events.count - Self.keptPerCard) }
            s.cards[card] = events
            for rule in rules where rule.enabled && (rule.kind == .cardVelocity || rule.kind == .cardOneCashier) {
                // Every window of the rule's width that holds this sale (a sale may arrive
                // after later ones: another till's batch, a till that was offline); the
                // fullest one counts.
                var best: (score: Int64, figures: String, ids: [String], cashier: String?, since: Int64)?
                for window in Self.windows(events, holding: f.time, widthMs: rule.windowSeconds.multipliedClamped(1_000)) {
                    let found: (Int64, String, [String], String?)?
                    if rule.kind == .cardVelocity {
                        let (count, what, ids): (Int, String, [String])
                        switch rule.measure {
                        case "redemptions": let r = window.filter(\.redeemed); (count, what, ids) = (r.count, "redemptions", r.map(\.id))
                        case "stores": (count, what, ids) = (Set(window.map(\.storeID)).count, "stores", window.map(\.id))
                        default: (count, what, ids) = (window.count, "sales", window.map(\.id))
                        }
                        found = Int64(count) >= rule.threshold
                            ? (Int64(count), "\(count) \(what) within \(Self.window(rule.windowSeconds)) (threshold \(rule.threshold))", ids, nil) : nil
                    } else {
                        guard Int64(window.count) >= rule.threshold else { continue }
                        var byCashier: [String: Int] = [:]
                        for w in window { byCashier[w.cashier, default: 0] += 1 }
                        guard let top = byCashier.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }),
                              Int64(top.value) * 100 >= rule.percent * Int64(window.count) else { continue }
                        found = (Int64(top.value), "\(window.count) sales within \(Self.window(rule.windowSeconds)), \(top.value) of them (\(Int64(top.value) * 100 / Int64(window.count))%) rung by cashier \(top.key) (threshold \(rule.threshold) sales, \(rule.percent)%)",
                                 window.filter { $0.cashier == top.key }.map(\.id), top.key)
                    }
                    if let found, found.0 > best?.score ?? -1 { best = (found.0, found.1, found.2, found.3, window.first?.time ?? f.time) }
                }
                if let best {
                    fire(rule, subjectKind: "card", subject: card, card: card, cashier: best.cashier, figures: best.figures, evidence: best.ids,
                         since: best.since)
                }
            }
        }
        let cashierKey = "\(day)|\(f.storeID)|\(f.cashier)", storeKey = "\(day)|\(f.storeID)"
        s.cashierDays[cashierKey, default: DayCounts()].add(f)
        s.storeDays[storeKey, default: DayCounts()].add(f)
        s.storeDays[storeKey]?.cashiers.insert(f.cashier)
        let mine = s.cashierDays[cashierKey] ?? DayCounts(), store = s.storeDays[storeKey] ?? DayCounts()
        // Each of the store's cashiers that day against the rest (the norm moves with every sale).
        let norms = rules.filter { $0.enabled && $0.kind == .cashierNorm }
        if !f.refund && !norms.isEmpty {
            for cashier in store.cashiers.sorted() {
                guard let theirs = s.cashierDays["\(day)|\(f.storeID)|\(cashier)"] else { continue }
                for rule in norms {
                    let voids = rule.measure == "voids"
                    let events = voids ? theirs.voids : theirs.overrides, base = voids ? theirs.lines : theirs.items
                    let othersEvents = (voids ? store.voids : store.overrides) - events, othersBase = (voids ? store.lines : store.items) - base
                    guard events >= rule.threshold, base > 0, othersBase >= Self.normBase else { continue }
                    // events/base ≥ percent/100 × othersEvents/othersBase, multiplied out (bounded counts, clamped products).
                    let lhs = events.multipliedClamped(othersBase).multipliedClamped(100)
                    let rhs = othersEvents.multipliedClamped(base).multipliedClamped(rule.percent)
                    guard lhs >= rhs else { continue }
                    let what = voids ? "lines voided" : "prices overridden"
                    fire(rule, subjectKind: "cashier", subject: "\(f.storeID)/\(cashier)", card: nil, cashier: cashier,
                         figures: "\(events) \(what) of \(base) today (\(Self.rate(events, base))); the rest of store \(f.storeID): \(othersEvents) of \(othersBase) (\(Self.rate(othersEvents, othersBase))); threshold \(rule.percent)% of the store's rate, at least \(rule.threshold)",
                         evidence: voids ? theirs.recentVoids : theirs.recentOverrides)
                }
            }
        }
        for rule in rules where rule.enabled {
            switch rule.kind {
            case .cashierRefunds where f.refund:
                let count = rule.measure == "no-receipt" ? mine.noReceipt : mine.refunds
                if count >= rule.threshold {
                    fire(rule, subjectKind: "cashier", subject: "\(f.storeID)/\(f.cashier)", card: nil, cashier: f.cashier,
                         figures: "\(count) \(rule.measure == "no-receipt" ? "refunds without a receipt" : "refunds") today at store \(f.storeID) (threshold \(rule.threshold))",
                         evidence: mine.recentRefunds)
                }
            default: continue
            }
        }
    }

    /// The windows `[start, start + width)` starting at one of `events` (sorted by time) that hold `time`.
    static func windows(_ events: [CardEvent], holding time: Int64, widthMs: Int64) -> [ArraySlice<CardEvent>] {
        var out: [ArraySlice<CardEvent>] = []
        var end = events.startIndex
        for i in events.indices where events[i].time <= time && time - events[i].time < widthMs {
            let limit = events[i].time.addingClamped(widthMs)
            if end < i { end = i }
            while end < events.endIndex && events[end].time < limit { end += 1 }
            out.append(events[i..<end])
        }
        return out
    }

    static func window(_ seconds: Int64) -> String {
        if seconds % 86_400 == 0 { return seconds == 86_400 ? "a day" : "\(seconds / 86_400) days" }
        if seconds % 3_600 == 0 { return seconds == 3_600 ? "an hour" : "\(seconds / 3_600) hours" }
        return "\(seconds / 60) minutes"
    }

    static func rate(_ n: Int64, _ of: Int64) -> String {
        guard of > 0 else { return "-" }
        let tenths = n.multipliedClamped(1_000) / of
        return "\(tenths / 10).\(tenths % 10)%"
    }
}

extension Int64 {
    /// The product, held at the bounds instead of trapping.
    func multipliedClamped(_ other: Int64) -> Int64 {
        let (p, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) != (other < 0) ? .min : .max) : p
    }
}
