import Dispatch
import Synchronization

/// Runs blocking work (database, password hashes, receipt drawing) off the server's event loops
/// and Swift's cooperative threads, at most `width` jobs at once. A job waiting for its turn
/// holds no thread (it waits as a continuation), so a queue of sign-ins or receipts in one pool
/// can never take the threads another pool's jobs (the tills' ingest, /health) need.
final class BlockingWork: Sendable {
    private let queue = DispatchQueue(label: "headoffice.work", attributes: .concurrent)
    private let slots: Mutex<(free: Int, waiting: [CheckedContinuation<Void, Never>])>

    init(width: Int) { slots = Mutex((max(1, width), [])) }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = slots.withLock { s -> Bool in
                if s.free > 0 {
                    s.free -= 1
                    return true
                }
                s.waiting.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    private func release() {
        let next = slots.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiting.isEmpty {
                s.free += 1
                return nil
            }
            return s.waiting.removeFirst()
        }
        next?.resume()
    }
}
