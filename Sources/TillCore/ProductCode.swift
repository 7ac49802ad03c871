/// In-store barcode prefixes (GS1 restricted circulation numbers, usually 20–29).
///
/// A 13-digit barcode whose first two digits are in `pricePrefixes` is read as
/// `PP IIIII VVVVV C`: item code (the product's PLU), the price in minor units, the check
/// digit. With a prefix in `weightPrefixes`, `VVVVV` is the weight in grams.
public struct BarcodeRules: Sendable, Hashable {
    public var pricePrefixes: Set<String>
    public var weightPrefixes: Set<String>

    public init(pricePrefixes: Set<String> = ["22", "23"], weightPrefixes: Set<String> = ["21", "28"]) {
        self.pricePrefixes = pricePrefixes
        self.weightPrefixes = weightPrefixes
    }
}

/// What a keyed or scanned code means.
public enum ProductCode: Hashable, Sendable {
    /// A catalog GTIN, normalised: EAN-8 as 8 digits; UPC-A as 13 digits with a leading 0;
    /// EAN-13 as is; GTIN-14 with a leading 0 as its 13-digit form, else 14 digits.
    case gtin(String)
    /// A PLU, without leading zeros.
    case plu(String)
    /// An in-store label carrying the price of the item with this PLU.
    case priceEmbedded(plu: String, price: Int64, code: String)
    /// An in-store label carrying the weight in grams of the item with this PLU.
    case weightEmbedded(plu: String, grams: Int64, code: String)

    /// Classifies keyed or scanned digits; validates check digits.
    public static func classify(_ raw: String, rules: BarcodeRules) throws(SaleError) -> ProductCode {
        let input = raw
        guard input.isAllASCIIDigits else { throw .notAProductCode(raw) }
        switch input.count {
        case 1...6:
            let plu = normalisePLU(input)
            guard plu != "0" else { throw .notAProductCode(raw) }
            return .plu(plu)
        case 8, 12, 13, 14:
            let expected = GTIN.checkDigit(of: input.dropLast())
            guard input.last == expected else { throw .badCheckDigit(code: input, expected: expected) }
            let gtin = GTIN.normalise(input)
            if gtin.count == 13 {
                let prefix = String(gtin.prefix(2))
                let digits = Array(gtin)
                let item = normalisePLU(String(digits[2..<7]))
                let value = Int64(decimalDigits: String(digits[7..<12]))!
                if rules.weightPrefixes.contains(prefix) {
                    return .weightEmbedded(plu: item, grams: value, code: gtin)
                }
                if rules.pricePrefixes.contains(prefix) {
                    return .priceEmbedded(plu: item, price: value, code: gtin)
                }
            }
            return .gtin(gtin)
        default:
            throw .notAProductCode(raw)
        }
    }

    /// Strips leading zeros: "00012" → "12"; "0" stays "0".
    public static func normalisePLU<S: StringProtocol>(_ s: S) -> String {
        let trimmed = s.drop(while: { $0 == "0" })
        return trimmed.isEmpty ? "0" : String(trimmed)
    }
}

/// GTIN check digits (EAN-8, UPC-A, EAN-13, GTIN-14 share one algorithm).
public enum GTIN {
    /// The check digit for the given digits (without their check digit): weights 3 and 1
    /// alternate from the rightmost digit, and the check digit brings the sum to a multiple of 10.
    public static func checkDigit<S: StringProtocol>(of digits: S) -> Character {
        var sum = 0
        for (i, ch) in digits.reversed().enumerated() {
            let d = Int(ch.asciiValue! - 48)
            sum += i % 2 == 0 ? d * 3 : d
        }
        let check = (10 - sum % 10) % 10
        return Character(String(check))
    }

    /// True when the digits are 8, 12, 13 or 14 long and their last digit checks.
    public static func isValid(_ code: String) -> Bool {
        guard code.isAllASCIIDigits, [8, 12, 13, 14].contains(code.count) else { return false }
        return code.last == checkDigit(of: code.dropLast())
    }

    /// The normalised form under which a barcode is stored and looked up.
    public static func normalise(_ code: String) -> String {
        switch code.count {
        case 12: return "0" + code
        case 14 where code.hasPrefix("0"): return String(code.dropFirst())
        default: return code
        }
    }

    /// Appends the check digit: "400638133393" → "4006381333931".
    public static func withCheckDigit(_ digits: String) -> String {
        digits + String(checkDigit(of: digits))
    }
}
