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

        // Each simulated till: a thread with its own HTTP connection, long-polling, and
        // acknowledging what it receives at once (as a till between sales would).
        let heardAt = Mutex([UInt64?](repeating: nil, count: tills))
        let stop = Atomic<Bool>(false)
        let failures = Atomic<Int>(0)
        let published = Atomic<UInt64>(0)
        for (i, token) in tokens.enumerated() {
            let t = Thread {
                let http = HTTPConnection(ca: nil)
                let auth = "Authorization: Bearer \(token.description)"
                var after: Int64 = 0
                while !stop.load(ordering: .relaxed) {
                    guard let answer = try? http.send("GET", server.url + "/api/v1/updates?after=\(after)&wait=30", headers: [auth], timeoutMilliseconds: 45_000),
                          answer.status == 200, let batch = try? JSONDecoder().decode(UpdateBatch.self, from: Data(answer.body)) else {
                        failures.add(1, ordering: .relaxed)
                        usleep(200_000)
                        continue
                    }
                    guard let last = batch.publications.last else { continue }
                    after = last.version
                    let ack = try? http.send("POST", server.url + "/api/v1/updates/ack", headers: [auth, "Content-Type: application/json"],
                                             body: Array(#"{"version":\#(after)}"#.utf8), timeoutMilliseconds: 30_000)
                    if ack?.status == 200 {
                        let now = DispatchTime.now().uptimeNanoseconds
                        heardAt.withLock { $0[i] = now - published.load(ordering: .relaxed) }
                    } else {
                        failures.add(1, ordering: .relaxed)
                    }
                }
            }
            t.stackSize = 512 << 10
            t.start()
        }
        defer { stop.store(true, ordering: .relaxed) }

        // Every till is waiting in its long poll before the publication.
        let deadline = Date().addingTimeInterval(120)
        while try polling(store) < tills {
            guard Date() < deadline else { throw ValidationError("only \(try polling(store)) of \(tills) tills reached head office in 120 s") }
            usleep(100_000)
        }
        usleep(500_000)

        var programme = DemoCatalog.programme
        programme.version = "bench-\(UUID().uuidString.prefix(6))"
        programme.earn.pointsPerUnit = 2
        published.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
        let start = DispatchTime.now().uptimeNanoseconds
        let pub = try store.publish(.programme, scope: .chain, by: "bench", note: "broadcast", programme: programme)
        var acked = 0
        while acked < tills {
            acked = try store.tillVersionCounts(atLeast: pub.version).running
            if acked < tills {
                guard DispatchTime.now().uptimeNanoseconds - start < 120_000_000_000 else {
                    throw ValidationError("only \(acked) of \(tills) tills acknowledged within 120 s")
                }
                usleep(20_000)
            }
        }
        let allAcked = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var samples = Samples()
        for v in heardAt.withLock({ $0 }) { if let v { samples.add(v) } }
        printTable("till-bench broadcast (\(tills) tills long-polling, \(backend))", [
            ("publish to all acknowledged", "\(fixed(allAcked, 2)) s  (target < 10 s)"),
            ("one till: publish to acknowledged p50 / p99", "\(fixed(ms(samples.percentile(50)))) / \(fixed(ms(samples.percentile(99)))) ms"),
            ("failed requests", "\(failures.load(ordering: .relaxed))"),
        ])
        print(jsonLine([("scenario", "broadcast"), ("tills", tills), ("all_acked_s", allAcked)]))
    }

    /// Tills that have asked head office since it started.
    func polling(_ store: HeadOfficeStore) throws -> Int { try store.tillVersionCounts(atLeast: Int64.max).polled }

    func raiseFileLimit(to wanted: Int) {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < rlim_t(wanted) {
            limit.rlim_cur = min(limit.rlim_max, rlim_t(wanted))
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
    }
}
