import Foundation
import Synchronization
public import TillCore
public import TillDocuments
public import TillProtocol

/// A till as head office knows it, once its credential checked out.
public struct TillCredential: Sendable, Hashable {
    public var storeID: String
    public var tillID: String
    public init(storeID: String, tillID: String) {
        self.storeID = storeID
        self.tillID = tillID
    }
    public var name: String { "\(storeID)/\(tillID)" }
}

/// Why a batch was refused as a whole (nothing in it was applied): an HTTP status and a message.
public struct IngestRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var message: String
    public var documentID: String?
    public init(status: Int, message: String, documentID: String? = nil) {
        self.status = status
        self.message = message
        self.documentID = documentID
    }
    public var description: String { message }
}

/// Head office's data: tills and their credentials, sales applied exactly once, the loyalty
/// ledger (appended, never overwritten), customers and cards, programme versions, and what
/// ingest reports (sequence gaps, discrepancies, exceptions, rejects). The same code runs on
/// SQLite and on PostgreSQL.
public final class HeadOfficeStore: Sendable {
    public let database: any SQLDatabase
    private let programmes = Mutex<[String: LoyaltyProgramme]>([:])

    public init(database: any SQLDatabase) throws {
        self.database = database
        try Schema.migrate(database)
    }

    public static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    // MARK: - Programmes

    /// Keeps a programme version, so sales computed with it can be checked.
    public func importProgramme(_ p: LoyaltyProgramme) throws {
        let json = String(decoding: try JSONEncoder().encode(p), as: UTF8.self)
        try database.write { c in
            try c.execute("""
                INSERT INTO programmes (version, json, imported_at) VALUES (?, ?, ?)
                ON CONFLICT (version) DO UPDATE SET json = excluded.json, imported_at = excluded.imported_at
                """, [.text(p.version), .text(json), .int(Self.now())])
        }
        programmes.withLock { $0[p.version] = p }
    }

    /// A programme version head office holds, if any.
    public func programme(version: String) throws -> LoyaltyProgramme? {
        if let p = programmes.withLock({ $0[version] }) { return p }
        let json = try database.read { c in try c.queryOne("SELECT json FROM programmes WHERE version = ?", [.text(version)])?.text("json") }
        guard let json, let p = try? JSONDecoder().decode(LoyaltyProgramme.self, from: Data(json.utf8)) else { return nil }
        programmes.withLock { $0[version] = p }
        return p
    }

    /// The newest programme (by import time), for tiers of cards head office loads itself.
    public func latestProgramme() throws -> LoyaltyProgramme? {
        let version = try database.read { c in
            try c.queryOne("SELECT version FROM programmes ORDER BY imported_at DESC, version DESC LIMIT 1", [])?.text("version")
        }
        return try version.flatMap(programme(version:))
    }

    // MARK: - Ingest

    /// Applies a batch from a till: every document atomically and at most once (by sale UUID, or
    /// registration card number). Documents that are malformed refuse the whole batch, with
    /// nothing applied; documents head office cannot apply (a sequence number used by another
    /// sale) are rejected one by one, with the reason, and kept in `rejects`.
    /// `rawSales`: for each document, the JSON of its sale exactly as received (stored as is);
    /// nil: the decoded document is encoded again.
    public func ingest(_ batch: IngestBatch, rawSales: [String?]? = nil, from till: TillCredential, at time: Int64? = nil) throws -> IngestResponse {
        let received = time ?? Self.now()
        guard batch.storeID == till.storeID, batch.tillID == till.tillID else {
            throw IngestRefusal(status: 403, message: "This credential is till \(till.name); the batch says \(batch.storeID)/\(batch.tillID): a till submits only as itself")
        }
        guard batch.documents.count <= 5_000 else {
            throw IngestRefusal(status: 413, message: "\(batch.documents.count) documents in one batch: send at most 5000")
        }
        // Check everything before applying anything.
        var prepared: [Prepared] = []
        prepared.reserveCapacity(batch.documents.count)
        let raw = rawSales?.count == batch.documents.count ? rawSales : nil
        for (i, d) in batch.documents.enumerated() { prepared.append(try prepare(d, raw: raw?[i], till: till)) }

        let results = try database.write { c -> [IngestResult] in
            var results: [IngestResult] = []
            results.reserveCapacity(prepared.count)
            var mark = TillMark()
            for p in prepared {
                switch p {
                case .sale(let doc, let sale, let json, let check): results.append(try applySale(doc, sale, json, check, till: till, at: received, c, mark: &mark))
                case .registration(let doc): results.append(try applyRegistration(doc, till: till, at: received, c))
                case .refund(let doc, let json): results.append(try applyRefund(doc, json, till: till, at: received, c))
                case .zreport(let doc, let json): results.append(try applyZReport(doc, json, id: ZReportSummary.documentID(storeID: doc.storeID, tillID: doc.tillID, number: doc.number), till: till, at: received, c))
                }
            }
            try c.execute("""
                UPDATE tills SET last_seen = ?, max_sequence = CASE WHEN max_sequence < ? THEN ? ELSE max_sequence END,
                    last_lag_ms = COALESCE(?, last_lag_ms), sales_count = sales_count + ? WHERE store_id = ? AND till_id = ?
                """, [.int(received), .int(mark.maxSequence), .int(mark.maxSequence), SQLValue(mark.lastLag), .int(mark.count),
                      .text(till.storeID), .text(till.tillID)])
            try advanceContiguous(till, c)
            return results
        }
        return IngestResponse(results: results, gaps: try gaps(of: till))
    }

    /// What a batch moves in its till's row: the highest sequence received, the last sale's lag.
    struct TillMark {
        var maxSequence: Int64 = 0
        var lastLag: Int64?
        var count: Int64 = 0
        mutating func accepted(sequence: Int64, lag: Int64) {
            maxSequence = max(maxSequence, sequence)
            lastLag = lag
            count += 1
        }
    }

    enum Prepared {
        case sale(SaleDocument, CompletedSale, String, AwardCheck?)
        case registration(RegistrationDocument)
        case refund(RefundDocument, String)
        case zreport(ZReportSummary, String)
    }

    private func prepare(_ d: OutboxDocument, raw: String?, till: TillCredential) throws -> Prepared {
        func refuse(_ message: String, status: Int = 422) -> IngestRefusal {
            IngestRefusal(status: status, message: "Document \(d.kind) \(d.id): \(message)", documentID: d.id)
        }
        switch d.kind {
        case "sale":
            guard let doc = d.sale else { throw refuse("a sale document needs its 'sale'") }
            guard doc.saleID == d.id else { throw refuse("the id is not the sale's saleID \(doc.saleID)") }
            guard doc.storeID == till.storeID, doc.tillID == till.tillID else {
                throw refuse("it is a sale of till \(doc.storeID)/\(doc.tillID); this credential is till \(till.name)", status: 403)
            }
            if let problem = doc.problem() { throw refuse(problem) }
            let sale: CompletedSale
            do { sale = try CompletedSale(document: doc, storeName: nil) } catch { throw refuse("\(error)") }
            let json = try raw ?? String(decoding: JSONEncoder().encode(doc), as: UTF8.self)
            return .sale(doc, sale, json, try checkAward(doc, sale))
        case "registration":
            guard let doc = d.registration else { throw refuse("a registration document needs its 'registration'") }
            guard doc.storeID == till.storeID, doc.tillID == till.tillID else {
                throw refuse("it is a registration of till \(doc.storeID)/\(doc.tillID); this credential is till \(till.name)", status: 403)
            }
            let r = doc.registration
            guard r.cardNumber == d.id, !r.cardNumber.isEmpty, r.cardNumber.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw refuse("registration.cardNumber '\(r.cardNumber)' must be the document's id, in digits")
            }
            do {
                _ = try Registration.make(
                    cardNumber: r.cardNumber, firstName: r.firstName, lastName: r.lastName, phone: r.phone ?? "", email: r.email ?? "",
                    postcode: r.postcode ?? "", birthDate: r.birthDate ?? "", marketingConsent: r.marketingConsent, at: 0)
            } catch { throw refuse("\(error)") }
            if doc.welcome.contains(where: { $0.points < 0 }) { throw refuse("welcome points must not be negative") }
            return .registration(doc)
        case "refund":
            guard let doc = d.refund else { throw refuse("a refund document needs its 'refund'") }
            guard doc.refundID == d.id else { throw refuse("the id is not the refund's refundID \(doc.refundID)") }
            guard doc.storeID == till.storeID, doc.tillID == till.tillID else {
                throw refuse("it is a refund of till \(doc.storeID)/\(doc.tillID); this credential is till \(till.name)", status: 403)
            }
            guard doc.total >= 0, doc.lines.allSatisfy({ $0.amount >= 0 && $0.quantityMilli > 0 }), doc.tenders.allSatisfy({ $0.amount >= 0 }) else {
                throw refuse("refund amounts and quantities must not be negative")
            }
            if let l = doc.loyalty, l.pointsTakenBack < 0 || l.pointsRestored < 0 { throw refuse("refund points must not be negative") }
            return .refund(doc, String(decoding: try JSONEncoder().encode(doc), as: UTF8.self))
        case "zreport":
            guard let doc = d.zreport else { throw refuse("a zreport document needs its 'zreport'") }
            guard doc.storeID == till.storeID, doc.tillID == till.tillID else {
                throw refuse("it is a Z report of till \(doc.storeID)/\(doc.tillID); this credential is till \(till.name)", status: 403)
            }
            guard ZReportSummary.documentID(storeID: doc.storeID, tillID: doc.tillID, number: doc.number) == d.id, doc.kind == "Z" else {
                throw refuse("the id must be \(ZReportSummary.documentID(storeID: doc.storeID, tillID: doc.tillID, number: doc.number)) for Z report \(doc.number)")
            }
            return .zreport(doc, String(decoding: try JSONEncoder().encode(doc), as: UTF8.self))
        default:
            throw refuse("kind '\(d.kind)' must be sale, registration, refund or zreport")
        }
    }

    /// A refund: kept, and its points (taken back, given back) on the card's ledger, once.
    private func applyRefund(_ doc: RefundDocument, _ json: String, till: TillCredential, at received: Int64, _ c: any SQLConnection) throws -> IngestResult {
        let card = doc.loyalty?.cardNumber
        if try c.queryOne("SELECT refund_id FROM refunds WHERE refund_id = ?", [.text(doc.refundID)]) != nil {
            return IngestResult(kind: "refund", id: doc.refundID, status: .duplicate, reason: "already applied", cards: try balances([card], c))
        }
        let l = doc.loyalty
        try c.execute("""
            INSERT INTO refunds (refund_id, store_id, till_id, sequence, receipt_number, original_sale_id, card_number, total,
                points_taken_back, points_restored, document, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(doc.refundID), .text(doc.storeID), .text(doc.tillID), .int(doc.sequence), .text(doc.receiptNumber),
                  SQLValue(doc.originalSaleID), SQLValue(card), .int(doc.total), .int(l?.pointsTakenBack ?? 0), .int(l?.pointsRestored ?? 0),
                  .text(json), .int(received)])
        try checkReturnedOnce(doc, till: till, at: received, c)
        guard let l, l.pointsTakenBack > 0 || l.pointsRestored > 0 else {
            return IngestResult(kind: "refund", id: doc.refundID, status: .accepted, cards: try balances([card], c))
        }
        for (kind, points, label) in [("return-earn", -l.pointsTakenBack, "Points of returned items"), ("return-redeem", l.pointsRestored, "Redeemed points given back")]
        where points != 0 {
            try c.execute("""
                INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, till_id, created_at)
                VALUES (?, ?, ?, ?, 'return', ?, ?, ?, ?)
                """, [.text(l.cardNumber), .text(doc.refundID), .text(kind), .int(points), .text(label), .text(till.storeID), .text(till.tillID), .int(received)])
        }
        let delta = l.pointsRestored - l.pointsTakenBack
        try c.execute("""
            INSERT INTO cards (number, customer_id, status, balance, qualifying) VALUES (?, NULL, 'active', 0, 0) ON CONFLICT (number) DO NOTHING
            """, [.text(l.cardNumber)])
        try c.execute("UPDATE cards SET balance = balance + ?, updated_at = ? WHERE number = ?", [.int(delta), .int(received), .text(l.cardNumber)])
        if let b = try c.queryOne("SELECT balance FROM cards WHERE number = ?", [.text(l.cardNumber)])?.int("balance"), b < 0 {
            try c.execute("""
                INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('overdraft', ?, ?, ?, ?, ?, ?)
                """, [.text(l.cardNumber), .text(doc.refundID), .text(till.storeID), .text(till.tillID),
                      .text("Refund \(doc.receiptNumber) took back \(l.pointsTakenBack) points the card had already spent: balance \(b)"), .int(received)])
        }
        return IngestResult(kind: "refund", id: doc.refundID, status: .accepted, cards: try balances([card], c))
    }

    /// Two tills that refunded the same line while offline: the money has been given, so the refund
    /// stands, and the double return is recorded as an exception for the store to follow up.
    private func checkReturnedOnce(_ doc: RefundDocument, till: TillCredential, at received: Int64, _ c: any SQLConnection) throws {
        guard let original = doc.originalSaleID,
              let json = try c.queryOne("SELECT document FROM sales WHERE sale_id = ?", [.text(original)])?["document"].text,
              let sale = try? JSONDecoder().decode(SaleDocument.self, from: Data(json.utf8)) else { return }
        var returned: [Int: Int64] = [:]
        for row in try c.query("SELECT document FROM refunds WHERE original_sale_id = ?", [.text(original)]) {
            guard let r = row["document"].text.flatMap({ try? JSONDecoder().decode(RefundDocument.self, from: Data($0.utf8)) }) else { continue }
            for l in r.lines { returned[l.lineNumber, default: 0] += l.quantityMilli }
        }
        for line in sale.lines where (returned[line.lineNumber] ?? 0) > line.quantityMilli {
            try c.execute("""
                INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('double-return', ?, ?, ?, ?, ?, ?)
                """, [SQLValue(doc.loyalty?.cardNumber), .text(original), .text(till.storeID), .text(till.tillID),
                      .text("Line \(line.lineNumber) (\(line.description)) of receipt \(sale.receiptNumber) has been refunded for \(Quantity(milli: returned[line.lineNumber] ?? 0)) but \(Quantity(milli: line.quantityMilli)) were sold (refund \(doc.receiptNumber))"),
                      .int(received)])
        }
    }

    /// A sale of the till's store by receipt number, with the refunds head office has of it, for a
    /// return at any till of the store. Nil: head office does not have it.
    public func saleForReturn(receipt: String, store: String) throws -> SaleForReturn? {
        try database.read { c in
            guard let json = try c.queryOne("SELECT document FROM sales WHERE receipt_number = ? AND store_id = ?", [.text(receipt), .text(store)])?["document"].text
            else { return nil }
            let sale = try JSONDecoder().decode(SaleDocument.self, from: Data(json.utf8))
            let refunds = try c.query("SELECT document FROM refunds WHERE original_sale_id = ?", [.text(sale.saleID)]).compactMap {
                $0["document"].text.flatMap { try? JSONDecoder().decode(RefundDocument.self, from: Data($0.utf8)) }
            }
            return SaleForReturn(sale: sale, refunds: refunds)
        }
    }

    /// A till's Z report, kept as sent, once.
    private func applyZReport(_ doc: ZReportSummary, _ json: String, id: String, till: TillCredential, at received: Int64, _ c: any SQLConnection) throws -> IngestResult {
        if try c.queryOne("SELECT document_id FROM z_reports WHERE document_id = ?", [.text(id)]) != nil {
            return IngestResult(kind: "zreport", id: id, status: .duplicate, reason: "already received")
        }
        try c.execute("""
            INSERT INTO z_reports (document_id, store_id, till_id, number, period_from, period_to, sales_count, net_sales, document, received_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(id), .text(doc.storeID), .text(doc.tillID), .int(doc.number), .int(doc.from), .int(doc.to), .int(doc.salesCount),
                  .int(doc.netSales), .text(json), .int(received)])
        return IngestResult(kind: "zreport", id: id, status: .accepted)
    }

    private func applySale(_ doc: SaleDocument, _ sale: CompletedSale, _ json: String, _ check: AwardCheck?, till: TillCredential, at received: Int64,
                           _ c: any SQLConnection, mark: inout TillMark) throws -> IngestResult {
        let card = doc.loyalty?.cardNumber
        let redeemedValue = doc.loyalty?.redeemedValue ?? 0
        // Insert first: the usual case is one statement. Nothing inserted means this sale or its
        // sequence number is already there.
        let inserted = try c.execute("""
            INSERT INTO sales (sale_id, store_id, till_id, sequence, receipt_number, completed_at, completed_ms, total, currency,
                card_number, loyalty_spend, document, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT DO NOTHING
            """, [.text(doc.saleID), .text(till.storeID), .text(till.tillID), .int(doc.sequence), .text(doc.receiptNumber),
                  .text(doc.completedAt), .int(sale.completedAt), .int(doc.totals.total), .text(doc.currency), SQLValue(card),
                  .int(card == nil ? 0 : max(0, doc.totals.total - redeemedValue)), .text(json), .int(received)])
        if inserted == 0 {
            if try c.queryOne("SELECT sale_id FROM sales WHERE sale_id = ?", [.text(doc.saleID)]) != nil {
                return IngestResult(kind: "sale", id: doc.saleID, status: .duplicate, reason: "already applied", cards: try balances([card], c))
            }
            let other = try c.queryOne("SELECT sale_id FROM sales WHERE store_id = ? AND till_id = ? AND sequence = ?",
                                       [.text(till.storeID), .text(till.tillID), .int(doc.sequence)])?.text("sale_id") ?? "?"
            let reason = "sequence \(doc.sequence) of till \(till.name) is already sale \(other)"
            try c.execute("INSERT INTO rejects (document_id, kind, store_id, till_id, reason, received_at) VALUES (?, 'sale', ?, ?, ?, ?)",
                          [.text(doc.saleID), .text(till.storeID), .text(till.tillID), .text(reason), .int(received)])
            return IngestResult(kind: "sale", id: doc.saleID, status: .rejected, reason: reason)
        }
        mark.accepted(sequence: doc.sequence, lag: max(0, received - sale.completedAt))
        guard let l = doc.loyalty, let outcome = sale.loyalty else {
            return IngestResult(kind: "sale", id: doc.saleID, status: .accepted)
        }
        if let r = l.registration {
            try insertRegistration(r, saleID: doc.saleID, till: till, at: received, c)
        }
        var movements: [(String, Int64, String, String)] = []
        for p in l.welcome { movements.append(("welcome", p.points, p.rule, p.label)) }
        for p in l.earned where p.points != 0 { movements.append(("earn", p.points, p.rule, p.label)) }
        if l.redeemed > 0 { movements.append(("redeem", -l.redeemed, "redeem", "Points redeemed")) }
        let delta = movements.reduce(0) { $0 + $1.1 }
        let programme = try programme(version: l.programmeVersion)
        let spend = max(0, doc.totals.total - l.redeemedValue)
        let qualifyingDelta = programme?.tierQualification.basis == .points ? outcome.earned.total : spend
        let update = "UPDATE cards SET balance = balance + ?, qualifying = qualifying + ?, updated_at = ? WHERE number = ? RETURNING balance, qualifying, status, tier_code"
        let updateArguments: [SQLValue] = [.int(delta), .int(qualifyingDelta), .int(received), .text(l.cardNumber)]
        var updated = try c.queryOne(update, updateArguments)
        if updated == nil {
            try c.execute("INSERT INTO cards (number, status, balance, qualifying) VALUES (?, 'active', 0, 0) ON CONFLICT (number) DO NOTHING",
                          [.text(l.cardNumber)])
            try c.execute("""
                INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('unknown-card', ?, ?, ?, ?, ?, ?)
                """, [.text(l.cardNumber), .text(doc.saleID), .text(till.storeID), .text(till.tillID),
                      .text("Sale \(doc.receiptNumber) used card \(LoyaltyCardNumber.masked(l.cardNumber)), which head office did not have: it starts from 0 here (load the cards with headoffice cards import)"),
                      .int(received)])
            updated = try c.queryOne(update, updateArguments)
        }
        guard let row = updated else { throw SQLError("card \(l.cardNumber) vanished while applying sale \(doc.saleID)") }
        // The movements, appended in one statement.
        if !movements.isEmpty {
            let values = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: movements.count).joined(separator: ", ")
            var arguments: [SQLValue] = []
            arguments.reserveCapacity(movements.count * 9)
            for m in movements {
                arguments += [.text(l.cardNumber), .text(doc.saleID), .text(m.0), .int(m.1), .text(m.2), .text(m.3), .text(till.storeID),
                              .text(till.tillID), .int(received)]
            }
            try c.execute("INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, till_id, created_at) VALUES " + values, arguments)
        }
        let balance = row.int("balance"), qualifying = row.int("qualifying")
        let tier = programme?.tier(for: qualifying)?.code
        if let tier, tier != row["tier_code"].text {
            try c.execute("UPDATE cards SET tier_code = ? WHERE number = ?", [.text(tier), .text(l.cardNumber)])
        }
        if l.redeemed > 0 && balance < 0 {
            try c.execute("""
                INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('overdraft', ?, ?, ?, ?, ?, ?)
                """, [.text(l.cardNumber), .text(doc.saleID), .text(till.storeID), .text(till.tillID),
                      .text("Sale \(doc.receiptNumber) redeemed \(l.redeemed) points; the card's balance is now \(balance): the same points were redeemed elsewhere while offline"),
                      .int(received)])
        }
        if row.text("status") != "active" {
            try c.execute("""
                INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('card-status', ?, ?, ?, ?, ?, ?)
                """, [.text(l.cardNumber), .text(doc.saleID), .text(till.storeID), .text(till.tillID),
                      .text("Sale \(doc.receiptNumber) used card \(LoyaltyCardNumber.masked(l.cardNumber)), which head office has as \(row.text("status"))"),
                      .int(received)])
        }
        // The till's points stand (the customer was told them); a different recomputation is reported.
        if let check {
            try c.execute("""
                INSERT INTO discrepancies (sale_id, card_number, kind, detail, till_points, head_office_points, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.text(doc.saleID), .text(l.cardNumber), .text(check.kind), .text(check.detail), .int(check.tillPoints),
                      SQLValue(check.headOfficePoints), .int(received)])
        }
        return IngestResult(kind: "sale", id: doc.saleID, status: .accepted,
                            cards: [CardBalance(number: l.cardNumber, balance: balance, tierCode: tier, qualifying: qualifying)])
    }

    /// A discrepancy to record if the sale is applied: what head office's recomputation says.
    struct AwardCheck {
        var kind: String
        var detail: String
        var tillPoints: Int64
        var headOfficePoints: Int64?
    }

    /// Recomputes the points with the programme version the till used (before the write
    /// transaction: it is the costly part); nil when they agree.
    private func checkAward(_ doc: SaleDocument, _ sale: CompletedSale) throws -> AwardCheck? {
        guard let l = doc.loyalty, let outcome = sale.loyalty else { return nil }
        let tillPoints = l.earned.reduce(0) { $0 + $1.points }
        guard let programme = try programme(version: l.programmeVersion) else {
            return AwardCheck(kind: "unknown-programme",
                              detail: "Programme version \(l.programmeVersion) is not at head office: the points were not checked (import it with headoffice programme import)",
                              tillPoints: tillPoints, headOfficePoints: nil)
        }
        let award = programme.award(for: sale.basket, context: outcome.context)
        let mine = award.parts.filter { $0.points != 0 }.map { "\($0.rule)=\($0.points)" }
        let theirs = l.earned.filter { $0.points != 0 }.map { "\($0.rule)=\($0.points)" }
        guard mine != theirs else { return nil }
        return AwardCheck(kind: "points",
                          detail: "Sale \(doc.receiptNumber): the till awarded \(theirs.joined(separator: ", ")); programme \(programme.version) gives \(mine.joined(separator: ", "))",
                          tillPoints: tillPoints, headOfficePoints: award.total)
    }

    private func insertRegistration(_ r: SaleDocument.RegistrationInfo, saleID: String?, till: TillCredential, at received: Int64,
                                    _ c: any SQLConnection) throws {
        let inserted = try c.execute("""
            INSERT INTO registrations (card_number, customer_id, store_id, till_id, sale_id, received_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (card_number) DO NOTHING
            """, [.text(r.cardNumber), .text(r.cardNumber), .text(till.storeID), .text(till.tillID), SQLValue(saleID), .int(received)])
        if inserted == 0 {
            try c.execute("""
                INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('registration', ?, ?, ?, ?, ?, ?)
                """, [.text(r.cardNumber), SQLValue(saleID), .text(till.storeID), .text(till.tillID),
                      .text("Card \(LoyaltyCardNumber.masked(r.cardNumber)) was registered again (to \(r.firstName) \(r.lastName)): the first registration stands"),
                      .int(received)])
            return
        }
        try c.execute("""
            INSERT INTO customers (id, first_name, last_name, phone, email, postcode, birth_date, marketing_consent, registered_at, store_id, till_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
            """, [.text(r.cardNumber), .text(r.firstName), .text(r.lastName), SQLValue(r.phone), SQLValue(r.email), SQLValue(r.postcode),
                  SQLValue(r.birthDate), SQLValue(r.marketingConsent), .text(r.registeredAt), .text(till.storeID), .text(till.tillID)])
        try c.execute("""
            INSERT INTO cards (number, customer_id, status, balance, qualifying) VALUES (?, ?, 'active', 0, 0)
            ON CONFLICT (number) DO UPDATE SET customer_id = excluded.customer_id, status = 'active'
            """, [.text(r.cardNumber), .text(r.cardNumber)])
    }

    private func applyRegistration(_ doc: RegistrationDocument, till: TillCredential, at received: Int64, _ c: any SQLConnection) throws -> IngestResult {
        let card = doc.registration.cardNumber
        if try c.queryOne("SELECT card_number FROM registrations WHERE card_number = ?", [.text(card)]) != nil {
            return IngestResult(kind: "registration", id: card, status: .duplicate, reason: "already registered", cards: try balances([card], c))
        }
        try insertRegistration(doc.registration, saleID: nil, till: till, at: received, c)
        let welcome = doc.welcome.reduce(0) { $0 + $1.points }
        for p in doc.welcome {
            try c.execute("""
                INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, till_id, created_at)
                VALUES (?, NULL, 'welcome', ?, ?, ?, ?, ?, ?)
                """, [.text(card), .int(p.points), .text(p.rule), .text(p.label), .text(till.storeID), .text(till.tillID), .int(received)])
        }
        try c.execute("UPDATE cards SET balance = balance + ?, updated_at = ? WHERE number = ?", [.int(welcome), .int(received), .text(card)])
        return IngestResult(kind: "registration", id: card, status: .accepted, cards: try balances([card], c))
    }

    private func balances(_ cards: [String?], _ c: any SQLConnection) throws -> [CardBalance] {
        try cards.compactMap { $0 }.compactMap { number in
            try c.queryOne("SELECT balance, qualifying, tier_code FROM cards WHERE number = ?", [.text(number)]).map {
                CardBalance(number: number, balance: $0.int("balance"), tierCode: $0["tier_code"].text, qualifying: $0.int("qualifying"))
            }
        }
    }

    /// Moves the till's "received everything up to" mark over sales that arrived.
    private func advanceContiguous(_ till: TillCredential, _ c: any SQLConnection) throws {
        guard let row = try c.queryOne("SELECT contiguous_through, max_sequence FROM tills WHERE store_id = ? AND till_id = ?",
                                       [.text(till.storeID), .text(till.tillID)]) else { return }
        var through = row.int("contiguous_through")
        let max = row.int("max_sequence")
        guard through < max else { return }
        let next = try c.query("""
            SELECT sequence FROM sales WHERE store_id = ? AND till_id = ? AND sequence > ? ORDER BY sequence LIMIT 100000
            """, [.text(till.storeID), .text(till.tillID), .int(through)])
        for r in next {
            if r.int("sequence") == through + 1 { through += 1 } else { break }
        }
        try c.execute("UPDATE tills SET contiguous_through = ? WHERE store_id = ? AND till_id = ?",
                      [.int(through), .text(till.storeID), .text(till.tillID)])
    }

    /// The sequence numbers of a till head office has not received (below the highest it has).
    public func gaps(of till: TillCredential, limit: Int = 100) throws -> [SequenceGap] {
        try database.read { c in
            guard let row = try c.queryOne("SELECT contiguous_through, max_sequence FROM tills WHERE store_id = ? AND till_id = ?",
                                           [.text(till.storeID), .text(till.tillID)]) else { return [] }
            var expected = row.int("contiguous_through") + 1
            let max = row.int("max_sequence")
            guard expected <= max else { return [] }
            var gaps: [SequenceGap] = []
            for r in try c.query("SELECT sequence FROM sales WHERE store_id = ? AND till_id = ? AND sequence >= ? ORDER BY sequence",
                                 [.text(till.storeID), .text(till.tillID), .int(expected)]) {
                let s = r.int("sequence")
                if s > expected {
                    gaps.append(SequenceGap(from: expected, to: s - 1))
                    if gaps.count >= limit { break }
                }
                expected = s + 1
            }
            return gaps
        }
    }

    // MARK: - Cards

    /// A card's authoritative state, and which of `pending` (sale UUIDs) head office has applied.
    public func cardStatus(_ number: String, pending: [String]) throws -> CardStatus? {
        try database.read { c in
            guard let row = try c.queryOne("""
                SELECT c.balance, c.qualifying, c.tier_code, c.status, cu.first_name, cu.last_name
                FROM cards c LEFT JOIN customers cu ON cu.id = c.customer_id WHERE c.number = ?
                """, [.text(number)]) else { return nil }
            var applied: [String] = []
            for id in pending.prefix(200) where try c.queryOne("SELECT sale_id FROM sales WHERE sale_id = ?", [.text(id)]) != nil {
                applied.append(id)
            }
            let name = [row["first_name"].text, row["last_name"].text].compactMap { $0 }.joined(separator: " ")
            return CardStatus(
                card: CardBalance(number: number, balance: row.int("balance"), tierCode: row["tier_code"].text, qualifying: row.int("qualifying")),
                status: row.text("status"), customerName: name.isEmpty ? nil : name, applied: applied)
        }
    }

    /// Loads cards (and their members) with opening balances, each balance an `opening` movement
    /// of the ledger so that a balance is always the sum of its movements. All or nothing.
    public func importCards(_ cards: [CardRecord], at time: Int64? = nil) throws {
        let now = time ?? Self.now()
        let programme = try latestProgramme()
        // The last record of a card (or customer) wins, as if loaded one by one.
        var byNumber: [String: Int] = [:]
        for (i, card) in cards.enumerated() { byNumber[card.number] = i }
        let unique = cards.indices.filter { byNumber[cards[$0].number] == $0 }.map { cards[$0] }
        try database.write { c in
            for chunk in stride(from: 0, to: unique.count, by: Self.rowsPerStatement).map({ unique[$0..<min(unique.count, $0 + Self.rowsPerStatement)] }) {
                let numbers = chunk.map { SQLValue.text($0.number) }
                var previous: [String: Int64] = [:]
                for row in try c.query("SELECT number, balance FROM cards WHERE number IN (\(Self.placeholders(chunk.count)))", numbers) {
                    previous[row.text("number")] = row.int("balance")
                }
                var customers: [String: [SQLValue]] = [:]
                for card in chunk {
                    guard let m = card.member, let id = card.customerID else { continue }
                    customers[id] = [.text(id), .text(m.firstName), .text(m.lastName), SQLValue(m.phone), SQLValue(m.email), SQLValue(m.postcode),
                                     SQLValue(m.birthDate), SQLValue(m.marketingConsent), .text(ProtocolTime.format(m.registeredAt, timeZone: .gmt))]
                }
                try Self.insertRows(c, """
                    INSERT INTO customers (id, first_name, last_name, phone, email, postcode, birth_date, marketing_consent, registered_at)
                    """, Array(customers.values), suffix: """
                    ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name, phone = excluded.phone,
                        email = excluded.email, postcode = excluded.postcode, birth_date = excluded.birth_date,
                        marketing_consent = excluded.marketing_consent
                    """)
                try Self.insertRows(c, "INSERT INTO cards (number, customer_id, status, balance, qualifying, tier_code, updated_at)", chunk.map { card in
                    [.text(card.number), SQLValue(card.customerID), .text(card.status), .int(card.balance), .int(card.qualifying),
                     SQLValue(card.tierCode ?? programme?.tier(for: card.qualifying)?.code), .int(now)]
                }, suffix: """
                    ON CONFLICT (number) DO UPDATE SET customer_id = excluded.customer_id, status = excluded.status, balance = excluded.balance,
                        qualifying = excluded.qualifying, tier_code = excluded.tier_code, updated_at = excluded.updated_at
                    """)
                let openings: [[SQLValue]] = chunk.compactMap { card in
                    let delta = card.balance - (previous[card.number] ?? 0)
                    return delta == 0 ? nil : [.text(card.number), .int(delta), .text("Balance loaded"), .int(now)]
                }
                try Self.insertRows(c, "INSERT INTO ledger (card_number, kind, points, rule, label, created_at)", openings,
                                    values: "(?, 'opening', ?, 'opening', ?, ?)")
            }
        }
    }

    /// Rows per multi-row statement when loading (well inside both databases' parameter limits).
    static let rowsPerStatement = 500

    static func placeholders(_ n: Int) -> String { Array(repeating: "?", count: n).joined(separator: ", ") }

    /// `INSERT … VALUES (…), (…), … suffix`, `rowsPerStatement` rows at a time.
    static func insertRows(_ c: any SQLConnection, _ insert: String, _ rows: [[SQLValue]], values: String? = nil, suffix: String = "") throws {
        guard let width = rows.first?.count else { return }
        let one = values ?? "(" + placeholders(width) + ")"
        for start in stride(from: 0, to: rows.count, by: rowsPerStatement) {
            let chunk = rows[start..<min(rows.count, start + rowsPerStatement)]
            let sql = insert + " VALUES " + Array(repeating: one, count: chunk.count).joined(separator: ", ") + " " + suffix
            try c.execute(sql, Array(chunk.joined()))
        }
    }

    /// Products for head office's catalog (prices are published to tills by the back office).
    public func importProducts(_ products: [Product]) throws {
        var bySKU: [String: Int] = [:]
        for (i, p) in products.enumerated() { bySKU[p.sku] = i }
        let rows: [[SQLValue]] = products.indices.filter { bySKU[products[$0].sku] == $0 }.map { i in
            let p = products[i]
            return [.text(p.sku), .text(p.description), .int(p.unitPrice), .text(p.taxCode), .text(p.category),
                    .text(p.barcodes.joined(separator: "|")), SQLValue(p.plu), SQLValue(p.soldByWeight)]
        }
        try database.write { c in
            try Self.insertRows(c, "INSERT INTO products (sku, description, unit_price, tax_code, category, barcodes, plu, sold_by_weight)", rows, suffix: """
                ON CONFLICT (sku) DO UPDATE SET description = excluded.description, unit_price = excluded.unit_price, tax_code = excluded.tax_code,
                    category = excluded.category, barcodes = excluded.barcodes, plu = excluded.plu, sold_by_weight = excluded.sold_by_weight
                """)
        }
    }
}
