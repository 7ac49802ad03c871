import Foundation
import GRDB

/// Head office on one SQLite file (GRDB, WAL, synchronous=FULL: an acknowledged sale is on disk).
public final class SQLiteDatabase: SQLDatabase {
    let pool: DatabasePool
    public let path: String
    public var kind: SQLBackendKind { .sqlite }
    public var location: String { path }

    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        config.busyMode = .timeout(10)
        do { pool = try DatabasePool(path: path, configuration: config) } catch {
            throw SQLError("Cannot open the head office database \(path): \(error)")
        }
    }

    public func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        do {
            return try pool.write { db in try body(GRDBConnection(db)) }
        } catch let e as DatabaseError {
            throw SQLError(e.message ?? "\(e)", code: String(e.extendedResultCode.rawValue))
        }
    }

    public func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        do {
            return try pool.read { db in try body(GRDBConnection(db)) }
        } catch let e as DatabaseError {
            throw SQLError(e.message ?? "\(e)", code: String(e.extendedResultCode.rawValue))
        }
    }

    public func ddl(_ sql: String) -> String {
        sql.replacingOccurrences(of: "{id}", with: "INTEGER PRIMARY KEY AUTOINCREMENT")
    }
}

/// A GRDB `Database` as an `SQLConnection`, valid only inside the GRDB closure it was made in.
final class GRDBConnection: SQLConnection {
    let db: Database
    init(_ db: Database) { self.db = db }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        let statement = try db.cachedStatement(sql: sql)
        try statement.execute(arguments: StatementArguments(arguments.map(\.databaseValue)))
        return db.changesCount
    }

    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let statement = try db.cachedStatement(sql: sql)
        let rows = try Row.fetchAll(statement, arguments: StatementArguments(arguments.map(\.databaseValue)))
        return rows.map { row in
            var columns: [String: SQLValue] = [:]
            for (name, value) in row {
                switch value.storage {
                case .int64(let i): columns[name] = .int(i)
                case .string(let s): columns[name] = .text(s)
                case .double(let d): columns[name] = .int(Int64(d))
                case .blob(let b): columns[name] = .text(String(decoding: b, as: UTF8.self))
                case .null: columns[name] = .null
                }
            }
            return SQLRow(columns)
        }
    }
}

extension SQLValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .int(let i): i.databaseValue
        case .text(let t): t.databaseValue
        case .null: .null
        }
    }
}
