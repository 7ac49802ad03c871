import Foundation
import TillCore
import TillDocuments

/// Why a member's sign-in or action was refused: a sentence for the member's page.
public struct MemberRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// A signed-in member.
public struct MemberSession: Sendable, Equatable {
    public var customerID: String
    public var csrf: String
}

/// What the member's own page shows of their tier.
public struct TierProgress: Sendable, Equatable {
    public var tierName: String?
    public var nextTierName: String?
    /// Spend (minor units) or points still needed for the next tier.
    public var needed: Int64?
    public var basis: String
    public var currency: String
}

extension HeadOfficeStore {
    /// A sign-in code lives this long, allows this many tries, and an address gets at most
    /// `codesPerWindow` codes per `codeWindow`.
    public static let codeLifetime: Int64 = 10 * 60_000
    public static let codeTries: Int64 = 5
    public static let codesPerWindow = 3
    public static let codeWindow: Int64 = 15 * 60_000
    /// A member's session lasts a week.
    public static let memberSessionLifetime: Int64 = 7 * 86_400_000

    static func codeHash(_ email: String, _ code: String) -> String { sha256(email + ":" + code) }

    /// A one-time code for the member with this e-mail: nil (and nothing to send) when no member
    /// has it — the page says the same either way, so it tells nobody who is a member. Every
    /// request counts towards the address's limit.
    public func requestSignInCode(email raw: String, at time: Int64 = HeadOfficeStore.now()) throws -> (customerID: String, code: String)? {
        let email = raw.trimmingCharacters(in: .whitespaces).lowercased()
        guard (3...254).contains(email.count), email.contains("@"), !email.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" }) else {
            throw MemberRefusal("'\(raw.prefix(80))' is not an e-mail address: key it as name@domain")
        }
        return try database.write { c in
            let recent = try c.queryOne("SELECT COUNT(*) AS n FROM member_codes WHERE email = ? AND created_at > ?",
                                        [.text(email), .int(time - Self.codeWindow)])?.int("n") ?? 0
            guard recent < Self.codesPerWindow else {
                throw MemberRefusal("Too many codes were asked for \(email): wait a quarter of an hour, then ask again (the last code still works until it expires)")
            }
            let member = try c.queryOne("""
                SELECT s.customer_id FROM customer_search s JOIN customers cu ON cu.id = s.customer_id
                WHERE s.email_key = ? AND cu.merged_into IS NULL AND cu.erased_at IS NULL ORDER BY s.customer_id LIMIT 1
                """, [.text(email)])?.text("customer_id")
            let code = member == nil ? nil : String(format: "%06d", Int.random(in: 0..<1_000_000))
            try c.execute("INSERT INTO member_codes (email, customer_id, code_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                          [.text(email), SQLValue(member), SQLValue(code.map { Self.codeHash(email, $0) }), .int(time), .int(time + Self.codeLifetime)])
            guard let member, let code else { return nil }
            return (member, code)
        }
    }

    /// Signs a member in with the code sent to their e-mail: a session token (for the cookie)
    /// and its CSRF token. A code works once, for 10 minutes, and allows 5 tries.
    public func verifySignInCode(email raw: String, code raw2: String, at time: Int64 = HeadOfficeStore.now()) throws -> (token: String, session: MemberSession) {
        let email = raw.trimmingCharacters(in: .whitespaces).lowercased(), code = raw2.filter { !$0.isWhitespace }
        // A wrong code's try is counted in a transaction of its own: the refusal must not undo it.
        enum Outcome { case signedIn(String, MemberSession), refused(String) }
        let outcome = try database.write { c -> Outcome in
            guard let row = try c.queryOne("""
                SELECT * FROM member_codes WHERE email = ? AND code_hash IS NOT NULL AND used_at IS NULL AND expires_at > ? ORDER BY id DESC LIMIT 1
                """, [.text(email), .int(time)]), let member = row["customer_id"].text else {
                return .refused("There is no code waiting for \(email), or it expired: ask for a new code")
            }
            guard row.int("attempts") < Self.codeTries else {
                return .refused("The code was keyed wrongly \(Self.codeTries) times: ask for a new code")
            }
            guard code.count == 6, Self.codeHash(email, code) == row.text("code_hash") else {
                try c.execute("UPDATE member_codes SET attempts = attempts + 1 WHERE id = ?", [.int(row.int("id"))])
                let left = Self.codeTries - row.int("attempts") - 1
                return .refused(left > 0 ? "That code is not the one we sent: check the e-mail and key its 6 digits (\(left) \(left == 1 ? "try" : "tries") left)"
                                         : "That code is not the one we sent, and it was the last try: ask for a new code")
            }
            try c.execute("UPDATE member_codes SET used_at = ? WHERE id = ?", [.int(time), .int(row.int("id"))])
            let token = Self.randomToken(), csrf = Self.randomToken()
            try c.execute("INSERT INTO member_sessions (token_hash, customer_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                          [.text(Self.sha256(token)), .text(member), .text(csrf), .int(time), .int(time + Self.memberSessionLifetime)])
            return .signedIn(token, MemberSession(customerID: member, csrf: csrf))
        }
        switch outcome {
        case .signedIn(let token, let session): return (token, session)
        case .refused(let why): throw MemberRefusal(why)
        }
    }

    /// The member a session cookie belongs to (nil: none, expired, or the member is gone).
    public func memberSession(_ token: String, at time: Int64 = HeadOfficeStore.now()) throws -> MemberSession? {
        guard !token.isEmpty, token.count <= 200 else { return nil }
        return try database.read { c in
            try c.queryOne("""
                SELECT s.customer_id, s.csrf FROM member_sessions s JOIN customers cu ON cu.id = s.customer_id
                WHERE s.token_hash = ? AND s.expires_at > ? AND cu.merged_into IS NULL AND cu.erased_at IS NULL
                """, [.text(Self.sha256(token)), .int(time)]).map { MemberSession(customerID: $0.text("customer_id"), csrf: $0.text("csrf")) }
        }
    }

    public func memberSignOut(_ token: String) throws {
        try database.write { c in _ = try c.execute("DELETE FROM member_sessions WHERE token_hash = ?", [.text(Self.sha256(token))]) }
    }

    /// The member's tier, the next one and what it needs (by the programme in force).
    public func tierProgress(qualifying: Int64, tierCode: String?) throws -> TierProgress {
        guard let p = try latestProgramme() else { return TierProgress(tierName: nil, nextTierName: nil, needed: nil, basis: "spend", currency: "EUR") }
        let next = p.nextTier(after: qualifying)
        return TierProgress(tierName: p.tiers.first { $0.code == tierCode }?.name ?? p.tier(for: qualifying)?.name, nextTierName: next?.tier.name,
                            needed: next?.needed, basis: p.tierQualification.basis.rawValue, currency: p.currency)
    }

    /// Whether a card is one of the member's (and active, when `activeOnly`): one indexed read,
    /// for the page's card images and receipts.
    public func memberHasCard(_ customerID: String, card: String, activeOnly: Bool) throws -> Bool {
        try database.read { c in
            try c.queryOne("""
                SELECT c.status FROM member_cards m JOIN cards c ON c.number = m.number AND c.customer_id = m.customer_id
                WHERE m.customer_id = ? AND m.number = ?
                """, [.text(customerID), .text(card)]).map { !activeOnly || $0.text("status") == "active" } ?? false
        }
    }

    /// A member reports their own card lost on their page: blocked at every till at once.
    public func reportLostByMember(_ customerID: String, card: String, at time: Int64 = HeadOfficeStore.now()) throws {
        let owner = try database.read { c in try c.queryOne("SELECT customer_id, status FROM cards WHERE number = ?", [.text(card)]) }
        guard let owner, owner["customer_id"].text == customerID else { throw MemberRefusal("That card is not one of yours") }
        guard owner.text("status") == "active" else { throw MemberRefusal("Card \(LoyaltyCardNumber.masked(card)) is already \(owner.text("status"))") }
        do {
            try setCardStatus(card, to: "lost", by: "member", reason: .lostOrStolen, note: "reported by the member on their page", at: time)
        } catch let e as ServiceError { throw MemberRefusal(e.description) }
    }
}
