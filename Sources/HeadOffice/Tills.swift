import Crypto
import Foundation

/// A till's credential as issued: `STORE.TILL.SECRET`. Head office keeps only the secret's
/// SHA-256; the till keeps the whole token in a file readable by its user only (mode 0600).
public struct TillToken: Sendable, Hashable, CustomStringConvertible {
    public var till: TillCredential
    public var secret: String

    public var description: String { "\(till.storeID).\(till.tillID).\(secret)" }

    public init(till: TillCredential, secret: String) {
        self.till = till
        self.secret = secret
    }

    /// Reads a token as the till sends it (`Authorization: Bearer …`).
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 128 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } })
        else { return nil }
        till = TillCredential(storeID: String(parts[0]), tillID: String(parts[1]))
        secret = String(parts[2])
    }

    static func make(for till: TillCredential) -> TillToken {
        var g = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) }
        return TillToken(till: till, secret: bytes.map { String($0, radix: 16).leftPadded(2) }.joined())
    }

    static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String($0, radix: 16).leftPadded(2) }.joined()
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}

/// Why a request's credential was not accepted.
public enum AuthFailure: Error, Equatable, Sendable, CustomStringConvertible {
    case missing
    case malformed
    case unknown(String)
    case revoked(String)

    public var description: String {
        switch self {
        case .missing: "No credential: send the till's token as 'Authorization: Bearer STORE.TILL.SECRET' (register the till with headoffice till register)"
        case .malformed: "The credential is not a till token STORE.TILL.SECRET"
        case .unknown(let t): "Till \(t) is not registered, or its token is wrong: register it with headoffice till register"
        case .revoked(let t): "Till \(t) was revoked at head office: ask head office for a new registration"
        }
    }
}

/// A till as head office lists it.
public struct TillSummary: Sendable, Hashable {
    public var till: TillCredential
    public var createdAt: Int64
    public var revokedAt: Int64?
    public var lastSeen: Int64?
    public var maxSequence: Int64
    public var contiguousThrough: Int64
    public var lastLagMilliseconds: Int64?
}

extension HeadOfficeStore {
    static func validID(_ s: String) -> Bool { (1...8).contains(s.count) && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }

    /// Registers a till (or issues it a new token, `replace`), returning the token to give it.
    public func registerTill(_ till: TillCredential, replace: Bool = false) throws -> TillToken {
        guard Self.validID(till.storeID), Self.validID(till.tillID) else {
            throw IngestRefusal(status: 400, message: "Store and till ids are 1 to 8 letters or digits, e.g. --store 0001 --till 01")
        }
        let token = TillToken.make(for: till)
        try database.write { c in
            let existing = try c.queryOne("SELECT revoked_at FROM tills WHERE store_id = ? AND till_id = ?", [.text(till.storeID), .text(till.tillID)])
            if existing != nil && !replace && existing?["revoked_at"] == .null {
                throw IngestRefusal(status: 409, message: "Till \(till.name) is already registered: use --replace to issue it a new token (the old one stops working)")
            }
            if existing == nil {
                try c.execute("INSERT INTO tills (store_id, till_id, token_hash, created_at) VALUES (?, ?, ?, ?)",
                              [.text(till.storeID), .text(till.tillID), .text(TillToken.hash(token.secret)), .int(Self.now())])
            } else {
                try c.execute("UPDATE tills SET token_hash = ?, revoked_at = NULL WHERE store_id = ? AND till_id = ?",
                              [.text(TillToken.hash(token.secret)), .text(till.storeID), .text(till.tillID)])
            }
        }
        return token
    }

    /// Revokes a till's token: its requests get 401 from now on.
    public func revokeTill(_ till: TillCredential) throws {
        let changed = try database.write { c in
            try c.execute("UPDATE tills SET revoked_at = ? WHERE store_id = ? AND till_id = ? AND revoked_at IS NULL",
                          [.int(Self.now()), .text(till.storeID), .text(till.tillID)])
        }
        guard changed == 1 else { throw IngestRefusal(status: 404, message: "Till \(till.name) is not registered (or already revoked)") }
    }

    /// The till a bearer token belongs to.
    public func authenticate(_ authorization: String?) throws -> TillCredential {
        guard let authorization, !authorization.isEmpty else { throw AuthFailure.missing }
        guard authorization.hasPrefix("Bearer "), let token = TillToken(String(authorization.dropFirst(7))) else { throw AuthFailure.malformed }
        let row = try database.read { c in
            try c.queryOne("SELECT token_hash, revoked_at FROM tills WHERE store_id = ? AND till_id = ?",
                           [.text(token.till.storeID), .text(token.till.tillID)])
        }
        guard let row else { throw AuthFailure.unknown(token.till.name) }
        // Compare the whole hash in constant time.
        let expected = Array(row.text("token_hash").utf8), given = Array(TillToken.hash(token.secret).utf8)
        guard expected.count == given.count, zip(expected, given).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else {
            throw AuthFailure.unknown(token.till.name)
        }
        if row["revoked_at"] != .null { throw AuthFailure.revoked(token.till.name) }
        return token.till
    }

    public func tills() throws -> [TillSummary] {
        try database.read { c in
            try c.query("SELECT * FROM tills ORDER BY store_id, till_id", []).map {
                TillSummary(till: TillCredential(storeID: $0.text("store_id"), tillID: $0.text("till_id")), createdAt: $0.int("created_at"),
                            revokedAt: $0["revoked_at"].int, lastSeen: $0["last_seen"].int, maxSequence: $0.int("max_sequence"),
                            contiguousThrough: $0.int("contiguous_through"), lastLagMilliseconds: $0["last_lag_ms"].int)
            }
        }
    }
}
