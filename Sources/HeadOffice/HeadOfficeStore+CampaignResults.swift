import Foundation
import TillProtocol

/// The difference between the targeted group's mean and the holdout's, with its 95% confidence
/// interval (Welch: each group's own variance, the normal approximation, fine for the hundreds
/// of members a campaign has). A statistic reported to the marketer, computed in floating point
/// from integer figures: it moves no money and no points.
public struct Uplift: Sendable, Equatable {
    public var targetedMean: Double, holdoutMean: Double
    public var difference: Double, low: Double, high: Double
    public var targeted: Int, holdout: Int

    /// Whether the interval lies wholly above zero (the campaign did better than doing nothing).
    public var isPositive: Bool { low > 0 }
    public var isNegative: Bool { high < 0 }

    public static func estimate(targeted: [Int64], holdout: [Int64]) -> Uplift? {
        guard targeted.count >= 2, holdout.count >= 2 else { return nil }
        func moments(_ xs: [Int64]) -> (mean: Double, variance: Double) {
            let n = Double(xs.count)
            let mean = xs.reduce(0.0) { $0 + Double($1) } / n
            let squares = xs.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
            return (mean, squares / (n - 1))
        }
        let t = moments(targeted), h = moments(holdout)
        let se = (t.variance / Double(targeted.count) + h.variance / Double(holdout.count)).squareRoot()
        let d = t.mean - h.mean
        return Uplift(targetedMean: t.mean, holdoutMean: h.mean, difference: d, low: d - 1.96 * se, high: d + 1.96 * se,
                      targeted: targeted.count, holdout: holdout.count)
    }
}

/// What a campaign's groups did in a window: per member figures of the targeted and the held out.
public struct CampaignGroupFigures: Sendable, Equatable {
    public var members: Int, bought: Int, visits: Int64, spend: Int64
    /// Visits per member and revenue per member (minor units), as means.
    public var visitsPerMember: Double { members == 0 ? 0 : Double(visits) / Double(members) }
    public var revenuePerMember: Double { members == 0 ? 0 : Double(spend) / Double(members) }
    /// The average check (minor units): spend per visit.
    public var averageCheck: Double { visits == 0 ? 0 : Double(spend) / Double(visits) }
    public var boughtShare: Double { members == 0 ? 0 : Double(bought) / Double(members) }
}

/// A campaign's results in one window (during the campaign, or the same length after it).
public struct CampaignWindowResults: Sendable, Equatable {
    public var from: Int64, to: Int64
    public var targeted: CampaignGroupFigures, holdout: CampaignGroupFigures
    public var visits: Uplift?, revenue: Uplift?, bought: Uplift?
}

extension HeadOfficeStore {
    /// What the campaign's targeted members and its holdout did between `from` and `to` (day
    /// granularity, UTC, from the members' daily roll-up: every card of the member counts), each
    /// member's visits, spend and whether they bought, and the uplift of each with its interval.
    public func campaignResults(_ id: String, from: Int64, to: Int64) throws -> CampaignWindowResults {
        try rollUpReports()
        let first = from / 86_400_000, last = (to - 1) / 86_400_000
        let rows = try database.read { c in
            try c.query("""
                SELECT m.customer_id, m.holdout, COALESCE(SUM(a.visits), 0) AS visits, COALESCE(SUM(a.spend), 0) AS spend
                FROM campaign_members m
                LEFT JOIN cards k ON k.customer_id = m.customer_id
                LEFT JOIN (SELECT card_number, SUM(visits) AS visits, SUM(spend) AS spend FROM card_days WHERE day BETWEEN ? AND ? GROUP BY card_number) a
                    ON a.card_number = k.number
                WHERE m.campaign_id = ? GROUP BY m.customer_id, m.holdout
                """, [.int(first), .int(last), .text(id)])
        }
        var visits: [[Int64]] = [[], []], spend: [[Int64]] = [[], []]
        for r in rows {
            let g = r.int("holdout") == 0 ? 0 : 1
            visits[g].append(r.int("visits"))
            spend[g].append(r.int("spend"))
        }
        func figures(_ g: Int) -> CampaignGroupFigures {
            CampaignGroupFigures(members: visits[g].count, bought: visits[g].filter { $0 > 0 }.count,
                                 visits: visits[g].reduce(0) { $0.addingClamped($1) }, spend: spend[g].reduce(0) { $0.addingClamped($1) })
        }
        let boughtT = visits[0].map { $0 > 0 ? Int64(1) : 0 }, boughtH = visits[1].map { $0 > 0 ? Int64(1) : 0 }
        return CampaignWindowResults(from: from, to: to, targeted: figures(0), holdout: figures(1),
                                     visits: Uplift.estimate(targeted: visits[0], holdout: visits[1]),
                                     revenue: Uplift.estimate(targeted: spend[0], holdout: spend[1]),
                                     bought: Uplift.estimate(targeted: boughtT, holdout: boughtH))
    }
}

/// A month of the programme's effect: members against the rest (the XRM seed's promise of more
/// repeat purchases, more visits and larger checks).
public struct ProgrammeMonth: Sendable, Equatable {
    public var month: String
    /// Members who bought in the month, those who bought twice or more, their purchases and spend.
    public var members: Int64, repeaters: Int64, memberSales: Int64, memberSpend: Int64
    /// Every sale of the month and its total (members' and others').
    public var sales: Int64, total: Int64

    public var repeatRate: Double { members == 0 ? 0 : Double(repeaters) / Double(members) }
    public var frequency: Double { members == 0 ? 0 : Double(memberSales) / Double(members) }
    public var memberCheck: Double { memberSales == 0 ? 0 : Double(memberSpend) / Double(memberSales) }
    /// The others' average check: their sales cannot be told apart by person, so no frequency.
    public var otherCheck: Double {
        let n = sales - memberSales, t = total - memberSpend
        return n <= 0 ? 0 : Double(t) / Double(n)
    }
}

extension HeadOfficeStore {
    /// The programme's last `count` months up to the one holding `time` (UTC), oldest first. A
    /// month that ended more than a month ago is computed once and kept; the latest two are
    /// computed again each time (offline tills' sales still arrive).
    public func programmeMonths(_ count: Int = 12, at time: Int64 = HeadOfficeStore.now()) throws -> [ProgrammeMonth] {
        try rollUpReports()
        var (y, m, _) = ProtocolTime.civil(fromDays: time / 86_400_000)
        var months: [(String, Int64, Int64, Bool)] = []
        for i in 0..<max(1, min(count, 36)) {
            let first = ProtocolTime.daysFromCivil(y, m, 1)
            let (ny, nm) = m == 12 ? (y + 1, Int64(1)) : (y, m + 1)
            let next = ProtocolTime.daysFromCivil(ny, nm, 1)
            months.append((String(format: "%04d-%02d", Int(y), Int(m)), first, next - 1, i >= 2))
            (y, m) = m == 1 ? (y - 1, 12) : (y, m - 1)
        }
        var out: [ProgrammeMonth] = []
        for (key, first, last, keep) in months.reversed() {
            if keep, let r = try database.read({ c in try c.queryOne("SELECT * FROM programme_months WHERE month = ?", [.text(key)]) }) {
                out.append(ProgrammeMonth(month: key, members: r.int("members"), repeaters: r.int("repeaters"), memberSales: r.int("member_sales"),
                                          memberSpend: r.int("member_spend"), sales: r.int("sales"), total: r.int("total")))
                continue
            }
            let month = try database.read { c -> ProgrammeMonth in
                let mem = try c.queryOne("""
                    SELECT COUNT(*) AS members, COALESCE(SUM(CASE WHEN v >= 2 THEN 1 ELSE 0 END), 0) AS repeaters, COALESCE(SUM(v), 0) AS visits,
                        COALESCE(SUM(s), 0) AS spend
                    FROM (SELECT k.customer_id, SUM(d.visits) AS v, SUM(d.spend) AS s FROM card_days d JOIN cards k ON k.number = d.card_number
                          WHERE d.day BETWEEN ? AND ? AND k.customer_id IS NOT NULL GROUP BY k.customer_id) AS x
                    """, [.int(first), .int(last)])
                let all = try c.queryOne("SELECT COALESCE(SUM(sales), 0) AS n, COALESCE(SUM(total), 0) AS t FROM store_hours WHERE day BETWEEN ? AND ?",
                                         [.int(first), .int(last)])
                return ProgrammeMonth(month: key, members: mem?.int("members") ?? 0, repeaters: mem?.int("repeaters") ?? 0, memberSales: mem?.int("visits") ?? 0,
                                      memberSpend: mem?.int("spend") ?? 0, sales: all?.int("n") ?? 0, total: all?.int("t") ?? 0)
            }
            if keep {
                _ = try database.write { c in
                    try c.execute("""
                        INSERT INTO programme_months (month, members, repeaters, member_sales, member_spend, sales, total, computed_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (month) DO NOTHING
                        """, [.text(key), .int(month.members), .int(month.repeaters), .int(month.memberSales), .int(month.memberSpend), .int(month.sales),
                              .int(month.total), .int(time)])
                }
            }
            out.append(month)
        }
        return out
    }
}
