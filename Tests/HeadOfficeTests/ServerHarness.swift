import Foundation
import HeadOffice
import Logging
import PrivateServers
import Testing
import TillSync
import TillTestSupport

/// Head office's HTTP server running in this process on 127.0.0.1, on a port the system picks.
final class RunningServer: Sendable {
    let task: Task<Void, any Error>
    let port: Int
    let scheme: String
    var url: String { "\(scheme)://127.0.0.1:\(port)" }

    init(_ store: HeadOfficeStore, options: ServerOptions = ServerOptions(port: 0)) async throws {
        var logger = Logger(label: "headoffice-test")
        logger.logLevel = .critical
        let server = HeadOfficeServer(store: store, options: options, logger: logger)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        // On threads of its own (each server its own): the suite's other tests block the shared
        // concurrency pool, and a starved server would make these tests fail for the wrong reason.
        task = Task(executorPreference: ThreadTaskExecutor(threads: 2, name: "test-server")) { try await server.run { continuation.yield($0) } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw SpawnError(message: "head office did not start") }
        self.port = port
        scheme = options.tlsCertificate == nil ? "http" : "https"
    }

    /// Cancels the server from a thread of its own. Cancelling a service group can, rarely, take
    /// the runtime's locks in the opposite order to a task finishing at the same moment (seen
    /// once: the canceller, inside AsyncAlgorithms' merge, and the server's threads each waiting
    /// for the other); that must never stall the concurrency pool or another test's server.
    func stop() async {
        let task = self.task
        Thread { task.cancel() }.start()
        _ = await task.result
    }
}

/// Runs blocking work (libcurl, SQLite) on a thread of its own, never on the concurrency pool
/// the in-process server needs.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let t = Thread { continuation.resume(with: Result { try body() }) }
        t.start()
    }
}

/// Blocking work started on a thread of its own at once (not when the test's concurrency pool
/// next has a turn, as `async let` would: a loaded suite can keep such a task from starting for
/// tens of seconds); `value()` waits for its result.
final class StartedOnThread<T: Sendable>: @unchecked Sendable { // `result` is written once, before `done` is signalled
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<T, any Error>?

    init(_ body: @escaping @Sendable () throws -> T) {
        Thread { [self] in
            result = Result { try body() }
            done.signal()
        }.start()
    }

    func value() async throws -> T {
        try await onThread { [self] in
            done.wait()
            done.signal()
            return try result!.get()
        }
    }
}

/// One request, on a thread of its own.
func request(
    _ method: String, _ url: String, token: String? = nil, body: [UInt8]? = nil, ca: String? = nil, timeout: Int = 30_000
) async throws -> HTTPAnswer {
    try await onThread {
        var headers = ["Content-Type: application/json"]
        if let token { headers.append("Authorization: Bearer \(token)") }
        return try HTTPConnection(ca: ca).send(method, url, headers: headers, body: body, timeoutMilliseconds: timeout)
    }
}

/// A certificate authority and a certificate for 127.0.0.1 it signs, made with openssl.
struct TestCertificates {
    let ca: String
    let certificate: String
    let key: String

    init(in dir: TemporaryDirectory, name: String) throws {
        ca = dir.file("\(name)-ca.pem")
        certificate = dir.file("\(name)-server.pem")
        key = dir.file("\(name)-server.key")
        let caKey = dir.file("\(name)-ca.key"), csr = dir.file("\(name).csr"), ext = dir.write("\(name).ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey, "-out", ca, "-days", "2", "-subj", "/CN=\(name) test CA"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-out", certificate, "-days", "2", "-extfile", ext],
        ]
        for args in steps {
            let r = try spawnAndWait("/usr/bin/openssl", args, environment: ProcessInfo.processInfo.environment)
            guard r.status == 0 else { throw SpawnError(message: "openssl \(args[0]) failed: \(r.stderr)") }
        }
    }
}

extension TillSide: @unchecked Sendable {}
