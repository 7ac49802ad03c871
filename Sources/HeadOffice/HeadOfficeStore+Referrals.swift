import Foundation
import TillCore
import TillProtocol

/// What a referral gives: points to the member who invited and to the new member, when the new
/// member's first purchase of at least `minSpend` comes within `days` of their registration; at
/// most `monthlyCap` rewards a referrer in a calendar month (UTC).
public struct ReferralSettings: Sendable, Equatable {
    public var referrerPoints: Int64
    public var referredPoints: Int64
    public var minSpend: Int64
    public var days: Int64
    public var monthlyCap: Int64
    public init(referrerPoints: Int64 = 200, referredPoints: Int64 = 100, minSpend: Int64 = 1_000, days: Int64 = 30, monthlyCap: Int64 = 5) {
        self.referrerPoints = referrerPoints
        self.referredPoints = referredPoints
        self.minSpend = minSpend
        self.days = days
        self.monthlyCap = monthlyCap
    }
}

/// A member who gave a code, as the marketer and the inviting member see them.
public struct Referral: Sendable, Equatable {
    public var referredID: String, referredName: String, referrerID: String, channel: String
    /// registered (no qualifying purchase yet), rewarded, refused, expired or reversed.
    public var status: String
    public var reason: String?
    public var registeredAt: Int64, rewardedAt: Int64?
    public var referrerPoints: Int64, referredPoints: Int64
}

/// Referrals (issue 18): every member's code; a new member gives one at registration (the till's
/// form, their page, the channel API); both are rewarded at the new member's first qualifying
/// purchase, with abuse limits: a cap per referrer a month, nothing for a member registered with
/// the referrer's own phone or e-mail, and the rewards taken back if that purchase is returned.
extension HeadOfficeStore {
    static let referralAlphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")

    public func referralSettings() throws -> ReferralSettings {
        let d = ReferralSettings()
        let v = try wholeOptions(["referral_referrer_points", "referral_referred_points", "referral_min_spend", "referral_days", "referral_cap"])
        return ReferralSettings(referrerPoints: v["referral_referrer_points"] ?? d.referrerPoints, referredPoints: v["referral_referred_points"] ?? d.referredPoints,
                                minSpend: v["referral_min_spend"] ?? d.minSpend, days: v["referral_days"] ?? d.days, monthlyCap: v["referral_cap"] ?? d.monthlyCap)
    }

    public func saveReferralSettings(_ s: ReferralSettings) throws {
        guard (0...100_000).contains(s.referrerPoints), (0...100_000).contains(s.referredPoints) else {
            throw ChannelRefusal(422, "A referral gives each member 0 to 100,000 points (got \(s.referrerPoints) and \(s.referredPoints))")
        }
        guard (0...100_000_000).contains(s.minSpend) else { throw ChannelRefusal(422, "The first purchase's minimum is 0 to 1,000,000.00 (got \(s.minSpend))") }
        guard (1...365).contains(s.days) else { throw ChannelRefusal(422, "The first purchase counts within 1 to 365 days of registering (got \(s.days))") }
        guard (1...1_000).contains(s.monthlyCap) else { throw ChannelRefusal(422, "A member is rewarded for 1 to 1,000 friends a month (got \(s.monthlyCap))") }
        try saveWholeOptions(["referral_referrer_points": s.referrerPoints, "referral_referred_points": s.referredPoints, "referral_min_spend": s.minSpend,
                              "referral_days": s.days, "referral_cap": s.monthlyCap])
    }

    /// The member's referral code, made the first time it is asked for.
    public func referralCode(customer: String) throws -> String {
        try database.write { c in
            guard let row = try c.queryOne("SELECT referral_code FROM customers WHERE id = ?", [.text(customer)]) else {
                throw ChannelRefusal(404, "There is no member \(customer.prefix(40))")
            }
            if let code = row["referral_code"].text { return code }
            var g = SystemRandomNumberGenerator()
            while true {
                let code = String((0..<8).map { _ in Self.referralAlphabet[Int.random(in: 0..<Self.referralAlphabet.count, using: &g)] })
                if try c.queryOne("SELECT id FROM customers WHERE referral_code = ?", [.text(code)]) == nil {
                    try c.execute("UPDATE customers SET referral_code = ? WHERE id = ?", [.text(code), .text(customer)])
                    return code
                }
            }
        }
    }

    /// A new member gave `code`: the referral, registered or refused with its reason.
    @discardableResult
    func recordReferral(code raw: String, referred: String, channel: String, registeredAt: Int64, at time: Int64, _ c: any SQLConnection) throws -> Referral {
        let code = raw.trimmingCharacters(in: .whitespaces).uppercased()
        if let existing = try referral(of: referred, c) { return existing }
        var status = "registered", reason: String?
        let referrer = Registration.isReferralCode(code)
            ? try c.queryOne("SELECT id, phone, email FROM customers WHERE referral_code = ? AND erased_at IS NULL", [.text(code)]) : nil
        let me = try c.queryOne("SELECT phone, email FROM customers WHERE id = ?", [.text(referred)])
        func digits(_ s: String?) -> String? { s.map { String($0.filter(\.isNumber).suffix(9)) }.flatMap { $0.count >= 6 ? $0 : nil } }
        if referrer == nil {
            // On a page or through a channel the member can correct a mistyped code: nothing is kept.
            guard channel.hasPrefix("till ") else { throw ChannelRefusal(422, "No member has the code \(code.prefix(12)): check it with your friend") }
            (status, reason) = ("refused", "no member has the code \(code.prefix(12))")
        } else if referrer?.text("id") == referred {
            (status, reason) = ("refused", "a member cannot invite themselves")
        } else if let mine = digits(me?["phone"].text), mine == digits(referrer?["phone"].text) {
            (status, reason) = ("refused", "registered with the referrer's own phone")
        } else if let mine = me?["email"].text?.lowercased(), mine == referrer?["email"].text?.lowercased() {
            (status, reason) = ("refused", "registered with the referrer's own e-mail")
        }
        try c.execute("""
            INSERT INTO referrals (referred_id, referrer_id, code, channel, status, reason, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (referred_id) DO NOTHING
            """, [.text(referred), .text(referrer?.text("id") ?? ""), .text(String(code.prefix(12))), .text(channel), .text(status), SQLValue(reason),
                  .int(registeredAt)])
        return try referral(of: referred, c) ?? Referral(referredID: referred, referredName: "", referrerID: "", channel: channel, status: status, reason: reason,
                                                         registeredAt: registeredAt, rewardedAt: nil, referrerPoints: 0, referredPoints: 0)
    }

    func referral(of referred: String, _ c: any SQLConnection) throws -> Referral? {
        try c.queryOne("""
            SELECT r.*, cu.first_name, cu.last_name FROM referrals r LEFT JOIN customers cu ON cu.id = r.referred_id WHERE r.referred_id = ?
            """, [.text(referred)]).map(Self.referral)
    }

    static func referral(_ r: SQLRow) -> Referral {
        Referral(referredID: r.text("referred_id"), referredName: "\(r.text("first_name")) \(r.text("last_name").prefix(1))".trimmingCharacters(in: .whitespaces),
                 referrerID: r.text("referrer_id"), channel: r.text("channel"), status: r.text("status"), reason: r["reason"].text,
                 registeredAt: r.int("registered_at"), rewardedAt: r["rewarded_at"].int, referrerPoints: r.int("referrer_points"),
                 referredPoints: r.int("referred_points"))
    }

    /// A member gives a code after registering (their page, a channel): only before their first
    /// purchase and within the days a first purchase counts.
    public func giveReferralCode(_ code: String, customer: String, channel: String, at time: Int64 = HeadOfficeStore.now()) throws -> Referral {
        let settings = try referralSettings()
        return try database.write { c in
            if let existing = try referral(of: customer, c) { return existing }
            let registered = try Self.mayGiveCode(customer, settings: settings, at: time, c)
            return try recordReferral(code: code, referred: customer, channel: channel, registeredAt: registered, at: time, c)
        }
    }

    /// When the member joined, if they may still give a friend's code (else why not).
    static func mayGiveCode(_ customer: String, settings: ReferralSettings, at time: Int64, _ c: any SQLConnection) throws -> Int64 {
        guard let row = try c.queryOne("SELECT registered_at FROM customers WHERE id = ? AND erased_at IS NULL", [.text(customer)]) else {
            throw ChannelRefusal(404, "There is no member \(customer.prefix(40))")
        }
        let registered = row["registered_at"].text.flatMap(ProtocolTime.parse) ?? 0
        guard time - registered <= settings.days * 86_400_000 else {
            throw ChannelRefusal(422, "A friend's code is given within \(settings.days) days of joining")
        }
        guard try c.queryOne("SELECT s.sale_id FROM sales s JOIN cards k ON k.number = s.card_number WHERE k.customer_id = ? LIMIT 1", [.text(customer)]) == nil else {
            throw ChannelRefusal(422, "A friend's code is given before the first purchase")
        }
        return registered
    }

    /// Whether the member's page offers to take a friend's code: none given yet, joined within the
    /// days, nothing bought yet.
    public func mayGiveReferralCode(customer: String, at time: Int64 = HeadOfficeStore.now()) throws -> Bool {
        let settings = try referralSettings()
        return try database.read { c in
            guard try referral(of: customer, c) == nil else { return false }
            do { _ = try Self.mayGiveCode(customer, settings: settings, at: time, c); return true } catch is ChannelRefusal { return false }
        }
    }

    /// A member's sale: the first qualifying purchase of a member who was invited rewards both.
    func applyReferral(_ doc: SaleDocument, card: String, till: TillCredential, at received: Int64, _ c: any SQLConnection) throws -> Bool {
        guard let r = try c.queryOne("""
            SELECT r.referred_id, r.referrer_id, r.registered_at FROM referrals r JOIN cards k ON k.customer_id = r.referred_id
            WHERE k.number = ? AND r.status = 'registered'
            """, [.text(card)]) else { return false }
        let settings = try referralSettings()
        let referred = r.text("referred_id"), referrer = r.text("referrer_id")
        let at = ProtocolTime.parse(doc.completedAt) ?? received
        if at - r.int("registered_at") > settings.days * 86_400_000 {
            try c.execute("UPDATE referrals SET status = 'expired', reason = ? WHERE referred_id = ?",
                          [.text("no purchase of \(settings.minSpend) within \(settings.days) days"), .text(referred)])
            return false
        }
        guard doc.totals.total >= settings.minSpend else { return false }
        let month = ProtocolTime.format(at, timeZone: TimeZone(identifier: "UTC")!).prefix(7)
        let from = ProtocolTime.parse(month + "-01T00:00:00.000Z") ?? at
        let rewarded = try c.queryOne("SELECT COUNT(*) AS n FROM referrals WHERE referrer_id = ? AND status IN ('rewarded', 'reversed') AND rewarded_at >= ?",
                                      [.text(referrer), .int(from)])?.int("n") ?? 0
        guard rewarded < settings.monthlyCap else {
            try c.execute("UPDATE referrals SET status = 'refused', reason = ?, sale_id = ? WHERE referred_id = ?",
                          [.text("the member who invited them was rewarded for \(settings.monthlyCap) friends in \(month) already"), .text(doc.saleID), .text(referred)])
            return false
        }
        let theirCard = try c.queryOne("SELECT number FROM cards WHERE customer_id = ? AND status = 'active' ORDER BY number LIMIT 1", [.text(referrer)])?.text("number")
        var paid: [(String, Int64, String)] = [(card, settings.referredPoints, "Welcome from a friend")]
        if let theirCard { paid.append((theirCard, settings.referrerPoints, "A friend you invited made their first purchase")) }
        for (number, points, label) in paid where points > 0 {
            try Self.moveByChannel(number, points: points, c, at: received)
            try c.execute("""
                INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, till_id, created_at) VALUES (?, ?, 'earn', ?, 'referral', ?, ?, ?, ?)
                """, [.text(number), .text(doc.saleID), .int(points), .text(label), .text(till.storeID), .text(till.tillID), .int(received)])
            try Self.emitMovement(number, delta: points, kind: "earn", source: "referral", reference: doc.saleID, c, at: received)
        }
        try c.execute("""
            UPDATE referrals SET status = 'rewarded', sale_id = ?, min_spend = ?, rewarded_at = ?, referred_card = ?, referrer_card = ?,
                referred_points = ?, referrer_points = ? WHERE referred_id = ?
            """, [.text(doc.saleID), .int(settings.minSpend), .int(at), .text(card), SQLValue(theirCard), .int(settings.referredPoints),
                  .int(theirCard == nil ? 0 : settings.referrerPoints), .text(referred)])
        return true
    }

    /// A refund of a purchase that rewarded a referral: when what is left of it is below the
    /// minimum it had to reach, both rewards are taken back.
    func reverseReferral(of saleID: String?, refund: String, till: TillCredential, at received: Int64, _ c: any SQLConnection) throws {
        guard let saleID, let r = try c.queryOne("SELECT * FROM referrals WHERE sale_id = ? AND status = 'rewarded'", [.text(saleID)]) else { return }
        let total = try c.queryOne("SELECT total FROM sales WHERE sale_id = ?", [.text(saleID)])?.int("total") ?? 0
        let refunded = try c.queryOne("SELECT COALESCE(SUM(total), 0) AS t FROM refunds WHERE original_sale_id = ?", [.text(saleID)])?.int("t") ?? 0
        guard total - refunded < r.int("min_spend") else { return }
        for (card, points) in [(r["referred_card"].text, r.int("referred_points")), (r["referrer_card"].text, r.int("referrer_points"))] {
            guard let card, points > 0 else { continue }
            try Self.moveByChannel(card, points: -points, c, at: received)
            try c.execute("""
                INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, till_id, created_at) VALUES (?, ?, 'return-earn', ?, 'referral', ?, ?, ?, ?)
                """, [.text(card), .text(refund), .int(-points), .text("Referral taken back: its first purchase was returned"), .text(till.storeID),
                      .text(till.tillID), .int(received)])
            try Self.emitMovement(card, delta: -points, kind: "return-earn", source: "referral", reference: refund, c, at: received)
        }
        try c.execute("UPDATE referrals SET status = 'reversed', reason = 'its first purchase was returned' WHERE referred_id = ?", [.text(r.text("referred_id"))])
    }

    /// The members a member invited (for their page), or everyone's (for the marketer), newest first.
    public func referrals(referrer: String? = nil, limit: Int = 100) throws -> [Referral] {
        try database.read { c in
            try c.query("""
                SELECT r.*, cu.first_name, cu.last_name FROM referrals r LEFT JOIN customers cu ON cu.id = r.referred_id
                \(referrer == nil ? "" : "WHERE r.referrer_id = ?") ORDER BY r.registered_at DESC, r.referred_id LIMIT ?
                """, (referrer.map { [SQLValue.text($0)] } ?? []) + [.int(Int64(limit))]).map(Self.referral)
        }
    }

    /// How many referrals there are by status.
    public func referralCounts() throws -> [String: Int64] {
        try database.read { c in
            var out: [String: Int64] = [:]
            for r in try c.query("SELECT status, COUNT(*) AS n FROM referrals GROUP BY status", []) { out[r.text("status")] = r.int("n") }
            return out
        }
    }
}

/// `POST /api/v1/channel/referrals`: a member who joined through the channel gives a friend's code.
public struct ReferralRequest: Codable, Sendable, Equatable {
    public var cardNumber: String
    public var code: String
    public init(cardNumber: String, code: String) {
        self.cardNumber = cardNumber
        self.code = code
    }
}

/// What came of a code given: `registered` (both are rewarded at the first qualifying purchase)
/// or `refused` with the reason.
public struct ReferralAnswer: Codable, Sendable, Equatable {
    public var status: String
    public var reason: String?
}

extension HeadOfficeStore {
    public func channelReferral(_ r: ReferralRequest, channel: SalesChannel, at time: Int64 = HeadOfficeStore.now()) throws -> ReferralAnswer {
        guard channel.scopes.contains(.earn) else { throw ChannelRefusal(403, "Channel \(channel.name) may not record referrals (its key lacks the earn scope)") }
        let code = r.code.trimmingCharacters(in: .whitespaces).uppercased()
        guard Registration.isReferralCode(code) else {
            throw ChannelRefusal(422, "The code '\(r.code.prefix(20))' is not a member's code: 4 to 12 letters and digits")
        }
        guard let customer = try database.read({ c in
            try c.queryOne("SELECT customer_id FROM cards WHERE number = ? AND status = 'active'", [.text(r.cardNumber)])?["customer_id"].text
        }) else { throw ChannelRefusal(404, "Card \(LoyaltyCardNumber.masked(r.cardNumber)) is not a member's card in use") }
        let referral = try giveReferralCode(code, customer: customer, channel: "channel \(channel.name)", at: time)
        return ReferralAnswer(status: referral.status, reason: referral.reason)
    }
}
