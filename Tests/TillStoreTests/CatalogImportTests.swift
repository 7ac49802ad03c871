import Foundation
import Testing
import TillCore
import TillDocuments
import TillStore
import TillTestSupport

private func parse(_ text: String) -> (rows: [CatalogRow], issues: [ImportIssue]) {
    CatalogCSV.parse(text, currency: .eur, taxCodes: ["A", "B", "Z"], rules: BarcodeRules())
}

@Suite("CSV reader")
struct CSVReaderTests {
    @Test func quotedFieldsCommasQuotesAndNewlines() throws {
        let text = "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n\n3,4,5"
        let r = try CSVReader.records(text)
        #expect(r == [
            CSVRecord(line: 1, fields: ["a", "b", "c"]),
            CSVRecord(line: 2, fields: ["x, y", "say \"hi\"", "two\nlines"]),
            CSVRecord(line: 5, fields: ["3", "4", "5"]),
        ])
    }

    @Test func byteOrderMarkIsSkipped() throws {
        #expect(try CSVReader.records("\u{FEFF}sku,x\n1,2").first?.fields == ["sku", "x"])
    }

    @Test func anUnclosedQuoteNamesItsLine() {
        #expect(throws: CSVReader.Failure(line: 2, message: "a quote opened here is never closed")) {
            try CSVReader.records("a,b\n\"open,2\n3,4")
        }
    }
}

@Suite("Catalog import")
struct CatalogImportTests {
    let header = "sku,barcodes,plu,description,unit_price,tax_code,category,sold_by_weight\n"

    @Test func goodRowsAreNormalised() {
        let r = parse(header + "S1,036000291452|4006381333931,0042,Pens,1.49,A,Stationery,no\nS2,,7,Apples,2.5,B,Produce,yes\n")
        #expect(r.issues.isEmpty)
        #expect(r.rows == [
            CatalogRow(line: 2, product: Product(sku: "S1", barcodes: ["0036000291452", "4006381333931"], plu: "42",
                                                 description: "Pens", unitPrice: 149, taxCode: "A", category: "Stationery")),
            CatalogRow(line: 3, product: Product(sku: "S2", plu: "7", description: "Apples", unitPrice: 250, taxCode: "B",
                                                 category: "Produce", soldByWeight: true)),
        ])
    }

    @Test func everyBadRowIsReportedWithItsLineNumber() {
        let text = header + """
            S1,4006381333931,,Pens,1.49,A,,
            S2,4006381333932,,Bad check,1.00,A,,
            S3,,,Comma price,1,99,A,,
            S4,,,Bad tax,1.00,Q,,
            S1,,,Duplicate sku,1.00,A,,
            S5,4006381333931,,Duplicate barcode,1.00,A,,
            ,,,No sku,1.00,A,,
            S6,2300012009953,,In-store prefix,1.00,A,,
            S7,,12345678,Long PLU,1.00,A,,
            S8,,,Weight,1.00,A,,maybe
            """
        let r = parse(text)
        #expect(r.rows.isEmpty)
        #expect(r.issues == [
            ImportIssue(line: 3, message: "barcode 4006381333932 failed its check digit (expected 1)"),
            ImportIssue(line: 4, message: "has 9 fields, the header has 8"),
            ImportIssue(line: 5, message: "tax_code 'Q' is not one of this till's tax codes (A, B, Z)"),
            ImportIssue(line: 6, message: "sku 'S1' is already on line 2"),
            ImportIssue(line: 7, message: "barcode 4006381333931 is already on line 2"),
            ImportIssue(line: 8, message: "sku '' must be 1 to 32 characters"),
            ImportIssue(line: 9, message: "barcode 2300012009953 starts with in-store prefix 23, which the till reads as a price or weight label: give the item a PLU instead"),
            ImportIssue(line: 10, message: "plu '12345678' must be 1 to 6 digits (not all zeros)"),
            ImportIssue(line: 11, message: "sold_by_weight 'maybe' must be yes or no"),
        ])
    }

    @Test func priceWithACommaSaysHowToWriteIt() {
        let r = parse("sku,description,unit_price,tax_code\nS1,Pens,\"1,99\",A\n")
        #expect(r.issues == [ImportIssue(line: 2, message: "unit_price '1,99' is not a price: write it with a decimal point and at most 2 decimals, e.g. 1.99")])
    }

    @Test func aPriceAboveTheTillsMaximumIsRefused() {
        let r = parse("sku,description,unit_price,tax_code\nS1,Gold,99999999999999.00,A\n")
        #expect(r.issues == [ImportIssue(line: 2, message: "unit_price '99999999999999.00' is more than the till accepts (99999999999.99)")])
    }

    @Test func headerProblems() {
        #expect(parse("").issues.first?.message.hasPrefix("the file is empty") == true)
        #expect(parse("sku,desc,unit_price,tax_code\n").issues.map(\.message) == [
            "unknown column 'desc': the columns are sku, barcodes, plu, description, unit_price, tax_code, category, sold_by_weight",
            "missing column 'description'",
        ])
    }

    @Test func aConflictWithTheExistingCatalogImportsNothing() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        let before = try db.productCount()
        // Line 2 is fine; line 3 takes the milk's barcode from F0002, which is not in the file.
        let r = parse(header + "N1,,900,New thing,1.00,A,,\nN2,5012345678900,,Fake milk,1.00,B,,\n")
        #expect(r.issues.isEmpty)
        #expect(throws: TillStoreError.importRejected(
            file: "new.csv", issues: [ImportIssue(line: 3, message: "barcode 5012345678900 already belongs to SKU F0002")], totalIssues: 1)) {
            try db.importCatalog(r.rows, replace: false, file: "new.csv")
        }
        #expect(try db.productCount() == before)
        #expect(try db.product(plu: "900") == nil)
    }

    @Test func reimportingReplacesProductsBySKUAndCanMoveBarcodesBetweenThem() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir, products: [])
        try db.importCatalog(parse(header + "A,4006381333931,1,First,1.00,A,,\nB,5012345678900,2,Second,2.00,A,,\n").rows, replace: false, file: "f")
        // Swap the barcodes and PLUs of A and B in one import.
        try db.importCatalog(parse(header + "A,5012345678900,2,First,1.10,A,,\nB,4006381333931,1,Second,2.00,A,,\n").rows, replace: false, file: "f")
        #expect(try db.product(gtin: "5012345678900")?.sku == "A")
        #expect(try db.product(plu: "1")?.sku == "B")
        #expect(try db.product(sku: "A")?.unitPrice == 110)
        try db.importCatalog(parse(header + "C,,,Only,1.00,A,,\n").rows, replace: true, file: "f")
        #expect(try db.productCount() == 1)
    }

    /// The product search (Ctrl-T) follows the catalog: renamed, replaced and removed products
    /// are found by their new names only; words match the start of a word, any order, any case,
    /// accents ignored.
    @Test func theProductSearchFollowsEveryImport() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir, products: [])
        try db.importCatalog(parse(header + "A,,,Crème fraîche,1.00,A,Dairy,\nB,,,Orange juice,2.00,A,Beverages,\n").rows, replace: false, file: "f")
        #expect(try db.searchProducts("creme", limit: 20, offset: 0).products.map(\.sku) == ["A"])
        #expect(try db.searchProducts("JUICE or", limit: 20, offset: 0).products.map(\.sku) == ["B"])
        #expect(try db.searchProducts("bev", limit: 20, offset: 0).total == 1)
        #expect(try db.searchProducts("uice", limit: 20, offset: 0).total == 0, "the start of a word, not the middle")
        #expect(try db.searchProducts("\"juice* OR", limit: 20, offset: 0).total == 1, "quotes, stars and OR are what was keyed, not query syntax")
        try db.importCatalog(parse(header + "B,,,Apple juice,2.00,A,Beverages,\n").rows, replace: false, file: "f")
        #expect(try db.searchProducts("orange", limit: 20, offset: 0).total == 0)
        #expect(try db.searchProducts("apple", limit: 20, offset: 0).products.map(\.sku) == ["B"])
        try db.importCatalog(parse(header + "C,,,Tea,1.00,A,Grocery,\n").rows, replace: true, file: "f")
        #expect(try db.searchProducts("apple", limit: 20, offset: 0).total == 0)
        #expect(try db.searchProducts("crème", limit: 20, offset: 0).total == 0)
        #expect(try db.searchProducts("grocery tea", limit: 20, offset: 0).products.map(\.sku) == ["C"])
    }
}
