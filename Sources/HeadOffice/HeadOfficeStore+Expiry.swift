import Foundation
import TillCore
import TillProtocol

/// What an expiry run did.
public struct ExpiryRun: Sendable, Equatable {
    /// Points earned before this instant expired.
    public var cutoff: Int64
    public var cards: Int
    public var points: Int64
}

/// Points of a card that expire soon.
public struct ExpiringPoints: Sendable, Equatable {
    public var points: Int64
    /// They expire at the latest by this instant (epoch ms).
    public var by: Int64
}

extension HeadOfficeStore {
    /// Positive movements that give back points spent (a reservation released, redeemed points
    /// returned): they undo a use, they are not new points with a new age.
    static let restoring: Set<String> = ["release", "return-redeem", "channel-refund"]
    static let restoringKinds = "(" + restoring.sorted().map { "'\($0)'" }.joined(separator: ", ") + ")"

    /// Per card: the points earned before `cutoff` and the points used since the card began
    /// (every negative movement, expiries included, less what was given back). Points are used
    /// oldest first, so what was earned before the cutoff and is not used yet is `old - used`.
    static func ageSQL(where condition: String) -> String {
        """
        SELECT l.card_number, c.balance,
            SUM(CASE WHEN l.points > 0 AND l.kind NOT IN \(restoringKinds) AND l.created_at < ? THEN l.points ELSE 0 END) AS old,
            SUM(CASE WHEN l.points < 0 OR l.kind IN \(restoringKinds) THEN -l.points ELSE 0 END) AS used
        FROM ledger l JOIN cards c ON c.number = l.card_number
        WHERE \(condition)
        GROUP BY l.card_number, c.balance
        """
    }

    /// What a row of `ageSQL` says expires: the points earned before the cutoff and not used
    /// since, never more than the card holds (sums from the database, combined without a trap).
    static func expiring(_ row: SQLRow) -> Int64 {
        let (left, overflow) = row.int("old").subtractingReportingOverflow(row.int("used"))
        return min(overflow ? (row.int("used") < 0 ? Int64.max : Int64.min) : left, row.int("balance"))
    }

    /// Expires every card's points earned before the programme's cutoff at `time` and not used
    /// since, oldest first; never more than the card holds. Running again expires nothing more
    /// (the expiry itself is a use). A card a till moves during the run is left for the next run.
    public func runExpiry(at time: Int64 = HeadOfficeStore.now(), chunk: Int = 500) throws -> ExpiryRun {
        guard let expiry = try latestProgramme()?.expiry else {
            throw ServiceError("The programme in force has no expiry section: points do not expire")
        }
        let cutoff = expiry.cutoff(at: time)
        let due = try database.read { c in
            try c.query(Self.ageSQL(where: "c.balance > 0") + " HAVING SUM(CASE WHEN l.points > 0 AND l.kind NOT IN \(Self.restoringKinds) AND l.created_at < ? THEN l.points ELSE 0 END) > 0",
                        [.int(cutoff), .int(cutoff)])
                .compactMap { row -> (String, Int64, Int64)? in
                    let expiring = Self.expiring(row)
                    return expiring > 0 ? (row.text("card_number"), row.int("balance"), expiring) : nil
                }
        }
        let day = ProtocolTime.format(cutoff, timeZone: TimeZone(identifier: "UTC")!).prefix(10)
        var run = ExpiryRun(cutoff: cutoff, cards: 0, points: 0)
        var start = 0
        while start < due.count {
            let slice = due[start..<min(due.count, start + chunk)]
            start += chunk
            let (n, points) = try database.write { c -> (Int, Int64) in
                var n = 0, points: Int64 = 0
                var moves: [[String: Any]] = []
                for (number, balance, expiring) in slice {
                    // Conditional on the balance read: a sale meanwhile leaves the card for the next run.
                    guard try c.execute("UPDATE cards SET balance = balance - ?, updated_at = ? WHERE number = ? AND balance = ?",
                                        [.int(expiring), .int(time), .text(number), .int(balance)]) == 1 else { continue }
                    try c.execute("INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, created_at) VALUES (?, ?, 'expire', ?, 'expiry', ?, ?)",
                                  [.text(number), .text("EXP-\(day)-\(number)"), .int(-expiring), .text("Points earned before \(day) expired"), .int(time)])
                    moves.append(["document": "EXP-\(day)-\(number)", "kind": "expire", "card": number, "delta": -expiring, "balance": balance - expiring])
                    n += 1
                    points += expiring
                }
                if !moves.isEmpty, try c.queryOne("SELECT id FROM webhooks WHERE revoked_at IS NULL LIMIT 1", []) != nil {
                    try Self.emit(.ledgerMovements, ["source": "expiry", "movements": moves], c, at: time)
                }
                return (n, points)
            }
            run.cards += n
            run.points += points
        }
        return run
    }

    /// A card's points that expire within the notice days of `time` (those past their time that
    /// tonight's run takes too), by when: its lots, oldest first, less what was used (oldest first).
    static func expirySchedule(_ number: String, expiry: LoyaltyProgramme.Expiry, balance: Int64, at time: Int64,
                               _ c: any SQLConnection) throws -> [ExpiringLot] {
        var lots: [(at: Int64, points: Int64)] = []
        var used: Int64 = 0
        for r in try c.query("SELECT kind, points, created_at FROM ledger WHERE card_number = ? ORDER BY created_at, id", [.text(number)]) {
            let p = r.int("points")
            if p > 0 && !restoring.contains(r.text("kind")) { lots.append((r.int("created_at"), p)) } else { used = used.addingClamped(-p) }
        }
        let horizon = time + max(1, expiry.noticeDays) * 86_400_000
        var out: [ExpiringLot] = []
        var total: Int64 = 0
        for lot in lots {
            let taken = min(max(0, used), lot.points)
            used -= taken
            let left = min(lot.points - taken, balance - total)
            guard left > 0 else { continue }
            let when = expiry.expiresAt(earnedAt: lot.at)
            if when > horizon { break }
            if let last = out.last, last.at == when { out[out.count - 1].points += left } else { out.append(ExpiringLot(points: left, at: when)) }
            total += left
            if out.count == 10 { break }
        }
        return out
    }

    /// Runs expiry once a day (UTC): nil when the programme has none or today's run is done.
    /// Two head office processes may both run it: the second expires nothing more.
    public func runDueExpiry(at time: Int64 = HeadOfficeStore.now()) throws -> ExpiryRun? {
        guard try latestProgramme()?.expiry != nil else { return nil }
        let today = String(ProtocolTime.format(time, timeZone: TimeZone(identifier: "UTC")!).prefix(10))
        let last = try database.read { c in try c.queryOne("SELECT value FROM options WHERE name = 'expiry_day'", [])?.text("value") }
        guard last != today else { return nil }
        let run = try runExpiry(at: time)
        try queueExpiryNotices(at: time)
        _ = try database.write { c in
            try c.execute("INSERT INTO options (name, value) VALUES ('expiry_day', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", [.text(today)])
        }
        return run
    }

    /// An e-mail telling a member that points expire soon.
    public struct ExpiryNotice: Sendable, Equatable {
        public var card: String, month: String, points: Int64, by: Int64, email: String, name: String
    }

    /// Queues a notice for each card of a member who agreed to hear from us and gave an e-mail
    /// address, whose points expire within the programme's notice days: once per card and month
    /// of expiry. Returns how many were queued.
    @discardableResult
    public func queueExpiryNotices(at time: Int64 = HeadOfficeStore.now()) throws -> Int {
        guard let expiry = try latestProgramme()?.expiry, expiry.noticeDays > 0 else { return 0 }
        let by = time + expiry.noticeDays * 86_400_000
        let cutoff = expiry.cutoff(at: by)
        let month = String(ProtocolTime.format(by, timeZone: TimeZone(identifier: "UTC")!).prefix(7))
        let due = try database.read { c in
            try c.query(Self.ageSQL(where: """
                c.balance > 0 AND c.status = 'active' AND EXISTS (SELECT 1 FROM customers cu WHERE cu.id = c.customer_id AND cu.marketing_consent = 1
                    AND cu.email IS NOT NULL AND cu.erased_at IS NULL)
                """), [.int(cutoff)]).compactMap { row -> (String, Int64)? in
                let points = Self.expiring(row)
                return points > 0 ? (row.text("card_number"), points) : nil
            }
        }
        guard !due.isEmpty else { return 0 }
        return try database.write { c in
            var queued = 0
            for part in stride(from: 0, to: due.count, by: Self.rowsPerStatement).map({ due[$0..<min(due.count, $0 + Self.rowsPerStatement)] }) {
                queued += try c.execute("""
                    INSERT INTO expiry_notices (card_number, month, points, expires_by, created_at) VALUES \(Array(repeating: "(?, ?, ?, ?, ?)", count: part.count).joined(separator: ", "))
                    ON CONFLICT (card_number, month) DO NOTHING
                    """, part.flatMap { [SQLValue.text($0.0), .text(month), .int($0.1), .int(by), .int(time)] })
            }
            return queued
        }
    }

    /// Notices not yet sent, oldest first.
    public func expiryNoticesToSend(limit: Int = 100) throws -> [ExpiryNotice] {
        try database.read { c in
            try c.query("""
                SELECT n.card_number, n.month, n.points, n.expires_by, cu.email, cu.first_name
                FROM expiry_notices n JOIN cards ca ON ca.number = n.card_number JOIN customers cu ON cu.id = ca.customer_id
                WHERE n.mailed_at IS NULL AND cu.marketing_consent = 1 AND cu.email IS NOT NULL AND cu.erased_at IS NULL
                ORDER BY n.created_at, n.card_number LIMIT ?
                """, [.int(Int64(limit))]).map {
                ExpiryNotice(card: $0.text("card_number"), month: $0.text("month"), points: $0.int("points"), by: $0.int("expires_by"),
                             email: $0.text("email"), name: $0.text("first_name"))
            }
        }
    }

    public func markExpiryNoticeSent(card: String, month: String, at time: Int64 = HeadOfficeStore.now()) throws {
        try database.write { c in
            _ = try c.execute("UPDATE expiry_notices SET mailed_at = ? WHERE card_number = ? AND month = ?", [.int(time), .text(card), .text(month)])
        }
    }

    /// The card's points that expire within the programme's notice days of `time` (nil: none, or
    /// points do not expire).
    public func expiringPoints(_ number: String, at time: Int64 = HeadOfficeStore.now()) throws -> ExpiringPoints? {
        guard let expiry = try latestProgramme()?.expiry else { return nil }
        let by = time + max(1, expiry.noticeDays) * 86_400_000
        let cutoff = expiry.cutoff(at: by)
        return try database.read { c in
            guard let row = try c.queryOne(Self.ageSQL(where: "l.card_number = ?"), [.int(cutoff), .text(number)]) else { return nil }
            let points = Self.expiring(row)
            return points > 0 ? ExpiringPoints(points: points, by: by) : nil
        }
    }
}
