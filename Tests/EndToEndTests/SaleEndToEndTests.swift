import Foundation
import Testing
import TillCore
import TillProtocol
import TillTestSupport

/// The real `till` binary in a real terminal (tmux), driven by keys as a cashier and a
/// keyboard-wedge scanner would.
@Suite("Selling end to end (tmux)", .serialized)
struct SaleEndToEndTests {
    @Test func aCashierRingsUpVoidsDiscountsAndPaysCashAndTheExportShowsExactlyThatSale() throws {
        let f = try TillFixture()
        let t = try f.startTill()
        try f.signOn(t)

        try t.send("5012345678900", "Enter")                 // milk 1.19 (scanner burst)
        try t.waitFor("Milk 1L")
        try t.send("3", "*")                                 // quantity 3 ...
        try t.waitFor("3 x  Item / PLU:")
        try t.send("4006381333931", "Enter")                 // ... pens 3 × 1.49
        try t.waitFor("Highlighter pen")
        try t.send("2300012009953", "Enter")                 // price label: deli salad 9.95
        try t.waitFor("Deli salad")
        try t.send("96385074", "Enter")                      // gum 0.89, voided below
        try t.waitFor("Chewing gum")
        try t.send("4000000000013", "Enter")                 // coffee 6.99, discounted below
        try t.waitFor("Coffee beans")

        try t.send("4", "F2")                                // void line 4
        try t.waitFor("Line 4 voided")
        try t.send("10%", "F3")                              // 10% off the selected line (5, coffee)
        try t.waitFor("DISCOUNT: REASON")
        try t.send("1")                                      // Damaged item
        try t.waitFor("Line 5: discount 10% (Damaged item)")
        try t.send("F5")
        try t.waitFor("Total 21.90 due")
        let totalled = try t.screen()
        #expect(totalled.contains("TOTAL EUR 21.90"))
        #expect(totalled.contains("VOID"))

        try t.send("5000", "F6")                             // 50.00 cash
        try t.waitForAll(["CHANGE 28.10", "Sale 0001-01-000001 complete"])

        let sales = try f.exportedSales()
        try #require(sales.count == 1)
        let s = sales[0]
        #expect(s.sequence == 1)
        #expect(s.receiptNumber == "0001-01-000001")
        #expect(UUID(uuidString: s.saleID) != nil)
        // Version 7, made at the till's clock: head office's index of sales grows at its end.
        let made = try #require(SaleID.time(of: s.saleID), "\(s.saleID) is not a version 7 UUID")
        #expect(abs(made - Int64(Date().timeIntervalSince1970 * 1000)) < 600_000)
        #expect(s.lines.map(\.sku) == ["F0002", "F0001", "F0011", "F0003", "F0015"])
        #expect(s.lines.map(\.quantityMilli) == [1000, 3000, 1000, 1000, 1000])
        #expect(s.lines.map(\.voided) == [false, false, false, true, false])
        #expect(s.lines.map(\.net) == [119, 447, 995, 0, 629])
        #expect(s.lines[2].priceFromLabel)
        #expect(s.lines[4].lineDiscount == 70)
        #expect(s.totals == SaleDocument.Totals(subtotal: 2190, lineDiscounts: 70, saleDiscount: 0, total: 2190,
                                                paid: 5000, change: 2810, itemCount: 6))
        #expect(s.vat == [
            SaleDocument.VAT(code: "A", rateBasisPoints: 2000, gross: 447, vat: 75, net: 372),
            SaleDocument.VAT(code: "B", rateBasisPoints: 500, gross: 1743, vat: 83, net: 1660),
        ])
        #expect(s.tenders == [SaleDocument.TenderInfo(kind: "cash", amount: 5000, reference: nil)])

        let receipt = try String(contentsOfFile: f.dataDir + "/receipts/0001-01-000001.txt", encoding: .utf8)
        #expect(receipt.contains("TOTAL EUR"))
        #expect(receipt.contains("21.90"))
        #expect(receipt.contains("Change"))
        #expect(receipt.contains("28.10"))
    }

    @Test func aScannerBurstIsNeverMixedWithWhatTheCashierHasTyped() throws {
        let f = try TillFixture()
        let t = try f.startTill()
        try f.signOn(t)
        try t.send("3")                                      // the cashier starts keying...
        try t.waitFor("Item / PLU: 3")
        usleep(150_000)
        try t.send("5012345678900", "Enter")                 // ...and a scan arrives in one burst
        let screen = try t.waitForAll(["Milk 1L", "Item / PLU: 3"])   // the cashier's 3 is still there
        #expect(!screen.contains("35012345678900"))
        let milkRow = try #require(screen.split(separator: "\n").first { $0.contains("Milk 1L") })
        #expect(milkRow.contains(" 1 "))                     // quantity 1, not 3
        try t.send("*")                                      // the 3 becomes the next quantity
        try t.waitFor("3 x  Item / PLU:")
        try t.send("96385074", "Enter")
        let after = try t.waitFor("Chewing gum")
        let gumRow = try #require(after.split(separator: "\n").first { $0.contains("Chewing gum") })
        #expect(gumRow.contains("2.67"))                     // 3 × 0.89
    }

    @Test func badInputGetsAOneLineMessageAndTheSaleStaysAsItWas() throws {
        let f = try TillFixture()
        let t = try f.startTill()
        try f.signOn(t)
        try t.send("5012345678900", "Enter")
        try t.waitFor("TOTAL EUR 1.19")
        try t.send("5012345678901", "Enter")
        try t.waitFor("Barcode 5012345678901 failed its check digit (expected 0): scan again or key the PLU")
        try t.send("Escape", "4242", "Enter")
        try t.waitFor("No product has PLU 4242: check the number, or scan the item")
        try t.send("Escape", "0", "*")
        try t.waitFor("Quantity 0 is out of range: key 1 to 9999, then *")
        try t.send("Escape", "10000", "*")
        try t.waitFor("Quantity 10000 is out of range: key 1 to 9999, then *")
        try t.send("Escape", "500", "F3")
        try t.waitFor("Discount 5.00 is more than line 1's value 1.19: key a smaller discount")
        try t.send("Escape", "100", "F6")
        try t.waitForAll(["Cash 1.00 is less than the 1.19 due", "TOTAL EUR 1.19"])
        #expect(try f.exportedSales().isEmpty)
    }

    @Test func theScreenFitsEightyByTwentyFourRedrawsOnResizeAndWorksOnTheLinuxConsole() throws {
        let f = try TillFixture()
        let t = try f.startTill(width: 80, height: 24, term: "linux")
        var screen = try t.screen()
        let rows = screen.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(rows.first?.contains("Demo Store | Store 0001 | Till 01") == true)
        #expect(screen.contains("Demo store: cashier 1, PIN 1234 (supervisor 9, PIN 9999)"), "\(screen)")
        try f.signOn(t)
        try t.send("5012345678900", "Enter")
        screen = try t.waitFor("TOTAL EUR 1.19")        // the whole redraw, not the line alone
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count >= 24)
        // The status bar on the last row: at 80 columns every fact, abbreviated before any is cut.
        #expect(lines[23].contains("C1 | Printer: none | Unsent: 0 | Programme: 2026.11-demo-1"), "\(lines[23])")
        #expect(lines[23].contains("F1 Help"))
        #expect(screen.contains("TOTAL EUR 1.19"))

        try t.resize(width: 120, height: 40)
        screen = try t.waitUntil("a 120x40 redraw") { s in
            let l = s.split(separator: "\n", omittingEmptySubsequences: false)
            return l.count >= 40 && l[39].contains("F1 Help")
        }
        #expect(screen.contains("Milk 1L"))

        try t.resize(width: 60, height: 20)
        try t.waitFor("The till needs a terminal of at least 80x24;")
        try t.resize(width: 80, height: 24)
        screen = try t.waitFor("TOTAL EUR 1.19")             // nothing lost while too small
        #expect(screen.contains("Milk 1L"))
    }

    @Test func helpListsEveryKeyOnAnEightyByTwentyFourScreen() throws {
        let f = try TillFixture()
        let t = try f.startTill(width: 80, height: 24)
        try f.signOn(t)
        try t.send("F1")
        let texts = ["F2", "Void the selected line", "F6", "Cash", "F9", "Suspend", "Ctrl-X", "F12", "Sign off", "Ctrl-P", "Pay with points",
                     "Ctrl-N", "Ctrl-F", "Ctrl-E", "Ctrl-D", "Take the card off", "Ctrl-G", "The last messages", "Up Down PgUp PgDn",
                     "Amounts: 2000 is 20.00"]
        // The whole overlay, not the first rows tmux caught of it (a loaded machine draws slower).
        let help = try t.waitUntil("the whole help") { s in texts.allSatisfy { s.contains($0) } }
        for text in texts { #expect(help.contains(text), "help lacks \(text)") }
        try t.send("Escape")
        try t.waitUntil("help to close") { !$0.contains("KEYS") }
    }

    /// Issue 13, defect 4: raw PuTTY, rxvt, xterm and Linux-console sequences at 80x24, under
    /// TERM=linux and TERM=xterm-256color: each is its key or nothing, never digits in the entry.
    @Test(arguments: ["linux", "xterm-256color"])
    func otherTerminalsKeysAreDecodedAndUnknownOnesSwallowed(term: String) throws {
        let f = try TillFixture()
        let t = try f.startTill(width: 80, height: 24, term: term)
        try f.signOn(t)
        for (code, name) in [("5012345678900", "Milk 1L"), ("4006381333931", "Highlighter pen"), ("96385074", "Chewing gum")] {
            try t.send(code, "Enter")
            try t.waitFor(name)
        }
        try t.type("\u{1B}[11~")                              // PuTTY F1
        try t.waitFor("KEYS")
        try t.send("Escape")
        try t.waitUntil("help to close") { !$0.contains("KEYS") }
        try t.type("\u{1B}[7~")                               // rxvt Home: no "7" typed
        try t.send("1", "F2")
        try t.waitFor("Line 1 voided")
        try t.type("\u{1B}[1~")                               // Home as VT220/PuTTY send it: no "1"
        try t.type("\u{1B}[99~\u{1B}[1;9Z")                   // unknown: swallowed whole
        try t.send("2", "F2")
        try t.waitFor("Line 2 voided")
        try t.type("\u{1B}[[E")                               // the Linux console's F5: Total
        let total = try t.waitFor("due")
        #expect(!total.contains("no line"), "a sequence typed digits:\n\(total)")
        try t.type("\u{1B}OP")                                // xterm F1 in application mode
        try t.waitFor("KEYS")
        try t.send("Escape")
        try t.waitUntil("help to close") { !$0.contains("KEYS") }
        try t.send("F6")
        try t.waitFor(" complete.")
        let sale = try #require(try f.exportedSales().first)
        #expect(sale.lines.map(\.voided) == [true, true, false])
    }

    /// The store keys at 80x24 under both terminals: Ctrl-T finds a product by name and adds it;
    /// a code there is a price check; "N * Enter" changes the line; with payment started F2 takes
    /// the last tender off.
    @Test(arguments: ["linux", "xterm-256color"])
    func productLookupPriceCheckQuantityChangeAndTenderRemoval(term: String) throws {
        let f = try TillFixture()
        let t = try f.startTill(width: 80, height: 24, term: term)
        try f.signOn(t)
        try t.send("C-t")
        try t.waitFor("FIND A PRODUCT")
        try t.send("4000000000013", "Enter")
        try t.waitFor("Price check: Coffee beans 500g 6.99 (not added)")
        try t.type("bEAns coff")
        try t.send("Enter")
        try t.waitForAll(["Enter adds it to the sale", "Coffee beans 500g", "6.99"])
        try t.send("Enter")
        try t.waitUntil("the coffee on the sale") { !$0.contains("FIND A PRODUCT") && $0.contains("Coffee beans") }
        try t.send("3", "*", "Enter")
        try t.waitFor("Line 1: 3 x Coffee beans 500g 20.97")
        try t.send("F5")
        try t.waitFor("Total 20.97 due")
        try t.send("F8")
        try t.send("1000", "F6")                               // 10.00 cash, split
        try t.waitFor("10.97")
        try t.send("F2")
        try t.waitFor("Cash 10.00 taken off: give the 10.00 back. 20.97 due")
        try t.send("F6")
        try t.waitFor(" complete.")
        let sale = try #require(try f.exportedSales().first)
        #expect(sale.lines.map(\.quantityMilli) == [3000])
        #expect(sale.tenders == [SaleDocument.TenderInfo(kind: "cash", amount: 2097, reference: nil)])
    }

    /// The reason panel and the drawer count fit 80x24 whole: every reason and every note and coin
    /// shown, the count added up on screen as it is keyed.
    @Test(arguments: ["linux", "xterm-256color"])
    func reasonsAndTheDrawerCountAtEightyByTwentyFour(term: String) throws {
        let f = try TillFixture()
        let t = try f.startTill(width: 80, height: 24, term: term)
        try f.signOn(t)
        try t.send("4000000000013", "Enter")
        try t.waitFor("Coffee beans")
        try t.send("10%", "F3")
        // Waited for whole: a screen caught mid-redraw has the panel's title before its lines.
        let reasons = ["DISCOUNT: REASON", "1  Damaged item", "2  Customer complaint", "3  Staff discount", "4  Manager's decision", "Reason number:"]
        _ = try t.waitUntil("the whole reason panel") { screen in reasons.allSatisfy { screen.contains($0) } }
        try t.send("3")
        try t.waitFor("Line 1: discount 10% (Staff discount)")
        try t.send("F5")
        try t.waitFor("Total 6.29 due")
        try t.send("F6")
        try t.waitFor(" complete.")
        try t.send("Escape", "C-o")
        try t.waitFor("CASH OFFICE")
        try t.send("7")
        let parts = ["COUNT THE DRAWER", "100.00 x", "50.00 x", "0.05 x", "0.02 x", "0.01 x", "Counted: 0.00", "Count of 100.00:"]
        _ = try t.waitUntil("the whole count panel") { screen in parts.allSatisfy { screen.contains($0) } }
        try t.send("Enter", "1", "Enter")                    // no 100s, one 50
        try t.waitFor("Counted: 50.00")
        try t.send("F5")
        try t.waitFor("Close the day with 50.00 counted?")
    }

    /// Bananas on the till's scale (a fake Toledo 8213 scale on a pseudo-terminal): the weight is
    /// read when the PLU is keyed, a moving scale is waited for, an empty one is said so, and a
    /// weight keyed first still wins.
    @Test(arguments: ["linux", "xterm-256color"])
    func aWeighedItemIsWeighedOnTheScale(term: String) throws {
        let scale = try FakeScale()
        defer { scale.stop() }
        let f = try TillFixture(extraConfig: """
            [scale]
            device = "\(scale.devicePath)"
            """)
        let t = try f.startTill(width: 80, height: 24, term: term)
        try f.signOn(t)
        scale.queue([FakeScale.status(1), FakeScale.status(1)])      // still settling
        scale.show(FakeScale.weight("00.750"))
        try t.send("1", "Enter")                                     // PLU 1: bananas, 1.99/kg
        try t.waitFor("Bananas: 0.750 kg on the scale, 1.49")
        scale.show(FakeScale.weight("00.000"))
        try t.send("1", "Enter")
        try t.waitFor("The scale shows nothing: put the Bananas on the scale and scan again")
        try t.send("0.500", "*", "1", "Enter")                      // keyed: the scale is not asked
        scale.show(FakeScale.silent)
        let asked = scale.questions
        try t.send("1", "Enter")
        try t.waitFor("Scale: no answer from the scale")
        #expect(scale.questions > asked)
        try t.send("F5")
        try t.waitFor("2.49")                                        // 1.49 + 1.00 (0.500 kg)
        try t.send("F6")
        try t.waitFor(" complete.")
        let sale = try #require(try f.exportedSales().first)
        #expect(sale.lines.map(\.quantityMilli) == [750, 500])
        // The store's IT person tests the scale from the shell.
        scale.show(FakeScale.weight("01.250"))
        let ok = try f.runTill(["scale", "test"])
        #expect(ok.status == 0 && ok.stdout.contains("Weight: 1.250 kg. The scale works."), "\(ok.stdout)\(ok.stderr)")
        scale.show(FakeScale.weight("0.000"))
        let empty = try f.runTill(["scale", "test"])
        #expect(empty.status == 1 && empty.stderr.contains("shows nothing: put something on it"), "\(empty.stderr)")
    }
}
