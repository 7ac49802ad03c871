public import Foundation

/// Timestamps on the wire: ISO 8601 with milliseconds and the till's UTC offset,
/// e.g. `2026-11-23T14:05:12.345+01:00`. Internally a timestamp is milliseconds since
/// 1970-01-01T00:00:00Z (`Int64`).
public enum ProtocolTime {
    /// Formats epoch milliseconds in the given time zone.
    public static func format(_ millis: Int64, timeZone: TimeZone = .current) -> String {
        let seconds = floorDiv(millis, 1000)
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
        let local = seconds + offset
        let days = floorDiv(local, 86_400)
        let secOfDay = local - days * 86_400
        let (y, m, d) = civil(fromDays: days)
        let ms = millis - seconds * 1000
        var s = pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T"
        s += pad(secOfDay / 3600, 2) + ":" + pad(secOfDay / 60 % 60, 2) + ":" + pad(secOfDay % 60, 2)
        s += "." + pad(ms, 3)
        if offset == 0 { return s + "Z" }
        let sign = offset < 0 ? "-" : "+"
        let mag = abs(offset)
        return s + sign + pad(mag / 3600, 2) + ":" + pad(mag / 60 % 60, 2)
    }

    /// Local date and time for people: "2026-11-23 14:05" (or "14:05:12" with seconds).
    public static func display(_ millis: Int64, timeZone: TimeZone = .current, seconds: Bool = false) -> String {
        let iso = format(millis, timeZone: timeZone)
        return String(iso.prefix(10)) + " " + String(iso.dropFirst(11).prefix(seconds ? 8 : 5))
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` to epoch milliseconds; nil if malformed.
    public static func parse(_ text: String) -> Int64? {
        let c = Array(text.utf8)
        guard c.count >= 20, c[4] == 45, c[7] == 45, c[10] == 84 || c[10] == 32, c[13] == 58, c[16] == 58 else { return nil }
        guard let y = num(c, 0, 4), let mo = num(c, 5, 2), let d = num(c, 8, 2),
              let h = num(c, 11, 2), let mi = num(c, 14, 2), let s = num(c, 17, 2),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61 else { return nil }
        var i = 19
        var ms: Int64 = 0
        if i < c.count, c[i] == 46 {
            i += 1
            var digits = 0
            while i < c.count, (48...57).contains(c[i]) {
                if digits < 3 { ms = ms * 10 + Int64(c[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            // Only the first three digits count (milliseconds); fewer are scaled up.
            if digits < 3 { for _ in digits..<3 { ms *= 10 } }
        }
        guard i < c.count else { return nil }
        var offset: Int64 = 0
        if c[i] == 90 { // Z
            guard i + 1 == c.count else { return nil }
        } else if c[i] == 43 || c[i] == 45 {
            guard c.count == i + 6, c[i + 3] == 58, let oh = num(c, i + 1, 2), let om = num(c, i + 4, 2) else { return nil }
            offset = (oh * 3600 + om * 60) * (c[i] == 45 ? -1 : 1)
        } else {
            return nil
        }
        let days = daysFromCivil(y, mo, d)
        let local = days * 86_400 + h * 3600 + mi * 60 + s
        return (local - offset) * 1000 + ms
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    public static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01.
    public static func civil(fromDays z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    private static func num(_ c: [UInt8], _ start: Int, _ len: Int) -> Int64? {
        guard start + len <= c.count else { return nil }
        var v: Int64 = 0
        for k in start..<(start + len) {
            guard (48...57).contains(c[k]) else { return nil }
            v = v * 10 + Int64(c[k] - 48)
        }
        return v
    }
}

extension SaleDocument {
    /// The JSON encoder for documents: stable key order, so equal documents are equal bytes.
    public static func makeEncoder(pretty: Bool = false) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
