import Foundation
import GRDB
import Synchronization
import TillDocuments

/// Head office on one SQLite file (GRDB, WAL, synchronous=FULL: an acknowledged sale is on disk).
public final class SQLiteDatabase: SQLDatabase {
    let pool: DatabasePool
    public let path: String
    public var kind: SQLBackendKind { .sqlite }
    public var location: String { path }

    public convenience init(path: String) throws {
        try self.init(path: path, backgroundPatience: GroupCommit.backgroundPatience)
    }

    /// `backgroundPatience`: how long a background write gives way (nanoseconds; tests change it).
    init(path: String, backgroundPatience: UInt64) throws {
        self.path = path
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // 400,000 cards and millions of sales: keep the hot pages in memory (64 MiB a
            // connection) and read the rest through a memory map instead of a read() per page.
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA mmap_size = 1073741824")
            // Checkpoints run on their own connection (below), not inside a till's commit. While
            // the tills' batches come in back to back, the log never starts again from its first
            // page: that needs the writer to begin a transaction after a checkpoint has copied all
            // of it, with no reader still in it, and the writer is nearly always inside one. So it
            // grows until this backstop, where one commit copies what is left and syncs the file:
            // a 150-200 ms stall for every till. At 50,000 pages (200 MB, about 12,500 sales) that was 1 batch
            // in 80, the p99 of `till-bench ingest`; at 250,000 pages (1 GB on disk for the log at
            // most) it is about 1 in 400. A log that can start again does, long before.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.checkpointBackstop)")
        }
        config.busyMode = .timeout(10)
        PrivateFiles.prepareDatabase(path)
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // GRDB's pool sets its writer to synchronous=NORMAL when it turns WAL on, after the
            // preparation above: a commit would not wait for the disk, and a power cut could lose
            // batches the tills were told were stored. FULL again, checked.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                guard try Int.fetchOne(db, sql: "PRAGMA synchronous") == 2 else { throw SQLError("SQLite kept synchronous below FULL") }
            }
        } catch {
            throw SQLError("Cannot open the head office database \(path): \(error)")
        }
        let checkpointer = Checkpointer(path: path)
        self.checkpointer = checkpointer
        committer = GroupCommit(pool: pool, backgroundPatience: backgroundPatience, afterCommit: { checkpointer?.committed() },
                                betweenGroups: { [pool] in
            // The checkpointer has copied all but the last moment's pages: the rest, here, where
            // no commit can add to them, so the next transaction starts the log again from its
            // first page (memory the kernel holds already) instead of growing it.
            guard checkpointer?.takeCaughtUp() == true else { return }
            _ = try? pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
        })
    }

    deinit {
        committer.stop()
        checkpointer?.stop()
    }

    private let checkpointer: Checkpointer?
    /// The log's length (pages) at which a commit checkpoints it itself.
    static let checkpointBackstop = 250_000
    private let committer: GroupCommit

    /// Runs `body` in a transaction of its own as far as the caller can tell; callers writing at
    /// the same time are committed together (group commit: each body in a savepoint of one
    /// transaction, one sync to disk for all). A body that throws is rolled back alone; a failed
    /// commit fails every body in it. Returns once the commit is on disk.
    public func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try write(background: false, body)
    }

    public func repeatableWrite<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try write(background: false, repeatable: true, body)
    }

    /// Runs `body` in a transaction of its own, once no other write is waiting (or it has waited
    /// `GroupCommit.backgroundPatience`): a background chunk never delays a till's or a web
    /// shop's commit by joining its group, and never goes ahead of one that is waiting.
    public func backgroundWrite<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try write(background: true, body)
    }

    /// Writes waiting for the writer thread: (those of callers, background ones). For tests.
    var queuedWrites: (interactive: Int, background: Int) { committer.queued }

    private func write<T>(background: Bool, repeatable: Bool = false, _ body: (any SQLConnection) throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { body in
            var result: T?
            let job = GroupCommit.Job(repeatable: repeatable) { c in result = try body(c) }
            committer.run(job, background: background)
            if let e = job.error {
                if let e = e as? DatabaseError { throw SQLError(e.message ?? "\(e)", code: String(e.extendedResultCode.rawValue)) }
                throw e
            }
            guard let result else { throw SQLError("a write finished without a result") }
            return result
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
            .replacingOccurrences(of: " {bytes}", with: "")
            .replacingOccurrences(of: "{rowid-free}", with: " WITHOUT ROWID")
    }
}

/// One writer thread applying the writes of all callers, as many as are waiting in one transaction.
final class GroupCommit: @unchecked Sendable { // `pending` is guarded by `condition`
    final class Job: @unchecked Sendable { // handed to the writer thread and back, never shared
        /// Dropped once run: the caller's closure must not outlive its call.
        var body: ((any SQLConnection) throws -> Void)?
        var error: (any Error)?
        let done = DispatchSemaphore(value: 0)
        var queuedAt: UInt64 = 0
        /// The body changes nothing but the database and may run again (`repeatableWrite`).
        let repeatable: Bool
        init(repeatable: Bool, _ body: @escaping (any SQLConnection) throws -> Void) {
            self.repeatable = repeatable
            self.body = body
        }
    }

    /// The most bodies in one transaction (a bound on how long the first of them waits).
    static let maxGroup = 32
    /// How long a background write gives way to the others before it is taken anyway: a steady
    /// stream of tills' batches cannot put the reports' roll-up off for ever.
    static let backgroundPatience: UInt64 = 1_000_000_000
    private let patience: UInt64
    private let pool: DatabasePool
    private let condition = NSCondition()
    private var pending: [Job] = []
    private var background: [Job] = []

    private var stopped = false
    private let afterCommit: @Sendable () -> Void
    private let betweenGroups: @Sendable () -> Void

    /// `afterCommit` runs once a group is on disk, before its callers are answered;
    /// `betweenGroups` after they are, before the next group.
    init(pool: DatabasePool, backgroundPatience: UInt64, afterCommit: @escaping @Sendable () -> Void,
         betweenGroups: @escaping @Sendable () -> Void) {
        self.pool = pool
        patience = backgroundPatience
        self.afterCommit = afterCommit
        self.betweenGroups = betweenGroups
        let t = Thread { [self] in loop() }
        t.name = "headoffice-writer"
        t.start()
    }

    /// Finishes what is queued, then the writer thread ends.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    func run(_ job: Job, background: Bool = false) {
        condition.lock()
        if background {
            job.queuedAt = DispatchTime.now().uptimeNanoseconds
            self.background.append(job)
        } else {
            pending.append(job)
        }
        condition.signal()
        condition.unlock()
        job.done.wait()
    }

    /// Commits a group's bodies in one transaction, each job's error its own. A body alone, or
    /// bodies that may all run again, run as they are: when one fails, the transaction is rolled
    /// back and the others run again without it. Otherwise each body runs in a savepoint. (A
    /// savepoint makes SQLite journal every page a body's statements change, again for each
    /// statement, and walk that journal at each statement's end: a third of the writer's time
    /// when the tills' batches came in together.)
    private func commit(_ group: [Job]) {
        var remaining = group
        while !remaining.isEmpty {
            let asTheyAre = remaining.count == 1 || remaining.allSatisfy(\.repeatable)
            var failed: Job?
            do {
                try pool.write { db in
                    let c = GRDBConnection(db)
                    for job in remaining {
                        if asTheyAre {
                            do { try job.body?(c) } catch {
                                failed = job
                                throw error   // the whole transaction rolled back
                            }
                            continue
                        }
                        try db.execute(sql: "SAVEPOINT job")
                        do {
                            try job.body?(c)
                            try db.execute(sql: "RELEASE job")
                        } catch {
                            job.error = error
                            try db.execute(sql: "ROLLBACK TO job")
                            try db.execute(sql: "RELEASE job")
                        }
                    }
                }
                afterCommit()
                return
            } catch {
                if let failed {
                    failed.error = error
                    remaining.removeAll { $0 === failed }
                    continue
                }
                // The commit (or a rollback) failed: nothing of the group is stored.
                for job in remaining where job.error == nil { job.error = error }
                return
            }
        }
    }

    var queued: (interactive: Int, background: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (pending.count, background.count)
    }

    private func loop() {
        while true {
            condition.lock()
            while pending.isEmpty && background.isEmpty && !stopped { condition.wait() }
            if pending.isEmpty && background.isEmpty && stopped {
                condition.unlock()
                return
            }
            // The callers' writes first, as many as are waiting in one group; a background write
            // alone, when none waits or it has waited its patience out.
            let group: [Job]
            if let first = background.first,
               pending.isEmpty || DispatchTime.now().uptimeNanoseconds - first.queuedAt >= patience {
                group = [background.removeFirst()]
            } else {
                group = Array(pending.prefix(Self.maxGroup))
                pending.removeFirst(group.count)
            }
            condition.unlock()
            commit(group)
            for job in group {
                job.body = nil
                job.done.signal()
            }
            betweenGroups()
        }
    }
}

/// Copies the write-ahead log into the database file on a connection of its own, while the
/// writer goes on: a till's commit never waits for a checkpoint. At most one checkpoint every
/// `interval` seconds while commits come in: a page the tills' sales touch again and again (a
/// card's, an index's) is copied once for all the commits of that time, not once for each.
/// (SQLite's automatic checkpoint stays as a backstop: `SQLiteDatabase.checkpointBackstop`.)
final class Checkpointer: @unchecked Sendable { // state guarded by `condition`
    static let interval = 1.0
    /// The new frames below which a pass is the last: what the writer copies itself.
    static let writersShare = 512
    private let queue: DatabaseQueue
    private let condition = NSCondition()
    private var commits = 0
    private var stopped = false
    private let caughtUp = Atomic(false)

    init?(path: String) {
        var config = Configuration()
        config.busyMode = .timeout(1)
        guard let queue = try? DatabaseQueue(path: path, configuration: config) else { return nil }
        self.queue = queue
        let t = Thread { [self] in loop() }
        t.name = "headoffice-checkpoint"
        t.start()
    }

    func committed() {
        condition.lock()
        commits += 1
        condition.signal()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        var last = Date.distantPast
        while true {
            condition.lock()
            while commits == 0 && !stopped { condition.wait() }
            // The interval since the last checkpoint, unless head office is stopping.
            while !stopped, case let next = last.addingTimeInterval(Self.interval), next > Date() { _ = condition.wait(until: next) }
            if stopped {
                condition.unlock()
                return
            }
            commits = 0
            condition.unlock()
            // A second pass copies what the tills' commits added during the first, and so on while
            // a pass finds many new frames (at most four passes): the writer copies the rest
            // (`takeCaughtUp`) while the tills' batches wait for it, so the rest should be small.
            // With two passes only, that rest was 1,500–2,000 pages at 14,000 sales/s, and the
            // writer's copy of it (with the database file's sync) took 30–170 ms: the p99 of
            // `till-bench ingest`.
            if var done = pass() {
                for _ in 0..<3 {
                    guard let next = pass() else { break }
                    let added = next.frames - done.frames
                    done = next
                    if added < Self.writersShare { break }
                }
                if done.copied == done.frames { caughtUp.store(true, ordering: .releasing) }
            }
            last = Date()
        }
    }

    /// One checkpoint that waits for nobody: the log's frames and how many of them are now in
    /// the database file; nil if it could not run.
    private func pass() -> (frames: Int, copied: Int)? {
        guard let row = try? queue.writeWithoutTransaction({ try Row.fetchOne($0, sql: "PRAGMA wal_checkpoint(PASSIVE)") }),
              let busy: Int = row[0], busy == 0, let frames: Int = row[1], let copied: Int = row[2] else { return nil }
        return (frames, copied)
    }

    /// Whether a checkpoint has copied the whole log as it was a moment ago, once: the writer
    /// copies the rest between its groups, and the log starts again from its first page.
    func takeCaughtUp() -> Bool {
        caughtUp.exchange(false, ordering: .acquiring)
    }
}

/// A GRDB `Database` as an `SQLConnection`, valid only inside the GRDB closure it was made in.
/// A statement with arguments, or one that only reads, is bound and stepped through SQLite's C
/// API (`RawStatement.run`): GRDB's `StatementArguments` and `Row` took 14% of all the CPU of
/// `till-bench ingest` (a quarter to a third of the one writer thread's time). Statements that
/// change the schema go through GRDB, which keeps its schema cache in step with them.
final class GRDBConnection: SQLConnection {
    let db: Database
    init(_ db: Database) { self.db = db }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        let statement = try db.cachedStatement(sql: sql)
        if arguments.isEmpty && !statement.isReadonly {
            try statement.execute()
        } else {
            try RawStatement.run(statement, in: db, arguments) { _ in }
        }
        return db.changesCount
    }

    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let statement = try db.cachedStatement(sql: sql)
        guard !arguments.isEmpty || statement.isReadonly else {
            return try Row.fetchAll(statement).map { row in SQLRow(Dictionary(row.map { ($0, SQLValue($1)) }, uniquingKeysWith: { _, last in last })) }
        }
        var rows: [SQLRow] = []
        let names = statement.columnNames
        try RawStatement.run(statement, in: db, arguments) { s in
            var columns: [String: SQLValue] = Dictionary(minimumCapacity: names.count)
            for (i, name) in names.enumerated() { columns[name] = RawStatement.column(s, Int32(i)) }
            rows.append(SQLRow(columns))
        }
        return rows
    }

    /// One statement after another: on SQLite a statement costs no round trip.
    func batch(_ statements: [SQLStatement]) throws -> [SQLOutcome] {
        try statements.map { s in
            let rows = try query(s.sql, s.arguments)
            return SQLOutcome(rows: rows, changed: db.changesCount)
        }
    }
}

extension SQLValue {
    /// A value GRDB read (schema statements only; the rest are read by `RawStatement.column`).
    init(_ value: DatabaseValue) {
        switch value.storage {
        case .int64(let i): self = .int(i)
        case .string(let s): self = .text(s)
        case .double(let d): self = RawStatement.fromReal(d)
        case .blob(let b): self = .text(String(decoding: b, as: UTF8.self))
        case .null: self = .null
        }
    }
}
