import Foundation
import Synchronization
public import TillCore
import TillDocuments
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
    /// Programme versions read so far, each in a box: a lookup holds the lock for a reference, not
    /// for copying a programme's every field (every sale of every till's batch asks).
    private let programmes = Mutex<[String: ProgrammeBox]>([:])
    final class ProgrammeBox: Sendable {
        let programme: LoyaltyProgramme
        init(_ programme: LoyaltyProgramme) { self.programme = programme }
    }
    /// The per-sale fraud rules' memory, and the rules in force (read again every 30 s).
    let fraudMonitor = FraudMonitor()
    let fraudRuleCache = Mutex<(rules: [FraudRule], at: Int64)?>(nil)
    let fraudMonitorReady = Mutex(false)
    /// Alerts found but not yet written (their write failed after the batch was committed): tried
    /// again with the next batch, the till's resend of this one included.
    let pendingFraudAlerts = Mutex<[FraudAlertDraft]>([])

    public init(database: any SQLDatabase) throws {
        self.database = database
        try Schema.migrate(database)
    }

    public static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    // MARK: - Programmes

    /// Keeps a programme version, so sales computed with it can be checked.
    public func importProgramme(_ p: LoyaltyProgramme) throws {
        let json = String(decoding: try JSONEncoder().encode(p), as: UTF8.self)
        _ = try database.write { c in
            try c.execute("""
                INSERT INTO programmes (version, json, imported_at) VALUES (?, ?, ?)
                ON CONFLICT (version) DO UPDATE SET json = excluded.json, imported_at = excluded.imported_at
                """, [.text(p.version), .text(json), .int(Self.now())])
        }
        let box = ProgrammeBox(p)
        programmes.withLock { $0[p.version] = box }
    }

    /// A programme version head office holds, if any.
    public func programme(version: String) throws -> LoyaltyProgramme? {
        if let box = programmes.withLock({ $0[version] }) { return box.programme }
        let json = try database.read { c in try c.queryOne("SELECT json FROM programmes WHERE version = ?", [.text(version)])?.text("json") }
        guard let json, let p = try? JSONDecoder().decode(LoyaltyProgramme.self, from: Data(json.utf8)) else { return nil }
        let box = ProgrammeBox(p)
        programmes.withLock { $0[version] = box }
        return p
    }

    /// The newest programme (by import time), for tiers of cards head office loads itself.
    public func latestProgramme() throws -> LoyaltyProgramme? {
        let version = try database.read { c in
            try c.queryOne("SELECT version FROM programmes ORDER BY imported_at DESC, version DESC LIMIT 1", [])?.text("version")
        }
        return try version.flatMap(programme(version:))
    }

    /// The chain's currency: the newest programme's (EUR before there is one).
    public func currency() throws -> Currency {
        Currency(code: try latestProgramme()?.currency ?? "EUR") ?? .eur
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
            case .sale(let s): if let n = s.doc.loyalty?.cardNumber { cards.insert(n) }
            case .registration(let doc): cards.insert(doc.registration.cardNumber)
            case .refund(let doc, _): if let n = doc.loyalty?.cardNumber { cards.insert(n) }
            case .zreport: break
            }
        }
        let lockOrder = cards.sorted()
        try readyFraudMonitor()

        let results = try retryingConflicts { try database.repeatableWrite { c -> [IngestResult] in
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
                case .sale(let s):
                    if next == pipelined.count {
                        // The first statements of this sale and the ones after it, in one round trip.
                        pipelined = try c.batch(saleRun(prepared[i...], till: till, at: received))
                        next = 0
                    }
                    results.append(try applySale(s, first: pipelined[next], till: till, at: received, c, mark: &mark))
                    next += 1
                case .registration(let doc):
                    results.append(try applyRegistration(doc, till: till, at: received, c))
                    mark.referralsOpen = nil
                case .refund(let doc, let json): results.append(try applyRefund(doc, json, till: till, at: received, c))
                case .zreport(let doc, let json): results.append(try applyZReport(doc, json, id: ZReportSummary.documentID(storeID: doc.storeID, tillID: doc.tillID, number: doc.number), till: till, at: received, c))
                }
            }
            try emitMovements(prepared, results, till: till, c, at: received)
            try Self.queueForRollUp(mark.inserted, c)
            try c.execute("""
                UPDATE tills SET last_seen = ?, max_sequence = CASE WHEN max_sequence < ? THEN ? ELSE max_sequence END,
                    last_lag_ms = COALESCE(?, last_lag_ms), sales_count = sales_count + ? WHERE store_id = ? AND till_id = ?
                """, [.int(received), .int(mark.maxSequence), .int(mark.maxSequence), SQLValue(mark.lastLag), .int(mark.count),
                      .text(till.storeID), .text(till.tillID)])
            try advanceContiguous(till, c)
            return results
        } }
        // The fraud rules, on what this batch applied (committed: a till never waits on an alert).
        try observeFraud(prepared, results, till: till)
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
        /// The sales this batch inserted: queued for the reports' roll-up in one statement.
        var inserted: [SQLValue] = []
        /// Whether any invited member awaits their first qualifying purchase (asked once a batch,
        /// and again after a registration: most batches then skip the referral check per sale).
        var referralsOpen: Bool?
        mutating func accepted(sequence: Int64, lag: Int64) {
            maxSequence = max(maxSequence, sequence)
            lastLag = lag
            count += 1
        }
    }

    /// A document checked and worked out, before the writer applies it.
    enum Prepared {
        case sale(PreparedSale)
        indirect case registration(RegistrationDocument)
        indirect case refund(RefundDocument, String)
        indirect case zreport(ZReportSummary, String)
    }

    /// A sale checked and worked out, in a class: the writer's loop takes a reference to it, where
    /// binding an enum's tuple copied the sale's every field (a retain and a release of each).
    final class PreparedSale {
        let doc: SaleDocument
        let sale: CompletedSale
        /// The sale's JSON as stored.
        let json: String
        let derived: Derived
        init(doc: SaleDocument, sale: CompletedSale, json: String, derived: Derived) {
            self.doc = doc
            self.sale = sale
            self.json = json
            self.derived = derived
        }
    }

    func prepare(_ d: OutboxDocument, raw: String?, till: TillCredential, received: Int64, chainCurrency: String?) throws -> Prepared {
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
            return .sale(PreparedSale(doc: doc, sale: sale, json: json, derived: try derive(doc, sale)))
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
}
