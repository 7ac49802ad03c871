import ESCPOS
import Testing

@Suite("ESC/POS commands, byte for byte")
struct ESCPOSCommandTests {
    @Test func commands() {
        #expect(ESCPOS.initialize == [0x1B, 0x40])
        #expect(ESCPOS.bold(true) == [0x1B, 0x45, 1])
        #expect(ESCPOS.bold(false) == [0x1B, 0x45, 0])
        #expect(ESCPOS.underline(1) == [0x1B, 0x2D, 1])
        #expect(ESCPOS.underline(5) == [0x1B, 0x2D, 2])
        #expect(ESCPOS.size(width: 2, height: 1) == [0x1D, 0x21, 0x10])
        #expect(ESCPOS.size(width: 1, height: 2) == [0x1D, 0x21, 0x01])
        #expect(ESCPOS.size(width: 2, height: 2) == [0x1D, 0x21, 0x11])
        #expect(ESCPOS.size(width: 1, height: 1) == [0x1D, 0x21, 0x00])
        #expect(ESCPOS.inverse(true) == [0x1D, 0x42, 1])
        #expect(ESCPOS.justify(1) == [0x1B, 0x61, 1])
        #expect(ESCPOS.font(1) == [0x1B, 0x4D, 1])
        #expect(ESCPOS.feed(3) == [0x1B, 0x64, 3])
        #expect(ESCPOS.codeTable(19) == [0x1B, 0x74, 19])
        #expect(ESCPOS.cut(partial: false) == [0x1D, 0x56, 0x41, 3])
        #expect(ESCPOS.cut(partial: true) == [0x1D, 0x56, 0x42, 3])
        #expect(ESCPOS.drawerPulse() == [0x1B, 0x70, 0, 25, 250])
        #expect(ESCPOS.drawerPulse(pin5: true, onMs: 100, offMs: 200) == [0x1B, 0x70, 1, 50, 100])
        #expect(ESCPOS.statusRequest(4) == [0x10, 0x04, 4])
    }

    @Test func barcodeCommands() {
        #expect(ESCPOS.barcodeHeight(80) == [0x1D, 0x68, 80])
        #expect(ESCPOS.barcodeModuleWidth(2) == [0x1D, 0x77, 2])
        #expect(ESCPOS.barcodeText(2) == [0x1D, 0x48, 2])
        #expect(ESCPOS.ean13(Array("400638133393".utf8)) == [0x1D, 0x6B, 67, 12] + Array("400638133393".utf8))
        #expect(ESCPOS.code128(Array("AB-1".utf8)) == [0x1D, 0x6B, 73, 6, 0x7B, 0x42, 0x41, 0x42, 0x2D, 0x31])
    }

    @Test func qrCommand() {
        let q = ESCPOS.qrCode(Array("hi".utf8), moduleSize: 6, errorCorrection: .medium)
        #expect(q == [
            0x1D, 0x28, 0x6B, 4, 0, 0x31, 0x41, 0x32, 0,
            0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x43, 6,
            0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x45, 49,
            0x1D, 0x28, 0x6B, 5, 0, 0x31, 0x50, 0x30, 0x68, 0x69,
            0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x51, 0x30,
        ])
    }

    @Test func rasterCommand() {
        #expect(ESCPOS.raster(bytesPerRow: 2, rows: 300, data: [0xFF, 0x00][...]) == [0x1D, 0x76, 0x30, 0, 2, 0, 0x2C, 0x01, 0xFF, 0x00])
    }
}

@Suite("Encoder")
struct ESCPOSEncoderTests {
    let generic = try! PrinterProfile.named("generic-80")

    @Test func stylesAreSentOnlyWhenTheyChange() {
        var e = ESCPOSEncoder(profile: generic)
        e.setStyle(TextStyle(bold: true))
        e.setStyle(TextStyle(bold: true))
        e.line("A")
        e.setStyle(TextStyle(bold: true, doubleWidth: true, doubleHeight: true))
        e.align(.center)
        e.align(.center)
        e.line("B")
        e.setStyle(.normal)
        #expect(e.bytes == [0x1B, 0x40, 0x1B, 0x45, 1, 0x41, 0x0A, 0x1D, 0x21, 0x11, 0x1B, 0x61, 1, 0x42, 0x0A, 0x1B, 0x45, 0, 0x1D, 0x21, 0x00])
    }

    @Test func euroSwitchesToCP858() {
        var e = ESCPOSEncoder(profile: generic)
        e.text("Total €5")
        #expect(e.bytes == [0x1B, 0x40] + Array("Total ".utf8) + [0x1B, 0x74, 19, 0xD5, 0x35])
    }

    @Test func cyrillicSwitchesToCP866() {
        var e = ESCPOSEncoder(profile: generic)
        e.text("Итого")
        #expect(e.bytes == [0x1B, 0x40, 0x1B, 0x74, 17, 0x88, 0xE2, 0xAE, 0xA3, 0xAE])
    }

    @Test func pagesSwitchBackAndForthAndAreNotRepeated() {
        var e = ESCPOSEncoder(profile: generic)
        e.text("€ё€€")
        #expect(e.bytes == [0x1B, 0x40, 0x1B, 0x74, 19, 0xD5, 0x1B, 0x74, 17, 0xF1, 0x1B, 0x74, 19, 0xD5, 0xD5])
    }

    @Test func aCharacterNoCodePageHasPrintsAsQuestionMarkInOneColumn() {
        var e = ESCPOSEncoder(profile: generic)
        let text = "A日本€\u{1F600}Z"
        e.text(text)
        let printable = e.bytes.dropFirst(2).filter { $0 >= 0x20 }.count - 1 // minus the 't' of ESC t 19
        #expect(printable == text.count)
        #expect(e.bytes == [0x1B, 0x40, 0x41, 0x3F, 0x3F, 0x1B, 0x74, 19, 0xD5, 0x3F, 0x5A])
    }

    @Test func decomposedAccentsAreComposed() {
        var e = ESCPOSEncoder(profile: generic)
        e.text("e\u{301}")          // é as e + combining acute
        #expect(e.bytes == [0x1B, 0x40, 0x82])   // CP437 é
    }

    @Test func controlCharactersInDataCannotInjectCommands() {
        var e = ESCPOSEncoder(profile: generic)
        e.text("A\u{1B}@\u{1D}V\nB")
        #expect(e.bytes == [0x1B, 0x40, 0x41, 0x3F, 0x40, 0x3F, 0x56, 0x3F, 0x42])
    }

    @Test func cutFallsBackToFeedWithoutACutter() throws {
        var e = ESCPOSEncoder(profile: try PrinterProfile.named("generic-58"))
        e.cut(partial: true)
        #expect(e.bytes == [0x1B, 0x40, 0x1B, 0x64, 4])
        var t88 = ESCPOSEncoder(profile: try PrinterProfile.named("epson-tm-t88"))
        t88.cut(partial: true)
        t88.openDrawer()
        #expect(t88.bytes == [0x1B, 0x40, 0x1D, 0x56, 0x42, 3, 0x1B, 0x70, 0, 25, 250])
    }

    @Test func barcodeAndQRAreImagesOnARasterOnlyPrinter() throws {
        var e = ESCPOSEncoder(profile: try PrinterProfile.named("star-tsp100-raster"))
        try e.barcode(.code128, "0001-01-000042")
        try e.qrCode("https://example.com")
        var v = try VirtualPrinter(profile: e.profile, paperWidthMM: 80)
        v.feed(e.bytes)
        #expect(v.elements.count == 2)
        for el in v.elements {
            guard case .image = el else { Issue.record("expected an image, got \(el)"); continue }
        }
    }
}

@Suite("Printer profiles")
struct PrinterProfileTests {
    @Test func theBuiltInProfilesLoad() {
        #expect(PrinterProfile.builtIn.map(\.name) == ["generic-80", "generic-58", "epson-tm-t88", "epson-tm-t20", "star-tsp100-raster"])
        for p in PrinterProfile.builtIn { #expect(!p.paper.isEmpty) }
    }

    @Test func charactersPerLine() throws {
        #expect(try PrinterProfile.named("epson-tm-t88").paper(widthMM: 80).columns["A"] == 42)
        #expect(try PrinterProfile.named("epson-tm-t20").paper(widthMM: 58).columns["A"] == 35)
        #expect(try PrinterProfile.named("generic-58").paper(widthMM: 58).dots == 384)
        #expect(try PrinterProfile.named("Generic-80").name == "generic-80")
    }

    @Test func anUnknownProfileNamesTheNearest() {
        #expect(throws: ProfileError(message: "Unknown printer profile 'epson-tm88'. Try one that does exist, such as epson-tm-t88 or epson-tm-t20 (all: generic-80, generic-58, epson-tm-t88, epson-tm-t20, star-tsp100-raster)")) {
            try PrinterProfile.named("epson-tm88")
        }
    }

    @Test func aPaperWidthTheProfileLacks() {
        #expect(throws: ProfileError(message: "Printer profile generic-58 has no 80 mm paper: it takes 58 mm")) {
            try PrinterProfile.named("generic-58").paper(widthMM: 80)
        }
    }
}
