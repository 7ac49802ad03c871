public import Foundation
import GRDB
import TillDocuments
import TillProtocol
import TillCore

/// The till's SQLite database: catalog, cashiers, the open sale, suspended sales, the sales
/// journal and the outbox. One file, WAL mode; completing a sale is a FULL-synchronous commit.
public final class TillDatabase: Sendable {
    let pool: DatabasePool
    /// The database file.
    public let path: String
    /// Time zone for the timestamps in sale documents.
    public let timeZone: TimeZone

    /// Opens (creating if needed) and migrates the database at `path`.
    public init(path: String, timeZone: TimeZone = .current) throws(TillStoreError) {
        self.path = path
        self.timeZone = timeZone
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in
            // FULL: every commit waits for the WAL to reach the disk. Open-sale events relax this
            // per transaction (see `withRelaxedSync`); a completed sale never does.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // A new database gets 8 KiB pages (an existing one keeps its own: SQLite fixes the size
            // with the first table). Half as many pages to find and write in a bulk card load of
            // millions: 4,000,000 cards load in about 25 s instead of about 29 s with 4 KiB.
            try db.execute(sql: "PRAGMA page_size = 8192")
        }
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw .cannotOpen(path: path, reason: "cannot create \(dir): \(error.localizedDescription)")
            }
        }
        PrivateFiles.prepareDatabase(path)
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch let e as DatabaseError where e.resultCode == .SQLITE_NOTADB || e.resultCode == .SQLITE_CORRUPT {
            throw .notADatabase(path: path, reason: "SQLite says: \(e.message ?? "file is not a database")")
        } catch {
            throw .cannotOpen(path: path, reason: Self.reason(error))
        }
        try migrate()
    }

    private func migrate() throws(TillStoreError) {
        let migrator = Self.migrator
        do {
            let unknown = try pool.read { db -> [String] in
                let applied = try migrator.appliedIdentifiers(db)
                let known = Set(migrator.migrations)
                return applied.subtracting(known).sorted()
            }
            if !unknown.isEmpty { throw TillStoreError.newerVersion(path: path, unknown: unknown) }
            try migrator.migrate(pool)
        } catch let e as TillStoreError {
            throw e
        } catch let e as DatabaseError where e.resultCode == .SQLITE_NOTADB || e.resultCode == .SQLITE_CORRUPT {
            throw .notADatabase(path: path, reason: "SQLite says: \(e.message ?? "file is not a database")")
        } catch {
            throw .cannotOpen(path: path, reason: Self.reason(error))
        }
    }

    /// Runs `body` in one transaction whose commit does not wait for the disk. For open-sale
    /// events only: they survive a crashed or killed process (the WAL is in the OS page cache),
    /// not a power cut, and they are never a completed sale.
    /// `PRAGMA synchronous = FULL`, checked: a connection left at NORMAL would commit sales
    /// without waiting for the disk.
    static func restoreFullSync(_ db: Database) throws {
        try db.execute(sql: "PRAGMA synchronous = FULL")
        guard try Int.fetchOne(db, sql: "PRAGMA synchronous") == 2 else {
            throw TillStoreError.failed(context: "make the journal wait for the disk again", reason: "SQLite kept synchronous below FULL")
        }
    }

    func withRelaxedSync<T>(_ body: @escaping (Database) throws -> T) throws -> T {
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            var result: T?
            do {
                try db.inTransaction {
                    result = try body(db)
                    return .commit
                }
            } catch {
                try Self.restoreFullSync(db)
                throw error
            }
            // Back to FULL before anything else commits on this connection: if that fails, say so
            // (the step is saved), and every sale's commit sets FULL again itself.
            try Self.restoreFullSync(db)
            return result!
        }
    }

    /// Binds the data directory to a till on first use, and refuses another till's directory.
    public func checkIdentity(storeID: String, tillID: String) throws(TillStoreError) {
        let key = storeID + "/" + tillID
        let recorded: String?
        do {
            recorded = try pool.write { db -> String? in
                if let v = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'till'") { return v }
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('till', ?)", arguments: [key])
                return nil
            }
        } catch {
            throw .failed(context: "read the till identity", reason: Self.reason(error))
        }
        if let recorded, recorded != key {
            throw .wrongTill(path: path, recorded: recorded, configured: key)
        }
    }

    static func reason(_ error: any Error) -> String {
        if let e = error as? DatabaseError { return "SQLite error \(e.resultCode.rawValue): \(e.message ?? "\(e.resultCode)")" }
        if let e = error as? TillStoreError { return e.description }
        return "\(error)"
    }

    /// Like `run`, but lets a `SaleError` through unchanged: for journal operations that apply
    /// sale rules inside their transaction.
    func journal<T>(_ context: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as SaleError { throw e } catch let e as CardError { throw e } catch let e as ReturnError { throw e } catch let e as TillStoreError { throw e } catch {
            throw TillStoreError.failed(context: context, reason: Self.reason(error))
        }
    }

    /// Wraps GRDB errors with what the till was doing.
    func run<T>(_ context: String, _ body: () throws -> T) throws(TillStoreError) -> T {
        do { return try body() } catch let e as TillStoreError { throw e } catch {
            throw .failed(context: context, reason: Self.reason(error))
        }
    }
}
