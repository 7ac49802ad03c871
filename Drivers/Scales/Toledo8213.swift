/// The Toledo 8213 "demand" protocol, as retail scales (Mettler Toledo, Brecknell, Avery
/// Berkel and others in their "8213" mode) speak it over a serial line. The host sends `W`;
/// the scale answers with one record:
///
/// - a weight: `STX`, the weight in kilograms with its decimal point (`00.750`, `1.250`), `CR`;
/// - a status, when there is no weight to give: `STX`, `?`, one status byte, `CR`. Bits of the
///   status byte (bits 5 and 6 are always 1, bit 7 is parity and ignored): 0 the scale is in
///   motion, 1 over capacity, 2 under zero, 3 outside the zero capture range, 4 at centre of zero.
///
/// A value-type parser fed bytes as they arrive: no I/O inside.
public enum Toledo8213 {
    /// What the host sends to ask for the weight.
    public static let request: [UInt8] = [0x57]   // "W"

    public enum Reply: Equatable, Sendable {
        /// A steady weight, in grams.
        case grams(Int64)
        case status(Status)
        /// A record that is neither: quoted (printable bytes only) for the message.
        case unreadable(String)
    }

    public struct Status: OptionSet, Equatable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let motion = Status(rawValue: 1)
        public static let overCapacity = Status(rawValue: 2)
        public static let underZero = Status(rawValue: 4)
        public static let outsideZeroRange = Status(rawValue: 8)
        public static let centreOfZero = Status(rawValue: 16)
    }

    /// Gathers a record from `STX` to `CR`; bytes before `STX` are line noise and dropped.
    public struct Parser: Sendable {
        private var record: [UInt8]?
        public init() {}

        /// The reply once a record is complete.
        public mutating func feed(_ byte: UInt8) -> Reply? {
            let b = byte & 0x7F   // 7-bit data: an 8N1 port sees the parity bit
            if b == 0x02 { record = []; return nil }
            guard var r = record else { return nil }
            if b == 0x0D {
                record = nil
                return Toledo8213.decode(r)
            }
            guard r.count < 32 else { record = nil; return .unreadable("a record longer than 32 bytes") }
            r.append(b)
            record = r
            return nil
        }
    }

    /// One record's body (between `STX` and `CR`).
    public static func decode(_ body: [UInt8]) -> Reply {
        if body.first == UInt8(ascii: "?") {
            guard body.count == 2 else { return .unreadable(quoted(body)) }
            return .status(Status(rawValue: body[1] & 0x1F))
        }
        // The weight: digits with at most one decimal point and at most 3 decimals (grams);
        // spaces before it are padding.
        let text = body.drop { $0 == 0x20 }
        guard !text.isEmpty, text.count <= 9, text.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }),
              text.filter({ $0 == 0x2E }).count <= 1 else { return .unreadable(quoted(body)) }
        let parts = text.split(separator: 0x2E, omittingEmptySubsequences: false)
        let whole = parts[0], fraction = parts.count > 1 ? parts[1] : []
        guard fraction.count <= 3, !(whole.isEmpty && fraction.isEmpty) else { return .unreadable(quoted(body)) }
        var grams: Int64 = 0
        for d in whole { grams = grams * 10 + Int64(d - 0x30) }
        grams *= 1000
        var scale: Int64 = 100
        for d in fraction {
            grams += Int64(d - 0x30) * scale
            scale /= 10
        }
        return .grams(grams)
    }

    static func quoted(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}
