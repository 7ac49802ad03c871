public import Foundation
import TillCore
import TillProtocol

/// Runs the till in the terminal: reads keys, tells scans from typing, feeds the controller,
/// redraws. Single-threaded; returns when the cashier quits at the sign-on screen or the process
/// is asked to stop (SIGTERM, SIGHUP), always restoring the terminal.
public final class TerminalApp {
    let controller: TillController
    var decoder: ScanBurstDecoder
    let timeZone: TimeZone
    /// Status-bar items (printer, sync queue, programme version…), refreshed about once a second.
    let statusItems: () -> [String]
    private let epoch = ContinuousClock.now

    public init(
        controller: TillController, scanGapMilliseconds: Int64, timeZone: TimeZone = .current,
        statusItems: @escaping () -> [String] = { [] }
    ) {
        self.controller = controller
        self.decoder = ScanBurstDecoder(gapMilliseconds: scanGapMilliseconds)
        self.timeZone = timeZone
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
        let screen = SaleScreen(t: terminal)
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
            let wait = decoder.deadline.map { max(1, Int($0 - now)) } ?? 500
            let input = terminal.read(timeoutMilliseconds: wait)
            let at = monotonicMilliseconds
            var events: [InputEvent]
            switch input {
            case .key(let k): events = decoder.feed(k, at: at)
            case .resize, .timeout: events = decoder.flush(at: at)
            }
            for e in events { controller.handle(e) }
        }
    }

    private func clockText() -> String {
        ProtocolTime.display(controller.env.now(), timeZone: timeZone, seconds: true)
    }
}
