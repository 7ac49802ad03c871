import Foundation

/// Rows made on a thread of their own and handed to the database thread in batches, so that the
/// work of making them (reading a file, building keys) runs beside SQLite's on a second core.
/// At most `depth` batches wait: memory stays bounded whatever the count.
final class Handoff<Row>: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting: [[Row]] = []
    private var ended = false
    private var failure: (any Error)?
    private var stopped = false
    private let depth: Int

    init(depth: Int = 4) { self.depth = depth }

    /// The producer's side: blocks while `depth` batches wait; throws once the consumer stopped.
    func put(_ batch: [Row]) throws {
        condition.lock()
        defer { condition.unlock() }
        while waiting.count >= depth && !stopped { condition.wait() }
        if stopped { throw Stopped() }
        waiting.append(batch)
        condition.broadcast()
    }

    /// The producer has no more (or failed with `error`).
    func end(_ error: (any Error)?) {
        condition.lock()
        ended = true
        if failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }

    /// The consumer's side: the next batch, or nil when the producer ended; rethrows its error.
    func take() throws -> [Row]? {
        condition.lock()
        defer { condition.unlock() }
        while waiting.isEmpty && !ended { condition.wait() }
        if !waiting.isEmpty {
            condition.broadcast()
            return waiting.removeFirst()
        }
        if let failure { throw failure }
        return nil
    }

    /// The consumer gives up: the producer's next `put` throws, and waits until it has ended.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while !ended { condition.wait() }
        condition.unlock()
    }

    /// Waits for the producer to end (after the consumer has taken everything, or stopped).
    func join() {
        condition.lock()
        while !ended { condition.wait() }
        condition.unlock()
    }

    struct Stopped: Error {}

    /// Runs `produce` on a new thread, giving it a `put` for one row at a time (rows are batched
    /// here), and `consume` on this thread with each batch. Both have ended when this returns;
    /// the first error (the consumer's, else the producer's) is thrown.
    static func run(
        batch size: Int = 2_048,
        produce: (_ put: @escaping (Row) throws -> Void) throws -> Void,
        consume: ([Row]) throws -> Void
    ) throws {
        let handoff = Handoff<Row>()
        try withoutActuallyEscaping(produce) { produce in
            let job = Job(produce)
            let thread = Thread {
                let rows = Batcher<Row>(size: size, handoff: handoff)
                do {
                    try job.run(rows.add)
                    try rows.flush()
                    handoff.end(nil)
                } catch {
                    handoff.end(error)
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
            do {
                while let batch = try handoff.take() { try consume(batch) }
                handoff.join()
            } catch {
                handoff.stop()   // the producer may not outlive this call: it is told, and waited for
                throw error
            }
        }
    }
}

/// The producer's rows gathered into batches.
private final class Batcher<Row> {
    private var rows: [Row] = []
    private let size: Int
    private let handoff: Handoff<Row>

    init(size: Int, handoff: Handoff<Row>) {
        self.size = size
        self.handoff = handoff
        rows.reserveCapacity(size)
    }

    func add(_ row: Row) throws {
        rows.append(row)
        if rows.count == size { try flush() }
    }

    func flush() throws {
        guard !rows.isEmpty else { return }
        try handoff.put(rows)
        rows.removeAll(keepingCapacity: true)
    }
}

/// The producer, run once on its thread and let go of as it ends: `withoutActuallyEscaping`
/// checks that nothing holds it when `run` returns (the ended Thread object may still).
private final class Job<Row>: @unchecked Sendable {
    private var produce: ((_ put: @escaping (Row) throws -> Void) throws -> Void)?

    init(_ produce: @escaping (_ put: @escaping (Row) throws -> Void) throws -> Void) { self.produce = produce }

    func run(_ put: @escaping (Row) throws -> Void) throws {
        guard let body = produce else { return }
        produce = nil
        try body(put)
    }
}
