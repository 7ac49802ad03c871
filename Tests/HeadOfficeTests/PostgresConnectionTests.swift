import Foundation
@testable import HeadOffice
import PrivateServers
import Testing

/// Head office's PostgreSQL connections on a private cluster: what they send and what they keep.
@Suite("PostgreSQL connections", .serialized)
struct PostgresConnectionTests {
    @Test("a ? inside a literal, a quoted name or a comment is text, not a parameter", arguments: [
        ("SELECT ? AS a", "SELECT $1 AS a"),
        ("SELECT '?' AS q, ? AS v", "SELECT '?' AS q, $1 AS v"),
        ("SELECT 'it''s ?' AS q, ? AS v", "SELECT 'it''s ?' AS q, $1 AS v"),
        (#"SELECT ? AS "what?", ?"#, #"SELECT $1 AS "what?", $2"#),
        ("SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"),
        ("SELECT 5 - ?", "SELECT 5 - $1"),
    ])
    func placeholders(sql: String, sent: String) {
        #expect(PGConnection.numbered(sql) == sent)
    }

    @Test func aQuestionMarkInALiteralReachesPostgreSQLAsText() throws {
        let db = try PostgresDatabase(url: try Backend.postgres().makeDatabase())
        let row = try db.read { c in try c.queryOne("SELECT '?' AS q, CAST(? AS BIGINT) AS v", [.int(7)]) }
        #expect(row?.text("q") == "?")
        #expect(row?.int("v") == 7)
    }

    @Test func columnsAreReadByTheirPostgreSQLType() throws {
        let db = try PostgresDatabase(url: try Backend.postgres().makeDatabase())
        let sql = """
            SELECT SUM(x) AS whole, CAST(1.5 AS NUMERIC) AS fraction, SUM(x) + 9223372036854775807 AS huge,
                   TRUE AS yes, FALSE AS no, CAST(-42 AS SMALLINT) AS small, '0042' AS code
            FROM (VALUES (CAST(40 AS BIGINT)), (2)) AS v(x)
            """
        let found: SQLRow? = try db.read { c in try c.queryOne(sql, []) }
        let row = try #require(found)
        #expect(row["whole"] == .int(42))                        // SUM of bigints is numeric: a whole one is an integer
        #expect(row["fraction"] == .text("1.5"))                  // never rounded into an integer
        #expect(row["huge"] == .text("9223372036854775849"))      // past Int64: kept as PostgreSQL wrote it
        #expect(row["yes"] == .int(1) && row["no"] == .int(0) && row["small"] == .int(-42))
        #expect(row["code"] == .text("0042"))                     // text stays text, leading zeros and all
    }

    @Test func aStatementPastTheTimeoutIsCancelledAndSaysSo() throws {
        let db = try PostgresDatabase(url: try Backend.postgres().makeDatabase(), statementTimeoutMilliseconds: 300)
        let start = Date()
        #expect {
            try db.read { c in _ = try c.query("SELECT pg_sleep(5)", []) }
        } throws: { error in
            (error as? SQLError)?.code == "57014" && "\(error)".contains("statement timeout")
        }
        #expect(Date().timeIntervalSince(start) < 3)
        // The connection goes on serving.
        #expect(try db.read { c in try c.queryOne("SELECT CAST(1 AS BIGINT) AS one", [])?.int("one") } == 1)
    }

    @Test func statementsOfEveryWidthDoNotGrowAConnectionsPreparedStatementsForEver() throws {
        let db = try PostgresDatabase(url: try Backend.postgres().makeDatabase(), size: 1)
        let kept = try db.read { c -> Int64 in
            for width in 1...(PGConnection.maxPrepared + 100) {
                let list = Array(repeating: "?", count: width).joined(separator: ", ")
                let n = try c.queryOne("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM (VALUES (1)) v(x) WHERE x IN (\(list))",
                                       Array(repeating: SQLValue.int(1), count: width))?.int("n")
                #expect(n == 1)
            }
            return try c.queryOne("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM pg_prepared_statements", [])?.int("n") ?? -1
        }
        #expect(kept >= 1 && kept <= Int64(PGConnection.maxPrepared), "\(kept) statements kept prepared")
    }
}
