import Foundation
import Crypto
import TillCore
import TillProtocol

/// What a webhook can subscribe to.
public enum WebhookEvent: String, CaseIterable, Sendable {
    /// Points moved on cards: a batch of a till's documents, a channel's operation, customer service.
    case ledgerMovements = "ledger.movements"
    /// A card was issued to a new member (at a till).
    case memberRegistered = "member.registered"
    /// A card reached another tier.
    case tierChanged = "tier.changed"
    /// Customer service replaced a lost card.
    case cardReplaced = "card.replaced"
}

/// A subscription, and how its deliveries stand.
public struct Webhook: Sendable, Equatable {
    public var id: Int64
    public var url: String
    public var events: [String]
    public var createdAt: Int64
    public var revokedAt: Int64?
    public var pending: Int, delivered: Int, failed: Int
}

/// One line of the delivery log.
public struct WebhookDelivery: Sendable, Equatable {
    public var id: Int64
    public var webhookID: Int64
    public var event: String
    public var payload: String
    public var attempts: Int64
    public var state: String
    public var lastStatus: Int64?
    public var lastError: String?
    public var nextAt: Int64
    public var deliveredAt: Int64?
}

extension HeadOfficeStore {
    /// A delivery is tried this many times (1 s, 2 s, 4 s … at most an hour apart) before it is
    /// marked failed.
    public static let webhookAttempts: Int64 = 12

    /// Subscribes a URL to events (`*`: all); the signing secret comes back once.
    public func addWebhook(url: String, events: [String], at time: Int64 = HeadOfficeStore.now()) throws -> (id: Int64, secret: String) {
        guard url.hasPrefix("https://") || url.hasPrefix("http://"), url.count <= 500, !url.contains(where: { $0.isWhitespace }) else {
            throw ChannelRefusal(400, "The webhook's URL '\(url.prefix(100))' must be http:// or https:// and have no spaces")
        }
        let known = Set(WebhookEvent.allCases.map(\.rawValue))
        let wanted = events.isEmpty ? ["*"] : events
        if let bad = wanted.first(where: { $0 != "*" && !known.contains($0) }) {
            throw ChannelRefusal(400, "Event '\(bad)' is not one head office sends: \(known.sorted().joined(separator: ", ")), or * for all")
        }
        let secret = "whsec_" + Self.randomToken()
        let id = try database.write { c -> Int64 in
            try c.execute("INSERT INTO webhooks (url, secret, events, created_at) VALUES (?, ?, ?, ?)",
                          [.text(url), .text(secret), .text(wanted.joined(separator: ",")), .int(time)])
            return try c.queryOne("SELECT MAX(id) AS id FROM webhooks", [])?.int("id") ?? 0
        }
        return (id, secret)
    }

    public func revokeWebhook(_ id: Int64, at time: Int64 = HeadOfficeStore.now()) throws {
        let n = try database.write { c in try c.execute("UPDATE webhooks SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [.int(time), .int(id)]) }
        guard n == 1 else { throw ChannelRefusal(404, "There is no webhook \(id) in use") }
        // What waits for it is not sent.
        try database.write { c in _ = try c.execute("UPDATE webhook_deliveries SET state = 'cancelled' WHERE webhook_id = ? AND state = 'pending'", [.int(id)]) }
    }

    public func webhooks() throws -> [Webhook] {
        try database.read { c in
            try c.query("""
                SELECT w.*, (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'pending') AS pending,
                       (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'delivered') AS delivered,
                       (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'failed') AS failed
                FROM webhooks w ORDER BY w.id
                """, []).map {
                Webhook(id: $0.int("id"), url: $0.text("url"), events: $0.text("events").split(separator: ",").map(String.init), createdAt: $0.int("created_at"),
                        revokedAt: $0["revoked_at"].int, pending: Int($0.int("pending")), delivered: Int($0.int("delivered")), failed: Int($0.int("failed")))
            }
        }
    }

    /// The delivery log, newest first.
    public func webhookDeliveries(webhook: Int64? = nil, limit: Int = 100) throws -> [WebhookDelivery] {
        try database.read { c in
            try c.query("SELECT * FROM webhook_deliveries WHERE (CAST(? AS BIGINT) IS NULL OR webhook_id = ?) ORDER BY id DESC LIMIT ?",
                        [SQLValue(webhook), SQLValue(webhook), .int(Int64(limit))]).map(Self.delivery)
        }
    }

    static func delivery(_ r: SQLRow) -> WebhookDelivery {
        WebhookDelivery(id: r.int("id"), webhookID: r.int("webhook_id"), event: r.text("event"), payload: r.text("payload"), attempts: r.int("attempts"),
                        state: r.text("state"), lastStatus: r["last_status"].int, lastError: r["last_error"].text, nextAt: r.int("next_at"),
                        deliveredAt: r["delivered_at"].int)
    }

    /// Queues an event for every webhook that wants it, in the caller's transaction (one
    /// statement; nothing when nobody subscribed).
    static func emit(_ event: WebhookEvent, _ data: [String: Any], _ c: any SQLConnection, at time: Int64) throws {
        // Nobody subscribed (the usual case at a till's sale): no JSON is made.
        guard try anyWebhook(c) else { return }
        try queue(event, data, c, at: time)
    }

    /// Whether any webhook is subscribed (one small query).
    static func anyWebhook(_ c: any SQLConnection) throws -> Bool {
        try c.queryOne("SELECT id FROM webhooks WHERE revoked_at IS NULL LIMIT 1", []) != nil
    }

    /// `emit` once a caller has found a webhook subscribed.
    private static func queue(_ event: WebhookEvent, _ data: [String: Any], _ c: any SQLConnection, at time: Int64) throws {
        let body: [String: Any] = ["type": event.rawValue, "createdAt": time, "data": data]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]), as: UTF8.self)
        try c.execute("""
            INSERT INTO webhook_deliveries (webhook_id, event, payload, created_at, next_at, state)
            SELECT id, ?, ?, ?, ?, 'pending' FROM webhooks
            WHERE revoked_at IS NULL AND (events = '*' OR ',' || events || ',' LIKE ?)
            """, [.text(event.rawValue), .text(json), .int(time), .int(time), .text("%," + event.rawValue + ",%")])
    }

    /// Deliveries due now, each claimed for a minute (another head office process leaves a
    /// claimed one alone), with their webhook's URL and secret.
    public func claimDueDeliveries(limit: Int = 20, at time: Int64 = HeadOfficeStore.now()) throws -> [(WebhookDelivery, url: String, secret: String)] {
        let due = try database.read { c in
            try c.query("""
                SELECT d.*, w.url, w.secret FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                WHERE d.state = 'pending' AND d.next_at <= ? AND w.revoked_at IS NULL ORDER BY d.next_at, d.id LIMIT ?
                """, [.int(time), .int(Int64(limit))])
        }
        var claimed: [(WebhookDelivery, url: String, secret: String)] = []
        for r in due {
            let won = try database.write { c in
                try c.execute("UPDATE webhook_deliveries SET next_at = ? WHERE id = ? AND state = 'pending' AND next_at = ?",
                              [.int(time + 60_000), .int(r.int("id")), .int(r.int("next_at"))])
            }
            if won == 1 { claimed.append((Self.delivery(r), r.text("url"), r.text("secret"))) }
        }
        return claimed
    }

    /// Records an attempt: delivered (2xx), or tried again after 1, 2, 4 … s (at most an hour),
    /// failed after `webhookAttempts`.
    public func recordDelivery(_ id: Int64, status: Int?, error: String?, at time: Int64 = HeadOfficeStore.now()) throws {
        try database.write { c in
            guard let row = try c.queryOne("SELECT attempts FROM webhook_deliveries WHERE id = ?", [.int(id)]) else { return }
            let attempts = row.int("attempts") + 1
            if let status, (200..<300).contains(status) {
                try c.execute("UPDATE webhook_deliveries SET state = 'delivered', attempts = ?, last_status = ?, last_error = NULL, delivered_at = ? WHERE id = ?",
                              [.int(attempts), .int(Int64(status)), .int(time), .int(id)])
                return
            }
            let wait = min(Int64(3_600_000), 1_000 << min(attempts - 1, 22))
            try c.execute("UPDATE webhook_deliveries SET state = ?, attempts = ?, last_status = ?, last_error = ?, next_at = ? WHERE id = ?",
                          [.text(attempts >= Self.webhookAttempts ? "failed" : "pending"), .int(attempts), SQLValue(status.map(Int64.init)),
                           SQLValue(error.map { String($0.prefix(500)) }), .int(time + wait), .int(id)])
        }
    }

    /// `Webhook-Signature` for a delivery: `v1=` and the hex HMAC-SHA256, keyed by the secret,
    /// of "ID.TIMESTAMP.BODY".
    public static func webhookSignature(secret: String, id: Int64, timestamp: Int64, body: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(id).\(timestamp).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// A batch's points movements as one `ledger.movements` event (only when a webhook is
    /// subscribed: one small query otherwise).
    func emitMovements(_ prepared: [Prepared], _ results: [IngestResult], till: TillCredential, _ c: any SQLConnection, at time: Int64) throws {
        guard try Self.anyWebhook(c) else { return }
        var moves: [[String: Any]] = []
        for (p, r) in zip(prepared, results) where r.status == .accepted {
            guard let card = r.cards.first else { continue }
            var delta: Int64?
            switch p {
            case .sale(let s): delta = s.derived.delta.count
            case .refund(let doc, _): delta = doc.loyalty.map { $0.pointsRestored - $0.pointsTakenBack }
            case .registration(let doc): delta = doc.welcome.reduce(0) { $0 + $1.points }
            case .zreport: continue
            }
            moves.append(["document": r.id, "kind": r.kind, "card": card.number, "delta": delta ?? 0, "balance": card.balance,
                          "tierCode": card.tierCode.map { $0 as Any } ?? NSNull()])
        }
        guard !moves.isEmpty else { return }
        try Self.queue(.ledgerMovements, ["source": "till", "store": till.storeID, "till": till.tillID, "movements": moves], c, at: time)
    }

    /// One movement made at head office (customer service, a channel) as a `ledger.movements` event.
    static func emitMovement(_ card: String, delta: Int64, kind: String, source: String, reference: String?, _ c: any SQLConnection, at time: Int64) throws {
        guard try anyWebhook(c) else { return }
        let after = try c.queryOne("SELECT balance, tier_code FROM cards WHERE number = ?", [.text(card)])
        try queue(.ledgerMovements, ["source": source, "movements": [[
            "document": reference ?? NSNull(), "kind": kind, "card": card, "delta": delta, "balance": after?.int("balance") ?? 0,
            "tierCode": after?["tier_code"].text ?? NSNull(),
        ] as [String: Any]]], c, at: time)
    }
}
