import CZlib

/// Reads logo images into grey levels (0 black … 255 white): PNG (non-interlaced; grey, RGB,
/// palette, with or without alpha, 1–16 bits) and netpbm PBM/PGM. Transparent pixels are white.
public enum ImageDecoder {
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
        public init(message: String) { self.message = message }
    }

    public static func grey(_ data: [UInt8]) throws(Failure) -> (grey: [UInt8], width: Int, height: Int) {
        if data.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return try png(data) }
        if data.count > 2, data[0] == UInt8(ascii: "P"), (1...6).contains(data[1] &- 48) { return try netpbm(data) }
        throw Failure(message: "not a PNG or PBM/PGM image")
    }

    // MARK: PNG

    static func png(_ d: [UInt8]) throws(Failure) -> ([UInt8], Int, Int) {
        var pos = 8
        var width = 0, height = 0, depth = 0, colour = 0
        var palette: [(UInt8, UInt8, UInt8)] = [], alphaTable: [UInt8] = []
        var idat: [UInt8] = []
        func be32(_ i: Int) -> Int { Int(d[i]) << 24 | Int(d[i + 1]) << 16 | Int(d[i + 2]) << 8 | Int(d[i + 3]) }
        while pos + 8 <= d.count {
            let length = be32(pos)
            let type = String(decoding: d[(pos + 4)..<(pos + 8)], as: UTF8.self)
            let start = pos + 8
            guard length >= 0, start + length + 4 <= d.count else { throw Failure(message: "the PNG file is cut short") }
            let body = d[start..<(start + length)]
            switch type {
            case "IHDR":
                guard length >= 13 else { throw Failure(message: "the PNG header is damaged") }
                width = be32(start)
                height = be32(start + 4)
                depth = Int(d[start + 8])
                colour = Int(d[start + 9])
                guard d[start + 12] == 0 else { throw Failure(message: "interlaced PNG images are not supported: save it without interlacing") }
            case "PLTE":
                palette = stride(from: body.startIndex, to: body.endIndex - 2, by: 3).map { (d[$0], d[$0 + 1], d[$0 + 2]) }
            case "tRNS":
                alphaTable = Array(body)
            case "IDAT":
                idat += body
            case "IEND":
                pos = d.count
                continue
            default: break
            }
            pos = start + length + 4
        }
        guard width > 0, height > 0, width <= 4096, height <= 8192 else {
            throw Failure(message: "the PNG is \(width)x\(height): use an image up to 4096x8192")
        }
        let channels: Int
        switch colour {
        case 0: channels = 1
        case 2: channels = 3
        case 3: channels = 1
        case 4: channels = 2
        case 6: channels = 4
        default: throw Failure(message: "unknown PNG colour type \(colour)")
        }
        guard [1, 2, 4, 8, 16].contains(depth) else { throw Failure(message: "unsupported PNG bit depth \(depth)") }
        let bitsPerPixel = channels * depth
        let rowBytes = (width * bitsPerPixel + 7) / 8
        let bpp = max(1, bitsPerPixel / 8)
        var raw = [UInt8](repeating: 0, count: height * (rowBytes + 1))
        var rawLength = uLongf(raw.count)
        let rc = raw.withUnsafeMutableBufferPointer { out in
            idat.withUnsafeBufferPointer { inp in
                uncompress(out.baseAddress, &rawLength, inp.baseAddress, uLong(inp.count))
            }
        }
        guard rc == Z_OK, Int(rawLength) == raw.count else { throw Failure(message: "the PNG image data is damaged (zlib \(rc))") }

        // Undo the per-row filters.
        var pixels = [UInt8](repeating: 0, count: height * rowBytes)
        for y in 0..<height {
            let filter = raw[y * (rowBytes + 1)]
            let src = y * (rowBytes + 1) + 1, dst = y * rowBytes
            for x in 0..<rowBytes {
                let cur = Int(raw[src + x])
                let a = x >= bpp ? Int(pixels[dst + x - bpp]) : 0
                let b = y > 0 ? Int(pixels[dst - rowBytes + x]) : 0
                let c = (x >= bpp && y > 0) ? Int(pixels[dst - rowBytes + x - bpp]) : 0
                let v: Int
                switch filter {
                case 0: v = cur
                case 1: v = cur + a
                case 2: v = cur + b
                case 3: v = cur + (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    v = cur + (pa <= pb && pa <= pc ? a : (pb <= pc ? b : c))
                default: throw Failure(message: "the PNG image data is damaged (filter \(filter))")
                }
                pixels[dst + x] = UInt8(truncatingIfNeeded: v)
            }
        }

        func sample(_ row: Int, _ index: Int) -> Int { // index-th sample in the row, scaled to 0…255
            switch depth {
            case 8: return Int(pixels[row * rowBytes + index])
            case 16: return Int(pixels[row * rowBytes + index * 2])
            default:
                let bit = index * depth
                let byte = pixels[row * rowBytes + bit / 8]
                let v = Int(byte >> UInt8(8 - depth - bit % 8)) & ((1 << depth) - 1)
                return colour == 3 ? v : v * 255 / ((1 << depth) - 1)
            }
        }
        var grey = [UInt8](repeating: 255, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                var r = 0, g = 0, b = 0, alpha = 255
                switch colour {
                case 0: r = sample(y, x); g = r; b = r
                case 2: r = sample(y, x * 3); g = sample(y, x * 3 + 1); b = sample(y, x * 3 + 2)
                case 3:
                    let i = sample(y, x)
                    if i < palette.count { (r, g, b) = (Int(palette[i].0), Int(palette[i].1), Int(palette[i].2)) }
                    if i < alphaTable.count { alpha = Int(alphaTable[i]) }
                case 4: r = sample(y, x * 2); g = r; b = r; alpha = sample(y, x * 2 + 1)
                default:
                    r = sample(y, x * 4); g = sample(y, x * 4 + 1); b = sample(y, x * 4 + 2); alpha = sample(y, x * 4 + 3)
                }
                let lum = (r * 299 + g * 587 + b * 114) / 1000
                grey[y * width + x] = UInt8((lum * alpha + 255 * (255 - alpha)) / 255)
            }
        }
        return (grey, width, height)
    }

    // MARK: netpbm

    static func netpbm(_ d: [UInt8]) throws(Failure) -> ([UInt8], Int, Int) {
        let kind = d[1] - 48
        var pos = 2
        func token() throws(Failure) -> Int {
            while pos < d.count {
                if d[pos] == UInt8(ascii: "#") { while pos < d.count && d[pos] != 0x0A { pos += 1 } }
                else if d[pos] == 0x20 || d[pos] == 0x0A || d[pos] == 0x0D || d[pos] == 0x09 { pos += 1 }
                else { break }
            }
            var v = 0, digits = 0
            while pos < d.count, (48...57).contains(d[pos]) { v = v * 10 + Int(d[pos] - 48); pos += 1; digits += 1 }
            guard digits > 0 else { throw Failure(message: "the PBM/PGM header is damaged") }
            return v
        }
        let w = try token(), h = try token()
        guard w > 0, h > 0, w <= 4096, h <= 8192 else { throw Failure(message: "the image is \(w)x\(h): use one up to 4096x8192") }
        let maxValue = (kind == 1 || kind == 4) ? 1 : try token()
        guard maxValue > 0 else { throw Failure(message: "the PGM header is damaged") }
        var grey = [UInt8](repeating: 255, count: w * h)
        switch kind {
        case 1, 2:
            for i in 0..<(w * h) {
                if kind == 1 {
                    while pos < d.count, !(d[pos] == 48 || d[pos] == 49) { pos += 1 }
                    guard pos < d.count else { throw Failure(message: "the PBM image is cut short") }
                    grey[i] = d[pos] == 49 ? 0 : 255
                    pos += 1
                } else {
                    grey[i] = UInt8(min(255, try token() * 255 / maxValue))
                }
            }
        case 4:
            pos += 1
            let rowBytes = (w + 7) / 8
            guard pos + rowBytes * h <= d.count else { throw Failure(message: "the PBM image is cut short") }
            for y in 0..<h {
                for x in 0..<w where d[pos + y * rowBytes + x / 8] & (0x80 >> UInt8(x % 8)) != 0 { grey[y * w + x] = 0 }
            }
        case 5:
            pos += 1
            guard maxValue < 256, pos + w * h <= d.count else { throw Failure(message: "the PGM image is cut short or 16-bit") }
            for i in 0..<(w * h) { grey[i] = UInt8(Int(d[pos + i]) * 255 / maxValue) }
        default:
            throw Failure(message: "P\(kind) images are not supported: use PNG, PBM or PGM")
        }
        return (grey, w, h)
    }
}
