/// A currency: its ISO 4217 code and how many minor units make one major unit.
public struct Currency: Hashable, Sendable, Codable {
    /// ISO 4217 code, e.g. "EUR".
    public let code: String
    /// Digits after the decimal point: 2 for EUR, 0 for JPY, 3 for KWD.
    public let minorDigits: Int

    public init(code: String, minorDigits: Int) {
        self.code = code
        self.minorDigits = minorDigits
    }

    public static let eur = Currency(code: "EUR", minorDigits: 2)
    public static let gbp = Currency(code: "GBP", minorDigits: 2)
    public static let usd = Currency(code: "USD", minorDigits: 2)
    public static let rub = Currency(code: "RUB", minorDigits: 2)
    public static let jpy = Currency(code: "JPY", minorDigits: 0)

    /// Known currencies by code; an unknown three-letter code is assumed to have 2 minor digits
    /// only when the caller says so (see `init?(code:)`).
    static let known: [String: Int] = [
        "EUR": 2, "GBP": 2, "USD": 2, "RUB": 2, "CHF": 2, "SEK": 2, "NOK": 2, "DKK": 2,
        "PLN": 2, "CZK": 2, "HUF": 2, "CAD": 2, "AUD": 2, "NZD": 2, "JPY": 0, "KRW": 0,
        "KWD": 3, "BHD": 3, "TND": 3,
    ]

    /// A currency from its ISO code, or nil when the code is not one this till knows.
    public init?(code: String) {
        let upper = code.uppercased()
        guard let digits = Currency.known[upper] else { return nil }
        self.init(code: upper, minorDigits: digits)
    }

    /// The minor units in one major unit (100 for EUR).
    public var minorPerMajor: Int64 {
        var v: Int64 = 1
        for _ in 0..<minorDigits { v *= 10 }
        return v
    }

    /// Formats minor units as a plain decimal: 1234 → "12.34", -5 → "-0.05".
    public func format(_ minor: Int64) -> String {
        // Digits written backwards into a stack buffer: this runs for every amount on every receipt.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { digits in
            var i = digits.count
            var m = minor.magnitude
            var written = 0
            repeat {
                if written == minorDigits && minorDigits > 0 {
                    i -= 1
                    digits[i] = UInt8(ascii: ".")
                }
                i -= 1
                digits[i] = UInt8(ascii: "0") + UInt8(m % 10)
                m /= 10
                written += 1
            } while m > 0 || written <= minorDigits
            if minor < 0 {
                i -= 1
                digits[i] = UInt8(ascii: "-")
            }
            return String(decoding: UnsafeBufferPointer(rebasing: digits[i...]), as: UTF8.self)
        }
    }

    /// Parses a plain decimal amount ("12", "12.3", "12.34") into minor units, exactly.
    /// Returns nil for anything else: signs, grouping, too many decimals, overflow.
    public func parse(_ text: String) -> Int64? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return nil }
        let whole = parts[0]
        let fraction = parts.count == 2 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty) else { return nil }
        guard fraction.count <= minorDigits else { return nil }
        guard whole.allSatisfy(\.isASCIIDigit), fraction.allSatisfy(\.isASCIIDigit) else { return nil }
        if parts.count == 2 && fraction.isEmpty { return nil }
        let digits = String(whole) + String(fraction) + String(repeating: "0", count: minorDigits - fraction.count)
        return Int64(decimalDigits: digits)
    }
}

/// An amount of money: Int64 minor units in a currency. Never floating point.
public struct Money: Hashable, Sendable, Codable, CustomStringConvertible {
    public var minor: Int64
    public var currency: Currency

    public init(minor: Int64, currency: Currency) {
        self.minor = minor
        self.currency = currency
    }

    /// The largest amount the till accepts for a line, a sale or a tender (in minor units).
    /// Far above any real sale; it keeps every sum well inside Int64.
    public static let maximumMinor: Int64 = 9_999_999_999_999

    public var description: String { currency.format(minor) }
}

extension Character {
    /// 0–9 and nothing else: a digit with a combining mark ("5\u{308}") sorts between "0" and "9"
    /// as a Character but is not one (found by fuzzing the catalog importer: it trapped there).
    public var isASCIIDigit: Bool { asciiValue.map { (48...57).contains($0) } ?? false }
}

extension StringProtocol {
    /// True when the text is non-empty and made of ASCII digits only.
    public var isAllASCIIDigits: Bool { !isEmpty && utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }
}

extension Int64 {
    /// Parses ASCII digits only (no sign), nil on overflow or any other character.
    init?<S: StringProtocol>(decimalDigits text: S) {
        guard text.isAllASCIIDigits else { return nil }
        var value: Int64 = 0
        for ch in text.utf8 {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(ch - 48))
            if o1 || o2 { return nil }
            value = a
        }
        self = value
    }
}

/// Exact integer arithmetic for money with the till's single rounding rule.
///
/// **Rounding rule** (also in README.md): whenever an amount must be divided — a weighed
/// line (price per kg × grams ÷ 1000), a percentage discount, the VAT contained in a
/// VAT-inclusive total — the exact rational result is rounded **half away from zero** to
/// the nearest minor unit, once, at the end. Intermediate products use 128-bit arithmetic,
/// so nothing is rounded twice and nothing overflows silently.
public enum MinorUnits {
    /// `a × b ÷ c`, rounded half away from zero. Nil when the result does not fit in Int64.
    public static func mulDivRounded(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64? {
        guard let (q, r, negative) = mulDivParts(a, b, c) else { return nil }
        let divisor = c.magnitude
        var magnitude = q
        if r >= divisor - r { // r * 2 >= divisor, without overflow
            let (next, overflow) = magnitude.addingReportingOverflow(1)
            if overflow { return nil }
            magnitude = next
        }
        return signed(magnitude, negative: negative)
    }

    /// `a × b ÷ c` truncated toward zero, with the remainder magnitude; for largest-remainder
    /// allocation. Nil on overflow.
    public static func mulDivTruncating(_ a: Int64, _ b: Int64, _ c: Int64) -> (quotient: Int64, remainder: UInt64)? {
        guard let (q, r, negative) = mulDivParts(a, b, c) else { return nil }
        guard let value = signed(q, negative: negative) else { return nil }
        return (value, r)
    }

    private static func mulDivParts(_ a: Int64, _ b: Int64, _ c: Int64) -> (UInt64, UInt64, Bool)? {
        precondition(c != 0, "division by zero in money arithmetic")
        let negative = ((a < 0) != (b < 0)) != (c < 0)
        let product = a.magnitude.multipliedFullWidth(by: b.magnitude)
        let divisor = c.magnitude
        guard product.high < divisor else { return nil } // quotient would not fit in 64 bits
        let (q, r) = divisor.dividingFullWidth(product)
        return (q, r, negative && (q != 0 || r != 0))
    }

    private static func signed(_ magnitude: UInt64, negative: Bool) -> Int64? {
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// Checked sum; nil on overflow or when above `Money.maximumMinor`.
    /// `total` spread over `weights` in proportion, largest remainder first (ties to the earlier
    /// one), so the shares add up to `total` exactly; all zero when the weights add up to nothing.
    /// `total` must not exceed the sum of the (non-negative) weights.
    public static func shares(of total: Int64, over weights: [Int64]) -> [Int64] {
        var shares = [Int64](repeating: 0, count: weights.count)
        guard total > 0, let sum = MinorUnits.sum(weights), sum > 0 else { return shares }
        var allocated: Int64 = 0
        var remainders: [(index: Int, remainder: UInt64)] = []
        for (i, w) in weights.enumerated() where w > 0 {
            guard let (q, r) = mulDivTruncating(total, w, sum) else { continue }
            shares[i] = q
            allocated += q
            remainders.append((i, r))
        }
        var left = total - allocated
        remainders.sort { $0.remainder != $1.remainder ? $0.remainder > $1.remainder : $0.index < $1.index }
        for entry in remainders where left > 0 {
            shares[entry.index] += 1
            left -= 1
        }
        return shares
    }

    public static func sum<S: Sequence>(_ values: S) -> Int64? where S.Element == Int64 {
        var total: Int64 = 0
        for v in values {
            let (s, o) = total.addingReportingOverflow(v)
            if o || s > Money.maximumMinor || s < -Money.maximumMinor { return nil }
            total = s
        }
        return total
    }
}
