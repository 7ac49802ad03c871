import Foundation

// MARK: RFM

/// The named cells of the RFM grid a marketer targets, from a member's recency score and the
/// mean of their frequency and monetary scores (each a quintile, 1–5, among the members who
/// bought in the last 12 months); members who did not are `lost` or have made `no purchase yet`.
public enum RFMCell: String, CaseIterable, Codable, Sendable {
    case champions, loyal, new, promising
    case aboutToSleep = "about to sleep"
    case cannotLose = "cannot lose"
    case atRisk = "at risk"
    case hibernating, lost
    case noPurchase = "no purchase yet"

    /// The cell of recency `r` and frequency/monetary `f`, `m` (each 1–5).
    public static func of(r: Int64, f: Int64, m: Int64) -> RFMCell {
        let fm = (f + m + 1) / 2
        switch (r, fm) {
        case (4..., 4...): return .champions
        case (3..., 3...): return .loyal
        case (5, 1): return .new
        case (4..., _): return .promising
        case (3, _): return .aboutToSleep
        case (_, 5): return .cannotLose
        case (_, 3...): return .atRisk
        default: return .hibernating
        }
    }

    /// What the cell means, for the segments page.
    public var meaning: String {
        switch self {
        case .champions: "bought recently, often and the most"
        case .loyal: "buy regularly and spend well"
        case .new: "first purchases, very recently"
        case .promising: "recent, but few or small purchases so far"
        case .aboutToSleep: "neither recent nor frequent: slipping away"
        case .cannotLose: "were among the best, not seen for a while"
        case .atRisk: "bought often, but long ago"
        case .hibernating: "few, small purchases, long ago"
        case .lost: "no purchase in the last 12 months"
        case .noPurchase: "registered, never bought"
        }
    }
}

/// A member's place in the RFM grid, as the last computation left it.
public struct RFMComputation: Sendable, Equatable {
    public var members: Int
    public var byCell: [RFMCell: Int]
    public var computedAt: Int64
}

/// Each member's score (1–5) on a figure: the quintile of their rank among `values` (ties share
/// the lower score), so that members who did the same get the same score.
func quintiles(_ values: [Int64]) -> [Int64] {
    let n = values.count
    guard n > 0 else { return [] }
    let order = values.indices.sorted { values[$0] < values[$1] }
    var scores = Array(repeating: Int64(1), count: n)
    var rank = 0
    for (position, i) in order.enumerated() {
        if position == 0 || values[i] != values[order[position - 1]] { rank = position }
        scores[i] = 1 + Int64(5 * rank / n)
    }
    return scores
}

extension HeadOfficeStore {
    /// The window RFM's frequency and monetary figures look back over.
    public static let rfmWindowDays: Int64 = 365

    /// Scores every member (`member_rfm`, replaced whole): recency is the day of their last
    /// purchase on any of their cards, frequency their visits and monetary their spend in the
    /// last 365 days, each scored by quintile among the members who bought then. Reads the
    /// roll-up (brought up to date first), so the tills' ingest waits only for the writing.
    @discardableResult
    public func computeRFM(at time: Int64 = HeadOfficeStore.now()) throws -> RFMComputation {
        try rollUpReports()
        let today = time / 86_400_000, since = today - Self.rfmWindowDays + 1
        struct Member { var id: String, last: Int64?, visits: Int64, spend: Int64 }
        let (bought, others) = try database.read { c -> ([Member], [(String, Bool)]) in
            let rows = try c.query("""
                SELECT k.customer_id AS id, MAX(a.last_day) AS last_day, SUM(a.visits) AS visits, SUM(a.spend) AS spend
                FROM (SELECT card_number, MAX(day) AS last_day, SUM(CASE WHEN day >= ? THEN visits ELSE 0 END) AS visits,
                             SUM(CASE WHEN day >= ? THEN spend ELSE 0 END) AS spend
                      FROM card_days WHERE day <= ? GROUP BY card_number) AS a
                JOIN cards k ON k.number = a.card_number
                JOIN customers cu ON cu.id = k.customer_id AND cu.erased_at IS NULL AND cu.merged_into IS NULL
                GROUP BY k.customer_id
                """, [.int(since), .int(since), .int(today)])
            var seen = Set<String>()
            let bought = rows.map { r -> Member in
                seen.insert(r.text("id"))
                return Member(id: r.text("id"), last: r["last_day"].int, visits: r.int("visits"), spend: r.int("spend"))
            }
            let registered = try c.query("SELECT id, registered_at FROM customers WHERE erased_at IS NULL AND merged_into IS NULL", [])
                .filter { !seen.contains($0.text("id")) }.map { ($0.text("id"), false) }
            return (bought, registered)
        }
        let active = bought.filter { $0.visits > 0 }
        let r = quintiles(active.map { $0.last ?? 0 }), f = quintiles(active.map(\.visits)), m = quintiles(active.map(\.spend))
        var rows: [[SQLValue]] = []
        rows.reserveCapacity(bought.count + others.count)
        var byCell: [RFMCell: Int] = [:]
        for (i, a) in active.enumerated() {
            let cell = RFMCell.of(r: r[i], f: f[i], m: m[i])
            byCell[cell, default: 0] += 1
            rows.append([.text(a.id), SQLValue(a.last), .int(a.visits), .int(a.spend), .int(r[i]), .int(f[i]), .int(m[i]), .text(cell.rawValue), .int(time)])
        }
        for a in bought where a.visits <= 0 {
            byCell[.lost, default: 0] += 1
            rows.append([.text(a.id), SQLValue(a.last), .int(0), .int(0), .int(0), .int(0), .int(0), .text(RFMCell.lost.rawValue), .int(time)])
        }
        for (id, _) in others {
            byCell[.noPurchase, default: 0] += 1
            rows.append([.text(id), .null, .int(0), .int(0), .int(0), .int(0), .int(0), .text(RFMCell.noPurchase.rawValue), .int(time)])
        }
        try database.write { c in
            try c.execute("DELETE FROM member_rfm", [])
            try Self.insertRows(c, "INSERT INTO member_rfm (customer_id, last_day, visits, spend, r, f, m, cell, computed_at)", rows)
            try c.execute("INSERT INTO options (name, value) VALUES ('rfm_day', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                          [.text(String(today))])
            // The table is new each day: its statistics too, so that counts join it well.
            try c.execute("ANALYZE member_rfm", [])
        }
        return RFMComputation(members: rows.count, byCell: byCell, computedAt: time)
    }

    /// The RFM computation once a day (UTC), for the scheduler: nil when today's is done.
    public func computeDueRFM(at time: Int64 = HeadOfficeStore.now()) throws -> RFMComputation? {
        let last = try database.read { c in try c.queryOne("SELECT value FROM options WHERE name = 'rfm_day'", [])?.text("value") }
        guard last != String(time / 86_400_000) else { return nil }
        return try computeRFM(at: time)
    }

    /// The members in each cell now, and when they were scored (nil: never).
    public func rfmCells() throws -> (cells: [(RFMCell, Int64)], computedAt: Int64?) {
        try database.read { c in
            var counts: [String: Int64] = [:]
            for r in try c.query("SELECT cell, COUNT(*) AS n FROM member_rfm GROUP BY cell", []) { counts[r.text("cell")] = r.int("n") }
            let at = try c.queryOne("SELECT MAX(computed_at) AS t FROM member_rfm", [])?["t"].int
            return (RFMCell.allCases.map { ($0, counts[$0.rawValue] ?? 0) }, at)
        }
    }
}
