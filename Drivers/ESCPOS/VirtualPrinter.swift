/// The "virtual printer": reads ESC/POS bytes as a printer would and keeps what the paper shows.
/// It is the preview for people (`text`, `svg`) and the oracle for tests: whatever it shows came
/// from the bytes, not from the data that produced them.
public struct VirtualPrinter: Sendable {
    public struct Run: Hashable, Sendable {
        public var text: String
        public var style: TextStyle
    }

    public struct TextLine: Hashable, Sendable {
        public var runs: [Run]
        public var alignment: Alignment
        public var fontB: Bool
        public var text: String { runs.map(\.text).joined() }
        /// Columns the line takes (double-width characters take two).
        public var columns: Int { runs.reduce(0) { $0 + $1.text.count * ($1.style.doubleWidth ? 2 : 1) } }
        public var doubleHeight: Bool { runs.contains { $0.style.doubleHeight } }
    }

    public enum Element: Hashable, Sendable {
        case text(TextLine)
        case feed(Int)
        case image(Bitmap, Alignment)
        case barcode(ESCPOSEncoder.Symbology, String, height: Int, moduleWidth: Int, Alignment)
        case qrCode(String, moduleSize: Int, errorCorrection: QRErrorCorrection, Alignment)
        case cut(partial: Bool)
        case drawerPulse(pin: Int)
        case statusRequest(Int)
        /// Bytes the virtual printer does not understand (kept, so tests see them).
        case unknown([UInt8])
    }

    public let profile: PrinterProfile
    public let paper: PrinterProfile.Paper
    public private(set) var elements: [Element] = []

    // Printer state while reading.
    private var style = TextStyle.normal
    private var alignment = Alignment.left
    private var fontB = false
    private var codePage: CodePage?
    private var runs: [Run] = []
    private var barcodeHeight = 162, moduleWidth = 3
    private var qrModule = 3, qrECC = QRErrorCorrection.low, qrData: [UInt8] = []

    public init(profile: PrinterProfile, paperWidthMM: Int) throws(ProfileError) {
        self.profile = profile
        self.paper = try profile.paper(widthMM: paperWidthMM)
        reset()
    }

    private mutating func reset() {
        style = .normal
        alignment = .left
        fontB = false
        codePage = codeTable(0)
    }

    private func codeTable(_ n: UInt8) -> CodePage? {
        profile.codePages.first { $0.value == n }.flatMap { CodePage(rawValue: $0.key) }
    }

    /// Reads a whole job.
    public mutating func feed(_ bytes: [UInt8]) {
        var i = 0
        func need(_ n: Int) -> Bool { i + n <= bytes.count }
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case ESCPOS.LF:
                endLine()
                i += 1
            case ESCPOS.ESC where need(2):
                let c = bytes[i + 1]
                switch c {
                case 0x40: endLineIfAny(); reset(); i += 2
                case 0x45 where need(3): style.bold = bytes[i + 2] & 1 == 1; i += 3
                case 0x2D where need(3): style.underline = bytes[i + 2] != 0 && bytes[i + 2] != 0x30; i += 3
                case 0x61 where need(3): alignment = Alignment(rawValue: bytes[i + 2] % 48) ?? .left; i += 3
                case 0x4D where need(3): fontB = bytes[i + 2] % 48 == 1; i += 3
                case 0x74 where need(3): codePage = codeTable(bytes[i + 2]); i += 3
                case 0x64 where need(3):
                    endLine()
                    if bytes[i + 2] > 1 { elements.append(.feed(Int(bytes[i + 2]) - 1)) }
                    i += 3
                case 0x70 where need(5): elements.append(.drawerPulse(pin: bytes[i + 2] & 1 == 1 ? 5 : 2)); i += 5
                default: unknown(Array(bytes[i..<min(bytes.count, i + 2)])); i += 2
                }
            case ESCPOS.GS where need(2):
                let c = bytes[i + 1]
                switch c {
                case 0x21 where need(3):
                    style.doubleWidth = bytes[i + 2] >> 4 > 0
                    style.doubleHeight = bytes[i + 2] & 0x0F > 0
                    i += 3
                case 0x42 where need(3): style.inverse = bytes[i + 2] & 1 == 1; i += 3
                case 0x56 where need(3):
                    endLineIfAny()
                    let m = bytes[i + 2]
                    elements.append(.cut(partial: m == 1 || m == 0x31 || m == 66))
                    i += (m == 65 || m == 66) ? 4 : 3
                case 0x68 where need(3): barcodeHeight = Int(bytes[i + 2]); i += 3
                case 0x77 where need(3): moduleWidth = Int(bytes[i + 2]); i += 3
                case 0x48 where need(3), 0x66 where need(3): i += 3
                case 0x6B where need(4): i = barcode(bytes, i)
                case 0x28 where need(5) && bytes[i + 2] == 0x6B: i = qr(bytes, i)
                case 0x76 where need(8) && bytes[i + 2] == 0x30: i = raster(bytes, i)
                default: unknown(Array(bytes[i..<min(bytes.count, i + 2)])); i += 2
                }
            case ESCPOS.DLE where need(3) && bytes[i + 1] == ESCPOS.EOT:
                elements.append(.statusRequest(Int(bytes[i + 2])))
                i += 3
            case 0x0D:
                i += 1
            default:
                if b >= 0x20 {
                    let ch: Character = (b < 0x80 ? Unicode.Scalar(b) : codePage?.scalar(for: b)).map(Character.init) ?? "\u{FFFD}"
                    if let last = runs.last, last.style == style {
                        runs[runs.count - 1].text.append(ch)
                    } else {
                        runs.append(Run(text: String(ch), style: style))
                    }
                } else {
                    unknown([b])
                }
                i += 1
            }
        }
        endLineIfAny()
    }

    private mutating func endLineIfAny() { if !runs.isEmpty { endLine() } }

    private mutating func endLine() {
        elements.append(.text(TextLine(runs: runs, alignment: alignment, fontB: fontB)))
        runs = []
    }

    private mutating func unknown(_ b: [UInt8]) {
        if case .unknown(let prev)? = elements.last {
            elements[elements.count - 1] = .unknown(prev + b)
        } else {
            elements.append(.unknown(b))
        }
    }

    private mutating func barcode(_ bytes: [UInt8], _ i: Int) -> Int {
        let m = bytes[i + 2]
        endLineIfAny()
        if m >= 65, i + 3 < bytes.count {
            let n = Int(bytes[i + 3])
            guard i + 4 + n <= bytes.count else { unknown(Array(bytes[i...])); return bytes.count }
            var data = Array(bytes[(i + 4)..<(i + 4 + n)])
            if m == 73, data.count >= 2, data[0] == 0x7B { data.removeFirst(2) }
            let text = String(decoding: data, as: UTF8.self)
            let symbology: ESCPOSEncoder.Symbology = m == 67 ? .ean13 : .code128
            elements.append(.barcode(symbology, m == 67 && text.count == 12 ? text + String(checkDigit(text)) : text,
                                     height: barcodeHeight, moduleWidth: moduleWidth, alignment))
            return i + 4 + n
        }
        unknown(Array(bytes[i..<(i + 3)]))
        return i + 3
    }

    private func checkDigit(_ twelve: String) -> Int {
        var sum = 0
        for (k, ch) in twelve.reversed().enumerated() { sum += (ch.wholeNumberValue ?? 0) * (k % 2 == 0 ? 3 : 1) }
        return (10 - sum % 10) % 10
    }

    private mutating func qr(_ bytes: [UInt8], _ i: Int) -> Int {
        let len = Int(bytes[i + 3]) | Int(bytes[i + 4]) << 8
        guard i + 5 + len <= bytes.count, len >= 2 else { unknown(Array(bytes[i...])); return bytes.count }
        let body = Array(bytes[(i + 5)..<(i + 5 + len)])
        switch body[1] {
        case 0x43: qrModule = Int(body[2])
        case 0x45: qrECC = QRErrorCorrection(rawValue: body[2] &- 48) ?? .low
        case 0x50: qrData = Array(body.dropFirst(3))
        case 0x51:
            endLineIfAny()
            elements.append(.qrCode(String(decoding: qrData, as: UTF8.self), moduleSize: qrModule, errorCorrection: qrECC, alignment))
        default: break
        }
        return i + 5 + len
    }

    private mutating func raster(_ bytes: [UInt8], _ i: Int) -> Int {
        let x = Int(bytes[i + 4]) | Int(bytes[i + 5]) << 8, y = Int(bytes[i + 6]) | Int(bytes[i + 7]) << 8
        let n = x * y
        guard i + 8 + n <= bytes.count else { unknown(Array(bytes[i...])); return bytes.count }
        endLineIfAny()
        let band = Bitmap(width: x * 8, height: y, bytes: Array(bytes[(i + 8)..<(i + 8 + n)]))
        // Bands of one image arrive one after another: join them back into the image.
        if case .image(let prev, let a)? = elements.last, prev.width == band.width, a == alignment {
            elements[elements.count - 1] = .image(Bitmap.stack([prev, band], width: band.width), a)
        } else {
            elements.append(.image(band, alignment))
        }
        return i + 8 + n
    }
}
