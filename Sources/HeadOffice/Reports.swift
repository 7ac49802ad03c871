import Foundation
public import TillProtocol

/// A line of one of head office's reports.
public struct ReportEntry: Sendable, Hashable, Codable {
    public var kind: String
    public var card: String?
    public var document: String?
    public var till: String?
    public var detail: String
    public var at: Int64
}

/// What ingest reports, for `headoffice report` and the tests.
extension HeadOfficeStore {
    /// Offline overdrafts, cards used while blocked or lost, repeated registrations.
    public func exceptions() throws -> [ReportEntry] {
        try database.read { c in
            try c.query("SELECT * FROM exceptions ORDER BY id", []).map { r in
                ReportEntry(kind: r.text("kind"), card: r["card_number"].text, document: r["sale_id"].text,
                            till: r["store_id"].text.map { $0 + "/" + r.text("till_id") }, detail: r.text("detail"), at: r.int("created_at"))
            }
        }
    }

    /// Writes one row and commits it: throws when head office cannot store anything (a full disk,
    /// a read-only file, a database that refuses writes).
    public func probeWrite(at time: Int64 = HeadOfficeStore.now()) throws {
        _ = try database.write { c in
            try c.execute("""
                INSERT INTO health_probe (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at
                """, [.int(time)])
        }
    }

    /// Sales whose points head office computes differently (or could not check).
    public func discrepancies() throws -> [ReportEntry] {
        try database.read { c in
            try c.query("SELECT * FROM discrepancies ORDER BY id", []).map {
                ReportEntry(kind: $0.text("kind"), card: $0["card_number"].text, document: $0.text("sale_id"), till: nil,
                            detail: $0.text("detail"), at: $0.int("created_at"))
            }
        }
    }

    /// Documents head office refused to apply.
    public func rejects() throws -> [ReportEntry] {
        try database.read { c in
            try c.query("SELECT * FROM rejects ORDER BY id", []).map {
                ReportEntry(kind: $0.text("kind"), card: nil, document: $0.text("document_id"), till: $0.text("store_id") + "/" + $0.text("till_id"),
                            detail: $0.text("reason"), at: $0.int("received_at"))
            }
        }
    }

    /// The sales of a till head office holds, by sequence.
    public func sales(of till: TillCredential) throws -> [SaleDocument] {
        let texts = try database.read { c in
            try c.query("SELECT document FROM sales WHERE store_id = ? AND till_id = ? ORDER BY sequence",
                        [.text(till.storeID), .text(till.tillID)]).map { $0.text("document") }
        }
        let decoder = JSONDecoder()
        return try texts.map { try decoder.decode(SaleDocument.self, from: Data($0.utf8)) }
    }

    /// The refunds head office holds (each once).
    public func refundCount() throws -> Int {
        try database.read { c in Int(try c.queryOne("SELECT COUNT(*) AS n FROM refunds", [])?.int("n") ?? 0) }
    }

    /// A till's Z reports as received: number and net sales, oldest first.
    public func zReports(of till: TillCredential) throws -> [(number: Int64, netSales: Int64)] {
        try database.read { c in
            try c.query("SELECT number, net_sales FROM z_reports WHERE store_id = ? AND till_id = ? ORDER BY number",
                        [.text(till.storeID), .text(till.tillID)]).map { ($0.int("number"), $0.int("net_sales")) }
        }
    }

    public func saleCount() throws -> Int {
        try database.read { c in Int(try c.queryOne("SELECT COUNT(*) AS n FROM sales", [])?.int("n") ?? 0) }
    }

    /// The sales head office holds, from each till's running count (cheap, for /health and
    /// /metrics; `saleCount` counts the rows).
    public func receivedCount() throws -> Int {
        try database.read { c in Int(try c.queryOne("SELECT COALESCE(SUM(sales_count), 0) AS n FROM tills", [])?.int("n") ?? 0) }
    }

    /// A card's balance, or nil when head office does not know the card.
    public func balance(of card: String) throws -> Int64? {
        try database.read { c in try c.queryOne("SELECT balance FROM cards WHERE number = ?", [.text(card)])?.int("balance") }
    }

    /// Cards whose balance is not the sum of their ledger movements (always empty, unless the
    /// database was edited by hand).
    public func ledgerMismatches() throws -> [(card: String, balance: Int64, movements: Int64)] {
        try database.read { c in
            try c.query("""
                SELECT c.number, c.balance, COALESCE(SUM(l.points), 0) AS movements FROM cards c LEFT JOIN ledger l ON l.card_number = c.number
                GROUP BY c.number, c.balance HAVING c.balance <> COALESCE(SUM(l.points), 0)
                """, []).map { ($0.text("number"), $0.int("balance"), $0.int("movements")) }
        }
    }
}

extension Int64 {
    /// The sum, held at the bounds instead of trapping (report figures of bounded documents).
    func addingClamped(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}
