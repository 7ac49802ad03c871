public import TillCore
import TillProtocol

extension TillController {
    // MARK: - Updates from head office

    /// Applies head office's publications when no sale is open (never in the middle of one), at
    /// most twice a second.
    func applyUpdatesBetweenSales() {
        guard let updates = env.updates, sale == nil else { return }
        switch mode {
        case .selling, .receipt, .signOn, .document, .locked: break
        default: return
        }
        let now = env.now()
        guard now - lastUpdateCheck >= 500 else { return }
        lastUpdateCheck = now
        do {
            guard try updates.hasPendingPublications() else { return }
            let applied = try updates.applyPendingPublications(at: now)
            guard !applied.isEmpty else { return }
            reloadProgramme()
            if let t = try updates.terminalSettings() { adopt(t) }
            env.publicationsApplied()
            let versions = applied.map { "v\($0.publication.version)" }.joined(separator: ", ")
            let text = "Update from head office (\(versions)): " + applied.map(\.summary).joined(separator: "; ")
            if case .signOn = mode { return }
            // Just after a sale its change and receipt message stay first on the line.
            if case .receipt = mode, let m = message, !m.isError {
                message = Message(text: m.text + " " + text, isError: applied.contains { $0.problem != nil })
            } else {
                message = Message(text: text, isError: applied.contains { $0.problem != nil })
            }
        } catch {
            fail("Head office's update could not be applied: \(error); the till carries on as before")
        }
    }

    /// Takes the terminal settings that apply at once (the printer profile and keymap wait for a restart).
    func adopt(_ t: TerminalSettings) {
        if let v = t.loyaltyPromptAtTotal { settings.loyaltyPromptAtTotal = v }
        if let v = t.discountLimit, v.hasSuffix("%"), let bp = TaxRate.parsePercent(v) { settings.discountLimitBasisPoints = bp }
        if let v = t.autoLockMinutes, v >= 0 { settings.autoLockMilliseconds = Int64(v) * 60_000 }
        env.printer.settingsChanged(t)
    }

    /// A local time for people: "YYYY-MM-DD HH:MM".
    public static func text(_ t: LocalDateTime) -> String {
        let (y, m, d) = ProtocolTime.civil(fromDays: t.days)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let minute = Int64(t.minuteOfDay)
        return "\(y)-\(two(m))-\(two(d)) \(two(minute / 60)):\(two(minute % 60))"
    }

    func showUpdates() {
        guard let updates = env.updates else { return fail("This till takes no updates from head office") }
        do {
            let list = try updates.appliedPublications(limit: 30)
            var lines: [String] = list.isEmpty ? ["No update from head office yet."] : []
            for (p, at, problem) in list {
                lines.append("v\(p.version) \(p.kind.rawValue) for \(p.scope)")
                lines.append("  by \(p.createdBy): \(p.note.isEmpty ? "-" : p.note)")
                lines.append("  applied \(Self.text(env.localTime(at)))" + (problem.map { ", NOT APPLIED: \($0)" } ?? ""))
            }
            mode = .document(DocumentView(title: "WHAT CHANGED", lines: lines))
            message = nil
        } catch { fail("\(error)") }
    }
}
