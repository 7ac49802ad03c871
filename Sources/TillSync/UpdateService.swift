public import Foundation
import Synchronization
public import TillCore
import TillProtocol
public import TillStore

/// Takes head office's publications for this till: a long poll (head office answers as soon as
/// there is something, or after 25 s), kept in the till's database for the till to apply between
/// sales; then it tells head office the version the till runs. Runs on threads of its own; the
/// till never waits for it.
public final class UpdateService: Sendable {
    public let link: HeadOfficeLink
    let database: TillDatabase
    let now: @Sendable () -> Timestamp
    let waitSeconds: Int
    /// Called with the time whenever head office answers a poll: the till's status bar shows
    /// the last contact even when there are no sales to send.
    let contacted: @Sendable (Timestamp) -> Void
    private let stopping = Atomic<Bool>(false)
    private let ackWanted = Atomic<Bool>(true)
    /// The version head office last heard this till runs (-1: not yet told).
    private let acked = Atomic<Int64>(-1)
    private let wake = NSCondition()
    /// How the poller waits after a failure (the system clock; a manual one in tests).
    let pausing: any Pausing
    let jitter: @Sendable () -> Double

    public init(link: HeadOfficeLink, database: TillDatabase, waitSeconds: Int = 25,
                now: @escaping @Sendable () -> Timestamp = { Int64(Date().timeIntervalSince1970 * 1000) },
                contacted: @escaping @Sendable (Timestamp) -> Void = { _ in },
                pausing: any Pausing = SystemPausing(), jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }) {
        self.link = link
        self.database = database
        self.waitSeconds = waitSeconds
        self.now = now
        self.contacted = contacted
        self.pausing = pausing
        self.jitter = jitter
    }

    public func start() {
        let poller = Thread { [self] in pollLoop() }
        let acker = Thread { [self] in ackLoop() }
        poller.start()
        acker.start()
    }

    /// Call after the till applied publications: head office hears the new version at once.
    public func applied() {
        ackWanted.store(true, ordering: .relaxed)
        wake.lock()
        wake.broadcast()
        wake.unlock()
    }

    public func stop() {
        stopping.store(true, ordering: .relaxed)
        pausing.wake()
        applied()
        // The long poll ends within its timeout; the till does not wait for it.
    }

    var authorization: String { "Authorization: Bearer \(link.token)" }

    /// One long poll: asks for what is newer than the till has, keeps it. Returns how many came.
    @discardableResult
    public func pollOnce(using connection: HTTPConnection? = nil, wait: Int? = nil) throws -> Int {
        let http = connection ?? HTTPConnection(ca: link.ca)
        let after = try database.receivedPublicationCursor()
        let w = wait ?? waitSeconds
        let answer = try http.send("GET", link.url + "/api/v1/updates?after=\(after.version)&from=\(after.effectiveAt)&wait=\(w)&kinds=\(Self.kinds)", headers: [authorization],
                                   timeoutMilliseconds: (w + 15) * 1000)
        guard answer.status == 200, let batch = try? JSONDecoder().decode(UpdateBatch.self, from: Data(answer.body)) else {
            throw HTTPFailure(kind: .other, message: Forwarder.message(answer) ?? "head office answered HTTP \(answer.status) for updates")
        }
        contacted(now())
        try database.receive(batch.publications, at: now())
        return batch.publications.count
    }

    /// The kinds of publication this till reads (head office sends no other).
    static let kinds = PublicationKind.allCases.filter { $0 != .unknown }.map(\.rawValue).joined(separator: ",")

    /// Tells head office the version the till runs, if it has not heard it.
    public func ackOnce(using connection: HTTPConnection? = nil) throws {
        let cursor = try database.appliedPublicationCursor()
        let version = cursor.version
        guard version != acked.load(ordering: .relaxed) else { return }
        let http = connection ?? HTTPConnection(ca: link.ca)
        let answer = try http.send("POST", link.url + "/api/v1/updates/ack", headers: [authorization, "Content-Type: application/json"],
                                   body: Array(#"{"version":\#(version),"effectiveAt":\#(cursor.effectiveAt)}"#.utf8), timeoutMilliseconds: 10_000)
        guard answer.status == 200 else {
            throw HTTPFailure(kind: .other, message: Forwarder.message(answer) ?? "head office answered HTTP \(answer.status) for the version")
        }
        acked.store(version, ordering: .relaxed)
    }

    private func pollLoop() {
        let http = HTTPConnection(ca: link.ca)
        var backoff = Backoff()
        while !stopping.load(ordering: .relaxed) {
            do {
                try pollOnce(using: http)
                backoff.succeeded()
            } catch {
                backoff.failed()
                guard !stopping.load(ordering: .relaxed) else { break }
                pausing.pause(seconds: backoff.wait(jitter: jitter()))
            }
        }
    }

    private func ackLoop() {
        let http = HTTPConnection(ca: link.ca)
        while !stopping.load(ordering: .relaxed) {
            if ackWanted.exchange(false, ordering: .relaxed) {
                if (try? ackOnce(using: http)) == nil { ackWanted.store(true, ordering: .relaxed) }
            }
            wake.lock()
            if !ackWanted.load(ordering: .relaxed) && !stopping.load(ordering: .relaxed) { _ = wake.wait(until: Date().addingTimeInterval(5)) }
            wake.unlock()
        }
    }
}
