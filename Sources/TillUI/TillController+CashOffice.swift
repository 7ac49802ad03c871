import TillCore
import TillProtocol

/// A document on screen: a refund slip or an X/Z report, as the paper shows it.
public struct DocumentView: Equatable, Sendable {
    public var title: String
    public var lines: [String]
    public var scroll = 0
}

/// What the cash office menu offers, in order (the cashier keys the number).
public enum CashOfficeItem: Int, CaseIterable, Sendable {
    case float = 1, pickup, paidIn, paidOut, noSale, xReport, zReport, updates

    public var label: String {
        switch self {
        case .float: "Opening float"
        case .pickup: "Pickup (cash lift to the safe)"
        case .paidIn: "Paid in"
        case .paidOut: "Paid out"
        case .noSale: "No sale (open the drawer; supervisor)"
        case .xReport: "X report (the day so far)"
        case .zReport: "Z report: count the drawer and close the day"
        case .updates: "What changed: updates from head office"
        }
    }

    var movement: CashMovementKind? {
        switch self {
        case .float: .float
        case .pickup: .pickup
        case .paidIn: .paidIn
        case .paidOut: .paidOut
        case .noSale: .noSale
        case .xReport, .zReport, .updates: nil
        }
    }
}

extension TillController {
    // MARK: - Cash office

    func openCashOffice() {
        leaveSelling(to: .cashOffice, before: "the cash office", unavailable: "The cash office is", "Cash office: key a number")
    }

    func cashOfficeKey(_ key: Key, _ action: TillAction?) {
        if case .char(let c) = key, let n = c.wholeNumberValue, let item = CashOfficeItem(rawValue: n) {
            return choose(item)
        }
        if action == .clear || action == .cashOffice {
            mode = .selling
            message = nil
            return
        }
        fail("Key 1 to \(CashOfficeItem.allCases.count) to choose; \(keymap.label(.clear)) goes back")
    }

    func choose(_ item: CashOfficeItem) {
        entry.clear()
        switch item {
        case .xReport: runReport(z: false, counted: nil)
        case .updates: showUpdates()
        case .zReport:
            if settings.denominations.isEmpty {
                mode = .closeCount
                message = Message(text: "Count the cash in the drawer and key the total (the till does not show what it expects)", isError: false)
            } else {
                let count = CashCount(denominations: settings.denominations)
                lastCount = nil
                mode = .denominationCount(count)
                message = Message(text: countHint(count), isError: false)
            }
        case .noSale:
            mode = .cashReason(.noSale, amount: 0)
            message = Message(text: "Why open the drawer? Key the reason and Enter", isError: false)
        default:
            let kind = item.movement!
            mode = .cashAmount(kind)
            message = Message(text: "\(kind.label): key the amount and Enter", isError: false)
        }
    }

    func cashAmountKey(_ key: Key, _ action: TillAction?, kind: CashMovementKind?) {
        if editEntry(key, .keyed, limit: 12) { return }
        switch key {
        case .enter:
            let text = input
            entry.clear()
            guard let amount = currency.parseKeyed(text), !text.isEmpty else {
                return fail("'\(text)' is not an amount: key e.g. 150.00 or 15000, then Enter")
            }
            guard let kind else { return askToClose(counted: amount) }
            guard amount > 0 else { return fail("\(kind.label) of \(currency.format(0)): key the amount, then Enter") }
            if kind.needsReason {
                mode = .cashReason(kind, amount: amount)
                message = Message(text: "\(kind.label) \(currency.format(amount)): key the reason and Enter", isError: false)
            } else {
                recordCashWithinLimits(kind, amount: amount, reason: nil)
            }
        default:
            if action == .clear { mode = .cashOffice; entry.clear(); message = nil } else {
                fail("Key the amount with the digit keys, then Enter; \(keymap.label(.clear)) goes back")
            }
        }
    }

    func cashReasonKey(_ key: Key, _ action: TillAction?, kind: CashMovementKind, amount: Int64) {
        if editEntry(key, .text, limit: 60) { return }
        switch key {
        case .enter:
            let reason = input.trimmingSpaces
            guard !reason.isEmpty else { return fail("Key the reason (e.g. 'window cleaner'), then Enter") }
            entry.clear()
            if kind == .noSale {
                authorise(.noSale, reason, .noSale(reason: reason))
            } else {
                recordCashWithinLimits(kind, amount: amount, reason: reason)
            }
        default:
            if action == .clear { mode = .cashOffice; entry.clear(); message = nil } else {
                fail("Key the reason, then Enter; \(keymap.label(.clear)) goes back")
            }
        }
    }

    /// A cash movement above the till's limit for its kind needs a supervisor.
    func recordCashWithinLimits(_ kind: CashMovementKind, amount: Int64, reason: String?) {
        if let limit = settings.cashLimits.limit(for: kind), amount > limit {
            return authorise(.cashAboveLimit, "\(kind.label.lowercased()) \(currency.format(amount)) is above the till's limit of \(currency.format(limit))",
                             .cashMovement(kind, amount: amount, reason: reason))
        }
        recordCash(kind, amount: amount, reason: reason, supervisor: nil)
    }

    func recordCash(_ kind: CashMovementKind, amount: Int64, reason: String?, supervisor: String?) {
        guard let office = env.cashOffice, let cashier else { return }
        let m = CashMovement(kind: kind, amount: amount, reason: reason, cashier: cashier.number, supervisor: supervisor, at: env.now())
        var detail = kind == .noSale ? "drawer opened" : currency.format(amount)
        if let reason { detail += ": " + reason }
        do {
            try office.recordCash(m, detail: detail, slip: env.printer.drawerJob(for: m))
            env.printer.queued()
            mode = .selling
            message = Message(text: kind == .noSale ? "Drawer open (no sale)" : "\(kind.label) \(currency.format(amount)) recorded", isError: false)
        } catch {
            mode = .cashOffice
            fail("\(error)")
        }
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " { s.removeFirst() }
        while let l = s.last, l == " " { s.removeLast() }
        return String(s)
    }
}
