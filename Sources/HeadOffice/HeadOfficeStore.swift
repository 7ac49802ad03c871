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
            throw IngestRefusal(status: 403, message: "This credential is till \(till.name); the batch says \(DocumentGate.quoted(batch.storeID))/\(DocumentGate.quoted(batch.tillID)): a till submits only as itself")
        }
        guard batch.documents.count <= 5_000 else {
            throw IngestRefusal(status: 413, message: "\(batch.documents.count) documents in one batch: send at most 5000")
        }
        // Check everything before applying anything.
        var prepared: [Prepared] = []
        prepared.reserveCapacity(batch.documents.count)
        let raw = rawSales?.count == batch.documents.count ? rawSales : nil
        let chainCurrency = try latestProgramme()?.currency
        for (i, d) in batch.documents.enumerated() {
            prepared.append(try prepare(d, raw: raw?[i], till: till, received: received, chainCurrency: chainCurrency))
        }
        // The cards the batch moves, in one order for every batch: two tills' batches that share
        // cards wait for each other instead of deadlocking (PostgreSQL's row locks).
        var cards = Set<String>()
        for p in prepared {
            switch p {
            case .sale(let doc, _, _, _): if let n = doc.loyalty?.cardNumber { cards.insert(n) }
            case .registration(let doc): cards.insert(doc.registration.cardNumber)
            case .refund(let doc, _): if let n = doc.loyalty?.cardNumber { cards.insert(n) }
            case .zreport: break
            }
        }
        let lockOrder = cards.sorted()

        let results = try retryingConflicts { try database.write { c -> [IngestResult] in
            if database.kind == .postgres && !lockOrder.isEmpty {
                // Transaction-scoped advisory locks, one per card, taken in the order of their keys
                // before any row is touched: batches that share a card wait for each other, and
                // no tuple is written to lock it (cards not yet there are covered too).
                // One statement, so the order is global (a batch names at most 5,000 cards).
                _ = try c.query("""
                    SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(n, 7310002) AS k
                        FROM (VALUES \(Array(repeating: "(?)", count: lockOrder.count).joined(separator: ", "))) AS v(n)) AS keys ORDER BY k
                    """, lockOrder.map { .text($0) })
            }
            var results: [IngestResult] = []
            results.reserveCapacity(prepared.count)
            var mark = TillMark()
            var pipelined: [SQLOutcome] = [], next = 0
            for (i, p) in prepared.enumerated() {
                switch p {
                case .sale(let doc, let sale, let json, let derived):
                    if next == pipelined.count {
                        // The first statements of this sale and the ones after it, in one round trip.
                        pipelined = try c.batch(saleRun(prepared[i...], till: till, at: received))
                        next = 0
                    }
                    results.append(try applySale(doc, sale, json, derived, first: pipelined[next], till: till, at: received, c, mark: &mark))
                    next += 1
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
        } }
        return IngestResponse(results: results, gaps: try gaps(of: till))
    }

    /// Runs a transaction again (up to 5 times, after a short random pause) when PostgreSQL
    /// aborted it for a deadlock or a serialization failure: the till never sees either.
    func retryingConflicts<T>(_ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            do { return try body() } catch let e as SQLError where e.isRetryableConflict && attempt < 5 {
                attempt += 1
                usleep(UInt32.random(in: 1_000...(10_000 * UInt32(attempt))))
            }
        }
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
        case sale(SaleDocument, CompletedSale, String, Derived)
        case registration(RegistrationDocument)
        case refund(RefundDocument, String)
        case zreport(ZReportSummary, String)
    }

    private func prepare(_ d: OutboxDocument, raw: String?, till: TillCredential, received: Int64, chainCurrency: String?) throws -> Prepared {
        func refuse(_ message: String, status: Int = 422) -> IngestRefusal {
            IngestRefusal(status: status, message: "Document \(DocumentGate.quoted(d.kind)) \(DocumentGate.quoted(d.id)): \(message)", documentID: String(d.id.prefix(64)))
        }
        switch d.kind {
        case "sale":
            guard let doc = d.sale else { throw refuse("a sale document needs its 'sale'") }
            guard doc.saleID == d.id else { throw refuse("the id is not the sale's saleID \(DocumentGate.quoted(doc.saleID))") }
            guard doc.storeID == till.storeID, doc.tillID == till.tillID else {
                throw refuse("it is a sale of till \(DocumentGate.quoted(doc.storeID))/\(DocumentGate.quoted(doc.tillID)); this credential is till \(till.name)", status: 403)
            }
            if let problem = doc.problem() { throw refuse(problem) }
            let sale: CompletedSale
            do { sale = try CompletedSale(document: doc, storeName: nil) } catch { throw refuse("\(error)") }
            if let problem = realSaleProblem(doc, sale, received: received, chainCurrency: chainCurrency) { throw refuse(problem) }
            if let r = doc.loyalty?.registration {
                guard r.cardNumber == doc.loyalty?.cardNumber else {
                    throw refuse("loyalty.registration.cardNumber \(LoyaltyCardNumber.masked(r.cardNumber)) is not the sale's card \(LoyaltyCardNumber.masked(doc.loyalty?.cardNumber ?? ""))")
                }
                if let problem = Self.registrationProblem(r) { throw refuse("loyalty.registration: " + problem) }
            }
            let json = try raw ?? String(decoding: JSONEncoder().encode(doc), as: UTF8.self)
            return .sale(doc, sale, json, try derive(doc, sale))
        case "registration":
            guard let doc = d.registration else { throw refuse("a registration document needs its 'registration'") }
            guard doc.storeID == till.storeID, doc.tillID == till.tillID else {
                throw refuse("it is a registration of till \(DocumentGate.quoted(doc.storeID))/\(DocumentGate.quoted(doc.tillID)); this credential is till \(till.name)", status: 403)
            }
            if let problem = doc.boundsProblem() { throw refuse(problem) }
            let r = doc.registration
            guard r.cardNumber == d.id else {
                throw refuse("registration.cardNumber '\(DocumentGate.quoted(r.cardNumber))' must be the document's id")
            }
            if let problem = Self.registrationProblem(r) { throw refuse("registration: " + problem) }
            return .registration(doc)
        case "refund":
            guard let doc = d.refund else { throw refuse("a refund document needs its 'refund'") }
            guard doc.refundID == d.id else { throw refuse("the id is not the refund's refundID \(DocumentGate.quoted(doc.refundID))") }
            guard doc.storeID == till.storeID, doc.tillID == till.tillID else {
                throw refuse("it is a refund of till \(DocumentGate.quoted(doc.storeID))/\(DocumentGate.quoted(doc.tillID)); this credential is till \(till.name)", status: 403)
            }
            if let problem = doc.boundsProblem() { throw refuse(problem) }
            return .refund(doc, String(decoding: try JSONEncoder().encode(doc), as: UTF8.self))
        case "zreport":
            guard let doc = d.zreport else { throw refuse("a zreport document needs its 'zreport'") }
            guard doc.storeID == till.storeID, doc.tillID == till.tillID else {
                throw refuse("it is a Z report of till \(DocumentGate.quoted(doc.storeID))/\(DocumentGate.quoted(doc.tillID)); this credential is till \(till.name)", status: 403)
            }
            if let problem = doc.boundsProblem() { throw refuse(problem) }
            guard ZReportSummary.documentID(storeID: doc.storeID, tillID: doc.tillID, number: doc.number) == d.id, doc.kind == "Z" else {
                throw refuse("the id must be \(ZReportSummary.documentID(storeID: doc.storeID, tillID: doc.tillID, number: doc.number)) for Z report \(doc.number)")
            }
            return .zreport(doc, String(decoding: try JSONEncoder().encode(doc), as: UTF8.self))
        default:
            throw refuse("kind '\(DocumentGate.quoted(d.kind))' must be sale, registration, refund or zreport")
        }
    }

    /// A refund: kept, and its points (taken back, given back) on the card's ledger, once.
    /// Head office's own figures for a refund's points: the card is the original sale's, and the
    /// points taken back and given back are the tills' own refund rules (RefundPlanner) applied to
    /// the sale head office holds and the refunds of it it already has. Where that cannot be done
    /// (a double return made offline, an original sale not here yet) the till's figures stand,
    /// never more than what is left of the sale's points. A difference is a discrepancy.
    private func refundPoints(_ doc: RefundDocument, _ c: any SQLConnection) throws -> (card: String?, takenBack: Int64, restored: Int64, check: AwardCheck?) {
        let tillTaken = doc.loyalty?.pointsTakenBack ?? 0, tillRestored = doc.loyalty?.pointsRestored ?? 0
        func check(_ kind: String, _ why: String, _ taken: Int64, _ restored: Int64) -> AwardCheck? {
            guard taken != tillTaken || restored != tillRestored || kind == "refund-unchecked" else { return nil }
            return AwardCheck(kind: kind, detail: "Refund \(doc.receiptNumber): the till took back \(tillTaken) and gave back \(tillRestored) points; \(why)",
                              tillPoints: tillRestored - tillTaken, headOfficePoints: restored - taken)
        }
        guard let originalID = doc.originalSaleID else {
            return (nil, 0, 0, check("refund-points", "a refund without a receipt moves no points", 0, 0))
        }
        guard let json = try c.queryOne("SELECT document FROM sales WHERE sale_id = ?", [.text(originalID)])?["document"].text,
              let saleDoc = try? JSONDecoder().decode(SaleDocument.self, from: Data(json.utf8)),
              let sale = try? CompletedSale(document: saleDoc, storeName: nil) else {
            return (doc.loyalty?.cardNumber, tillTaken, tillRestored,
                    check("refund-unchecked", "head office does not have the sale \(originalID) yet: the till's figures were not checked", tillTaken, tillRestored))
        }
        guard let loyalty = saleDoc.loyalty else {
            return (nil, 0, 0, check("refund-points", "the sale had no loyalty card", 0, 0))
        }
        let priorDocs = try c.query("SELECT document FROM refunds WHERE original_sale_id = ? AND refund_id <> ?", [.text(originalID), .text(doc.refundID)])
            .compactMap { $0["document"].text.flatMap { try? JSONDecoder().decode(RefundDocument.self, from: Data($0.utf8)) } }
        let prior = ReturnedSoFar(refunds: priorDocs)
        let selections = doc.lines.map { ReturnSelection(line: $0.lineNumber, quantity: Quantity(milli: $0.quantityMilli)) }
        let programme = try programme(version: loyalty.programmeVersion)
        do {
            let plan = try RefundPlanner.plan(sale: sale, prior: prior, selections: selections, toCash: true, programme: programme)
            return (loyalty.cardNumber, plan.pointsTakenBack, plan.pointsRestored,
                    check("refund-points", "the sale's rules give \(plan.pointsTakenBack) and \(plan.pointsRestored): the ledger has head office's", plan.pointsTakenBack, plan.pointsRestored))
        } catch {
            // Returned already (two tills offline), or lines the sale does not have: at most what is left.
            let earned = loyalty.earned.reduce(Int64(0)) { $0 + $1.points }
            let taken = min(tillTaken, max(0, earned - prior.pointsTakenBack))
            let restored = min(tillRestored, max(0, loyalty.redeemed - prior.pointsRestored))
            return (loyalty.cardNumber, taken, restored,
                    check("refund-points", "head office could not work the refund out (\(error)): at most what is left of the sale's points, \(taken) and \(restored)", taken, restored))
        }
    }

    /// A refund: kept, and its points (taken back, given back) on the card's ledger, once, by
    /// head office's own figures.
    private func applyRefund(_ doc: RefundDocument, _ json: String, till: TillCredential, at received: Int64, _ c: any SQLConnection) throws -> IngestResult {
        if try c.queryOne("SELECT refund_id FROM refunds WHERE refund_id = ?", [.text(doc.refundID)]) != nil {
            return IngestResult(kind: "refund", id: doc.refundID, status: .duplicate, reason: "already applied", cards: try balances([doc.loyalty?.cardNumber], c))
        }
        let (card, takenBack, restored, check) = try refundPoints(doc, c)
        try c.execute("""
            INSERT INTO refunds (refund_id, store_id, till_id, sequence, receipt_number, original_sale_id, card_number, total,
                points_taken_back, points_restored, document, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(doc.refundID), .text(doc.storeID), .text(doc.tillID), .int(doc.sequence), .text(doc.receiptNumber),
                  SQLValue(doc.originalSaleID), SQLValue(card), .int(doc.total), .int(takenBack), .int(restored),
                  .text(json), .int(received)])
        if let check {
            try c.execute("""
                INSERT INTO discrepancies (sale_id, card_number, kind, detail, till_points, head_office_points, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.text(doc.refundID), SQLValue(card), .text(check.kind), .text(check.detail), .int(check.tillPoints),
                      SQLValue(check.headOfficePoints), .int(received)])
        }
        try checkReturnedOnce(doc, till: till, at: received, c)
        guard let card, takenBack > 0 || restored > 0 else {
            return IngestResult(kind: "refund", id: doc.refundID, status: .accepted, cards: try balances([card], c))
        }
        let delta = restored - takenBack   // both within 0...10^12
        guard let row = try moveCard(card, delta: delta, qualifying: 0, saleID: doc.refundID, receipt: doc.receiptNumber,
                                     till: till, at: received, c) else {
            return IngestResult(kind: "refund", id: doc.refundID, status: .accepted, cards: try balances([card], c))
        }
        for (kind, points, label) in [("return-earn", -takenBack, "Points of returned items"), ("return-redeem", restored, "Redeemed points given back")]
        where points != 0 {
            try c.execute("""
                INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, till_id, created_at)
                VALUES (?, ?, ?, ?, 'return', ?, ?, ?, ?)
                """, [.text(card), .text(doc.refundID), .text(kind), .int(points), .text(label), .text(till.storeID), .text(till.tillID), .int(received)])
        }
        if row.int("balance") < 0 {
            let b = row.int("balance")
            try c.execute("""
                INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('overdraft', ?, ?, ?, ?, ?, ?)
                """, [.text(card), .text(doc.refundID), .text(till.storeID), .text(till.tillID),
                      .text("Refund \(doc.receiptNumber) took back \(takenBack) points the card had already spent: balance \(b)"), .int(received)])
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

    /// The first statements of the sales at the start of `prepared`, up to the first document
    /// that is not a sale. On PostgreSQL they go as one pipeline: none depends on another's answer
    /// (a card missing or out of bounds is dealt with afterwards, in order, by `applySale`). A sale
    /// that registers its card ends the run: the sales after it may be on that card. SQLite: one.
    func saleRun(_ prepared: ArraySlice<Prepared>, till: TillCredential, at received: Int64) -> [SQLStatement] {
        var statements: [SQLStatement] = []
        for p in prepared {
            guard case .sale(let doc, let sale, let json, let derived) = p else { break }
            statements.append(saleStatement(doc, sale, json, derived, till: till, at: received))
            if database.kind != .postgres || doc.loyalty?.registration != nil { break }
        }
        return statements
    }

    /// Whether a sale's first statement also moves its card and writes its ledger rows.
    func movesInFirstStatement(_ doc: SaleDocument, _ derived: Derived) -> Bool {
        database.kind == .postgres && doc.loyalty != nil && doc.loyalty?.registration == nil && !derived.movements.isEmpty
    }

    /// A sale's first statement: its insert, and on PostgreSQL for a member's sale its card's move
    /// and its ledger rows too (`insertSaleMovingCard`).
    func saleStatement(_ doc: SaleDocument, _ sale: CompletedSale, _ json: String, _ derived: Derived, till: TillCredential, at received: Int64) -> SQLStatement {
        let card = doc.loyalty?.cardNumber
        let saleRow: [SQLValue] = [.text(doc.saleID), .text(till.storeID), .text(till.tillID), .int(doc.sequence), .text(doc.receiptNumber),
                                   .text(doc.completedAt), .int(sale.completedAt), .int(sale.basket.totals.total), .text(doc.currency), SQLValue(card),
                                   .int(card == nil ? 0 : derived.spend), .text(json), .int(received)]
        if movesInFirstStatement(doc, derived), let l = doc.loyalty {
            return insertSaleMovingCard(saleRow, card: l.cardNumber, derived: derived, saleID: doc.saleID, till: till, at: received)
        }
        return SQLStatement("""
            INSERT INTO sales (sale_id, store_id, till_id, sequence, receipt_number, completed_at, completed_ms, total, currency,
                card_number, loyalty_spend, document, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT DO NOTHING
            """, saleRow)
    }

    /// A sale applied, its first statement (`saleStatement`) having given `first`.
    private func applySale(_ doc: SaleDocument, _ sale: CompletedSale, _ json: String, _ derived: Derived, first: SQLOutcome, till: TillCredential,
                           at received: Int64, _ c: any SQLConnection, mark: inout TillMark) throws -> IngestResult {
        let card = doc.loyalty?.cardNumber
        // Insert first: the usual case is one statement. Nothing inserted means this sale or its
        // sequence number is already there.
        let inserted: Int
        var movedInStatement: SQLRow?
        if movesInFirstStatement(doc, derived) {
            guard let r = first.rows.first else { throw SQLError("the sale \(doc.saleID) could not be inserted") }
            inserted = Int(r.int("inserted"))
            if inserted > 0, r["balance"].int != nil { movedInStatement = r }
        } else {
            inserted = first.changed
        }
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
        for check in derived.checks {
            try c.execute("""
                INSERT INTO discrepancies (sale_id, card_number, kind, detail, till_points, head_office_points, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.text(doc.saleID), SQLValue(card), .text(check.kind), .text(check.detail), .int(check.tillPoints),
                      SQLValue(check.headOfficePoints), .int(received)])
        }
        guard let l = doc.loyalty else {
            return IngestResult(kind: "sale", id: doc.saleID, status: .accepted)
        }
        var derived = derived
        if let r = l.registration,
           try insertRegistration(r, saleID: doc.saleID, till: till, programmeVersion: l.programmeVersion, at: received, c) != .registered {
            // The card was not issued here: no welcome bonus for it.
            derived.movements.removeAll { $0.kind == "welcome" }
            derived.delta = derived.movements.reduce(Int64(0)) { $0 + $1.points }
        }
        let programme = derived.programme
        let movements = derived.movements
        let ledgerWritten = movedInStatement != nil
        var moved: SQLRow? = movedInStatement
        if moved == nil {
            moved = try moveCard(l.cardNumber, delta: derived.delta, qualifying: derived.qualifyingDelta, saleID: doc.saleID,
                                 receipt: doc.receiptNumber, till: till, at: received, c)
        }
        guard let row = moved else {
            return IngestResult(kind: "sale", id: doc.saleID, status: .accepted)
        }
        // The movements, appended in one statement.
        if !movements.isEmpty && !ledgerWritten {
            let values = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: movements.count).joined(separator: ", ")
            var arguments: [SQLValue] = []
            arguments.reserveCapacity(movements.count * 9)
            for m in movements {
                arguments += [.text(l.cardNumber), .text(doc.saleID), .text(m.kind), .int(m.points), .text(m.rule), .text(m.label), .text(till.storeID),
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
        return IngestResult(kind: "sale", id: doc.saleID, status: .accepted,
                            cards: [CardBalance(number: l.cardNumber, balance: balance, tierCode: tier ?? row["tier_code"].text, qualifying: qualifying)])
    }

    /// PostgreSQL only: a member's sale inserted, its card moved (when it exists, within its
    /// bounds, and the sale was new) and its ledger rows written, in one statement. The row says
    /// `inserted` (0 or 1) and the card's row after the move (null columns: not moved; the caller
    /// then goes through `moveCard`).
    func insertSaleMovingCard(_ saleRow: [SQLValue], card number: String, derived: Derived, saleID: String, till: TillCredential,
                              at received: Int64) -> SQLStatement {
        let limit = DocumentBounds.balance.upperBound
        let delta = derived.delta, qualifying = derived.qualifyingDelta
        let values = Array(repeating: "(CAST(? AS BIGINT), ?, ?, ?)", count: derived.movements.count).joined(separator: ", ")
        var arguments = saleRow
        arguments += [.int(delta), .int(qualifying), .int(received), .text(number),
                      .int(-limit - min(0, delta)), .int(limit - max(0, delta)),
                      .int(-limit - min(0, qualifying)), .int(limit - max(0, qualifying)),
                      .text(number), .text(saleID), .text(till.storeID), .text(till.tillID), .int(received)]
        for m in derived.movements { arguments += [.int(m.points), .text(m.kind), .text(m.rule), .text(m.label)] }
        return SQLStatement("""
            WITH inserted AS (
                INSERT INTO sales (sale_id, store_id, till_id, sequence, receipt_number, completed_at, completed_ms, total, currency,
                    card_number, loyalty_spend, document, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING RETURNING sale_id),
            moved AS (
                UPDATE cards SET balance = balance + ?, qualifying = qualifying + ?, updated_at = ?
                WHERE number = ? AND balance BETWEEN ? AND ? AND qualifying BETWEEN ? AND ? AND EXISTS (SELECT 1 FROM inserted)
                RETURNING balance, qualifying, status, tier_code),
            entry AS (SELECT CAST(? AS TEXT) AS card, CAST(? AS TEXT) AS sale, CAST(? AS TEXT) AS store, CAST(? AS TEXT) AS till, CAST(? AS BIGINT) AS at),
            written AS (
                INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, till_id, created_at)
                SELECT entry.card, entry.sale, v.kind, v.points, v.rule, v.label, entry.store, entry.till, entry.at
                FROM (VALUES \(values)) AS v(points, kind, rule, label), entry
                WHERE EXISTS (SELECT 1 FROM moved))
            SELECT (SELECT COUNT(*) FROM inserted) AS inserted, moved.balance, moved.qualifying, moved.status, moved.tier_code
            FROM (SELECT 1 AS one) AS one LEFT JOIN moved ON TRUE
            """, arguments)
    }

    /// Moves a card's balance and qualification by `delta` and `qualifying`, creating the card
    /// (with an `unknown-card` exception) if head office did not have it. A move that would take
    /// either figure outside `DocumentBounds.balance` is refused: the card row is not touched, and
    /// nil comes back after an `out-of-bounds` exception is recorded. Returns the row after the move.
    func moveCard(_ number: String, delta: Int64, qualifying: Int64, saleID: String, receipt: String, till: TillCredential, at received: Int64,
                  _ c: any SQLConnection) throws -> SQLRow? {
        // The bounds are in the WHERE clause: neither database ever computes a figure past them
        // (SQLite would turn an overflowing sum into a REAL).
        let limit = DocumentBounds.balance.upperBound
        let update = """
            UPDATE cards SET balance = balance + ?, qualifying = qualifying + ?, updated_at = ?
            WHERE number = ? AND balance BETWEEN ? AND ? AND qualifying BETWEEN ? AND ?
            RETURNING balance, qualifying, status, tier_code
            """
        let arguments: [SQLValue] = [.int(delta), .int(qualifying), .int(received), .text(number),
                                     .int(-limit - min(0, delta)), .int(limit - max(0, delta)),
                                     .int(-limit - min(0, qualifying)), .int(limit - max(0, qualifying))]
        if let row = try c.queryOne(update, arguments) { return row }
        if try c.queryOne("SELECT number FROM cards WHERE number = ?", [.text(number)]) == nil {
            try c.execute("INSERT INTO cards (number, status, balance, qualifying) VALUES (?, 'active', 0, 0) ON CONFLICT (number) DO NOTHING",
                          [.text(number)])
            try c.execute("""
                INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('unknown-card', ?, ?, ?, ?, ?, ?)
                """, [.text(number), .text(saleID), .text(till.storeID), .text(till.tillID),
                      .text("Sale \(receipt) used card \(LoyaltyCardNumber.masked(number)), which head office did not have: it starts from 0 here (load the cards with headoffice cards import)"),
                      .int(received)])
            if let row = try c.queryOne(update, arguments) { return row }
        }
        try c.execute("""
            INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('out-of-bounds', ?, ?, ?, ?, ?, ?)
            """, [.text(number), .text(saleID), .text(till.storeID), .text(till.tillID),
                  .text("Document \(receipt) would move card \(LoyaltyCardNumber.masked(number)) by \(delta) points (qualifying \(qualifying)) past ±\(limit): the card was not changed"),
                  .int(received)])
        return nil
    }

    /// A discrepancy to record if the sale is applied: the till's figure and head office's.
    struct AwardCheck {
        var kind: String
        var detail: String
        var tillPoints: Int64
        var headOfficePoints: Int64?
    }

    /// What head office itself makes of a sale's loyalty: the movements it puts on the ledger, the
    /// spend that counts towards the tier, and where the till said otherwise.
    struct Derived {
        var movements: [(kind: String, points: Int64, rule: String, label: String)] = []
        var delta: Int64 = 0
        var qualifyingDelta: Int64 = 0
        /// What the customer paid in money (the sale's total less what points paid).
        var spend: Int64 = 0
        var checks: [AwardCheck] = []
        var programme: LoyaltyProgramme?
    }

    /// A sale that cannot have happened: no tender for what was due, underpaid, impossible times,
    /// another currency than the chain's. Nil when it is a real sale.
    private func realSaleProblem(_ doc: SaleDocument, _ sale: CompletedSale, received: Int64, chainCurrency: String?) -> String? {
        let t = sale.basket.totals
        if t.total > 0 && doc.tenders.isEmpty { return "tenders: a sale of \(t.total) needs the tenders that paid it" }
        if t.paid < t.total { return "totals.paid \(t.paid) is less than the total \(t.total): an unpaid sale is not a completed sale" }
        guard let started = ProtocolTime.parse(doc.startedAt) else { return "startedAt '\(DocumentGate.quoted(doc.startedAt))' is not an ISO 8601 time" }
        let completed = sale.completedAt
        for (name, v) in [("startedAt", started), ("completedAt", completed)] where !DocumentBounds.epochMillis.contains(v) {
            return "\(name) \(name == "startedAt" ? doc.startedAt : doc.completedAt) is not a time a sale can have (2000 to 2200)"
        }
        if completed < started { return "completedAt \(doc.completedAt) is before startedAt \(doc.startedAt)" }
        // (A sale suspended one day and completed the next is real: no limit on how long it took.)
        if completed > received + 86_400_000 { return "completedAt \(doc.completedAt) is more than a day after head office's clock" }
        if let chain = chainCurrency, chain != doc.currency {
            return "currency '\(doc.currency)' is not the chain's currency \(chain)"
        }
        return nil
    }

    /// A registration's fields checked exactly as the till's form checks them; nil when valid.
    static func registrationProblem(_ r: SaleDocument.RegistrationInfo) -> String? {
        var g = DocumentGate()
        r.check(&g)
        if let p = g.problem { return p }
        do {
            let made = try Registration.make(
                cardNumber: r.cardNumber, firstName: r.firstName, lastName: r.lastName, phone: r.phone ?? "", email: r.email ?? "",
                postcode: r.postcode ?? "", birthDate: r.birthDate ?? "", marketingConsent: r.marketingConsent, at: 0)
            _ = made
        } catch { return "\(error)" }
        guard ProtocolTime.parse(r.registeredAt) != nil else { return "registeredAt '\(DocumentGate.quoted(r.registeredAt))' is not an ISO 8601 time" }
        return nil
    }

    /// Where the till's line, VAT and total figures differ from what the core computes from the
    /// same lines, discounts and tenders (head office keeps its own and records the difference).
    private func figureChecks(_ doc: SaleDocument, _ sale: CompletedSale) -> [AwardCheck] {
        let t = sale.basket.totals
        var differences: [String] = []
        let lines = doc.lines.sorted { $0.lineNumber < $1.lineNumber }
        for (l, a) in zip(lines, t.lines) {
            for (name, till, mine) in [("amount", l.amount, a.gross), ("lineDiscount", l.lineDiscount, a.lineDiscount),
                                       ("saleDiscountShare", l.saleDiscountShare, a.saleDiscountShare), ("net", l.net, a.net)] where till != mine {
                differences.append("line \(l.lineNumber) \(name) \(till) (head office: \(mine))")
            }
        }
        let sameVAT = doc.vat.count == t.vat.count && zip(doc.vat, t.vat).allSatisfy { a, b in
            a.code == b.code && a.rateBasisPoints == b.basisPoints && a.gross == b.gross && a.vat == b.vat && a.net == b.net
        }
        if !sameVAT {
            let tillVAT = doc.vat.map { "\($0.code) \($0.rateBasisPoints) \($0.gross)/\($0.vat)/\($0.net)" }
            let ownVAT = t.vat.map { "\($0.code) \($0.basisPoints) \($0.gross)/\($0.vat)/\($0.net)" }
            differences.append("VAT \(tillVAT.isEmpty ? "none" : tillVAT.joined(separator: ", ")) (head office: \(ownVAT.joined(separator: ", ")))")
        }
        for (name, till, mine) in [("subtotal", doc.totals.subtotal, t.subtotal), ("lineDiscounts", doc.totals.lineDiscounts, t.lineDiscounts),
                                   ("itemCount", doc.totals.itemCount, t.itemCount)] where till != mine {
            differences.append("totals.\(name) \(till) (head office: \(mine))")
        }
        guard !differences.isEmpty else { return [] }
        return [AwardCheck(kind: "figures", detail: "Sale \(doc.receiptNumber): " + differences.prefix(20).joined(separator: "; "),
                           tillPoints: 0, headOfficePoints: nil)]
    }

    /// Head office's own figures for a sale's loyalty (before the write transaction: it is the
    /// costly part). Points earned and the welcome bonus come from the programme version the till
    /// used; the value of redeemed points is what the points tenders paid, never more than the
    /// programme makes those points worth; the tier counts what the customer paid in money.
    private func derive(_ doc: SaleDocument, _ sale: CompletedSale) throws -> Derived {
        var d = Derived()
        d.checks = figureChecks(doc, sale)
        guard let l = doc.loyalty, let outcome = sale.loyalty else { return d }
        let tillEarned = l.earned.filter { $0.points != 0 }
        let tillPoints = tillEarned.reduce(Int64(0)) { $0 + $1.points }   // bounded: 200 parts × 10^12
        let programme = try programme(version: l.programmeVersion)
        d.programme = programme
        var earned = tillEarned.map { (rule: $0.rule, label: $0.label, points: $0.points) }
        var welcome = l.welcome.filter { $0.points != 0 }.map { (rule: $0.rule, label: $0.label, points: $0.points) }
        if let programme {
            let award = programme.award(for: sale.basket, context: outcome.context)
            let mine = award.parts.filter { $0.points != 0 }
            let same = mine.count == tillEarned.count && zip(mine, tillEarned).allSatisfy { $0.rule == $1.rule && $0.points == $1.points }
            if !same {
                d.checks.append(AwardCheck(
                    kind: "points",
                    detail: "Sale \(doc.receiptNumber): the till awarded \(tillEarned.map { "\($0.rule)=\($0.points)" }.joined(separator: ", ")); programme \(programme.version) gives \(mine.map { "\($0.rule)=\($0.points)" }.joined(separator: ", ")): the ledger has head office's",
                    tillPoints: tillPoints, headOfficePoints: award.total))
            }
            earned = mine.map { (rule: $0.rule, label: $0.label, points: $0.points) }
            let ownWelcome = l.registration == nil ? [] : programme.welcomeAward.parts
            let tillWelcome = welcome.reduce(Int64(0)) { $0 + $1.points }
            if ownWelcome.reduce(Int64(0), { $0 + $1.points }) != tillWelcome {
                d.checks.append(AwardCheck(
                    kind: "welcome",
                    detail: "Sale \(doc.receiptNumber): the till gave \(tillWelcome) welcome points; programme \(programme.version) gives \(ownWelcome.reduce(Int64(0)) { $0 + $1.points })\(l.registration == nil ? " (no card was issued in this sale)" : "")",
                    tillPoints: tillWelcome, headOfficePoints: ownWelcome.reduce(Int64(0)) { $0 + $1.points }))
            }
            welcome = ownWelcome.map { (rule: $0.rule, label: $0.label, points: $0.points) }
        } else {
            d.checks.append(AwardCheck(
                kind: "unknown-programme",
                detail: "Programme version \(l.programmeVersion) is not at head office: the points were not checked (import it with headoffice programme import)",
                tillPoints: tillPoints, headOfficePoints: nil))
            if l.registration == nil { welcome = [] }
        }
        // Money paid with points: the points tenders' amounts (bounded), never more than the
        // programme makes those points worth.
        let pointsTenders = doc.tenders.filter { $0.kind == TenderKind.points.rawValue }
        let paidWithPoints = pointsTenders.reduce(Int64(0)) { $0 + $1.amount }
        if let programme {
            for t in pointsTenders {
                let worth = programme.value(ofPoints: t.points ?? 0)
                if t.amount > worth {
                    d.checks.append(AwardCheck(
                        kind: "redemption",
                        detail: "Sale \(doc.receiptNumber): \(t.points ?? 0) points paid \(t.amount); programme \(programme.version) makes them worth \(worth)",
                        tillPoints: t.points ?? 0, headOfficePoints: nil))
                }
            }
        }
        if l.redeemedValue != paidWithPoints {
            d.checks.append(AwardCheck(
                kind: "redemption",
                detail: "Sale \(doc.receiptNumber): loyalty.redeemedValue says \(l.redeemedValue); its points tenders paid \(paidWithPoints)",
                tillPoints: l.redeemed, headOfficePoints: nil))
        }
        for w in welcome { d.movements.append((kind: "welcome", points: w.points, rule: w.rule, label: w.label)) }
        for e in earned { d.movements.append((kind: "earn", points: e.points, rule: e.rule, label: e.label)) }
        if l.redeemed > 0 { d.movements.append((kind: "redeem", points: -l.redeemed, rule: "redeem", label: "Points redeemed")) }
        // Each movement is within ±10^12 and there are at most 401 of them: no overflow.
        d.delta = d.movements.reduce(Int64(0)) { $0 + $1.points }
        let total = sale.basket.totals.total
        let spend = max(0, total - min(total, paidWithPoints))
        d.spend = spend
        d.qualifyingDelta = programme?.tierQualification.basis == .points ? earned.reduce(Int64(0)) { $0 + $1.points } : spend
        return d
    }

    /// Registers a card to a new member, once. Only a stock card, or a card head office does not
    /// have that lies in the programme's card ranges, can be registered: a blocked, lost or already
    /// registered card is refused and the refusal recorded as an exception. The registrations
    /// table's unique card number is the lock, so two registrations of one card arriving at once
    /// (on two head office processes) register it once.
    enum RegistrationOutcome: Equatable {
        case registered, duplicate
        case refused(String)
    }

    private func insertRegistration(_ r: SaleDocument.RegistrationInfo, saleID: String?, till: TillCredential, programmeVersion: String,
                                    at received: Int64, _ c: any SQLConnection) throws -> RegistrationOutcome {
        func refused(_ why: String) throws -> RegistrationOutcome {
            try c.execute("""
                INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('registration', ?, ?, ?, ?, ?, ?)
                """, [.text(r.cardNumber), SQLValue(saleID), .text(till.storeID), .text(till.tillID),
                      .text("Card \(LoyaltyCardNumber.masked(r.cardNumber)) was not registered to \(r.firstName) \(r.lastName): \(why)"),
                      .int(received)])
            return .refused(why)
        }
        let existing = try c.queryOne("SELECT status, customer_id FROM cards WHERE number = ?", [.text(r.cardNumber)])
        if let existing {
            let status = existing.text("status")
            if status != "stock" || existing["customer_id"].text != nil {
                return try refused(status == "active" ? "the card is already registered to a member" : "the card is \(status)")
            }
        } else {
            let ranges = try (programme(version: programmeVersion) ?? latestProgramme())?.cardRanges ?? []
            do { _ = try LoyaltyCardNumber.validate(r.cardNumber, ranges: ranges) } catch {
                return try refused("head office does not have the card, and \(error)")
            }
        }
        let inserted = try c.execute("""
            INSERT INTO registrations (card_number, customer_id, store_id, till_id, sale_id, received_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (card_number) DO NOTHING
            """, [.text(r.cardNumber), .text(r.cardNumber), .text(till.storeID), .text(till.tillID), SQLValue(saleID), .int(received)])
        // Another transaction registered it first (the same document sent twice at once).
        if inserted == 0 { return .duplicate }
        try c.execute("""
            INSERT INTO customers (id, first_name, last_name, phone, email, postcode, birth_date, marketing_consent, registered_at, store_id, till_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
            """, [.text(r.cardNumber), .text(r.firstName), .text(r.lastName), SQLValue(r.phone), SQLValue(r.email), SQLValue(r.postcode),
                  SQLValue(r.birthDate), SQLValue(r.marketingConsent), .text(r.registeredAt), .text(till.storeID), .text(till.tillID)])
        // Only a stock card (or a new one) changes hands; the conditional update keeps it so even
        // if the card's row changed since it was read.
        try c.execute("""
            INSERT INTO cards (number, customer_id, status, balance, qualifying) VALUES (?, ?, 'active', 0, 0)
            ON CONFLICT (number) DO UPDATE SET customer_id = excluded.customer_id, status = 'active'
            WHERE cards.status = 'stock' AND cards.customer_id IS NULL
            """, [.text(r.cardNumber), .text(r.cardNumber)])
        return .registered
    }

    private func applyRegistration(_ doc: RegistrationDocument, till: TillCredential, at received: Int64, _ c: any SQLConnection) throws -> IngestResult {
        let card = doc.registration.cardNumber
        if try c.queryOne("SELECT card_number FROM registrations WHERE card_number = ?", [.text(card)]) != nil {
            return IngestResult(kind: "registration", id: card, status: .duplicate, reason: "already registered", cards: try balances([card], c))
        }
        switch try insertRegistration(doc.registration, saleID: nil, till: till, programmeVersion: doc.programmeVersion, at: received, c) {
        case .registered: break
        case .duplicate:
            return IngestResult(kind: "registration", id: card, status: .duplicate, reason: "already registered", cards: try balances([card], c))
        case .refused(let why):
            return IngestResult(kind: "registration", id: card, status: .rejected, reason: why, cards: try balances([card], c))
        }
        // The welcome bonus is the programme's, not what the document says.
        let welcome = try programme(version: doc.programmeVersion)?.welcomeAward.parts.map { SaleDocument.AwardPart(rule: $0.rule, label: $0.label, points: $0.points) }
            ?? doc.welcome
        let total = welcome.reduce(Int64(0)) { $0 + $1.points }   // bounded: 200 parts × 10^12
        guard total != 0, try moveCard(card, delta: total, qualifying: 0, saleID: card, receipt: "registration", till: till, at: received, c) != nil else {
            return IngestResult(kind: "registration", id: card, status: .accepted, cards: try balances([card], c))
        }
        for p in welcome where p.points != 0 {
            try c.execute("""
                INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, till_id, created_at)
                VALUES (?, NULL, 'welcome', ?, ?, ?, ?, ?, ?)
                """, [.text(card), .int(p.points), .text(p.rule), .text(p.label), .text(till.storeID), .text(till.tillID), .int(received)])
        }
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
