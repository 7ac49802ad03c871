import TillCore
import TillProtocol

extension TillController {
    // MARK: - Lock

    /// Called by the terminal loop: locks the till after the configured idle time.
    public func tick() {
        applyUpdatesBetweenSales()
        takeRefreshedCards()
        guard settings.autoLockMilliseconds > 0, cashier != nil, !isLocked else { return }
        if env.now() - lock.lastActivity >= settings.autoLockMilliseconds { lock(auto: true) }
    }

    public var isLocked: Bool { if case .locked = mode { return true } else { return false } }

    func lock(auto: Bool) {
        guard let cashier else { return }
        lock.modeBeforeLock = mode
        entry.clear()
        mode = .locked
        audit("lock", auto ? "locked after \(settings.autoLockMilliseconds / 60_000) min idle" : "locked by \(cashier.name)")
        message = Message(text: "Locked. \(cashier.name): key your PIN and Enter to carry on", isError: false)
    }

    func lockedKey(_ key: Key, _ action: TillAction?) {
        if editEntry(key, .digits, limit: 8) { return }
        switch key {
        case .enter:
            guard let cashier else { return }
            let pin = input
            entry.clear()
            let ok = (try? env.cashiers.authenticate(number: cashier.number, pin: pin)) != nil
            guard ok else {
                audit("unlock-refused", "wrong PIN")
                return fail("That is not \(cashier.name)'s PIN: the till stays locked")
            }
            mode = lock.modeBeforeLock ?? .selling
            lock.modeBeforeLock = nil
            audit("unlock", "")
            message = Message(text: "Unlocked", isError: false)
        default:
            fail("The till is locked: \(cashier?.name ?? "cashier"), key your PIN and Enter")
        }
    }
}
