import Testing
import TillSync

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
