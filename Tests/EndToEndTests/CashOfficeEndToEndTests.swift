import ESCPOS
import Foundation
import GRDB
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillTestSupport

/// The lines a printer has received so far, once they contain `text`, as the virtual printer reads them.
private func printed(_ printer: FakeNetworkPrinter, containing text: String) throws -> [String] {
    let deadline = Date().addingTimeInterval(10)
    var lines: [String] = []
    while Date() < deadline {
        var v = try VirtualPrinter(profile: try PrinterProfile.named("generic-80"), paperWidthMM: 80)
        v.feed(printer.received)
        lines = v.text
        if lines.contains(where: { $0.contains(text) }) { return lines }
        usleep(20_000)
    }
    throw FixtureError("the printer never printed '\(text)'; it printed:\n\(lines.joined(separator: "\n"))")
}

/// One line of the paper, label on the left and figure at the right margin of 48 columns.
private func row(_ label: String, _ value: String) -> String {
    label + String(repeating: " ", count: max(1, 48 - label.count - value.count)) + value
}

@Suite("Cash office end to end (tmux)", .serialized)
struct CashOfficeEndToEndTests {
    @Test func aReturnByReceiptBarcodeTakesThePointsBackAndTheZReportPrintsTheDay() throws {
        let printer = try FakeNetworkPrinter()
        defer { printer.stop() }
        let f = try TillFixture(extraConfig: "[printer]\nconnection = \"tcp:127.0.0.1:\(printer.port)\"\n")
        try f.installSteadyProgramme()
        let t = try f.startTill()
        try f.signOn(t)

        // Opening float 150.00.
        try t.send("C-o")
        try t.waitFor("CASH OFFICE")
        try t.send("1")
        try t.send("15000", "Enter")
        try t.waitFor("Opening float 150.00 recorded")

        // Milk 1.19 and coffee beans 6.99 for Anna (1500 points): +21 points, cash.
        try t.send("5012345678900", "Enter")
        try t.waitFor("Milk 1L")
        try t.send("4000000000013", "Enter")
        try t.waitFor("Coffee beans")
        try t.send("F5")
        try t.waitFor("LOYALTY CARD")
        try t.send(";\(DemoCatalog.cardNumber(1))=2812101?", "Enter")
        try t.waitFor("+21 this sale")
        try t.send("F6")
        try t.waitFor("Anna Ivanova: +21 points, balance 1521")
        try t.send("Escape")

        // The customer brings the coffee back: the receipt's barcode is scanned.
        try t.send("C-u")
        try t.waitFor("Receipt number:")
        try t.send("0001-01-000001", "Enter")
        try t.waitForAll(["RETURN OF RECEIPT 0001-01-000001", "Coffee beans", "Loyalty: Anna Ivanova"])
        try t.send("2", "Enter")
        // Kept: the milk, which earns 1 + 1 (dairy, double): 19 of the 21 points go back.
        try t.waitFor("Refund 6.99: cash 6.99; points taken back 19")
        try t.send("F5")
        try t.waitFor("RETURN: REASON")                      // the reason first, by its number
        try t.send("1")
        try t.waitFor("SUPERVISOR OVERRIDE")                 // a cashier cannot refund alone
        try t.send("9", "Enter")
        try t.send("9999", "Enter")
        try t.waitFor("Refund 0001-01-R00001: give 6.99 cash; 19 points taken back")
        let slip = try printed(printer, containing: "Points taken back")
        #expect(slip.contains(row("Of receipt", "0001-01-000001")))
        #expect(slip.contains(row("Reason", "Faulty")))
        #expect(slip.contains(row("Points taken back", "-19")))
        #expect(slip.contains(row("Authorised by supervisor", "9")))
        #expect(slip.contains { $0.contains("[CODE128 0001-01-R00001]") })
        // The slip can be shown again, by its number or as R1, as it was printed.
        for number in ["0001-01-R00001", "R1"] {
            let shown = try f.runTill(["receipt", number])
            #expect(shown.status == 0, "\(shown.stderr)")
            #expect(shown.stdout.contains(row("Points taken back", "-19")) && shown.stdout.contains("0001-01-R00001"), "\(shown.stdout)")
        }
        let none = try f.runTill(["receipt", "R7"])
        #expect(none.status != 0 && none.stderr.contains("no sale or refund 'R7'"), "\(none.stderr)")

        // The same line again is refused.
        try t.send("Escape", "C-u")
        try t.waitFor("Receipt number:")
        try t.send("0001-01-000001", "Enter")
        try t.waitFor("RETURN OF RECEIPT")
        try t.send("2", "Enter")
        try t.waitFor("has already been returned in full")
        try t.send("Escape")
        try t.waitFor("Return abandoned")

        // Anna's balance: 1521 - 19.
        try t.send(";\(DemoCatalog.cardNumber(1))=2812101?", "Enter")
        try t.waitFor("1502 pts")
        try t.send("5012345678900", "Enter")
        try t.waitFor("Milk 1L")
        try t.send("F10", "Enter")
        try t.waitFor("SUPERVISOR OVERRIDE")
        try t.send("9", "Enter", "9999", "Enter")
        try t.waitFor("Sale cancelled")

        // Close the day: a blind count of 151.19 (150.00 + 8.18 - 6.99).
        try t.send("C-o")
        try t.waitFor("CASH OFFICE")
        try t.send("7")
        try t.waitFor("COUNT THE DRAWER")
        // 100.00, 50.00, 1.00, 0.10, 0.05 and two 0.02s: a number and Enter for each note and coin.
        for count in ["1", "1", "", "", "", "", "1", "", "", "1", "1", "2"] {
            if !count.isEmpty { try t.send(count) }
            try t.send("Enter")
        }
        try t.waitFor("Counted: 151.19")
        try t.send("F5")
        try t.waitFor("CLOSE THE DAY?")
        try t.send("Enter")
        try t.waitFor("Z report 1: 1 sales, net 1.19; the drawer balances")
        let z = try printed(printer, containing: "END OF DAY")
        #expect(z.contains { $0.contains("Z   R E P O R T   1") })     // double width on paper
        for (label, value) in [
            ("Sales", "1"), ("Gross sales", "8.18"), ("Sale discounts", "-0.00"), ("Sales after discounts", "8.18"), ("Refunds (1)", "-6.99"), ("NET SALES EUR", "1.19"), ("Cash (1)", "1.19"),
            ("Voided sales (1)", "1.19"), ("Overrides", "2"), ("Issued", "21"), ("Taken back (returns)", "19"),
            ("Opening float", "150.00"), ("Cash sales", "8.18"), ("Cash refunds", "-6.99"), ("Expected in drawer", "151.19"),
            ("Counted", "151.19"), ("Over/short", "0.00"),
        ] {
            #expect(z.contains(row(label, value)), "Z report lacks \(label) \(value)")
        }
        // The Z goes to head office with the day's sales, after the refund.
        let db = try f.database()
        let kinds = try db.read { try String.fetchAll($0, sql: "SELECT kind FROM outbox ORDER BY id") }
        #expect(kinds == ["sale", "refund", "zreport"])

        // The audit trail, exported: who did what, with both identities on each override.
        let audit = try f.runTill(["audit", "--format", "csv"])
        #expect(audit.status == 0)
        let rows = audit.stdout.split(separator: "\n").map(String.init)
        #expect(rows.first == "at,action,cashier,supervisor,sale_id,detail")
        for action in ["sign-on", "float", "override", "refund", "void-sale", "z-report"] {
            #expect(rows.contains { $0.split(separator: ",").dropFirst().first.map(String.init) == action }, "the audit trail lacks \(action)")
        }
        #expect(rows.contains { $0.contains(",override,1,9,") && $0.contains("Refund: 6.99 of receipt 0001-01-000001") })
        // The Z's line names the cashier who closed the day (it was blank).
        #expect(rows.contains { $0.contains(",z-report,1,,") && $0.contains("Z 1: 1 sales, net 1.19") }, "\(rows.filter { $0.contains("z-report") })")
        // The kept Z report, and an X report of the new (empty) period, from the command line.
        let zText = try f.runTill(["report", "z"])
        #expect(zText.status == 0 && zText.stdout.contains(row("Expected in drawer", "151.19")))
        let x = try f.runTill(["report", "x", "--format", "json"])
        let period = try JSONDecoder().decode(PeriodReport.self, from: Data(x.stdout.utf8))
        #expect(period.kind == "X" && period.number == 2 && period.salesCount == 0)
    }

    /// Three wrong PINs lock the number at 80x24 on the Linux console and in xterm; the shell's
    /// `till unlock` (when no supervisor can) lets the cashier sign on again.
    @Test(arguments: ["linux", "xterm-256color"])
    func wrongPINsLockTheNumberAndTillUnlockOpensIt(term: String) throws {
        let f = try TillFixture(items: 100)
        let t = try f.startTill(width: 80, height: 24, term: term)
        for pin in ["0000", "1111"] {
            try t.send("1", "Enter")
            try t.waitFor("PIN:")
            try t.send(pin, "Enter")
            try t.waitFor("do not match")
        }
        try t.send("1", "Enter")
        try t.waitFor("PIN:")
        try t.send("2222", "Enter")
        try t.waitForAll(["locked after 3 wrong PINs", "Supervisor number:"])
        try t.send("Escape")
        try t.send("1", "Enter")
        try t.waitFor("PIN:")
        try t.send("1234", "Enter")
        try t.waitFor("locked after 3 wrong PINs")          // the right PIN too, while locked
        try t.send("Escape")
        let list = try f.runTill(["unlock"])
        #expect(list.stdout.contains("Locked after wrong PINs: 1"), "\(list.stdout)")
        let unlocked = try f.runTill(["unlock", "1"])
        #expect(unlocked.status == 0 && unlocked.stdout.contains("Cashier 1 unlocked"), "\(unlocked.stderr)")
        try f.signOn(t)
        let audit = try f.runTill(["audit", "--format", "csv"]).stdout
        #expect(audit.contains("sign-on-locked") && audit.contains("cashier 1 (from the command line)"), "\(audit)")
    }
}
