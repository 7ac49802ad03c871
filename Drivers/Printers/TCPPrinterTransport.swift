#if canImport(Glibc)
import Glibc
#endif

/// A network printer on a raw TCP port (9100, "JetDirect"): connect and write with timeouts; status
/// with DLE EOT on the same connection. A printer that accepts the connection but never answers
/// a status request is reported, so the job is kept rather than lost in the socket buffers.
public struct TCPPrinterTransport: PrinterTransport {
    public let host: String
    public let port: UInt16
    public let connectTimeoutMilliseconds: Int
    public let timeoutMilliseconds: Int
    /// Confirm after each job that the printer answers (ESC/POS printers with status support).
    public let confirmWithStatus: Bool

    public init(host: String, port: UInt16 = 9100, connectTimeoutMilliseconds: Int = 3_000, timeoutMilliseconds: Int = 5_000,
                confirmWithStatus: Bool = true) {
        self.host = host
        self.port = port
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.timeoutMilliseconds = timeoutMilliseconds
        self.confirmWithStatus = confirmWithStatus
    }

    public var description: String { "network printer \(host):\(port)" }

    public func send(_ bytes: [UInt8]) throws(PrinterError) {
        let fd = try connect()
        defer { close(fd) }
        switch FileDescriptorIO.writeAll(fd, bytes, timeoutMilliseconds: timeoutMilliseconds) {
        case .done: break
        case .timedOut: throw .timedOut(description, hint: "the printer stopped taking data: is it out of paper or its cover open?")
        case .failed(let e): throw .io(description, reason: FileDescriptorIO.message(e))
        }
        guard confirmWithStatus else { return }
        switch FileDescriptorIO.queryStatus(fd, timeoutMilliseconds: timeoutMilliseconds) {
        case .success(let s?):
            if !s.ready { throw .notReady(description, s) }
        case .success(nil):
            throw .timedOut(description, hint: "it accepted the connection but did not answer the status request: it may be hung; switch it off and on")
        case .failure(let e):
            throw .io(description, reason: FileDescriptorIO.message(e))
        }
    }

    public func status() throws(PrinterError) -> PrinterStatus? {
        let fd = try connect()
        defer { close(fd) }
        switch FileDescriptorIO.queryStatus(fd, timeoutMilliseconds: timeoutMilliseconds) {
        case .success(let s): return s
        case .failure(let e): throw .io(description, reason: FileDescriptorIO.message(e))
        }
    }

    private func connect() throws(PrinterError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw .notFound("The printer host \(host)", hint: "check [printer] address in the configuration (\(String(cString: gai_strerror(rc))))")
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = ECONNREFUSED
        var info: UnsafeMutablePointer<addrinfo>? = first
        while let ai = info {
            info = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
            guard fd >= 0 else { lastError = errno; continue }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { return fd }
            if errno == EINPROGRESS {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if poll(&p, 1, Int32(connectTimeoutMilliseconds)) == 1 {
                    var err: Int32 = 0
                    var len = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
                    if err == 0 { return fd }
                    lastError = err
                } else {
                    close(fd)
                    throw .timedOut(description, hint: "no connection within \(connectTimeoutMilliseconds) ms: is the printer on the network and switched on?")
                }
            } else {
                lastError = errno
            }
            close(fd)
        }
        if lastError == ECONNREFUSED {
            throw .notFound(description, hint: "nothing listens on port \(port): is it the printer's address, is the printer switched on?")
        }
        throw .io(description, reason: FileDescriptorIO.message(lastError))
    }
}
