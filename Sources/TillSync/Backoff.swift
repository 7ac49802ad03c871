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
