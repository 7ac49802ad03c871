/// A challenge (programme data, like Open Loyalty's achievements): a count or sum of what a member
/// does — visits, spend, or items of some SKUs or categories — reaching `target` within a window:
/// the last `length` days, the calendar week (Monday to Sunday) or month, or `target` every week
/// for `length` weeks in a row (a streak: a week without breaks it). Completing it pays
/// `rewardPoints` and gives `badge`, at most `maxCompletions` times a member; what counts after a
/// completion starts again from nothing. With `optIn`, only members who joined take part.
///
/// The till shows a member's progress at once, from what head office last said of them and its
/// own sales since; head office replays every qualifying sale it receives, whichever till sent it
/// and however late, and confirms each completion and pays its reward once (`completions`).
public struct Challenge: Codable, Sendable, Hashable {
    public enum Measure: String, Codable, Sendable, Hashable, CaseIterable {
        /// Sales with a qualifying line (with no SKUs or categories named: every sale).
        case visits
        /// What the qualifying lines came to (minor units, after discounts).
        case spend
        /// Qualifying units (a weighed line counts one).
        case items
    }
    public enum Window: String, Codable, Sendable, Hashable, CaseIterable {
        case days, week, month, streak
    }

    public var id: String
    public var name: String
    public var measure: Measure
    public var skus: [String] = []
    public var categories: [String] = []
    /// What must be reached within the window (for a streak: every week).
    public var target: Int64
    public var window: Window
    /// The days of a `days` window; the weeks of a `streak`.
    public var length: Int64 = 0
    public var maxCompletions: Int64 = 1
    public var optIn: Bool = false
    public var rewardPoints: Points = 0
    /// The badge a completion gives (shown on the member's page).
    public var badge: String?
    /// When it runs, local time `YYYY-MM-DDTHH:MM` (as promotions).
    public var starts: String
    public var ends: String

    public init(id: String, name: String, measure: Measure, skus: [String] = [], categories: [String] = [], target: Int64, window: Window,
                length: Int64 = 0, maxCompletions: Int64 = 1, optIn: Bool = false, rewardPoints: Points = 0, badge: String? = nil,
                starts: String, ends: String) {
        self.id = id
        self.name = name
        self.measure = measure
        self.skus = skus
        self.categories = categories
        self.target = target
        self.window = window
        self.length = length
        self.maxCompletions = maxCompletions
        self.optIn = optIn
        self.rewardPoints = rewardPoints
        self.badge = badge
        self.starts = starts
        self.ends = ends
    }

    /// The most a `days` window or a streak may be: a year.
    public static let maxDays: Int64 = 366
    public static let maxWeeks: Int64 = 52

    public func isActive(at time: LocalDateTime) -> Bool {
        guard let s = LocalDateTime.parseMinutes(starts), let e = LocalDateTime.parseMinutes(ends) else { return false }
        return time.minutes >= s && time.minutes < e
    }

    /// What a sale's lines give towards it (0: nothing).
    public func contribution(_ lines: [ChallengeLine]) -> Int64 {
        let counted = lines.filter { l in (skus.isEmpty && categories.isEmpty) || skus.contains(l.sku) || categories.contains(l.category) }
        switch measure {
        case .visits: return counted.isEmpty ? 0 : 1
        case .spend: return counted.reduce(Int64(0)) { $0.saturatingAdd(max(0, $1.net)) }
        case .items: return counted.reduce(Int64(0)) { $0.saturatingAdd(max(0, $1.units)) }
        }
    }

    /// What the progress is measured against: the target, or a streak's weeks.
    public var goal: Int64 { window == .streak ? length : target }

    static func week(_ minutes: Int64) -> Int64 {
        let days = LocalDateTime(minutes: minutes).days - 4   // 1970-01-05 was a Monday
        return days >= 0 ? days / 7 : (days - 6) / 7
    }

    static func month(_ minutes: Int64) -> Int64 {
        let c = LocalDateTime.civil(fromDays: LocalDateTime(minutes: minutes).days)
        return c.year * 12 + c.month
    }

    /// The progress at `time` from `events` (those after the last completion, none later than `time`).
    public func value(at time: Int64, _ events: [ChallengeEvent]) -> Int64 {
        switch window {
        case .days:
            let from = time - length * 1440
            return events.reduce(Int64(0)) { $1.at > from ? $0.saturatingAdd($1.amount) : $0 }
        case .week:
            let w = Self.week(time)
            return events.reduce(Int64(0)) { Self.week($1.at) == w ? $0.saturatingAdd($1.amount) : $0 }
        case .month:
            let m = Self.month(time)
            return events.reduce(Int64(0)) { Self.month($1.at) == m ? $0.saturatingAdd($1.amount) : $0 }
        case .streak:
            var byWeek: [Int64: Int64] = [:]
            for e in events { byWeek[Self.week(e.at), default: 0] = byWeek[Self.week(e.at), default: 0].saturatingAdd(e.amount) }
            return streakRun(byWeek, at: time)
        }
    }

    /// Every sale's events in time order, from a start (`after`: the last completion known, and
    /// `completed` of them): the completions they make (their times), at most `maxCompletions` in
    /// all, and the progress after the last event. One pass: the window's sum is kept as the
    /// events go (what `value(at:_:)` gives at each), started again at each completion.
    public func replay(_ events: [ChallengeEvent], after: Int64?, completed: Int64) -> (completions: [Int64], value: Int64) {
        let sorted = events.filter { e in after.map { e.at > $0 } ?? true }.sorted { ($0.at, $0.sale) < ($1.at, $1.sale) }
        var done: [Int64] = []
        var sum: Int64 = 0, oldest = 0, period: Int64?
        var byWeek: [Int64: Int64] = [:]
        var value: Int64 = 0
        for (i, e) in sorted.enumerated() {
            switch window {
            case .days:
                sum = sum.saturatingAdd(e.amount)
                while oldest < i, sorted[oldest].at <= e.at - length * 1440 {
                    sum = sum.saturatingAdd(-sorted[oldest].amount)
                    oldest += 1
                }
                value = sum
            case .week, .month:
                let key = window == .week ? Self.week(e.at) : Self.month(e.at)
                if key != period { period = key; sum = 0 }
                sum = sum.saturatingAdd(e.amount)
                value = sum
            case .streak:
                byWeek[Self.week(e.at), default: 0] = byWeek[Self.week(e.at), default: 0].saturatingAdd(e.amount)
                value = streakRun(byWeek, at: e.at)
            }
            if completed + Int64(done.count) < maxCompletions && value >= goal {
                done.append(e.at)
                sum = 0
                oldest = i + 1
                period = nil
                byWeek.removeAll()
                value = 0
            }
        }
        return (done, value)
    }

    /// Weeks in a row reaching the target, up to `time`'s week (or up to the week before while
    /// this one has not reached it yet), at most `length`.
    func streakRun(_ byWeek: [Int64: Int64], at time: Int64) -> Int64 {
        var w = Self.week(time)
        if (byWeek[w] ?? 0) < target { w -= 1 }
        var run: Int64 = 0
        while (byWeek[w] ?? 0) >= target && run < length {
            run += 1
            w -= 1
        }
        return run
    }

    /// The member's progress with this sale: what head office said of them and the till's own
    /// sales since (`record`), then this sale (`sale`, at `time`).
    public func progress(_ record: ChallengeRecord?, sale: ChallengeEvent?) -> ChallengeProgress {
        let completed = record?.completions ?? 0
        let before = replay(record?.events ?? [], after: record?.lastCompletedAt, completed: completed)
        var events = record?.events ?? []
        if let sale, !events.contains(where: { $0.sale == sale.sale }) { events.append(sale) }
        let after = replay(events, after: record?.lastCompletedAt, completed: completed)
        let total = completed + Int64(after.completions.count)
        return ChallengeProgress(id: id, name: name, value: after.completions.count > before.completions.count ? goal : after.value, goal: goal,
                                 completedNow: after.completions.count > before.completions.count, completions: total,
                                 finished: total >= maxCompletions, rewardPoints: rewardPoints.count, badge: badge,
                                 unit: window == .streak ? "weeks" : measure == .spend ? "spend" : measure.rawValue, contributed: sale?.amount ?? 0)
    }
}

extension Challenge {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id), name: try c.decode(String.self, forKey: .name), measure: try c.decode(Measure.self, forKey: .measure),
            skus: try c.list(.skus), categories: try c.list(.categories), target: try c.decode(Int64.self, forKey: .target),
            window: try c.decode(Window.self, forKey: .window), length: try c.decodeIfPresent(Int64.self, forKey: .length) ?? 0,
            maxCompletions: try c.decodeIfPresent(Int64.self, forKey: .maxCompletions) ?? 1, optIn: try c.decodeIfPresent(Bool.self, forKey: .optIn) ?? false,
            rewardPoints: try c.decodeIfPresent(Points.self, forKey: .rewardPoints) ?? 0, badge: try c.decodeIfPresent(String.self, forKey: .badge),
            starts: try c.decode(String.self, forKey: .starts), ends: try c.decode(String.self, forKey: .ends))
    }
}

/// A line as a challenge sees it.
public struct ChallengeLine: Sendable, Equatable {
    public var sku: String, category: String, net: Int64, units: Int64
    public init(sku: String, category: String, net: Int64, units: Int64) {
        self.sku = sku
        self.category = category
        self.net = net
        self.units = units
    }
}

/// One sale's part in a challenge: its id, when (local minutes), and what it gave.
public struct ChallengeEvent: Codable, Sendable, Hashable {
    public var sale: String
    public var at: Int64
    public var amount: Int64
    public init(sale: String, at: Int64, amount: Int64) {
        self.sale = sale
        self.at = at
        self.amount = amount
    }
}

/// What head office knows of a member in a challenge (with the till's own sales since added):
/// the completions it confirmed, the last one's time, the events after it, and whether they joined.
public struct ChallengeRecord: Codable, Sendable, Hashable {
    public var id: String
    public var completions: Int64
    public var lastCompletedAt: Int64?
    public var events: [ChallengeEvent]
    public var joined: Bool
    public init(id: String, completions: Int64 = 0, lastCompletedAt: Int64? = nil, events: [ChallengeEvent] = [], joined: Bool = false) {
        self.id = id
        self.completions = completions
        self.lastCompletedAt = lastCompletedAt
        self.events = events
        self.joined = joined
    }
}

/// A member's progress in a challenge after a sale, for the screen and the receipt.
public struct ChallengeProgress: Codable, Sendable, Hashable {
    public var id: String
    public var name: String
    public var value: Int64
    public var goal: Int64
    /// This sale completed it (head office confirms it and pays the reward).
    public var completedNow: Bool
    public var completions: Int64
    /// Completed as many times as a member may.
    public var finished: Bool
    public var rewardPoints: Int64
    public var badge: String?
    /// visits, spend, items or weeks.
    public var unit: String
    /// What this sale gave towards it (the till keeps it to count the sale at its next sales).
    public var contributed: Int64 = 0

    public init(id: String, name: String, value: Int64, goal: Int64, completedNow: Bool, completions: Int64, finished: Bool, rewardPoints: Int64,
                badge: String?, unit: String, contributed: Int64 = 0) {
        self.contributed = contributed
        self.id = id
        self.name = name
        self.value = value
        self.goal = goal
        self.completedNow = completedNow
        self.completions = completions
        self.finished = finished
        self.rewardPoints = rewardPoints
        self.badge = badge
        self.unit = unit
    }

    /// "Coffee challenge 2 of 3", "Coffee challenge complete: 100 points", spend in the currency.
    public func line(currency: Currency) -> String {
        if completedNow {
            return "\(name) complete!" + (rewardPoints > 0 ? " +\(rewardPoints) points to come" : "") + (badge.map { ", badge \($0)" } ?? "")
        }
        let amount = { (v: Int64) in self.unit == "spend" ? currency.format(v) : String(v) }
        return "\(name) \(amount(value)) of \(amount(goal))" + (unit == "weeks" ? " weeks" : "")
    }
}

extension LoyaltyProgramme {
    /// A member's progress in the challenges running at the sale's time that the sale counts in
    /// (or that they have made progress in), with this sale.
    public func challengeProgress(lines: [ChallengeLine], saleID: String, customer: SaleCustomer, time: LocalDateTime) -> [ChallengeProgress] {
        challenges.compactMap { ch -> ChallengeProgress? in
            guard ch.isActive(at: time) else { return nil }
            let record = customer.challenges.first { $0.id == ch.id }
            if ch.optIn && record?.joined != true { return nil }
            let amount = ch.contribution(lines)
            let p = ch.progress(record, sale: amount > 0 ? ChallengeEvent(sale: saleID, at: time.minutes, amount: amount) : nil)
            guard amount > 0 || p.value > 0, record.map({ $0.completions < ch.maxCompletions }) ?? true else { return nil }
            return p
        }
    }
}

extension Basket {
    /// Its lines as challenges see them: what each came to after every discount.
    public var challengeLines: [ChallengeLine] {
        zip(lines, totals.lines).compactMap { line, a in
            line.voided ? nil : ChallengeLine(sku: line.item.sku, category: line.item.category, net: a.net,
                                             units: line.item.soldByWeight ? 1 : line.item.quantity.milli / 1000)
        }
    }
}

extension Int64 {
    /// The sum, held at the ends of Int64 instead of trapping.
    func saturatingAdd(_ other: Int64) -> Int64 {
        let (v, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : v
    }
}
