/// US-layout key tables for readers that present themselves as keyboards: Linux evdev key codes
/// and USB HID usage IDs, each to the character typed without and with Shift. Card readers and
/// scanners type only digits, letters and the track sentinels, so a US table is all they need.
enum KeyTables {
    typealias Pair = (normal: Character, shifted: Character)

    /// What a reader's key means: a character, Enter, a Shift key, or nothing the till uses.
    enum Meaning: Equatable {
        case char(Character, shifted: Character)
        case enter
        case shift
        case ignored
    }

    private static let evdevRows: [(first: UInt16, normal: String, shifted: String)] = [
        (2, "1234567890-=", "!@#$%^&*()_+"),
        (16, "qwertyuiop[]", "QWERTYUIOP{}"),
        (30, "asdfghjkl;'`", "ASDFGHJKL:\"~"),
        (43, "\\zxcvbnm,./", "|ZXCVBNM<>?"),
    ]

    /// Linux input key codes (linux/input-event-codes.h).
    static func evdev(_ code: UInt16) -> Meaning {
        switch code {
        case 28, 96: return .enter            // KEY_ENTER, KEY_KPENTER
        case 42, 54: return .shift            // KEY_LEFTSHIFT, KEY_RIGHTSHIFT
        case 57: return .char(" ", shifted: " ")
        case 71, 72, 73: return digit(Int(code) - 64)  // KP7 KP8 KP9
        case 75, 76, 77: return digit(Int(code) - 71)  // KP4 KP5 KP6
        case 79, 80, 81: return digit(Int(code) - 78)  // KP1 KP2 KP3
        case 82: return digit(0)
        case 83: return .char(".", shifted: ".")
        default: break
        }
        for row in evdevRows where code >= row.first && Int(code - row.first) < row.normal.count {
            let i = Int(code - row.first)
            return .char(Array(row.normal)[i], shifted: Array(row.shifted)[i])
        }
        return .ignored
    }

    /// USB HID keyboard usage IDs (HID Usage Tables, page 0x07).
    static func hid(_ usage: UInt8) -> Meaning {
        switch usage {
        case 0x04...0x1D:
            let c = Character(Unicode.Scalar(UInt8(ascii: "a") + usage - 0x04))
            return .char(c, shifted: Character(c.uppercased()))
        case 0x1E...0x27:
            let i = Int(usage - 0x1E)
            return .char(Array("1234567890")[i], shifted: Array("!@#$%^&*()")[i])
        case 0x28, 0x58: return .enter
        case 0x2C: return .char(" ", shifted: " ")
        case 0x2D...0x38:
            let i = Int(usage - 0x2D)
            // 0x32 is the non-US '#', typed by no card reader: treat like '\'.
            return .char(Array("-=[]\\\\;'`,./")[i], shifted: Array("_+{}||:\"~<>?")[i])
        case 0x59...0x61: return digit(Int(usage - 0x58))
        case 0x62: return digit(0)
        case 0x63: return .char(".", shifted: ".")
        default: return .ignored
        }
    }

    private static func digit(_ d: Int) -> Meaning {
        let c = Character(String(d))
        return .char(c, shifted: c)
    }
}

/// Turns a reader's key presses into whole reads: the characters up to Enter, or up to a pause
/// (for readers set up to send no Enter).
struct ReadAssembler {
    var text = ""
    var shift = false
    var lastAt: Int64 = 0
    /// A read with no Enter ends after this pause.
    var idleMilliseconds: Int64 = 150

    /// Feeds one key press (or Shift release); returns a finished read, if any.
    mutating func press(_ meaning: KeyTables.Meaning, down: Bool, at time: Int64) -> String? {
        switch meaning {
        case .shift:
            shift = down
            return nil
        case .ignored:
            return nil
        case .enter:
            guard down else { return nil }
            return take()
        case .char(let n, let s):
            guard down else { return nil }
            lastAt = time
            if text.count < 256 { text.append(shift ? s : n) }
            return nil
        }
    }

    /// A read left without Enter, once the reader has paused.
    mutating func flush(at time: Int64) -> String? {
        guard !text.isEmpty, time - lastAt >= idleMilliseconds else { return nil }
        return take()
    }

    private mutating func take() -> String? {
        defer { text = "" }
        return text.isEmpty ? nil : text
    }
}
