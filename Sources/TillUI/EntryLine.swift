/// The line the cashier keys into, on every screen: which characters it takes there, how long it
/// may grow, and Backspace. Every screen edits through it, so keying behaves the same everywhere.
public struct EntryLine: Sendable, Equatable {
    /// Which characters a screen's entry takes.
    public enum Characters: Sendable, Equatable {
        /// Digits: cashier numbers, PINs, card numbers, list numbers, counts.
        case digits
        /// What the sale screen's entry takes (`Key.isEntryCharacter`): digits, `.` and `%` for
        /// codes, amounts, quantities and discounts.
        case keyed
        /// Letters, digits and `-`: receipt numbers.
        case receipt
        /// Letters, digits, `-` and `/`: card terminal references.
        case reference
        /// Any printable character: reasons, names, search words.
        case text

        public func takes(_ c: Character) -> Bool {
            switch self {
            case .digits: c.isASCII && c.isNumber
            case .keyed: Key.char(c).isEntryCharacter
            case .receipt: c.isASCII && (c.isNumber || c.isLetter || c == "-")
            case .reference: c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "/")
            case .text: !c.isNewline
            }
        }
    }

    /// What a key did to the line.
    public enum Edit: Equatable, Sendable {
        /// A character was added, or Backspace took one off (or found the line empty).
        case edited
        /// A character the line takes, but the line is at its limit: it stays as it was.
        case full
        /// Not a key that edits this line: the screen decides what it does.
        case notAnEdit
    }

    public private(set) var text: String

    public init(_ text: String = "") { self.text = text }

    public var isEmpty: Bool { text.isEmpty }

    /// Applies `key` if it edits a line that takes `characters`, up to `limit` of them.
    public mutating func edit(_ key: Key, _ characters: Characters, limit: Int) -> Edit {
        switch key {
        case .char(let c) where characters.takes(c):
            guard text.count < limit else { return .full }
            text.append(c)
            return .edited
        case .backspace:
            if !text.isEmpty { text.removeLast() }
            return .edited
        default:
            return .notAnEdit
        }
    }

    public mutating func clear() { text = "" }

    /// The text keyed, leaving the line empty.
    public mutating func take() -> String {
        defer { text = "" }
        return text
    }
}
