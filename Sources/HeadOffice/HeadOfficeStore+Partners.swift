import Foundation
import TillCore
import TillDocuments
import TillProtocol

/// Who a partner is in the coalition.
public enum PartnerKind: String, Sendable, CaseIterable, Codable {
    /// The chain itself: its tills and its own channels (the web shop) earn by the programme's rules.
    case chain
    /// The bank that issues the co-branded cards: earns on card spend (its transaction feed).
    case bank
    /// A partner retailer: earns and redeems through the channel API with its key.
    case retailer
}

/// A coalition partner: the chain, the bank, a partner retailer. A partner other than the chain
/// acts through the channel of the same name (its key), earns by its own rule, pays for the
/// points it issues and is paid for the points redeemed with it.
public struct Partner: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var kind: PartnerKind
    /// Points per `earnUnit` minor units of spend (the chain: the programme's rules instead).
    public var earnPoints: Int64
    public var earnUnit: Int64
    /// Categories that earn a multiple (e.g. coffee ×2), by category.
    public var multipliers: [String: Int64]
    /// Minor units per 100 points: what the partner pays for the points it issues…
    public var issueRate: Int64
    /// …and what it is paid for the points redeemed with it.
    public var redeemRate: Int64
    /// The partner the cashback payout file goes to (the bank credits the cards): the programme
    /// owes it the money paid out.
    public var cashbackPayer: Bool

    public init(id: String, name: String, kind: PartnerKind, earnPoints: Int64 = 0, earnUnit: Int64 = 100, multipliers: [String: Int64] = [:],
                issueRate: Int64 = 0, redeemRate: Int64 = 0, cashbackPayer: Bool = false) {
        self.id = id
        self.name = name
        self.kind = kind
        self.earnPoints = earnPoints
        self.earnUnit = earnUnit
        self.multipliers = multipliers
        self.issueRate = issueRate
        self.redeemRate = redeemRate
        self.cashbackPayer = cashbackPayer
    }

    public static let earnPointsRange: ClosedRange<Int64> = 0...1_000
    public static let earnUnitRange: ClosedRange<Int64> = 1...1_000_000
    public static let multiplierRange: ClosedRange<Int64> = 1...100
    /// Minor units per 100 points (up to 1,000.00 for 100 points).
    public static let rateRange: ClosedRange<Int64> = 0...100_000

    /// The points `amount` of spend in `category` earns: floor(amount × points / unit) × the
    /// category's multiplier (checked: amounts are bounded, so this never traps).
    public func award(amount: Int64, category: String?) -> Int64 {
        let (hi, lo) = amount.multipliedFullWidth(by: earnPoints)
        let (base, _) = earnUnit.dividingFullWidth((hi, lo))
        let (points, overflow) = base.multipliedReportingOverflow(by: category.flatMap { multipliers[$0] } ?? 1)
        return overflow ? Int64.max : points
    }

    /// `coffee=2,fuel=3`, as the CLI and the form take and show it.
    public var multipliersText: String { multipliers.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") }

    public static func parseMultipliers(_ text: String) throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, let m = Int64(kv[1]), multiplierRange.contains(m), validCategory(kv[0]) else {
                throw ChannelRefusal(400, "Category multipliers are category=N, N from 1 to 100, separated by commas (e.g. coffee=2,fuel=3), not '\(part.prefix(60))'")
            }
            result[kv[0]] = m
        }
        guard result.count <= 50 else { throw ChannelRefusal(400, "A partner has at most 50 category multipliers") }
        return result
    }

    /// A category: 1 to 40 letters, digits, -, _ or spaces.
    public static func validCategory(_ s: String) -> Bool {
        (1...40).contains(s.count) && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == " ") }
    }
}

/// One transaction of a partner's feed: a card's spend with the partner (points by its rule), or
/// the reversal of part or all of an earlier one (`reverses`, with the amount taken back).
public struct PartnerTransaction: Codable, Sendable, Equatable {
    /// The partner's own id for the transaction: a repeat is answered, never applied twice.
    public var id: String
    public var cardNumber: String
    /// Minor units, 1 to 10,000,000,000.
    public var amount: Int64
    public var category: String?
    /// When it happened at the partner (ISO 8601); head office dates the points when it applies them.
    public var occurredAt: String?
    /// The id of the transaction this one reverses.
    public var reverses: String?

    public init(id: String, cardNumber: String, amount: Int64, category: String? = nil, occurredAt: String? = nil, reverses: String? = nil) {
        self.id = id
        self.cardNumber = cardNumber
        self.amount = amount
        self.category = category
        self.occurredAt = occurredAt
        self.reverses = reverses
    }
}

/// `POST /api/v1/channel/transactions`: up to 500 transactions, each applied on its own.
public struct PartnerTransactionsRequest: Codable, Sendable {
    public var transactions: [PartnerTransaction]
    public init(transactions: [PartnerTransaction]) { self.transactions = transactions }
}

public struct PartnerTransactionResult: Codable, Sendable, Equatable {
    public var id: String
    /// accepted, duplicate (applied before: the first answer's points) or refused.
    public var status: String
    public var points: Int64
    public var reason: String?
    public var balance: Int64?
}

public struct PartnerTransactionsAnswer: Codable, Sendable, Equatable {
    public var results: [PartnerTransactionResult]
}

/// A partner's daily file refused as a whole: each row's problem, by row number (the header is row 1).
public struct PartnerFileRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var rows: Int
    public var errors: [String]
    public var description: String {
        "The file was not applied (nothing of it is kept): \(errors.count) row\(errors.count == 1 ? "" : "s") of \(rows) \(errors.count == 1 ? "is" : "are") wrong. "
            + errors.prefix(20).joined(separator: "; ") + (errors.count > 20 ? "; and \(errors.count - 20) more" : "")
            + ". Correct the file and send all of it again (rows already applied count once)."
    }
}

/// What a partner's file did.
public struct PartnerFileResult: Codable, Sendable, Equatable {
    public var rows: Int
    public var accepted: Int
    public var duplicates: Int
    public var points: Int64
}

extension HeadOfficeStore {
    /// The most transactions one request carries.
    public static let maxPartnerBatch = 500
    /// The header of a partner's daily file.
    public static let partnerFileHeader = "id,card,amount_minor,category,date,reverses"

    // MARK: - Partners

    static func partner(_ row: SQLRow) -> Partner {
        Partner(id: row.text("id"), name: row.text("name"), kind: PartnerKind(rawValue: row.text("kind")) ?? .retailer,
                earnPoints: row.int("earn_points"), earnUnit: row.int("earn_unit"),
                multipliers: (try? Partner.parseMultipliers(row.text("multipliers"))) ?? [:],
                issueRate: row.int("issue_rate"), redeemRate: row.int("redeem_rate"), cashbackPayer: row.int("cashback_payer") != 0)
    }

    public func partners() throws -> [Partner] {
        try database.read { c in
            try c.query("SELECT * FROM partners ORDER BY CASE WHEN kind = 'chain' THEN 0 ELSE 1 END, id", []).map(Self.partner)
        }
    }

    public func partner(_ id: String) throws -> Partner? {
        try database.read { c in try c.queryOne("SELECT * FROM partners WHERE id = ?", [.text(id)]).map(Self.partner) }
    }

    /// Adds or changes a partner. A new partner other than the chain gets its channel key (earn,
    /// redeem and read), returned once; a changed one keeps its key. One partner receives the
    /// cashback payouts: naming another moves the role.
    @discardableResult
    public func savePartner(_ p: Partner, at time: Int64 = HeadOfficeStore.now()) throws -> String? {
        guard (1...40).contains(p.id.count), p.id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw ChannelRefusal(400, "A partner's id is 1 to 40 letters, digits, - or _ (e.g. bank), not '\(p.id.prefix(60))'")
        }
        let name = p.name.trimmingCharacters(in: .whitespaces)
        guard (1...80).contains(name.count), !name.contains(where: { $0.isNewline }) else {
            throw ChannelRefusal(400, "A partner's name is 1 to 80 characters on one line")
        }
        guard Partner.earnPointsRange.contains(p.earnPoints), Partner.earnUnitRange.contains(p.earnUnit) else {
            throw ChannelRefusal(400, "The earn rule is 0 to 1000 points per 1 to 1000000 minor units (e.g. 1 point per 1000 = 1 point per 10.00), not \(p.earnPoints) per \(p.earnUnit)")
        }
        guard Partner.rateRange.contains(p.issueRate), Partner.rateRange.contains(p.redeemRate) else {
            throw ChannelRefusal(400, "Rates are 0 to 100000 minor units per 100 points, not \(p.issueRate) and \(p.redeemRate)")
        }
        guard p.multipliers.count <= 50, p.multipliers.allSatisfy({ Partner.validCategory($0.key) && Partner.multiplierRange.contains($0.value) }) else {
            throw ChannelRefusal(400, "Category multipliers are 1 to 100, at most 50 categories")
        }
        let key: String? = try database.write { c in
            let existing = try c.queryOne("SELECT kind FROM partners WHERE id = ?", [.text(p.id)])
            if let existing, existing.text("kind") != p.kind.rawValue {
                throw ChannelRefusal(409, "Partner \(p.id) is a \(existing.text("kind")): a partner's kind does not change")
            }
            if existing == nil && p.kind == .chain { throw ChannelRefusal(409, "There is one chain partner, 'chain': change it instead") }
            if p.cashbackPayer { try c.execute("UPDATE partners SET cashback_payer = 0 WHERE id <> ?", [.text(p.id)]) }
            try c.execute("""
                INSERT INTO partners (id, name, kind, earn_points, earn_unit, multipliers, issue_rate, redeem_rate, cashback_payer, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, earn_points = excluded.earn_points, earn_unit = excluded.earn_unit,
                    multipliers = excluded.multipliers, issue_rate = excluded.issue_rate, redeem_rate = excluded.redeem_rate,
                    cashback_payer = excluded.cashback_payer, updated_at = excluded.updated_at
                """, [.text(p.id), .text(name), .text(p.kind.rawValue), .int(p.earnPoints), .int(p.earnUnit), .text(p.multipliersText),
                      .int(p.issueRate), .int(p.redeemRate), .int(p.cashbackPayer ? 1 : 0), .int(time), .int(time)])
            guard existing == nil, p.kind != .chain,
                  try c.queryOne("SELECT name FROM channels WHERE name = ?", [.text(p.id)]) == nil else { return nil }
            return try Self.issueChannelKey(p.id, scopes: [.earn, .read, .redeem], c, at: time)
        }
        return key
    }

    /// The partner a channel acts for (nil: one of the chain's own channels).
    static func partnerOf(channel: String, _ c: any SQLConnection) throws -> Partner? {
        try c.queryOne("SELECT * FROM partners WHERE id = ? AND kind <> 'chain'", [.text(channel)]).map(partner)
    }

    // MARK: - Transactions

    /// Checks a transaction's own fields (the card and the reversed transaction are checked when applied).
    static func checkTransaction(_ t: PartnerTransaction) throws -> Int64? {
        try checkFields(t)
        return try occurred(t)
    }

    /// The fields' own bounds (the API document's).
    static func checkFields(_ t: PartnerTransaction) throws {
        guard (1...64).contains(t.id.count), t.id.unicodeScalars.allSatisfy({ (33...126).contains($0.value) && $0 != "," }) else {
            throw ChannelRefusal(400, "A transaction id is 1 to 64 visible characters without commas, not '\(t.id.prefix(70))'")
        }
        guard (8...19).contains(t.cardNumber.count), t.cardNumber.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ChannelRefusal(400, "A card number is 8 to 19 digits, not '\(t.cardNumber.prefix(30))'")
        }
        guard (1...10_000_000_000).contains(t.amount) else { throw ChannelRefusal(400, "amount \(t.amount) must be 1 to 10000000000 minor units") }
        if let c = t.category, !Partner.validCategory(c) { throw ChannelRefusal(400, "A category is 1 to 40 letters, digits, -, _ or spaces, not '\(c.prefix(50))'") }
        if let r = t.reverses, !(1...64).contains(r.count) { throw ChannelRefusal(400, "reverses names a transaction id of 1 to 64 characters") }
    }

    /// When the transaction happened at the partner, if it says.
    static func occurred(_ t: PartnerTransaction) throws -> Int64? {
        guard let text = t.occurredAt else { return nil }
        guard let ms = ProtocolTime.parse(text.count == 10 ? text + "T00:00:00Z" : text) else {
            throw ChannelRefusal(400, "occurredAt '\(text.prefix(40))' is not a date (2026-11-30) or a time (2026-11-30T14:05:00Z)")
        }
        return ms
    }

    /// Applies one transaction of `partner` within the caller's transaction: points for spend by
    /// the partner's rule, or a reversal taking back its share of the original's points (never
    /// below zero: what the member already spent is recorded as an exception). Once per id.
    static func applyPartnerTransaction(_ t: PartnerTransaction, partner p: Partner, occurred: Int64?, _ c: any SQLConnection,
                                        at time: Int64) throws -> PartnerTransactionResult {
        if let done = try c.queryOne("SELECT * FROM channel_orders WHERE channel = ? AND order_id = ?", [.text(p.id), .text(t.id)]) {
            let sameAmount = t.reverses == nil ? done.int("amount") == t.amount : done.int("amount") == -t.amount
            guard done.text("card_number") == t.cardNumber, sameAmount, done["reverses"].text == t.reverses else {
                throw ChannelRefusal(409, "Transaction \(t.id) was applied before with another card, amount or reversal: an id is applied once")
            }
            return PartnerTransactionResult(id: t.id, status: "duplicate", points: done.int("points"), reason: "applied before",
                                            balance: try c.queryOne("SELECT balance FROM cards WHERE number = ?", [.text(try replacementOf(t.cardNumber, c))])?.int("balance"))
        }
        guard let card = try c.queryOne("SELECT number, status, balance FROM cards WHERE number = ?", [.text(t.cardNumber)]) else {
            throw ChannelRefusal(404, "Head office has no card \(LoyaltyCardNumber.masked(t.cardNumber)): check the number")
        }
        let target = card.text("status") == "replaced" ? try replacementOf(t.cardNumber, c) : t.cardNumber
        let targetRow = target == t.cardNumber ? card : try c.queryOne("SELECT number, status, balance FROM cards WHERE number = ?", [.text(target)])!
        var points: Int64
        var reason: String?
        if let original = t.reverses {
            guard let o = try c.queryOne("SELECT * FROM channel_orders WHERE channel = ? AND order_id = ? AND reverses IS NULL",
                                         [.text(p.id), .text(original)]) else {
                throw ChannelRefusal(404, "Transaction \(t.id) reverses \(original), which \(p.name) never sent")
            }
            guard o.text("card_number") == t.cardNumber else {
                throw ChannelRefusal(409, "Transaction \(t.id) reverses \(original), which was on another card")
            }
            let before = try c.queryOne("SELECT COALESCE(SUM(amount), 0) AS a, COALESCE(SUM(points), 0) AS p FROM channel_orders WHERE channel = ? AND reverses = ?",
                                        [.text(p.id), .text(original)])!
            let left = o.int("amount") + before.int("a")   // reversals are kept negative
            guard t.amount <= left else {
                throw ChannelRefusal(409, "Transaction \(t.id) reverses \(t.amount) of \(original), which has \(left) left to reverse")
            }
            if t.amount == left {
                points = o.int("points") + before.int("p")
            } else {
                let (hi, lo) = o.int("points").multipliedFullWidth(by: t.amount)
                points = o.int("amount").dividingFullWidth((hi, lo)).quotient
            }
            // What the card still holds: the rest was spent, and is the partner's loss to follow up.
            let held = max(0, targetRow.int("balance"))
            let taken = min(points, held)
            if taken < points {
                try c.execute("""
                    INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('reversal-shortfall', ?, ?, ?, '', ?, ?)
                    """, [.text(target), .text(t.id), .text(p.id),
                          .text("\(p.name) reversed \(t.id): \(points) points to take back, the card held \(held); \(points - taken) were already spent"), .int(time)])
                reason = "the card held \(held) of the \(points) points: \(points - taken) were already spent"
            }
            points = -taken
        } else if targetRow.text("status") == "closed" {
            points = 0
            reason = "card closed: no points"
        } else {
            points = p.award(amount: t.amount, category: t.category)
            let now = targetRow.int("balance")
            guard !now.addingReportingOverflow(points).overflow, DocumentBounds.balance.contains(now + points) else {
                throw ChannelRefusal(409, "Card \(LoyaltyCardNumber.masked(target)) cannot take \(points) more points")
            }
        }
        try c.execute("""
            INSERT INTO channel_orders (channel, order_id, card_number, amount, points, created_at, category, reverses, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(p.id), .text(t.id), .text(t.cardNumber), .int(t.reverses == nil ? t.amount : -t.amount), .int(points), .int(time),
                  SQLValue(t.category), SQLValue(t.reverses), .int(occurred ?? time)])
        if points != 0 {
            try moveByChannel(target, points: points, c, at: time)
            let label = t.reverses == nil ? "\(p.name)" + (t.category.map { ": \($0)" } ?? "") : "\(p.name): reversal of \(t.reverses!)"
            try c.execute("INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          [.text(target), .text("\(p.id):\(t.id)"), .text(t.reverses == nil ? "earn" : "reversal"), .int(points),
                           .text("partner:\(p.id)"), .text(label), .text(p.id), .int(time)])
            try emitMovement(target, delta: points, kind: t.reverses == nil ? "earn" : "reversal", source: p.id, reference: t.id, c, at: time)
        }
        return PartnerTransactionResult(id: t.id, status: "accepted", points: points, reason: reason,
                                        balance: try c.queryOne("SELECT balance FROM cards WHERE number = ?", [.text(target)])?.int("balance"))
    }

    /// A partner's transactions sent by its system: each applied on its own (one refused does not
    /// stop the others), each once.
    public func partnerTransactions(_ request: PartnerTransactionsRequest, channel: SalesChannel,
                                    at time: Int64 = HeadOfficeStore.now()) throws -> PartnerTransactionsAnswer {
        guard channel.scopes.contains(.earn) else { throw ChannelRefusal(403, "Channel \(channel.name) may not award points (its key lacks the earn scope)") }
        guard (1...Self.maxPartnerBatch).contains(request.transactions.count) else {
            throw ChannelRefusal(400, "Send 1 to \(Self.maxPartnerBatch) transactions a request, not \(request.transactions.count)")
        }
        guard let p = try database.read({ c in try Self.partnerOf(channel: channel.name, c) }) else {
            throw ChannelRefusal(403, "Channel \(channel.name) is not a partner: only partners send transactions (headoffice partner add)")
        }
        // A field outside its bounds refuses the request (400, naming it); a date that is no date,
        // an unknown card or a reversal of too much refuses that transaction only.
        for (i, t) in request.transactions.enumerated() {
            do { _ = try Self.checkFields(t) } catch let r as ChannelRefusal { throw ChannelRefusal(400, "transactions[\(i)]: \(r.message)") }
        }
        var results: [PartnerTransactionResult] = []
        for t in request.transactions {
            do {
                let occurred = try Self.occurred(t)
                results.append(try database.write { c in try Self.applyPartnerTransaction(t, partner: p, occurred: occurred, c, at: time) })
            } catch let r as ChannelRefusal {
                results.append(PartnerTransactionResult(id: String(t.id.prefix(64)), status: "refused", points: 0, reason: r.message, balance: nil))
            }
        }
        return PartnerTransactionsAnswer(results: results)
    }

    /// A partner's daily file (CSV, `partnerFileHeader`): all of it or nothing. Every row is
    /// checked and applied in one transaction; any wrong row refuses the file with each row's
    /// problem by number. Rows applied before (the same file sent again) count once.
    public func applyPartnerFile(_ text: String, partner id: String, at time: Int64 = HeadOfficeStore.now()) throws -> PartnerFileResult {
        guard let p = try partner(id), p.kind != .chain else {
            throw ChannelRefusal(404, "There is no partner \(id.prefix(40)) to take a file from (headoffice partner list)")
        }
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" }).map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        while lines.last == "" { lines.removeLast() }
        guard lines.first?.trimmingCharacters(in: .whitespaces) == Self.partnerFileHeader else {
            throw PartnerFileRefusal(rows: lines.count, errors: ["row 1: the header must be \(Self.partnerFileHeader), not '\((lines.first ?? "").prefix(80))'"])
        }
        guard lines.count <= 1_000_001 else { throw PartnerFileRefusal(rows: lines.count, errors: ["the file has more than 1,000,000 rows: split it by day"]) }
        // Every wrong row, by its number: those that do not read, and (below) those head office refuses.
        var errors: [(row: Int, message: String)] = []
        var rows: [(Int, PartnerTransaction, Int64?)] = []
        for (i, line) in lines.enumerated().dropFirst() {
            let n = i + 1
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count == 6 else { errors.append((n, "\(f.count) fields, not 6 (\(Self.partnerFileHeader))")); continue }
            guard let amount = Int64(f[2]) else { errors.append((n, "amount_minor '\(f[2].prefix(30))' is not a whole number of minor units (12.34 is 1234)")); continue }
            let t = PartnerTransaction(id: f[0], cardNumber: f[1], amount: amount, category: f[3].isEmpty ? nil : f[3],
                                       occurredAt: f[4].isEmpty ? nil : f[4], reverses: f[5].isEmpty ? nil : f[5])
            do { rows.append((n, t, try Self.checkTransaction(t))) } catch let r as ChannelRefusal { errors.append((n, r.message)) }
        }
        // The rows that read well are applied too (and rolled back with the rest), so that every
        // wrong row is named at once: a card head office does not know, a reversal of too much.
        return try database.write { c in
            var result = PartnerFileResult(rows: rows.count, accepted: 0, duplicates: 0, points: 0)
            for (n, t, occurred) in rows {
                do {
                    let r = try Self.applyPartnerTransaction(t, partner: p, occurred: occurred, c, at: time)
                    if r.status == "duplicate" { result.duplicates += 1 } else { result.accepted += 1; result.points = result.points.addingClamped(r.points) }
                } catch let r as ChannelRefusal {
                    errors.append((n, r.message))
                }
            }
            // Thrown inside the transaction: nothing of the file is kept.
            guard errors.isEmpty else {
                throw PartnerFileRefusal(rows: lines.count, errors: errors.sorted { $0.row < $1.row }.map { "row \($0.row): \($0.message)" })
            }
            return result
        }
    }
}
