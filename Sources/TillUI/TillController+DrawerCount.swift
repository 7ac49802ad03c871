public import TillCore
import TillProtocol

/// The drawer counted by notes and coins at the Z report.
public struct CashCount: Equatable, Sendable {
    /// Minor units, largest first.
    public var denominations: [Int64]
    public var counts: [Int64]
    public var selected = 0
    /// At most this many of one note or coin.
    public static let maxPieces: Int64 = 100_000

    public init(denominations: [Int64]) {
        self.denominations = denominations
        counts = Array(repeating: 0, count: denominations.count)
    }

    /// The cash counted, added with checked arithmetic; nil past the largest amount the till takes.
    public var total: Int64? {
        var sum: Int64 = 0
        for (d, n) in zip(denominations, counts) {
            let (value, o1) = d.multipliedReportingOverflow(by: n)
            let (next, o2) = sum.addingReportingOverflow(value)
            guard !o1, !o2, next <= Money.maximumMinor else { return nil }
            sum = next
        }
        return sum
    }

    /// "50.00 x 3, 0.20 x 4": the notes and coins counted (for the audit trail).
    public func breakdown(_ currency: Currency) -> String {
        let parts = zip(denominations, counts).filter { $0.1 > 0 }.map { "\(currency.format($0.0)) x \($0.1)" }
        return (parts.isEmpty ? "nothing" : parts.joined(separator: ", ")) + "; total " + (total.map(currency.format) ?? "too large")
    }
}

extension TillController {
    // MARK: - Counting the drawer by notes and coins

    func countHint(_ count: CashCount) -> String {
        // One line at 80 columns: the prompt below it must stay in sight.
        "How many of \(currency.format(count.denominations[count.selected]))? Key it and Enter; \u{2191}\u{2193} move; \(keymap.label(.total)): all counted"
    }

    /// Keys while the drawer is counted: a number and Enter for the selected note or coin (then
    /// the next), arrows to move, Total to finish; the total is added up exactly, and refused
    /// past what a drawer can hold.
    func denominationKey(_ key: Key, _ action: TillAction?, _ count: CashCount) {
        var count = count
        func take() -> Bool {
            guard !input.isEmpty else { return true }
            let text = input
            entry.clear()
            guard let n = Int64(text), text.allSatisfy(\.isASCIIDigit), (0...CashCount.maxPieces).contains(n) else {
                fail("'\(text)' is not a number of notes or coins: key 0 to \(CashCount.maxPieces), then Enter")
                return false
            }
            count.counts[count.selected] = n
            return true
        }
        if editEntry(key, .digits, limit: 6) { return }
        switch key {
        case .enter:
            guard take() else { return }
            count.selected = min(count.selected + 1, count.denominations.count - 1)
        case .up:
            guard take() else { return }
            count.selected = max(0, count.selected - 1)
        case .down:
            guard take() else { return }
            count.selected = min(count.selected + 1, count.denominations.count - 1)
        default:
            if action == .total {
                guard take() else { return }
                guard let total = count.total else {
                    mode = .denominationCount(count)
                    return fail("The count comes to more than a drawer can hold: check the numbers keyed")
                }
                lastCount = count
                audit("cash-count", count.breakdown(currency))
                return askToClose(counted: total)
            }
            if action == .clear {
                entry.clear()
                mode = .cashOffice
                message = Message(text: "Day not closed: nothing was counted", isError: false)
                return
            }
            return fail("Key how many of \(currency.format(count.denominations[count.selected])) and Enter; \(keymap.label(.total)) finishes; \(keymap.label(.clear)) goes back")
        }
        mode = .denominationCount(count)
        message = Message(text: countHint(count), isError: false)
    }

    /// The count is keyed: the Z report waits for the cashier to say so, after saying what it
    /// does and what it leaves (sales parked now are in no report until they are finished).
    func askToClose(counted: Int64) {
        let parked = (try? env.journal.suspendedSales().count) ?? 0
        mode = .confirmClose(counted: counted, parked: parked)
        var text = "Close the day with \(currency.format(counted)) counted? Enter closes it; \(keymap.label(.clear)) counts again"
        if parked > 0 {
            let one = parked == 1
            text = "\(parked) parked sale\(one ? " is" : "s are") waiting: finish or cancel \(one ? "it" : "them") first, "
                + "or \(one ? "it goes" : "they go") into tomorrow's report. " + text
        }
        message = Message(text: text, isError: parked > 0)
    }

    func confirmCloseKey(_ key: Key, _ action: TillAction?, counted: Int64) {
        if key == .enter { return runReport(z: true, counted: counted) }
        if action == .clear {
            entry.clear()
            if let count = lastCount {
                mode = .denominationCount(count)
                message = Message(text: "Not closed: correct the count. " + countHint(count), isError: false)
            } else {
                mode = .closeCount
                message = Message(text: "Not closed: count the cash again and key the total", isError: false)
            }
            return
        }
        fail("Enter closes the day with the Z report; \(keymap.label(.clear)) counts again")
    }

    func runReport(z: Bool, counted: Int64?) {
        guard let office = env.cashOffice else { return }
        do {
            let r = try office.report(z: z, counted: counted, at: env.now(), till: settings.identity, cashier: cashier?.number,
                                      print: env.printer.reportJob)
            env.printer.queued()
            if z { env.outboxWritten() }
            mode = .document(DocumentView(title: "\(r.kind) REPORT \(r.number)", lines: env.printer.reportLines(for: r)))
            var text = "\(r.kind) report \(r.number): \(r.salesCount) sales, net \(currency.format(r.netSales))"
            if let os = r.cash.overShort { text += os == 0 ? "; the drawer balances" : os > 0 ? "; drawer over by \(currency.format(os))" : "; drawer short by \(currency.format(-os))" }
            message = Message(text: text, isError: false)
        } catch {
            mode = .cashOffice
            fail("\(error)")
        }
    }

    func documentKey(_ key: Key, _ action: TillAction?, view: DocumentView) {
        var v = view
        switch action {
        case .lineUp, .pageUp: v.scroll = max(0, v.scroll - (action == .pageUp ? 10 : 1)); mode = .document(v)
        case .lineDown, .pageDown: v.scroll = min(max(0, v.lines.count - 1), v.scroll + (action == .pageDown ? 10 : 1)); mode = .document(v)
        default:
            mode = .selling
            message = nil
        }
    }
}
