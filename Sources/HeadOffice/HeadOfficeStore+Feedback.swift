import Foundation
import TillCore
import TillDocuments
import TillProtocol

/// What a survey gives: points once per receipt, answered within `days` of the sale.
public struct FeedbackSettings: Sendable, Equatable {
    public var points: Int64
    public var days: Int64
    public init(points: Int64 = 20, days: Int64 = 14) {
        self.points = points
        self.days = days
    }
}

/// A member's sale as its survey shows it.
public struct SurveySale: Sendable, Equatable {
    public var saleID: String, storeID: String, receiptNumber: String, completedAt: Int64, cardNumber: String
    public var answered: Bool
}

/// What a submitted survey did.
public enum FeedbackOutcome: Sendable, Equatable {
    case earned(Int64)
    /// Recorded, without points, and why.
    case recorded(String)
    case alreadyAnswered
}

/// One store's month of answers: promoters answered 9 or 10, detractors 0 to 6; the NPS is the
/// share of promoters less that of detractors, in points (-100 to 100).
public struct NPSRow: Sendable, Equatable {
    public var storeID: String, month: String, responses: Int64, promoters: Int64, passives: Int64, detractors: Int64
    public var nps: Int64 { responses == 0 ? 0 : (promoters - detractors) * 100 / responses }
}

public struct FeedbackComment: Sendable, Equatable {
    public var storeID: String, receiptNumber: String, nps: Int64, comment: String, at: Int64
}

/// Feedback (issue 18): the survey a member's receipt leads to (its QR holds the sale's id), the
/// points it earns once per receipt within N days, and the NPS by store and month with comments.
extension HeadOfficeStore {
    public static let maxFeedbackComment = 1_000

    public func feedbackSettings() throws -> FeedbackSettings {
        let d = FeedbackSettings(), saved = try wholeOptions(["feedback_points", "feedback_days"])
        return FeedbackSettings(points: saved["feedback_points"] ?? d.points, days: saved["feedback_days"] ?? d.days)
    }

    /// The settings kept as whole numbers in `options` that are set, by name.
    func wholeOptions(_ names: [String]) throws -> [String: Int64] {
        try database.read { c in
            var out: [String: Int64] = [:]
            for name in names { out[name] = (try c.queryOne("SELECT value FROM options WHERE name = ?", [.text(name)])?.text("value")).flatMap { Int64($0) } }
            return out
        }
    }

    /// Keeps settings as whole numbers in `options`, together.
    func saveWholeOptions(_ values: KeyValuePairs<String, Int64>) throws {
        try database.write { c in
            for (name, value) in values {
                try c.execute("INSERT INTO options (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", [.text(name), .text(String(value))])
            }
        }
    }

    public func saveFeedbackSettings(_ s: FeedbackSettings) throws {
        guard (0...100_000).contains(s.points) else { throw ChannelRefusal(422, "A survey earns 0 to 100,000 points (got \(s.points))") }
        guard (1...365).contains(s.days) else { throw ChannelRefusal(422, "A survey earns points when answered within 1 to 365 days of the sale (got \(s.days))") }
        try saveWholeOptions(["feedback_points": s.points, "feedback_days": s.days])
    }

    /// A sale's id as a survey link carries it: a UUID, in lower case.
    public static func surveyID(_ text: String) -> String? {
        guard DocumentGate.isUUID(text) else { return nil }
        return text.lowercased()
    }

    /// The member's sale a survey is for; nil for an id head office has no member's sale for (yet).
    public func surveySale(_ id: String) throws -> SurveySale? {
        guard let id = Self.surveyID(id) else { return nil }
        return try database.read { c in
            guard let r = try c.queryOne("""
                SELECT s.sale_id, s.store_id, s.receipt_number, s.completed_ms, s.card_number, f.sale_id AS answered
                FROM sales s LEFT JOIN feedback f ON f.sale_id = s.sale_id WHERE s.sale_id IN (?, ?) AND s.card_number IS NOT NULL
                """, [.text(id), .text(id.uppercased())]) else { return nil }
            return SurveySale(saleID: r.text("sale_id"), storeID: r.text("store_id"), receiptNumber: r.text("receipt_number"),
                              completedAt: r.int("completed_ms"), cardNumber: r.text("card_number"), answered: r["answered"].text != nil)
        }
    }

    /// Records a member's answer to their receipt's survey, once per receipt: the score (0 to 10)
    /// and a comment; it earns the settings' points when answered within their days of the sale,
    /// on the sale's card if it is still active.
    public func submitFeedback(saleID: String, nps: Int64, comment: String, at time: Int64 = HeadOfficeStore.now()) throws -> FeedbackOutcome {
        guard (0...10).contains(nps) else { throw ChannelRefusal(422, "Choose a score from 0 to 10") }
        // Counted as the API document counts it (code points), before trimming.
        guard comment.unicodeScalars.count <= Self.maxFeedbackComment else {
            throw ChannelRefusal(422, "The comment is \(comment.unicodeScalars.count) characters long: keep it to \(Self.maxFeedbackComment)")
        }
        let text = comment.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let sale = try surveySale(saleID) else { throw ChannelRefusal(404, "We have no member's receipt with this code") }
        let settings = try feedbackSettings()
        return try database.write { c in
            guard try c.execute("""
                INSERT INTO feedback (sale_id, store_id, card_number, customer_id, nps, comment, points, created_at)
                SELECT ?, ?, ?, (SELECT customer_id FROM cards WHERE number = ?), ?, ?, 0, ? WHERE NOT EXISTS (SELECT 1 FROM feedback WHERE sale_id = ?)
                """, [.text(sale.saleID), .text(sale.storeID), .text(sale.cardNumber), .text(sale.cardNumber), .int(nps), .text(text), .int(time),
                      .text(sale.saleID)]) == 1 else { return .alreadyAnswered }
            guard settings.points > 0 else { return .recorded("surveys earn no points now") }
            guard time - sale.completedAt <= settings.days * 86_400_000 else {
                return .recorded("points are given for answers within \(settings.days) days of the visit")
            }
            guard try c.queryOne("SELECT status FROM cards WHERE number = ?", [.text(sale.cardNumber)])?.text("status") == "active" else {
                return .recorded("the card of that visit is no longer in use")
            }
            try Self.moveByChannel(sale.cardNumber, points: settings.points, c, at: time)
            try c.execute("UPDATE feedback SET points = ? WHERE sale_id = ?", [.int(settings.points), .text(sale.saleID)])
            try c.execute("INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, created_at) VALUES (?, ?, 'earn', ?, 'feedback', ?, ?, ?)",
                          [.text(sale.cardNumber), .text(sale.saleID), .int(settings.points), .text("Thank you for your feedback (\(sale.receiptNumber))"),
                           .text(sale.storeID), .int(time)])
            try Self.emitMovement(sale.cardNumber, delta: settings.points, kind: "earn", source: "feedback", reference: sale.saleID, c, at: time)
            return .earned(settings.points)
        }
    }

    /// The NPS by store (one, or every store) and month (UTC) of the answers given from `from` to `to`.
    public func npsReport(store: String?, from: Int64, to: Int64) throws -> [NPSRow] {
        try database.read { c in
            try c.query("""
                SELECT store_id, created_at / 86400000 AS day, nps FROM feedback
                WHERE created_at >= ? AND created_at < ?\(store == nil ? "" : " AND store_id = ?")
                """, [.int(from), .int(to)] + (store.map { [SQLValue.text($0)] } ?? [])).reduce(into: [String: NPSRow]()) { rows, r in
                let (y, m, _) = LocalDateTime.civil(fromDays: r.int("day"))
                let month = "\(y)-\(m < 10 ? "0" : "")\(m)", key = r.text("store_id") + " " + month
                var row = rows[key] ?? NPSRow(storeID: r.text("store_id"), month: month, responses: 0, promoters: 0, passives: 0, detractors: 0)
                row.responses += 1
                switch r.int("nps") {
                case 9...10: row.promoters += 1
                case 7...8: row.passives += 1
                default: row.detractors += 1
                }
                rows[key] = row
            }.values.sorted { ($0.month, $0.storeID) > ($1.month, $1.storeID) }
        }
    }

    /// The newest comments (at most `limit`), of one store or all, containing `query` if given.
    public func feedbackComments(store: String?, query: String, limit: Int = 50) throws -> [FeedbackComment] {
        let q = query.trimmingCharacters(in: .whitespaces).prefix(100).lowercased()
        return try database.read { c in
            try c.query("""
                SELECT f.store_id, s.receipt_number, f.nps, f.comment, f.created_at FROM feedback f JOIN sales s ON s.sale_id = f.sale_id
                WHERE f.comment <> ''\(store == nil ? "" : " AND f.store_id = ?")\(q.isEmpty ? "" : " AND LOWER(f.comment) LIKE ? ESCAPE '\\'")
                ORDER BY f.created_at DESC LIMIT ?
                """, (store.map { [SQLValue.text($0)] } ?? []) + (q.isEmpty ? [] : [.text("%" + Self.likeEscaped(String(q)) + "%")]) + [.int(Int64(limit))]).map {
                FeedbackComment(storeID: $0.text("store_id"), receiptNumber: $0.text("receipt_number"), nps: $0.int("nps"), comment: $0.text("comment"),
                                at: $0.int("created_at"))
            }
        }
    }

    static func likeEscaped(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }
}
