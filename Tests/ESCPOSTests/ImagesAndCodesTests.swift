import ESCPOS
import Foundation
import Testing
import TillTestSupport

/// Decodes a bitmap with zbarimg (an independent decoder), or fails the test with why.
private func zbar(_ bitmap: Bitmap) throws -> String {
    let dir = TemporaryDirectory("zbar")
    let path = dir.file("code.pbm")
    try Data(bitmap.pbm).write(to: URL(fileURLWithPath: path))
    let r = try runProcess("/usr/bin/zbarimg", ["-q", "--raw", path])
    guard r.status == 0 else { throw FixtureProblem("zbarimg found nothing (status \(r.status)): \(r.stderr)") }
    return r.stdout.trimmingCharacters(in: .newlines)
}

private struct FixtureProblem: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

private func fixture(_ name: String) throws -> [UInt8] {
    var url = URL(fileURLWithPath: #filePath)
    url.deleteLastPathComponent()
    return [UInt8](try Data(contentsOf: url.appendingPathComponent("Fixtures/" + name)))
}

@Suite("QR codes and barcodes, read back by zbarimg")
struct CodesTests {
    @Test("QR codes of every length class and error correction level decode", arguments: [
        ("https://example.com/r/0001-01-000001", QRErrorCorrection.medium),
        ("0001-01-000042", .low),
        (String(repeating: "Receipt 0001-01-000042 ", count: 5), .quartile),
        (String(repeating: "Лояльность €; ", count: 12), .high),
        (String(repeating: "x", count: 600), .low),
    ])
    func qr(text: String, ecc: QRErrorCorrection) throws {
        let q = try QRCode(bytes: Array(text.utf8), errorCorrection: ecc)
        #expect(q.size == q.version * 4 + 17)
        #expect(try zbar(q.bitmap(scale: 4)) == text)
    }

    @Test func qrVersionIsTheSmallestThatFits() throws {
        #expect(try QRCode(bytes: Array("HELLO".utf8), errorCorrection: .medium).version == 1)
        #expect(try QRCode(bytes: [UInt8](repeating: 65, count: 14), errorCorrection: .medium).version == 1)
        #expect(try QRCode(bytes: [UInt8](repeating: 65, count: 15), errorCorrection: .medium).version == 2)
        #expect(throws: QRCode.Failure.self) { try QRCode(bytes: [UInt8](repeating: 65, count: 3000), errorCorrection: .high) }
    }

    @Test func ean13Decodes() throws {
        let modules = try BarcodePatterns.ean13("400638133393")
        #expect(modules.count == 95)
        #expect(try zbar(BarcodePatterns.bitmap(modules, moduleWidth: 3, height: 120)) == "4006381333931")
        #expect(throws: BarcodePatterns.Failure.self) { try BarcodePatterns.ean13("4006381333932") }
    }

    @Test func code128Decodes() throws {
        let modules = try BarcodePatterns.code128("0001-01-000042")
        #expect(try zbar(BarcodePatterns.bitmap(modules, moduleWidth: 3, height: 120)) == "0001-01-000042")
        #expect(throws: BarcodePatterns.Failure.self) { try BarcodePatterns.code128("€") }
    }
}

@Suite("Images")
struct ImageTests {
    @Test func greyPNGWithUpFilter() throws {
        let img = try ImageDecoder.grey(fixture("grey.png"))
        #expect(img.width == 4 && img.height == 2)
        #expect(img.grey == [0, 255, 0, 255, 255, 0, 255, 0])
    }

    @Test func rgbPNGWithSubFilterIsLuminance() throws {
        let img = try ImageDecoder.grey(fixture("rgb.png"))
        #expect(img.grey == [76, 149, 29, 255])
    }

    @Test func palettePNGWithTransparency() throws {
        #expect(try ImageDecoder.grey(fixture("palette.png")).grey == [0, 255, 255])
    }

    @Test func rgbaPNGWithPaethFilterIsComposedOnWhite() throws {
        // The second pixel's alpha decodes through the Paeth predictor to 127: 255·128/255 = 128.
        #expect(try ImageDecoder.grey(fixture("rgba.png")).grey == [0, 128])
    }

    @Test func pbm() throws {
        let img = try ImageDecoder.grey(fixture("logo.pbm"))
        #expect(img.width == 5 && img.height == 3)
        #expect(img.grey.map { $0 == 0 } == [true, false, true, false, true, false, true, false, true, false, true, true, true, true, true])
    }

    @Test func badImagesSayWhy() {
        #expect(throws: ImageDecoder.Failure(message: "not a PNG or PBM/PGM image")) { try ImageDecoder.grey(Array("GIF89a".utf8)) }
        #expect(throws: ImageDecoder.Failure(message: "the PNG file is cut short")) {
            try ImageDecoder.grey(Array(try fixture("grey.png").prefix(30)))
        }
    }

    @Test func ditheringKeepsBlackAndWhiteAndHalfTones() {
        #expect(Bitmap.dithered(grey: [0, 255, 0, 255], width: 4, height: 1).bytes == [0b1010_0000])
        let grey = Bitmap.dithered(grey: [UInt8](repeating: 128, count: 64), width: 8, height: 8)
        let black = (0..<8).flatMap { y in (0..<8).map { x in grey[x, y] } }.filter { $0 }.count
        #expect((24...40).contains(black))
    }
}

@Suite("Bitmap font")
struct BitmapFontTests {
    @Test func terminusIsTwelveByTwentyFourAndCoversLatinCyrillicAndEuro() {
        let f = BitmapFont.regular
        #expect(f.width == 12 && f.height == 24)
        for c in "Aé€ЖжЁ0?" { #expect(f.has(c), "no glyph for \(c)") }
        #expect(!f.has("日"))
    }

    @Test func unknownCharactersDrawAsQuestionMarks() {
        #expect(BitmapFont.regular.render("日") == BitmapFont.regular.render("?"))
        #expect(BitmapFont.regular.render("AB").width == 24)
        #expect(BitmapFont.regular.render("I") != BitmapFont.bold.render("I"))
    }
}
