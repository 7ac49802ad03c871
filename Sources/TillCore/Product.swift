/// A VAT rate by code, in basis points: 2000 is 20%.
public struct TaxRate: Hashable, Sendable, Codable {
    public var code: String
    public var basisPoints: Int64

    public init(code: String, basisPoints: Int64) {
        self.code = code
        self.basisPoints = basisPoints
    }

    /// "20%" or "5.5%".
    public var percentText: String {
        let whole = basisPoints / 100, frac = basisPoints % 100
        if frac == 0 { return "\(whole)%" }
        return frac % 10 == 0 ? "\(whole).\(frac / 10)%" : "\(whole).\(frac < 10 ? "0" : "")\(frac)%"
    }

    /// Parses a percentage such as "20", "5.5" or "7.25%" into basis points; nil if invalid
    /// or outside 0–100%.
    public static func parsePercent(_ text: String) -> Int64? {
        var t = text
        if t.hasSuffix("%") { t.removeLast() }
        guard let bp = Currency(code: "PCT", minorDigits: 2).parse(t), bp <= 10_000 else { return nil }
        return bp
    }
}

/// A product in the catalog. Prices are VAT-inclusive, in minor units; for an item sold by
/// weight the price is per kilogram.
public struct Product: Hashable, Sendable, Codable {
    public var sku: String
    /// Normalised GTINs (see `ProductCode`): EAN-8, EAN-13 (UPC-A gets a leading 0), GTIN-14.
    public var barcodes: [String]
    /// Normalised PLU (no leading zeros), if the product has one.
    public var plu: String?
    public var description: String
    public var unitPrice: Int64
    public var taxCode: String
    public var category: String
    public var soldByWeight: Bool

    public init(
        sku: String, barcodes: [String] = [], plu: String? = nil, description: String,
        unitPrice: Int64, taxCode: String, category: String = "", soldByWeight: Bool = false
    ) {
        self.sku = sku
        self.barcodes = barcodes
        self.plu = plu
        self.description = description
        self.unitPrice = unitPrice
        self.taxCode = taxCode
        self.category = category
        self.soldByWeight = soldByWeight
    }
}
