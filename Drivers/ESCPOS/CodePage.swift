/// A single-byte code page a printer can be switched to with ESC t. Bytes 0x20–0x7E are ASCII in
/// all of them; the upper half differs.
public enum CodePage: String, CaseIterable, Sendable, Codable, Hashable {
    /// PC437, the printers' default (box drawing, some Western accents; no €).
    case cp437 = "CP437"
    /// PC858: PC850 with € (Western European).
    case cp858 = "CP858"
    /// PC866: Cyrillic (Russian).
    case cp866 = "CP866"
    /// Windows-1252 (Western European with €).
    case cp1252 = "CP1252"

    /// The byte for a Unicode scalar in this code page, if it has one.
    public func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let v = scalar.value
        if v >= 0x20 && v < 0x7F { return UInt8(v) }
        return Self.reverse[self]?[v]
    }

    /// The character a byte stands for (for the virtual printer), or nil if undefined.
    public func scalar(for byte: UInt8) -> Unicode.Scalar? {
        if byte >= 0x20 && byte < 0x7F { return Unicode.Scalar(byte) }
        guard byte >= 0x80, let v = Self.upperHalves[self]?[Int(byte) - 0x80], v != 0 else { return nil }
        return Unicode.Scalar(v)
    }

    /// Unicode scalar → byte for the upper half of a code page.
    static func reverseTable(_ page: CodePage) -> [UInt32: UInt8] { reverse[page] ?? [:] }

    private static let reverse: [CodePage: [UInt32: UInt8]] = {
        var r: [CodePage: [UInt32: UInt8]] = [:]
        for (page, table) in upperHalves {
            var map: [UInt32: UInt8] = [:]
            for (i, v) in table.enumerated() where v != 0 { map[v] = UInt8(0x80 + i) }
            r[page] = map
        }
        return r
    }()
}

extension Character {
    /// The one Unicode scalar of this character once canonically composed ("e" + U+0301 is "é"),
    /// or nil if it needs more than one (flags, emoji sequences).
    var singleScalar: Unicode.Scalar? {
        let scalars = unicodeScalars
        if scalars.count == 1 { return scalars.first }
        // Compose the common accented letters a keyboard or a catalog may deliver decomposed.
        let composed = String(self).precomposed
        return composed.unicodeScalars.count == 1 ? composed.unicodeScalars.first : nil
    }
}

extension String {
    /// Canonical composition for the common Latin and Cyrillic accents (NFC for what receipts meet).
    var precomposed: String {
        var out = ""
        var previous: Unicode.Scalar?
        for s in unicodeScalars {
            if let p = previous, let c = Self.compositions[p.value]?[s.value], let cs = Unicode.Scalar(c) {
                previous = cs
                continue
            }
            if let p = previous { out.unicodeScalars.append(p) }
            previous = s
        }
        if let p = previous { out.unicodeScalars.append(p) }
        return out
    }

    /// base → combining mark → precomposed, for grave, acute, circumflex, tilde, diaeresis,
    /// ring, cedilla and the Cyrillic breve (й) and diaeresis (ё).
    private static let compositions: [UInt32: [UInt32: UInt32]] = {
        var t: [UInt32: [UInt32: UInt32]] = [:]
        func add(_ base: String, _ mark: UInt32, _ result: String) {
            for (b, r) in zip(base.unicodeScalars, result.unicodeScalars) { t[b.value, default: [:]][mark] = r.value }
        }
        add("AEIOUaeiou", 0x300, "ÀÈÌÒÙàèìòù")
        add("AEIOUYaeiouy", 0x301, "ÁÉÍÓÚÝáéíóúý")
        add("AEIOUaeiou", 0x302, "ÂÊÎÔÛâêîôû")
        add("ANOano", 0x303, "ÃÑÕãñõ")
        add("AEIOUaeiouy", 0x308, "ÄËÏÖÜäëïöüÿ")
        add("Aa", 0x30A, "Åå")
        add("Cc", 0x327, "Çç")
        add("Ии", 0x306, "Йй")
        add("Ее", 0x308, "Ёё")
        return t
    }()
}
