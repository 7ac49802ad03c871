import CCups
#if canImport(Glibc)
import Glibc
#endif

/// A CUPS raw queue (Drivers/cups/README.md). The job is followed to completion; a missing queue,
/// a queue that refuses jobs, a stopped queue and a scheduler that is down each get their own message.
public struct CUPSPrinterTransport: PrinterTransport {
    public let queue: String
    /// The scheduler: a host, or a socket path (e.g. /run/cups/cups.sock); nil uses CUPS's default
    /// ($CUPS_SERVER, client.conf).
    public let server: String?
    public let timeoutMilliseconds: Int

    public init(queue: String, server: String? = nil, timeoutMilliseconds: Int = 20_000) {
        self.queue = queue
        self.server = server
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    public var description: String { "CUPS queue \(queue)" }

    private var serverName: String { server ?? String(cString: cupsServer()) }

    private func connect() throws(PrinterError) -> OpaquePointer {
        guard let http = httpConnect2(serverName, ippPort(), nil, AF_UNSPEC, HTTP_ENCRYPTION_IF_REQUESTED, 1, 5000, nil) else {
            throw .schedulerDown(serverName)
        }
        return http
    }

    /// The queue's attributes, or the reason it cannot be used.
    private func destination(_ http: OpaquePointer) throws(PrinterError) -> UnsafeMutablePointer<cups_dest_t> {
        guard let dest = cupsGetNamedDest(http, queue, nil) else {
            if cupsLastError() == IPP_STATUS_ERROR_NOT_FOUND || cupsLastError() == IPP_STATUS_OK {
                throw .queueMissing(queue)
            }
            throw .jobFailed(queue, reason: String(cString: cupsLastErrorString()))
        }
        return dest
    }

    /// The queue's state as the scheduler reports it now (Get-Printer-Attributes).
    struct QueueState {
        var state: Int32 = 3
        var accepting = true
        var reasons = "none"
        var message = ""
        /// The operator's message if there is one, else the state reasons.
        var why: String { message.isEmpty ? reasons : message }
    }

    private func queueState(_ http: OpaquePointer) throws(PrinterError) -> QueueState {
        guard let request = ippNewRequest(IPP_OP_GET_PRINTER_ATTRIBUTES) else { throw .jobFailed(queue, reason: "out of memory") }
        ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nil, "ipp://localhost/printers/\(queue)")
        guard let response = cupsDoRequest(http, request, "/") else { throw lastError() }
        defer { ippDelete(response) }
        if cupsLastError() == IPP_STATUS_ERROR_NOT_FOUND { throw .queueMissing(queue) }
        var q = QueueState()
        if let a = ippFindAttribute(response, "printer-state", IPP_TAG_ENUM) { q.state = ippGetInteger(a, 0) }
        if let a = ippFindAttribute(response, "printer-is-accepting-jobs", IPP_TAG_BOOLEAN) { q.accepting = ippGetBoolean(a, 0) != 0 }
        q.reasons = attributeText(response, "printer-state-reasons", IPP_TAG_KEYWORD) ?? "none"
        q.message = attributeText(response, "printer-state-message", IPP_TAG_TEXT) ?? ""
        return q
    }

    private func attributeText(_ response: OpaquePointer, _ name: String, _ tag: ipp_tag_t) -> String? {
        guard let a = ippFindAttribute(response, name, tag) else { return nil }
        var buf = [CChar](repeating: 0, count: 1024)
        _ = ippAttributeString(a, &buf, buf.count)
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func send(_ bytes: [UInt8]) throws(PrinterError) {
        let http = try connect()
        defer { httpClose(http) }
        let q = try queueState(http)
        if !q.accepting { throw .queueNotAccepting(queue, reason: q.why) }
        if q.state == 5 { throw .queueStopped(queue, reason: q.why) }
        let dest = try destination(http)
        defer { cupsFreeDests(1, dest) }
        guard let info = cupsCopyDestInfo(http, dest) else { throw lastError() }
        defer { cupsFreeDestInfo(info) }
        var job: Int32 = 0
        guard cupsCreateDestJob(http, dest, info, &job, "receipt", 0, nil) == IPP_STATUS_OK else { throw lastError() }
        guard cupsStartDestDocument(http, dest, info, job, "receipt", CUPS_FORMAT_RAW, 0, nil, 1) == HTTP_STATUS_CONTINUE else {
            throw lastError()
        }
        let written = bytes.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { cupsWriteRequestData(http, $0, buf.count) }
        }
        guard written == HTTP_STATUS_CONTINUE else { throw lastError() }
        guard cupsFinishDestDocument(http, dest, info) == IPP_STATUS_OK else { throw lastError() }

        // Follow the job until it completes, is aborted or cancelled.
        let deadline = FileDescriptorIO.now() + timeoutMilliseconds
        while true {
            let (state, reasons) = jobState(http, job)
            switch state {
            case 9: return
            case 7, 8: throw .jobFailed(queue, reason: "job \(job) was \(state == 7 ? "cancelled" : "aborted") (\(reasons))")
            default:
                if FileDescriptorIO.now() > deadline {
                    // Withdraw it, so sending again later does not print it twice.
                    _ = cupsCancelDestJob(http, dest, job)
                    throw .timedOut(description, hint: "job \(job) was still \(state == 6 ? "stopped" : "waiting") after \(timeoutMilliseconds / 1000) s (\(reasons)): check the printer and `lpstat -p \(queue)`")
                }
                usleep(20_000)
            }
        }
    }

    public func status() throws(PrinterError) -> PrinterStatus? {
        let http = try connect()
        defer { httpClose(http) }
        let q = try queueState(http)
        let r = q.reasons
        return PrinterStatus(
            online: q.state != 5 && q.accepting,
            coverOpen: r.contains("cover-open") || r.contains("door-open"),
            paperNearEnd: r.contains("media-low"),
            paperOut: r.contains("media-empty") || r.contains("media-needed"),
            error: r.contains("-error") && !r.contains("media-empty"))
    }

    private func jobState(_ http: OpaquePointer, _ job: Int32) -> (Int32, String) {
        guard let request = ippNewRequest(IPP_OP_GET_JOB_ATTRIBUTES) else { return (0, "") }
        ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "job-uri", nil, "ipp://localhost/jobs/\(job)")
        ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nil, cupsUser())
        guard let response = cupsDoRequest(http, request, "/") else { return (0, "") }
        defer { ippDelete(response) }
        var state: Int32 = 0
        if let a = ippFindAttribute(response, "job-state", IPP_TAG_ENUM) { state = ippGetInteger(a, 0) }
        var reasons = [CChar](repeating: 0, count: 512)
        if let a = ippFindAttribute(response, "job-state-reasons", IPP_TAG_KEYWORD) {
            _ = ippAttributeString(a, &reasons, reasons.count)
        }
        return (state, String(decoding: reasons.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    private func lastError() -> PrinterError {
        let message = String(cString: cupsLastErrorString())
        if message.contains("not accepting jobs") { return .queueNotAccepting(queue, reason: message) }
        if message.contains("does not exist") { return .queueMissing(queue) }
        return .jobFailed(queue, reason: message)
    }
}
