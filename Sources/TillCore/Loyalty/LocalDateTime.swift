/// A store's local date and time to the minute, for promotion windows: minutes since
/// 1970-01-01T00:00 local time. Pure arithmetic; the edges supply the UTC offset.
public struct LocalDateTime: Hashable, Sendable, Comparable {
    public var minutes: Int64

    public init(minutes: Int64) { self.minutes = minutes }

    /// The local time of an instant, given the UTC offset in force then.
    public init(epochMillis: Int64, utcOffsetSeconds: Int64) {
        let seconds = epochMillis >= 0 ? epochMillis / 1000 : (epochMillis - 999) / 1000
        let local = seconds + utcOffsetSeconds
        minutes = local >= 0 ? local / 60 : (local - 59) / 60
    }

    public static func < (a: LocalDateTime, b: LocalDateTime) -> Bool { a.minutes < b.minutes }

    /// Days since 1970-01-01 (local).
    public var days: Int64 { minutes >= 0 ? minutes / 1440 : (minutes - 1439) / 1440 }

    /// ISO weekday: 1 = Monday … 7 = Sunday (1970-01-01 was a Thursday).
    public var weekday: Int { Int(((days % 7) + 7 + 3) % 7) + 1 }

    public var minuteOfDay: Int { Int(minutes - days * 1440) }

    /// Parses "YYYY-MM-DDTHH:MM" (or with a space) to minutes; nil if malformed.
    public static func parseMinutes(_ s: String) -> Int64? {
        let c = Array(s.utf8)
        guard c.count == 16, c[4] == 45, c[7] == 45, c[10] == 84 || c[10] == 32, c[13] == 58 else { return nil }
        func num(_ a: Int, _ n: Int) -> Int64? {
            var v: Int64 = 0
            for i in a..<(a + n) {
                guard (48...57).contains(c[i]) else { return nil }
                v = v * 10 + Int64(c[i] - 48)
            }
            return v
        }
        guard let y = num(0, 4), let m = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2),
              (1...12).contains(m), (1...daysInMonth(y, m)).contains(d), h < 24, mi < 60 else { return nil }
        return daysFromCivil(y, m, d) * 1440 + h * 60 + mi
    }

    /// Parses "HH:MM" to minutes of the day; nil if malformed. "24:00" is the end of the day.
    public static func parseTime(_ s: String) -> Int? {
        let parts = s.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
              (0...24).contains(h), (0...59).contains(m), h * 60 + m <= 1440 else { return nil }
        return h * 60 + m
    }

    /// 28 to 31: February 31 is not a date.
    static func daysInMonth(_ y: Int64, _ m: Int64) -> Int64 {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
    public static func civil(fromDays z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    public static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
