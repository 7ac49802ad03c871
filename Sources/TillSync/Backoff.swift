import Foundation

/// How long the till waits before calling head office again after failures in a row: 1 s,
/// doubling, at most `cap` seconds; each wait drawn from the upper half of its window, so a
/// thousand tills coming back after an outage do not all call at the same instant. A pure value:
/// the caller says how each attempt went and draws the jitter, and is told how long to wait.
public struct Backoff: Sendable, Equatable {
    /// The longest wait (seconds): short enough that a head office coming back hears from every
    /// till within seconds, long enough not to hammer one that is down.
    public var cap: Double
    /// Failures since the last success.
    public private(set) var failures = 0

    public init(cap: Double = 10) { self.cap = cap }

    public mutating func failed() { failures = min(failures + 1, 64) }
    public mutating func succeeded() { failures = 0 }

    /// The wait before the next attempt, in seconds: 0 after a success; after `n` failures,
    /// within [w/2, w] for w = min(cap, 2^(n-1)), placed there by `jitter` (0...1, clamped).
    public func wait(jitter: Double) -> Double {
        guard failures > 0 else { return 0 }
        var window = 1.0
        for _ in 1..<failures where window < cap { window *= 2 }
        window = min(cap, window)
        let j = jitter.isNaN ? 1 : min(1, max(0, jitter))
        return window / 2 + window / 2 * j
    }
}

/// When the forwarder calls head office next, as a pure value: it is told how each round went and
/// the jitter drawn, and answers the wait in seconds. After a round that emptied the outbox it
/// looks again in `idle` seconds (a sale nudges it sooner); after a failure it backs off (see
/// `Backoff`); while head office says the till is revoked it asks every `revoked` seconds.
/// A sale arriving during a wait after a failure is sent after at most `settle` seconds, so a
/// busy till does not hammer a head office that is down.
public struct DrainSchedule: Sendable, Equatable {
    public enum Round: Sendable, Equatable { case emptied, failed, revoked }

    public var idle: Double = 30
    public var revoked: Double = 60
    public var settle: Double = 1
    public private(set) var backoff = Backoff()

    public init() {}

    /// The wait after `round`, with `jitter` (0...1) placing a backoff wait in its window.
    public mutating func wait(after round: Round, jitter: Double) -> Double {
        switch round {
        case .emptied:
            backoff.succeeded()
            return idle
        case .failed:
            backoff.failed()
            return backoff.wait(jitter: jitter)
        case .revoked:
            backoff.failed()
            return revoked
        }
    }

    /// Seconds to hold off a nudge (a new sale) that cut a wait short: none after success.
    public var nudgeSettle: Double { backoff.failures > 0 ? settle : 0 }
}

/// How the till's background loops pause: on the system's clock in the till; on a manual clock in
/// the tests, which advances at once and records each pause, so a loop's timing is checked to the
/// second without waiting for it.
public protocol Pausing: Sendable {
    /// Returns after `seconds`, or sooner when `wake()` was called since the last pause ended.
    /// True when woken, false when the time ran out.
    @discardableResult func pause(seconds: Double) -> Bool
    /// Returns after `seconds`, or sooner once `stop()` is true (checked at least every 50 ms on
    /// the system clock); `wake()` does not end it.
    func hold(seconds: Double, unless stop: () -> Bool)
    /// Ends the pause in progress (or the next one) at once.
    func wake()
}

/// Pausing on the system clock, woken through a condition variable.
public final class SystemPausing: Pausing, @unchecked Sendable {
    private let condition = NSCondition()
    private var woken = false

    public init() {}

    public func pause(seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(max(0, seconds))
        while !woken {
            if !condition.wait(until: deadline) { break }
        }
        let wasWoken = woken
        woken = false
        return wasWoken
    }

    public func hold(seconds: Double, unless stop: () -> Bool) {
        let until = Date().addingTimeInterval(max(0, seconds))
        while !stop() {
            let left = until.timeIntervalSinceNow
            if left <= 0 { return }
            Thread.sleep(forTimeInterval: min(0.05, left))
        }
    }

    public func wake() {
        condition.lock()
        woken = true
        condition.signal()
        condition.unlock()
    }
}
