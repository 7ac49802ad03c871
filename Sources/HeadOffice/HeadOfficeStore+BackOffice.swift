import ESCPOS
import Foundation
import Receipts
public import TillCore
import TillDocuments
public import TillProtocol

extension HeadOfficeStore {
    /// Items whose SKU or description contains `query` (all, when empty), by SKU.
    public func searchProducts(_ query: String, limit: Int = 50) throws -> [Product] {
        try database.read { c in
            let like = "%" + query.lowercased() + "%"
            return try c.query("SELECT sku FROM products WHERE LOWER(sku) LIKE ? OR LOWER(description) LIKE ? ORDER BY sku LIMIT ?",
                               [.text(like), .text(like), .int(Int64(limit))]).map { $0.text("sku") }
        }.compactMap { try product(sku: $0) }
    }

    public func taxCodes() throws -> Set<String> {
        try database.read { c in Set(try c.query("SELECT DISTINCT tax_code FROM products", []).map { $0.text("tax_code") }) }.union(["A", "B", "Z"])
    }

    /// A sale's document by receipt number; only of `store` when one is given (a store manager
    /// sees their own store's receipts only).
    public func saleDocument(receipt: String, store: String?) throws -> SaleDocument? {
        guard (1...40).contains(receipt.utf8.count) else { return nil }
        let json = try database.read { c in
            if let store {
                return try c.queryOne("SELECT document FROM sales WHERE receipt_number = ? AND store_id = ?", [.text(receipt), .text(store)])?.text("document")
            }
            return try c.queryOne("SELECT document FROM sales WHERE receipt_number = ?", [.text(receipt)])?.text("document")
        }
        return try json.map { try JSONDecoder().decode(SaleDocument.self, from: Data($0.utf8)) }
    }

    /// A sale's receipt as the virtual printer draws it (SVG), by receipt number, within `store`.
    public func receiptSVG(_ receipt: String, store: String? = nil) throws -> String? {
        guard let doc = try saleDocument(receipt: receipt, store: store) else { return nil }
        return try Self.receiptSVG(doc, heading: try receiptHeading(doc))
    }

    /// What a store's receipts print above and below the sale: its name and address (`headoffice
    /// store set`), and the header and footer lines of the settings published for it, as in
    /// force when the sale was made.
    public struct ReceiptHeading: Sendable, Equatable {
        public var storeName: String
        public var address: [String] = []
        public var header: [String] = []
        public var footer: [String] = []
    }

    /// The heading of a sale's receipt: its store's, with the settings its till had then.
    public func receiptHeading(_ doc: SaleDocument) throws -> ReceiptHeading {
        var heading = ReceiptHeading(storeName: "Store \(doc.storeID)")
        if let s = try self.store(doc.storeID) {
            heading.storeName = s.name
            heading.address = s.address
        }
        // The newest settings in force when the sale was made, for the chain, the store's groups,
        // the store or the till, that set each part (as the till applied them, in that order).
        let till = TillCredential(storeID: doc.storeID, tillID: doc.tillID)
        let time = ProtocolTime.parse(doc.completedAt) ?? Self.now()
        let published = try database.read { c in
            try c.query("""
                SELECT * FROM publications WHERE kind = 'settings' AND effective_at <= ? AND \(Self.meantFor)
                ORDER BY effective_at DESC, version DESC LIMIT 200
                """, [.int(time)] + Self.meantFor(till)).map(Self.publication)
        }
        if let h = published.lazy.compactMap({ $0.settings?.receiptHeader }).first { heading.header = h }
        if let f = published.lazy.compactMap({ $0.settings?.receiptFooter }).first { heading.footer = f }
        return heading
    }

    /// A store as its receipts name it.
    public struct StoreDetails: Sendable, Equatable {
        public var id: String
        public var name: String
        public var address: [String]
        public init(id: String, name: String, address: [String]) {
            self.id = id
            self.name = name
            self.address = address
        }
    }

    public func store(_ id: String) throws -> StoreDetails? {
        try database.read { c in try c.queryOne("SELECT * FROM stores WHERE store_id = ?", [.text(id)]).map(Self.storeDetails) }
    }

    public func stores() throws -> [StoreDetails] {
        try database.read { c in try c.query("SELECT * FROM stores ORDER BY store_id", []).map(Self.storeDetails) }
    }

    static func storeDetails(_ row: SQLRow) -> StoreDetails {
        StoreDetails(id: row.text("store_id"), name: row.text("name"), address: row.text("address").split(separator: "\n").map(String.init))
    }

    /// Adds or changes a store's name and address lines (as its tills' [store] name and address).
    public func saveStore(_ s: StoreDetails) throws {
        _ = try database.write { c in
            try c.execute("""
                INSERT INTO stores (store_id, name, address) VALUES (?, ?, ?)
                ON CONFLICT (store_id) DO UPDATE SET name = excluded.name, address = excluded.address
                """, [.text(s.id), .text(s.name), .text(s.address.joined(separator: "\n"))])
        }
    }

    /// Draws a sale's receipt as the paper shows it. Bounded: a document's lines and texts are
    /// within `DocumentBounds`, so this takes milliseconds.
    public static func receiptSVG(_ doc: SaleDocument, heading: ReceiptHeading? = nil) throws -> String {
        let heading = heading ?? ReceiptHeading(storeName: "Store \(doc.storeID)")
        let sale = try CompletedSale(document: doc, storeName: heading.storeName)
        let profile = try PrinterProfile.named("generic-80")
        let template = try ReceiptTemplate(named: "sale.receipt", from: BuiltInTemplates(), schema: SaleReceipt.schema, maxImageWidth: 576)
        let data = SaleReceipt.data(sale, date: ProtocolTime.display(sale.completedAt, timeZone: TimeZone(identifier: "UTC")!),
                                    address: heading.address, header: heading.header, footer: heading.footer)
        let bytes = try template.render(data, columns: 48)
            .escpos(profile: profile, paperWidthMM: 80)
        var v = try VirtualPrinter(profile: profile, paperWidthMM: 80)
        v.feed(bytes)
        return v.svg
    }
}

extension HeadOfficeStore {
    public func groupNames() throws -> [String] {
        try database.read { c in try c.query("SELECT DISTINCT group_name FROM store_groups ORDER BY group_name", []).map { $0.text("group_name") } }
    }
}
