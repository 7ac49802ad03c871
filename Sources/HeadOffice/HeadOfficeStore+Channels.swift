import Foundation
import TillCore
import TillDocuments
import TillProtocol

/// What a channel key may do.
public enum ChannelScope: String, CaseIterable, Sendable, Codable {
    /// Award points for an order.
    case earn
    /// Reserve, capture, cancel and refund points.
    case redeem
    /// Read a card's balance and tier.
    case read
}

/// A channel (a web shop, an app, a partner's system) as its key identifies it.
public struct SalesChannel: Sendable, Equatable {
    public var name: String
    public var scopes: Set<ChannelScope>
    public var createdAt: Int64
    public var revokedAt: Int64?
    /// The hex SHA-256 of its key, as head office keeps it (what its events are signed with);
    /// set when the key authenticated it.
    var keyHash = ""
}

/// Why a channel's request was refused: an HTTP status and a sentence saying what to do.
public struct ChannelRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var message: String
    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
    public var description: String { message }
}

/// A card as a channel sees it: every answer carries the member's balance as it is now.
public struct ChannelCard: Codable, Sendable, Equatable {
    public var number: String
    public var status: String
    public var balance: Int64
    public var tierCode: String?
    /// Points held by open reservations (already taken from `balance`).
    public var reserved: Int64
}

/// `POST /api/v1/channel/earn`: points for an order paid in the channel.
public struct EarnRequest: Codable, Sendable, Equatable {
    public var cardNumber: String
    public var orderID: String
    /// What the member paid, minor units.
    public var amount: Int64
    /// What was bought (a partner's category multipliers apply to it; the baskets report groups by it).
    public var category: String?
    public init(cardNumber: String, orderID: String, amount: Int64, category: String? = nil) {
        self.cardNumber = cardNumber
        self.orderID = orderID
        self.amount = amount
        self.category = category
    }
}

public struct EarnAnswer: Codable, Sendable, Equatable {
    public var orderID: String
    public var points: Int64
    /// The order was already awarded (this answer repeats the first).
    public var duplicate: Bool
    public var card: ChannelCard
}

/// `POST /api/v1/channel/reservations`: points held for an order until captured or cancelled.
public struct ReserveRequest: Codable, Sendable, Equatable {
    public var cardNumber: String
    public var points: Int64
    public var orderID: String?
    /// How long the points are held unless captured or cancelled (5 s to 1 day; default 15 minutes).
    public var holdSeconds: Int64?
    public init(cardNumber: String, points: Int64, orderID: String? = nil, holdSeconds: Int64? = nil) {
        self.cardNumber = cardNumber
        self.points = points
        self.orderID = orderID
        self.holdSeconds = holdSeconds
    }
}

/// `POST /api/v1/channel/reservations/{id}/refund`: captured points given back.
public struct RefundRequest: Codable, Sendable, Equatable {
    public var points: Int64
    public init(points: Int64) { self.points = points }
}

/// A reservation and the card after the operation.
public struct ReservationAnswer: Codable, Sendable, Equatable {
    public var id: String
    /// reserved, captured, cancelled or expired.
    public var state: String
    public var points: Int64
    /// Points of a captured reservation given back so far.
    public var refunded: Int64
    public var orderID: String?
    public var expiresAt: Int64
    public var card: ChannelCard
}

extension HeadOfficeStore {
    /// How long a reservation holds its points unless captured or cancelled (default 15 minutes).
    public static let defaultReservationSeconds: Int64 = 900
    /// The most points one reservation or refund moves.
    public static let maxChannelPoints: Int64 = 1_000_000_000

    // MARK: - Keys

    /// Issues a channel its key (printed once; only its hash is kept). Replacing a channel's key
    /// stops the old one at once.
    public func addChannel(_ name: String, scopes: Set<ChannelScope>, replace: Bool = false, at time: Int64 = HeadOfficeStore.now()) throws -> String {
        guard (1...40).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw ChannelRefusal(400, "A channel's name is 1 to 40 letters, digits, - or _ (e.g. web-shop), not '\(name.prefix(60))'")
        }
        guard !scopes.isEmpty else { throw ChannelRefusal(400, "Give the channel at least one scope: earn, redeem or read") }
        return try database.write { c in
            if try c.queryOne("SELECT name FROM channels WHERE name = ?", [.text(name)]) != nil && !replace {
                throw ChannelRefusal(409, "Channel \(name) exists: give it a new key with --replace (its old key stops working)")
            }
            return try Self.issueChannelKey(name, scopes: scopes, c, at: time)
        }
    }

    /// A new key for channel `name` (its old one, if any, stops working); only its hash is kept.
    static func issueChannelKey(_ name: String, scopes: Set<ChannelScope>, _ c: any SQLConnection, at time: Int64) throws -> String {
        let key = "ch." + name + "." + randomToken()
        try c.execute("""
            INSERT INTO channels (name, key_hash, scopes, created_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (name) DO UPDATE SET key_hash = excluded.key_hash, scopes = excluded.scopes, created_at = excluded.created_at, revoked_at = NULL
            """, [.text(name), .text(sha256(key)), .text(scopes.map(\.rawValue).sorted().joined(separator: ",")), .int(time)])
        return key
    }

    public func revokeChannel(_ name: String, at time: Int64 = HeadOfficeStore.now()) throws {
        let changed = try database.write { c in
            try c.execute("UPDATE channels SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", [.int(time), .text(name)])
        }
        guard changed == 1 else { throw ChannelRefusal(404, "There is no channel \(name) with a key in use") }
    }

    public func channels() throws -> [SalesChannel] {
        try database.read { c in
            try c.query("SELECT * FROM channels ORDER BY name", []).map {
                SalesChannel(name: $0.text("name"), scopes: Set($0.text("scopes").split(separator: ",").compactMap { ChannelScope(rawValue: String($0)) }),
                        createdAt: $0.int("created_at"), revokedAt: $0["revoked_at"].int)
            }
        }
    }

    /// The channel whose key came as `Authorization: Bearer ch.NAME.SECRET`; 401 otherwise.
    public func authenticateChannel(_ authorization: String?) throws -> SalesChannel {
        guard let authorization, authorization.hasPrefix("Bearer ch.") else {
            throw ChannelRefusal(401, "This address needs a channel key: Authorization: Bearer ch.NAME.SECRET (headoffice channel add NAME issues one)")
        }
        let key = String(authorization.dropFirst(7))
        let parts = key.split(separator: ".", maxSplits: 2)
        guard parts.count == 3, parts[1].count <= 40 else { throw ChannelRefusal(401, "The channel key is not one head office issued") }
        let row = try database.read { c in try c.queryOne("SELECT * FROM channels WHERE name = ?", [.text(String(parts[1]))]) }
        guard let row, Self.sameInConstantTime(row.text("key_hash"), Self.sha256(key)) else {
            throw ChannelRefusal(401, "The channel key is not one head office issued")
        }
        guard row["revoked_at"].int == nil else { throw ChannelRefusal(401, "Channel \(parts[1])'s key was revoked: ask head office for a new one") }
        return SalesChannel(name: row.text("name"), scopes: Set(row.text("scopes").split(separator: ",").compactMap { ChannelScope(rawValue: String($0)) }),
                            createdAt: row.int("created_at"), revokedAt: nil, keyHash: row.text("key_hash"))
    }

    /// Whether two secrets (hex digests) are equal, in a time that does not depend on where they differ.
    static func sameInConstantTime(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        return x.count == y.count && zip(x, y).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0
    }

    // MARK: - Reading

    static func channelCard(_ number: String, _ c: any SQLConnection) throws -> ChannelCard {
        guard let row = try c.queryOne("SELECT number, status, balance, tier_code FROM cards WHERE number = ?", [.text(number)]) else {
            throw ChannelRefusal(404, "Head office has no card \(LoyaltyCardNumber.masked(number))")
        }
        let reserved = try c.queryOne("SELECT COALESCE(SUM(points), 0) AS n FROM reservations WHERE card_number = ? AND state = 'reserved'",
                                      [.text(number)])?.int("n") ?? 0
        return ChannelCard(number: number, status: row.text("status"), balance: row.int("balance"), tierCode: row["tier_code"].text, reserved: reserved)
    }

    public func channelCard(_ number: String, at time: Int64 = HeadOfficeStore.now()) throws -> ChannelCard {
        try expireReservations(at: time)
        return try database.read { c in try Self.channelCard(number, c) }
    }

    /// A card a channel may move: a member's, active.
    static func usableCard(_ number: String, _ c: any SQLConnection) throws -> SQLRow {
        guard let card = try c.queryOne("SELECT * FROM cards WHERE number = ?", [.text(number)]) else {
            throw ChannelRefusal(404, "Head office has no card \(LoyaltyCardNumber.masked(number)): check the number the member gave")
        }
        let status = card.text("status")
        guard status == "active" else {
            let why = status == "replaced" ? "was replaced by another card: ask the member for their new card" : "is \(status)"
            throw ChannelRefusal(409, "Card \(LoyaltyCardNumber.masked(number)) \(why)")
        }
        guard card["customer_id"].text != nil else { throw ChannelRefusal(409, "Card \(LoyaltyCardNumber.masked(number)) belongs to no member yet") }
        return card
    }

    // MARK: - Idempotency

    /// Runs `body` once for a channel's idempotency key: the same key again gets the first answer
    /// (the same request) or 422 (a different request with a key already used). Stored in the
    /// transaction of the operation, so an answer and its effect are kept together or not at all.
    func once<T: Codable>(_ channel: SalesChannel, key: String?, request: String, _ c: any SQLConnection, at time: Int64,
                          _ body: () throws -> T) throws -> (T, replayed: Bool) {
        guard let key else { return (try body(), false) }
        if let row = try c.queryOne("SELECT request, response FROM channel_requests WHERE channel = ? AND idempotency_key = ?",
                                    [.text(channel.name), .text(key)]) {
            guard row.text("request") == request else {
                throw ChannelRefusal(422, "Idempotency-Key '\(key)' was already used for another request: use a new key for a new request")
            }
            return (try JSONDecoder().decode(T.self, from: Data(row.text("response").utf8)), true)
        }
        let answer = try body()
        try c.execute("INSERT INTO channel_requests (channel, idempotency_key, request, status, response, created_at) VALUES (?, ?, ?, 200, ?, ?)",
                      [.text(channel.name), .text(key), .text(request), .text(String(decoding: try JSONEncoder().encode(answer), as: UTF8.self)), .int(time)])
        return (answer, false)
    }

    // MARK: - Earning

    /// Points for an order paid in the channel, once per order id (a repeat answers the first
    /// award). Head office works the points out from the programme and the amount.
    public func channelEarn(_ r: EarnRequest, channel: SalesChannel, at time: Int64 = HeadOfficeStore.now()) throws -> EarnAnswer {
        guard channel.scopes.contains(.earn) else { throw ChannelRefusal(403, "Channel \(channel.name) may not award points (its key lacks the earn scope)") }
        guard (1...64).contains(r.orderID.count) else { throw ChannelRefusal(400, "orderID must be 1 to 64 characters") }
        guard (1...10_000_000_000).contains(r.amount) else { throw ChannelRefusal(400, "amount \(r.amount) must be 1 to 10000000000 minor units") }
        if let category = r.category, !Partner.validCategory(category) {
            throw ChannelRefusal(400, "A category is 1 to 40 letters, digits, -, _ or spaces, not '\(category.prefix(50))'")
        }
        let programme = try latestProgramme()
        return try database.write { c in
            // A partner retailer earns by its own rule (and pays for the points it issues).
            if let partner = try Self.partnerOf(channel: channel.name, c) {
                let t = PartnerTransaction(id: r.orderID, cardNumber: r.cardNumber, amount: r.amount, category: r.category)
                if try c.queryOne("SELECT order_id FROM channel_orders WHERE channel = ? AND order_id = ?", [.text(channel.name), .text(r.orderID)]) == nil {
                    _ = try Self.usableCard(r.cardNumber, c)
                }
                let done = try Self.applyPartnerTransaction(t, partner: partner, occurred: nil, c, at: time)
                return EarnAnswer(orderID: r.orderID, points: done.points, duplicate: done.status == "duplicate", card: try Self.channelCard(r.cardNumber, c))
            }
            if let done = try c.queryOne("SELECT * FROM channel_orders WHERE channel = ? AND order_id = ?", [.text(channel.name), .text(r.orderID)]) {
                guard done.text("card_number") == r.cardNumber, done.int("amount") == r.amount else {
                    throw ChannelRefusal(409, "Order \(r.orderID) already earned points with another card or amount: an order earns once")
                }
                return EarnAnswer(orderID: r.orderID, points: done.int("points"), duplicate: true, card: try Self.channelCard(r.cardNumber, c))
            }
            let card = try Self.usableCard(r.cardNumber, c)
            guard let programme else { throw ChannelRefusal(503, "Head office has no loyalty programme yet: import one (headoffice programme import)") }
            let award = programme.award(forSpend: r.amount, tierCode: card["tier_code"].text)
            let points = award.total.count
            try c.execute("INSERT INTO channel_orders (channel, order_id, card_number, amount, points, created_at, category, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          [.text(channel.name), .text(r.orderID), .text(r.cardNumber), .int(r.amount), .int(points), .int(time), SQLValue(r.category), .int(time)])
            try Self.moveByChannel(r.cardNumber, points: points, qualifying: programme.tierQualification.basis == .spend ? r.amount : points,
                                   c, at: time)
            for part in award.parts where part.points != 0 {
                try c.execute("INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, created_at) VALUES (?, ?, 'earn', ?, ?, ?, ?, ?)",
                              [.text(r.cardNumber), .text("\(channel.name):\(r.orderID)"), .points(part.points), .text(part.rule), .text(part.label),
                               .text(channel.name), .int(time)])
            }
            try Self.emitMovement(r.cardNumber, delta: points, kind: "earn", source: channel.name, reference: r.orderID, c, at: time)
            if let tier = programme.tier(for: try c.queryOne("SELECT qualifying FROM cards WHERE number = ?", [.text(r.cardNumber)])?.int("qualifying") ?? 0)?.code {
                try c.execute("UPDATE cards SET tier_code = ? WHERE number = ?", [.text(tier), .text(r.cardNumber)])
            }
            return EarnAnswer(orderID: r.orderID, points: points, duplicate: false, card: try Self.channelCard(r.cardNumber, c))
        }
    }

    /// Moves a card's balance (and qualification) by a channel's operation, within the bounds.
    static func moveByChannel(_ number: String, points: Int64, qualifying: Int64 = 0, _ c: any SQLConnection, at time: Int64) throws {
        let limit = DocumentBounds.balance.upperBound
        guard try c.execute("""
            UPDATE cards SET balance = balance + ?, qualifying = qualifying + ?, updated_at = ?
            WHERE number = ? AND balance BETWEEN ? AND ? AND qualifying BETWEEN ? AND ?
            """, [.int(points), .int(qualifying), .int(time), .text(number), .int(-limit - min(0, points)), .int(limit - max(0, points)),
                  .int(-limit - min(0, qualifying)), .int(limit - max(0, qualifying))]) == 1 else {
            throw ChannelRefusal(409, "Card \(LoyaltyCardNumber.masked(number)) cannot move by \(points) points: it would pass ±\(limit)")
        }
    }

    // MARK: - Reserve, capture, cancel, refund

    /// Holds points for an order: they leave the balance at once (a till or another channel can
    /// never spend them too) and come back if the reservation is cancelled or expires.
    public func reserve(_ r: ReserveRequest, channel: SalesChannel, idempotencyKey: String?, at time: Int64 = HeadOfficeStore.now()) throws -> ReservationAnswer {
        let holdSeconds = r.holdSeconds ?? Self.defaultReservationSeconds
        guard (5...86_400).contains(holdSeconds) else { throw ChannelRefusal(400, "holdSeconds \(holdSeconds) must be 5 to 86400 (a day)") }
        guard channel.scopes.contains(.redeem) else { throw ChannelRefusal(403, "Channel \(channel.name) may not redeem points (its key lacks the redeem scope)") }
        guard (1...Self.maxChannelPoints).contains(r.points) else { throw ChannelRefusal(400, "points \(r.points) must be 1 to \(Self.maxChannelPoints)") }
        if let o = r.orderID, !(1...64).contains(o.count) { throw ChannelRefusal(400, "orderID must be 1 to 64 characters") }
        try expireReservations(at: time)
        let request = "reserve \(r.cardNumber) \(r.points) \(r.orderID ?? "") \(holdSeconds)"
        return try database.write { c in
            try once(channel, key: idempotencyKey, request: request, c, at: time) {
                let card = try Self.usableCard(r.cardNumber, c)
                guard card.int("balance") >= r.points else {
                    throw ChannelRefusal(409, "Card \(LoyaltyCardNumber.masked(r.cardNumber)) has \(card.int("balance")) points available, not \(r.points)")
                }
                // Conditional on the balance: two reservations at once cannot both take the last points.
                guard try c.execute("UPDATE cards SET balance = balance - ?, updated_at = ? WHERE number = ? AND balance >= ?",
                                    [.int(r.points), .int(time), .text(r.cardNumber), .int(r.points)]) == 1 else {
                    throw ChannelRefusal(409, "Card \(LoyaltyCardNumber.masked(r.cardNumber)) no longer has \(r.points) points available")
                }
                let id = UUID().uuidString.lowercased()
                try c.execute("""
                    INSERT INTO reservations (id, channel, card_number, order_id, points, state, created_at, expires_at) VALUES (?, ?, ?, ?, ?, 'reserved', ?, ?)
                    """, [.text(id), .text(channel.name), .text(r.cardNumber), SQLValue(r.orderID), .int(r.points), .int(time), .int(time + holdSeconds * 1000)])
                try Self.ledgerForReservation(r.cardNumber, id: id, kind: "reserve", points: -r.points, label: "Reserved by \(channel.name)", channel: channel.name, c, at: time)
                return try Self.reservationAnswer(id, c)
            }.0
        }
    }

    /// Captures, cancels or refunds a reservation of this channel (`action`: capture, cancel).
    public func settleReservation(_ id: String, action: String, channel: SalesChannel, idempotencyKey: String?,
                                  at time: Int64 = HeadOfficeStore.now()) throws -> ReservationAnswer {
        guard channel.scopes.contains(.redeem) else { throw ChannelRefusal(403, "Channel \(channel.name) may not redeem points (its key lacks the redeem scope)") }
        try expireReservations(at: time)
        return try database.write { c in
            try once(channel, key: idempotencyKey, request: "\(action) \(id)", c, at: time) {
                let row = try Self.reservationRow(id, channel: channel, c)
                let state = row.text("state"), number = row.text("card_number"), points = row.int("points")
                switch (action, state) {
                case ("capture", "reserved"):
                    try c.execute("UPDATE reservations SET state = 'captured', settled_at = ? WHERE id = ? AND state = 'reserved'", [.int(time), .text(id)])
                case ("cancel", "reserved"):
                    try c.execute("UPDATE reservations SET state = 'cancelled', settled_at = ? WHERE id = ? AND state = 'reserved'", [.int(time), .text(id)])
                    let target = try Self.replacementOf(number, c)
                    try Self.moveByChannel(target, points: points, c, at: time)
                    try Self.ledgerForReservation(target, id: id, kind: "release", points: points, label: "Reservation cancelled by \(channel.name)",
                                                  channel: channel.name, c, at: time)
                case ("capture", "captured"), ("cancel", "cancelled"):
                    break   // already done: the same answer
                default:
                    throw ChannelRefusal(409, "Reservation \(id) is \(state): it cannot be \(action == "capture" ? "captured" : "cancelled") now")
                }
                return try Self.reservationAnswer(id, c)
            }.0
        }
    }

    /// Gives back captured points (an order returned in part or whole), at most what was captured.
    public func refundReservation(_ id: String, points: Int64, channel: SalesChannel, idempotencyKey: String?,
                                  at time: Int64 = HeadOfficeStore.now()) throws -> ReservationAnswer {
        guard channel.scopes.contains(.redeem) else { throw ChannelRefusal(403, "Channel \(channel.name) may not redeem points (its key lacks the redeem scope)") }
        guard (1...Self.maxChannelPoints).contains(points) else { throw ChannelRefusal(400, "points \(points) must be 1 to \(Self.maxChannelPoints)") }
        return try database.write { c in
            try once(channel, key: idempotencyKey, request: "refund \(id) \(points)", c, at: time) {
                let row = try Self.reservationRow(id, channel: channel, c)
                guard row.text("state") == "captured" else {
                    throw ChannelRefusal(409, "Reservation \(id) is \(row.text("state")): only captured points are refunded (cancel a reservation instead)")
                }
                let left = row.int("points") - row.int("refunded")
                guard points <= left else { throw ChannelRefusal(409, "Reservation \(id) has \(left) captured points left to refund, not \(points)") }
                guard try c.execute("UPDATE reservations SET refunded = refunded + ? WHERE id = ? AND refunded = ?",
                                    [.int(points), .text(id), .int(row.int("refunded"))]) == 1 else {
                    throw ChannelRefusal(409, "Reservation \(id) changed while it was refunded: ask again")
                }
                let number = row.text("card_number")
                // The card that carries the points now (the member may have had it replaced since).
                let target = try Self.replacementOf(number, c)
                try Self.moveByChannel(target, points: points, c, at: time)
                try Self.ledgerForReservation(target, id: id, kind: "channel-refund", points: points, label: "Refunded by \(channel.name)",
                                              channel: channel.name, c, at: time)
                return try Self.reservationAnswer(id, c)
            }.0
        }
    }

    /// The reservation of this channel (another channel's is not found).
    static func reservationRow(_ id: String, channel: SalesChannel, _ c: any SQLConnection) throws -> SQLRow {
        guard let row = try c.queryOne("SELECT * FROM reservations WHERE id = ? AND channel = ?", [.text(id), .text(channel.name)]) else {
            throw ChannelRefusal(404, "Channel \(channel.name) has no reservation \(id)")
        }
        return row
    }

    static func reservationAnswer(_ id: String, _ c: any SQLConnection) throws -> ReservationAnswer {
        guard let r = try c.queryOne("SELECT * FROM reservations WHERE id = ?", [.text(id)]) else { throw ChannelRefusal(404, "No reservation \(id)") }
        return ReservationAnswer(id: id, state: r.text("state"), points: r.int("points"), refunded: r.int("refunded"), orderID: r["order_id"].text,
                                 expiresAt: r.int("expires_at"), card: try channelCard(r.text("card_number"), c))
    }

    /// The card a card's points are on now: itself, or the one that replaced it (and on).
    static func replacementOf(_ number: String, _ c: any SQLConnection) throws -> String {
        var current = number
        var seen: Set<String> = [number]
        while let next = try c.queryOne("SELECT replaced_by FROM cards WHERE number = ? AND status = 'replaced'", [.text(current)])?["replaced_by"].text,
              seen.insert(next).inserted {
            current = next
        }
        return current
    }

    static func ledgerForReservation(_ number: String, id: String, kind: String, points: Int64, label: String, channel: String,
                                     _ c: any SQLConnection, at time: Int64) throws {
        try c.execute("INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, created_at) VALUES (?, ?, ?, ?, 'channel', ?, ?, ?)",
                      [.text(number), .text(id), .text(kind), .int(points), .text(label), .text(channel), .int(time)])
        try emitMovement(number, delta: points, kind: kind, source: channel, reference: id, c, at: time)
    }

    /// Gives back the points of reservations past their time, once each (a conditional update:
    /// two head office processes sweeping together release each reservation once).
    @discardableResult
    public func expireReservations(at time: Int64 = HeadOfficeStore.now()) throws -> Int {
        let due = try database.read { c in
            try c.query("SELECT id FROM reservations WHERE state = 'reserved' AND expires_at <= ? ORDER BY expires_at LIMIT 500", [.int(time)]).map { $0.text("id") }
        }
        var released = 0
        for id in due {
            released += try database.write { c -> Int in
                guard let row = try c.queryOne("UPDATE reservations SET state = 'expired', settled_at = ? WHERE id = ? AND state = 'reserved' RETURNING card_number, points, channel",
                                               [.int(time), .text(id)]) else { return 0 }
                let target = try Self.replacementOf(row.text("card_number"), c)
                try Self.moveByChannel(target, points: row.int("points"), c, at: time)
                try Self.ledgerForReservation(target, id: id, kind: "release", points: row.int("points"), label: "Reservation expired",
                                              channel: row.text("channel"), c, at: time)
                return 1
            }
        }
        return released
    }

    /// Points held by open reservations on a member's cards (erasure waits for them).
    static func openReservations(_ numbers: [String], _ c: any SQLConnection) throws -> Int64 {
        guard !numbers.isEmpty else { return 0 }
        return try c.queryOne("SELECT COALESCE(SUM(points), 0) AS n FROM reservations WHERE state = 'reserved' AND card_number IN (\(placeholders(numbers.count)))",
                              numbers.map { .text($0) })?.int("n") ?? 0
    }
}
