import ESCPOS
import Testing

@Suite("Virtual printer")
struct VirtualPrinterTests {
    let profile = try! PrinterProfile.named("generic-80")

    @Test func readsBackTextStylesAlignmentAndCodePages() throws {
        var e = ESCPOSEncoder(profile: profile)
        e.align(.center)
        e.setStyle(TextStyle(bold: true, doubleWidth: true, doubleHeight: true))
        e.line("Магазин")
        e.setStyle(.normal)
        e.align(.left)
        e.line("Total €19.89")
        e.cut(partial: false)
        var v = try VirtualPrinter(profile: profile, paperWidthMM: 80)
        v.feed(e.bytes)
        guard case .text(let first) = v.elements[0], case .text(let second) = v.elements[1] else {
            Issue.record("unexpected \(v.elements)")
            return
        }
        #expect(first.text == "Магазин")
        #expect(first.alignment == .center)
        #expect(first.runs[0].style == TextStyle(bold: true, doubleWidth: true, doubleHeight: true))
        #expect(second.text == "Total €19.89")
        #expect(v.elements[2] == .cut(partial: false))
        #expect(v.text == [
            "                 М а г а з и н ",
            "Total €19.89",
            "-------- cut --------",
        ])
    }

    @Test func readsBarcodesQRImagesAndTheDrawer() throws {
        var e = ESCPOSEncoder(profile: profile)
        e.openDrawer()
        try e.barcode(.ean13, "400638133393")
        try e.barcode(.code128, "0001-01-000042")
        try e.qrCode("https://example.com/r/1")
        var img = Bitmap(width: 16, height: 300)
        img.fill(x: 0, y: 0, width: 8, height: 300)
        e.raster(img)
        var v = try VirtualPrinter(profile: profile, paperWidthMM: 80)
        v.feed(e.bytes)
        #expect(v.elements == [
            .drawerPulse(pin: 2),
            .barcode(.ean13, "4006381333931", height: 80, moduleWidth: 2, .left),
            .barcode(.code128, "0001-01-000042", height: 80, moduleWidth: 2, .left),
            .qrCode("https://example.com/r/1", moduleSize: 6, errorCorrection: .medium, .left),
            .image(img, .left),   // three bands of 128, 128 and 44 rows joined back
        ])
        #expect(v.svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"576\""))
    }

    @Test func unknownBytesAreShownNotHidden() throws {
        var v = try VirtualPrinter(profile: profile, paperWidthMM: 80)
        v.feed([0x41, 0x0A, 0x1B, 0x99, 0x07])
        #expect(v.text == ["A", "[unknown 1B 99 7]"])
    }

    /// Issue 13, defect 8: the receipt's spaces are kept in the SVG, as on paper.
    @Test func svgKeepsTheSpacesOfALine() throws {
        var e = ESCPOSEncoder(profile: profile)
        e.line("Milk 1L B" + String(repeating: " ", count: 35) + "1.19")
        var v = try VirtualPrinter(profile: profile, paperWidthMM: 80)
        v.feed(e.bytes)
        let svg = v.svg
        #expect(svg.contains("xml:space=\"preserve\""))
        #expect(svg.contains(">Milk 1L B" + String(repeating: " ", count: 35) + "1.19</text>"), "\(svg)")
    }

    @Test func svgEscapesText() throws {
        var e = ESCPOSEncoder(profile: profile)
        e.line("<b>&\"")
        var v = try VirtualPrinter(profile: profile, paperWidthMM: 80)
        v.feed(e.bytes)
        #expect(v.svg.contains("&lt;b&gt;&amp;&quot;"))
    }
}
