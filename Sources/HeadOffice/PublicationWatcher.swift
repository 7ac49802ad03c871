import ServiceLifecycle

/// Wakes the tills' long polls when a publication is made or comes into force (head office looks
/// at the database every 200 ms: another process may publish). On graceful shutdown it answers
/// every long poll at once.
struct PublicationWatcher: Service {
    let store: HeadOfficeStore
    let updates: UpdateSignal
    let work: BlockingWork

    func run() async throws {
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                if let s = try? await work.run({ try store.visibleState() }) { await updates.update(s) }
                try? await Task.sleep(nanoseconds: 200_000_000)
            }
        } onGracefulShutdown: {
            Task { await updates.close() }
        }
        await updates.close()
    }
}
