/// A one-bit image as printers take it: rows of bytes, most significant bit first, 1 = black.
public struct Bitmap: Hashable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var bytes: [UInt8]

    public var bytesPerRow: Int { (width + 7) / 8 }

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
        self.bytes = [UInt8](repeating: 0, count: ((width + 7) / 8) * height)
    }

    public init(width: Int, height: Int, bytes: [UInt8]) {
        precondition(bytes.count == ((width + 7) / 8) * height, "bitmap data size")
        self.width = width
        self.height = height
        self.bytes = bytes
    }

    public subscript(x: Int, y: Int) -> Bool {
        get {
            guard x >= 0, y >= 0, x < width, y < height else { return false }
            return bytes[y * bytesPerRow + x / 8] & (0x80 >> UInt8(x % 8)) != 0
        }
        set {
            guard x >= 0, y >= 0, x < width, y < height else { return }
            let i = y * bytesPerRow + x / 8, bit: UInt8 = 0x80 >> UInt8(x % 8)
            if newValue { bytes[i] |= bit } else { bytes[i] &= ~bit }
        }
    }

    /// Fills a rectangle black (or white).
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, black: Bool = true) {
        for yy in max(0, y)..<min(height, y + h) {
            for xx in max(0, x)..<min(width, x + w) { self[xx, yy] = black }
        }
    }

    /// Copies `other` onto this bitmap at (x, y), OR-ing black pixels (or inverting when `invert`).
    public mutating func draw(_ other: Bitmap, x: Int, y: Int) {
        for yy in 0..<other.height where y + yy >= 0 && y + yy < height {
            for xx in 0..<other.width where other[xx, yy] { self[x + xx, y + yy] = true }
        }
    }

    /// Inverts a rectangle (white on black).
    public mutating func invert(x: Int, y: Int, width w: Int, height h: Int) {
        for yy in max(0, y)..<min(height, y + h) {
            for xx in max(0, x)..<min(width, x + w) { self[xx, yy].toggle() }
        }
    }

    /// This bitmap scaled by whole factors (nearest neighbour): for double width/height text.
    public func scaled(x sx: Int, y sy: Int) -> Bitmap {
        guard sx != 1 || sy != 1 else { return self }
        var out = Bitmap(width: width * sx, height: height * sy)
        for y in 0..<height {
            for x in 0..<width where self[x, y] { out.fill(x: x * sx, y: y * sy, width: sx, height: sy) }
        }
        return out
    }

    /// Rows `range` as a new bitmap.
    public func rows(_ range: Range<Int>) -> Bitmap {
        let r = range.clamped(to: 0..<height)
        return Bitmap(width: width, height: r.count,
                      bytes: Array(bytes[(r.lowerBound * bytesPerRow)..<(r.upperBound * bytesPerRow)]))
    }

    /// The bitmap as a binary PBM (P4) file.
    public var pbm: [UInt8] { Array("P4\n\(width) \(height)\n".utf8) + bytes }

    /// Stacks bitmaps of one width top to bottom.
    public static func stack(_ parts: [Bitmap], width: Int) -> Bitmap {
        var out = Bitmap(width: width, height: parts.reduce(0) { $0 + $1.height })
        var y = 0
        for p in parts {
            out.draw(p, x: 0, y: y)
            y += p.height
        }
        return out
    }

    /// A one-bit image from 8-bit grey levels (0 black … 255 white), Floyd–Steinberg dithered so
    /// photos and shaded logos keep their tones on a thermal printer.
    public static func dithered(grey: [UInt8], width: Int, height: Int) -> Bitmap {
        var err = grey.map { Int($0) }
        var out = Bitmap(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                let old = err[i]
                let black = old < 128
                out[x, y] = black
                let e = old - (black ? 0 : 255)
                if x + 1 < width { err[i + 1] += e * 7 / 16 }
                if y + 1 < height {
                    if x > 0 { err[i + width - 1] += e * 3 / 16 }
                    err[i + width] += e * 5 / 16
                    if x + 1 < width { err[i + width + 1] += e / 16 }
                }
            }
        }
        return out
    }

    /// Scales grey levels to `newWidth` (keeping the aspect ratio), by area averaging.
    public static func resizeGrey(_ grey: [UInt8], width: Int, height: Int, toWidth newWidth: Int) -> (grey: [UInt8], width: Int, height: Int) {
        guard newWidth > 0, newWidth != width else { return (grey, width, height) }
        let newHeight = max(1, height * newWidth / width)
        var out = [UInt8](repeating: 255, count: newWidth * newHeight)
        for ny in 0..<newHeight {
            let y0 = ny * height / newHeight, y1 = max(y0 + 1, (ny + 1) * height / newHeight)
            for nx in 0..<newWidth {
                let x0 = nx * width / newWidth, x1 = max(x0 + 1, (nx + 1) * width / newWidth)
                var sum = 0, n = 0
                for y in y0..<min(y1, height) {
                    for x in x0..<min(x1, width) {
                        sum += Int(grey[y * width + x])
                        n += 1
                    }
                }
                out[ny * newWidth + nx] = UInt8(n == 0 ? 255 : sum / n)
            }
        }
        return (out, newWidth, newHeight)
    }
}
