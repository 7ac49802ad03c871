import Foundation

/// Wakes the tills' long polls when what they may see changes: a publication made, or one
/// scheduled for later coming into force. Head office looks at the database every 200 ms (a
/// publication may be made by another process, `headoffice publish`), so a till hears of it
/// within a fraction of a second without asking more often.
actor UpdateSignal {
    private var state: Int64 = -1
    private var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    private var expired: Set<UUID> = []
    private var closed = false

    var current: Int64 { state }

    /// Head office is stopping: every long poll answers now, and new ones do not wait.
    func close() {
        closed = true
        let all = waiters
        waiters = [:]
        for c in all.values { c.resume() }
    }

    func update(_ s: Int64) {
        guard s != state else { return }
        state = s
        let all = waiters
        waiters = [:]
        for c in all.values { c.resume() }
    }

    /// Returns when the state is no longer `seen`, or when `expire(id)` is called.
    func wait(from seen: Int64, id: UUID) async {
        if closed || state != seen || expired.remove(id) != nil { return }
        await withCheckedContinuation { waiters[id] = $0 }
    }

    func expire(_ id: UUID) {
        if let c = waiters.removeValue(forKey: id) { c.resume() } else { expired.insert(id) }
    }

    /// Waits up to `seconds` for a change from `seen`.
    func waitForChange(from seen: Int64, seconds: Double) async {
        let id = UUID()
        let timer = Task { [weak self] in
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
            await self?.expire(id)
        }
        await wait(from: seen, id: id)
        timer.cancel()
        expired.remove(id)
    }
}
