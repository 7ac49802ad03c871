import Foundation

/// A task executor on threads of its own: tasks preferring it never wait for the shared concurrency
/// pool, which blocking work elsewhere in the process (libcurl, SQLite, a busy test suite) may
/// have filled.
public final class ThreadTaskExecutor: TaskExecutor, @unchecked Sendable {   // `jobs` is guarded by `condition`
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    public init(threads: Int, name: String) {
        for i in 0..<max(1, threads) {
            let t = Thread { [self] in loop() }
            t.name = threads == 1 ? name : "\(name)-\(i)"
            t.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
