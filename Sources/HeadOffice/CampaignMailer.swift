import CCurl
import CCurlShim
import Foundation

/// A campaign's e-mails, several at once, each on its own connection to the relay kept open
/// between rounds (libcurl's SMTP client, never SMTP written by hand). Each message is handed over
/// to the relay but for its end (the lone "." that completes an SMTP message); then, on the same
/// thread and with nothing to wait for in between, its member is written to the journal
/// (`MailJournal`) and the end goes out. A process killed before that write leaves its message
/// without an end, which the relay discards, so the member is sent to again; one killed after it
/// has the member in its journal, which head office reads when it starts sending again
/// (`settleMailJournal`), so the member is not sent to again. Only a kill in the microseconds
/// between the journal's write and the end's can lose an e-mail; none is ever sent twice.
public final class CampaignMailer: @unchecked Sendable {
    let settings: MailSettings
    private let sessions: [Session]
    /// Where each message's member is written the moment before its end goes to the relay.
    public let journal: MailJournal

    /// What became of one message.
    public enum Outcome: Sendable, Equatable {
        /// The relay took it, or its end was handed over and the relay did not refuse it (it may
        /// have it: never sent twice).
        case sent
        /// Refused for good (a 5xx answer): the address bounces.
        case bounced(String)
        /// Not taken this time (a 4xx answer, no connection): try again later.
        case failed(String)
    }

    /// `journal`: a file head office may write (it is created, mode 0600).
    public init(_ settings: MailSettings, connections: Int, journal: String) throws(MailFailure) {
        self.settings = settings
        self.journal = try MailJournal(path: journal)
        sessions = (0..<max(1, connections)).map { _ in Session() }
    }

    public var connections: Int { sessions.count }

    /// Sends up to `connections` messages of `campaign` at once (the member, the address, the
    /// RFC 5322 bytes), each member written to the journal just before its message's end.
    /// One round at a time: a mailer is not shared by two senders.
    public func send(_ messages: [(member: String, to: String, bytes: [UInt8])], campaign: String) -> [Outcome] {
        precondition(messages.count <= sessions.count, "a round sends at most one message per connection")
        let results = OutcomeBox(count: messages.count)
        let done = DispatchGroup()
        for (i, m) in messages.enumerated() {
            let session = sessions[i], settings = self.settings, journal = self.journal
            done.enter()
            let t = Thread {
                results.set(i, session.send(m.bytes, to: m.to, settings: settings) { journal.record(campaign: campaign, member: m.member) })
                done.leave()
            }
            t.stackSize = 1 << 20
            t.start()
        }
        done.wait()
        return messages.indices.map { results.get($0) }
    }

    /// One connection to the relay (libcurl keeps it open between messages on the same handle).
    final class Session: @unchecked Sendable {
        let handle: UnsafeMutableRawPointer?
        init() { handle = curl_easy_init() }
        deinit { if let handle { curl_easy_cleanup(handle) } }

        /// `atEnd`: asked once the message is all handed over but its end; nil lets the end go,
        /// a reason stops the message without it.
        func send(_ bytes: [UInt8], to: String, settings: MailSettings, atEnd: @escaping () -> String?) -> Outcome {
            guard let handle else { return .failed("libcurl could not start") }
            guard !to.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "<" || $0 == ">" }), to.contains("@") else {
                return .bounced("'\(to)' is not an e-mail address")
            }
            let recipients = curl_slist_append(nil, "<\(to)>")
            defer { curl_slist_free_all(recipients) }
            Mailer.prepare(handle, settings, recipients: recipients, timeoutMilliseconds: 120_000)
            var endHandedOver = false, stopped: String?
            let box = MessageSource(bytes, atEnd: {
                stopped = atEnd()
                endHandedOver = stopped == nil
                return endHandedOver
            }).attach(to: handle)
            defer { box.release() }
            let code = curl_easy_perform(handle)
            if code == CURLE_OK { return .sent }
            if let stopped { return .failed(stopped) }
            var reply = 0
            till_curl_get_long(handle, CURLINFO_RESPONSE_CODE, &reply)
            let why = String(cString: curl_easy_strerror(code)) + (reply > 0 ? " (the relay answered \(reply))" : "")
            if (500..<600).contains(reply) { return .bounced(why) }
            // Its end went out and the relay refused nothing after it (no answer came): the relay
            // may have it, so it is not sent again.
            if endHandedOver && !(400..<500).contains(reply) { return .sent }
            return .failed(why)
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
