import Testing
import TillUI

private func keys(_ s: String) -> [Key] { s.map { Key.char($0) } }

@Suite("Scanner bursts")
struct ScanBurstDecoderTests {
    /// Feeds keys `gap` ms apart starting at `start`; returns what came out and the last time.
    private func feed(_ d: inout ScanBurstDecoder, _ ks: [Key], start: Int64, every gap: Int64) -> ([InputEvent], Int64) {
        var out: [InputEvent] = []
        var t = start
        for k in ks {
            out += d.feed(k, at: t)
            t += gap
        }
        return (out, t - gap)
    }

    @Test func aFastBurstOfThirteenDigitsAndEnterIsOneScan() {
        var d = ScanBurstDecoder(gapMilliseconds: 30)
        let (out, _) = feed(&d, keys("5012345678900") + [.enter], start: 1_000, every: 2)
        #expect(out == [.scan("5012345678900")])
        #expect(d.deadline == nil)
    }

    @Test func typingIsReleasedAsKeysOnceTheGapPasses() {
        var d = ScanBurstDecoder(gapMilliseconds: 30)
        let (out, last) = feed(&d, keys("5012345678900") + [.enter], start: 1_000, every: 120)
        // Each key is released when the next one arrives; the last one after the gap.
        #expect(out == keys("5012345678900").map(InputEvent.key))
        #expect(d.deadline == last + 30)
        #expect(d.flush(at: last + 29) == [])
        #expect(d.flush(at: last + 30) == [.key(.enter)])
    }

    @Test func aScanNeverMixesWithWhatTheCashierWasTyping() {
        var d = ScanBurstDecoder(gapMilliseconds: 30)
        // The cashier keys "3", and 200 ms later the scanner fires.
        var out = d.feed(.char("3"), at: 0)
        let (burst, _) = feed(&d, keys("4006381333931") + [.enter], start: 200, every: 1)
        out += burst
        #expect(out == [.key(.char("3")), .scan("4006381333931")])
    }

    @Test("short or long bursts are keys, not scans", arguments: ["1001", "1234567", "12345678901234567890"])
    func notScanLength(digits: String) {
        var d = ScanBurstDecoder(gapMilliseconds: 30)
        var (out, last) = feed(&d, keys(digits) + [.enter], start: 0, every: 1)
        out += d.flush(at: last + 30)
        #expect(out == (keys(digits) + [.enter]).map(InputEvent.key))
    }

    @Test("EAN-8, UPC-A, GTIN-14 and 16-19 digit card lengths scan",
          arguments: ["96385074", "036000291452", "04006381333931", "6034000000000015", "6034000000000000015"])
    func scanLengths(code: String) {
        var d = ScanBurstDecoder(gapMilliseconds: 30)
        #expect(feed(&d, keys(code) + [.enter], start: 0, every: 3).0 == [.scan(code)])
    }

    @Test func aBurstWithOtherKeysIsReleasedInOrder() {
        var d = ScanBurstDecoder(gapMilliseconds: 30)
        var (out, last) = feed(&d, keys("3*") + keys("5012345678900") + [.enter], start: 0, every: 1)
        out += d.flush(at: last + 30)
        #expect(out == (keys("3*5012345678900") + [.enter]).map(InputEvent.key))
    }

    @Test("magnetic-stripe track data is one scan, with or without Enter", arguments: [
        ";6034000000000015=2812101?", "%B6034000000000015^IVANOVA/ANNA^2812101?", "%B6034000000000015^IVANOVA/ANNA^2812101?;6034000000000015=2812101?",
    ])
    func trackData(track: String) {
        var d = ScanBurstDecoder(gapMilliseconds: 30)
        #expect(feed(&d, keys(track) + [.enter], start: 0, every: 2).0 == [.scan(track)])
        // A reader set up to send no Enter: the burst ends with the end sentinel and a pause.
        var (out, last) = feed(&d, keys(track), start: 1_000, every: 2)
        out += d.flush(at: last + 30)
        #expect(out == [.scan(track)])
    }

    @Test func aTypedQuestionMarkIsAKey() {
        var d = ScanBurstDecoder(gapMilliseconds: 30)
        var (out, last) = feed(&d, keys("?"), start: 0, every: 100)
        out += d.flush(at: last + 30)
        #expect(out == [.key(.char("?"))])
        // A swipe's error sentinel is a scan: the till reports a bad read.
        (out, last) = feed(&d, keys(";E?") + [.enter], start: 1_000, every: 2)
        #expect(out == [.scan(";E?")])
    }

    @Test func twoScansBackToBackAreTwoScans() {
        var d = ScanBurstDecoder(gapMilliseconds: 30)
        let (a, t) = feed(&d, keys("5012345678900") + [.enter], start: 0, every: 1)
        let (b, _) = feed(&d, keys("96385074") + [.enter], start: t + 1, every: 1)
        #expect(a + b == [.scan("5012345678900"), .scan("96385074")])
    }
}

@Suite("Keymap")
struct KeymapTests {
    @Test func defaults() {
        let k = Keymap.standard
        #expect(k.action(for: .function(5)) == .total)
        #expect(k.action(for: .char("*")) == .quantity)
        #expect(k.action(for: .ctrl("q")) == .quit)
        #expect(k.label(.cash) == "F6")
        #expect(k.keys(for: .help) == [.function(1), .char("?")])
    }

    @Test func overridesReplaceAnActionsKeys() throws {
        let k = try Keymap(overrides: ["total": ["F13", "Tab"]])
        #expect(k.action(for: .function(13)) == .total)
        #expect(k.action(for: .tab) == .total)
        #expect(k.action(for: .function(5)) == nil)
    }

    @Test func problemsNameTheEntry() {
        #expect(throws: Keymap.Problem.self) { try Keymap(overrides: ["totl": ["F5"]]) }
        #expect(throws: Keymap.Problem(message: "[keymap] cash = 'F99' is not a key name: use e.g. F5, Enter, Esc, Up, PgDn, Ctrl-X or a single character")) {
            try Keymap(overrides: ["cash": ["F99"]])
        }
        #expect(throws: Keymap.Problem(message: "[keymap] key F6 is bound to both cash and card: give each action its own key")) {
            try Keymap(overrides: ["card": ["F6"]])
        }
        #expect(throws: Keymap.Problem(message: "[keymap] total = '5': digits, '.', '%', Enter and Backspace are for entering numbers and cannot be bound")) {
            try Keymap(overrides: ["total": ["5"]])
        }
    }

    @Test func keyNames() {
        #expect(Key(name: "F12") == .function(12))
        #expect(Key(name: "pgdn") == .pageDown)
        #expect(Key(name: "Ctrl-X") == .ctrl("x"))
        #expect(Key(name: "*") == .char("*"))
        #expect(Key(name: "F0") == nil)
        #expect(Key(name: "Hyper") == nil)
    }
}
