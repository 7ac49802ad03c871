import Foundation
import Logging
import ServiceLifecycle

/// Keeps the reports' roll-ups up to date while head office serves: a chunk of sales and orders at
/// a time, then every few seconds what came in since. A backlog (after an upgrade or a bulk load)
/// is worked through without holding up the tills' ingest or the channels: each chunk is a
/// background write (it gives way to the others), sized to take about `target` of the writer's
/// time, and followed by a pause as long as that, so a backlog has at most about half of it.
struct ReportRollup: Service {
    let store: HeadOfficeStore
    let work: BlockingWork
    let logger: Logger

    /// How long a chunk should take: what a till's batch arriving meanwhile may wait for it.
    static let target: Duration = .milliseconds(10)
    static let chunks = 10...2_000

    func run() async throws {
        await cancelWhenGracefulShutdown { await loop() }
    }

    /// The next chunk's size after one of `chunk` sales took `took`: halved when it took over
    /// twice the target, doubled under half of it.
    static func nextChunk(after chunk: Int, took: Duration) -> Int {
        if took > target * 2 { return max(chunks.lowerBound, chunk / 2) }
        if took < target / 2 { return min(chunks.upperBound, chunk * 2) }
        return chunk
    }

    private func loop() async {
        var chunk = 100
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let (n, took) = try await work.run { [store, chunk] in try store.rollUpReportsInBackground(chunk: chunk) }
                if n > 0 {
                    chunk = Self.nextChunk(after: chunk, took: took)
                    try? await Task.sleep(for: min(took, .seconds(1)))
                    continue
                }
            } catch {
                logger.error("the reports' roll-up stopped; it is tried again in a few seconds", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(nanoseconds: 3_000_000_000)
        }
    }
}
