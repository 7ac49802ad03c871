import GRDB
public import TillCore
public import TillDocuments

extension TillDatabase: ProductCatalog {
    public func product(gtin: String) throws -> Product? {
        try run("look up barcode \(gtin)") {
            try pool.read { db in
                let stmt = try db.cachedStatement(sql: """
                    SELECT p.*, \(Self.codesColumn) FROM barcode b JOIN product p ON p.sku = b.sku WHERE b.code = ?
                    """)
                return try Row.fetchOne(stmt, arguments: [gtin]).map(Self.product(from:))
            }
        }
    }

    public func product(plu: String) throws -> Product? {
        try run("look up PLU \(plu)") {
            try pool.read { db in
                let stmt = try db.cachedStatement(sql: "SELECT p.*, \(Self.codesColumn) FROM product p WHERE plu = ?")
                return try Row.fetchOne(stmt, arguments: [plu]).map(Self.product(from:))
            }
        }
    }

    public func searchProducts(_ text: String, limit: Int, offset: Int) throws -> (products: [Product], total: Int) {
        // Each word the start of a word of the name or category (the full-text index: any case,
        // accents ignored); what was keyed is quoted, so no character of it is query syntax.
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).prefix(6)
        guard !words.isEmpty else { return ([], 0) }
        let match = words.map { "\"" + $0.reduce(into: "") { out, c in out.append(c); if c == "\"" { out.append("\"") } } + "\"*" }
            .joined(separator: " ")
        return try run("search the catalog for '\(text)'") {
            try pool.read { db in
                let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM product_search WHERE product_search MATCH ?", arguments: [match]) ?? 0
                let rows = try Row.fetchAll(db, sql: """
                    SELECT p.*, \(Self.codesColumn) FROM product_search s JOIN product p ON p.rowid = s.rowid
                    WHERE product_search MATCH ? ORDER BY p.description, p.sku LIMIT ? OFFSET ?
                    """, arguments: [match, max(1, limit), max(0, offset)])
                return (rows.map(Self.product(from:)), total)
            }
        }
    }

    /// Head office's suggestions for an item, best first, as products (those not sold here left out).
    public func suggestions(for sku: String) throws -> [Product] {
        try run("look up suggestions for \(sku)") {
            try pool.read { db in
                let stmt = try db.cachedStatement(sql: """
                    SELECT p.*, \(Self.codesColumn) FROM suggestion s JOIN product p ON p.sku = s.also WHERE s.sku = ? ORDER BY s.rank
                    """)
                return try Row.fetchAll(stmt, arguments: [sku]).map(Self.product(from:))
            }
        }
    }

    /// The product search's index made again from the catalog: after every import, in the
    /// import's transaction (a rebuild is much faster than keeping it row by row).
    static func rebuildProductSearch(_ db: Database) throws {
        try db.execute(sql: "INSERT INTO product_search(product_search) VALUES ('rebuild')")
    }

    /// Finds a product by SKU.
    public func product(sku: String) throws(TillStoreError) -> Product? {
        try run("look up SKU \(sku)") {
            try pool.read { db in
                try Row.fetchOne(db, sql: "SELECT p.*, \(Self.codesColumn) FROM product p WHERE sku = ?", arguments: [sku])
                    .map(Self.product(from:))
            }
        }
    }

    public func productCount() throws(TillStoreError) -> Int {
        try run("count products") { try pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM product") ?? 0 } }
    }

    /// The product's barcodes in one column, so a lookup is one statement.
    private static let codesColumn = "(SELECT group_concat(code, ' ') FROM barcode WHERE sku = p.sku) AS codes"

    private static func product(from row: Row) -> Product {
        let codes: String? = row["codes"]
        return Product(
            sku: row["sku"], barcodes: codes.map { $0.split(separator: " ").map(String.init).sorted() } ?? [], plu: row["plu"], description: row["description"],
            unitPrice: row["unit_price"], taxCode: row["tax_code"], category: row["category"],
            soldByWeight: row["sold_by_weight"])
    }

    /// Writes catalog rows in one transaction: all of them or, on any conflict, none.
    ///
    /// Each product replaces the one with the same SKU (and its barcodes). With `replace`, every
    /// product not in `rows` is removed. A barcode or PLU held by a product that is neither in
    /// `rows` nor removed is a conflict, reported with the row's line number.
    public func importCatalog(_ rows: [CatalogRow], replace: Bool, file: String) throws(TillStoreError) {
        let issues: [ImportIssue] = try run("import the catalog") {
            try pool.write { db -> [ImportIssue] in
                var issues: [ImportIssue] = []
                let fileSKUs = Set(rows.map(\.product.sku))
                if replace {
                    try db.execute(sql: "DELETE FROM product")
                } else {
                    let owner = try db.cachedStatement(sql: "SELECT sku FROM barcode WHERE code = ?")
                    let pluOwner = try db.cachedStatement(sql: "SELECT sku FROM product WHERE plu = ?")
                    for row in rows {
                        for code in row.product.barcodes {
                            if let sku = try String.fetchOne(owner, arguments: [code]), !fileSKUs.contains(sku) {
                                issues.append(ImportIssue(line: row.line, message: "barcode \(code) already belongs to SKU \(sku)"))
                            }
                        }
                        if let plu = row.product.plu,
                           let sku = try String.fetchOne(pluOwner, arguments: [plu]), !fileSKUs.contains(sku) {
                            issues.append(ImportIssue(line: row.line, message: "PLU \(plu) already belongs to SKU \(sku)"))
                        }
                    }
                    guard issues.isEmpty else { return issues }
                    let delete = try db.cachedStatement(sql: "DELETE FROM product WHERE sku = ?")
                    for row in rows { try delete.execute(arguments: [row.product.sku]) }
                }
                try Self.insert(rows.map(\.product), db: db)
                return []
            }
        }
        if !issues.isEmpty {
            throw .importRejected(file: file, issues: Array(issues.prefix(100)), totalIssues: issues.count)
        }
    }

    static func insert(_ products: [Product], db: Database) throws {
        let insertProduct = try db.cachedStatement(sql: """
            INSERT INTO product (sku, plu, description, unit_price, tax_code, category, sold_by_weight)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        let insertBarcode = try db.cachedStatement(sql: "INSERT INTO barcode (code, sku) VALUES (?, ?)")
        for p in products {
            try insertProduct.execute(arguments: [
                p.sku, p.plu, p.description, p.unitPrice, p.taxCode, p.category, p.soldByWeight,
            ])
            for code in p.barcodes { try insertBarcode.execute(arguments: [code, p.sku]) }
        }
        try rebuildProductSearch(db)
    }
}
