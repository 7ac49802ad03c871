/// A bitmap font in PSF2 (the Linux console format) with its Unicode table: how text becomes
/// pixels on printers that print only images. The till ships Terminus 12×24 (regular and bold,
/// SIL Open Font License 1.1, see `fonts/LICENSE-Terminus.txt`) — the cell size of ESC/POS font A,
/// so a raster-only receipt has the same characters per line as a text one.
public struct BitmapFont: Sendable {
    public let width: Int
    public let height: Int
    let bytesPerGlyph: Int
    let glyphs: [UInt8]
    let index: [UInt32: Int]

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(psf data: [UInt8]) throws(Failure) {
        guard data.count >= 32, data.starts(with: [0x72, 0xB5, 0x4A, 0x86]) else {
            throw Failure(description: "not a PSF2 font")
        }
        func le32(_ i: Int) -> Int { Int(data[i]) | Int(data[i + 1]) << 8 | Int(data[i + 2]) << 16 | Int(data[i + 3]) << 24 }
        let headerSize = le32(8), flags = le32(12), count = le32(16), charSize = le32(20)
        height = le32(24)
        width = le32(28)
        bytesPerGlyph = charSize
        let end = headerSize + count * charSize
        guard end <= data.count, charSize == height * ((width + 7) / 8) else { throw Failure(description: "the PSF2 font is damaged") }
        glyphs = Array(data[headerSize..<end])
        var map: [UInt32: Int] = [:]
        if flags & 1 == 1 {
            var pos = end, glyph = 0
            var inSequence = false
            while pos < data.count && glyph < count {
                let b = data[pos]
                if b == 0xFF {
                    glyph += 1
                    inSequence = false
                    pos += 1
                    continue
                }
                if b == 0xFE { inSequence = true; pos += 1; continue }
                let len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
                guard pos + len <= data.count else { break }
                if !inSequence, let s = String(decoding: data[pos..<(pos + len)], as: UTF8.self).unicodeScalars.first,
                   map[s.value] == nil {
                    map[s.value] = glyph
                }
                pos += len
            }
        } else {
            for i in 0..<min(count, 256) { map[UInt32(i)] = i }
        }
        index = map
    }

    /// Terminus 12×24, built in.
    public static let regular = try! BitmapFont(psf: PackageResources.Terminus24x12_psf)
    /// Terminus Bold 12×24, built in.
    public static let bold = try! BitmapFont(psf: PackageResources.TerminusBold24x12_psf)

    /// Whether the font has a glyph for this character.
    public func has(_ c: Character) -> Bool { c.singleScalar.map { index[$0.value] != nil } ?? false }

    /// Draws one line of text; every character takes one cell (unknown ones draw as '?').
    public func render(_ text: String) -> Bitmap {
        let chars = Array(text)
        var b = Bitmap(width: chars.count * width, height: height)
        let rowBytes = (width + 7) / 8
        let question = index[0x3F] ?? 0
        for (i, c) in chars.enumerated() {
            let g = c.singleScalar.flatMap { index[$0.value] } ?? question
            let base = g * bytesPerGlyph
            for y in 0..<height {
                for x in 0..<width where glyphs[base + y * rowBytes + x / 8] & (0x80 >> UInt8(x % 8)) != 0 {
                    b[i * width + x, y] = true
                }
            }
        }
        return b
    }
}
