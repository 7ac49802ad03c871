import GRDB
import GRDBSQLite

/// A cached GRDB statement bound and stepped through SQLite's C API, for `GRDBConnection`: no
/// `StatementArguments` or `Row` made per statement. Errors are GRDB's `DatabaseError`, as
/// GRDB's own execution throws them.
enum RawStatement {
    /// Binds `arguments` to the placeholders in order, steps `statement` to its end and calls
    /// `row` at each row. The statement is reset afterwards (its bindings stay until the next run).
    static func run(_ statement: Statement, in db: Database, _ arguments: [SQLValue], row: (OpaquePointer) throws -> Void) throws {
        let s = statement.sqliteStatement
        func failure(_ code: Int32) -> DatabaseError {
            DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: statement.sql)
        }
        sqlite3_reset(s)
        defer { sqlite3_reset(s) }
        guard sqlite3_bind_parameter_count(s) == Int32(arguments.count) else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "wrong number of statement arguments: \(arguments.count) for \(sqlite3_bind_parameter_count(s))", sql: statement.sql)
        }
        for (i, value) in arguments.enumerated() {
            let index = Int32(i + 1)
            let code: Int32
            switch value {
            case .int(let n): code = sqlite3_bind_int64(s, index, n)
            case .null: code = sqlite3_bind_null(s, index)
            case .text(var t):
                code = t.withUTF8 { bytes in
                    // An empty string's bytes may have no address; a null pointer would bind NULL, not ''.
                    guard let base = bytes.baseAddress else { return sqlite3_bind_text(s, index, "", 0, transient) }
                    return sqlite3_bind_text(s, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(bytes.count), transient)
                }
            }
            guard code == SQLITE_OK else { throw failure(code) }
        }
        while true {
            switch sqlite3_step(s) {
            case SQLITE_DONE: return
            case SQLITE_ROW: try row(s)
            case let code: throw failure(code)
            }
        }
    }

    /// Column `i` of the row `s` is on.
    static func column(_ s: OpaquePointer, _ i: Int32) -> SQLValue {
        switch sqlite3_column_type(s, i) {
        case SQLITE_INTEGER: .int(sqlite3_column_int64(s, i))
        case SQLITE_NULL: .null
        case SQLITE_FLOAT: fromReal(sqlite3_column_double(s, i))
        default: // TEXT, or a BLOB read as UTF-8
            .text(String(decoding: UnsafeRawBufferPointer(start: sqlite3_column_blob(s, i), count: Int(sqlite3_column_bytes(s, i))), as: UTF8.self))
        }
    }

    /// A REAL where head office writes integers (a file edited by hand): read, never trapped on.
    static func fromReal(_ d: Double) -> SQLValue { abs(d) < 9.2e18 ? .int(Int64(d)) : .text(String(d)) }

    /// SQLITE_TRANSIENT: SQLite copies the bytes before the call returns.
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
}
