#if canImport(Glibc)
import Glibc
#endif

/// A printer as a device file: the kernel's usblp (`/dev/usb/lp0`), a parallel or serial port.
public struct DevicePrinterTransport: PrinterTransport {
    public let path: String
    public let timeoutMilliseconds: Int
    /// Whether to ask the printer for its status (DLE EOT); usblp passes the answers back.
    public let askStatus: Bool

    public init(path: String, timeoutMilliseconds: Int = 5_000, askStatus: Bool = true) {
        self.path = path
        self.timeoutMilliseconds = timeoutMilliseconds
        self.askStatus = askStatus
    }

    public var description: String { "device \(path)" }

    private func open() throws(PrinterError) -> Int32 {
        let fd = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        if fd >= 0 { return fd }
        let e = errno
        // Write-only devices (a parallel port, a file) still take jobs.
        if e == EACCES || e == EROFS || e == EINVAL, case let w = Glibc.open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC), w >= 0 {
            return w
        }
        throw Self.error(e, path)
    }

    public func send(_ bytes: [UInt8]) throws(PrinterError) {
        try print(bytes, checkStatus: false)
    }

    public func print(_ bytes: [UInt8], checkStatus: Bool) throws(PrinterError) {
        let fd = try open()
        defer { close(fd) }
        if checkStatus && askStatus {
            switch FileDescriptorIO.queryStatus(fd, timeoutMilliseconds: min(timeoutMilliseconds, 1_000)) {
            case .success(let s?): if !s.ready { throw .notReady(description, s) }
            case .success(nil): break // the printer does not tell: send anyway
            case .failure(let e): throw Self.error(e, path)
            }
        }
        switch FileDescriptorIO.writeAll(fd, bytes, timeoutMilliseconds: timeoutMilliseconds) {
        case .done: return
        case .timedOut:
            throw .timedOut(description, hint: "the printer is not taking data: is it out of paper, is its cover open, is it switched on?")
        case .failed(let e): throw Self.error(e, path)
        }
    }

    public func status() throws(PrinterError) -> PrinterStatus? {
        guard askStatus else { return nil }
        let fd = try open()
        defer { close(fd) }
        switch FileDescriptorIO.queryStatus(fd, timeoutMilliseconds: min(timeoutMilliseconds, 1_000)) {
        case .success(let s): return s
        case .failure(let e): throw Self.error(e, path)
        }
    }

    static func error(_ e: Int32, _ path: String) -> PrinterError {
        switch e {
        case ENOENT, ENXIO, ENODEV:
            return .notFound("The printer device \(path)", hint: "is the printer plugged in and switched on? (the kernel creates \(path) when it is)")
        case EACCES, EPERM:
            return .permissionDenied(path, hint: "install the udev rule Drivers/udev/60-till.rules (or add the till's user to group lp) and log in again")
        case EBUSY:
            return .busy(path, hint: "another program has it open: is CUPS using this printer too?")
        case EIO, EPIPE, ESHUTDOWN:
            return .disconnected("The printer at \(path)")
        default:
            return .io(path, reason: FileDescriptorIO.message(e))
        }
    }
}
