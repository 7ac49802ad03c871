public import Foundation
import Synchronization
public import TillCore
public import TillProtocol
public import TillStore

/// Where head office is and how the till proves who it is.
public struct HeadOfficeLink: Sendable, Equatable {
    /// e.g. https://headoffice.example:8470
    public var url: String
    /// The CA head office's certificate must be signed by (nil: the system's).
    public var ca: String?
    /// The till's token, STORE.TILL.SECRET (`till sync enrol` writes it, mode 0600).
    public var token: String
    public var batchSize: Int
    /// How long a card scan waits for head office's balance before using the card cache.
    public var lookupTimeoutMilliseconds: Int

    public init(url: String, ca: String?, token: String, batchSize: Int = 200, lookupTimeoutMilliseconds: Int = 300) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.ca = ca
        self.token = token
        self.batchSize = batchSize
        self.lookupTimeoutMilliseconds = lookupTimeoutMilliseconds
    }
}

/// What the forwarder last knew, for the status bar and `till sync status`.
public struct SyncState: Sendable, Equatable {
    public enum Connection: Sendable, Equatable {
        case unknown, online, offline, revoked
    }
    public var connection: Connection = .unknown
    /// The last time head office answered.
    public var lastContact: Timestamp?
    public var lastError: String?
    /// Documents head office refused since the till started (they stay in the outbox).
    public var rejectedNow = 0
}

/// The result of one drain.
public struct DrainResult: Sendable, Equatable {
    public var sent = 0
    public var accepted = 0
    public var duplicates = 0
    public var rejected = 0
    public var gaps: [SequenceGap] = []
    /// Why the drain stopped before the outbox was empty, if it did.
    public var stoppedBy: String?
}

/// Drains the outbox to head office: in the order the till wrote it, in batches, each document
/// acknowledged one by one. Nothing is removed: an acknowledged document is marked acked, a
/// refused one rejected with the reason. A failure leaves everything pending, to be sent again
/// (head office applies each document once, so sending twice is safe).
public final class Forwarder: Sendable {
    public let link: HeadOfficeLink
    let database: TillDatabase
    let storeID: String
    let tillID: String
    let now: @Sendable () -> Timestamp
    private let state = Mutex(SyncState())
    /// How the loop waits between rounds (the system clock; a manual one in tests).
    let pausing: any Pausing
    /// Where a backoff wait falls in its window (random; fixed in tests).
    let jitter: @Sendable () -> Double
    private let stopping = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let staffPulledAt = Atomic<Int64>(Int64.min / 2)
    /// How often the running till takes head office's staff list.
    static let staffRefreshMilliseconds: Int64 = 300_000
    var lastStaffPull: Int64 {
        get { staffPulledAt.load(ordering: .relaxed) }
        set { staffPulledAt.store(newValue, ordering: .relaxed) }
    }

    public init(
        link: HeadOfficeLink, database: TillDatabase, storeID: String, tillID: String,
        now: @escaping @Sendable () -> Timestamp = { Int64(Date().timeIntervalSince1970 * 1000) },
        pausing: any Pausing = SystemPausing(), jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }
    ) {
        self.link = link
        self.database = database
        self.storeID = storeID
        self.tillID = tillID
        self.now = now
        self.pausing = pausing
        self.jitter = jitter
    }

    public var snapshot: SyncState { state.withLock { $0 } }

    var authorization: String { "Authorization: Bearer \(link.token)" }

    /// Sends batches until the outbox is empty, head office fails, or `maxBatches` were sent.
    /// `connection` is reused across batches (keep-alive).
    public func drain(using connection: HTTPConnection? = nil, maxBatches: Int = .max) -> DrainResult {
        let http = connection ?? HTTPConnection(ca: link.ca)
        var result = DrainResult()
        var size = max(1, link.batchSize)
        // A backlog (a week offline) goes out in bigger batches: fewer round trips and commits.
        if let pending = try? database.outboxSummary().pending, pending > size * 10 { size = min(5_000, size * 5) }
        var batches = 0
        while batches < maxBatches && !stopping.load(ordering: .relaxed) {
            let entries: [OutboxEntry]
            do { entries = try database.pendingOutbox(limit: size) } catch {
                result.stoppedBy = "\(error)"
                return result
            }
            guard !entries.isEmpty else { return result }
            batches += 1
            let answer: HTTPAnswer
            do {
                answer = try http.send("POST", link.url + "/api/v1/ingest", headers: [authorization, "Content-Type: application/json"],
                                       body: Self.batchBody(entries, storeID: storeID, tillID: tillID), timeoutMilliseconds: 60_000)
            } catch {
                try? database.recordSendAttempt(entries.map(\.id), at: now())
                note(.offline, error: error.message)
                result.stoppedBy = error.message
                return result
            }
            switch answer.status {
            case 200:
                guard let response = try? JSONDecoder().decode(IngestResponse.self, from: Data(answer.body)) else {
                    note(.online, error: "Head office's answer could not be read; the batch will be sent again")
                    result.stoppedBy = "unreadable answer"
                    return result
                }
                do { try database.recordAcks(response.results, at: now()) } catch {
                    result.stoppedBy = "\(error)"
                    return result
                }
                result.sent += entries.count
                for r in response.results {
                    switch r.status {
                    case .accepted: result.accepted += 1
                    case .duplicate: result.duplicates += 1
                    case .rejected: result.rejected += 1
                    }
                }
                result.gaps = response.gaps
                note(.online, error: nil, rejected: response.results.filter { $0.status == .rejected }.count)
            case 401:
                let message = Self.message(answer) ?? "head office does not accept this till's credential"
                note(.revoked, error: message)
                result.stoppedBy = message
                return result
            case 413 where size > 1:
                size = max(1, size / 4)
            case 400, 403, 413, 422:
                // A document head office cannot take: keep it, marked, and go on with the rest.
                let error = (try? JSONDecoder().decode(APIError.self, from: Data(answer.body)))
                let id = error?.documentID
                let reason = error?.error ?? "refused with HTTP \(answer.status)"
                guard let entry = entries.first(where: { $0.refID == id }) ?? (entries.count == 1 ? entries.first : nil) else {
                    // Not one document's fault: send them one at a time to find out.
                    if size > 1 { size = 1; continue }
                    note(.online, error: reason)
                    result.stoppedBy = reason
                    return result
                }
                do { try database.markRejected(outboxID: entry.id, reason: reason, at: now()) } catch {
                    // Unrecorded, the document would be the next one sent, at once, for ever: stop
                    // this round and let the backoff space the next.
                    let message = "head office refused \(entry.kind) \(entry.refID) (\(reason)), and the till could not record that: \(error)"
                    note(.online, error: message)
                    result.stoppedBy = message
                    return result
                }
                result.rejected += 1
                note(.online, error: nil, rejected: 1)
            default:
                try? database.recordSendAttempt(entries.map(\.id), at: now())
                let message = Self.message(answer) ?? "head office answered HTTP \(answer.status)"
                note(.offline, error: message)
                result.stoppedBy = message
                return result
            }
        }
        return result
    }

    /// Takes head office's staff list for this till's store as the till's cashiers (roles, PIN
    /// hashes). Returns how many staff the till now has; throws what went wrong.
    @discardableResult
    public func pullStaff(using connection: HTTPConnection? = nil) throws -> Int {
        let http = connection ?? HTTPConnection(ca: link.ca)
        let answer = try http.send("GET", link.url + "/api/v1/staff", headers: [authorization], timeoutMilliseconds: 30_000)
        guard answer.status == 200 else {
            throw HTTPFailure(kind: .other, message: Self.message(answer) ?? "head office answered HTTP \(answer.status) for the staff list")
        }
        guard let list = try? JSONDecoder().decode(StaffList.self, from: Data(answer.body)) else {
            throw HTTPFailure(kind: .other, message: "head office's staff list could not be read")
        }
        let count = try database.replaceStaff(list)
        lastStaffPull = now()
        return count
    }

    static func message(_ a: HTTPAnswer) -> String? {
        (try? JSONDecoder().decode(APIError.self, from: Data(a.body)))?.error
    }

    /// The request body, built around the journalled JSON of each document (not re-encoded).
    public static func batchBody(_ entries: [OutboxEntry], storeID: String, tillID: String) -> [UInt8] {
        var out = "{\"storeID\":\(jsonString(storeID)),\"tillID\":\(jsonString(tillID)),\"documents\":["
        out.reserveCapacity(entries.reduce(64) { $0 + $1.payload.utf8.count + 80 })
        for (i, e) in entries.enumerated() {
            if i > 0 { out += "," }
            out += "{\"kind\":\(jsonString(e.kind)),\"id\":\(jsonString(e.refID)),\"\(e.kind)\":\(e.payload)}"
        }
        out += "]}"
        return Array(out.utf8)
    }

    public static func jsonString(_ s: String) -> String {
        String(decoding: (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8), as: UTF8.self)
    }

    /// Head office answered another of the till's requests (its poll for updates): the last
    /// contact moves on while there is nothing to send, and a head office that answers is not
    /// shown offline. A revoked credential stays shown until the forwarder hears otherwise.
    public func heardFromHeadOffice(at time: Timestamp) {
        state.withLock { s in
            guard s.connection != .revoked else { return }
            s.lastContact = max(s.lastContact ?? time, time)
            if s.connection != .online {
                s.connection = .online
                s.lastError = nil
            }
        }
    }

    private func note(_ c: SyncState.Connection, error: String?, rejected: Int = 0) {
        let t = now()
        state.withLock {
            $0.connection = c
            if c != .offline && c != .revoked { $0.lastContact = t }
            $0.lastError = error
            $0.rejectedNow += rejected
        }
    }

    // MARK: - In the background

    /// Starts draining in the background: at once, after each sale (`nudge`), and on the times
    /// `DrainSchedule` gives (after failures, exponential backoff with jitter: 1 s doubling to
    /// 10 s, each wait drawn from its upper half).
    public func start() {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        let t = Thread { [self] in loop() }
        t.name = "till-forwarder"
        t.start()
    }

    /// A sale was committed: send it soon.
    public func nudge() {
        pausing.wake()
    }

    /// Stops the loop and waits (at most 1 s: the till's whole shutdown has 5) for the round in
    /// progress: a batch being sent is acknowledged, or stays in the outbox to be sent again.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        pausing.wake()
        if started.load(ordering: .relaxed), finished.wait(timeout: .now() + 1) == .success { finished.signal() }
    }

    private func loop() {
        defer { finished.signal() }
        let http = HTTPConnection(ca: link.ca)
        var schedule = DrainSchedule()
        while !stopping.load(ordering: .relaxed) {
            let r = drain(using: http)
            // Staff changes at head office (a new supervisor, someone who left) reach the till within minutes.
            if r.stoppedBy == nil && now() - lastStaffPull >= Self.staffRefreshMilliseconds { _ = try? pullStaff(using: http) }
            let round: DrainSchedule.Round = r.stoppedBy == nil ? .emptied : snapshot.connection == .revoked ? .revoked : .failed
            let wait = schedule.wait(after: round, jitter: jitter())
            guard !stopping.load(ordering: .relaxed) else { break }
            let woken = pausing.pause(seconds: wait)
            // After a failure, a sale does not make the till hammer a head office that is down.
            if woken && schedule.nudgeSettle > 0 && !stopping.load(ordering: .relaxed) {
                pausing.hold(seconds: min(wait, schedule.nudgeSettle)) { stopping.load(ordering: .relaxed) }
            }
        }
    }
}
