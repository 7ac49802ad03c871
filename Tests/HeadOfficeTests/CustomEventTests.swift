import Crypto
import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillSync
import TillTestSupport

/// Custom events (issue 18): a channel reports a member's review or app install; head office
/// gives the marketer's points once per event id, within the caps a member may earn per day and
/// month, refusing with a reason what it cannot take; over HTTP the body must be signed.
@Suite("Custom events", .serialized)
struct CustomEventTests {
    static let review = EventType(code: "review-posted", name: "Review posted", points: 50, perDay: 1, perMonth: 3)
    static let app = EventType(code: "app-installed", name: "App installed", points: 200, perDay: 0, perMonth: 1)
    /// 2026-12-07T10:00:00Z, a Monday.
    static let monday: Int64 = 1_796_637_600_000

    static func event(_ id: String, _ type: String = "review-posted", card: Int = 1, at time: Int64 = monday) -> EventsRequest.Event {
        .init(id: id, type: type, cardNumber: DemoCatalog.cardNumber(card), occurredAt: ProtocolTime.format(time, timeZone: TimeZone(identifier: "UTC")!))
    }

    @Test func anEventTypeIsCheckedBeforeItIsSaved() throws {
        let dir = TemporaryDirectory("events-types")
        let store = try makeHeadOffice(.sqlite, dir)
        try store.saveEventType(Self.review, by: "mia")
        for (bad, says) in [(EventType(code: "Review Posted", name: "x", points: 1, perDay: 0, perMonth: 0), "lower-case letters"),
                            (EventType(code: "x", name: "", points: 1, perDay: 0, perMonth: 0), "a name of 1 to 60"),
                            (EventType(code: "x", name: "x", points: 0, perDay: 0, perMonth: 0), "1 to 100,000 points (got 0)"),
                            (EventType(code: "x", name: "x", points: 1, perDay: -1, perMonth: 0), "cap per day is 0 (none) to 1,000 (got -1)"),
                            (EventType(code: "x", name: "x", points: 1, perDay: 0, perMonth: 99_999), "cap per month")] {
            #expect(throws: ChannelRefusal.self) { try store.saveEventType(bad, by: "mia") }
            do { try store.saveEventType(bad, by: "mia") } catch { #expect("\(error)".contains(says), "\(error)") }
        }
        #expect(try store.eventTypes().map(\.type) == [Self.review])
        // The command says the same and exits as a refusal.
        let r = try runProcess(PackagePaths.binary("headoffice"), ["event", "save", "Bad Code", "--database", dir.file("ho.sqlite"), "--name", "x", "--points", "5"])
        #expect(r.status != 0 && r.stderr.contains("lower-case letters"), "\(r.status) \(r.stderr)")
    }

    @Test(arguments: Backend.allCases)
    func eachEventEarnsOnceWithinTheMembersCaps(backend: Backend) throws {
        let dir = TemporaryDirectory("events-\(backend)")
        let store = try makeHeadOffice(backend, dir)
        try store.saveEventType(Self.review, by: "mia")
        try store.saveEventType(Self.app, by: "mia")
        _ = try store.addChannel("app", scopes: [.earn, .read])
        let app = try store.authenticateChannel("Bearer " + (try store.addChannel("app", scopes: [.earn, .read], replace: true)))
        let card = DemoCatalog.cardNumber(1)
        func balance() throws -> Int64 { try store.channelCard(card).balance }
        let before = try balance()
        func send(_ events: [EventsRequest.Event], at time: Int64 = Self.monday + 3_600_000) throws -> [EventResult] {
            try store.channelEvents(EventsRequest(events: events), channel: app, at: time).results
        }
        let day = Int64(86_400_000)
        var r = try send([Self.event("r1"), Self.event("r1"), Self.event("r2"), Self.event("i1", "app-installed")])
        #expect(r.map(\.status) == ["applied", "duplicate", "refused", "applied"], "\(r)")
        #expect(r[2].reason?.contains("already earned review-posted 1 time that day: the most a day is 1") == true, "\(r[2])")
        #expect(try balance() == before + 250)
        // The same id for another card is refused; the next days earn again, up to three a month.
        r = try send([Self.event("r1", card: 2), Self.event("r3", at: Self.monday + day), Self.event("r4", at: Self.monday + 2 * day),
                      Self.event("r5", at: Self.monday + 3 * day)], at: Self.monday + 4 * day)
        #expect(r.map(\.status) == ["refused", "applied", "applied", "refused"], "\(r)")
        #expect(r[0].reason?.contains("an event id is used once") == true && r[3].reason?.contains("the most a month is 3") == true, "\(r)")
        // A new month starts the count again (2027-01-01).
        let january = ProtocolTime.parse("2027-01-01T09:00:00Z")!
        #expect(try send([Self.event("r6", at: january)], at: january).map(\.status) == ["applied"])
        #expect(try balance() == before + 250 + 3 * 50)
        // Unknown, switched off, too old, not a time, a blocked card: refused, each with its reason.
        var off = Self.app
        off.active = false
        try store.saveEventType(off, by: "mia")
        r = try send([Self.event("u1", "tweet"), Self.event("i2", "app-installed", card: 2), Self.event("o1", at: Self.monday - 40 * day),
                      .init(id: "t1", type: "review-posted", cardNumber: card, occurredAt: "yesterday"), Self.event("b1", card: 3)])
        #expect(r.allSatisfy { $0.status == "refused" && $0.points == 0 }, "\(r)")
        for (result, says) in zip(r, ["not an event head office knows", "switched off", "up to 31 days after", "not an ISO 8601 time", "is blocked"]) {
            #expect(result.reason?.contains(says) == true, "\(result)")
        }
        // The ledger names each event; the member's events count over their cards.
        let ledger = try store.database.read { c in try c.query("SELECT rule, points, label FROM ledger WHERE rule LIKE 'event:%' ORDER BY id", []) }
        #expect(ledger.map { $0.text("rule") } == ["event:review-posted", "event:app-installed", "event:review-posted", "event:review-posted", "event:review-posted"])
        #expect(ledger.first?.text("label") == "Review posted")
        #expect(try store.eventTypes(at: january).first { $0.type.code == "review-posted" }?.recent == 4)
        // Bounds and scopes refuse the whole request.
        #expect(throws: ChannelRefusal(400, "Send 1 to 100 events a request, not 101")) {
            try store.channelEvents(EventsRequest(events: (0...100).map { Self.event("x\($0)") }), channel: app)
        }
        let reader = try store.authenticateChannel("Bearer " + (try store.addChannel("reader", scopes: [.read])))
        #expect(throws: ChannelRefusal.self) { try store.channelEvents(EventsRequest(events: [Self.event("x")]), channel: reader) }
    }

    /// Over HTTP: a body signed with the channel's key earns; no signature, a wrong one, an old
    /// one or a body changed after signing is refused with 401 and changes nothing.
    @Test func overHTTPAnEventMustBeSigned() async throws {
        let dir = TemporaryDirectory("events-http")
        let store = try makeHeadOffice(.sqlite, dir)
        try store.saveEventType(Self.review, by: "mia")
        let key = try store.addChannel("app", scopes: [.earn])
        let server = try await RunningServer(store, options: ServerOptions(port: 0))
        defer { Task { await server.stop() } }
        let now = HeadOfficeStore.now()
        func body(_ id: String) -> [UInt8] {
            Array(try! JSONEncoder().encode(EventsRequest(events: [Self.event(id, at: now - 60_000)])))
        }
        func sign(_ body: [UInt8], at t: Int64, key: String = key) -> String {
            let secret = SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
            let mac = HMAC<SHA256>.authenticationCode(for: Data("\(t).".utf8) + Data(body), using: SymmetricKey(data: Data(secret.utf8)))
            return "t=\(t),v1=" + mac.map { String(format: "%02x", $0) }.joined()
        }
        func post(_ body: [UInt8], signature: String?) async throws -> HTTPAnswer {
            try await onThread {
                try HTTPConnection().send("POST", server.url + "/api/v1/channel/events",
                                          headers: ["Authorization: Bearer \(key)", "Content-Type: application/json"] + (signature.map { ["Channel-Signature: \($0)"] } ?? []),
                                          body: body, timeoutMilliseconds: 30_000)
            }
        }
        let before = try store.channelCard(DemoCatalog.cardNumber(1)).balance
        let good = body("h1")
        let ok = try await post(good, signature: sign(good, at: now))
        #expect(ok.status == 200 && ok.text.contains("\"status\":\"applied\""), "\(ok.status) \(ok.text)")
        for (b, signature, says) in [(body("h2"), nil, "Events must be signed"), (body("h2"), sign(body("h2"), at: now, key: key + "x"), "does not match"),
                                     (body("h2"), sign(body("h2"), at: now - 10 * 60_000), "more than five minutes"),
                                     (body("h3"), sign(body("h2"), at: now), "does not match"), (body("h2"), "v1=abc", "needs t= and v1="),
                                     (body("h2"), "t=-9223372036854775808,v1=abc", "more than five minutes")] {
            let a = try await post(b, signature: signature)
            #expect(a.status == 401 && a.text.contains(says), "\(a.status) \(a.text)")
        }
        #expect(try store.channelCard(DemoCatalog.cardNumber(1)).balance == before + 50)
    }
}
