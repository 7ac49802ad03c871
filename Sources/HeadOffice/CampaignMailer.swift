import CCurl
import CCurlShim
import Foundation

/// A campaign's e-mails, several at once, each on its own connection to the relay kept open
/// between rounds (libcurl's SMTP client, never SMTP written by hand). A round hands every message
/// over to the relay but for its end (the lone "." that completes an SMTP message); then
/// `commit` records them as sent; only then are the messages completed. A process killed before
/// the commit leaves no message complete (the relay discards a message whose connection drops
/// before its end), so its recipients are sent to again; one killed after it has recorded
/// every message it completes. Only a kill in the microseconds between the commit and the
/// writes of the ends can lose one: never can one be sent twice.
public final class CampaignMailer: @unchecked Sendable {
    let settings: MailSettings
    private let sessions: [Session]

    /// What became of one message.
    public enum Outcome: Sendable, Equatable {
        case sent
        /// Refused for good (a 5xx answer): the address bounces.
        case bounced(String)
        /// Not taken this time (a 4xx answer, no connection): try again later.
        case failed(String)
    }

    public init(_ settings: MailSettings, connections: Int) {
        self.settings = settings
        sessions = (0..<max(1, connections)).map { _ in Session() }
    }

    public var connections: Int { sessions.count }

    /// Sends up to `connections` messages at once (`to`, the RFC 5322 bytes). `commit` is given
    /// the indices of the messages that reached their end; if it throws, none is completed.
    public func send(_ messages: [(to: String, bytes: [UInt8])], commit: ([Int]) throws -> Void) -> [Outcome] {
        precondition(messages.count <= sessions.count, "a round sends at most one message per connection")
        let gate = Gate(count: messages.count)
        var outcomes = Array(repeating: Outcome.failed("not sent"), count: messages.count)
        let results = OutcomeBox(count: messages.count)
        var threads: [Thread] = []
        for (i, m) in messages.enumerated() {
            let session = sessions[i], settings = self.settings
            let t = Thread {
                let outcome = session.send(m.bytes, to: m.to, settings: settings, gate: gate, index: i)
                results.set(i, outcome)
                gate.finished(i)
            }
            t.stackSize = 1 << 20
            threads.append(t)
            t.start()
        }
        let ready = gate.waitUntilAllAtEndOrFinished()
        var committed = true
        do { try commit(ready) } catch { committed = false }
        gate.release(committed)
        gate.waitUntilAllFinished()
        for i in messages.indices { outcomes[i] = results.get(i) }
        if !committed {
            for i in ready { outcomes[i] = .failed("not recorded as sent, so not completed") }
        }
        return outcomes
    }

    /// One connection to the relay (libcurl keeps it open between messages on the same handle).
    final class Session: @unchecked Sendable {
        let handle: UnsafeMutableRawPointer?
        init() { handle = curl_easy_init() }
        deinit { if let handle { curl_easy_cleanup(handle) } }

        func send(_ bytes: [UInt8], to: String, settings: MailSettings, gate: Gate, index: Int) -> Outcome {
            guard let handle else { return .failed("libcurl could not start") }
            guard !to.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "<" || $0 == ">" }), to.contains("@") else {
                return .bounced("'\(to)' is not an e-mail address")
            }
            let recipients = curl_slist_append(nil, "<\(to)>")
            defer { curl_slist_free_all(recipients) }
            // Two minutes: the whole exchange, including the wait at the end for the round's commit.
            Mailer.prepare(handle, settings, recipients: recipients, timeoutMilliseconds: 120_000)
            let box = MessageSource(bytes, atEnd: { gate.arrive(index) }).attach(to: handle)
            defer { box.release() }
            let code = curl_easy_perform(handle)
            if code == CURLE_OK { return .sent }
            var reply = 0
            till_curl_get_long(handle, CURLINFO_RESPONSE_CODE, &reply)
            let why = String(cString: curl_easy_strerror(code)) + (reply > 0 ? " (the relay answered \(reply))" : "")
            return (500..<600).contains(reply) ? .bounced(why) : .failed(why)
        }
    }

    /// Where the round's messages wait at their end for the commit.
    final class Gate: @unchecked Sendable {
        private let condition = NSCondition()
        private var atEnd: [Bool], done: [Bool]
        private var released: Bool?

        init(count: Int) {
            atEnd = Array(repeating: false, count: count)
            done = Array(repeating: false, count: count)
        }

        /// A message is all handed over but its end: waits for the commit; whether to complete it.
        func arrive(_ i: Int) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            atEnd[i] = true
            condition.broadcast()
            while released == nil { condition.wait() }
            return released!
        }

        func finished(_ i: Int) {
            condition.lock()
            done[i] = true
            condition.broadcast()
            condition.unlock()
        }

        func waitUntilAllAtEndOrFinished() -> [Int] {
            condition.lock()
            defer { condition.unlock() }
            while atEnd.indices.contains(where: { !atEnd[$0] && !done[$0] }) { condition.wait() }
            return atEnd.indices.filter { atEnd[$0] }
        }

        func release(_ complete: Bool) {
            condition.lock()
            released = complete
            condition.broadcast()
            condition.unlock()
        }

        func waitUntilAllFinished() {
            condition.lock()
            defer { condition.unlock() }
            while done.contains(false) { condition.wait() }
        }
    }

    final class OutcomeBox: @unchecked Sendable {
        private let lock = NSLock()
        private var outcomes: [Outcome]
        init(count: Int) { outcomes = Array(repeating: .failed("not sent"), count: count) }
        func set(_ i: Int, _ o: Outcome) { lock.lock(); outcomes[i] = o; lock.unlock() }
        func get(_ i: Int) -> Outcome { lock.lock(); defer { lock.unlock() }; return outcomes[i] }
    }
}
