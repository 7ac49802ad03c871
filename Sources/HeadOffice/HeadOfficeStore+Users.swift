import Crypto
import Foundation
import TillDocuments
public import TillProtocol

/// Who may do what in the back office.
public enum BackOfficeRole: String, Sendable, CaseIterable, Codable {
    /// Everything, every store.
    case admin
    /// The loyalty programme (edit, preview, publish), for any scope.
    case marketing
    /// Prices and terminal settings of their own store only.
    case store
    /// Customer service: finds members and reads their page and receipts; publishes nothing.
    case service
    /// Fraud: the rules, the alerts and their cases, holds and blocks of cards; publishes nothing else.
    case fraud

    public var label: String {
        switch self {
        case .admin: "Administrator"
        case .marketing: "Marketing manager"
        case .store: "Store manager"
        case .service: "Customer service"
        case .fraud: "Fraud analyst"
        }
    }

    /// Those who run the stores' tills and programme (every page but the customers').
    public static let tillRoles: Set<BackOfficeRole> = [.admin, .marketing, .store]
    /// Those who look members up.
    public static let customerRoles: Set<BackOfficeRole> = [.admin, .marketing, .service]
}

public struct BackOfficeUser: Sendable, Equatable {
    public var username: String
    public var role: BackOfficeRole
    /// The store a store manager acts for.
    public var storeID: String?

    /// The one store this user sees (a store manager's), or nil for the whole chain.
    public var storeScope: String? { role == .store ? (storeID ?? "") : nil }

    /// Whether this user may see what concerns `store`.
    public func sees(store: String) -> Bool { storeScope.map { $0 == store } ?? true }

    /// Whether this user may see a publication to `scope`: everything, or for a store manager what
    /// reaches their store (the chain, their store, their tills; groups are not shown to them).
    public func sees(_ scope: PublicationScope) -> Bool {
        guard let mine = storeScope else { return true }
        switch scope.kind {
        case .chain: return true
        case .store: return scope.value == mine
        case .till: return scope.value?.split(separator: "/").first.map(String.init) == mine
        case .group: return false
        }
    }

    /// Whether this user may publish to `scope` at all (a store manager: only their store and its tills).
    public func mayPublish(to scope: PublicationScope) -> Bool {
        if role == .service { return false }
        guard role == .store else { return true }
        switch scope.kind {
        case .store: return scope.value == storeID
        case .till: return scope.value?.split(separator: "/").first.map(String.init) == storeID
        case .chain, .group: return false
        }
    }
}

/// Why signing in failed (the message the page shows).
public enum SignInFailure: Error, Equatable, CustomStringConvertible {
    case wrong
    case locked(until: Int64)
    public var description: String {
        switch self {
        case .wrong: "That user name and password do not match."
        case .locked(let until):
            "Too many failed attempts: this account is locked until \(ProtocolTime.format(until)) (UTC). Ask an administrator, or try again then."
        }
    }
}

extension HeadOfficeStore {
    static let maxFailures: Int64 = 5
    static let lockMilliseconds: Int64 = 15 * 60_000
    static let sessionMilliseconds: Int64 = 8 * 3_600_000

    /// Adds or replaces a back office user; the password is kept only as a slow (PBKDF2) hash.
    public func saveUser(_ username: String, role: BackOfficeRole, storeID: String?, password: String) throws {
        guard !username.isEmpty, username.count <= 40, username.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") }) else {
            throw PublicationError("User name '\(username)' must be 1 to 40 letters, digits, '.', '-' or '_'")
        }
        guard password.count >= 8 else { throw PublicationError("The password must have at least 8 characters") }
        if role == .store && (storeID ?? "").isEmpty { throw PublicationError("A store manager needs --store: the store they act for") }
        let hash = PINHasher.hash(password, rounds: 200_000)
        try database.write { c in
            try c.execute("DELETE FROM users WHERE username = ?", [.text(username)])
            try c.execute("INSERT INTO users (username, role, store_id, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                          [.text(username), .text(role.rawValue), SQLValue(role == .store ? storeID : nil), .text(hash), .int(Self.now())])
        }
    }

    /// Checks a password: on success a new session (its cookie token and CSRF token); failures
    /// count towards a 15-minute lockout after 5 in a row.
    public func signIn(_ username: String, password: String, at time: Int64 = HeadOfficeStore.now()) throws -> (token: String, csrf: String) {
        let row = try database.read { c in try c.queryOne("SELECT * FROM users WHERE username = ?", [.text(username)]) }
        guard let row else {
            _ = PINHasher.verify(password, against: "pbkdf2-sha256$200000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=") // same time as a real check
            throw SignInFailure.wrong
        }
        if let until = row["locked_until"].int, until > time { throw SignInFailure.locked(until: until) }
        guard PINHasher.verify(password, against: row.text("password_hash")) else {
            // Counted in the database, not read-then-written: parallel wrong passwords each count.
            let lock = try database.write { c -> Int64? in
                let failed = try c.queryOne("UPDATE users SET failed = failed + 1 WHERE username = ? RETURNING failed", [.text(username)])?.int("failed") ?? 0
                guard failed >= Self.maxFailures else { return nil }
                let until = time + Self.lockMilliseconds
                try c.execute("UPDATE users SET failed = 0, locked_until = ? WHERE username = ?", [.int(until), .text(username)])
                return until
            }
            if let lock { throw SignInFailure.locked(until: lock) }
            throw SignInFailure.wrong
        }
        let token = Self.randomToken(), csrf = Self.randomToken()
        try database.write { c in
            try c.execute("UPDATE users SET failed = 0, locked_until = NULL WHERE username = ?", [.text(username)])
            try c.execute("DELETE FROM sessions WHERE expires_at < ?", [.int(time)])
            try c.execute("INSERT INTO sessions (token_hash, username, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                          [.text(Self.sha256(token)), .text(username), .text(csrf), .int(time), .int(time + Self.sessionMilliseconds)])
        }
        return (token, csrf)
    }

    /// The signed-in user and the session's CSRF token, for a session cookie.
    public func session(_ token: String, at time: Int64 = HeadOfficeStore.now()) throws -> (BackOfficeUser, csrf: String)? {
        try database.read { c in
            guard let s = try c.queryOne("SELECT * FROM sessions WHERE token_hash = ?", [.text(Self.sha256(token))]), s.int("expires_at") > time,
                  let u = try c.queryOne("SELECT * FROM users WHERE username = ?", [.text(s.text("username"))]),
                  let role = BackOfficeRole(rawValue: u.text("role")) else { return nil }
            return (BackOfficeUser(username: u.text("username"), role: role, storeID: u["store_id"].text), s.text("csrf"))
        }
    }

    public func signOut(_ token: String) throws {
        _ = try database.write { c in try c.execute("DELETE FROM sessions WHERE token_hash = ?", [.text(Self.sha256(token))]) }
    }

    public func users() throws -> [BackOfficeUser] {
        try database.read { c in
            try c.query("SELECT * FROM users ORDER BY username", []).compactMap { r in
                BackOfficeRole(rawValue: r.text("role")).map { BackOfficeUser(username: r.text("username"), role: $0, storeID: r["store_id"].text) }
            }
        }
    }

    // MARK: Drafts

    public func saveDraft(_ kind: String, json: String, by user: String) throws {
        try database.write { c in
            try c.execute("DELETE FROM drafts WHERE kind = ?", [.text(kind)])
            try c.execute("INSERT INTO drafts (kind, json, updated_by, updated_at) VALUES (?, ?, ?, ?)",
                          [.text(kind), .text(json), .text(user), .int(Self.now())])
        }
    }

    public func draft(_ kind: String) throws -> String? {
        try database.read { c in try c.queryOne("SELECT json FROM drafts WHERE kind = ?", [.text(kind)])?.text("json") }
    }

    public func deleteDraft(_ kind: String) throws {
        _ = try database.write { c in try c.execute("DELETE FROM drafts WHERE kind = ?", [.text(kind)]) }
    }

    static func randomToken() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }

    static func sha256(_ s: String) -> String { SHA256.hash(data: Data(s.utf8)).map { String(format: "%02x", $0) }.joined() }
}
