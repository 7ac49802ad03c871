/// A range of card numbers the programme issues, like an issuer range table: a prefix and a
/// length. Numbers carry a Luhn check digit.
public struct CardRange: Codable, Sendable, Hashable {
    public var name: String
    public var prefix: String
    public var length: Int

    public init(name: String, prefix: String, length: Int) {
        self.name = name
        self.prefix = prefix
        self.length = length
    }

    public func contains(_ number: String) -> Bool { number.utf8.count == length && number.isAllASCIIDigits && number.utf8.starts(with: prefix.utf8) }
}

/// Why a card could not be used. Messages quote the card masked, and say what to do.
public enum CardError: Error, Equatable, Sendable, CustomStringConvertible {
    case badCheckDigit(String)
    case outsideRanges(String)
    case malformedTrack(String)
    case blocked(String)
    case lost(String)
    /// Replaced by the second card (which carries the balance now).
    case replaced(String, by: String?)
    /// Closed by head office (its member's details were erased).
    case closed(String)
    case unknown(String)
    case alreadyIssued(String)
    case invalidEmail(String)
    case invalidPhone(String)
    case invalidPostcode(String)
    case invalidBirthDate(String)
    case birthDateNotPossible(String)
    case nameRequired
    case contactRequired
    case invalidReferralCode(String)

    public var description: String {
        switch self {
        case .badCheckDigit(let n): "Card \(LoyaltyCardNumber.grouped(n)) failed its check digit: scan again or key it in"
        case .outsideRanges(let n): "Card \(LoyaltyCardNumber.masked(n)) is not one of this programme's cards: check the card, or issue a new one"
        case .malformedTrack(let t): "The card's magnetic stripe was not read ('\(t.prefix(12))…'): swipe again, steadily"
        case .blocked(let n): "Card \(LoyaltyCardNumber.masked(n)) is blocked: ask the customer to contact the loyalty desk"
        case .lost(let n): "Card \(LoyaltyCardNumber.masked(n)) was reported lost: keep it and issue a new card"
        case .replaced(let n, let by):
            "Card \(LoyaltyCardNumber.masked(n)) was replaced" + (by.map { " by card \(LoyaltyCardNumber.masked($0))" } ?? "")
                + ": ask for the new card (the points are on it); keep this one"
        case .closed(let n): "Card \(LoyaltyCardNumber.masked(n)) is closed: its member left the programme; offer a new card"
        case .unknown(let n): "Card \(LoyaltyCardNumber.masked(n)) is not registered yet: issue it to the customer (new card)"
        case .alreadyIssued(let n): "Card \(LoyaltyCardNumber.masked(n)) already belongs to a customer: take another card from stock"
        case .invalidEmail(let e): "E-mail '\(e)' is not valid: key it as name@domain, e.g. anna@example.com"
        case .invalidPhone(let p): "Phone '\(p)' is not a phone number: digits with spaces, + - ( ) / . only, 6 to 15 digits"
        case .invalidPostcode(let p): "Postcode '\(p)' is not valid: letters, digits, spaces and '-' only, up to 10"
        case .invalidBirthDate(let d): "Date of birth '\(d)' is not a date: key it as YYYY-MM-DD"
        case .birthDateNotPossible(let d): "Date of birth '\(d)' is in the future or more than 130 years ago: check it with the customer, or leave it empty"
        case .nameRequired: "Key the customer's name"
        case .contactRequired: "Key a phone number or an e-mail address (or both)"
        case .invalidReferralCode(let c): "Friend's code '\(c.prefix(20))' is not a member's code: 4 to 12 letters and digits, as on their receipt or page; or leave it empty"
        }
    }
}

/// Loyalty card numbers: Luhn check digits, the programme's ranges, and what readers send.
public enum LoyaltyCardNumber {
    /// The Luhn check digit for `digits` (without it).
    public static func luhnDigit<S: StringProtocol>(_ digits: S) -> Character {
        // Over the UTF-8 bytes (this runs for each of millions of cards at a load); anything but
        // an ASCII digit counts as 0, never a trap.
        var sum = 0
        var double = true
        for b in digits.utf8.reversed() {
            var d = b >= 48 && b <= 57 ? Int(b) - 48 : 0
            if double { d *= 2; if d > 9 { d -= 9 } }
            double.toggle()
            sum += d
        }
        return Self.digitCharacters[(10 - sum % 10) % 10]
    }

    private static let digitCharacters: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]

    public static func luhnValid(_ number: String) -> Bool {
        // Over the UTF-8 bytes, with the check digit counted in: the sum is a multiple of 10.
        guard number.utf8.count >= 2, number.isAllASCIIDigits else { return false }
        var sum = 0
        var double = false
        for b in number.utf8.reversed() {
            var d = Int(b) - 48
            if double { d *= 2; if d > 9 { d -= 9 } }
            double.toggle()
            sum += d
        }
        return sum % 10 == 0
    }

    /// Checks a number against the programme's ranges and its check digit.
    public static func validate(_ number: String, ranges: [CardRange]) throws(CardError) -> String {
        guard ranges.contains(where: { $0.contains(number) }) else { throw .outsideRanges(number) }
        guard luhnValid(number) else { throw .badCheckDigit(number) }
        return number
    }

    /// The primary account number in magnetic-stripe data: track 1 `%B<PAN>^NAME^…?` or
    /// track 2 `;<PAN>=…?`.
    public static func fromTrack(_ data: String) throws(CardError) -> String {
        var s = Substring(data)
        if s.hasPrefix("%") {
            s = s.dropFirst()
            guard s.first == "B" || s.first == "b" else { throw .malformedTrack(data) }
            s = s.dropFirst()
            guard let caret = s.firstIndex(of: "^"), data.hasSuffix("?") else { throw .malformedTrack(data) }
            let pan = String(s[..<caret])
            guard (8...19).contains(pan.count), pan.isAllASCIIDigits else { throw .malformedTrack(data) }
            return pan
        }
        if s.hasPrefix(";") {
            s = s.dropFirst()
            guard let sep = s.firstIndex(where: { $0 == "=" || $0 == "D" || $0 == "d" }), data.hasSuffix("?") else {
                throw .malformedTrack(data)
            }
            let pan = String(s[..<sep])
            guard (8...19).contains(pan.count), pan.isAllASCIIDigits else { throw .malformedTrack(data) }
            return pan
        }
        throw .malformedTrack(data)
    }

    /// "**** **** **** 9012": all but the last four digits hidden (receipts, logs).
    public static func masked(_ number: String) -> String {
        let last = number.suffix(4)
        let hidden = String(repeating: "*", count: max(0, number.count - 4))
        return grouped(hidden + last)
    }

    /// "6034 1234 5678 9012": groups of four.
    public static func grouped(_ number: String) -> String {
        var out = ""
        for (i, c) in number.enumerated() {
            if i > 0 && i % 4 == 0 { out.append(" ") }
            out.append(c)
        }
        return out
    }
}
