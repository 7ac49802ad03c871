import Foundation
import PrivateServers
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A thread that can be waited for: `join()` returns once its body has returned.
public final class JoinableThread: Sendable {
    private let done = DispatchSemaphore(value: 0)

    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [done] in
            body()
            done.signal()
        }
        thread.name = name
        thread.start()
    }

    public func join() {
        done.wait()
        done.signal() // a second join returns at once
    }
}

/// A network printer on 127.0.0.1 (a random port) for tests: it keeps every byte it receives and,
/// as an answering ESC/POS printer, replies to DLE EOT status requests; or, `silent`, it accepts
/// connections and never reads or answers (a hung printer).
///
/// It owns its descriptors and threads: `stop()` returns only when the accept thread and every
/// connection's thread have ended, and only then closes the descriptors, so a number it used can
/// never be reused by another test while one of its threads still holds it.
public final class FakeNetworkPrinter: Sendable {
    public enum Behaviour: Sendable {
        case answering(paperOut: Bool)
        case silent
    }

    private struct State {
        var jobs: [UInt8] = []
        var requests = 0
        var connections = 0
        var open: [Int32] = []          // accepted descriptors not yet closed
        var threads: [JoinableThread] = []
        var stopped = false
    }

    public let port: UInt16
    private let listener: Int32
    private let behaviourNow: Mutex<Behaviour>
    private var behaviour: Behaviour { behaviourNow.withLock { $0 } }
    private let state = Mutex(State())
    private let acceptThread = Mutex<JoinableThread?>(nil)

    public init(_ behaviour: Behaviour = .answering(paperOut: false)) throws {
        self.behaviourNow = Mutex(behaviour)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SpawnError(message: "cannot make a socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard bound == 0, listen(fd, 8) == 0 else {
            close(fd)
            throw SpawnError(message: "cannot listen on 127.0.0.1")
        }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = UInt16(bigEndian: addr.sin_port)
        listener = fd
        let thread = JoinableThread(name: "fake-printer-\(port)") { [self] in acceptLoop() }
        acceptThread.withLock { $0 = thread }
    }

    /// Stops listening and ends every connection (the port is then refused); returns when all of
    /// this printer's threads have ended and its descriptors are closed. Safe to call twice.
    public func stop() {
        let first = state.withLock { s -> Bool in
            if s.stopped { return false }
            s.stopped = true
            // Wake every reader; descriptors are closed only after the threads are joined.
            for fd in s.open { shutdown(fd, Int32(SHUT_RDWR)) }
            return true
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR)) // wakes accept() with EINVAL
        acceptThread.withLock { $0 }?.join()
        for t in state.withLock({ $0.threads }) { t.join() }
        close(listener)
        let leftover = state.withLock { s -> [Int32] in
            defer { s.open = [] }
            return s.open
        }
        for fd in leftover { close(fd) }
    }

    /// Changes how the printer behaves from now on (say, the paper runs out or is replaced).
    public func setBehaviour(_ b: Behaviour) { behaviourNow.withLock { $0 = b } }

    /// The bytes received, without the status requests.
    public var received: [UInt8] { state.withLock { $0.jobs } }
    public var statusRequests: Int { state.withLock { $0.requests } }
    public var connections: Int { state.withLock { $0.connections } }

    private func acceptLoop() {
        while true {
            let c = accept(listener, nil, nil)
            // A signal (the suite starts and reaps many processes) is not the end of the listener.
            if c < 0 && errno == EINTR { continue }
            guard c >= 0 else { return }
            let silent: Bool
            if case .silent = behaviour { silent = true } else { silent = false }
            let kept = state.withLock { s -> Bool in
                guard !s.stopped else { return false }
                s.connections += 1
                s.open.append(c)
                if !silent {
                    s.threads.append(JoinableThread(name: "fake-printer-conn-\(c)") { [self] in serve(c) })
                }
                return true
            }
            if !kept {
                close(c)
                return
            }
        }
    }

    private func serve(_ c: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var held: [UInt8] = []   // the start of a status request split across reads
        while true {
            let n = read(c, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            var chunk = held + Array(buffer.prefix(n))
            held = []
            // A status request (DLE EOT n) comes last in what has arrived: answer it at once.
            // TCP may deliver it glued to the end of the job it follows, or split in two.
            if chunk.count >= 3, chunk[chunk.count - 3] == 0x10, chunk[chunk.count - 2] == 0x04, [1, 2, 4].contains(chunk[chunk.count - 1]),
               case .answering(let paperOut) = behaviour {
                let request = chunk.removeLast()
                chunk.removeLast(2)
                if !chunk.isEmpty { state.withLock { $0.jobs += chunk } }
                let answer: UInt8
                switch request {
                case 1: answer = paperOut ? 0x1E : 0x16
                case 2: answer = paperOut ? 0x32 : 0x12
                default: answer = paperOut ? 0x72 : 0x12
                }
                state.withLock { $0.requests += 1 }
                while [answer].withUnsafeBufferPointer({ write(c, $0.baseAddress, 1) }) < 0 && errno == EINTR {}
            } else {
                if chunk.last == 0x10 {
                    held = [chunk.removeLast()]
                } else if chunk.count >= 2, chunk[chunk.count - 2] == 0x10, chunk[chunk.count - 1] == 0x04 {
                    held = Array(chunk.suffix(2))
                    chunk.removeLast(2)
                }
                if !chunk.isEmpty { state.withLock { $0.jobs += chunk } }
            }
        }
    }
}
