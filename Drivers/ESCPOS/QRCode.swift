/// A QR Code (ISO/IEC 18004, model 2) encoding bytes in byte mode: for printers without native
/// QR support, which get it as a raster image, and for the virtual printer's SVG.
///
/// The construction follows the standard step by step (as Project Nayuki's reference
/// implementation lays it out): smallest version that fits, Reed–Solomon blocks interleaved,
/// function patterns, zig-zag data placement, the mask with the lowest penalty.
public struct QRCode: Sendable, Hashable {
    public let version: Int
    public let size: Int
    public let errorCorrection: QRErrorCorrection
    public let mask: Int
    /// Row-major modules; true is dark.
    public private(set) var modules: [Bool]

    public subscript(x: Int, y: Int) -> Bool { modules[y * size + x] }

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    public init(bytes data: [UInt8], errorCorrection ecl: QRErrorCorrection = .medium) throws(Failure) {
        var chosen = 0
        for v in 1...40 {
            let capacityBits = Self.dataCodewords(v, ecl) * 8
            let needed = 4 + (v < 10 ? 8 : 16) + data.count * 8
            if needed <= capacityBits { chosen = v; break }
        }
        guard chosen > 0 else { throw Failure(description: "\(data.count) bytes do not fit in a QR code") }
        version = chosen
        size = chosen * 4 + 17
        errorCorrection = ecl

        // Bit stream: mode, count, data, terminator, padding.
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) { for i in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> i) & 1 == 1) } }
        append(0b0100, 4)
        append(data.count, chosen < 10 ? 8 : 16)
        for b in data { append(Int(b), 8) }
        let capacity = Self.dataCodewords(chosen, ecl) * 8
        append(0, min(4, capacity - bits.count))
        append(0, (8 - bits.count % 8) % 8)
        var pad = 0xEC
        while bits.count < capacity { append(pad, 8); pad ^= 0xEC ^ 0x11 }
        var codewords = [UInt8](repeating: 0, count: bits.count / 8)
        for (i, b) in bits.enumerated() where b { codewords[i >> 3] |= 0x80 >> UInt8(i & 7) }

        let all = Self.addErrorCorrection(codewords, chosen, ecl)
        var grid = Grid(size: size)
        grid.drawFunctionPatterns(version: chosen, ecl: ecl)
        grid.drawCodewords(all)
        var best = 0, bestPenalty = Int.max
        for m in 0..<8 {
            var trial = grid
            trial.applyMask(m)
            trial.drawFormatBits(ecl: ecl, mask: m)
            let p = trial.penalty()
            if p < bestPenalty { best = m; bestPenalty = p }
        }
        grid.applyMask(best)
        grid.drawFormatBits(ecl: ecl, mask: best)
        mask = best
        modules = grid.modules
    }

    /// The code as a bitmap: `scale` dots per module and a quiet zone of 4 modules.
    public func bitmap(scale: Int) -> Bitmap {
        let quiet = 4
        var b = Bitmap(width: (size + 2 * quiet) * scale, height: (size + 2 * quiet) * scale)
        for y in 0..<size {
            for x in 0..<size where self[x, y] { b.fill(x: (x + quiet) * scale, y: (y + quiet) * scale, width: scale, height: scale) }
        }
        return b
    }

    // MARK: Tables (ISO/IEC 18004 table 9), index 0 unused.

    static let eccPerBlock: [[Int]] = [
        [-1, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
        [-1, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
        [-1, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30, 28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
        [-1, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28, 30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
    ]
    static let blocks: [[Int]] = [
        [-1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
        [-1, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
        [-1, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20, 23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
        [-1, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25, 25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81],
    ]

    static func rawDataModules(_ v: Int) -> Int {
        var r = (16 * v + 128) * v + 64
        if v >= 2 {
            let n = v / 7 + 2
            r -= (25 * n - 10) * n - 55
            if v >= 7 { r -= 36 }
        }
        return r
    }

    static func dataCodewords(_ v: Int, _ e: QRErrorCorrection) -> Int {
        rawDataModules(v) / 8 - eccPerBlock[Int(e.rawValue)][v] * blocks[Int(e.rawValue)][v]
    }

    static func addErrorCorrection(_ data: [UInt8], _ v: Int, _ e: QRErrorCorrection) -> [UInt8] {
        let numBlocks = blocks[Int(e.rawValue)][v], eccLen = eccPerBlock[Int(e.rawValue)][v]
        let raw = rawDataModules(v) / 8
        let numShort = numBlocks - raw % numBlocks, shortLen = raw / numBlocks
        let divisor = ReedSolomon.divisor(degree: eccLen)
        var blocksOut: [[UInt8]] = []
        var k = 0
        for i in 0..<numBlocks {
            let n = shortLen - eccLen + (i < numShort ? 0 : 1)
            var block = Array(data[k..<(k + n)])
            k += n
            let ecc = ReedSolomon.remainder(block, divisor)
            if i < numShort { block.append(0) }
            blocksOut.append(block + ecc)
        }
        var out: [UInt8] = []
        for i in 0..<blocksOut[0].count {
            for (j, b) in blocksOut.enumerated() where i != shortLen - eccLen || j >= numShort { out.append(b[i]) }
        }
        return out
    }

    /// The module grid while it is built.
    struct Grid {
        let size: Int
        var modules: [Bool]
        var isFunction: [Bool]

        init(size: Int) {
            self.size = size
            modules = [Bool](repeating: false, count: size * size)
            isFunction = modules
        }

        mutating func set(_ x: Int, _ y: Int, _ dark: Bool) {
            modules[y * size + x] = dark
            isFunction[y * size + x] = true
        }

        mutating func drawFunctionPatterns(version: Int, ecl: QRErrorCorrection) {
            for i in 0..<size {
                set(6, i, i % 2 == 0)
                set(i, 6, i % 2 == 0)
            }
            for (cx, cy) in [(3, 3), (size - 4, 3), (3, size - 4)] {
                for dy in -4...4 {
                    for dx in -4...4 {
                        let x = cx + dx, y = cy + dy
                        guard x >= 0, y >= 0, x < size, y < size else { continue }
                        let d = max(abs(dx), abs(dy))
                        set(x, y, d != 2 && d != 4)
                    }
                }
            }
            let positions = alignmentPositions(version)
            let n = positions.count
            for i in 0..<n {
                for j in 0..<n where !((i == 0 && j == 0) || (i == 0 && j == n - 1) || (i == n - 1 && j == 0)) {
                    for dy in -2...2 { for dx in -2...2 { set(positions[i] + dx, positions[j] + dy, max(abs(dx), abs(dy)) != 1) } }
                }
            }
            drawFormatBits(ecl: ecl, mask: 0) // reserves the area; redrawn with the real mask
            if version >= 7 {
                var rem = version
                for _ in 0..<12 { rem = (rem << 1) ^ ((rem >> 11) * 0x1F25) }
                let bits = version << 12 | rem
                for i in 0..<18 {
                    let bit = (bits >> i) & 1 == 1
                    let a = size - 11 + i % 3, b = i / 3
                    set(a, b, bit)
                    set(b, a, bit)
                }
            }
        }

        func alignmentPositions(_ v: Int) -> [Int] {
            guard v > 1 else { return [] }
            let n = v / 7 + 2
            let step = (v * 8 + n * 3 + 5) / (n * 4 - 4) * 2
            var r = [6]
            var pos = size - 7
            var tail: [Int] = []
            for _ in 0..<(n - 1) { tail.append(pos); pos -= step }
            r += tail.reversed()
            return r
        }

        mutating func drawFormatBits(ecl: QRErrorCorrection, mask: Int) {
            let eclBits = [1, 0, 3, 2][Int(ecl.rawValue)]
            let data = eclBits << 3 | mask
            var rem = data
            for _ in 0..<10 { rem = (rem << 1) ^ ((rem >> 9) * 0x537) }
            let bits = (data << 10 | rem) ^ 0x5412
            func bit(_ i: Int) -> Bool { (bits >> i) & 1 == 1 }
            for i in 0...5 { set(8, i, bit(i)) }
            set(8, 7, bit(6))
            set(8, 8, bit(7))
            set(7, 8, bit(8))
            for i in 9..<15 { set(14 - i, 8, bit(i)) }
            for i in 0..<8 { set(size - 1 - i, 8, bit(i)) }
            for i in 8..<15 { set(8, size - 15 + i, bit(i)) }
            set(8, size - 8, true)
        }

        mutating func drawCodewords(_ data: [UInt8]) {
            var i = 0
            var right = size - 1
            while right >= 1 {
                if right == 6 { right = 5 }
                for vert in 0..<size {
                    for j in 0..<2 {
                        let x = right - j
                        let upward = (right + 1) & 2 == 0
                        let y = upward ? size - 1 - vert : vert
                        if !isFunction[y * size + x] && i < data.count * 8 {
                            modules[y * size + x] = (data[i >> 3] >> UInt8(7 - (i & 7))) & 1 == 1
                            i += 1
                        }
                    }
                }
                right -= 2
            }
        }

        mutating func applyMask(_ m: Int) {
            for y in 0..<size {
                for x in 0..<size where !isFunction[y * size + x] {
                    let invert: Bool
                    switch m {
                    case 0: invert = (x + y) % 2 == 0
                    case 1: invert = y % 2 == 0
                    case 2: invert = x % 3 == 0
                    case 3: invert = (x + y) % 3 == 0
                    case 4: invert = (x / 3 + y / 2) % 2 == 0
                    case 5: invert = x * y % 2 + x * y % 3 == 0
                    case 6: invert = (x * y % 2 + x * y % 3) % 2 == 0
                    default: invert = ((x + y) % 2 + x * y % 3) % 2 == 0
                    }
                    if invert { modules[y * size + x].toggle() }
                }
            }
        }

        /// The standard's penalty score: long runs, 2×2 blocks, finder-like patterns, dark balance.
        func penalty() -> Int {
            var p = 0
            func at(_ x: Int, _ y: Int) -> Bool { modules[y * size + x] }
            for horizontal in [true, false] {
                for a in 0..<size {
                    var run = 1
                    var line: [Bool] = []
                    for b in 0..<size {
                        let v = horizontal ? at(b, a) : at(a, b)
                        line.append(v)
                        if b > 0 && v == line[b - 1] { run += 1 } else { if run >= 5 { p += 3 + run - 5 }; run = 1 }
                    }
                    if run >= 5 { p += 3 + run - 5 }
                    let finder: [Bool] = [true, false, true, true, true, false, true]
                    let blank = [Bool](repeating: false, count: 4)
                    if size >= 11 {
                        for s in 0...(size - 11) {
                            let w = Array(line[s..<(s + 11)])
                            if w == finder + blank || w == blank + finder { p += 40 }
                        }
                    }
                }
            }
            for y in 0..<(size - 1) {
                for x in 0..<(size - 1) {
                    let c = at(x, y)
                    if c == at(x + 1, y) && c == at(x, y + 1) && c == at(x + 1, y + 1) { p += 3 }
                }
            }
            let dark = modules.filter { $0 }.count, total = size * size
            let k = (abs(dark * 20 - total * 10) + total - 1) / total - 1
            p += max(0, k) * 10
            return p
        }
    }
}

/// Reed–Solomon over GF(256) with the QR polynomial 0x11D.
enum ReedSolomon {
    static func multiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
        var z = 0
        for i in stride(from: 7, through: 0, by: -1) {
            z = (z << 1) ^ ((z >> 7) * 0x11D)
            z ^= Int((y >> UInt8(i)) & 1) * Int(x)
        }
        return UInt8(z)
    }

    static func divisor(degree: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: degree)
        result[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for j in 0..<degree {
                result[j] = multiply(result[j], root)
                if j + 1 < degree { result[j] ^= result[j + 1] }
            }
            root = multiply(root, 0x02)
        }
        return result
    }

    static func remainder(_ data: [UInt8], _ divisor: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: divisor.count)
        for b in data {
            let factor = b ^ result.removeFirst()
            result.append(0)
            for i in 0..<result.count { result[i] ^= multiply(divisor[i], factor) }
        }
        return result
    }
}
