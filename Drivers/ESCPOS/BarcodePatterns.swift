/// Bar patterns of the linear barcodes the till prints: as modules (true = bar), for printers
/// that take barcodes only as images and for the virtual printer's drawing.
public enum BarcodePatterns {
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Checks that `data` can be encoded, without drawing it (for printers that draw barcodes).
    public static func validate(_ symbology: ESCPOSEncoder.Symbology, _ data: String) throws(Failure) {
        switch symbology {
        case .ean13: _ = try ean13(data)
        case .code128:
            guard data.utf8.allSatisfy({ $0 >= 32 && $0 < 127 }) else {
                throw Failure(description: "CODE128 set B takes printable ASCII only, not '\(data)'")
            }
        }
    }

    /// The 95 modules of an EAN-13 from 12 or 13 digits (the check digit is computed or checked).
    public static func ean13(_ digits: String) throws(Failure) -> [Bool] {
        let d = digits.compactMap(\.wholeNumberValue)
        guard d.count == digits.count, d.count == 12 || d.count == 13 else {
            throw Failure(description: "EAN-13 needs 12 or 13 digits, not '\(digits)'")
        }
        var sum = 0
        for (i, v) in d.prefix(12).reversed().enumerated() { sum += i % 2 == 0 ? v * 3 : v }
        let check = (10 - sum % 10) % 10
        if d.count == 13 && d[12] != check {
            throw Failure(description: "EAN-13 \(digits) has a wrong check digit (expected \(check))")
        }
        let all = Array(d.prefix(12)) + [check]
        let l = ["0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011", "0110111", "0001011"]
        let g = ["0100111", "0110011", "0011011", "0100001", "0011101", "0111001", "0000101", "0010001", "0001001", "0010111"]
        let r = ["1110010", "1100110", "1101100", "1000010", "1011100", "1001110", "1010000", "1000100", "1001000", "1110100"]
        let parity = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL"]
        var s = "101"
        for (i, p) in parity[all[0]].enumerated() { s += p == "L" ? l[all[i + 1]] : g[all[i + 1]] }
        s += "01010"
        for i in 7..<13 { s += r[all[i]] }
        s += "101"
        return s.map { $0 == "1" }
    }

    /// The modules of a CODE128 (code set B: printable ASCII) with its check symbol and stop.
    public static func code128(_ text: String) throws(Failure) -> [Bool] {
        var values: [Int] = [104]
        for s in text.unicodeScalars {
            guard s.value >= 32 && s.value < 127 else {
                throw Failure(description: "CODE128 set B takes printable ASCII only, not '\(text)'")
            }
            values.append(Int(s.value) - 32)
        }
        var check = 104
        for (i, v) in values.enumerated().dropFirst() { check += v * i }
        values.append(check % 103)
        values.append(106)
        var modules: [Bool] = []
        for v in values {
            for (i, w) in code128Widths[v].enumerated() {
                modules += [Bool](repeating: i % 2 == 0, count: Int(w.asciiValue! - 48))
            }
        }
        return modules
    }

    /// Bar/space widths of CODE128 symbols 0–106 (106 is the stop, with its final bar).
    static let code128Widths: [String] = [
        "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213",
        "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132",
        "221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211",
        "212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
        "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331",
        "231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111",
        "314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214",
        "112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
        "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
        "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141",
        "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
    ]

    /// Bars as a bitmap: `moduleWidth` dots per module, `height` dots tall, with a quiet zone.
    public static func bitmap(_ modules: [Bool], moduleWidth: Int, height: Int, quiet: Int = 10) -> Bitmap {
        var b = Bitmap(width: (modules.count + 2 * quiet) * moduleWidth, height: height)
        for (i, bar) in modules.enumerated() where bar {
            b.fill(x: (i + quiet) * moduleWidth, y: 0, width: moduleWidth, height: height)
        }
        return b
    }
}
