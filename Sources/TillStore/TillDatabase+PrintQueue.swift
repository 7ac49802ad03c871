import Foundation
import GRDB
public import TillCore
public import TillDocuments
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
