import ESCPOS
import Foundation
import GRDB
import PrivateServers
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillTestSupport

private let fixtures: String = {
    var url = URL(fileURLWithPath: #filePath)
    url.deleteLastPathComponent()
    return url.appendingPathComponent("Fixtures/umockdev").path
}()

private let anna = DemoCatalog.cardNumber(1)
private let stock = DemoCatalog.cardNumber(DemoCatalog.firstStockCard)

extension TillFixture {
    /// Puts in force the demo programme without its weekday promotion (so the points do not
    /// depend on the day the test runs), through `till import programme`.
    func installSteadyProgramme() throws {
        var p = DemoCatalog.programme
        p.promotions = []
        p.version = "e2e-1"
        let file = dir.write("programme.json", String(decoding: try JSONEncoder().encode(p), as: UTF8.self))
        let r = try runTill(["import", "programme", file])
        guard r.status == 0 else { throw FixtureError("till import programme failed: \(r.stderr)") }
    }
}

/// What a printer received, read by the virtual printer.
private func paper(_ printer: FakeNetworkPrinter, containing text: String) throws -> [String] {
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline {
        var v = try VirtualPrinter(profile: try PrinterProfile.named("generic-80"), paperWidthMM: 80)
        v.feed(printer.received)
        if v.text.contains(where: { $0.contains(text) }) { return v.text }
        usleep(20_000)
    }
    var v = try VirtualPrinter(profile: try PrinterProfile.named("generic-80"), paperWidthMM: 80)
    v.feed(printer.received)
    throw FixtureError("the printer never printed '\(text)'; it printed:\n\(v.text.joined(separator: "\n"))")
}

/// The lines from the one starting with `first`, `count` of them.
private func block(_ lines: [String], from first: String, count: Int) -> [String] {
    Array(lines.drop { !$0.hasPrefix(first) }.prefix(count))
}

/// An evemu script of a reader typing `text` and Enter on a US keyboard (evdev key codes).
func evemuScript(typing text: String) -> String {
    let plain: [Character: Int] = [
        "1": 2, "2": 3, "3": 4, "4": 5, "5": 6, "6": 7, "7": 8, "8": 9, "9": 10, "0": 11, "-": 12, "=": 13, ";": 39, "/": 53, "\n": 28,
    ]
    let shifted: [Character: Int] = ["?": 53, "%": 6, "^": 7]
    var lines = ["# EVEMU 1.3", "# device /dev/input/event5"]
    var t = 0
    func event(_ type: Int, _ code: Int, _ value: Int) {
        let hex = { (v: Int) in String(repeating: "0", count: 4 - String(v, radix: 16).count) + String(v, radix: 16) }
        lines.append("E: \(t / 1_000_000).\(String(repeating: "0", count: 6 - String(t % 1_000_000).count))\(t % 1_000_000) \(hex(type)) \(hex(code)) \(value)")
    }
    for c in text + "\n" {
        let code = plain[c] ?? shifted[c]!
        let shift = shifted[c] != nil
        if shift { event(1, 42, 1); event(0, 0, 0) }
        event(1, code, 1); event(0, 0, 0)
        t += 2_000
        event(1, code, 0); event(0, 0, 0)
        if shift { event(1, 42, 0); event(0, 0, 0) }
        t += 2_000
    }
    return lines.joined(separator: "\n") + "\n"
}

@Suite("Loyalty end to end (tmux)", .serialized)
struct LoyaltyEndToEndTests {
    @Test func aTrack2SwipeAtTheTotalPromptEarnsPointsThatTheReceiptShows() throws {
        let printer = try FakeNetworkPrinter()
        defer { printer.stop() }
        let f = try TillFixture(extraConfig: "[printer]\nconnection = \"tcp:127.0.0.1:\(printer.port)\"\n")
        try f.installSteadyProgramme()
        let t = try f.startTill()
        try f.signOn(t)
        try t.send("5012345678900", "Enter")                  // milk 1.19: dairy, double points
        try t.waitFor("Milk 1L")
        try t.send("4000000000013", "Enter")                  // coffee beans 6.99: 10 points a pack
        try t.waitFor("Coffee beans")
        try t.send("F5")
        try t.waitFor("LOYALTY CARD")
        try t.send(";\(anna)=2812101?", "Enter")              // a keyboard-wedge magstripe reader
        let identified = try t.waitForAll(["+21 this sale", "Card **** 0015 | Anna Ivanova | Silver | 1500 pts | this sale +21"])
        #expect(!identified.contains("Item / PLU: ;"))        // nothing of the swipe in the input line
        try t.send("Enter")                                   // a stray Enter some readers send is harmless
        try t.send("F6")
        try t.waitFor("Anna Ivanova: +21 points, balance 1521")
        let lines = try paper(printer, containing: "New balance")
        #expect(block(lines, from: "Loyalty card", count: 12) == [
            "Loyalty card **** **** **** 0015",
            "Anna Ivanova",
            "Previous balance                            1500",
            "  1 pt per 1.00 on 8.18                       +8",
            "  Double points on dairy                      +1",
            "  Coffee beans: 10 pts a pack                +10",
            "  Silver tier x1.25                           +2",
            "Points earned                                +21",
            "New balance                                 1521",
            "Tier                                      Silver",
            "891.82 more to reach Gold",            // 1500.00 less 600.00 and this sale
            "            [CODE128 0001-01-000001]",
        ])
        let sale = try #require(try f.exportedSales().first)
        #expect(sale.loyalty?.cardNumber == anna)
        #expect(sale.loyalty?.programmeVersion == "e2e-1")
    }

    @Test func noCardThenIssueAndRegisterAWelcomeBonusAndASlip() throws {
        let printer = try FakeNetworkPrinter()
        defer { printer.stop() }
        let f = try TillFixture(extraConfig: "[printer]\nconnection = \"tcp:127.0.0.1:\(printer.port)\"\n")
        try f.installSteadyProgramme()
        let t = try f.startTill()
        try f.signOn(t)
        try t.send("C-n")
        try t.waitFor("NEW LOYALTY CARD")
        try t.send(stock, "Enter")                            // a card from the store's stock, scanned
        try t.waitFor("6034000009000008")
        try t.type("Olga", enter: true)
        try t.type("Smirnova", enter: true)
        try t.type("+7 912 345 6789", enter: true)
        try t.type("olga.example.com", enter: true)
        try t.send("Enter", "Enter", "Enter", "y", "Enter")
        try t.waitFor("E-mail 'olga.example.com' is not valid")
        for _ in 0..<16 { try t.send("BSpace") }
        try t.type("olga@example.com", enter: true)
        try t.send("Enter", "Enter", "Enter", "Enter")
        try t.waitForAll(["Card issued to Olga Smirnova", "100 pts*"])
        let slip = try paper(printer, containing: "Welcome bonus")
        #expect(slip.contains("Card                         **** **** **** 0008"))
        #expect(slip.contains("Name                               Olga Smirnova"))
        #expect(slip.contains("E-mail                          olga@example.com"))
        #expect(slip.contains("Offers by e-mail/SMS                         Yes"))
        #expect(slip.contains("Welcome bonus                         100 points"))
        // Her first sale starts from the welcome bonus.
        try t.send("5012345678900", "Enter")
        try t.waitFor("Milk 1L")
        try t.send("F5")
        try t.waitFor("Total 1.19 due")                       // her card is in: no prompt
        try t.send("F6")
        try t.waitFor("Olga Smirnova: +2 points, balance 102")
        let receipt = try paper(printer, containing: "New balance")
        #expect(receipt.contains("Previous balance                             100"))
        #expect(receipt.contains("Balance provisional: not yet confirmed"))
        let registration = try f.runTill(["export", "sales", "--format", "json"])
        #expect(registration.status == 0)
        let db = try f.database()
        let outbox = try db.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM outbox WHERE kind = 'registration'") }
        #expect(outbox == 1)
    }

    @Test func partOfASalePaidWithPoints() throws {
        let printer = try FakeNetworkPrinter()
        defer { printer.stop() }
        let f = try TillFixture(extraConfig: "[printer]\nconnection = \"tcp:127.0.0.1:\(printer.port)\"\n")
        try f.installSteadyProgramme()
        let t = try f.startTill()
        try f.signOn(t)
        try t.send("5012345678900", "Enter")
        try t.waitFor("Milk 1L")
        try t.send("4000000000013", "Enter")
        try t.waitFor("Coffee beans")
        try t.send("F5")
        try t.waitFor("LOYALTY CARD")
        try t.send(anna, "Enter")                             // the card's barcode
        try t.waitFor("+21 this sale")
        try t.send("C-p")
        try t.waitFor("818 points pay 4.09. 4.09 still due")
        try t.send("F6")
        try t.waitFor("balance 703")
        let lines = try paper(printer, containing: "New balance")
        #expect(lines.contains("Points                                      4.09"))
        #expect(lines.contains("Cash                                        4.09"))
        #expect(lines.contains("Points redeemed (4.09)                      -818"))
        #expect(lines.contains("New balance                                  703"))
        let sale = try #require(try f.exportedSales().first)
        #expect(sale.tenders.map(\.kind) == ["points", "cash"])
    }

    /// Issue 13, defect 10: at 80x24, under TERM=linux and xterm-256color, a message longer
    /// than the screen is shown whole (wrapped above the totals), and Ctrl-G shows the last ones.
    @Test(arguments: ["linux", "xterm-256color"])
    func longMessagesAreReadWholeAtEightyByTwentyFour(term: String) throws {
        let f = try TillFixture()
        try f.installSteadyProgramme()
        let t = try f.startTill(width: 80, height: 24, term: term)
        try f.signOn(t)
        try t.send("2", "*")
        try t.send("30", "Enter")                              // two gift cards: 50.00
        try t.waitFor("Gift card")
        try t.send(anna, "Enter")
        try t.waitFor("1500 pts")
        try t.send("500", "C-p")                              // unreachable: both choices offered
        let offer = try t.waitFor("1000 points pay 6.00")
        let words = screenWords(offer)
        #expect(words.contains("Ctrl-P again: 998 points pay 4.99; or key 6.00 Ctrl-P: 1000 points pay 6.00"), "\(offer)")
        try t.send("Up")                                       // any key: the box goes, the message stays in the history
        try t.waitUntil("the box to close") { !$0.contains("1000 points pay 6.00") }
        try t.send("C-g")
        try t.waitForAll(["LAST MESSAGES", "1000 points pay 6.00"])
        try t.send("Escape")
        try t.waitUntil("the history to close") { !$0.contains("LAST MESSAGES") }
        try t.send("5000", "F6")                               // change, and the member's new balance: longer than 80
        let done = try t.waitFor("complete.")
        #expect(screenWords(done).contains("Anna Ivanova: +0 points, balance 1500."), "the balance was cut:\n\(done)")
    }


    @Test func badCardsAreRefusedOnScreenAndTheSaleStays() throws {
        let f = try TillFixture()
        try f.installSteadyProgramme()
        let t = try f.startTill()
        try f.signOn(t)
        try t.send("5012345678900", "Enter")
        try t.waitFor("Milk 1L")
        try t.send("F5")
        try t.waitFor("LOYALTY CARD")
        try t.send(";6034000000000016=2812101?", "Enter")
        try t.waitFor("Card 6034 0000 0000 0016 failed its check digit")
        try t.send(DemoCatalog.cardNumber(3), "Enter")
        try t.waitFor("is blocked: ask the customer to contact the loyalty desk")
        try t.send(";E?", "Enter")
        try t.waitFor("magnetic stripe was not read")
        let screen = try t.screen()
        #expect(screen.contains("TOTAL EUR 1.19"))
        #expect(screen.contains("LOYALTY CARD"))
    }

    @Test func anEvdevReaderIsGrabbedAndItsSwipeNeverReachesTheInputLine() throws {
        let f = try TillFixture(extraConfig: "[readers]\nevdev = [\"/dev/input/event5\"]\n")
        try f.installSteadyProgramme()
        let evemu = f.dir.write("swipe.evemu", evemuScript(typing: ";\(anna)=2812101?"))
        let trigger = f.dir.file("swipe-now"), report = f.dir.file("evdev.json")
        let command = ["/usr/bin/umockdev-wrapper", "/usr/bin/python3", fixtures + "/fakeevdev.py", "--report", report,
                       "--evemu", evemu, "--trigger", trigger, "--", f.till, "--config", f.config].map(Tmux.shellQuote).joined(separator: " ")
        let t = try Tmux(command: command, environment: ["LANG": "C.UTF-8", "TZ": "UTC"])
        try t.waitFor("SIGN ON")
        try f.signOn(t)
        try t.waitFor("Readers: ready")
        try t.send("5012345678900", "Enter")
        try t.waitFor("Milk 1L")
        try t.send("F5")
        try t.waitFor("LOYALTY CARD")
        _ = f.dir.write("swipe-now", "")                       // the customer swipes
        let identified = try t.waitFor("Anna Ivanova (Silver)")
        let inputLine = identified.split(separator: "\n").first { $0.contains("Item / PLU:") }
        #expect(inputLine?.trimmingCharacters(in: .whitespaces) == "Item / PLU:")
        try t.send("F6")
        try t.waitFor("balance 1502")
        try t.send("F12")
        try t.waitFor("SIGN ON")
        try t.send("C-q")
        _ = try t.waitUntil("the till to stop") { _ in (try? t.paneDead()) == true }
        let r = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        #expect((r?["grabs"] as? [Int])?.isEmpty == false)
        #expect(try f.exportedSales().first?.loyalty?.cardNumber == anna)
    }
}

@Suite("Card readers from the command line (umockdev)", .serialized)
struct CardReaderCommandTests {
    @Test func theEvdevReaderReadsATrack2Swipe() throws {
        let f = try TillFixture(extraConfig: "[readers]\nevdev = [\"/dev/input/event5\"]\n")
        let evemu = f.dir.write("swipe.evemu", evemuScript(typing: ";\(anna)=2812101?"))
        let report = f.dir.file("evdev.json")
        let r = try spawnAndWait("/usr/bin/umockdev-wrapper", ["/usr/bin/python3", fixtures + "/fakeevdev.py", "--report", report,
                                 "--evemu", evemu, "--", f.till, "readers", "test", "--seconds", "10", "--config", f.config], environment: [:])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Card reader /dev/input/event5 ready (grabbed)"))
        #expect(r.stdout.contains("evdev:/dev/input/event5 read: magnetic stripe (track 2), card **** **** **** 0015: a valid card of Demo Rewards"))
    }

    @Test func theUSBHIDReaderReadsThroughLibusb() throws {
        let f = try TillFixture(extraConfig: "[readers]\nhid = [\"0801:0002\"]\n")
        let report = f.dir.file("hid.json")
        let r = try spawnAndWait("/usr/bin/umockdev-wrapper", ["/usr/bin/python3", fixtures + "/fakehid.py", "--report", report,
                                 "--text", "%B\(anna)^IVANOVA/ANNA^2812101?", "--", f.till, "readers", "test", "--seconds", "10", "--config", f.config], environment: [:])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("hid:0801:0002 read: magnetic stripe (track 1), card **** **** **** 0015: a valid card of Demo Rewards"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        #expect(json?["detached"] as? Bool == true)            // the kernel's usbhid let go of it
    }

    @Test func anAbsentReaderIsAClearMessage() throws {
        let f = try TillFixture(extraConfig: "[readers]\nevdev = [\"/dev/input/by-id/no-such-reader\"]\n")
        let r = try f.runTill(["readers", "test", "--seconds", "1"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("Card reader /dev/input/by-id/no-such-reader is not connected (No such file or directory): plug it in, or check [readers] evdev in the configuration"))
    }
}

@Suite("Loyalty from the command line")
struct LoyaltyCommandTests {
    @Test func aProgrammeWithMistakesIsRefusedNamingEachField() throws {
        let f = try TillFixture(items: 100)
        var p = DemoCatalog.programme
        p.earn.pointsPerUnit = -1
        p.tiers[2].threshold = 40_000                                   // below Silver's 50,000
        p.redemption.bands[2].minorPer100Points = 55                    // worth less than the band before
        let file = f.dir.write("bad.json", String(decoding: try JSONEncoder().encode(p), as: UTF8.self))
        let r = try f.runTill(["import", "programme", file])
        #expect(r.status == 1)
        #expect(r.stderr.contains("is not a valid programme; nothing was changed"))
        #expect(r.stderr.contains("  earn.pointsPerUnit: -1 must not be negative"))
        #expect(r.stderr.contains("  tiers[2].threshold: 40000 overlaps tiers[1] (50000): each tier must start above the one before"))
        #expect(r.stderr.contains("  redemption.bands[2].minorPer100Points: 55 is below redemption.bands[1]'s 60"))
        let typo = f.dir.write("typo.json", #"{"version": "1", "name": "X", "currency": "EUR", "earn": {"pointsPerUnit": "one"}}"#)
        let t = try f.runTill(["import", "programme", typo])
        #expect(t.stderr.contains("typo.json: earn.pointsPerUnit must be a whole number. Nothing was changed."))
        let check = try f.runTill(["import", "programme", "--check", f.dir.write("ok.json", String(decoding: try JSONEncoder().encode(DemoCatalog.programme), as: UTF8.self))])
        #expect(check.stdout.contains("is valid (5 rules, 3 tiers)"))
    }

    @Test func cardsLoadAllOrNothing() throws {
        let f = try TillFixture(items: 100)
        let good = f.dir.write("cards.csv", """
            card_number,status,first_name,last_name,phone,email,marketing_consent,balance
            \(DemoCatalog.cardNumber(700001)),,Maria,Rossi,+39 333 1234567,,yes,250
            \(DemoCatalog.cardNumber(700002)),stock,,,,,,
            """)
        let ok = try f.runTill(["import", "cards", good])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("Loaded 2 cards from"))
        let bad = f.dir.write("bad.csv", """
            card_number,first_name,email,balance
            6034000000000016,Ann,ann@example.com,1
            \(DemoCatalog.cardNumber(700003)),Ben,ben.example.com,2
            \(DemoCatalog.cardNumber(700004)),Cy,cy@example.com,-5
            """)
        let r = try f.runTill(["import", "cards", bad])
        #expect(r.status == 1)
        #expect(r.stderr.contains("line 2: card_number: Card 6034 0000 0000 0016 failed its check digit"))
        #expect(r.stderr.contains("line 3: E-mail 'ben.example.com' is not valid"))
        #expect(r.stderr.contains("line 4: balance '-5' must be a whole number"))
        let db = try f.database()
        let count = try db.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM card WHERE number LIKE '603400000700%'") }
        #expect(count == 2)
    }

    /// A national chain's file, streamed in one transaction: the bulk path drops and rebuilds the
    /// card cache's indexes; a bad row on the last line leaves the cache (and its indexes) as it was.
    @Test func aLargeCardsFileLoadsInBulkAndABadLastRowLoadsNothing() throws {
        let f = try TillFixture(items: 100)
        func file(_ name: String, rows: Int, badLast: Bool) -> String {
            var text = "card_number,first_name,last_name,phone,email,balance\n"
            text.reserveCapacity(rows * 80)
            for i in 0..<rows {
                let email = badLast && i == rows - 1 ? "nobody.example.com" : "m\(i)@example.com"
                text += "\(DemoCatalog.cardNumber(1_000_000 + i)),Maria\(i % 97),Rossi\(i % 89),+39 333 \(1_000_000 + i),\(email),\(i % 500)\n"
            }
            return f.dir.write(name, text)
        }
        let started = Date()
        let ok = try f.runTill(["import", "cards", file("big.csv", rows: 150_000, badLast: false)])
        print("till import cards: 150,000 cards in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("Loaded 150000 cards from"), "\(ok.stdout)")
        let db = try f.database()
        let indexes = try db.read {
            try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('card', 'customer') AND sql IS NOT NULL ORDER BY name")
        }
        #expect(indexes == ["card_customer", "customer_email", "customer_first_name", "customer_last_name", "customer_phone_rev"])
        let found = try db.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM customer WHERE phone_rev >= '9999001' AND phone_rev < '9999001:'") }
        #expect(found == 1)
        let bad = try f.runTill(["import", "cards", file("bad.csv", rows: 150_000, badLast: true)])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("1 bad row; nothing was imported"), "\(bad.stderr)")
        #expect(bad.stderr.contains("line 150001: E-mail 'nobody.example.com' is not valid"), "\(bad.stderr)")
        let after = try db.read {
            try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('card', 'customer') AND sql IS NOT NULL ORDER BY name")
        }
        #expect(after == indexes)
    }

    @Test func readerSettingsAreChecked() throws {
        let f = try TillFixture(items: 100)
        let bad = f.dir.write("bad.toml", "[readers]\nhid = [\"magtek\"]\n")
        let r = try runProcess(f.till, ["config", "check", "--config", bad])
        #expect(r.status == 1)
        #expect(r.stderr.contains("[readers] hid: 'magtek' must be the reader's USB vendor:product ID in hex"))
    }
}
