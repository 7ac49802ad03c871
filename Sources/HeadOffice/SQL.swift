public import TillCore
/// A value bound to or read from SQL: the two backends agree on 64-bit integers and text.
public enum SQLValue: Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, ExpressibleByNilLiteral {
    case int(Int64)
    case text(String)
    case null

    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(_ v: Int64?) { self = v.map(SQLValue.int) ?? .null }
    public init(_ v: Int) { self = .int(Int64(v)) }
    public init(_ v: String?) { self = v.map(SQLValue.text) ?? .null }
    public init(_ v: Bool) { self = .int(v ? 1 : 0) }
    /// Points are kept as plain integers.
    public static func points(_ p: Points) -> SQLValue { .int(p.count) }

    public var int: Int64? {
        switch self {
        case .int(let i): i
        case .text(let t): Int64(t)
        case .null: nil
        }
    }

    public var text: String? {
        switch self {
        case .text(let t): t
        case .int(let i): String(i)
        case .null: nil
        }
    }
}

/// A result row, by column name.
public struct SQLRow: Sendable {
    public var columns: [String: SQLValue]
    public init(_ columns: [String: SQLValue]) { self.columns = columns }
    public subscript(_ name: String) -> SQLValue { columns[name] ?? .null }
    public func int(_ name: String) -> Int64 { self[name].int ?? 0 }
    public func text(_ name: String) -> String { self[name].text ?? "" }
}

/// One connection inside a transaction. The SQL is the subset SQLite and PostgreSQL share:
/// `?` placeholders, BIGINT and TEXT, `ON CONFLICT … DO NOTHING/UPDATE`, `RETURNING`, savepoints.
public protocol SQLConnection: AnyObject {
    /// Runs a statement; returns the number of rows it changed.
    @discardableResult func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int
    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]
    /// Runs statements in order, as one round trip where the backend can (PostgreSQL's pipeline
    /// mode). The first that fails is thrown, and none after it has run; inside a transaction the
    /// caller then rolls back.
    func batch(_ statements: [SQLStatement]) throws -> [SQLOutcome]
}

/// A statement and its arguments, for `SQLConnection.batch`.
public struct SQLStatement: Sendable {
    public var sql: String
    public var arguments: [SQLValue]
    public init(_ sql: String, _ arguments: [SQLValue]) {
        self.sql = sql
        self.arguments = arguments
    }
}

/// What a statement of a batch did: the rows it returned and how many rows it changed (for an
/// INSERT, UPDATE or DELETE).
public struct SQLOutcome: Sendable {
    public var rows: [SQLRow]
    public var changed: Int
    public init(rows: [SQLRow], changed: Int) {
        self.rows = rows
        self.changed = changed
    }
}

extension SQLConnection {
    public func queryOne(_ sql: String, _ arguments: [SQLValue]) throws -> SQLRow? {
        try query(sql, arguments).first
    }
}

public enum SQLBackendKind: String, Sendable {
    case sqlite, postgres
}

/// A database head office runs on: SQLite (one file) or PostgreSQL (shared by several
/// head office processes). Every method is synchronous and runs on the caller's thread; the
/// HTTP layer calls it from a thread pool.
public protocol SQLDatabase: Sendable {
    var kind: SQLBackendKind { get }
    /// A description for logs and messages, without passwords.
    var location: String { get }
    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// A write of background work (the reports' roll-up) that gives way to the others. SQLite
    /// (one writer): it waits while callers' writes are waiting, and is committed on its own.
    /// PostgreSQL: a write (each on its own connection, it holds up only writes to its rows).
    func backgroundWrite<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// `write` for a body that changes nothing but the database and keeps what it works out in
    /// its own variables, so it may be run again from the start: SQLite commits a group of them
    /// without a savepoint each (when one fails, the others run again without it).
    func repeatableWrite<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// Runs `body` on a connection for reading.
    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// DDL for this backend: `{id}` is an auto-increment primary key column type.
    func ddl(_ sql: String) -> String
}

/// A database failure, with what head office was doing.
public struct SQLError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// The SQLSTATE (PostgreSQL) or extended result code (SQLite), when known.
    public var code: String?
    public init(_ message: String, code: String? = nil) {
        self.message = message
        self.code = code
    }
    public var description: String { message }
    /// A unique or primary key constraint refused the row.
    public var isUniqueViolation: Bool { code == "23505" || code == "2067" || code == "1555" }
    /// PostgreSQL aborted the transaction for a deadlock (40P01) or a serialization failure (40001).
    public var isRetryableConflict: Bool { code == "40P01" || code == "40001" }
}
