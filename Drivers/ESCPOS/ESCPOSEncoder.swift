/// Text styles a receipt line can have.
public struct TextStyle: Hashable, Sendable, Codable {
    public var bold = false
    public var underline = false
    public var doubleWidth = false
    public var doubleHeight = false
    public var inverse = false

    public init(bold: Bool = false, underline: Bool = false, doubleWidth: Bool = false, doubleHeight: Bool = false, inverse: Bool = false) {
        self.bold = bold
        self.underline = underline
        self.doubleWidth = doubleWidth
        self.doubleHeight = doubleHeight
        self.inverse = inverse
    }

    public static let normal = TextStyle()
}

public enum Alignment: UInt8, Sendable, Codable, Hashable {
    case left = 0, center = 1, right = 2
}

/// Builds ESC/POS bytes for a printer profile. Styles, alignment and code page are tracked, so a
/// command is sent only when something changes. Text is transcoded character by character: the
/// current code page if it has the character, else the first of the profile's code pages that
/// does (ESC t switches to it), else '?' — one byte per character either way, so columns never shift.
public struct ESCPOSEncoder: Sendable {
    public private(set) var bytes: [UInt8] = []
    public let profile: PrinterProfile
    private var style = TextStyle.normal
    private var alignment = Alignment.left
    private var codePage: CodePage? {
        didSet { table = codePage.map(CodePage.reverseTable) }
    }
    /// Unicode scalar → byte for the current code page's upper half.
    private var table: [UInt32: UInt8]?
    private let pages: [(CodePage, UInt8)]

    public init(profile: PrinterProfile) {
        self.profile = profile
        self.pages = profile.availableCodePages
        bytes.reserveCapacity(8_192)
        initialize()
    }

    /// ESC @, and the state the printer then has: normal style, left, code table 0.
    public mutating func initialize() {
        bytes += ESCPOS.initialize
        style = .normal
        alignment = .left
        codePage = pages.first { $0.1 == 0 }?.0
    }

    public mutating func setStyle(_ s: TextStyle) {
        if s.bold != style.bold { bytes += ESCPOS.bold(s.bold) }
        if s.underline != style.underline { bytes += ESCPOS.underline(s.underline ? 1 : 0) }
        if s.doubleWidth != style.doubleWidth || s.doubleHeight != style.doubleHeight {
            bytes += ESCPOS.size(width: s.doubleWidth ? 2 : 1, height: s.doubleHeight ? 2 : 1)
        }
        if s.inverse != style.inverse { bytes += ESCPOS.inverse(s.inverse) }
        style = s
    }

    public mutating func align(_ a: Alignment) {
        guard a != alignment else { return }
        bytes += ESCPOS.justify(a.rawValue)
        alignment = a
    }

    /// Text without a line feed.
    public mutating func text(_ s: String) {
        // Fast path: printable ASCII is the same byte in every code page.
        var ascii = true
        for b in s.utf8 where b < 0x20 || b >= 0x7F {
            ascii = false
            break
        }
        if ascii {
            bytes.append(contentsOf: s.utf8)
            return
        }
        // Scalar by scalar; a combining mark (decomposed accents) needs whole characters, so
        // such text takes the character path below.
        if !s.unicodeScalars.contains(where: { (0x300...0x36F).contains($0.value) }) {
            for scalar in s.unicodeScalars { encode(scalar) }
            return
        }
        for c in s {
            guard let scalar = c.singleScalar, scalar.value >= 0x20 else { bytes.append(0x3F); continue }
            if scalar.value < 0x7F { bytes.append(UInt8(scalar.value)); continue }
            if let page = codePage, let b = page.byte(for: scalar) { bytes.append(b); continue }
            if let (page, number) = pages.first(where: { $0.0.byte(for: scalar) != nil }) {
                bytes += ESCPOS.codeTable(number)
                codePage = page
                bytes.append(page.byte(for: scalar)!)
            } else {
                bytes.append(0x3F)
            }
        }
    }

    /// One scalar: ASCII as is, else the current code page, else the first page that has it
    /// (switching with ESC t), else '?'.
    private mutating func encode(_ scalar: Unicode.Scalar) {
        let v = scalar.value
        if v >= 0x20 && v < 0x7F { bytes.append(UInt8(v)); return }
        if v < 0x20 { bytes.append(0x3F); return }
        if let b = table?[v] { bytes.append(b); return }
        if let (page, number) = pages.first(where: { $0.0.byte(for: scalar) != nil }) {
            bytes += ESCPOS.codeTable(number)
            codePage = page
            bytes.append(page.byte(for: scalar)!)
        } else {
            bytes.append(0x3F)
        }
    }

    /// Text given as UTF-8 bytes; printable ASCII goes straight through.
    public mutating func text(utf8: ArraySlice<UInt8>) {
        let ascii = utf8.withUnsafeBufferPointer { buf in buf.allSatisfy { $0 >= 0x20 && $0 < 0x7F } }
        if ascii {
            bytes.append(contentsOf: utf8)
            return
        }
        // Decode UTF-8 here rather than build a String; fall back to it for combining marks.
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(utf8.count)
        var decoder = UTF8()
        var it = utf8.makeIterator()
        loop: while true {
            switch decoder.decode(&it) {
            case .scalarValue(let sc):
                if (0x300...0x36F).contains(sc.value) { text(String(decoding: utf8, as: UTF8.self)); return }
                scalars.append(sc)
            case .emptyInput: break loop
            case .error: scalars.append("?")
            }
        }
        for sc in scalars { encode(sc) }
    }

    public mutating func newline() { bytes.append(ESCPOS.LF) }

    public mutating func line(_ s: String) {
        text(s)
        newline()
    }

    public mutating func feed(_ lines: Int) { bytes += ESCPOS.feed(UInt8(min(255, max(0, lines)))) }

    /// Cuts if the printer has a cutter (partial if asked and available); otherwise feeds the
    /// paper past the tear bar.
    public mutating func cut(partial: Bool) {
        if profile.features.cut {
            bytes += ESCPOS.cut(partial: partial && profile.features.partialCut)
        } else {
            feed(4)
        }
    }

    /// Opens the cash drawer (pin 2), if the printer drives one.
    public mutating func openDrawer() {
        guard profile.features.drawer else { return }
        bytes += ESCPOS.drawerPulse()
    }

    public enum Symbology: String, Sendable, Codable {
        case ean13, code128
    }

    /// A barcode with its digits printed below; sent as GS k, or as an image where the printer
    /// cannot print barcodes itself.
    public mutating func barcode(_ symbology: Symbology, _ data: String, height: Int = 80, moduleWidth: Int = 2) throws(BarcodePatterns.Failure) {
        if profile.features.barcodes && !profile.features.rasterOnly {
            try BarcodePatterns.validate(symbology, data)
            bytes += ESCPOS.barcodeHeight(UInt8(min(255, height)))
            bytes += ESCPOS.barcodeModuleWidth(UInt8(moduleWidth))
            bytes += ESCPOS.barcodeText(2)
            switch symbology {
            case .ean13: bytes += ESCPOS.ean13(Array(data.utf8.prefix(12)).map { $0 })
            case .code128: bytes += ESCPOS.code128(Array(data.utf8))
            }
        } else {
            let modules = try symbology == .ean13 ? BarcodePatterns.ean13(data) : BarcodePatterns.code128(data)
            var image = BarcodePatterns.bitmap(modules, moduleWidth: moduleWidth, height: height)
            let label = BitmapFont.regular.render(data)
            image = Bitmap.stack([image, Bitmap(width: image.width, height: 4), label.centered(in: image.width)], width: max(image.width, label.width))
            raster(image)
        }
    }

    /// A QR code: GS ( k where the printer has native QR, else the same code drawn as an image.
    public mutating func qrCode(_ data: String, moduleSize: Int = 6, errorCorrection: QRErrorCorrection = .medium) throws(QRCode.Failure) {
        let bytesData = Array(data.utf8)
        if profile.features.nativeQR && !profile.features.rasterOnly {
            bytes += ESCPOS.qrCode(bytesData, moduleSize: UInt8(moduleSize), errorCorrection: errorCorrection)
        } else {
            raster(try QRCode(bytes: bytesData, errorCorrection: errorCorrection).bitmap(scale: moduleSize))
        }
    }

    /// A raster image (GS v 0) in bands of at most 128 rows, so long images fit printer buffers.
    /// Aligned by the current justification.
    public mutating func raster(_ image: Bitmap) {
        var y = 0
        while y < image.height {
            let rows = min(128, image.height - y)
            let start = y * image.bytesPerRow
            bytes += ESCPOS.raster(bytesPerRow: image.bytesPerRow, rows: rows, data: image.bytes[start..<(start + rows * image.bytesPerRow)])
            y += rows
        }
    }

    public mutating func raw(_ b: [UInt8]) { bytes += b }
}

extension Bitmap {
    /// This bitmap centred on a wider canvas.
    public func centered(in canvasWidth: Int) -> Bitmap {
        guard canvasWidth > width else { return self }
        var out = Bitmap(width: canvasWidth, height: height)
        out.draw(self, x: (canvasWidth - width) / 2, y: 0)
        return out
    }
}
