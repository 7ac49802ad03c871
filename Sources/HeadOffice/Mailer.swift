import CCurl
import CCurlShim
import Foundation

/// Where head office's e-mail goes: an SMTP relay (`[mail]` in headoffice.toml).
public struct MailSettings: Sendable, Equatable {
    /// `smtp://host:port` (STARTTLS when the relay offers it, or always with `requireTLS`) or
    /// `smtps://host:port` (TLS from the start).
    public var relay: String
    /// The sender, e.g. `Rewards <rewards@example.com>`.
    public var from: String
    public var username: String?
    public var password: String?
    /// Refuse to send unless the connection is encrypted (STARTTLS on smtp://).
    public var requireTLS: Bool
    /// A PEM file of the authority that signed the relay's certificate (nil: the system's).
    public var ca: String?
    /// Head office's address as members' mail programs reach it (campaign e-mails' links, their
    /// open image and one-click unsubscribe); nil: campaigns send no e-mail.
    public var publicURL: String?
    /// Connections to the relay a campaign sends on at once.
    public var connections: Int = 16
    /// The file where campaign e-mails whose end went to the relay wait to be recorded as sent
    /// (`MailJournal`); nil: beside a SQLite database (its path + "-mail-journal").
    public var journal: String?

    public init(relay: String, from: String, username: String? = nil, password: String? = nil, requireTLS: Bool = false, ca: String? = nil,
                publicURL: String? = nil, connections: Int = 16, journal: String? = nil) {
        self.journal = journal
        self.publicURL = publicURL
        self.connections = connections
        self.relay = relay
        self.from = from
        self.username = username
        self.password = password
        self.requireTLS = requireTLS
        self.ca = ca
    }

    /// The address part of `from` (`a@b` of `Name <a@b>`).
    var fromAddress: String {
        guard let open = from.lastIndex(of: "<"), let close = from.lastIndex(of: ">"), open < close else { return from }
        return String(from[from.index(after: open)..<close])
    }
}

/// Why an e-mail was not sent.
public struct MailFailure: Error, Sendable, CustomStringConvertible, Equatable {
    public var description: String
}

/// One e-mail.
public struct MailMessage: Sendable, Equatable {
    public var to: String
    public var subject: String
    public var text: String
    public init(to: String, subject: String, text: String) {
        self.to = to
        self.subject = subject
        self.text = text
    }
}

/// Sends e-mail to the relay through libcurl's SMTP client (never SMTP written by hand).
public struct Mailer: Sendable {
    public let settings: MailSettings

    public init(_ settings: MailSettings) { self.settings = settings }

    /// The message as RFC 5322 text (UTF-8 body, an ASCII subject or an encoded word).
    func rfc5322(_ m: MailMessage, at date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let subject = m.subject.allSatisfy({ $0.isASCII && $0 != "\r" && $0 != "\n" })
            ? m.subject : "=?UTF-8?B?" + Data(m.subject.utf8).base64EncodedString() + "?="
        let domain = settings.fromAddress.split(separator: "@").last.map(String.init) ?? "headoffice"
        let body = m.text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
        return [
            "From: \(settings.from)", "To: \(m.to)", "Subject: \(subject)", "Date: \(formatter.string(from: date))",
            "Message-ID: <\(UUID().uuidString.lowercased())@\(domain)>", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "", body, "",
        ].joined(separator: "\r\n")
    }

    /// Sends one message; `timeoutMilliseconds` bounds the whole exchange.
    public func send(_ m: MailMessage, timeoutMilliseconds: Int = 20_000) throws(MailFailure) {
        guard !m.to.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "<" || $0 == ">" }), m.to.contains("@") else {
            throw MailFailure(description: "'\(m.to)' is not an e-mail address")
        }
        guard settings.relay.hasPrefix("smtp://") || settings.relay.hasPrefix("smtps://") else {
            throw MailFailure(description: "The mail relay '\(settings.relay)' must be smtp://host:port or smtps://host:port")
        }
        guard let handle = curl_easy_init() else { throw MailFailure(description: "libcurl could not start") }
        defer { curl_easy_cleanup(handle) }
        let recipients = curl_slist_append(nil, "<\(m.to)>")
        defer { curl_slist_free_all(recipients) }
        Self.prepare(handle, settings, recipients: recipients, timeoutMilliseconds: timeoutMilliseconds)
        let box = MessageSource(Array(rfc5322(m, at: Date()).utf8)).attach(to: handle)
        defer { box.release() }
        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else {
            var reply = 0
            till_curl_get_long(handle, CURLINFO_RESPONSE_CODE, &reply)
            throw MailFailure(description: "The mail relay \(Self.redacted(settings.relay)) did not take the e-mail to \(m.to): \(String(cString: curl_easy_strerror(code)))"
                              + (reply > 0 ? " (it answered \(reply))" : ""))
        }
    }

    /// Sets a libcurl handle up to send one message to the relay (the read function is the caller's).
    static func prepare(_ handle: UnsafeMutableRawPointer, _ settings: MailSettings, recipients: UnsafeMutablePointer<curl_slist>?, timeoutMilliseconds: Int) {
        till_curl_set_string(handle, CURLOPT_URL, settings.relay)
        till_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
        till_curl_set_long(handle, CURLOPT_TIMEOUT_MS, timeoutMilliseconds)
        till_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, min(timeoutMilliseconds, 5_000))
        till_curl_set_string(handle, CURLOPT_MAIL_FROM, "<\(settings.fromAddress)>")
        till_curl_set_slist(handle, CURLOPT_MAIL_RCPT, recipients)
        till_curl_set_long(handle, CURLOPT_UPLOAD, 1)
        till_curl_set_long(handle, CURLOPT_USE_SSL, settings.requireTLS ? Int(CURLUSESSL_ALL.rawValue) : Int(CURLUSESSL_TRY.rawValue))
        if let ca = settings.ca { till_curl_set_string(handle, CURLOPT_CAINFO, ca) }
        if let u = settings.username { till_curl_set_string(handle, CURLOPT_USERNAME, u) }
        if let p = settings.password { till_curl_set_string(handle, CURLOPT_PASSWORD, p) }
    }

    /// The relay's address without a password written into it.
    static func redacted(_ url: String) -> String {
        guard let at = url.firstIndex(of: "@"), let scheme = url.range(of: "://") else { return url }
        return String(url[..<scheme.upperBound]) + "…" + String(url[at...])
    }
}

/// The message's bytes, handed to libcurl as it asks for them. `atEnd`, when given, is asked once
/// they are all handed over, before libcurl sends the message's end (the lone "."): false aborts
/// the transfer, and the relay discards a message that has no end.
final class MessageSource {
    let bytes: [UInt8]
    let atEnd: (() -> Bool)?
    var offset = 0
    private var ended = false
    init(_ bytes: [UInt8], atEnd: (() -> Bool)? = nil) {
        self.bytes = bytes
        self.atEnd = atEnd
    }

    func read(into buffer: UnsafeMutablePointer<CChar>, max: Int) -> Int {
        let n = min(max, bytes.count - offset)
        if n > 0 {
            bytes.withUnsafeBufferPointer { src in
                UnsafeMutableRawPointer(buffer).copyMemory(from: src.baseAddress! + offset, byteCount: n)
            }
            offset += n
            return n
        }
        if !ended {
            ended = true
            // CURL_READFUNC_ABORT: the transfer stops without the end.
            if let atEnd, !atEnd() { return 0x1000_0000 }
        }
        return 0
    }

    /// Makes this the upload of `handle`'s next transfer; release what it returns after it.
    func attach(to handle: UnsafeMutableRawPointer) -> Unmanaged<MessageSource> {
        let box = Unmanaged.passRetained(self)
        till_curl_set_read_function(handle) { buffer, size, count, user in
            guard let buffer, let user else { return 0 }
            return Unmanaged<MessageSource>.fromOpaque(user).takeUnretainedValue().read(into: buffer, max: size * count)
        }
        till_curl_set_pointer(handle, CURLOPT_READDATA, box.toOpaque())
        return box
    }
}
