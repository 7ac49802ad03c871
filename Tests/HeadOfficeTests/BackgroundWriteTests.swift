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

    /// Holds `db`'s writer with a write (in `group`) until the semaphore returned is signalled.
    func holdTheWriter(_ db: SQLiteDatabase, _ group: DispatchGroup) -> DispatchSemaphore {
        let busy = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        DispatchQueue.global().async(group: group) {
            _ = try? db.write { _ in
                busy.signal()
                release.wait()
            }
        }
        busy.wait()
        return release
    }

    /// A write holding the writer, then a background write queued, then a till's: the order the
    /// two were run in, and what the background one saw committed when it started.
    func queueBehindABusyWriter(patience: UInt64) throws -> (seen: [String]?, order: [String]) {
        let dir = TemporaryDirectory("background-write")
        let db = try SQLiteDatabase(path: dir.file("headoffice.db"), backgroundPatience: patience)
        _ = try db.write { c in try c.execute("CREATE TABLE t (who TEXT NOT NULL)", []) }
        let seen = Mutex<[String]?>(nil)
        let group = DispatchGroup()
        let release = holdTheWriter(db, group)
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

    /// Writes queued behind a busy writer form one group: the second of three fails. It loses
    /// only its own rows and gets its own error; the others are committed once. Bodies that may
    /// run again (a till's batch) run without savepoints, the others again without the failed
    /// one; a group holding any other write runs each body in a savepoint, once.
    @Test(arguments: [true, false])
    func aBodyThatFailsInAGroupLosesOnlyItsOwnRows(repeatable: Bool) throws {
        let dir = TemporaryDirectory("group-commit-failure")
        let db = try SQLiteDatabase(path: dir.file("headoffice.db"))
        _ = try db.write { c in try c.execute("CREATE TABLE t (who TEXT NOT NULL)", []) }
        struct Refused: Error {}
        let runs = Mutex<[String: Int]>([:])
        let errors = Mutex<[String: String]>([:])
        let group = DispatchGroup()
        let release = holdTheWriter(db, group)
        for (i, who) in ["first", "second", "third"].enumerated() {
            DispatchQueue.global().async(group: group) {
                let body = { (c: any SQLConnection) throws -> Int in
                    runs.withLock { $0[who, default: 0] += 1 }
                    _ = try c.execute("INSERT INTO t (who) VALUES (?)", [.text(who)])
                    if who == "second" { throw Refused() }
                    return 1
                }
                do {
                    // The last of a mixed group is an ordinary write.
                    _ = try repeatable || i < 2 ? db.repeatableWrite(body) : db.write(body)
                } catch {
                    errors.withLock { $0[who] = "\(error)" }
                }
            }
            try waitUntil { db.queuedWrites.interactive == i + 1 }
        }
        release.signal()
        group.wait()
        #expect(try db.read { c in try c.query("SELECT who FROM t ORDER BY rowid", []).map { $0.text("who") } } == ["first", "third"])
        #expect(errors.withLock { $0 } == ["second": "Refused()"])
        let ran = runs.withLock { $0 }
        #expect(ran["second"] == 1)
        // The third had not run when the second failed.
        #expect(ran["first"] == (repeatable ? 2 : 1) && ran["third"] == 1)
    }

    /// While writes come in back to back, the write-ahead log starts again from its first page
    /// (about once a second: the checkpointer copies it, the writer the last moment's pages)
    /// instead of growing until the backstop: a restart changes the salt in its header. (Before,
    /// 20 s of these writes, 27,731 commits, and the log had not started again.)
    @Test func theLogStartsAgainWhileWritesComeInBackToBack() throws {
        let dir = TemporaryDirectory("log-restarts")
        let path = dir.file("headoffice.db")
        let db = try SQLiteDatabase(path: path)
        _ = try db.write { c in try c.execute("CREATE TABLE t (n INTEGER NOT NULL, padding TEXT NOT NULL)", []) }
        func salt() -> [UInt8] {
            guard let h = FileHandle(forReadingAtPath: path + "-wal"), let bytes = try? h.read(upToCount: 24), bytes.count == 24 else { return [] }
            try? h.close()
            return Array(bytes[16..<24])
        }
        let stop = Atomic(false)
        let written = Atomic(0)
        let group = DispatchGroup()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: group) {
                while !stop.load(ordering: .relaxed) {
                    _ = try? db.write { c in try c.execute("INSERT INTO t (n, padding) VALUES (?, ?)", [.int(1), .text(String(repeating: "x", count: 3_000))]) }
                    written.add(1, ordering: .relaxed)
                }
            }
        }
        defer {
            stop.store(true, ordering: .relaxed)
            group.wait()
        }
        try waitUntil { written.load(ordering: .relaxed) >= 300 }
        let first = salt(), started = Date()
        var restarted: Double?
        while restarted == nil && Date().timeIntervalSince(started) < 30 {
            usleep(20_000)
            if salt() != first { restarted = Date().timeIntervalSince(started) }
        }
        print("back-to-back writes: the log started again after \(restarted.map { String(format: "%.1f s", $0) } ?? "more than 30 s") (\(written.load(ordering: .relaxed)) commits)")
        #expect(restarted != nil, "the log did not start again in 30 s of back-to-back writes")
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
