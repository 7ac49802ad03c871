import Foundation
import Logging
import ServiceLifecycle

/// Keeps the reports' roll-ups up to date while head office serves: a chunk of sales and orders at
/// a time (a backlog, after an upgrade, is worked through without holding up the tills' ingest),
/// then every few seconds what came in since.
struct ReportRollup: Service {
    let store: HeadOfficeStore
    let work: BlockingWork
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown { await loop() }
    }

    private func loop() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let n = try await work.run { [store] in try store.rollUpReportsOnce(chunk: 250) }
                if n > 0 { continue }
            } catch {
                logger.error("the reports' roll-up stopped; it is tried again in a few seconds", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(nanoseconds: 3_000_000_000)
        }
    }
}
