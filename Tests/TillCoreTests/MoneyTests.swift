import Testing
import TillCore

@Suite("Money and rounding")
struct MoneyTests {
    @Test("formats minor units exactly", arguments: [
        (Int64(1234), "12.34"), (5, "0.05"), (-5, "-0.05"), (0, "0.00"), (100, "1.00"), (-123456, "-1234.56"),
    ])
    func format(minor: Int64, text: String) {
        #expect(Currency.eur.format(minor) == text)
    }

    @Test func formatsCurrenciesWithOtherMinorDigits() {
        #expect(Currency.jpy.format(1234) == "1234")
        #expect(Currency(code: "KWD")!.format(1234) == "1.234")
    }

    @Test("parses plain decimals exactly", arguments: [
        ("12", Int64?(1200)), ("12.3", 1230), ("12.34", 1234), ("0.05", 5), (".5", 50),
        ("12.345", nil), ("1,99", nil), ("-1", nil), ("", nil), ("1.", nil), ("1.2.3", nil), ("abc", nil),
        ("99999999999999999999", nil),
    ])
    func parse(text: String, minor: Int64?) {
        #expect(Currency.eur.parse(text) == minor)
    }

    @Test("keyed amounts without a point are minor units", arguments: [
        ("2000", Int64?(2000)), ("20.00", 2000), ("20.5", 2050), ("5", 5), ("x", nil), ("", nil),
        ("99999999999999", nil),
    ])
    func parseKeyed(text: String, minor: Int64?) {
        #expect(Currency.eur.parseKeyed(text) == minor)
    }

    @Test("a × b ÷ c rounds half away from zero", arguments: [
        (Int64(299), Int64(750), Int64(1000), Int64?(224)),  // 224.25
        (1999, 333, 1000, 666),     // 665.667
        (5, 1, 2, 3),               // 2.5 → 3
        (-5, 1, 2, -3),             // -2.5 → -3
        (3, 2000, 12000, 1),        // 0.5 → 1
        (2, 2000, 12000, 0),        // 0.333 → 0
        (789, 500, 10500, 38),      // 37.571
        (Int64.max, 2, 1, nil),     // overflow is reported, not wrapped
        (Int64.max, 3, 3, Int64.max),
    ])
    func mulDiv(a: Int64, b: Int64, c: Int64, expected: Int64?) {
        #expect(MinorUnits.mulDivRounded(a, b, c) == expected)
    }

    @Test func checkedSumRefusesOverflowAndHugeTotals() {
        #expect(MinorUnits.sum([1, 2, 3]) == 6)
        #expect(MinorUnits.sum([Money.maximumMinor, 1]) == nil)
        #expect(MinorUnits.sum([Int64.max, Int64.max]) == nil)
    }

    @Test("quantities parse exactly in thousandths", arguments: [
        ("3", Int64?(3000)), ("0.750", 750), ("0.75", 750), ("1.5", 1500), ("1.2345", nil), ("-1", nil), ("x", nil),
    ])
    func quantity(text: String, milli: Int64?) {
        #expect(Quantity.parse(text)?.milli == milli)
    }

    @Test func quantityDescription() {
        #expect(Quantity.units(3).description == "3")
        #expect(Quantity(milli: 750).description == "0.750")
        #expect(Quantity(milli: 1005).description == "1.005")
    }

    @Test("percentages parse to basis points", arguments: [
        ("20", Int64?(2000)), ("5.5", 550), ("7.25%", 725), ("0", 0), ("100", 10_000), ("101", nil), ("x%", nil),
    ])
    func percent(text: String, bp: Int64?) {
        #expect(TaxRate.parsePercent(text) == bp)
    }

    @Test func percentText() {
        #expect(TaxRate(code: "A", basisPoints: 2000).percentText == "20%")
        #expect(TaxRate(code: "A", basisPoints: 550).percentText == "5.5%")
        #expect(TaxRate(code: "A", basisPoints: 725).percentText == "7.25%")
        #expect(TaxRate(code: "A", basisPoints: 705).percentText == "7.05%")
    }
}
