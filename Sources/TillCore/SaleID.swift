/// Identifiers of sales (and of every document a till makes with them): UUID version 7
/// (RFC 9562 §5.7), the Unix time in milliseconds in the first 48 bits and 74 random bits after.
///
/// Time first, so identifiers made later sort later: head office's index of every sale the chain
/// ever made then grows at its end, as the sales arrive, instead of touching a random page of it
/// for each one (version 4's order), which is most of what storing a sale costs it.
public enum SaleID {
    /// A new identifier for `time` (milliseconds since 1970), lowercase, 8-4-4-4-12 hex digits.
    public static func make(at time: Timestamp, using random: inout some RandomNumberGenerator) -> String {
        let milliseconds = UInt64(clamping: max(0, time)) & 0xFFFF_FFFF_FFFF
        let a = UInt64.random(in: 0...0xFFF, using: &random)
        let b = UInt64.random(in: 0...(1 << 62 - 1), using: &random)
        let high = milliseconds << 16 | 0x7000 | a             // time, version 7, rand_a
        let low = 0x8000_0000_0000_0000 | b                    // variant 10, rand_b
        let digits = hex(high, 16) + hex(low, 16)
        let d = Array(digits.utf8)
        func part(_ r: Range<Int>) -> String { String(decoding: d[r], as: UTF8.self) }
        return "\(part(0..<8))-\(part(8..<12))-\(part(12..<16))-\(part(16..<20))-\(part(20..<32))"
    }

    /// A new identifier for `time` from the system's random numbers.
    public static func make(at time: Timestamp) -> String {
        var system = SystemRandomNumberGenerator()
        return make(at: time, using: &system)
    }

    /// The time an identifier was made at, when it is a version 7 UUID; nil for any other.
    public static func time(of id: String) -> Timestamp? {
        let hexDigits = id.utf8.filter { $0 != UInt8(ascii: "-") }
        guard id.utf8.count == 36, hexDigits.count == 32, hexDigits[12] == UInt8(ascii: "7"),
              let ms = Int64(String(decoding: hexDigits[0..<12], as: UTF8.self), radix: 16) else { return nil }
        return ms
    }

    private static func hex(_ value: UInt64, _ width: Int) -> String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
