import Dispatch
import Foundation
@testable import HeadOffice
import Synchronization
import Testing
import TillTestSupport

/// The reports' roll-up works through a backlog (after an upgrade or a bulk load) without holding
/// up the tills' batches and the channels' requests behind its chunks on SQLite's one writer.
@Suite("Background writes give way")
struct BackgroundWriteTests {
    /// Waits (at most 10 s) until `condition` holds.
    func waitUntil(_ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(10)
        while !condition() {
            guard Date() < deadline else { throw SQLError("gave up waiting") }
            usleep(1_000)
        }
    }

    /// A write holding the writer, then a background write queued, then a till's: the order the
    /// two were run in, and what the background one saw committed when it started.
    func queueBehindABusyWriter(patience: UInt64) throws -> (seen: [String]?, order: [String]) {
        let dir = TemporaryDirectory("background-write")
        let db = try SQLiteDatabase(path: dir.file("headoffice.db"), backgroundPatience: patience)
        _ = try db.write { c in try c.execute("CREATE TABLE t (who TEXT NOT NULL)", []) }
        let busy = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let seen = Mutex<[String]?>(nil)
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            _ = try? db.write { _ in
                busy.signal()
                release.wait()
            }
        }
        busy.wait()
        DispatchQueue.global().async(group: group) {
            _ = try? db.backgroundWrite { c in
                // What another connection can read is what has been committed.
                let committed = try db.read { r in try r.query("SELECT who FROM t", []).map { $0.text("who") } }
                seen.withLock { $0 = committed }
                try c.execute("INSERT INTO t (who) VALUES ('roll-up')", [])
            }
        }
        try waitUntil { db.queuedWrites.background == 1 }
        DispatchQueue.global().async(group: group) {
            _ = try? db.write { c in try c.execute("INSERT INTO t (who) VALUES ('till')", []) }
        }
        try waitUntil { db.queuedWrites.interactive == 1 }
        release.signal()
        group.wait()
        return (seen.withLock { $0 }, try db.read { c in try c.query("SELECT who FROM t ORDER BY rowid", []).map { $0.text("who") } })
    }

    /// A background write queued before a till's write starts after the till's is committed: it
    /// neither goes first nor joins the till's group (where the till's commit would wait for it).
    @Test func aBackgroundWriteWaitsForTheOthersAndIsCommittedAlone() throws {
        let (seen, order) = try queueBehindABusyWriter(patience: 3_600_000_000_000)
        #expect(seen == ["till"])
        #expect(order == ["till", "roll-up"])
    }

    /// Once it has waited its patience out (a second in head office), it goes before the writes
    /// still waiting: a steady stream of tills' batches cannot put the roll-up off for ever.
    @Test func aBackgroundWriteThatHasWaitedLongEnoughGoesFirst() throws {
        let (seen, order) = try queueBehindABusyWriter(patience: 0)
        #expect(seen == [])
        #expect(order == ["roll-up", "till"])
    }

    /// The roll-up's chunks are sized to take about 10 ms of the writer: halved when one took over
    /// twice that, doubled under half, within 10 to 2,000 sales.
    @Test func theRollUpsChunkFollowsHowLongTheLastOneTook() {
        #expect(ReportRollup.nextChunk(after: 100, took: .milliseconds(10)) == 100)
        #expect(ReportRollup.nextChunk(after: 100, took: .milliseconds(25)) == 50)
        #expect(ReportRollup.nextChunk(after: 100, took: .milliseconds(2)) == 200)
        #expect(ReportRollup.nextChunk(after: 12, took: .milliseconds(500)) == 10)
        #expect(ReportRollup.nextChunk(after: 1_500, took: .microseconds(10)) == 2_000)
    }

    /// The background roll-up counts what a report's own roll-up would: every sale queued, once.
    @Test(arguments: Backend.allCases)
    func theBackgroundRollUpCountsEverySaleOnce(backend: Backend) throws {
        let dir = TemporaryDirectory("background-rollup-\(backend)")
        let store = try makeHeadOffice(backend, dir)
        _ = try ReportsTests.generate(store)
        var counted = 0
        while case let (n, busy) = try store.rollUpReportsInBackground(chunk: 7), n > 0 {
            #expect(busy > .zero)
            counted += n
        }
        #expect(counted == (try store.saleCount()))
        let (rolled, sold) = try store.database.read { c in
            (try c.queryOne("SELECT SUM(sales) AS n, SUM(total) AS t FROM cashier_days", []), try c.queryOne("SELECT COUNT(*) AS n, SUM(total) AS t FROM sales", []))
        }
        #expect(rolled?.int("n") == sold?.int("n") && rolled?.int("t") == sold?.int("t"))
    }

    /// The writer's connection: a commit is synced (an acknowledged sale is on disk) and leaves
    /// checkpoints to their own thread until the log reaches the backstop.
    @Test func theWritersCommitsAreSyncedAndLeaveCheckpointsToTheirThread() throws {
        let dir = TemporaryDirectory("writer-pragmas")
        let db = try SQLiteDatabase(path: dir.file("headoffice.db"))
        let (synchronous, backstop) = try db.write { c in
            (try c.queryOne("PRAGMA synchronous", [])?.int("synchronous"), try c.queryOne("PRAGMA wal_autocheckpoint", [])?.int("wal_autocheckpoint"))
        }
        #expect(synchronous == 2)
        #expect(backstop == Int64(SQLiteDatabase.checkpointBackstop) && SQLiteDatabase.checkpointBackstop >= 250_000)
    }
}
