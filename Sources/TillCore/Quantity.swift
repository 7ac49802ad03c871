/// A quantity in thousandths: 3 items are 3000; 0.750 kg is 750.
///
/// Items sold by unit always have whole quantities; items sold by weight are in kilograms
/// with up to three decimals (grams).
public struct Quantity: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    /// Thousandths of a unit (or grams, for a weighed item).
    public var milli: Int64

    public init(milli: Int64) { self.milli = milli }

    public static func units(_ n: Int64) -> Quantity { Quantity(milli: n * 1000) }
    public static let one = Quantity(milli: 1000)

    /// The largest quantity a line may have: 9,999 units or 9,999 kg.
    public static let maximum = Quantity.units(9_999)

    public var isWhole: Bool { milli % 1000 == 0 }
    public var wholeUnits: Int64 { milli / 1000 }

    public static func < (lhs: Quantity, rhs: Quantity) -> Bool { lhs.milli < rhs.milli }

    /// "3" for whole quantities, "0.750" otherwise.
    public var description: String {
        if isWhole { return String(milli / 1000) }
        let frac = String(milli.magnitude % 1000)
        return (milli < 0 ? "-" : "") + String(milli.magnitude / 1000) + "."
            + String(repeating: "0", count: 3 - frac.count) + frac
    }

    /// Parses "3", "0.75", "1.250" exactly; nil for anything else (no sign, at most 3 decimals).
    public static func parse(_ text: String) -> Quantity? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return nil }
        let whole = parts[0], fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= 3, !(whole.isEmpty && fraction.isEmpty) else { return nil }
        if parts.count == 2 && fraction.isEmpty { return nil }
        guard whole.allSatisfy(\.isASCIIDigit), fraction.allSatisfy(\.isASCIIDigit) else { return nil }
        let digits = String(whole) + fraction + String(repeating: "0", count: 3 - fraction.count)
        guard let milli = Int64(decimalDigits: digits) else { return nil }
        return Quantity(milli: milli)
    }
}
