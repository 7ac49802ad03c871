import Foundation
import GRDB
public import TillCore
import TillDocuments
import TillProtocol

/// A job in the print queue.
public struct PrintJob: Sendable, Hashable {
    public enum State: String, Sendable {
        case pending, printed, failed
    }

    public var id: Int64
    public var kind: PrintJobDraft.Kind
    public var saleID: String?
    public var receiptNumber: String?
    public var payload: [UInt8]
    public var createdAt: Timestamp
    public var state: State
    public var attempts: Int
    public var lastError: String?
}

extension TillDatabase {
    static func insertPrintJob(_ job: PrintJobDraft, saleID: String?, at time: Timestamp, db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO print_job (kind, sale_id, receipt_number, payload, created_at) VALUES (?, ?, ?, ?, ?)
            """).execute(arguments: [job.kind.rawValue, saleID, job.receiptNumber, Data(job.payload), time])
    }

    /// Queues a job that is not part of a sale (a reprint).
    @discardableResult
    public func enqueuePrintJob(_ job: PrintJobDraft, saleID: String?, at time: Timestamp) throws(TillStoreError) -> Int64 {
        try run("queue the print job") {
            try pool.write { db in
                try Self.insertPrintJob(job, saleID: saleID, at: time, db: db)
                return db.lastInsertedRowID
            }
        }
    }

    /// The oldest job still to print.
    public func nextPendingPrintJob() throws(TillStoreError) -> PrintJob? {
        try run("read the print queue") {
            try pool.read { db in
                try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM print_job WHERE state = 'pending' ORDER BY id LIMIT 1"))
                    .map(Self.printJob)
            }
        }
    }

    public func printJobs(states: [PrintJob.State] = [.pending, .failed]) throws(TillStoreError) -> [PrintJob] {
        try run("read the print queue") {
            try pool.read { db in
                let marks = states.map { _ in "?" }.joined(separator: ",")
                return try Row.fetchAll(db, sql: "SELECT * FROM print_job WHERE state IN (\(marks)) ORDER BY id",
                                        arguments: StatementArguments(states.map(\.rawValue))).map(Self.printJob)
            }
        }
    }

    /// The job that printed (or is queued to print) a sale's receipt.
    public func receiptJob(saleID: String) throws(TillStoreError) -> PrintJob? {
        try run("read the print queue") {
            try pool.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM print_job WHERE sale_id = ? AND kind = 'receipt' ORDER BY id LIMIT 1",
                                 arguments: [saleID]).map(Self.printJob)
            }
        }
    }

    public func pendingPrintJobCount() throws(TillStoreError) -> Int {
        try run("count the print queue") {
            try pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM print_job WHERE state = 'pending'") ?? 0 }
        }
    }

    public func markPrinted(_ id: Int64, at time: Timestamp) throws(TillStoreError) {
        try run("record the printed job") {
            try pool.write { db in
                try db.execute(sql: """
                    UPDATE print_job SET state = 'printed', printed_at = ?, attempts = attempts + 1, last_attempt_at = ?,
                        last_error = NULL WHERE id = ?
                    """, arguments: [time, time, id])
            }
        }
    }

    /// Records a failed attempt; the job stays pending unless `giveUp`.
    public func recordPrintFailure(_ id: Int64, error: String, at time: Timestamp, giveUp: Bool = false) throws(TillStoreError) {
        try run("record the print failure") {
            try pool.write { db in
                try db.execute(sql: """
                    UPDATE print_job SET attempts = attempts + 1, last_attempt_at = ?, last_error = ?, state = ? WHERE id = ?
                    """, arguments: [time, error, giveUp ? "failed" : "pending", id])
            }
        }
    }

    private static func printJob(_ row: Row) -> PrintJob {
        let data: Data = row["payload"]
        return PrintJob(
            id: row["id"], kind: PrintJobDraft.Kind(rawValue: row["kind"]) ?? .receipt, saleID: row["sale_id"],
            receiptNumber: row["receipt_number"], payload: [UInt8](data), createdAt: row["created_at"],
            state: PrintJob.State(rawValue: row["state"]) ?? .pending, attempts: row["attempts"], lastError: row["last_error"])
    }

    /// A journalled sale by receipt number ("0001-01-000042") or this till's sequence number ("42").
    public func completedSale(receipt: String, till: TillIdentity) throws(TillStoreError) -> CompletedSale? {
        let tillID = till.tillID
        let text = try run("read the sales journal") {
            try pool.read { db in try Self.saleDocumentText(receipt: receipt, tillID: tillID, db: db) }
        }
        guard let text else { return nil }
        return try run("read sale \(receipt)") {
            let doc = try JSONDecoder().decode(SaleDocument.self, from: Data(text.utf8))
            return try CompletedSale(document: doc, storeName: till.storeName)
        }
    }

    /// A journalled sale's document by receipt number, or by this till's sequence number when all digits.
    static func saleDocumentText(receipt: String, tillID: String, db: Database) throws -> String? {
        if let seq = Int64(receipt) {
            return try String.fetchOne(db, sql: "SELECT document FROM sale WHERE till_id = ? AND sequence = ?", arguments: [tillID, seq])
        }
        return try String.fetchOne(db, sql: "SELECT document FROM sale WHERE receipt_number = ?", arguments: [receipt])
    }

    /// The last sale journalled by this till.
    public func lastCompletedSale(till: TillIdentity) throws(TillStoreError) -> CompletedSale? {
        let last = try lastSequenceTyped(tillID: till.tillID)
        return last == 0 ? nil : try completedSale(receipt: String(last), till: till)
    }

    func lastSequenceTyped(tillID: String) throws(TillStoreError) -> Int64 {
        try run("read the last sale number") {
            try pool.read {
                try Int64.fetchOne($0, sql: "SELECT MAX(sequence) FROM sale WHERE till_id = ?", arguments: [tillID]) ?? 0
            }
        }
    }
}

extension TillDatabase {
    /// A journalled refund by its receipt number (0001-01-R00001), or `R` and this till's refund
    /// number (R1), rebuilt from the journal's tables for `till receipt`.
    public func completedRefund(receipt: String, till: TillIdentity) throws(TillStoreError) -> CompletedRefund? {
        try run("read refund \(receipt)") {
            try pool.read { db -> CompletedRefund? in
                let row: Row?
                if receipt.first == "R" || receipt.first == "r", let n = Int64(receipt.dropFirst()) {
                    row = try Row.fetchOne(db, sql: "SELECT * FROM refund WHERE till_id = ? AND sequence = ?", arguments: [till.tillID, n])
                } else {
                    row = try Row.fetchOne(db, sql: "SELECT * FROM refund WHERE receipt_number = ?", arguments: [receipt])
                }
                guard let row else { return nil }
                let id: String = row["id"]
                let cashierNumber: String = row["cashier_number"]
                let who = try Row.fetchOne(db, sql: "SELECT name, role FROM cashier WHERE number = ?", arguments: [cashierNumber])
                let cashier = Cashier(number: cashierNumber, name: who?["name"] ?? "Cashier \(cashierNumber)",
                                      role: (who?["role"] as String?).flatMap(Cashier.Role.init(rawValue:)) ?? .cashier)
                let lines = try Row.fetchAll(db, sql: """
                    SELECT l.*, p.sold_by_weight FROM refund_line l LEFT JOIN product p ON p.sku = l.sku
                    WHERE l.refund_id = ? ORDER BY l.line_number
                    """, arguments: [id]).map { l in
                    let milli: Int64 = l["quantity_milli"]
                    // Weighed: as the catalog has the item, or a quantity that is not whole units.
                    let weighed = (l["sold_by_weight"] as Int64?).map { $0 != 0 } ?? (milli % 1000 != 0)
                    return RefundLine(lineNumber: l["line_number"], sku: l["sku"], description: l["description"], quantity: Quantity(milli: milli),
                                      soldByWeight: weighed, amount: l["amount"], taxCode: l["tax_code"], taxBasisPoints: l["tax_rate_bp"])
                }
                let tenders = try Row.fetchAll(db, sql: "SELECT * FROM refund_tender WHERE refund_id = ? ORDER BY position", arguments: [id]).map { t in
                    RefundTender(kind: TenderKind(rawValue: t["kind"]) ?? .cash, amount: t["amount"], reference: t["reference"], points: (t["points"] as Int64?).map { Points($0) })
                }
                let vat = try Row.fetchAll(db, sql: "SELECT * FROM refund_vat WHERE refund_id = ? ORDER BY tax_code", arguments: [id]).map { v in
                    VATLine(code: v["tax_code"], basisPoints: v["rate_bp"], gross: v["gross"], vat: v["vat"], net: v["net"])
                }
                let originalID: String? = row["original_sale_id"]
                let originalReceipt = try originalID.flatMap {
                    try String.fetchOne(db, sql: "SELECT receipt_number FROM sale WHERE id = ? UNION ALL SELECT receipt_number FROM remote_sale WHERE id = ?",
                                        arguments: [$0, $0])
                }
                let plan = RefundPlan(
                    originalSaleID: originalID ?? "", originalReceipt: originalReceipt ?? "", lines: lines, total: row["total"], tenders: tenders,
                    pointsTakenBack: Points(row["points_taken_back"]), pointsRestored: Points(row["points_restored"]), cardNumber: row["card_number"], vat: vat,
                    withoutReceipt: originalID == nil)
                return CompletedRefund(id: id, sequence: row["sequence"], receiptNumber: row["receipt_number"], till: till,
                                       cashier: cashier, supervisor: row["supervisor_number"],
                                       at: row["created_at"], plan: plan, reason: row["reason"])
            }
        }
    }

    /// The slip printed (or queued) for a refund, as it went to the printer.
    public func refundJob(receipt: String) throws(TillStoreError) -> PrintJob? {
        try run("read the print queue") {
            try pool.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM print_job WHERE receipt_number = ? AND kind = 'refund' ORDER BY id LIMIT 1",
                                 arguments: [receipt]).map(Self.printJob)
            }
        }
    }
}
