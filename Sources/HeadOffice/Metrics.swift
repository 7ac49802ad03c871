import Synchronization
import TillProtocol

/// Counters for `/metrics` (Prometheus text format).
final class Metrics: Sendable {
    struct Counts {
        var batches = 0
        var accepted = 0
        var duplicates = 0
        var rejected = 0
        var refused: [Int: Int] = [:]
        var ingestSeconds = 0.0
        var ingestBuckets = [Int](repeating: 0, count: Metrics.bounds.count)
    }
    static let bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
    let counts = Mutex(Counts())

    func batch(_ r: IngestResponse, seconds: Double) {
        counts.withLock { c in
            c.batches += 1
            for x in r.results {
                switch x.status {
                case .accepted: c.accepted += 1
                case .duplicate: c.duplicates += 1
                case .rejected: c.rejected += 1
                }
            }
            c.ingestSeconds += seconds
            for (i, b) in Self.bounds.enumerated() where seconds <= b { c.ingestBuckets[i] += 1 }
        }
    }

    func refused(_ status: Int) { counts.withLock { $0.refused[status, default: 0] += 1 } }
}
