import Foundation
import GRDB
import HeadOffice
import PrivateServers
import Testing
import TillCore
import TillStore
import TillSync
import TillTestSupport

/// The real binaries: `headoffice serve` on loopback and `till sync now`, killed with SIGKILL at
/// random points, on SQLite and on PostgreSQL. After each run head office holds each till's
/// journal exactly once and every card the expected balance.
@Suite("Store-and-forward with real processes", .serialized)
struct StoreAndForwardProcessTests {
    /// Waits until head office reports at least `count` sales.
    static func waitForSales(_ ho: HeadOfficeProcess, atLeast count: Int, timeout: Double = 60) throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let n = ho.salesCount(), n >= count { return n }
            usleep(2_000)
        }
        throw SpawnError(message: "head office did not reach \(count) sales in \(timeout) s (has \(ho.salesCount() ?? -1))")
    }

    @Test(arguments: Backend.allCases)
    func headOfficeKilledMidBatchLosesAndDoublesNothing(backend: Backend) throws {
        let dir = TemporaryDirectory("sf-kill-ho")
        let ho = try HeadOfficeProcess(backend, dir: dir)
        let till = try TillProcess(headOffice: ho, batchSize: 25)
        try till.ring(1_200, seed: 1)
        try ho.start()
        var seen: [Int] = []
        for target in [150, 450, 800] {
            let sync = try till.startSync()
            seen.append(try Self.waitForSales(ho, atLeast: target))
            ho.kill()                                            // mid-stream: most likely mid-batch
            #expect(waitForExit(sync) != 0, "till sync now must fail when head office dies")
            let err = try String(contentsOfFile: till.dir.file("sync.err"), encoding: .utf8)
            #expect(err.contains("nothing is lost"), "\(err)")
            try ho.start()
        }
        #expect(seen.last! < 1_200, "head office was killed before the till had sent everything")
        let out = try till.run(["sync", "now"])
        #expect(out.contains("0 refused"), "\(out)")
        try expectConsistent(ho, [till])
        #expect(try till.database().outboxSummary().pending == 0)
        #expect(try ho.store().gaps(of: till.credential).isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func aTillKilledMidSendSendsTheRestOnceWhenRunAgain(backend: Backend) throws {
        let dir = TemporaryDirectory("sf-kill-till")
        let ho = try HeadOfficeProcess(backend, dir: dir)
        let till = try TillProcess(headOffice: ho, batchSize: 25)
        try till.ring(1_000, seed: 2)
        try ho.start()
        for target in [200, 500] {
            let sync = try till.startSync()
            _ = try Self.waitForSales(ho, atLeast: target)
            kill(sync, SIGKILL)
            #expect(waitForExit(sync) == 128 + SIGKILL)
        }
        let pendingAfterKills = try till.database().outboxSummary().pending
        #expect(pendingAfterKills > 0 && pendingAfterKills < 1_000)
        let out = try till.run(["sync", "now"])
        #expect(out.contains("Sent \(pendingAfterKills) of \(pendingAfterKills)"), "\(out)")
        try expectConsistent(ho, [till])
    }

    @Test(arguments: Backend.allCases)
    func salesRungWhileHeadOfficeIsDownArriveOnceAndAReplayChangesNothing(backend: Backend) throws {
        let dir = TemporaryDirectory("sf-down")
        let ho = try HeadOfficeProcess(backend, dir: dir)
        let tills = [try TillProcess(headOffice: ho, tillID: "01", batchSize: 50), try TillProcess(headOffice: ho, tillID: "02", batchSize: 50)]
        try tills[0].ring(300, seed: 3)
        try tills[1].ring(200, seed: 4)
        // Head office is down: the till says so, keeps everything, fails with a clear message.
        let r = try runProcess(tills[0].binary, ["sync", "now", "--config", tills[0].config])
        #expect(r.status != 0)
        #expect(r.stderr.contains("cannot be reached") && r.stderr.contains("300 documents wait in the outbox; nothing is lost"), "\(r.stderr)")
        let status = try tills[0].run(["sync", "status"])
        #expect(status.contains("Unsent documents: 300"), "\(status)")
        #expect(status.contains("Head office cannot be reached") && status.contains("nothing is lost"), "\(status)")

        try ho.start()
        for t in tills { _ = try t.run(["sync", "now"]) }
        try expectConsistent(ho, tills)

        // Every ack lost: the tills send everything again; head office answers duplicate.
        for t in tills {
            try DatabaseQueue(path: t.dir.file("data") + "/till.sqlite").write {
                try $0.execute(sql: "UPDATE outbox SET state = 'pending', acked_at = NULL")
            }
            let out = try t.run(["sync", "now"])
            let n = t.tillID == "01" ? 300 : 200
            #expect(out.contains("Sent \(n) of \(n): 0 accepted, \(n) already there, 0 refused."), "\(out)")
        }
        try expectConsistent(ho, tills)
        #expect(try ho.admin(["report", "summary"]).contains("Sales: 500"))
    }

    /// `till sync status` asks head office now: whether it answers, and whether it accepts the
    /// till's credential (before, it only read the till's own records).
    @Test func syncStatusAsksHeadOfficeWhetherItAnswersAndAcceptsTheTill() throws {
        let dir = TemporaryDirectory("sf-status")
        let ho = try HeadOfficeProcess(.sqlite, dir: dir)
        let till = try TillProcess(headOffice: ho)
        try ho.start()
        let up = try till.run(["sync", "status"])
        #expect(up.contains("Head office answers and is healthy (sqlite)."), "\(up)")
        #expect(up.contains("Head office accepts this till's credential."), "\(up)")
        try ho.admin(["till", "revoke", "--store", "0001", "--till", "01"])
        let revoked = try till.run(["sync", "status"])
        #expect(revoked.contains("Head office answers and is healthy"), "\(revoked)")
        #expect(revoked.contains("Head office refuses this till's credential") && revoked.contains("till sync enrol"), "\(revoked)")
        ho.kill()
        let down = try till.run(["sync", "status"])
        #expect(down.contains("Head office cannot be reached") && down.contains("was not checked"), "\(down)")
    }
}
