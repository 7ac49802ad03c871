import Crypto
import Foundation
@testable import HeadOffice
import PrivateServers
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillSync
import TillTestSupport

/// Signed webhooks for a CRM (issue 15): points movements of a till's batch and of a channel,
/// a card replaced, each delivered with an HMAC-SHA256 signature, retried with backoff after the
/// endpoint fails, and on the delivery log.
@Suite("Webhooks", .serialized)
struct WebhookTests {
    struct Received: Decodable { var headers: [String: String]; var body: String; var status: Int }

    @Test func deliveriesAreSignedRetriedAndLogged() async throws {
        let dir = TemporaryDirectory("webhooks")
        let store = try makeHeadOffice(.sqlite, dir)
        _ = try store.registerTill(till1)
        let port = PrivatePostgres.freePort()
        let out = dir.file("received.jsonl")
        let sink = try spawn("/usr/bin/python3", [PackagePaths.root + "/Tests/HeadOfficeTests/Webhooks/sink.py", String(port), out, "2"],
                             environment: ProcessInfo.processInfo.environment, stdout: dir.file("sink.out"), stderr: dir.file("sink.err"))
        defer { kill(sink, SIGTERM); _ = waitForExit(sink) }
        let (id, secret) = try store.addWebhook(url: "http://127.0.0.1:\(port)/hooks", events: ["*"])
        #expect(throws: ChannelRefusal.self) { try store.addWebhook(url: "ftp://x", events: []) }
        #expect(throws: ChannelRefusal.self) { try store.addWebhook(url: "http://x", events: ["sale.made"]) }
        let server = try await RunningServer(store)
        defer { Task { await server.stop() } }

        // A till's batch of sales on one card, then customer service replaces the card.
        let t = try TillSide()
        t.generator = SaleGenerator(database: t.db, till: t.identity, cards: 1, seed: 8)
        try t.generator.ring(5)
        _ = try store.ingest(try t.batch(), from: till1)
        try store.replaceCard(DemoCatalog.cardNumber(1), with: DemoCatalog.cardNumber(DemoCatalog.firstStockCard), by: "cora", reason: .lostOrStolen, note: "")

        // The first two posts fail (500): retried after 1 s and 2 s; everything arrives.
        let deadline = Date().addingTimeInterval(30)
        var received: [Received] = []
        while Date() < deadline {
            received = ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                try? JSONDecoder().decode(Received.self, from: Data($0.utf8))
            }
            let settled = try store.webhookDeliveries().allSatisfy { $0.state == "delivered" }
            if received.filter({ $0.status == 200 }).count >= 2 && settled { break }
            usleep(200_000)
        }
        let delivered = received.filter { $0.status == 200 }
        let types = delivered.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [String: Any])?["type"] as? String }
        #expect(types.contains("ledger.movements") && types.contains("card.replaced"), "\(types)")
        #expect(received.filter { $0.status == 500 }.count == 2)
        // Each delivery signed with the secret over "ID.TIMESTAMP.BODY".
        for r in delivered {
            let deliveryID = try #require(r.headers["webhook-id"].flatMap { Int64($0) })
            let timestamp = try #require(r.headers["webhook-timestamp"].flatMap { Int64($0) })
            let mac = HMAC<SHA256>.authenticationCode(for: Data("\(deliveryID).\(timestamp).\(r.body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
            #expect(r.headers["webhook-signature"] == "v1=" + mac.map { String(format: "%02x", $0) }.joined())
            #expect(abs(timestamp - HeadOfficeStore.now() / 1000) < 120)
        }
        // The movements name the card, the sale and the balance after.
        let lists: [[[String: Any]]] = delivered.compactMap { r in
            let o = try? JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any]
            return o?["type"] as? String == "ledger.movements" ? (o?["data"] as? [String: Any])?["movements"] as? [[String: Any]] : nil
        }
        let movements = try #require(lists.first)
        #expect(movements.count >= 1 && movements.allSatisfy { $0["card"] as? String == DemoCatalog.cardNumber(1) && $0["balance"] != nil })
        // The log: every delivery delivered, the two failures tried again (each attempt counted).
        let log = try store.webhookDeliveries(webhook: id)
        #expect(log.allSatisfy { $0.state == "delivered" && $0.lastStatus == 200 }, "\(log.map { ($0.event, $0.attempts, $0.state) })")
        #expect(log.map(\.attempts).reduce(0, +) == Int64(log.count + 2), "\(log.map { ($0.event, $0.attempts) })")
        #expect(try store.webhooks().first?.delivered == log.count)
        // Stopped: nothing more is queued for it.
        try store.revokeWebhook(id)
        _ = try store.adjustPoints(card: DemoCatalog.cardNumber(DemoCatalog.firstStockCard), points: 5, by: "cora", reason: .goodwill, note: "")
        #expect(try store.webhookDeliveries(webhook: id).count == log.count)
    }

    /// Backoff: 1, 2, 4 … s, at most an hour apart; failed after 12 attempts.
    @Test func aFailingEndpointIsTriedLessAndLessOftenThenGivenUp() throws {
        let dir = TemporaryDirectory("webhook-backoff")
        let store = try makeHeadOffice(.sqlite, dir)
        let (id, _) = try store.addWebhook(url: "http://127.0.0.1:9/none", events: ["card.replaced"])
        try store.replaceCard(DemoCatalog.cardNumber(1), with: DemoCatalog.cardNumber(DemoCatalog.firstStockCard), by: "cora", reason: .damagedCard, note: "")
        let d = try #require(try store.webhookDeliveries(webhook: id).first)
        var waits: [Int64] = []
        var now: Int64 = 10_000_000
        for _ in 0..<12 {
            try store.recordDelivery(d.id, status: 503, error: "answered 503", at: now)
            let after = try #require(try store.webhookDeliveries(webhook: id).first)
            waits.append(after.nextAt - now)
            now = after.nextAt
        }
        #expect(Array(waits.prefix(5)) == [1_000, 2_000, 4_000, 8_000, 16_000])
        #expect(waits.max()! <= 3_600_000)
        let last = try #require(try store.webhookDeliveries(webhook: id).first)
        #expect(last.state == "failed" && last.attempts == 12 && last.lastStatus == 503)
        #expect(try store.claimDueDeliveries(at: now + 10_000_000).isEmpty)
    }
}
