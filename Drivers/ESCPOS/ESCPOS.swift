/// ESC/POS commands as bytes (Epson's ESC/POS reference; the names are Epson's).
public enum ESCPOS {
    public static let ESC: UInt8 = 0x1B
    public static let GS: UInt8 = 0x1D
    public static let DLE: UInt8 = 0x10
    public static let EOT: UInt8 = 0x04
    public static let LF: UInt8 = 0x0A

    /// ESC @: initialise the printer (styles, alignment, code page back to defaults).
    public static let initialize: [UInt8] = [ESC, 0x40]
    /// ESC E n: emphasised (bold) on/off.
    public static func bold(_ on: Bool) -> [UInt8] { [ESC, 0x45, on ? 1 : 0] }
    /// ESC - n: underline off / 1-dot / 2-dot.
    public static func underline(_ dots: UInt8) -> [UInt8] { [ESC, 0x2D, min(dots, 2)] }
    /// GS ! n: character size; width multiplier in the high nibble, height in the low (1 = normal).
    public static func size(width: UInt8, height: UInt8) -> [UInt8] {
        [GS, 0x21, (min(max(width, 1), 8) - 1) << 4 | (min(max(height, 1), 8) - 1)]
    }
    /// GS B n: white on black (inverse) on/off.
    public static func inverse(_ on: Bool) -> [UInt8] { [GS, 0x42, on ? 1 : 0] }
    /// ESC a n: justification 0 left, 1 centre, 2 right.
    public static func justify(_ n: UInt8) -> [UInt8] { [ESC, 0x61, n] }
    /// ESC M n: font A (0) or B (1).
    public static func font(_ n: UInt8) -> [UInt8] { [ESC, 0x4D, n] }
    /// ESC d n: print and feed n lines.
    public static func feed(_ lines: UInt8) -> [UInt8] { [ESC, 0x64, lines] }
    /// ESC t n: select character code table n.
    public static func codeTable(_ n: UInt8) -> [UInt8] { [ESC, 0x74, n] }
    /// GS V 65/66 n: feed n lines to the cutter, then a full (65) or partial (66) cut.
    public static func cut(partial: Bool, feed: UInt8 = 3) -> [UInt8] { [GS, 0x56, partial ? 0x42 : 0x41, feed] }
    /// ESC p m t1 t2: pulse drawer pin 2 (m = 0) or 5 (m = 1) for t1 × 2 ms, rest t2 × 2 ms.
    public static func drawerPulse(pin5: Bool = false, onMs: Int = 50, offMs: Int = 500) -> [UInt8] {
        [ESC, 0x70, pin5 ? 1 : 0, UInt8(min(255, onMs / 2)), UInt8(min(255, offMs / 2))]
    }
    /// DLE EOT n: transmit status (1 printer, 2 offline cause, 3 error cause, 4 paper sensor).
    public static func statusRequest(_ n: UInt8) -> [UInt8] { [DLE, EOT, n] }

    /// GS h n: barcode height in dots.
    public static func barcodeHeight(_ dots: UInt8) -> [UInt8] { [GS, 0x68, dots] }
    /// GS w n: barcode module width (2–6).
    public static func barcodeModuleWidth(_ n: UInt8) -> [UInt8] { [GS, 0x77, min(max(n, 2), 6)] }
    /// GS H n: human-readable text 0 none, 1 above, 2 below, 3 both.
    public static func barcodeText(_ n: UInt8) -> [UInt8] { [GS, 0x48, n] }
    /// GS k 67 12 d…: EAN-13 from its 12 data digits (the printer adds the check digit).
    public static func ean13(_ twelveDigits: [UInt8]) -> [UInt8] { [GS, 0x6B, 67, 12] + twelveDigits }
    /// GS k 73 n {B d…: CODE128, code set B.
    public static func code128(_ data: [UInt8]) -> [UInt8] {
        [GS, 0x6B, 73, UInt8(data.count + 2), 0x7B, 0x42] + data
    }

    /// GS ( k: a QR code (model 2) with the given module size and error correction, stored and printed.
    public static func qrCode(_ data: [UInt8], moduleSize: UInt8, errorCorrection: QRErrorCorrection) -> [UInt8] {
        let store = data.count + 3
        return [GS, 0x28, 0x6B, 4, 0, 0x31, 0x41, 0x32, 0]                          // fn 165: model 2
            + [GS, 0x28, 0x6B, 3, 0, 0x31, 0x43, min(max(moduleSize, 1), 16)]       // fn 167: module size
            + [GS, 0x28, 0x6B, 3, 0, 0x31, 0x45, 48 + errorCorrection.rawValue]      // fn 169: error correction
            + [GS, 0x28, 0x6B, UInt8(store & 0xFF), UInt8(store >> 8), 0x31, 0x50, 0x30] + data // fn 180: store
            + [GS, 0x28, 0x6B, 3, 0, 0x31, 0x51, 0x30]                               // fn 181: print
    }

    /// GS v 0 0 xL xH yL yH d…: a raster bit image, `bytesPerRow` × `rows`, 1 bits are black.
    public static func raster(bytesPerRow: Int, rows: Int, data: ArraySlice<UInt8>) -> [UInt8] {
        [GS, 0x76, 0x30, 0, UInt8(bytesPerRow & 0xFF), UInt8(bytesPerRow >> 8), UInt8(rows & 0xFF), UInt8(rows >> 8)]
            + data
    }
}

/// QR error correction levels (the value is ESC/POS's order: L, M, Q, H).
public enum QRErrorCorrection: UInt8, Sendable, CaseIterable {
    case low = 0, medium = 1, quartile = 2, high = 3
}
