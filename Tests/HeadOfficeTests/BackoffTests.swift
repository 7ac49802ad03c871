import Foundation
import Testing
import TillStore
import TillSync
import TillTestSupport

/// The till's wait before calling head office again, computed without a clock: each case says how
/// the attempts went and where the jitter falls, and checks the wait to the second.
@Suite("Backoff between calls to head office")
struct BackoffTests {
    @Test("after n failures the wait is in the upper half of min(10, 2^(n-1)) seconds", arguments: [
        (1, 0.5, 1.0), (2, 1.0, 2.0), (3, 2.0, 4.0), (4, 4.0, 8.0), (5, 5.0, 10.0), (6, 5.0, 10.0), (40, 5.0, 10.0), (100, 5.0, 10.0),
    ])
    func doublesUpToTheCap(failures: Int, shortest: Double, longest: Double) {
        var b = Backoff()
        for _ in 0..<failures { b.failed() }
        #expect(b.wait(jitter: 0) == shortest)
        #expect(b.wait(jitter: 1) == longest)
        #expect(b.wait(jitter: 0.5) == (shortest + longest) / 2)
    }

    @Test func aSuccessStartsAgainFromNoWait() {
        var b = Backoff()
        #expect(b.wait(jitter: 1) == 0)
        for _ in 0..<4 { b.failed() }
        b.succeeded()
        #expect(b.failures == 0 && b.wait(jitter: 1) == 0)
        b.failed()
        #expect(b.wait(jitter: 1) == 1)
    }

    @Test func jitterOutsideZeroToOneStaysInTheWindow() {
        var b = Backoff()
        for _ in 0..<3 { b.failed() }
        #expect(b.wait(jitter: -3) == 2)
        #expect(b.wait(jitter: 7) == 4)
        #expect(b.wait(jitter: .nan) == 4)
    }

    @Test func anotherCapIsKept() {
        var b = Backoff(cap: 3)
        for _ in 0..<10 { b.failed() }
        #expect(b.wait(jitter: 1) == 3)
        #expect(b.wait(jitter: 0) == 1.5)
    }
}

/// A manual clock for the till's background loops: a pause returns at once and is recorded, so a
/// loop's whole timing is read to the second without waiting for it.
final class ManualPausing: Pausing, @unchecked Sendable {
    private let lock = NSLock()
    private var _pauses: [Double] = []
    private var _holds: [Double] = []
    private var woken = false

    var pauses: [Double] { lock.withLock { _pauses } }
    var holds: [Double] { lock.withLock { _holds } }

    func pause(seconds: Double) -> Bool {
        let wasWoken = lock.withLock {
            _pauses.append(seconds)
            defer { woken = false }
            return woken
        }
        Thread.sleep(forTimeInterval: 0.002)   // the loop's own work goes on at its own pace
        return wasWoken
    }

    func hold(seconds: Double, unless stop: () -> Bool) { lock.withLock { _holds.append(seconds) } }
    func wake() { lock.withLock { woken = true } }

    /// Waits (really) until `count` pauses were asked for.
    func waitFor(_ count: Int, timeout: Double = 20) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while pauses.count < count && Date() < end { Thread.sleep(forTimeInterval: 0.01) }
        return pauses.count >= count
    }
}

@Suite("The till's background timing, on a manual clock")
struct DrainScheduleTests {
    @Test func emptiedRevokedAndFailedRoundsEachHaveTheirWait() {
        var s = DrainSchedule()
        #expect(s.wait(after: .emptied, jitter: 1) == 30 && s.nudgeSettle == 0)
        #expect(s.wait(after: .failed, jitter: 1) == 1 && s.nudgeSettle == 1)
        #expect(s.wait(after: .failed, jitter: 0) == 1)
        #expect(s.wait(after: .revoked, jitter: 1) == 60)
        #expect(s.wait(after: .failed, jitter: 1) == 8)           // the fourth failure in a row
        #expect(s.wait(after: .emptied, jitter: 1) == 30 && s.backoff.failures == 0 && s.nudgeSettle == 0)
    }

    /// The forwarder's real loop against a head office that is down (a closed port): it backs off
    /// 1, 2, 4, 8 s and then every 10 s, keeps the sales, and a sale during a wait is sent after a
    /// 1 s settle, not at once.
    @Test func theForwarderBacksOffFromAHeadOfficeThatIsDownAndKeepsTheSales() throws {
        let t = try TillSide(seed: 3)
        try t.generator.ring(3)
        let clock = ManualPausing()
        let link = HeadOfficeLink(url: "http://127.0.0.1:9", ca: nil, token: "t", batchSize: 10, lookupTimeoutMilliseconds: 300)
        let forwarder = Forwarder(link: link, database: t.db, storeID: "0001", tillID: "01", pausing: clock, jitter: { 1 })
        forwarder.start()
        #expect(clock.waitFor(7))
        #expect(Array(clock.pauses.prefix(7)) == [1, 2, 4, 8, 10, 10, 10])
        #expect(clock.holds.isEmpty)
        forwarder.nudge()
        let end = Date().addingTimeInterval(10)
        while clock.holds.isEmpty && Date() < end { Thread.sleep(forTimeInterval: 0.01) }
        #expect(clock.holds.first == 1)
        let started = Date()
        forwarder.stop()
        #expect(Date().timeIntervalSince(started) < 1.5)
        #expect(try t.db.outboxSummary().pending == 3)
        #expect(forwarder.snapshot.connection == .offline)
    }

    @Test func theUpdatePollerBacksOffTheSameWay() throws {
        let t = try TillSide(seed: 4)
        let clock = ManualPausing()
        let link = HeadOfficeLink(url: "http://127.0.0.1:9", ca: nil, token: "t", batchSize: 10, lookupTimeoutMilliseconds: 300)
        let updates = UpdateService(link: link, database: t.db, waitSeconds: 1, pausing: clock, jitter: { 0 })
        updates.start()
        #expect(clock.waitFor(6))
        #expect(Array(clock.pauses.prefix(6)) == [0.5, 1, 2, 4, 5, 5])
        updates.stop()
    }
}
