/// The escape sequences terminals send for keys, decoded without terminfo: what ncurses does not
/// know for the terminal it was told about (a PuTTY or rxvt behind `TERM=xterm`, a console behind
/// `TERM=linux`) arrives as ESC and loose characters, and a loose `1` or `7` typed into the entry
/// line voids the wrong line. Every sequence is read whole: a known one is its key, an unknown
/// one is swallowed, never typed.
///
/// Known: xterm (`ESC O P`…`S`, `ESC [ 15~`…, `ESC [ H/F`, `ESC [ 1;5A`), PuTTY and VT220
/// (`ESC [ 11~`…`14~`, `ESC [ 1~` Home, `ESC [ 4~` End), rxvt (`ESC [ 7~` Home, `ESC [ 8~` End,
/// `ESC [ 11^` / `$` with Ctrl / Shift), the Linux console (`ESC [ [ A`…`E` for F1–F5), and the
/// numeric keypad in application mode (`ESC O p`…`y` digits, `ESC O M` Enter, `ESC O k` +).
public enum EscapeSequence {
    public enum Parse: Equatable, Sendable {
        /// More characters are needed (if none come within the escape delay, the sequence is
        /// cut short: swallow what came).
        case incomplete
        /// The sequence is whole: its key, or nil for one the till does not use (swallowed).
        case key(Key?)
        /// Not a sequence: ESC was the Escape key and the characters after it are keys of their
        /// own (to be read again).
        case escapeThen
    }

    /// Parses what followed an ESC.
    public static func parse(_ after: [Character]) -> Parse {
        guard let first = after.first else { return .incomplete }
        switch first {
        case "[": return csi(Array(after.dropFirst()))
        case "O":
            guard after.count >= 2 else { return .incomplete }
            return .key(ss3(after[1]))
        default:
            return .escapeThen
        }
    }

    /// After `ESC [`: parameters (digits and `;`), then one final character.
    static func csi(_ body: [Character]) -> Parse {
        guard let first = body.first else { return .incomplete }
        if first == "[" {
            // The Linux console's F1–F5: ESC [ [ A … E.
            guard body.count >= 2 else { return .incomplete }
            let f = ["A": 1, "B": 2, "C": 3, "D": 4, "E": 5][String(body[1])]
            return .key(f.map { .function($0) })
        }
        var params = ""
        for (i, c) in body.enumerated() {
            guard let ascii = c.asciiValue else { return .key(nil) }
            if (0x30...0x3F).contains(ascii) {            // parameter bytes: digits ; < = > ?
                params.append(c)
                if params.count > 16 { return .key(nil) }
                continue
            }
            if (0x20...0x2F).contains(ascii) && c != "$" { // intermediate bytes: wait for the final one
                if i + 1 < body.count { continue }
                return .incomplete
            }
            // The final byte (rxvt ends shifted keys with $, which is an intermediate elsewhere).
            return .key(final(c, params: params))
        }
        return .incomplete
    }

    private static func final(_ c: Character, params: String) -> Key? {
        let numbers = params.split(separator: ";").map { Int($0) }
        let first = numbers.first ?? nil
        switch c {
        // The cursor keys, Home, End and (xterm with modifiers: ESC [ 1;2P) F1–F4: as after ESC O.
        case "A", "B", "C", "D", "H", "F", "P", "Q", "R", "S": return ss3(c)
        case "~", "^", "$", "@":
            guard let n = first else { return nil }
            return tilde(n)
        default: return nil
        }
    }

    /// `ESC [ n ~`: VT220, PuTTY, rxvt and xterm's editing and function keys.
    static func tilde(_ n: Int) -> Key? {
        switch n {
        case 1, 7: return .home
        case 4, 8: return .end
        case 3: return .delete
        case 5: return .pageUp
        case 6: return .pageDown
        case 11...15: return .function(n - 10)
        case 17...21: return .function(n - 11)
        case 23...26: return .function(n - 12)
        case 28, 29: return .function(n - 13)
        case 31...34: return .function(n - 14)
        default: return nil   // 2 (Insert) and anything else: not a till key
        }
    }

    /// `ESC O x`: xterm's F1–F4 and cursor keys in application mode, and the numeric keypad.
    static func ss3(_ c: Character) -> Key? {
        switch c {
        case "P", "Q", "R", "S": return .function(Int(c.asciiValue! - Character("P").asciiValue!) + 1)
        case "A": return .up
        case "B": return .down
        case "C": return .right
        case "D": return .left
        case "H": return .home
        case "F": return .end
        case "M": return .enter
        case "p", "q", "r", "s", "t", "u", "v", "w", "x", "y":
            return .char(Character(UnicodeScalar(c.asciiValue! - Character("p").asciiValue! + Character("0").asciiValue!)))
        case "n": return .char(".")
        case "k": return .char("+")
        case "m": return .char("-")
        case "j": return .char("*")
        case "o": return .char("/")
        default: return nil
        }
    }
}
