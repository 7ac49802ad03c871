import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A serial scale for tests: the master side of a pseudo-terminal pair, answering the Toledo
/// 8213 protocol. The till opens `devicePath` (the pty's slave) as it would `/dev/ttyUSB0`; each
/// `W` it sends is answered with the next reply queued, else `standing`.
///
/// It owns its descriptor and thread: `stop()` returns once the thread has ended, and only then
/// closes the master.
public final class FakeScale: Sendable {
    public let devicePath: String
    private let master: Int32
    private let state = Mutex(State())
    private let worker = Mutex<JoinableThread?>(nil)

    struct State {
        var queued: [[UInt8]] = []
        var standing: [UInt8] = FakeScale.weight("0.000")
        var questions = 0
        var stopping = false
    }

    /// `STX weight CR`: a steady weight in kg as the scale shows it (`"00.750"`).
    public static func weight(_ text: String) -> [UInt8] { [0x02] + Array(text.utf8) + [0x0D] }
    /// `STX ? status CR`: bits 0 motion, 1 over capacity, 2 under zero, 4 centre of zero.
    public static func status(_ bits: UInt8) -> [UInt8] { [0x02, UInt8(ascii: "?"), 0x60 | bits, 0x0D] }
    /// No answer at all.
    public static let silent: [UInt8] = []

    public init() throws {
        // posix_openpt, unlockpt and ptsname as the kernel offers them (Glibc's Swift module lacks
        // them): /dev/ptmx, then TIOCSPTLCK to unlock the slave and TIOCGPTN for its number
        // (_IOW/_IOR('T', 0x31/0x30, int) on Linux).
        let m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var unlock: CInt = 0, number: CUnsignedInt = 0
        guard m >= 0, ioctl(m, 0x4004_5431, &unlock) == 0, ioctl(m, 0x8004_5430, &number) == 0 else {
            let why = String(cString: strerror(errno))
            if m >= 0 { close(m) }
            throw FakeScaleError(message: "cannot make a pseudo-terminal for the fake scale: \(why)")
        }
        master = m
        devicePath = "/dev/pts/\(number)"
        let t = JoinableThread(name: "fake scale") { [self] in serve() }
        worker.withLock { $0 = t }
    }

    /// What the scale answers from now on.
    public func show(_ reply: [UInt8]) { state.withLock { $0.standing = reply } }
    /// Answers given once each, in order, before the standing one.
    public func queue(_ replies: [[UInt8]]) { state.withLock { $0.queued += replies } }
    /// How many times the till asked.
    public var questions: Int { state.withLock { $0.questions } }

    public func stop() {
        state.withLock { $0.stopping = true }
        worker.withLock { $0 }?.join()
        worker.withLock { t in
            if t != nil { close(master) }
            t = nil
        }
    }


    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while !state.withLock({ $0.stopping }) {
            var p = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 50) > 0 else { continue }
            if p.revents & Int16(POLLHUP) != 0 && p.revents & Int16(POLLIN) == 0 {
                usleep(20_000)   // nobody has the line open (yet, or any more)
                continue
            }
            let n = read(master, &buffer, buffer.count)
            guard n > 0 else { usleep(20_000); continue }
            for b in buffer[0..<n] where b & 0x7F == 0x57 {
                let reply = state.withLock { s -> [UInt8] in
                    s.questions += 1
                    return s.queued.isEmpty ? s.standing : s.queued.removeFirst()
                }
                if !reply.isEmpty { _ = reply.withUnsafeBytes { write(master, $0.baseAddress, $0.count) } }
            }
        }
    }
}

public struct FakeScaleError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
