import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillSync
import TillTestSupport

/// Points outside the store (issue 15): channel keys with scopes; earning for an order once;
/// reserve, capture, cancel, refund and expiry, each moving the ledger once; idempotency keys.
@Suite("The channel API: points in the web shop")
struct ChannelTests {
    static let anna = DemoCatalog.cardNumber(1)

    static func ledgerAgrees(_ store: HeadOfficeStore) throws -> Bool {
        try CustomerServiceActionsTests.ledgerAgrees(store)
    }

    @Test(arguments: Backend.allCases)
    func keysAreCheckedAndScoped(backend: Backend) throws {
        let dir = TemporaryDirectory("ch-keys")
        let store = try makeHeadOffice(backend, dir)
        let key = try store.addChannel("web-shop", scopes: [.earn, .redeem, .read])
        #expect(key.hasPrefix("ch.web-shop."))
        #expect(try store.authenticateChannel("Bearer " + key).name == "web-shop")
        #expect(throws: ChannelRefusal.self) { try store.authenticateChannel("Bearer " + key + "x") }
        #expect(throws: ChannelRefusal.self) { try store.authenticateChannel(nil) }
        #expect(throws: ChannelRefusal(409, "Channel web-shop exists: give it a new key with --replace (its old key stops working)")) {
            try store.addChannel("web-shop", scopes: [.read])
        }
        let reader = try store.addChannel("app", scopes: [.read])
        let app = try store.authenticateChannel("Bearer " + reader)
        #expect(throws: ChannelRefusal.self) { try store.channelEarn(EarnRequest(cardNumber: Self.anna, orderID: "A1", amount: 1_000), channel: app) }
        #expect(throws: ChannelRefusal.self) { try store.reserve(ReserveRequest(cardNumber: Self.anna, points: 10), channel: app, idempotencyKey: "k") }
        #expect(try store.channelCard(Self.anna).balance == 1_500)
        let renewed = try store.addChannel("web-shop", scopes: [.earn], replace: true)
        #expect(throws: ChannelRefusal.self) { try store.authenticateChannel("Bearer " + key) }
        #expect(try store.authenticateChannel("Bearer " + renewed).scopes == [.earn])
        try store.revokeChannel("web-shop")
        do {
            _ = try store.authenticateChannel("Bearer " + renewed)
            Issue.record("a revoked key was taken")
        } catch let e as ChannelRefusal { #expect(e.status == 401 && e.message.contains("revoked")) }
    }

    @Test(arguments: Backend.allCases)
    func anOrderEarnsOnceAndReservationsMoveTheLedgerOnce(backend: Backend) async throws {
        let dir = TemporaryDirectory("ch-redeem")
        let store = try makeHeadOffice(backend, dir)
        let shop = try store.authenticateChannel("Bearer " + (try store.addChannel("web-shop", scopes: [.earn, .redeem, .read])))
        let other = try store.authenticateChannel("Bearer " + (try store.addChannel("app", scopes: [.redeem])))
        // Earn: head office works out the points (1 pt per 1.00, Silver ×1.25 in the demo programme); once per order.
        let earned = try store.channelEarn(EarnRequest(cardNumber: Self.anna, orderID: "W-1001", amount: 40_00), channel: shop)
        #expect(earned.points > 0 && !earned.duplicate && earned.card.balance == 1_500 + earned.points)
        let again = try store.channelEarn(EarnRequest(cardNumber: Self.anna, orderID: "W-1001", amount: 40_00), channel: shop)
        #expect(again.duplicate && again.points == earned.points && again.card.balance == earned.card.balance)
        #expect(throws: ChannelRefusal.self) { try store.channelEarn(EarnRequest(cardNumber: Self.anna, orderID: "W-1001", amount: 99_00), channel: shop) }
        var balance = earned.card.balance

        // Reserve: off the balance at once; the same key answers the first reservation.
        let r = try store.reserve(ReserveRequest(cardNumber: Self.anna, points: 500, orderID: "W-1002"), channel: shop, idempotencyKey: "k1")
        #expect(r.state == "reserved" && r.card.balance == balance - 500 && r.card.reserved == 500)
        #expect(try store.reserve(ReserveRequest(cardNumber: Self.anna, points: 500, orderID: "W-1002"), channel: shop, idempotencyKey: "k1") == r)
        #expect(throws: ChannelRefusal(422, "Idempotency-Key 'k1' was already used for another request: use a new key for a new request")) {
            try store.reserve(ReserveRequest(cardNumber: Self.anna, points: 501, orderID: "W-1002"), channel: shop, idempotencyKey: "k1")
        }
        // Another channel cannot touch it; capture twice is one capture.
        #expect(throws: ChannelRefusal.self) { try store.settleReservation(r.id, action: "capture", channel: other, idempotencyKey: nil) }
        let captured = try store.settleReservation(r.id, action: "capture", channel: shop, idempotencyKey: nil)
        #expect(captured.state == "captured" && captured.card.balance == balance - 500 && captured.card.reserved == 0)
        #expect(try store.settleReservation(r.id, action: "capture", channel: shop, idempotencyKey: nil) == captured)
        #expect(throws: ChannelRefusal.self) { try store.settleReservation(r.id, action: "cancel", channel: shop, idempotencyKey: nil) }
        // Refunds: up to what was captured, each once by its key.
        let refunded = try store.refundReservation(r.id, points: 200, channel: shop, idempotencyKey: "rf1")
        #expect(refunded.refunded == 200 && refunded.card.balance == balance - 300)
        #expect(try store.refundReservation(r.id, points: 200, channel: shop, idempotencyKey: "rf1").card.balance == balance - 300)
        #expect(throws: ChannelRefusal.self) { try store.refundReservation(r.id, points: 301, channel: shop, idempotencyKey: "rf2") }
        balance -= 300

        // Cancel gives the points back once.
        let c = try store.reserve(ReserveRequest(cardNumber: Self.anna, points: 100), channel: shop, idempotencyKey: "k2")
        #expect(try store.settleReservation(c.id, action: "cancel", channel: shop, idempotencyKey: nil).card.balance == balance)
        #expect(try store.settleReservation(c.id, action: "cancel", channel: shop, idempotencyKey: nil).card.balance == balance)
        // Not more than the balance; not a blocked card.
        do {
            _ = try store.reserve(ReserveRequest(cardNumber: Self.anna, points: balance + 1), channel: shop, idempotencyKey: "k3")
            Issue.record("more than the balance was reserved")
        } catch let e as ChannelRefusal { #expect(e.status == 409 && e.message.contains("has \(balance) points available")) }
        #expect(throws: ChannelRefusal.self) { try store.reserve(ReserveRequest(cardNumber: DemoCatalog.cardNumber(3), points: 1), channel: shop, idempotencyKey: "k4") }

        // Expiry: two sweeps together release a reservation once.
        let e = try store.reserve(ReserveRequest(cardNumber: Self.anna, points: 50, holdSeconds: 5), channel: shop, idempotencyKey: "k5", at: 1_000)
        #expect(e.expiresAt == 6_000)
        let sweeps = (0..<4).map { _ in StartedOnThread { try store.expireReservations(at: 10_000) } }
        var released = 0
        for s in sweeps { released += try await s.value() }
        #expect(released == 1)
        #expect(try store.channelCard(Self.anna).balance == balance)
        #expect(throws: ChannelRefusal.self) { try store.settleReservation(e.id, action: "capture", channel: shop, idempotencyKey: nil) }
        let releases = try store.database.read { c in
            try c.queryOne("SELECT COUNT(*) AS n FROM ledger WHERE sale_id = ? AND kind = 'release'", [.text(e.id)])?.int("n")
        }
        #expect(releases == 1)
        #expect(try Self.ledgerAgrees(store))
    }

    /// Over HTTP: the key, the idempotency key, bounds, and every answer with the card.
    @Test func theAPIAnswersWithTheCardAndSaysWhatIsWrong() async throws {
        let dir = TemporaryDirectory("ch-http")
        let store = try makeHeadOffice(.sqlite, dir)
        let key = try store.addChannel("web-shop", scopes: [.earn, .redeem, .read])
        let server = try await RunningServer(store)
        defer { Task { await server.stop() } }
        func call(_ method: String, _ path: String, _ body: String? = nil, headers: [String] = []) async throws -> HTTPAnswer {
            try await onThread {
                try HTTPConnection().send(method, server.url + path, headers: ["Authorization: Bearer \(key)", "Content-Type: application/json"] + headers,
                                          body: body.map { Array($0.utf8) }, timeoutMilliseconds: 30_000)
            }
        }
        let card = try await call("GET", "/api/v1/channel/cards/\(Self.anna)")
        #expect(card.status == 200 && card.text.contains("\"balance\":1500"), "\(card.text)")
        let noKey = try await onThread { try HTTPConnection().send("GET", server.url + "/api/v1/channel/cards/\(Self.anna)", timeoutMilliseconds: 30_000) }
        #expect(noKey.status == 401 && noKey.text.contains("channel key"))
        // A till's token is not a channel key, nor a channel key a till's token.
        let asTill = try await onThread {
            try HTTPConnection().send("GET", server.url + "/api/v1/cards/\(Self.anna)", headers: ["Authorization: Bearer \(key)"], timeoutMilliseconds: 30_000)
        }
        #expect(asTill.status == 401)
        let missingKey = try await call("POST", "/api/v1/channel/reservations", "{\"cardNumber\":\"\(Self.anna)\",\"points\":10}")
        #expect(missingKey.status == 400 && missingKey.text.contains("Idempotency-Key"))
        let badPoints = try await call("POST", "/api/v1/channel/reservations", "{\"cardNumber\":\"\(Self.anna)\",\"points\":\"ten\"}", headers: ["Idempotency-Key: a"])
        #expect(badPoints.status == 400 && badPoints.text.contains("points has the wrong type"), "\(badPoints.text)")
        let reserved = try await call("POST", "/api/v1/channel/reservations", "{\"cardNumber\":\"\(Self.anna)\",\"points\":300,\"orderID\":\"W-1\"}",
                                      headers: ["Idempotency-Key: order-W-1"])
        #expect(reserved.status == 200, "\(reserved.text)")
        let r = try JSONDecoder().decode(ReservationAnswer.self, from: Data(reserved.body))
        #expect(r.card.balance == 1_200 && r.card.reserved == 300)
        let captured = try await call("POST", "/api/v1/channel/reservations/\(r.id)/capture")
        #expect(captured.status == 200 && captured.text.contains("\"state\":\"captured\""))
        let tooMuch = try await call("POST", "/api/v1/channel/reservations/\(r.id)/refund", "{\"points\":301}", headers: ["Idempotency-Key: rf"])
        #expect(tooMuch.status == 409 && tooMuch.text.contains("300 captured points left"), "\(tooMuch.text)")
        let unknown = try await call("POST", "/api/v1/channel/reservations/00000000-0000-0000-0000-000000000000/cancel")
        #expect(unknown.status == 404)
        let earned = try await call("POST", "/api/v1/channel/earn", "{\"cardNumber\":\"\(Self.anna)\",\"orderID\":\"W-2\",\"amount\":-5}")
        #expect(earned.status == 400 && earned.text.contains("amount -5"))
        let method = try await call("GET", "/api/v1/channel/earn")
        #expect(method.status == 405)
    }
}
