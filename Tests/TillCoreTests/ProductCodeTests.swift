import Testing
import TillCore

@Suite("Barcodes and check digits")
struct ProductCodeTests {
    let rules = BarcodeRules(pricePrefixes: ["22", "23"], weightPrefixes: ["21", "28"])

    @Test("check digits of known GTINs", arguments: [
        ("400638133393", Character("1")), ("501234567890", "0"), ("9638507", "4"), ("03600029145", "2"),
    ])
    func checkDigit(body: String, digit: Character) {
        #expect(GTIN.checkDigit(of: body) == digit)
    }

    @Test func ean13IsReadAsIs() throws {
        #expect(try ProductCode.classify("4006381333931", rules: rules) == .gtin("4006381333931"))
    }

    @Test func ean8IsReadAsIs() throws {
        #expect(try ProductCode.classify("96385074", rules: rules) == .gtin("96385074"))
    }

    @Test func upcAIsNormalisedToThirteenDigits() throws {
        #expect(try ProductCode.classify("036000291452", rules: rules) == .gtin("0036000291452"))
    }

    @Test func gtin14WithLeadingZeroIsItsEAN13() throws {
        #expect(try ProductCode.classify("04006381333931", rules: rules) == .gtin("4006381333931"))
    }

    @Test("a wrong check digit names the expected digit", arguments: [
        ("4006381333932", Character("1")), ("96385075", "4"), ("036000291453", "2"),
    ])
    func wrongCheckDigit(code: String, expected: Character) {
        #expect(throws: SaleError.badCheckDigit(code: code, expected: expected)) {
            try ProductCode.classify(code, rules: rules)
        }
    }

    @Test func badCheckDigitMessageQuotesTheCode() {
        let e = SaleError.badCheckDigit(code: "4006381333932", expected: "1")
        #expect(e.description == "Barcode 4006381333932 failed its check digit (expected 1): scan again or key the PLU")
    }

    @Test func shortNumbersArePLUsWithoutLeadingZeros() throws {
        #expect(try ProductCode.classify("42", rules: rules) == .plu("42"))
        #expect(try ProductCode.classify("00042", rules: rules) == .plu("42"))
    }

    @Test("other inputs are refused", arguments: ["0", "1234567", "1234567890", "12a4", "", "123456789012345"])
    func notACode(input: String) {
        #expect(throws: SaleError.notAProductCode(input)) { try ProductCode.classify(input, rules: rules) }
    }

    @Test func weightEmbeddedLabel() throws {
        // 21 | 00042 | 01250 | 9 : PLU 42, 1.250 kg
        #expect(try ProductCode.classify("2100042012509", rules: rules)
            == .weightEmbedded(plu: "42", grams: 1250, code: "2100042012509"))
    }

    @Test func priceEmbeddedLabel() throws {
        // 23 | 00012 | 00995 | 3 : PLU 12, 9.95
        #expect(try ProductCode.classify("2300012009953", rules: rules)
            == .priceEmbedded(plu: "12", price: 995, code: "2300012009953"))
    }

    @Test func prefixesAreConfigurable() throws {
        let none = BarcodeRules(pricePrefixes: [], weightPrefixes: [])
        #expect(try ProductCode.classify("2300012009953", rules: none) == .gtin("2300012009953"))
    }
}
