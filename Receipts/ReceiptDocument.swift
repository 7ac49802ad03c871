public import ESCPOS

/// A printed line's text, as UTF-8 bytes (a slice of the document's text buffer).
public struct ReceiptText: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let utf8: ArraySlice<UInt8>
    public init(_ bytes: ArraySlice<UInt8>) { utf8 = bytes }
    public init(_ string: String) { utf8 = ArraySlice(string.utf8) }
    public init(stringLiteral value: String) { self.init(value) }
    public var string: String { String(decoding: utf8, as: UTF8.self) }
    public var description: String { string }
}

/// A receipt laid out for a paper width: printed lines, images, codes, cut and drawer. It is
/// what a template produces and what becomes printer bytes.
public struct ReceiptDocument: Sendable, Hashable {
    public enum Block: Sendable, Hashable {
        /// One printed line, already padded for its alignment.
        case text(ReceiptText, TextStyle)
        case feed(Int)
        case image(Bitmap, Alignment)
        case barcode(ESCPOSEncoder.Symbology, String, height: Int, Alignment)
        case qrCode(String, moduleSize: Int, Alignment)
        case cut(partial: Bool)
        case drawer
    }

    public var blocks: [Block] = []
    /// Characters per line at normal size.
    public var columns: Int

    public init(columns: Int, blocks: [Block] = []) {
        self.columns = columns
        self.blocks = blocks
    }

    /// The printed text lines, for people and tests.
    public var lines: [String] {
        blocks.compactMap { if case .text(let s, _) = $0 { return s.string } else { return nil } }
    }

    /// ESC/POS bytes for a printer. A raster-only printer gets every line drawn as an image.
    /// The drawer pulse goes first, so the drawer opens while the receipt prints.
    public func escpos(profile: PrinterProfile, paperWidthMM: Int) throws -> [UInt8] {
        var e = ESCPOSEncoder(profile: profile)
        if blocks.contains(.drawer) { e.openDrawer() }
        if profile.features.rasterOnly {
            let dots = try profile.paper(widthMM: paperWidthMM).dots
            var pending: [Bitmap] = []
            func flush() {
                if !pending.isEmpty { e.raster(Bitmap.stack(pending, width: dots)) }
                pending = []
            }
            for b in blocks {
                switch b {
                case .text(let s, let style): pending.append(Self.rasterLine(s.string, style, width: dots))
                case .feed(let n): pending.append(Bitmap(width: dots, height: n * 24))
                case .image(let bitmap, let a): pending.append(Self.place(bitmap, a, width: dots))
                case .barcode(let sym, let data, let height, let a):
                    let modules = try sym == .ean13 ? BarcodePatterns.ean13(data) : BarcodePatterns.code128(data)
                    let bars = BarcodePatterns.bitmap(modules, moduleWidth: 2, height: height)
                    pending.append(Self.place(bars, a, width: dots))
                    pending.append(Self.rasterLine(Self.aligned(data, a, columns), .normal, width: dots))
                case .qrCode(let data, let size, let a):
                    pending.append(Self.place(try QRCode(bytes: Array(data.utf8)).bitmap(scale: size), a, width: dots))
                case .cut(let partial):
                    flush()
                    e.cut(partial: partial)
                case .drawer: break
                }
            }
            flush()
            return e.bytes
        }
        for b in blocks {
            switch b {
            case .text(let s, let style):
                e.setStyle(style)
                e.text(utf8: s.utf8)
                e.newline()
            case .feed(let n):
                e.setStyle(.normal)
                e.feed(n)
            case .image(let bitmap, let a):
                e.align(a)
                e.raster(bitmap)
                e.align(.left)
            case .barcode(let sym, let data, let height, let a):
                e.setStyle(.normal)
                e.align(a)
                try e.barcode(sym, data, height: height)
                e.align(.left)
            case .qrCode(let data, let size, let a):
                e.align(a)
                try e.qrCode(data, moduleSize: size)
                e.align(.left)
            case .cut(let partial):
                e.setStyle(.normal)
                e.cut(partial: partial)
            case .drawer: break
            }
        }
        e.setStyle(.normal)
        return e.bytes
    }

    /// A text line drawn with the Terminus 12×24 font at printer resolution.
    static func rasterLine(_ s: String, _ style: TextStyle, width: Int) -> Bitmap {
        var glyphs = (style.bold ? BitmapFont.bold : BitmapFont.regular).render(s)
        glyphs = glyphs.scaled(x: style.doubleWidth ? 2 : 1, y: style.doubleHeight ? 2 : 1)
        if style.underline { glyphs.fill(x: 0, y: glyphs.height - 2, width: glyphs.width, height: 1) }
        var line = Bitmap(width: width, height: glyphs.height + 6)
        line.draw(glyphs, x: 0, y: 3)
        if style.inverse { line.invert(x: 0, y: 0, width: min(width, glyphs.width), height: line.height) }
        return line
    }

    static func place(_ b: Bitmap, _ a: Alignment, width: Int) -> Bitmap {
        var out = Bitmap(width: width, height: b.height)
        let x: Int
        switch a {
        case .left: x = 0
        case .center: x = max(0, (width - b.width) / 2)
        case .right: x = max(0, width - b.width)
        }
        out.draw(b, x: x, y: 0)
        return out
    }

    static func aligned(_ s: String, _ a: Alignment, _ width: Int) -> String {
        let pad = max(0, width - s.count)
        switch a {
        case .left: return s
        case .center: return String(repeating: " ", count: pad / 2) + s
        case .right: return String(repeating: " ", count: pad) + s
        }
    }
}
