public import TillCore

/// The catalog file format of `till import catalog` (documented in README "Catalog file").
///
/// A header row names the columns, in any order:
///
/// | column | required | meaning |
/// |---|---|---|
/// | sku | yes | the product's own code, 1–32 characters, unique in the file |
/// | description | yes | shown on screen and receipt, 1–60 characters |
/// | unit_price | yes | VAT-inclusive price with a decimal point, e.g. 1.99; per kg when sold by weight |
/// | tax_code | yes | one of the till's tax codes, e.g. A |
/// | barcodes | no | GTINs (EAN-13, EAN-8, UPC-A, GTIN-14) separated by `|` |
/// | plu | no | 1–6 digits, unique |
/// | category | no | free text, up to 40 characters |
/// | sold_by_weight | no | yes/no (also true/false, 1/0); empty is no |
public enum CatalogCSV {
    public static let required = ["sku", "description", "unit_price", "tax_code"]
    public static let optional = ["barcodes", "plu", "category", "sold_by_weight"]
    public static var columns: [String] { ["sku", "barcodes", "plu", "description", "unit_price", "tax_code", "category", "sold_by_weight"] }

    /// Parses and checks every row. Rows come back only when there are no issues at all.
    public static func parse(
        _ text: String, currency: Currency, taxCodes: Set<String>, rules: BarcodeRules
    ) -> (rows: [CatalogRow], issues: [ImportIssue]) {
        let records: [CSVRecord]
        do { records = try CSVReader.records(text) } catch {
            return ([], [ImportIssue(line: error.line, message: error.message)])
        }
        guard let header = records.first else {
            return ([], [ImportIssue(line: 1, message: "the file is empty: the first row must name the columns (\(columns.joined(separator: ",")))")])
        }
        let names = header.fields.map { $0.trimmingSpaces.lowercased() }
        var issues: [ImportIssue] = []
        for n in names where !columns.contains(n) {
            issues.append(ImportIssue(line: header.line, message: "unknown column '\(n)': the columns are \(columns.joined(separator: ", "))"))
        }
        for n in required where !names.contains(n) {
            issues.append(ImportIssue(line: header.line, message: "missing column '\(n)'"))
        }
        var seen = Set<String>()
        for n in names where !seen.insert(n).inserted {
            issues.append(ImportIssue(line: header.line, message: "column '\(n)' appears twice"))
        }
        guard issues.isEmpty else { return ([], issues) }
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })

        var rows: [CatalogRow] = []
        rows.reserveCapacity(records.count)
        var skuLine: [String: Int] = [:], barcodeLine: [String: Int] = [:], pluLine: [String: Int] = [:]
        for record in records.dropFirst() {
            let line = record.line
            guard record.fields.count == names.count else {
                issues.append(ImportIssue(line: line, message: "has \(record.fields.count) fields, the header has \(names.count)"))
                continue
            }
            func value(_ column: String) -> String {
                index[column].map { record.fields[$0].trimmingSpaces } ?? ""
            }
            let before = issues.count
            func bad(_ message: String) { issues.append(ImportIssue(line: line, message: message)) }

            let sku = value("sku")
            if sku.isEmpty || sku.count > 32 || sku.contains(where: \.isControl) {
                bad("sku '\(sku)' must be 1 to 32 characters")
            } else if let first = skuLine[sku] {
                bad("sku '\(sku)' is already on line \(first)")
            } else {
                skuLine[sku] = line
            }

            let description = value("description")
            if description.isEmpty || description.count > 60 || description.contains(where: \.isControl) {
                bad("description '\(description)' must be 1 to 60 characters")
            }

            let priceText = value("unit_price")
            var price = currency.parse(priceText)
            if price == nil {
                bad("unit_price '\(priceText)' is not a price: write it with a decimal point and at most \(currency.minorDigits) decimals, e.g. 1.99")
            } else if price! > Money.maximumMinor {
                bad("unit_price '\(priceText)' is more than the till accepts (\(currency.format(Money.maximumMinor)))")
                price = nil
            }

            let taxCode = value("tax_code")
            if !taxCodes.contains(taxCode) {
                bad("tax_code '\(taxCode)' is not one of this till's tax codes (\(taxCodes.sorted().joined(separator: ", ")))")
            }

            var barcodes: [String] = []
            for raw in value("barcodes").split(whereSeparator: { $0 == "|" || $0 == " " }).map(String.init) {
                guard GTIN.isValid(raw) else {
                    if raw.isAllASCIIDigits && [8, 12, 13, 14].contains(raw.count) {
                        bad("barcode \(raw) failed its check digit (expected \(GTIN.checkDigit(of: raw.dropLast())))")
                    } else {
                        bad("barcode '\(raw)' is not an EAN-13, EAN-8, UPC-A or GTIN-14")
                    }
                    continue
                }
                let code = GTIN.normalise(raw)
                if code.count == 13, rules.pricePrefixes.contains(String(code.prefix(2))) || rules.weightPrefixes.contains(String(code.prefix(2))) {
                    bad("barcode \(raw) starts with in-store prefix \(code.prefix(2)), which the till reads as a price or weight label: give the item a PLU instead")
                    continue
                }
                if let first = barcodeLine[code] {
                    bad("barcode \(raw) is already on line \(first)")
                    continue
                }
                barcodeLine[code] = line
                barcodes.append(code)
            }

            var plu: String?
            let pluText = value("plu")
            if !pluText.isEmpty {
                if pluText.isAllASCIIDigits, pluText.count <= 6, ProductCode.normalisePLU(pluText) != "0" {
                    let p = ProductCode.normalisePLU(pluText)
                    if let first = pluLine[p] { bad("PLU \(pluText) is already on line \(first)") } else {
                        pluLine[p] = line
                        plu = p
                    }
                } else {
                    bad("plu '\(pluText)' must be 1 to 6 digits (not all zeros)")
                }
            }

            let category = value("category")
            if category.count > 40 { bad("category '\(category)' is longer than 40 characters") }

            let weightText = value("sold_by_weight").lowercased()
            var soldByWeight = false
            switch weightText {
            case "", "no", "n", "false", "0": soldByWeight = false
            case "yes", "y", "true", "1": soldByWeight = true
            default: bad("sold_by_weight '\(weightText)' must be yes or no")
            }

            if issues.count == before, let price {
                rows.append(CatalogRow(line: line, product: Product(
                    sku: sku, barcodes: barcodes, plu: plu, description: description, unitPrice: price,
                    taxCode: taxCode, category: category, soldByWeight: soldByWeight)))
            }
        }
        return issues.isEmpty ? (rows, []) : ([], issues)
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

extension Character {
    var isControl: Bool { unicodeScalars.contains { $0.properties.generalCategory == .control } }
}

/// A product read from a catalog file, with the line it came from.
public struct CatalogRow: Sendable, Equatable {
    public var line: Int
    public var product: Product
    public init(line: Int, product: Product) {
        self.line = line
        self.product = product
    }
}
