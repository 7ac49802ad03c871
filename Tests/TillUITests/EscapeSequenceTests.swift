import Testing
import TillCore
import TillUI

/// Issue 13, defect 4: every sequence a PuTTY, rxvt, xterm or Linux console sends is one key or
/// nothing, never loose characters typed into the entry line.
@Suite("Escape sequences of other terminals")
struct EscapeSequenceTests {
    static func parse(_ s: String) -> EscapeSequence.Parse { EscapeSequence.parse(Array(s)) }

    @Test(arguments: [
        ("[11~", Key.function(1)), ("[12~", .function(2)), ("[14~", .function(4)), ("[15~", .function(5)), ("[17~", .function(6)),
        ("[21~", .function(10)), ("[23~", .function(11)), ("[24~", .function(12)),       // PuTTY, VT220
        ("OP", .function(1)), ("OS", .function(4)), ("[1;2P", .function(1)), ("[15;5~", .function(5)), // xterm
        ("[7~", .home), ("[8~", .end), ("[11^", .function(1)), ("[11$", .function(1)),   // rxvt
        ("[[A", .function(1)), ("[[E", .function(5)),                                       // Linux console
        ("[1~", .home), ("[4~", .end), ("[H", .home), ("[F", .end), ("OH", .home), ("[5~", .pageUp), ("[6~", .pageDown),
        ("[3~", .delete), ("[A", .up), ("[1;5B", .down), ("OC", .right),
        ("Op", .char("0")), ("Oy", .char("9")), ("On", .char(".")), ("OM", .enter), ("Ok", .char("+")), ("Oj", .char("*")),
    ])
    func knownSequencesAreTheirKeys(sequence: String, key: Key) {
        #expect(Self.parse(sequence) == .key(key), "ESC \(sequence)")
    }

    @Test(arguments: ["[2~", "[99~", "[200~", "[1;9Z", "[?1049h", "[M", "OZ", "[[Z", "[38;5;12m"])
    func unknownSequencesAreSwallowedWhole(sequence: String) {
        #expect(Self.parse(sequence) == .key(nil), "ESC \(sequence)")
    }

    @Test func aSequenceCutShortAsksForMore() {
        for partial in ["", "[", "[1", "[11", "[1;", "O", "[[", "[ "] {
            #expect(Self.parse(partial) == .incomplete, "ESC \(partial)")
        }
    }

    @Test func escapeFollowedByAnOrdinaryKeyIsTheEscapeKeyThenThatKey() {
        for after in ["1", "a", "\u{1B}", " "] {
            #expect(Self.parse(after) == .escapeThen, "ESC \(after)")
        }
    }

    @Test func noParameterRunGrowsWithoutBound() {
        #expect(Self.parse("[" + String(repeating: "1", count: 40)) == .key(nil))
    }
}

/// Issue 13, defect 10: the status bar at 80 columns keeps offline and unsent, the printer and the
/// config version, abbreviating the rest.
@Suite("Status bar at 80 columns")
struct StatusBarTests {
    @Test func eightyColumnsKeepEveryFactAbbreviated() {
        let cashier = Cashier(number: "1", name: "Demo Cashier")
        let items = ["Printer: paper out (3 waiting)", "Unsent: 12 (oldest 2h5m)", "REJECTED: 1 (till sync status)",
                     "Head office: offline, last contact 12:34:56", "Config v42"]
        let wide = StatusBar.fit(cashier: cashier, items: items, width: 200)
        #expect(wide == "Cashier 1 Demo Cashier | " + items.joined(separator: " | "))
        let narrow = StatusBar.fit(cashier: cashier, items: items, width: 80 - 8 - 3)
        #expect(narrow.count <= 69, "\(narrow)")
        for fact in ["paper out", "3w", "Unsent 12", "2h5m", "REJ 1", "OFFLINE", "12:34", "Cfg v42", "C1"] {
            #expect(narrow.contains(fact), "\(fact) is missing from '\(narrow)'")
        }
    }
}
