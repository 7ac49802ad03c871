import Foundation
import GRDB
public import TillCore
public import TillProtocol

/// A document waiting in the outbox for head office.
public struct OutboxEntry: Sendable, Hashable {
    public var id: Int64
    /// "sale" or "registration".
    public var kind: String
    /// The sale's UUID or the registered card's number.
    public var refID: String
    public var sequence: Int64?
    /// The document's JSON, exactly as journalled.
    public var payload: String
    public var createdAt: Timestamp
    public var attempts: Int64

    public init(id: Int64, kind: String, refID: String, sequence: Int64?, payload: String, createdAt: Timestamp, attempts: Int64 = 0) {
        self.id = id
        self.kind = kind
        self.refID = refID
        self.sequence = sequence
        self.payload = payload
        self.createdAt = createdAt
        self.attempts = attempts
    }
}

/// The outbox at a glance, for the status bar and `till sync status`.
public struct OutboxSummary: Sendable, Hashable {
    public var pending: Int
    public var oldestPendingAt: Timestamp?
    public var rejected: Int
    public var lastAckAt: Timestamp?
}

/// A document head office refused, kept for the manager.
public struct RejectedDocument: Sendable, Hashable {
    public var kind: String
    public var refID: String
    public var sequence: Int64?
    public var reason: String
    public var at: Timestamp?
}

extension TillDatabase {
    /// The oldest pending documents, in the order they were written (a till's order).
    public func pendingOutbox(limit: Int) throws(TillStoreError) -> [OutboxEntry] {
        try run("read the outbox") {
            try pool.read { db in
                try Row.fetchAll(db.cachedStatement(sql: """
                    SELECT id, kind, ref_id, sequence, payload, created_at, attempts FROM outbox WHERE state = 'pending' ORDER BY id LIMIT ?
                    """), arguments: [limit]).map {
                    OutboxEntry(id: $0["id"], kind: $0["kind"], refID: $0["ref_id"], sequence: $0["sequence"], payload: $0["payload"],
                                createdAt: $0["created_at"], attempts: $0["attempts"])
                }
            }
        }
    }

    /// Counts a failed attempt to send these documents.
    public func recordSendAttempt(_ ids: [Int64], at time: Timestamp) throws(TillStoreError) {
        try run("record the send attempt") {
            try pool.write { db in
                let s = try db.cachedStatement(sql: "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ? WHERE id = ?")
                for id in ids { try s.execute(arguments: [time, id]) }
            }
        }
    }

    /// Applies head office's answers: accepted and duplicate documents are done (their points
    /// movements become confirmed and the cards take the confirmed balances); rejected ones stay
    /// in the outbox, marked, with the reason, for the manager. One transaction.
    public func recordAcks(_ results: [IngestResult], at time: Timestamp) throws(TillStoreError) {
        try run("record head office's answers") {
            try pool.write { db in
                let ack = try db.cachedStatement(sql: """
                    UPDATE outbox SET state = ?, acked_at = ?, ack_detail = ?, attempts = attempts + 1, last_attempt_at = ?
                    WHERE kind = ? AND ref_id = ? AND state = 'pending'
                    """)
                for r in results {
                    let state = r.status == .rejected ? "rejected" : "acked"
                    try ack.execute(arguments: [state, time, r.status == .rejected ? r.reason : r.status.rawValue, time, r.kind, r.id])
                    guard r.status != .rejected else { continue }
                    if r.kind == "sale" || r.kind == "refund" {
                        try db.execute(sql: "UPDATE loyalty_movement SET confirmed = 1 WHERE sale_id = ? AND confirmed = 0", arguments: [r.id])
                    } else if r.kind == "registration" {
                        try db.execute(sql: """
                            UPDATE loyalty_movement SET confirmed = 1 WHERE card_number = ? AND sale_id IS NULL AND kind = 'welcome' AND confirmed = 0
                            """, arguments: [r.id])
                    }
                    for c in r.cards { try Self.confirm(c, at: time, db: db) }
                }
            }
        }
    }

    /// Takes head office's balance for a card: the confirmed balance, tier and qualifying spend.
    static func confirm(_ c: CardBalance, status: String? = nil, at time: Timestamp, db: Database) throws {
        try db.execute(sql: """
            INSERT INTO card (number, status, confirmed_balance, confirmed_at, tier_code, qualifying) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(number) DO UPDATE SET confirmed_balance = excluded.confirmed_balance, confirmed_at = excluded.confirmed_at,
                tier_code = excluded.tier_code, qualifying = excluded.qualifying, status = COALESCE(?, card.status)
            """, arguments: [c.number, status ?? "active", c.balance, time, c.tierCode, c.qualifying, status])
    }

    /// A card's state from head office at a card scan: its balance includes the sales in
    /// `applied`, so their movements are confirmed here too.
    public func confirmCard(_ status: CardStatus, at time: Timestamp) throws(TillStoreError) {
        try run("update the card from head office") {
            try pool.write { db in
                for id in status.applied {
                    try db.execute(sql: "UPDATE loyalty_movement SET confirmed = 1 WHERE sale_id = ? AND confirmed = 0", arguments: [id])
                }
                try Self.confirm(status.card, status: status.status, at: time, db: db)
                if let by = status.replacedBy {
                    try db.execute(sql: "UPDATE card SET replaced_by = ? WHERE number = ?", arguments: [by, status.card.number])
                }
                // What expires soon, as of this balance (nothing: forget what was said before).
                let expiring = status.expiring.flatMap { try? JSONEncoder().encode($0) }.map { String(decoding: $0, as: UTF8.self) }
                try db.execute(sql: "UPDATE card SET expiring = ? WHERE number = ?", arguments: [expiring, status.card.number])
                let challenges = status.challenges.flatMap { try? JSONEncoder().encode($0) }.map { String(decoding: $0, as: UTF8.self) }
                try db.execute(sql: "UPDATE card SET challenges = ? WHERE number = ?", arguments: [challenges, status.card.number])
            }
        }
    }

    /// The sales of a card this till has not had acknowledged (to ask head office which it has).
    public func unacknowledgedSales(card: String) throws(TillStoreError) -> [String] {
        try run("read the card's unsent sales") {
            try pool.read { db in
                try String.fetchAll(db.cachedStatement(sql: """
                    SELECT s.id FROM sale s CROSS JOIN outbox o ON o.kind = 'sale' AND o.ref_id = s.id WHERE s.card_number = ? AND o.state = 'pending'
                    """), arguments: [card])
            }
        }
    }

    public func outboxSummary() throws(TillStoreError) -> OutboxSummary {
        try run("count the outbox") {
            try pool.read { db in
                let row = try Row.fetchOne(db, sql: """
                    SELECT (SELECT COUNT(*) FROM outbox WHERE state = 'pending') AS pending,
                           (SELECT MIN(created_at) FROM outbox WHERE state = 'pending') AS oldest,
                           (SELECT COUNT(*) FROM outbox WHERE state = 'rejected') AS rejected,
                           (SELECT MAX(acked_at) FROM outbox) AS last_ack
                    """)!
                return OutboxSummary(pending: row["pending"], oldestPendingAt: row["oldest"], rejected: row["rejected"], lastAckAt: row["last_ack"])
            }
        }
    }

    /// The documents head office refused, newest first.
    public func rejectedDocuments(limit: Int = 50) throws(TillStoreError) -> [RejectedDocument] {
        try run("read the rejected documents") {
            try pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT kind, ref_id, sequence, ack_detail, acked_at FROM outbox WHERE state = 'rejected' ORDER BY id DESC LIMIT ?
                    """, arguments: [limit]).map {
                    RejectedDocument(kind: $0["kind"], refID: $0["ref_id"], sequence: $0["sequence"], reason: $0["ack_detail"] ?? "", at: $0["acked_at"])
                }
            }
        }
    }

    /// Marks one document rejected (head office refused it as malformed), with the reason.
    public func markRejected(outboxID: Int64, reason: String, at time: Timestamp) throws(TillStoreError) {
        try run("record the rejected document") {
            try pool.write { db in
                try db.execute(sql: "UPDATE outbox SET state = 'rejected', ack_detail = ?, acked_at = ? WHERE id = ? AND state = 'pending'",
                               arguments: [reason, time, outboxID])
            }
        }
    }

    /// Puts rejected documents back in the queue (after head office fixed what refused them).
    @discardableResult
    public func retryRejected() throws(TillStoreError) -> Int {
        try run("requeue the rejected documents") {
            try pool.write { db in
                try db.execute(sql: "UPDATE outbox SET state = 'pending', ack_detail = NULL WHERE state = 'rejected'")
                return db.changesCount
            }
        }
    }
}
