import Dispatch
import Foundation
public import Printers
import Synchronization
import TillCore
public import TillStore

/// When to try the printer again: a value-type state machine fed times and outcomes.
///
/// After a failure it waits 1 s, then doubles the wait up to 30 s; a new receipt makes it try at
/// once (the cashier may just have fixed the printer). While idle it asks for the printer's status
/// every 10 s, so "paper out" shows before the next sale. No clock inside: times come in.
public struct PrintRetryPolicy: Sendable, Equatable {
    public private(set) var nextAttemptAt: Int64 = 0
    public private(set) var delay: Int64 = 0
    /// A job was queued since the last look at the queue: the next round is at once.
    public private(set) var queued = false
    public static let firstDelay: Int64 = 1_000
    public static let maxDelay: Int64 = 30_000
    public static let idlePoll: Int64 = 10_000

    public init() {}

    public func due(at now: Int64) -> Bool { now >= nextAttemptAt }

    public mutating func succeeded(at now: Int64) {
        delay = 0
        nextAttemptAt = now
    }

    public mutating func failed(at now: Int64) {
        delay = delay == 0 ? Self.firstDelay : min(delay * 2, Self.maxDelay)
        nextAttemptAt = now + delay
    }

    /// The queue was empty at `now`. A job queued while the printer was being asked about
    /// keeps the next round at once (the idle wait must not swallow it).
    public mutating func idle(at now: Int64) {
        if queued {
            queued = false
            nextAttemptAt = min(nextAttemptAt, now)
            return
        }
        nextAttemptAt = now + (delay == 0 ? Self.idlePoll : delay)
    }

    /// The queue is about to be looked at: what was queued so far will be seen.
    public mutating func looking() { queued = false }

    public mutating func jobQueued(at now: Int64) {
        queued = true
        nextAttemptAt = min(nextAttemptAt, now)
    }
}

/// What the spooler last knew, for the status bar and the message line.
public struct SpoolerSnapshot: Sendable, Equatable {
    public var printer: String = "starting"
    public var waiting = 0
    /// The newest problem, with a counter so each is told once.
    public var problem: String?
    public var problemNumber = 0
}

/// Prints queued jobs in the background, oldest first; never blocks a sale. A job that fails
/// stays queued and is retried (PrintRetryPolicy) until it is older than the give-up time.
public final class PrintSpooler: Sendable {
    let database: TillDatabase
    let transport: any PrinterTransport
    let askStatus: Bool
    let giveUpAfter: Int64
    let now: @Sendable () -> Int64
    private let state = Mutex((policy: PrintRetryPolicy(), snapshot: SpoolerSnapshot(), running: false))
    /// Jobs the printer took whose "printed" the database did not record: never sent again; the
    /// record is retried before anything else prints.
    private let unrecorded = Mutex<[Int64: String]>([:])
    private let wake = DispatchSemaphore(value: 0)
    /// Signalled when the background thread has ended (after `stop`).
    private let ended = DispatchSemaphore(value: 0)

    public init(database: TillDatabase, transport: any PrinterTransport, askStatus: Bool, giveUpAfterSeconds: Int,
                now: @escaping @Sendable () -> Int64) {
        self.database = database
        self.transport = transport
        self.askStatus = askStatus
        self.giveUpAfter = Int64(giveUpAfterSeconds) * 1000
        self.now = now
    }

    public var snapshot: SpoolerSnapshot { state.withLock { $0.snapshot } }

    /// Starts the background thread (once).
    public func start() {
        let already = state.withLock { s -> Bool in
            defer { s.running = true }
            return s.running
        }
        guard !already else { return }
        let thread = Thread { [self] in
            defer { ended.signal() }
            while state.withLock({ $0.running }) {
                let wait = step()
                _ = wake.wait(timeout: .now() + .milliseconds(Int(max(50, min(wait, 1_000)))))
            }
        }
        thread.name = "print-spooler"
        thread.start()
    }

    /// Stops the background thread and waits (at most `seconds`) for the step in progress: a
    /// receipt being printed finishes, or stays queued to be printed at the next start.
    public func stop() { stop(within: 1) }

    public func stop(within seconds: Double) {
        let wasRunning = state.withLock { s -> Bool in
            defer { s.running = false }
            return s.running
        }
        wake.signal()
        guard wasRunning else { return }
        _ = ended.wait(timeout: .now() + seconds)
    }

    /// A job was queued: try now.
    public func jobQueued() {
        let t = now()
        state.withLock { $0.policy.jobQueued(at: t) }
        wake.signal()
    }

    /// One round: print what is due. Returns how long to wait before the next round (ms).
    @discardableResult
    public func step() -> Int64 {
        let t = now()
        guard state.withLock({ $0.policy.due(at: t) }) else {
            return state.withLock { $0.policy.nextAttemptAt } - t
        }
        // A printed job the database has not recorded yet would come back as pending: record it
        // first, and print nothing until it is (printing it again would give two receipts).
        for (id, label) in unrecorded.withLock({ $0 }) {
            do {
                try database.markPrinted(id, at: t)
                _ = unrecorded.withLock { $0.removeValue(forKey: id) }
            } catch {
                fail("\(label) printed, but the till could not record it (\(error)); nothing more prints until it can, so nothing prints twice",
                     at: t)
                return state.withLock { $0.policy.nextAttemptAt } - t
            }
        }
        let job: PrintJob?
        state.withLock { $0.policy.looking() }
        do { job = try database.nextPendingPrintJob() } catch {
            fail(error.description, at: t)
            return 1_000
        }
        guard let job else {
            // Nothing to print: look at the printer now and then, so its state is current.
            var line = "ready"
            if askStatus {
                do { line = try transport.status().map(\.description) ?? "ready" } catch { line = short(error) }
            }
            return state.withLock {
                $0.snapshot.printer = line
                $0.snapshot.waiting = 0
                $0.policy.idle(at: t)
                return max(0, $0.policy.nextAttemptAt - t)
            }
        }
        let result = print(job)
        let waiting = (try? database.pendingPrintJobCount()) ?? 0
        switch result {
        case .success:
            state.withLock {
                $0.policy.succeeded(at: t)
                $0.snapshot.printer = "ready"
                $0.snapshot.waiting = waiting
            }
            return 0
        case .failure(let error):
            let label = job.receiptNumber.map { "Receipt \($0)" } ?? "A print job"
            let giveUp = t - job.createdAt > giveUpAfter
            try? database.recordPrintFailure(job.id, error: error.description, at: t, giveUp: giveUp)
            fail(giveUp ? "\(label) was not printed (\(error)); it is no longer retried: reprint it with the reprint key"
                 : "\(label) not printed yet: \(error)", at: t, printer: short(error), waiting: waiting)
            return state.withLock { $0.policy.nextAttemptAt } - t
        }
    }

    /// Sends one job now: status first (where the printer tells), then the bytes.
    public func print(_ job: PrintJob) -> Result<Void, PrinterError> {
        do {
            try transport.print(job.payload, checkStatus: askStatus)
            do { try database.markPrinted(job.id, at: now()) } catch {
                unrecorded.withLock { $0[job.id] = job.receiptNumber.map { "Receipt \($0)" } ?? "A print job" }
            }
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    private func fail(_ message: String, at t: Int64, printer: String? = nil, waiting: Int? = nil) {
        state.withLock {
            $0.policy.failed(at: t)
            if let printer { $0.snapshot.printer = printer }
            if let waiting { $0.snapshot.waiting = waiting }
            if $0.snapshot.problem != message {
                $0.snapshot.problem = message
                $0.snapshot.problemNumber += 1
            }
        }
    }

    /// A few words for the status bar.
    private func short(_ e: PrinterError) -> String {
        switch e {
        case .notReady(_, let s): return s.description
        case .notFound: return "not connected"
        case .permissionDenied: return "no permission"
        case .busy: return "busy"
        case .timedOut: return "not answering"
        case .disconnected: return "disconnected"
        case .queueMissing: return "no CUPS queue"
        case .queueNotAccepting, .queueStopped: return "CUPS queue stopped"
        case .schedulerDown: return "CUPS down"
        case .jobFailed, .io, .badAddress: return "error"
        }
    }
}
