import Foundation
import HeadOffice
import Synchronization
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillSync
import TillTestSupport

/// Two `headoffice serve` processes on one PostgreSQL database, as behind a load balancer.
@Suite("Two head office processes on one PostgreSQL", .serialized)
struct TwoServersTests {
    @Test func aRegistrationSentToBothAtOnceIsAppliedOnceAndOverlappingBatchesNeverDeadlock() throws {
        let dir = TemporaryDirectory("ho-two")
        let first = try HeadOfficeProcess(.postgres, dir: dir, cards: 200)
        let second = HeadOfficeProcess(sharing: first, dir: TemporaryDirectory("ho-two-b"))
        let tills = [("0001", "01"), ("0001", "02"), ("0002", "01")]
        let tokens = try tills.map { s, t in
            try String(contentsOfFile: try first.register(store: s, till: t), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try first.start()
        try second.start()
        let servers = [first.url, second.url]

        // One registration, sent to both processes at the same moment, ten times over.
        for round in 0..<10 {
            let card = DemoCatalog.cardNumber(DemoCatalog.firstStockCard + round)
            let body = try JSONEncoder().encode(IngestBatch(storeID: "0001", tillID: "01", documents: [HostileInputTests.registration(card)]))
            let statuses = Mutex<[String]>([])
            let threads = (0..<4).map { i in
                JoinableThread(name: "register") {
                    let a = try? HTTPConnection().send("POST", servers[i % 2] + "/api/v1/ingest", headers: ["Authorization: Bearer \(tokens[0])", "Content-Type: application/json"],
                                                       body: Array(body), timeoutMilliseconds: 30_000)
                    let r = a.flatMap { try? JSONDecoder().decode(IngestResponse.self, from: Data($0.body)) }
                    statuses.withLock { $0.append(r?.results.first?.status.rawValue ?? "HTTP \(a?.status ?? 0): \(a?.text.prefix(200) ?? "")") }
                }
            }
            threads.forEach { $0.join() }
            let all = statuses.withLock { $0 }
            #expect(all.filter { $0 == "accepted" }.count == 1, "round \(round): \(all)")
            #expect(all.filter { $0 == "duplicate" }.count == 3, "round \(round): \(all)")
        }
        let store = try first.store()
        for round in 0..<10 {
            #expect(try store.balance(of: DemoCatalog.cardNumber(DemoCatalog.firstStockCard + round)) == DemoCatalog.programme.welcomeBonus.count)
        }

        // Three tills whose sales use the same 20 cards, posting through both processes at once:
        // every batch is answered 200 (no "deadlock detected"), every sale applied once.
        var made: [[[UInt8]]] = []
        var expected = 0
        for (i, (s, t)) in tills.enumerated() {
            let side = try TillSide(till: TillCredential(storeID: s, tillID: t), seed: UInt64(40 + i))
            try side.generator.ring(120, redeemEvery: 4)
            let entries = try side.db.pendingOutbox(limit: 1_000)
            expected += entries.count
            made.append(stride(from: 0, to: entries.count, by: 10).map { Forwarder.batchBody(Array(entries[$0..<min(entries.count, $0 + 10)]), storeID: s, tillID: t) })
        }
        let batches = made
        let failures = Mutex<[String]>([])
        let posters = batches.enumerated().map { i, tillBatches in
            JoinableThread(name: "till-\(i)") {
                for (b, body) in tillBatches.enumerated() {
                    let a = try? HTTPConnection().send("POST", servers[(i + b) % 2] + "/api/v1/ingest",
                                                       headers: ["Authorization: Bearer \(tokens[i])", "Content-Type: application/json"], body: body, timeoutMilliseconds: 60_000)
                    if a?.status != 200 { failures.withLock { $0.append("till \(i) batch \(b): HTTP \(a?.status ?? 0) \(a?.text.prefix(200) ?? "")") } }
                }
            }
        }
        posters.forEach { $0.join() }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        #expect(try store.saleCount() == expected)
        #expect(try store.ledgerMismatches().isEmpty)
    }

    @Test func aPublicationMadeThroughOneProcessWakesTheOthersLongPollWithin300Milliseconds() throws {
        let dir = TemporaryDirectory("ho-notify")
        let first = try HeadOfficeProcess(.postgres, dir: dir)
        let second = HeadOfficeProcess(sharing: first, dir: TemporaryDirectory("ho-notify-b"))
        let token = try String(contentsOfFile: try first.register(till: "01"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let store = try first.store()
        try store.saveUser("mia", role: .marketing, storeID: nil, password: "mia-secret-123")
        let (session, csrf) = try store.signIn("mia", password: "mia-secret-123")
        try first.start()
        try second.start()

        // Three times: the till waits on the first process (60 s, the longest allowed); a manager
        // publishes terminal settings in the back office of the second. The second announces it
        // (NOTIFY) as it commits; the first, listening, wakes the poll. (The first no longer looks
        // at the database on a timer: without the announcement the poll would wait its 60 s.)
        var woken: [Double] = []
        for round in 1...3 {
            let polledBefore = try store.rollout().first { $0.till == "0001/01" }?.lastPoll ?? 0
            let answer = Mutex<(status: Int, body: String, at: Date)?>(nil)
            let poller = JoinableThread(name: "long-poll") {
                let a = try? HTTPConnection().send("GET", first.url + "/api/v1/updates?after=\(round - 1)&wait=60",
                                                   headers: ["Authorization: Bearer \(token)"], timeoutMilliseconds: 90_000)
                answer.withLock { $0 = (a?.status ?? 0, a?.text ?? "", Date()) }
            }
            let deadline = Date().addingTimeInterval(45)
            while try (store.rollout().first { $0.till == "0001/01" }?.lastPoll ?? 0) <= polledBefore, Date() < deadline { usleep(20_000) }
            usleep(300_000)   // the poll is parked
            #expect(answer.withLock { $0 } == nil, "round \(round): the poll answered before anything was published")
            let sent = Date()
            let published = try HTTPConnection().send(
                "POST", second.url + "/settings", headers: ["Cookie: bo_session=\(session)", "Content-Type: application/x-www-form-urlencoded"],
                body: Array("csrf=\(csrf)&receiptFooter=Round+\(round)&scope=chain".utf8), timeoutMilliseconds: 30_000)
            let madeAt = Date()
            #expect([200, 303].contains(published.status), "round \(round): the back office answered \(published.status): \(published.text.prefix(300))")
            poller.join()
            let (status, body, at) = try #require(answer.withLock { $0 })
            #expect(status == 200)
            #expect(body.contains("Round \(round)"), "round \(round): \(body.prefix(300))")
            let afterMade = at.timeIntervalSince(madeAt), afterSent = at.timeIntervalSince(sent)
            woken.append(afterSent)
            #expect(afterMade < 0.3, "round \(round): the poll on the other process answered \(afterMade) s after the publication was made")
        }
        #expect(try store.publications().count == 3)
        print("LISTEN/NOTIFY: long polls on the other process woken \(woken.map { String(format: "%.0f ms", $0 * 1000) }) after the publishing request was sent")
    }
}
