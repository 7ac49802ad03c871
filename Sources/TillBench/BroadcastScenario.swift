import ArgumentParser
import Dispatch
import Foundation
import HeadOffice
import Synchronization
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillSync

/// `till-bench broadcast`: many tills long-poll one head office; a programme is published to the
/// chain; how long until every till has it and has said so (acknowledged its version).
struct BroadcastScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broadcast",
        abstract: "1,000 simulated tills long-poll one head office; time from publish to all acknowledged (target < 10 s).")

    @Option(help: "Simulated tills.") var tills = 1_000
    @Option(help: "Head office's database: sqlite or postgres.") var backend = "sqlite"
    @Option(help: "A PostgreSQL URL (default: a private cluster, as the tests use).") var postgres: String?

    func run() throws {
        raiseFileLimit(to: tills * 3 + 256)
        let scratch = ScratchDirectory()
        let (store, _) = try loadedHeadOffice(backend, cards: 10, items: 10, postgres: postgres, scratch: scratch)
        var tokens: [TillToken] = []
        let setup = Date()
        for i in 0..<tills {
            tokens.append(try store.registerTill(TillCredential(storeID: String(format: "%04d", 1 + i / 10), tillID: String(format: "%02d", 1 + i % 10))))
        }
        printError("\(tills) tills registered in \(fixed(Date().timeIntervalSince(setup))) s")
        let server = try BenchServer(store)
        defer { server.stop() }
        let polling = try PollingTills(store: store, server: server, tokens: tokens)
        defer { polling.close() }

        var programme = DemoCatalog.programme
        programme.version = "bench-\(UUID().uuidString.prefix(6))"
        programme.earn.pointsPerUnit = 2
        polling.mark()
        let pub = try store.publish(.programme, scope: .chain, by: "bench", note: "broadcast", programme: programme)
        let allAcked = try polling.waitAll(version: pub.version)
        var samples = Samples()
        for v in polling.heardTimes() { samples.add(v) }
        printTable("till-bench broadcast (\(tills) tills long-polling, \(backend))", [
            ("publish to all acknowledged", "\(fixed(allAcked, 2)) s  (target < 10 s)"),
            ("one till: publish to acknowledged p50 / p99", "\(fixed(ms(samples.percentile(50)))) / \(fixed(ms(samples.percentile(99)))) ms"),
            ("failed requests", "\(polling.failures.load(ordering: .relaxed))"),
        ])
        print(jsonLine([("scenario", "broadcast"), ("tills", tills), ("all_acked_s", allAcked)]))
    }
}

/// Simulated tills long-polling one head office, each on a thread with its own HTTP connection,
/// acknowledging what it receives at once (as a till between sales would): for timing how long a
/// publication takes to reach them all.
final class PollingTills: Sendable {
    /// Each till's time from `mark()` to its acknowledgement of what came after it.
    private let heardAt: Mutex<[UInt64?]>
    let failures = Atomic<Int>(0)
    /// Polls answered with something new, and with nothing (a long poll ending at its wait).
    let fetched = Atomic<Int>(0), empty = Atomic<Int>(0)
    private let stop = Atomic<Bool>(false)
    private let published = Atomic<UInt64>(0)
    private let store: HeadOfficeStore
    private let count: Int
    static let kinds = PublicationKind.allCases.filter { $0 != .unknown }.map(\.rawValue).joined(separator: ",")

    /// Starts the tills of `tokens` and returns once every one is waiting in its long poll.
    init(store: HeadOfficeStore, server: BenchServer, tokens: [TillToken]) throws {
        self.store = store
        count = tokens.count
        heardAt = Mutex([UInt64?](repeating: nil, count: tokens.count))
        for (i, token) in tokens.enumerated() {
            let t = Thread { [self] in
                let http = HTTPConnection(ca: nil)
                let auth = "Authorization: Bearer \(token.description)"
                var after = ReleaseCursor.start
                while !self.stop.load(ordering: .relaxed) {
                    // As this release's tills ask: from the last publication they have, naming the kinds they read.
                    let query = "after=\(after.version)&from=\(after.effectiveAt)&wait=30&kinds=\(Self.kinds)"
                    guard let answer = try? http.send("GET", server.url + "/api/v1/updates?" + query, headers: [auth], timeoutMilliseconds: 45_000),
                          answer.status == 200, let batch = try? JSONDecoder().decode(UpdateBatch.self, from: Data(answer.body)) else {
                        self.failures.add(1, ordering: .relaxed)
                        usleep(200_000)
                        continue
                    }
                    guard let last = batch.publications.last else { self.empty.add(1, ordering: .relaxed); continue }
                    self.fetched.add(1, ordering: .relaxed)
                    after = last.cursor
                    let ack = try? http.send("POST", server.url + "/api/v1/updates/ack", headers: [auth, "Content-Type: application/json"],
                                             body: Array(#"{"version":\#(after.version),"effectiveAt":\#(after.effectiveAt)}"#.utf8), timeoutMilliseconds: 30_000)
                    if ack?.status == 200 {
                        // Only what was published after the mark: a till catching up before it
                        // (while the tills start) has no time to count from.
                        let now = DispatchTime.now().uptimeNanoseconds, mark = self.published.load(ordering: .relaxed)
                        if mark > 0 && now >= mark { self.heardAt.withLock { $0[i] = now - mark } }
                    } else {
                        self.failures.add(1, ordering: .relaxed)
                    }
                }
            }
            t.stackSize = 512 << 10
            t.start()
        }
        let deadline = Date().addingTimeInterval(120)
        while try store.tillVersionCounts(atLeast: Int64.max).polled < count {
            guard Date() < deadline else {
                close()
                throw ValidationError("only \(try store.tillVersionCounts(atLeast: Int64.max).polled) of \(count) tills reached head office in 120 s")
            }
            usleep(100_000)
        }
        // Every till has caught up with what head office published before (a till that has run
        // for a while has): each waits in its long poll with nothing to fetch.
        let latest = try store.latestPublicationVersion()
        while latest > 0, try store.tillVersionCounts(atLeast: latest).running < count {
            guard Date() < deadline.addingTimeInterval(120) else {
                close()
                throw ValidationError("only \(try store.tillVersionCounts(atLeast: latest).running) of \(count) tills caught up with version \(latest) in 240 s")
            }
            usleep(100_000)
        }
        usleep(500_000)
    }

    /// The moment the publication is made, from which each till's time is counted.
    func mark() { published.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed) }

    /// Seconds from `mark()` until every till has acknowledged `version` (at most 120).
    func waitAll(version: Int64) throws -> Double {
        let start = published.load(ordering: .relaxed)
        var acked = 0
        while acked < count {
            acked = try store.tillVersionCounts(atLeast: version).running
            if acked < count {
                guard DispatchTime.now().uptimeNanoseconds - start < 120_000_000_000 else {
                    throw ValidationError("only \(acked) of \(count) tills acknowledged within 120 s")
                }
                usleep(20_000)
            }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Each till's time from `mark()` to its acknowledgement, in nanoseconds. A till's thread
    /// records it just after head office has the acknowledgement `waitAll` counts, so this waits
    /// (at most 5 s) until every till has recorded one.
    func heardTimes() -> [UInt64] {
        let deadline = DispatchTime.now().uptimeNanoseconds + 5_000_000_000
        while true {
            let times = heardAt.withLock { $0 }
            if !times.contains(nil) || DispatchTime.now().uptimeNanoseconds > deadline { return times.compactMap { $0 } }
            usleep(1_000)
        }
    }

    func close() { stop.store(true, ordering: .relaxed) }
}

func raiseFileLimit(to wanted: Int) {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    if limit.rlim_cur < rlim_t(wanted) {
        limit.rlim_cur = min(limit.rlim_max, rlim_t(wanted))
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
