/// Moves bytes to a receipt printer. Implementations are named by medium: USB (libusb), CUPS
/// (libcups), a device file (/dev/usb/lp0), TCP port 9100.
///
/// Contract: `send` returns only when the printer (or, for CUPS, the print queue) has taken the
/// whole job, and throws otherwise — a job that threw may be sent again. `status` asks the printer
/// where the connection allows it and returns nil where it cannot tell.
public protocol PrinterTransport: Sendable {
    func send(_ bytes: [UInt8]) throws(PrinterError)
    func status() throws(PrinterError) -> PrinterStatus?
    /// Prints a job: asks the status first when `checkStatus` (refusing to send to a printer that
    /// is not ready), then sends, over one connection where the medium allows.
    func print(_ bytes: [UInt8], checkStatus: Bool) throws(PrinterError)
    /// The connection as a store's IT person would name it, e.g. "USB 04b8:0202".
    var description: String { get }
}

extension PrinterTransport {
    public func print(_ bytes: [UInt8], checkStatus: Bool) throws(PrinterError) {
        if checkStatus, let s = try status(), !s.ready { throw .notReady(description, s) }
        try send(bytes)
    }
}

/// What the printer reports about itself (ESC/POS DLE EOT 1, 2 and 4).
public struct PrinterStatus: Hashable, Sendable, CustomStringConvertible {
    public var online: Bool
    public var coverOpen: Bool
    public var paperNearEnd: Bool
    public var paperOut: Bool
    public var error: Bool

    public init(online: Bool = true, coverOpen: Bool = false, paperNearEnd: Bool = false, paperOut: Bool = false, error: Bool = false) {
        self.online = online
        self.coverOpen = coverOpen
        self.paperNearEnd = paperNearEnd
        self.paperOut = paperOut
        self.error = error
    }

    /// True when a job can print now.
    public var ready: Bool { online && !coverOpen && !paperOut && !error }

    public var description: String {
        if paperOut { return "paper out" }
        if coverOpen { return "cover open" }
        if error { return "printer error" }
        if !online { return "offline" }
        if paperNearEnd { return "ready, paper near end" }
        return "ready"
    }

    /// Reads the answers to DLE EOT 1 (printer), 2 (offline cause) and 4 (paper sensor). A byte
    /// that is not a status byte (fixed bits 0x12 set, 0x81 clear) is refused.
    public static func parse(printer: UInt8, offlineCause: UInt8, paper: UInt8) -> PrinterStatus? {
        for b in [printer, offlineCause, paper] where b & 0x93 != 0x12 { return nil }
        return PrinterStatus(
            online: printer & 0x08 == 0,
            coverOpen: offlineCause & 0x04 != 0,
            paperNearEnd: paper & 0x0C != 0,
            paperOut: paper & 0x60 != 0 || offlineCause & 0x20 != 0,
            error: offlineCause & 0x40 != 0)
    }

    /// The three status requests, in the order `parse` takes their answers.
    public static let requests: [[UInt8]] = [[0x10, 0x04, 1], [0x10, 0x04, 2], [0x10, 0x04, 4]]
}

/// Why printing failed, in words a cashier or IT person can act on. Every case says what to do.
public enum PrinterError: Error, Hashable, Sendable, CustomStringConvertible {
    case notFound(String, hint: String)
    case permissionDenied(String, hint: String)
    case busy(String, hint: String)
    case timedOut(String, hint: String)
    case disconnected(String)
    case notReady(String, PrinterStatus)
    case queueMissing(String)
    case queueNotAccepting(String, reason: String)
    case queueStopped(String, reason: String)
    case schedulerDown(String)
    case jobFailed(String, reason: String)
    case io(String, reason: String)
    case badAddress(String)

    public var description: String {
        switch self {
        case .notFound(let what, let hint): return "\(what) is not there: \(hint)"
        case .permissionDenied(let what, let hint): return "No permission to use \(what): \(hint)"
        case .busy(let what, let hint): return "\(what) is busy: \(hint)"
        case .timedOut(let what, let hint): return "\(what) did not answer in time: \(hint)"
        case .disconnected(let what): return "\(what) was disconnected: check the cable and the power"
        case .notReady(let what, let s):
            switch s.description {
            case "paper out": return "\(what): paper out. Load a new roll; the receipt prints then."
            case "cover open": return "\(what): cover open. Close the cover; the receipt prints then."
            default: return "\(what) is \(s): check it; the receipt prints when it is ready."
            }
        case .queueMissing(let q):
            return "CUPS has no printer queue '\(q)': create it as a raw queue (Drivers/cups/README.md) or fix [printer] cups_queue"
        case .queueNotAccepting(let q, let reason):
            return "CUPS queue '\(q)' is not accepting jobs (\(reason)): run cupsaccept \(q)"
        case .queueStopped(let q, let reason):
            return "CUPS queue '\(q)' is stopped (\(reason)): run cupsenable \(q)"
        case .schedulerDown(let server):
            return "The CUPS scheduler at \(server) is not running: start it (systemctl start cups) or fix [printer] cups_server"
        case .jobFailed(let q, let reason): return "CUPS could not print on '\(q)': \(reason)"
        case .io(let what, let reason): return "Printing to \(what) failed: \(reason)"
        case .badAddress(let s): return s
        }
    }

    /// Whether sending again later may work (everything but a wrong configuration).
    public var isTransient: Bool {
        if case .badAddress = self { return false }
        return true
    }
}
