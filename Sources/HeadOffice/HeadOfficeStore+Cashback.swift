import Foundation
public import TillCore
import TillDocuments
import TillProtocol

/// A cashback period: `2026-11` (monthly), `2026-Q4` (quarterly) or `2026` (yearly), in UTC.
public struct CashbackPeriod: Sendable, Equatable, CustomStringConvertible {
    public var id: String
    /// Epoch milliseconds: the first instant of the period and the first after it.
    public var start: Int64
    public var end: Int64
    public var description: String { id }

    static func epoch(_ year: Int, _ month: Int) -> Int64 {
        let days = ProtocolTime.daysFromCivil(Int64(year), Int64(month), 1)
        return days * 86_400_000
    }

    /// The period `id` names, or nil when it is none.
    public static func parse(_ id: String) -> CashbackPeriod? {
        let parts = id.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard let year = Int(parts[0]), parts[0].count == 4, (2000...2200).contains(year) else { return nil }
        if parts.count == 1 { return CashbackPeriod(id: id, start: epoch(year, 1), end: epoch(year + 1, 1)) }
        guard parts.count == 2 else { return nil }
        if parts[1].hasPrefix("Q"), let q = Int(parts[1].dropFirst()), (1...4).contains(q), parts[1].count == 2 {
            let m = (q - 1) * 3 + 1
            return CashbackPeriod(id: id, start: epoch(year, m), end: q == 4 ? epoch(year + 1, 1) : epoch(year, m + 3))
        }
        guard let m = Int(parts[1]), parts[1].count == 2, (1...12).contains(m) else { return nil }
        return CashbackPeriod(id: id, start: epoch(year, m), end: m == 12 ? epoch(year + 1, 1) : epoch(year, m + 1))
    }

    /// The last whole period of `schedule` that ended at or before `time`.
    public static func lastEnded(_ schedule: LoyaltyProgramme.Cashback.Schedule, before time: Int64) -> CashbackPeriod {
        let (y, m, _) = ProtocolTime.civil(fromDays: time / 86_400_000)
        let year = Int(y), month = Int(m)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        switch schedule {
        case .monthly:
            let (py, pm) = month == 1 ? (year - 1, 12) : (year, month - 1)
            return parse("\(py)-\(two(pm))")!
        case .quarterly:
            let q = (month - 1) / 3 + 1
            let (py, pq) = q == 1 ? (year - 1, 4) : (year, q - 1)
            return parse("\(py)-Q\(pq)")!
        case .yearly:
            return parse("\(year - 1)")!
        }
    }
}

/// What a cashback run did for a period.
public struct CashbackRun: Sendable, Equatable {
    public var period: String
    public var state: String
    public var cards: Int64
    public var points: Int64
    /// Money paid out, minor units.
    public var amount: Int64
    /// This call converted nothing: the period was already done.
    public var alreadyDone: Bool
}

/// One line of a payout file for the bank.
public struct CashbackPayout: Sendable, Equatable {
    public var card: String
    public var points: Int64
    public var amount: Int64
    public var reference: String
}

extension HeadOfficeStore {
    /// Converts every eligible card's points to money for `period`, once: each active member's
    /// card at or above the minimum gives all its points, by the cashback table, as one `cashback`
    /// movement and one payout line. Cards go 500 to a transaction; a run killed midway and run
    /// again converts the rest and nobody twice (a payout per period and card); a card a till
    /// moved meanwhile is converted after that sale, never with its balance from before.
    /// `afterChunk` is told how many cards are converted so far (and may stop the run by throwing).
    public func runCashback(period: CashbackPeriod, at time: Int64 = HeadOfficeStore.now(), chunk: Int = 500,
                            afterChunk: (Int) throws -> Void = { _ in }) throws -> CashbackRun {
        guard let programme = try latestProgramme(), programme.cashback != nil else {
            throw ServiceError("The programme in force has no cashback section: there is nothing to convert")
        }
        let minimum = programme.cashback!.minimumPoints.count
        let started = try database.write { c -> Bool in
            if let done = try c.queryOne("SELECT state FROM cashback_runs WHERE period = ?", [.text(period.id)]), done.text("state") == "done" { return false }
            try c.execute("""
                INSERT INTO cashback_runs (period, programme_version, started_at, state) VALUES (?, ?, ?, 'running') ON CONFLICT (period) DO NOTHING
                """, [.text(period.id), .text(programme.version), .int(time)])
            return true
        }
        guard started else { return try cashbackRun(period.id, alreadyDone: true)! }
        let currency = Currency(code: programme.currency) ?? .eur
        var converted = try database.read { c in
            try c.queryOne("SELECT COUNT(*) AS n FROM cashback_payouts WHERE period = ?", [.text(period.id)])?.int("n") ?? 0
        }
        // Passes over the cards in number order until one converts nothing (a card a till moved
        // between the read and the update is taken in the next pass).
        while true {
            var after = "", convertedThisPass = 0
            while true {
                let due = try database.read { c in
                    try c.query("""
                        SELECT c.number, c.balance FROM cards c WHERE c.number > ? AND c.customer_id IS NOT NULL AND c.status = 'active' AND c.balance >= ?
                            AND c.balance > 0 AND NOT EXISTS (SELECT 1 FROM cashback_payouts p WHERE p.period = ? AND p.card_number = c.number)
                        ORDER BY c.number LIMIT ?
                        """, [.text(after), .int(minimum), .text(period.id), .int(Int64(chunk))]).map { ($0.text("number"), $0.int("balance")) }
                }
                guard let last = due.last else { break }
                after = last.0
                let n = try database.write { c -> Int in
                    let wanted = due.compactMap { number, balance in
                        programme.cashback(balance: Points(balance)).map { (number: number, balance: balance, points: $0.points.count, amount: $0.amount) }
                    }
                    guard !wanted.isEmpty else { return 0 }
                    // One statement moves the chunk's cards, each only if its balance is still the one
                    // read: a sale that moved a card meanwhile leaves it for the next pass.
                    // (The cards are found by their key, IN; each one's figures by CASE: SQLite's planner
                    // would scan the cards for every row of a joined VALUES list.)
                    let whens = Array(repeating: "WHEN ? THEN CAST(? AS BIGINT)", count: wanted.count).joined(separator: " ")
                    let moved = Set(try c.query("""
                        UPDATE cards SET balance = balance - (CASE number \(whens) END), updated_at = ?
                        WHERE number IN (\(Self.placeholders(wanted.count))) AND status = 'active' AND balance = (CASE number \(whens) END)
                        RETURNING number
                        """, wanted.flatMap { [SQLValue.text($0.number), .int($0.points)] } + [.int(time)] + wanted.map { .text($0.number) }
                            + wanted.flatMap { [SQLValue.text($0.number), .int($0.balance)] }).map { $0.text("number") })
                    let done = wanted.filter { moved.contains($0.number) }
                    guard !done.isEmpty else { return 0 }
                    var inserted = 0
                    for part in stride(from: 0, to: done.count, by: Self.rowsPerStatement).map({ done[$0..<min(done.count, $0 + Self.rowsPerStatement)] }) {
                        inserted += try c.execute("""
                            INSERT INTO cashback_payouts (period, card_number, points, amount, reference, created_at) VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?)", count: part.count).joined(separator: ", "))
                            ON CONFLICT (period, card_number) DO NOTHING
                            """, part.flatMap { [SQLValue.text(period.id), .text($0.number), .int($0.points), .int($0.amount), .text("CB-\(period.id)-\($0.number)"), .int(time)] })
                    }
                    guard inserted == done.count else {
                        throw SQLError("\(done.count - inserted) cards were converted for \(period.id) by another run at the same time: this run stops, run it again")
                    }
                    try Self.insertRows(c, "INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, created_at)", done.map {
                        [.text($0.number), .text("CB-\(period.id)-\($0.number)"), .int(-$0.points), .text("Cashback \(period.id): \(currency.format($0.amount))"), .int(time)]
                    }, values: "(?, ?, 'cashback', ?, 'cashback', ?, ?)")
                    if try c.queryOne("SELECT id FROM webhooks WHERE revoked_at IS NULL LIMIT 1", []) != nil {
                        let moves: [[String: Any]] = done.map {
                            ["document": "CB-\(period.id)-\($0.number)", "kind": "cashback", "card": $0.number, "delta": -$0.points, "balance": $0.balance - $0.points]
                        }
                        try Self.emit(.ledgerMovements, ["source": "cashback", "period": period.id, "movements": moves], c, at: time)
                    }
                    return done.count
                }
                converted += Int64(n)
                convertedThisPass += n
                try afterChunk(Int(converted))
            }
            if convertedThisPass == 0 { break }
        }
        _ = try database.write { c in
            try c.execute("""
                UPDATE cashback_runs SET state = 'done', finished_at = ?,
                    cards = (SELECT COUNT(*) FROM cashback_payouts WHERE period = ?),
                    points = (SELECT COALESCE(SUM(points), 0) FROM cashback_payouts WHERE period = ?),
                    amount = (SELECT COALESCE(SUM(amount), 0) FROM cashback_payouts WHERE period = ?)
                WHERE period = ?
                """, [.int(time), .text(period.id), .text(period.id), .text(period.id), .text(period.id)])
        }
        return try cashbackRun(period.id, alreadyDone: false)!
    }

    /// A period's run as head office has it (nil: never started).
    public func cashbackRun(_ period: String, alreadyDone: Bool = false) throws -> CashbackRun? {
        try database.read { c in
            try c.queryOne("SELECT * FROM cashback_runs WHERE period = ?", [.text(period)]).map {
                CashbackRun(period: period, state: $0.text("state"), cards: $0["cards"].int ?? 0, points: $0["points"].int ?? 0, amount: $0["amount"].int ?? 0,
                            alreadyDone: alreadyDone)
            }
        }
    }

    public func cashbackRuns() throws -> [CashbackRun] {
        try database.read { c in
            try c.query("SELECT * FROM cashback_runs ORDER BY started_at DESC", []).map {
                CashbackRun(period: $0.text("period"), state: $0.text("state"), cards: $0["cards"].int ?? 0, points: $0["points"].int ?? 0,
                            amount: $0["amount"].int ?? 0, alreadyDone: false)
            }
        }
    }

    /// The payout file's lines for a period, by card.
    public func cashbackPayouts(_ period: String) throws -> [CashbackPayout] {
        try database.read { c in
            try c.query("SELECT * FROM cashback_payouts WHERE period = ? ORDER BY card_number", [.text(period)]).map {
                CashbackPayout(card: $0.text("card_number"), points: $0.int("points"), amount: $0.int("amount"), reference: $0.text("reference"))
            }
        }
    }

    /// A period's payout file for the bank: CSV, card, amount, reference.
    public func cashbackPayoutCSV(_ period: String, currency: Currency) throws -> (csv: String, lines: Int) {
        let lines = try cashbackPayouts(period)
        return ("card,amount,reference\n" + lines.map { "\($0.card),\(currency.format($0.amount)),\($0.reference)\n" }.joined(), lines.count)
    }

    /// The period the schedule says is due now, if any: the last one that ended, when it ended
    /// after the programme first came to head office (an installation does not pay out for the
    /// months before it) and is not done.
    public func dueCashbackPeriod(at time: Int64 = HeadOfficeStore.now()) throws -> CashbackPeriod? {
        guard let cashback = try latestProgramme()?.cashback else { return nil }
        let period = CashbackPeriod.lastEnded(cashback.schedule, before: time)
        let since = try database.read { c in try c.queryOne("SELECT MIN(imported_at) AS t FROM programmes", [])?["t"].int } ?? time
        guard period.end > since, try cashbackRun(period.id)?.state != "done" else { return nil }
        return period
    }

    /// A statement e-mail waiting to go: a converted card of a member who agreed to hear from us
    /// and gave an e-mail address.
    public struct CashbackStatement: Sendable, Equatable {
        public var period: String, card: String, points: Int64, amount: Int64, reference: String, email: String, name: String
    }

    /// Statements not yet sent, oldest first.
    public func cashbackStatementsToSend(limit: Int = 100) throws -> [CashbackStatement] {
        try database.read { c in
            try c.query("""
                SELECT p.period, p.card_number, p.points, p.amount, p.reference, cu.email, cu.first_name
                FROM cashback_payouts p JOIN cards ca ON ca.number = p.card_number JOIN customers cu ON cu.id = ca.customer_id
                WHERE p.mailed_at IS NULL AND cu.marketing_consent = 1 AND cu.email IS NOT NULL AND cu.erased_at IS NULL
                ORDER BY p.created_at, p.card_number LIMIT ?
                """, [.int(Int64(limit))]).map {
                CashbackStatement(period: $0.text("period"), card: $0.text("card_number"), points: $0.int("points"), amount: $0.int("amount"),
                                  reference: $0.text("reference"), email: $0.text("email"), name: $0.text("first_name"))
            }
        }
    }

    public func markStatementSent(period: String, card: String, at time: Int64 = HeadOfficeStore.now()) throws {
        try database.write { c in
            _ = try c.execute("UPDATE cashback_payouts SET mailed_at = ? WHERE period = ? AND card_number = ?", [.int(time), .text(period), .text(card)])
        }
    }
}
