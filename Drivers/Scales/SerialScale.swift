import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A scale on a serial line (`/dev/ttyUSB0`, `/dev/ttyS0`), asked for the weight with the
/// Toledo 8213 protocol. Each question opens nothing new: the port is opened at the first
/// question and kept; a port that fails is closed and opened again at the next.
public final class SerialScale: @unchecked Sendable {   // used from one thread (the till's UI thread)
    public let device: String
    public let baud: Int
    public let frame: Frame
    private var fd: Int32 = -1

    /// Data bits, parity and stop bits: `7E1` (the protocol's own) or `8N1`.
    public enum Frame: String, Sendable { case sevenEven1 = "7E1", eightNone1 = "8N1" }

    public enum Reading: Equatable, Sendable {
        case grams(Int64)
        case motion
        case zero
        case underZero
        case overCapacity
        /// No answer, or none that makes sense: why, for the cashier.
        case noAnswer(String)
    }

    public init(device: String, baud: Int = 9600, frame: Frame = .sevenEven1) {
        self.device = device
        self.baud = baud
        self.frame = frame
    }

    deinit { if fd >= 0 { close(fd) } }

    /// The weight, waiting up to `steadyWithin` milliseconds for the scale to stop moving; each
    /// question waits `answerWithin` milliseconds for its record.
    public func steadyWeight(steadyWithin: Int = 2_000, answerWithin: Int = 500) -> Reading {
        let deadline = Date().addingTimeInterval(Double(steadyWithin) / 1000)
        while true {
            let r = weigh(answerWithin: answerWithin)
            guard r == .motion, Date() < deadline else { return r }
            usleep(100_000)
        }
    }

    /// One question and its answer.
    public func weigh(answerWithin: Int = 500) -> Reading {
        if fd < 0 {
            if let problem = open() { return .noAnswer(problem) }
        }
        tcflush(fd, TCIFLUSH)   // an old answer left in the line is not this one
        let sent = Toledo8213.request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard sent == Toledo8213.request.count else { return fail("cannot write to \(device): \(String(cString: strerror(errno)))") }
        var parser = Toledo8213.Parser()
        let deadline = Date().addingTimeInterval(Double(answerWithin) / 1000)
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, left)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return .noAnswer("no answer from the scale on \(device) within \(answerWithin) ms: is it on and set to the Toledo 8213 protocol?") }
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { return fail("cannot read from \(device): \(n == 0 ? "the line closed" : String(cString: strerror(errno)))") }
            for b in buffer[0..<n] {
                guard let reply = parser.feed(b) else { continue }
                switch reply {
                case .grams(let g): return g == 0 ? .zero : .grams(g)
                case .status(let s):
                    if s.contains(.motion) { return .motion }
                    if s.contains(.overCapacity) { return .overCapacity }
                    if s.contains(.underZero) { return .underZero }
                    return .zero
                case .unreadable(let what): return .noAnswer("the scale on \(device) sent '\(what)', not a weight: set it to the Toledo 8213 protocol in kg")
                }
            }
        }
    }

    private func fail(_ why: String) -> Reading {
        if fd >= 0 { close(fd); fd = -1 }
        return .noAnswer(why)
    }

    /// Opens and sets up the port; the problem if it cannot.
    private func open() -> String? {
        let f = Glibc.open(device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard f >= 0 else { return "cannot open \(device): \(String(cString: strerror(errno))) (check [scale] device and the port's permissions)" }
        var t = termios()
        guard tcgetattr(f, &t) == 0 else {
            close(f)
            return "\(device) is not a serial port"
        }
        cfmakeraw(&t)
        let speed: speed_t
        switch baud {
        case 1200: speed = speed_t(B1200)
        case 2400: speed = speed_t(B2400)
        case 4800: speed = speed_t(B4800)
        case 19200: speed = speed_t(B19200)
        default: speed = speed_t(B9600)
        }
        cfsetispeed(&t, speed)
        cfsetospeed(&t, speed)
        t.c_cflag &= ~tcflag_t(CSIZE | PARENB | PARODD | CSTOPB)
        t.c_cflag |= tcflag_t(CLOCAL | CREAD)
        var framed = t
        framed.c_cflag |= frame == .sevenEven1 ? tcflag_t(CS7 | PARENB) : tcflag_t(CS8)
        if tcsetattr(f, TCSANOW, &framed) != 0 {
            // A port that cannot take 7E1 (a pseudo-terminal refuses it) is used as 8N1: the
            // parity bit of what the scale sends is ignored when it is read.
            t.c_cflag |= tcflag_t(CS8)
            guard errno == EINVAL, frame == .sevenEven1, tcsetattr(f, TCSANOW, &t) == 0 else {
                let why = String(cString: strerror(errno))
                close(f)
                return "cannot set up \(device): \(why)"
            }
        }
        fd = f
        return nil
    }
}
