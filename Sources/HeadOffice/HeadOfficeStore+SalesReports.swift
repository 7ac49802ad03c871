import Foundation
import TillCore
import TillProtocol

/// A store's (or the chain's) sales on one day (UTC).
public struct DaySales: Sendable, Equatable {
    public var store: String
    public var day: String
    public var sales: Int64
    public var total: Int64
    public var items: Int64
}

/// What a store took, gave and undid in the period.
public struct StoreFigures: Sendable, Equatable {
    public var store: String
    public var sales: Int64
    public var total: Int64
    public var cash: Int64
    public var card: Int64
    public var points: Int64
    public var discounts: Int64
    public var voids: Int64
    public var overrides: Int64
    public var refunds: Int64
    public var refunded: Int64
}

/// A sales assistant's figures in a store for the period.
public struct CashierFigures: Sendable, Equatable {
    public var store: String
    public var cashier: String
    public var sales: Int64
    public var total: Int64
    /// Minor units, rounded down.
    public var averageCheck: Int64
    /// Items per minute of sale time, in hundredths.
    public var itemsPerMinuteX100: Int64
    /// Sales with a loyalty card, in basis points of the sales.
    public var attachBP: Int64
    public var enrolments: Int64
    public var voids: Int64
    public var refunds: Int64
    public var overrides: Int64
    /// Items sold (lines not voided).
    public var items: Int64 = 0
}

/// A Z report a till sent.
public struct ZReportRow: Sendable, Equatable {
    public var store: String, till: String, number: Int64, from: Int64, to: Int64, sales: Int64, net: Int64
}

/// Spend by partner, category and whether the customer was a member.
public struct BasketCell: Sendable, Equatable {
    public var partner: String, category: String, member: Bool, amount: Int64, baskets: Int64
}

/// The programme's liability: points outstanding, their money value, and the movements by month.
public struct Liability: Sendable, Equatable {
    public struct Month: Sendable, Equatable {
        public var month: String, issued: Int64, redeemed: Int64, expired: Int64, converted: Int64
    }
    public var outstanding: Int64
    /// What the outstanding points are worth by the redemption table (each card's balance at its band).
    public var value: Int64
    public var expiringNextMonth: Int64
    public var months: [Month]
}

extension HeadOfficeStore {
    static func day(_ d: Int64) -> String {
        let (y, m, dd) = ProtocolTime.civil(fromDays: d)
        return "\(y)-\(m < 10 ? "0" : "")\(m)-\(dd < 10 ? "0" : "")\(dd)"
    }

    /// The period's days, and the store filter: one store (a store manager's) or all.
    static func scope(_ period: CashbackPeriod, _ store: String?) -> (String, [SQLValue]) {
        let days: [SQLValue] = [.int(period.start / 86_400_000), .int((period.end - 1) / 86_400_000)]
        return store.map { (" AND store_id = ?", days + [.text($0)]) } ?? ("", days)
    }

    /// Sales by store and day.
    public func salesByDay(_ period: CashbackPeriod, store: String? = nil) throws -> [DaySales] {
        try rollUpReports()
        let (filter, args) = Self.scope(period, store)
        return try database.read { c in
            try c.query("""
                SELECT store_id, day, SUM(sales) AS sales, SUM(total) AS total, SUM(items) AS items FROM cashier_days
                WHERE day BETWEEN ? AND ?\(filter) GROUP BY store_id, day ORDER BY store_id, day
                """, args).map {
                DaySales(store: $0.text("store_id"), day: Self.day($0.int("day")), sales: $0.int("sales"), total: $0.int("total"), items: $0.int("items"))
            }
        }
    }

    /// Sales by hour of the day (UTC), 24 buckets of (sales, total).
    public func salesByHour(_ period: CashbackPeriod, store: String? = nil) throws -> [(sales: Int64, total: Int64)] {
        try rollUpReports()
        let (filter, args) = Self.scope(period, store)
        var hours = Array(repeating: (sales: Int64(0), total: Int64(0)), count: 24)
        try database.read { c in
            for r in try c.query("SELECT hour, SUM(sales) AS sales, SUM(total) AS total FROM store_hours WHERE day BETWEEN ? AND ?\(filter) GROUP BY hour", args) {
                let h = Int(r.int("hour"))
                if (0..<24).contains(h) { hours[h] = (r.int("sales"), r.int("total")) }
            }
        }
        return hours
    }

    /// Per store: sales, tenders, discounts, voids, overrides, refunds.
    public func storeFigures(_ period: CashbackPeriod, store: String? = nil) throws -> [StoreFigures] {
        try rollUpReports()
        let (filter, args) = Self.scope(period, store)
        return try database.read { c in
            var refunds: [String: (Int64, Int64)] = [:]
            for r in try c.query("""
                SELECT store_id, COUNT(*) AS n, SUM(total) AS t FROM refunds WHERE created_ms >= ? AND created_ms < ?\(filter) GROUP BY store_id
                """, [.int(period.start), .int(period.end)] + args.dropFirst(2)) {
                refunds[r.text("store_id")] = (r.int("n"), r.int("t"))
            }
            var figures = try c.query("""
                SELECT store_id, SUM(sales) AS sales, SUM(total) AS total, SUM(paid_cash) AS cash, SUM(paid_card) AS card, SUM(paid_points) AS points,
                    SUM(discounts) AS discounts, SUM(voids) AS voids, SUM(overrides) AS overrides
                FROM cashier_days WHERE day BETWEEN ? AND ?\(filter) GROUP BY store_id ORDER BY store_id
                """, args).map {
                StoreFigures(store: $0.text("store_id"), sales: $0.int("sales"), total: $0.int("total"), cash: $0.int("cash"), card: $0.int("card"),
                             points: $0.int("points"), discounts: $0.int("discounts"), voids: $0.int("voids"), overrides: $0.int("overrides"),
                             refunds: refunds[$0.text("store_id")]?.0 ?? 0, refunded: refunds[$0.text("store_id")]?.1 ?? 0)
            }
            for (s, r) in refunds where !figures.contains(where: { $0.store == s }) {
                figures.append(StoreFigures(store: s, sales: 0, total: 0, cash: 0, card: 0, points: 0, discounts: 0, voids: 0, overrides: 0, refunds: r.0, refunded: r.1))
            }
            return figures.sorted { $0.store < $1.store }
        }
    }

    /// The sales assistants' performance, by store and cashier.
    public func cashierReport(_ period: CashbackPeriod, store: String? = nil) throws -> [CashierFigures] {
        try rollUpReports()
        let (filter, args) = Self.scope(period, store)
        return try database.read { c in
            var refunds: [String: Int64] = [:]
            for r in try c.query("""
                SELECT store_id, COALESCE(cashier, '') AS cashier, COUNT(*) AS n FROM refunds WHERE created_ms >= ? AND created_ms < ?\(filter)
                GROUP BY store_id, COALESCE(cashier, '')
                """, [.int(period.start), .int(period.end)] + args.dropFirst(2)) {
                refunds[r.text("store_id") + "\u{1}" + r.text("cashier")] = r.int("n")
            }
            return try c.query("""
                SELECT store_id, cashier, SUM(sales) AS sales, SUM(total) AS total, SUM(items) AS items, SUM(duration_ms) AS ms, SUM(carded) AS carded,
                    SUM(enrolments) AS enrolments, SUM(voids) AS voids, SUM(overrides) AS overrides
                FROM cashier_days WHERE day BETWEEN ? AND ?\(filter) GROUP BY store_id, cashier ORDER BY store_id, cashier
                """, args).map {
                let sales = $0.int("sales"), ms = $0.int("ms")
                return CashierFigures(
                    store: $0.text("store_id"), cashier: $0.text("cashier"), sales: sales, total: $0.int("total"),
                    averageCheck: sales > 0 ? $0.int("total") / sales : 0,
                    itemsPerMinuteX100: ms > 0 ? MinorUnits.mulDivTruncating($0.int("items"), 6_000_000, ms)?.quotient ?? 0 : 0,
                    attachBP: sales > 0 ? $0.int("carded") * 10_000 / sales : 0, enrolments: $0.int("enrolments"), voids: $0.int("voids"),
                    refunds: refunds[$0.text("store_id") + "\u{1}" + $0.text("cashier")] ?? 0, overrides: $0.int("overrides"), items: $0.int("items"))
            }
        }
    }

    /// The Z reports the tills sent for days in the period.
    public func zReports(_ period: CashbackPeriod, store: String? = nil) throws -> [ZReportRow] {
        try database.read { c in
            try c.query("""
                SELECT * FROM z_reports WHERE period_to >= ? AND period_from < ?\(store == nil ? "" : " AND store_id = ?") ORDER BY store_id, till_id, number
                """, [.int(period.start), .int(period.end)] + (store.map { [.text($0)] } ?? [])).map {
                ZReportRow(store: $0.text("store_id"), till: $0.text("till_id"), number: $0.int("number"), from: $0.int("period_from"),
                           to: $0.int("period_to"), sales: $0.int("sales_count"), net: $0.int("net_sales"))
            }
        }
    }

    /// Spend by partner × category, members and not, in the period.
    public func partnerBaskets(_ period: CashbackPeriod) throws -> [BasketCell] {
        try rollUpReports()
        return try database.read { c in
            try c.query("""
                SELECT partner, category, member, SUM(amount) AS amount, SUM(baskets) AS baskets FROM basket_days WHERE day BETWEEN ? AND ?
                GROUP BY partner, category, member ORDER BY partner, category, member
                """, [.int(period.start / 86_400_000), .int((period.end - 1) / 86_400_000)]).map {
                BasketCell(partner: $0.text("partner"), category: $0.text("category"), member: $0.int("member") == 1, amount: $0.int("amount"),
                           baskets: $0.int("baskets"))
            }
        }
    }

    /// The programme's liability at `time`: the points on cards that can still use them, their
    /// value by the redemption table, what expires within a month, and the months' movements.
    /// `expiring: false` leaves out what expires within a month (a scan of every card's ledger).
    public func liability(at time: Int64 = HeadOfficeStore.now(), months: Int = 12, expiring: Bool = true) throws -> Liability {
        let programme = try latestProgramme()
        // The first day of the month `months - 1` months before this one.
        let (y, m, _) = ProtocolTime.civil(fromDays: time / 86_400_000)
        let back = y * 12 + (m - 1) - Int64(max(0, min(months, 240)) - 1)
        let start = ProtocolTime.daysFromCivil(back / 12, back % 12 + 1, 1) * 86_400_000
        var result = try database.read { c in
            // Each card's balance valued as the programme values a redemption of all of it (by
            // balance, however many cards hold it), added without a trap.
            var outstanding: Int64 = 0, value: Int64 = 0
            for r in try c.query("""
                SELECT balance, COUNT(*) AS n FROM cards WHERE balance > 0 AND status IN ('active', 'blocked', 'lost') GROUP BY balance
                """, []) {
                let each = programme?.value(ofPoints: Points(r.int("balance"))) ?? 0
                let (points, o1) = r.int("balance").multipliedReportingOverflow(by: r.int("n"))
                let (money, o2) = each.multipliedReportingOverflow(by: r.int("n"))
                outstanding = outstanding.addingClamped(o1 ? .max : points)
                value = value.addingClamped(o2 ? .max : money)
            }
            var byMonth: [Int64: [String: Int64]] = [:]
            for r in try c.query("""
                SELECT created_at / 86400000 AS day, kind, SUM(points) AS points FROM ledger WHERE created_at >= ? AND created_at < ?
                GROUP BY created_at / 86400000, kind
                """, [.int(start), .int(time)]) {
                let (y, m, _) = ProtocolTime.civil(fromDays: r.int("day"))
                byMonth[y * 100 + m, default: [:]][r.text("kind"), default: 0] = (byMonth[y * 100 + m]?[r.text("kind")] ?? 0).addingClamped(r.int("points"))
            }
            let list = byMonth.keys.sorted().map { key -> Liability.Month in
                let k = byMonth[key]!
                func sum(_ kinds: Set<String>) -> Int64 { k.filter { kinds.contains($0.key) }.reduce(Int64(0)) { $0.addingClamped($1.value) } }
                return Liability.Month(month: "\(key / 100)-\(key % 100 < 10 ? "0" : "")\(key % 100)", issued: sum(Self.issuedKinds),
                                       redeemed: -sum(Self.redeemedKinds), expired: -sum(["expire"]), converted: -sum(["cashback"]))
            }
            return Liability(outstanding: outstanding, value: value, expiringNextMonth: 0, months: list)
        }
        if expiring, let expiry = programme?.expiry {
            let cutoff = expiry.cutoff(at: time + 31 * 86_400_000)
            result.expiringNextMonth = try database.read { c in
                try c.query(Self.ageSQL(where: "c.balance > 0"), [.int(cutoff)]).reduce(Int64(0)) { $0.addingClamped(max(0, Self.expiring($1))) }
            }
        }
        return result
    }
}
