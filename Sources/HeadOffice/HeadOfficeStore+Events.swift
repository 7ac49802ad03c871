import Foundation
import Crypto
import TillCore
import TillProtocol

/// A kind of event a channel can report of a member ("review-posted", "app-installed",
/// "social-share"…), defined by the marketer: the points it earns and how often a member may earn
/// them (0: no cap).
public struct EventType: Sendable, Equatable, Codable {
    public var code: String
    public var name: String
    public var points: Int64
    public var perDay: Int64
    public var perMonth: Int64
    public var active: Bool
    public init(code: String, name: String, points: Int64, perDay: Int64, perMonth: Int64, active: Bool = true) {
        self.code = code
        self.name = name
        self.points = points
        self.perDay = perDay
        self.perMonth = perMonth
        self.active = active
    }

    /// Its terms within their bounds; the first wrong one, said plainly.
    public func check() throws {
        func need(_ ok: Bool, _ message: @autoclosure () -> String) throws { if !ok { throw ChannelRefusal(422, message()) } }
        try need((1...40).contains(code.count) && code.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" },
                 "An event's code is 1 to 40 lower-case letters, digits or dashes (e.g. review-posted), not '\(code.prefix(50))'")
        let n = name.trimmingCharacters(in: .whitespaces)
        try need((1...60).contains(n.count) && !n.contains(where: \.isNewline), "Give the event a name of 1 to 60 characters (members see it in their history)")
        try need((1...100_000).contains(points), "An event earns 1 to 100,000 points (got \(points))")
        try need((0...1_000).contains(perDay), "A member's cap per day is 0 (none) to 1,000 (got \(perDay))")
        try need((0...10_000).contains(perMonth), "A member's cap per month is 0 (none) to 10,000 (got \(perMonth))")
    }
}

/// A batch of events a channel reports (`POST /api/v1/channel/events`).
public struct EventsRequest: Codable, Sendable {
    public struct Event: Codable, Sendable {
        /// The channel's own id of the event: the same id again applies nothing.
        public var id: String
        public var type: String
        public var cardNumber: String
        /// ISO 8601; when the member did it (caps count by its UTC day and month).
        public var occurredAt: String
        public init(id: String, type: String, cardNumber: String, occurredAt: String) {
            self.id = id
            self.type = type
            self.cardNumber = cardNumber
            self.occurredAt = occurredAt
        }
    }
    public var events: [Event]
    public init(events: [Event]) { self.events = events }
}

public struct EventResult: Codable, Sendable, Equatable {
    public var id: String
    /// applied, duplicate or refused.
    public var status: String
    public var points: Int64
    public var reason: String?
}

public struct EventsAnswer: Codable, Sendable, Equatable {
    public var results: [EventResult]
}

/// Custom events (issue 18): the marketer's event types, and the events channels report, each
/// applied once per id within the member's caps.
extension HeadOfficeStore {
    public static let maxEventBatch = 100
    /// How far an event's time may lie from head office's clock.
    public static let eventPast: Int64 = 31 * 86_400_000, eventFuture: Int64 = 5 * 60_000

    @discardableResult
    public func saveEventType(_ t: EventType, by user: String, at time: Int64 = HeadOfficeStore.now()) throws -> EventType {
        var t = t
        t.name = t.name.trimmingCharacters(in: .whitespaces)
        try t.check()
        _ = try database.write { c in
            try c.execute("""
                INSERT INTO event_types (code, name, points, per_day, per_month, active, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (code) DO UPDATE SET name = excluded.name, points = excluded.points, per_day = excluded.per_day,
                    per_month = excluded.per_month, active = excluded.active, updated_by = excluded.updated_by, updated_at = excluded.updated_at
                """, [.text(t.code), .text(t.name), .int(t.points), .int(t.perDay), .int(t.perMonth), .int(t.active ? 1 : 0), .text(user), .int(time)])
        }
        return t
    }

    /// Every event type with how many events it earned points for in the last 30 days.
    public func eventTypes(at time: Int64 = HeadOfficeStore.now()) throws -> [(type: EventType, recent: Int64)] {
        try database.read { c in
            try c.query("""
                SELECT t.*, (SELECT COUNT(*) FROM member_events e WHERE e.code = t.code AND e.received_at >= ?) AS recent
                FROM event_types t ORDER BY t.code
                """, [.int(time - 30 * 86_400_000)]).map {
                (EventType(code: $0.text("code"), name: $0.text("name"), points: $0.int("points"), perDay: $0.int("per_day"),
                           perMonth: $0.int("per_month"), active: $0.int("active") == 1), $0.int("recent"))
            }
        }
    }

    /// The `Channel-Signature` header of an events request: `t=MS,v1=HEX`, where HEX is the
    /// HMAC-SHA256 of "MS." followed by the body, keyed by the hex SHA-256 of the channel's key
    /// (what head office keeps of it), and MS the sending time within five minutes of head
    /// office's clock. Throws a 401 saying what is wrong.
    static func checkEventSignature(_ header: String?, body: some Sequence<UInt8>, channel: SalesChannel, at time: Int64) throws {
        let how = "sign the body: Channel-Signature: t=EPOCH_MS,v1=hex(HMAC-SHA256(key: hex(SHA-256(channel key)), message: \"EPOCH_MS.\" + body))"
        guard let header else { throw ChannelRefusal(401, "Events must be signed: \(how)") }
        var t: Int64?, mac: String?
        for part in header.split(separator: ",") {
            let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { continue }
            if kv[0] == "t" { t = Int64(kv[1]) } else if kv[0] == "v1" { mac = kv[1].lowercased() }
        }
        guard let t, let mac else { throw ChannelRefusal(401, "Channel-Signature '\(header.prefix(80))' needs t= and v1=: \(how)") }
        guard t >= time - 5 * 60_000, t <= time + 5 * 60_000 else {
            throw ChannelRefusal(401, "Channel-Signature's time \(t) is more than five minutes from head office's clock (\(time)): sign it again when sending")
        }
        var message = Data("\(t).".utf8)
        message.append(contentsOf: body)
        let expected = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(channel.keyHash.utf8)))
            .map { String(format: "%02x", $0) }.joined()
        guard !channel.keyHash.isEmpty, sameInConstantTime(expected, mac) else {
            throw ChannelRefusal(401, "Channel-Signature does not match the body: \(how)")
        }
    }

    /// Applies each event on its own: the member earns the type's points once per event id,
    /// within the type's caps per UTC day and month (counted over all the member's cards). An
    /// unknown, inactive or over-cap event, a card no member can use, or a time too far from now
    /// is refused with the reason; the same id again answers `duplicate`.
    public func channelEvents(_ r: EventsRequest, channel: SalesChannel, at time: Int64 = HeadOfficeStore.now()) throws -> EventsAnswer {
        guard channel.scopes.contains(.earn) else { throw ChannelRefusal(403, "Channel \(channel.name) may not award points (its key lacks the earn scope)") }
        guard (1...Self.maxEventBatch).contains(r.events.count) else {
            throw ChannelRefusal(400, "Send 1 to \(Self.maxEventBatch) events a request, not \(r.events.count)")
        }
        for (i, e) in r.events.enumerated() {
            let visible = { (s: String, n: ClosedRange<Int>) in n.contains(s.utf8.count) && s.utf8.allSatisfy { (33...126).contains($0) } }
            guard visible(e.id, 1...64), visible(e.type, 1...40), (8...19).contains(e.cardNumber.utf8.count),
                  e.cardNumber.utf8.allSatisfy({ (48...57).contains($0) }), (1...40).contains(e.occurredAt.unicodeScalars.count) else {
                throw ChannelRefusal(400, "events[\(i)]: id is 1 to 64 visible ASCII characters, type 1 to 40, cardNumber 8 to 19 digits, occurredAt an ISO 8601 time")
            }
        }
        var results: [EventResult] = []
        for e in r.events {
            do {
                results.append(try database.write { c in try Self.applyEvent(e, channel: channel.name, c, at: time) })
            } catch let refusal as ChannelRefusal {
                results.append(EventResult(id: e.id, status: "refused", points: 0, reason: refusal.message))
            }
        }
        return EventsAnswer(results: results)
    }

    static func applyEvent(_ e: EventsRequest.Event, channel: String, _ c: any SQLConnection, at time: Int64) throws -> EventResult {
        if let done = try c.queryOne("SELECT * FROM member_events WHERE channel = ? AND event_id = ?", [.text(channel), .text(e.id)]) {
            guard done.text("code") == e.type, done.text("card_number") == e.cardNumber else {
                throw ChannelRefusal(409, "Event \(e.id) was applied as \(done.text("code")) for another card: an event id is used once")
            }
            return EventResult(id: e.id, status: "duplicate", points: done.int("points"), reason: nil)
        }
        guard let row = try c.queryOne("SELECT * FROM event_types WHERE code = ?", [.text(e.type)]) else {
            throw ChannelRefusal(422, "'\(e.type)' is not an event head office knows: the marketer defines events on the back office's Events page")
        }
        guard row.int("active") == 1 else { throw ChannelRefusal(422, "Event \(e.type) is switched off: it earns nothing now") }
        guard let occurred = ProtocolTime.parse(e.occurredAt) else {
            throw ChannelRefusal(400, "occurredAt '\(e.occurredAt.prefix(40))' is not an ISO 8601 time such as 2026-12-05T10:00:00Z")
        }
        guard occurred >= time - eventPast, occurred <= time + eventFuture else {
            throw ChannelRefusal(422, "Event \(e.id) happened at \(e.occurredAt.prefix(40)): events are taken up to 31 days after they happen, not before")
        }
        let card = try usableCard(e.cardNumber, c)
        let customer = card.text("customer_id")
        let day = occurred / 86_400_000 * 86_400_000
        let (y, m, _) = LocalDateTime.civil(fromDays: occurred / 86_400_000)
        let monthStart = LocalDateTime.daysFromCivil(y, m, 1) * 86_400_000
        let monthEnd = LocalDateTime.daysFromCivil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * 86_400_000
        for (cap, from, to, period) in [(row.int("per_day"), day, day + 86_400_000, "day"), (row.int("per_month"), monthStart, monthEnd, "month")] where cap > 0 {
            let n = try c.queryOne("SELECT COUNT(*) AS n FROM member_events WHERE customer_id = ? AND code = ? AND occurred_at >= ? AND occurred_at < ?",
                                   [.text(customer), .text(e.type), .int(from), .int(to)])?.int("n") ?? 0
            if n >= cap {
                throw ChannelRefusal(422, "The member already earned \(e.type) \(n) time\(n == 1 ? "" : "s") that \(period): the most a \(period) is \(cap)")
            }
        }
        let points = row.int("points")
        try c.execute("""
            INSERT INTO member_events (channel, event_id, code, card_number, customer_id, points, occurred_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(channel), .text(e.id), .text(e.type), .text(e.cardNumber), .text(customer), .int(points), .int(occurred), .int(time)])
        try moveByChannel(e.cardNumber, points: points, c, at: time)
        try c.execute("INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, created_at) VALUES (?, ?, 'earn', ?, ?, ?, ?, ?)",
                      [.text(e.cardNumber), .text("\(channel):\(e.id)"), .int(points), .text("event:" + e.type), .text(row.text("name")), .text(channel), .int(time)])
        try emitMovement(e.cardNumber, delta: points, kind: "earn", source: channel, reference: e.id, c, at: time)
        return EventResult(id: e.id, status: "applied", points: points, reason: nil)
    }
}
