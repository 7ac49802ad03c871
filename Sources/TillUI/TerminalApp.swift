public import Foundation
import TillCore
import TillProtocol

/// Input that does not come through the terminal: card readers read directly.
public enum ExternalInput: Sendable, Equatable {
    /// A card read (digits or track text), handled like a wedge scan on any screen.
    case scan(String)
    /// A reader problem for the cashier (shown once).
    case problem(String)
}

/// Runs the till in the terminal: reads keys, tells scans from typing, feeds the controller,
/// redraws. Single-threaded; returns when the cashier quits at the sign-on screen or the process
/// is asked to stop (SIGTERM, SIGHUP), always restoring the terminal.
public final class TerminalApp {
    let controller: TillController
    var decoder: ScanBurstDecoder
    let timeZone: TimeZone
    /// Status-bar items (printer, sync queue, programme version…), refreshed about once a second.
    let statusItems: () -> [String]
    /// Card readers read directly, polled every 50 ms; nil: none configured.
    let external: (() -> [ExternalInput])?
    private let epoch = ContinuousClock.now

    public init(
        controller: TillController, scanGapMilliseconds: Int64, timeZone: TimeZone = .current,
        external: (() -> [ExternalInput])? = nil, statusItems: @escaping () -> [String] = { [] }
    ) {
        self.controller = controller
        self.decoder = ScanBurstDecoder(gapMilliseconds: scanGapMilliseconds)
        self.timeZone = timeZone
        self.external = external
        self.statusItems = statusItems
    }

    private var monotonicMilliseconds: Int64 {
        let d = ContinuousClock.now - epoch
        return d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }

    public func run() {
        let terminal = Terminal()
        terminal.start()
        defer { terminal.stop() }
        let zone = timeZone
        let screen = SaleScreen(t: terminal, dateText: { ProtocolTime.display($0, timeZone: zone, seconds: false) })
        var status = statusItems()
        var statusAt = monotonicMilliseconds
        while !controller.shouldQuit && !terminal.signalReceived {
            let now = monotonicMilliseconds
            if now - statusAt >= 1000 {
                status = statusItems()
                statusAt = now
                if let problem = controller.env.printer.takeProblem() { controller.notify(problem) }
            }
            screen.draw(controller, clock: clockText(), status: status)
            if controller.bell {
                terminal.beep()
                controller.bell = false
            }
            var wait = decoder.deadline.map { max(1, Int($0 - now)) } ?? 500
            if external != nil { wait = min(wait, 50) }
            let input = terminal.read(timeoutMilliseconds: wait)
            let at = monotonicMilliseconds
            var events: [InputEvent]
            switch input {
            case .key(let k):
                events = decoder.feed(k, at: at)
                // Keys already waiting arrived together, however long this process was kept from
                // reading them (a loaded machine): they get the same time, so a scanner's burst
                // is never split into typed digits and a shorter "scan".
                while case .key(let next) = terminal.read(timeoutMilliseconds: 0) {
                    events += decoder.feed(next, at: at)
                }
            case .resize, .timeout: events = decoder.flush(at: at)
            }
            for e in events { controller.handle(e) }
            controller.tick()
            for e in external?() ?? [] {
                switch e {
                case .scan(let code): controller.handle(.scan(code))
                case .problem(let text): controller.notify(text)
                }
            }
        }
    }

    private func clockText() -> String {
        ProtocolTime.display(controller.env.now(), timeZone: timeZone, seconds: true)
    }
}
