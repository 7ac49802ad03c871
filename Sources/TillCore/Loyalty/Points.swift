/// A number of loyalty points. Points are not money: they have their own type, so the compiler
/// refuses a sum of points and minor units, or points passed where an amount is meant (and the
/// other way round). Converting is explicit and goes through the programme's tables
/// (`LoyaltyProgramme.value(ofPoints:)`, `points(forAmount:)`).
///
/// On the wire, in programme files and in the databases a number of points is a plain integer:
/// `Points` encodes and decodes as one, so documents are unchanged.
public struct Points: Hashable, Comparable, Sendable, Codable, CustomStringConvertible, ExpressibleByIntegerLiteral, AdditiveArithmetic {
    /// How many points (negative for points taken away).
    public var count: Int64

    public init(_ count: Int64) { self.count = count }
    public init(integerLiteral value: Int64) { count = value }

    public static let zero = Points(0)

    /// The most points any one movement, balance or programme figure may hold: far above any real
    /// balance, it keeps every sum of a day's movements inside Int64.
    public static let maximum = Points(9_999_999_999_999)

    public var description: String { String(count) }

    public static func < (a: Points, b: Points) -> Bool { a.count < b.count }

    /// Sums of values already bounded (by `maximum`, by the programme's checks or by the
    /// document bounds): as Int64's operators, these trap on overflow, which bounded values cannot
    /// reach. Anything from outside is added with `adding(_:)`.
    @inlinable public static func + (a: Points, b: Points) -> Points { Points(a.count + b.count) }
    public static func - (a: Points, b: Points) -> Points { Points(a.count - b.count) }
    public static prefix func - (a: Points) -> Points { Points(-a.count) }

    /// The sum, or nil where it would not fit in Int64 (checked arithmetic for numbers from outside).
    public func adding(_ other: Points) -> Points? {
        let (sum, overflow) = count.addingReportingOverflow(other.count)
        return overflow ? nil : Points(sum)
    }

    /// The difference, or nil where it would not fit in Int64.
    public func subtracting(_ other: Points) -> Points? {
        let (difference, overflow) = count.subtractingReportingOverflow(other.count)
        return overflow ? nil : Points(difference)
    }

    /// This many points `times` times, or nil where it would not fit in Int64.
    public func multiplied(by times: Int64) -> Points? {
        let (product, overflow) = count.multipliedReportingOverflow(by: times)
        return overflow ? nil : Points(product)
    }

    public init(from decoder: any Decoder) throws { count = try decoder.singleValueContainer().decode(Int64.self) }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(count)
    }
}

extension Sequence where Element == Points {
    /// The total of bounded points (see `Points.+`).
    @inlinable public func sum() -> Points { reduce(.zero, +) }
}

extension Sequence {
    /// The total of each element's bounded points, without building an array of them first.
    /// Inlinable, so that it is specialised where it is called (head office sums every sale's parts).
    @inlinable public func sum(_ points: (Element) throws -> Points) rethrows -> Points { try reduce(.zero) { $0 + (try points($1)) } }
}
