import CardReaders
import Foundation
import Logging
import ServiceLifecycle
import TillSync

/// Each background part of the till (print spooler, forwarder, update service, card readers) is
/// a service of one ServiceGroup (`TillServices`): it starts its work when the group runs and, at
/// graceful shutdown (quitting, SIGTERM, SIGHUP), stops in the group's reverse order, finishing
/// what it is doing: a receipt being printed finishes or stays queued, a batch being sent is
/// acknowledged or stays in the outbox. Their timing is their own pure policy (`DrainSchedule`,
/// `Backoff`, the spooler's `PrintRetryPolicy`), tested on a manual clock.
protocol BackgroundPart: Service {
    func start()
    func stop()
}

extension BackgroundPart {
    public func run() async throws {
        start()
        // Until the group shuts down (or is cancelled): then stop, off the concurrency pool, since
        // stopping waits for the part's own thread to finish its step.
        try? await gracefulShutdown()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let t = Thread {
                stop()
                done.resume()
            }
            t.name = "till-service-stop"
            t.start()
        }
    }
}

extension PrintSpooler: BackgroundPart {}
extension Forwarder: BackgroundPart {}
extension UpdateService: BackgroundPart {}
extension CardReaderHub: BackgroundPart {}

/// The till's background services, run as one group beside the terminal's loop.
final class TillServices: Sendable {
    private let group: ServiceGroup
    private let task: Task<Void, Never>

    /// Starts `services` (stopped at shutdown in the reverse order).
    init(_ services: [any Service]) {
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            logger: Logger(label: "till", factory: { _ in SwiftLogNoOpLogHandler() })))
        self.group = group
        // On a thread of its own, never waiting for the shared concurrency pool (which a busy
        // process may have filled): the services start, and stop, whatever else runs.
        task = Task(executorPreference: ThreadTaskExecutor.services) { try? await group.run() }
    }

    /// Shuts the services down gracefully and waits for them (at most `seconds`), from a thread
    /// outside the concurrency pool (the terminal's, when `till run` ends).
    func shutDown(within seconds: Double = 5) {
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: ThreadTaskExecutor.services) { [self] in
            await shutDown()
            done.signal()
        }
        _ = done.wait(timeout: .now() + seconds)
    }

    /// Shuts the services down gracefully and waits until every one has stopped.
    func shutDown() async {
        await group.triggerGracefulShutdown()
        await task.value
    }
}

extension ThreadTaskExecutor {
    /// The thread the till's service group runs its tasks on (they only start, wait and stop:
    /// the parts' work is on threads of their own).
    static let services = ThreadTaskExecutor(threads: 1, name: "till-services")
}
