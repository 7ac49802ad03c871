import Foundation
import ServiceLifecycle
import Synchronization

/// Wakes the tills' long polls when a publication is made or comes into force. On PostgreSQL it
/// listens (LISTEN/NOTIFY): a publication made through any head office process on the database
/// wakes every process's long polls at once, and the database is asked again only when one is
/// announced, when one made for later comes into force, and every 30 s whatever happens. On
/// SQLite it looks every 200 ms (`headoffice publish` may write from another process). On
/// graceful shutdown it answers every long poll at once.
struct PublicationWatcher: Service {
    let store: HeadOfficeStore
    let updates: UpdateSignal
    let work: BlockingWork

    func run() async throws {
        if let postgres = store.database as? PostgresDatabase {
            await listen(postgres)
        } else {
            await poll()
        }
        await updates.close()
    }

    private func poll() async {
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                if let s = try? await work.run({ try store.visibleState() }) { await updates.update(s) }
                try? await Task.sleep(nanoseconds: 200_000_000)
            }
        } onGracefulShutdown: {
            Task { await updates.close() }
        }
    }

    private func listen(_ postgres: PostgresDatabase) async {
        let stop = StopFlag()
        let (states, continuation) = AsyncStream<Int64>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let store = store
        // A thread of its own: waiting for a notification blocks it, and must never hold up a
        // worker of the pools that serve requests.
        let thread = Thread {
            Self.watch(postgres, store: store, stop: stop) { continuation.yield($0) }
            continuation.finish()
        }
        thread.name = "publication-listener"
        thread.start()
        await withGracefulShutdownHandler {
            for await state in states { await updates.update(state) }
        } onGracefulShutdown: {
            stop.set()
            Task { await updates.close() }
        }
        stop.set()   // cancelled: the thread ends within a second
    }

    /// The listening thread's loop: the visible state after each announcement, and when one made
    /// for later comes into force; checks `stop` every second.
    static func watch(_ postgres: PostgresDatabase, store: HeadOfficeStore, stop: StopFlag, yield: (Int64) -> Void) {
        var listener: PostgresListener?
        var look = true, lastLook: Int64 = 0
        var next: Int64?
        while !stop.isSet {
            if listener == nil {
                // Listening before looking: nothing published in between is missed.
                do {
                    listener = try postgres.listener(channel: HeadOfficeStore.publicationChannel)
                    look = true
                } catch {
                    Thread.sleep(forTimeInterval: 1)
                    continue
                }
            }
            if look {
                // A failed read (a database hiccup) is tried again within a second, not at the
                // next notice or the 30 s safety look.
                if let state = try? store.visibleState() {
                    yield(state)
                    next = try? store.nextComingIntoForce()
                    lastLook = HeadOfficeStore.now()
                } else {
                    lastLook = 0
                }
            }
            let now = HeadOfficeStore.now()
            let timeout = min(1_000, max(0, (next ?? Int64.max) - now))
            do {
                let announced = try listener?.wait(milliseconds: Int32(timeout)) ?? true
                let then = HeadOfficeStore.now()
                look = announced || then >= (next ?? Int64.max) || then - lastLook >= 30_000
            } catch {
                listener = nil
            }
        }
    }
}

/// Set once, from any thread, to ask a loop on another to end.
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
