#if canImport(Glibc)
import Glibc
#endif

/// Writes and reads on a non-blocking descriptor, each bounded by a timeout (poll).
enum FileDescriptorIO {
    enum Outcome: Equatable {
        case done
        case timedOut
        case failed(Int32)
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], timeoutMilliseconds: Int) -> Outcome {
        var offset = 0
        let deadline = now() + timeoutMilliseconds
        while offset < bytes.count {
            let n = bytes.withUnsafeBufferPointer { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n > 0 { offset += n; continue }
            if n < 0 && errno != EAGAIN && errno != EINTR { return .failed(errno) }
            let left = deadline - now()
            if left <= 0 { return .timedOut }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let r = poll(&p, 1, Int32(left))
            if r < 0 && errno != EINTR { return .failed(errno) }
            if p.revents & Int16(POLLERR | POLLHUP) != 0 && p.revents & Int16(POLLOUT) == 0 { return .failed(EPIPE) }
        }
        return .done
    }

    /// Reads up to `count` bytes, waiting at most the timeout for the first one.
    static func read(_ fd: Int32, count: Int, timeoutMilliseconds: Int) -> ([UInt8], Outcome) {
        let deadline = now() + timeoutMilliseconds
        var buffer = [UInt8](repeating: 0, count: count)
        var n = -1
        while true {
            // A signal (SIGCHLD from a process the till started, say) is not the printer's silence.
            let left = deadline - now()
            if left <= 0 { return ([], .timedOut) }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, Int32(left))
            if r < 0 && errno == EINTR { continue }
            if r == 0 { return ([], .timedOut) }
            if r < 0 { return ([], .failed(errno)) }
            n = Glibc.read(fd, &buffer, count)
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            break
        }
        if n < 0 { return ([], .failed(errno)) }
        if n == 0 { return ([], .failed(EPIPE)) }
        return (Array(buffer.prefix(n)), .done)
    }

    enum StatusOutcome {
        case success(PrinterStatus?)
        case failure(Int32)
    }

    /// Asks DLE EOT 1, 2, 4 one after another; nil if any answer does not come.
    static func queryStatus(_ fd: Int32, timeoutMilliseconds: Int) -> StatusOutcome {
        var answers: [UInt8] = []
        for request in PrinterStatus.requests {
            switch writeAll(fd, request, timeoutMilliseconds: timeoutMilliseconds) {
            case .done: break
            case .timedOut: return .success(nil)
            case .failed(let e): return .failure(e)
            }
            let (bytes, outcome) = read(fd, count: 1, timeoutMilliseconds: timeoutMilliseconds)
            switch outcome {
            case .done: answers.append(bytes[0])
            case .timedOut: return .success(nil)
            case .failed(let e): return .failure(e)
            }
        }
        return .success(PrinterStatus.parse(printer: answers[0], offlineCause: answers[1], paper: answers[2]))
    }

    static func now() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
    }

    static func message(_ e: Int32) -> String { String(cString: strerror(e)) }
}
