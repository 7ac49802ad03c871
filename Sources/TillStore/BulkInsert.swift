import GRDB
import GRDBSQLite

/// A prepared INSERT run many times with values bound straight through SQLite's C API: no
/// `StatementArguments` built per row. For the card cache's bulk load (millions of rows).
struct BulkInsert {
    enum Value {
        case text(String?)
        case int(Int64?)
    }

    let statement: Statement
    let db: Database

    init(_ db: Database, _ sql: String) throws {
        self.db = db
        statement = try db.cachedStatement(sql: sql)
    }

    /// Binds `values` to the placeholders in order and runs the statement once.
    func run(_ values: Value...) throws {
        let s = statement.sqliteStatement
        defer { sqlite3_reset(s) }   // every placeholder is bound again by the next run
        for (i, v) in values.enumerated() {
            let index = Int32(i + 1)
            let code: Int32
            switch v {
            case .text(var t?):
                code = t.withUTF8 { sqlite3_bind_text(s, index, UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), Int32($0.count), Self.transient) }
            case .int(let n?): code = sqlite3_bind_int64(s, index, n)
            case .text(nil), .int(nil): code = sqlite3_bind_null(s, index)
            }
            guard code == SQLITE_OK else { throw error(code) }
        }
        let code = sqlite3_step(s)
        guard code == SQLITE_DONE else { throw error(code) }
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: statement.sql)
    }

    /// SQLITE_TRANSIENT: SQLite copies the bytes before the call returns.
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
}
