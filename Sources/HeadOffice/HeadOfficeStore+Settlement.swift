import Foundation
public import TillCore
import TillProtocol

/// One line of a partner's statement. `points` is the ledger's own sum (issued positive, redeemed
/// and converted negative); `amount` is money, minor units: positive when the partner owes the
/// programme, negative when the programme owes the partner.
public struct SettlementLine: Sendable, Equatable, Codable {
    /// issued, redeemed, cashback or correction.
    public var kind: String
    public var label: String
    public var points: Int64
    /// Minor units per 100 points (nil: a line with its own amount).
    public var rate: Int64?
    public var amount: Int64
}

/// A partner's statement for a period: live until the period is closed, then kept as it was.
public struct SettlementStatement: Sendable, Equatable {
    public var partner: Partner
    public var period: String
    public var lines: [SettlementLine]
    public var closedAt: Int64?
    public var closedBy: String?
    /// What the partner owes the programme (negative: what it is owed).
    public var net: Int64 { lines.reduce(Int64(0)) { $0.addingClamped($1.amount) } }
}

/// Movements of the period that belong to no partner: the programme's own.
public struct ProgrammeMovement: Sendable, Equatable {
    /// expired, converted (cashback with no payer partner), service (adjustments, transfers, forfeits), other.
    public var kind: String
    public var label: String
    public var points: Int64
}

/// A period's settlement: every partner's statement, the programme's own movements, and the check
/// against the ledger (the points of all lines = the ledger's movements of the period).
public struct Settlement: Sendable, Equatable {
    public var period: CashbackPeriod
    public var statements: [SettlementStatement]
    public var programme: [ProgrammeMovement]
    public var ledgerPoints: Int64
    public var closed: Bool { !statements.isEmpty && statements.allSatisfy { $0.closedAt != nil } }
    public var statementPoints: Int64 {
        statements.reduce(Int64(0)) { $0.addingClamped($1.lines.filter { $0.kind != "correction" }.reduce(Int64(0)) { $0.addingClamped($1.points) }) }
            .addingClamped(programme.reduce(Int64(0)) { $0.addingClamped($1.points) })
    }
    public var reconciled: Bool { statementPoints == ledgerPoints }
}

extension HeadOfficeStore {
    /// The ledger's kinds, by what a statement makes of them.
    static let issuedKinds: Set<String> = ["earn", "welcome", "return-earn", "reversal"]
    static let redeemedKinds: Set<String> = ["redeem", "return-redeem", "reserve", "release", "channel-refund"]

    /// Money for `points` at `rate` minor units per 100 points, rounded half away from zero
    /// (full-width: no bound on the points can make it trap).
    static func settlementMoney(_ points: Int64, rate: Int64) -> Int64 {
        let (hi, lo) = points.magnitude.multipliedFullWidth(by: UInt64(rate))
        let (q, r) = UInt64(100).dividingFullWidth((hi, lo))
        let rounded = r >= 50 ? q &+ 1 : q
        let value = Int64(clamping: rounded)
        return points < 0 ? -value : value
    }

    /// The statements of `period` (closed ones as they were closed, open ones from the ledger now).
    public func settlement(_ period: CashbackPeriod) throws -> Settlement {
        try database.read { c in try Self.settlement(period, c) }
    }

    static func settlement(_ period: CashbackPeriod, _ c: any SQLConnection) throws -> Settlement {
        let partners = try c.query("SELECT * FROM partners ORDER BY CASE WHEN kind = 'chain' THEN 0 ELSE 1 END, id", []).map(partner)
        let byID = Dictionary(uniqueKeysWithValues: partners.map { ($0.id, $0) })
        let payer = partners.first { $0.cashbackPayer }
        // The period's ledger by where the movement came from and its kind.
        var issued: [String: Int64] = [:], redeemed: [String: Int64] = [:]
        var programme: [String: Int64] = [:]
        var ledgerPoints: Int64 = 0
        for row in try c.query("""
            SELECT store_id, CASE WHEN till_id IS NULL THEN 0 ELSE 1 END AS at_till, kind, SUM(points) AS points
            FROM ledger WHERE created_at >= ? AND created_at < ?
            GROUP BY store_id, CASE WHEN till_id IS NULL THEN 0 ELSE 1 END, kind
            """, [.int(period.start), .int(period.end)]) {
            let points = row.int("points"), kind = row.text("kind")
            ledgerPoints = ledgerPoints.addingClamped(points)
            let source = row["store_id"].text
            // A till's movement is the chain's; a partner's channel its own; another channel the chain's.
            let owner: String? = row.int("at_till") == 1 ? "chain" : source.map { byID[$0] != nil && byID[$0]!.kind != .chain ? $0 : "chain" }
            if let owner, issuedKinds.contains(kind) {
                issued[owner, default: 0] = issued[owner, default: 0].addingClamped(points)
            } else if let owner, redeemedKinds.contains(kind) {
                redeemed[owner, default: 0] = redeemed[owner, default: 0].addingClamped(points)
            } else if kind == "cashback" && payer != nil {
                programme["cashback-paid", default: 0] = programme["cashback-paid", default: 0].addingClamped(points)
            } else {
                let group = kind == "expire" ? "expired" : kind == "cashback" ? "converted" : issuedKinds.contains(kind) || redeemedKinds.contains(kind) ? "other" : "service"
                programme[group, default: 0] = programme[group, default: 0].addingClamped(points)
            }
        }
        let cashbackAmount = try c.queryOne("SELECT COALESCE(SUM(amount), 0) AS a FROM cashback_payouts WHERE created_at >= ? AND created_at < ?",
                                            [.int(period.start), .int(period.end)])?.int("a") ?? 0
        let closed = Dictionary(uniqueKeysWithValues: try c.query("SELECT * FROM settlements WHERE period = ?", [.text(period.id)]).map {
            ($0.text("partner"), (at: $0.int("closed_at"), by: $0.text("closed_by")))
        })
        var statements: [SettlementStatement] = []
        for p in partners {
            if let done = closed[p.id] {
                let lines = try c.query("SELECT * FROM settlement_lines WHERE partner = ? AND period = ? ORDER BY line", [.text(p.id), .text(period.id)]).map {
                    SettlementLine(kind: $0.text("kind"), label: $0.text("label"), points: $0.int("points"), rate: $0["rate"].int, amount: $0.int("amount"))
                }
                statements.append(SettlementStatement(partner: p, period: period.id, lines: lines, closedAt: done.at, closedBy: done.by))
                continue
            }
            var lines: [SettlementLine] = [
                SettlementLine(kind: "issued", label: "Points issued by \(p.name)", points: issued[p.id] ?? 0, rate: p.issueRate,
                               amount: settlementMoney(issued[p.id] ?? 0, rate: p.issueRate)),
                SettlementLine(kind: "redeemed", label: "Points redeemed with \(p.name)", points: redeemed[p.id] ?? 0, rate: p.redeemRate,
                               amount: settlementMoney(redeemed[p.id] ?? 0, rate: p.redeemRate)),
            ]
            if p.cashbackPayer {
                lines.append(SettlementLine(kind: "cashback", label: "Cashback paid to members' cards", points: programme["cashback-paid"] ?? 0, rate: nil,
                                            amount: -cashbackAmount))
            }
            // Corrections to closed periods, made since, not yet on a statement.
            for r in try c.query("""
                SELECT * FROM settlement_corrections WHERE partner = ? AND period IS NULL ORDER BY id
                """, [.text(p.id)]) where (CashbackPeriod.parse(r.text("corrects"))?.end ?? .max) <= period.start {
                lines.append(SettlementLine(kind: "correction", label: "Correction to \(r.text("corrects")): \(r.text("note"))", points: 0, rate: nil,
                                            amount: r.int("amount")))
            }
            statements.append(SettlementStatement(partner: p, period: period.id, lines: lines, closedAt: nil, closedBy: nil))
        }
        var programmeLines: [ProgrammeMovement] = []
        let labels = ["cashback-paid": "Converted to cashback (on the payer's statement)", "converted": "Converted to cashback",
                      "expired": "Expired", "service": "Customer service (adjustments, card replacements, forfeits)", "other": "Other movements"]
        for key in ["cashback-paid", "converted", "expired", "service", "other"] where programme[key] != nil {
            programmeLines.append(ProgrammeMovement(kind: key, label: labels[key]!, points: programme[key]!))
        }
        // The payer's cashback line carries these points; the programme's lines list them once.
        if payer != nil, let i = programmeLines.firstIndex(where: { $0.kind == "cashback-paid" }) {
            programmeLines.remove(at: i)
        }
        return Settlement(period: period, statements: statements, programme: programmeLines, ledgerPoints: ledgerPoints)
    }

    /// Closes every partner's statement of `period` (one that has ended): its lines are kept as
    /// they are now and never change; a correction goes on a later period's statement.
    /// Closing again does nothing.
    @discardableResult
    public func closeSettlement(_ period: CashbackPeriod, by user: String, at time: Int64 = HeadOfficeStore.now()) throws -> Settlement {
        guard period.end <= time else {
            throw ServiceError("\(period.id) has not ended yet (it ends \(ProtocolTime.format(period.end))): a period is closed once it is over")
        }
        return try database.write { c in
            let now = try Self.settlement(period, c)
            guard now.reconciled else {
                throw ServiceError("\(period.id)'s statements come to \(now.statementPoints) points but the ledger moved \(now.ledgerPoints): nothing was closed; report this")
            }
            for s in now.statements where s.closedAt == nil {
                guard try c.execute("""
                    INSERT INTO settlements (partner, period, closed_at, closed_by, ledger_points) VALUES (?, ?, ?, ?, ?) ON CONFLICT (partner, period) DO NOTHING
                    """, [.text(s.partner.id), .text(period.id), .int(time), .text(user), .int(now.ledgerPoints)]) == 1 else { continue }
                for (i, l) in s.lines.enumerated() {
                    try c.execute("INSERT INTO settlement_lines (partner, period, line, kind, label, points, rate, amount) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                  [.text(s.partner.id), .text(period.id), .int(Int64(i + 1)), .text(l.kind), .text(l.label), .int(l.points),
                                   SQLValue(l.rate), .int(l.amount)])
                }
                try c.execute("""
                    UPDATE settlement_corrections SET period = ? WHERE partner = ? AND period IS NULL AND id IN (\(Self.correctionIDs(s.partner.id, before: period, c)))
                    """, [.text(period.id), .text(s.partner.id)])
            }
            return try Self.settlement(period, c)
        }
    }

    static func correctionIDs(_ partner: String, before period: CashbackPeriod, _ c: any SQLConnection) throws -> String {
        let ids = try c.query("SELECT id, corrects FROM settlement_corrections WHERE partner = ? AND period IS NULL", [.text(partner)])
            .filter { (CashbackPeriod.parse($0.text("corrects"))?.end ?? .max) <= period.start }.map { String($0.int("id")) }
        return ids.isEmpty ? "NULL" : ids.joined(separator: ",")
    }

    /// A correction to a closed statement: money the partner owes (positive) or is owed, put on
    /// the next statement closed after the corrected period.
    public func addSettlementCorrection(partner: String, corrects period: CashbackPeriod, amount: Int64, note: String, by user: String,
                                        at time: Int64 = HeadOfficeStore.now()) throws {
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (3...200).contains(note.count) else { throw ServiceError("Say what the correction is for (3 to 200 characters)") }
        guard amount != 0, (-1_000_000_000_000...1_000_000_000_000).contains(amount) else {
            throw ServiceError("A correction is a non-zero amount of at most 10,000,000,000.00, not \(amount) minor units")
        }
        try database.write { c in
            guard try c.queryOne("SELECT partner FROM settlements WHERE partner = ? AND period = ?", [.text(partner), .text(period.id)]) != nil else {
                throw ServiceError("\(partner)'s statement for \(period.id) is not closed: it is worked out from the ledger until it is, so there is nothing to correct")
            }
            try c.execute("INSERT INTO settlement_corrections (partner, corrects, amount, note, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                          [.text(partner), .text(period.id), .int(amount), .text(note), .text(user), .int(time)])
        }
    }

    /// A partner's statement as CSV: partner, period, line, kind, label, points, rate per 100 points, amount.
    /// A CSV field: quoted when it holds a comma, a quote or a line break.
    static func csvField(_ v: String) -> String {
        v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : v
    }

    public static func settlementCSV(_ s: SettlementStatement, currency: Currency) -> String {
        let field = csvField
        var csv = "partner,period,line,kind,label,points,rate_per_100_points,amount\n"
        for (i, l) in s.lines.enumerated() {
            csv += [s.partner.id, s.period, String(i + 1), l.kind, field(l.label), String(l.points), l.rate.map { currency.format($0) } ?? "",
                    currency.format(l.amount)].joined(separator: ",") + "\n"
        }
        csv += [s.partner.id, s.period, "", "net", s.net >= 0 ? "owed by \(field(s.partner.name))" : "owed to \(field(s.partner.name))", "", "",
                currency.format(s.net)].joined(separator: ",") + "\n"
        return csv
    }
}
