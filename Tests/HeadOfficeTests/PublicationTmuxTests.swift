import Foundation
import HeadOffice
import PrivateServers
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillTestSupport

/// `headoffice publish` to one store, with a till of that store and a till of another running in
/// tmux against a real `headoffice serve`.
@Suite("Publications reach the tills (tmux)", .serialized)
struct PublicationTmuxTests {
    static func signOn(_ t: Tmux) throws {
        try t.waitFor("SIGN ON")
        try t.send("1", "Enter")
        try t.waitFor("PIN:")
        try t.send("1234", "Enter")
        try t.waitFor("Signed on")
    }

    /// The base points of each sale the till journalled, in order.
    static func basePoints(_ till: TillProcess) throws -> [(String, Int64)] {
        let sales = try JSONDecoder().decode([SaleDocument].self, from: Data(try till.run(["export", "sales", "--format", "json"]).utf8))
        return sales.compactMap { s in s.loyalty.map { ($0.programmeVersion, $0.earned.first { $0.rule == "base" }?.points ?? 0) } }
    }

    @Test func aPublicationToOneStoreReachesItsTillBetweenSalesAndNotAnotherStores() throws {
        let dir = TemporaryDirectory("pub-tmux")
        let ho = try HeadOfficeProcess(.sqlite, dir: dir)
        try ho.start()
        let mine = try TillProcess(headOffice: ho, storeID: "0001")
        let other = try TillProcess(headOffice: ho, storeID: "0002")
        let env = ["LANG": "C.UTF-8", "TZ": "UTC"]
        let a = try Tmux(command: mine.command, width: 140, height: 30, environment: env)
        let b = try Tmux(command: other.command, width: 140, height: 30, environment: env)
        try Self.signOn(a)
        try Self.signOn(b)
        try a.waitFor("Config v0")
        try b.waitFor("Config v0")

        // A sale is open at store 0001's till when the programme is published.
        try a.send("5012345678900", "Enter")
        try a.waitFor("Milk 1L")
        var triple = DemoCatalog.programme
        triple.version = "e2e-triple"
        triple.earn.pointsPerUnit = 3
        triple.promotions = []
        let file = dir.write("triple.json", String(decoding: try JSONEncoder().encode(triple), as: UTF8.self))
        #expect(try ho.admin(["publish", "programme", file, "--scope", "store:0001", "--note", "Triple points"]).contains("Published version 1"))
        try ho.store().waitForPoll(of: mine.credential)
        usleep(1_500_000)
        var screen = try a.screen()
        #expect(!screen.contains("Programme: e2e-triple"), "applied in the middle of a sale")
        try a.send("F5")
        try a.waitFor("LOYALTY CARD")
        try a.send(DemoCatalog.cardNumber(1), "Enter")
        try a.waitFor("this sale")
        try a.send("F6")
        try a.waitFor("0001-01-000001 complete")
        // Between sales: applied, and head office hears the version.
        screen = try a.waitFor("Config v1", timeout: 15)
        #expect(screen.contains("Programme: e2e-triple"))
        try a.send("Escape")
        try a.send("5012345678900", "Enter")
        try a.waitFor("Milk 1L")
        try a.send("F5")
        try a.waitFor("LOYALTY CARD")
        try a.send(DemoCatalog.cardNumber(1), "Enter")
        try a.waitFor("this sale")
        try a.send("F6")
        try a.waitFor("0001-01-000002 complete")
        let points = try Self.basePoints(mine)
        #expect(points.count == 2)
        #expect(points.first?.0 == DemoCatalog.programme.version && points.first?.1 == 1)   // 1 pt per 1.00 on 1.19
        #expect(points.last?.0 == "e2e-triple" && points.last?.1 == 3)                      // 3 pt per 1.00 on 1.19

        // The other store's till does not change; the rollout shows both.
        screen = try b.screen()
        #expect(screen.contains("Config v0"))
        #expect(!screen.contains("e2e-triple"))
        let deadline = Date().addingTimeInterval(15)
        var rollout = ""
        while Date() < deadline {
            rollout = try ho.admin(["rollout"])
            if rollout.contains("0001/01  runs v1") { break }
            usleep(200_000)
        }
        #expect(rollout.contains("0001/01  runs v1  latest v1  pending 0"))
        #expect(rollout.contains("0002/01  runs v0  latest v0  pending 0"))
        try a.send("F12"); try a.send("C-q")
        try b.send("F12"); try b.send("C-q")
    }

    /// Customer service replaces a lost card at head office: within 10 s the till refuses the old
    /// card (naming the new one) and takes the new card with the same balance and tier.
    @Test func aReplacedCardIsRefusedAtTheTillWithinTenSecondsAndTheNewOneCarriesItsPoints() throws {
        let dir = TemporaryDirectory("replace-tmux")
        let ho = try HeadOfficeProcess(.sqlite, dir: dir)
        try ho.start()
        let store = try ho.store()
        try store.importProgramme(DemoCatalog.programme)
        try store.importCards(DemoCatalog.cards(members: 4, stock: 2))
        let till = try TillProcess(headOffice: ho, storeID: "0001")
        let t = try Tmux(command: till.command, width: 120, height: 30, environment: ["LANG": "C.UTF-8", "TZ": "UTC"])
        try Self.signOn(t)
        try t.waitFor("Config v0")
        try store.waitForPoll(of: till.credential)
        let old = DemoCatalog.cardNumber(1), new = DemoCatalog.cardNumber(DemoCatalog.firstStockCard)
        let before = try #require(try store.cardStatus(old, pending: []))

        let started = Date()
        try store.replaceCard(old, with: new, by: "cora", reason: .lostOrStolen, note: "lost")
        try t.waitFor("Config v1", timeout: 10)
        let took = Date().timeIntervalSince(started)
        #expect(took < 10)
        print("replace-tmux: the till had the replacement \(Int(took * 1000)) ms after head office made it")
        try t.send("5012345678900", "Enter")
        try t.waitFor("Milk 1L")
        try t.send("F5")
        try t.waitFor("LOYALTY CARD")
        try t.send(old, "Enter")
        try t.waitFor("by card \(LoyaltyCardNumber.masked(new))")
        try t.send(new, "Enter")
        let screen = try t.waitFor("this sale")
        #expect(screen.contains("Anna Ivanova") && screen.contains("1500"), "\(screen)")
        try t.send("F6")
        try t.waitFor("0001-01-000001 complete")
        // Head office takes the sale on the new card; both cards' ledgers sum to their balances.
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, try store.cardStatus(new, pending: [])?.card.balance == before.card.balance { usleep(200_000) }
        let after = try #require(try store.cardStatus(new, pending: []))
        #expect(after.card.balance > before.card.balance && after.card.tierCode == before.card.tierCode)
        let sums = try store.database.read { c in
            try c.query("SELECT c.number, c.balance, (SELECT COALESCE(SUM(points), 0) FROM ledger l WHERE l.card_number = c.number) AS moved FROM cards c WHERE c.number IN (?, ?)",
                        [.text(old), .text(new)]).map { ($0.int("balance"), $0.int("moved")) }
        }
        #expect(sums.count == 2 && sums.allSatisfy { $0.0 == $0.1 })
        try t.send("F12"); try t.send("C-q")
    }

    /// Points that expire soon, as head office says at the card scan, reach a till in tmux and
    /// its receipt: "N points expire by DATE" under the new balance.
    @Test func pointsExpiringSoonPrintOnTheReceiptOfATillInTmux() throws {
        let dir = TemporaryDirectory("expiry-tmux")
        let ho = try HeadOfficeProcess(.sqlite, dir: dir)
        try ho.start()
        let store = try ho.store()
        try store.importProgramme(DemoCatalog.programme)
        try store.importCards(DemoCatalog.cards(members: 4, stock: 2))
        // Head office's programme: points expire a month after they were earned, members told 40 days ahead.
        var programme = DemoCatalog.programme
        programme.version = "demo-expiry"
        programme.expiry = LoyaltyProgramme.Expiry(months: 1, noticeDays: 40)
        try store.importProgramme(programme)
        let card = DemoCatalog.cardNumber(1)
        let lots = try #require(try store.cardStatus(card, pending: [])?.expiring)
        #expect(lots.map(\.points) == [1_500])
        let day = ProtocolTime.format(lots[0].at, timeZone: TimeZone(identifier: "UTC")!).prefix(10)
        let till = try TillProcess(headOffice: ho, storeID: "0001")
        let t = try Tmux(command: till.command, width: 120, height: 30, environment: ["LANG": "C.UTF-8", "TZ": "UTC"])
        try Self.signOn(t)
        // The first scan is answered from the till's cache at once; head office's answer (with what
        // expires) comes into the cache after it. The second sale's scan has it.
        for n in 1...2 {
            try t.send("5012345678900", "Enter")
            try t.waitFor("Milk 1L")
            try t.send("F5")
            try t.waitFor("LOYALTY CARD")
            try t.send(card, "Enter")
            try t.waitFor("this sale")
            try t.send("F6")
            try t.waitFor("0001-01-00000\(n) complete")
            let deadline = Date().addingTimeInterval(15)
            while n == 1, Date() < deadline {
                if case .member(let c) = try till.database().lookupCard(card, programme: DemoCatalog.programme, now: HeadOfficeStore.now()),
                   c.expiringSoon == 1_500 { break }
                usleep(100_000)
            }
        }
        try t.send("F12"); try t.send("C-q")
        let receipt = try till.run(["receipt", "0001-01-000002"])
        let lines = receipt.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let balance = try #require(lines.firstIndex { $0.hasPrefix("New balance") }, "\(receipt)")
        // 1,500 loaded points, and the first sale's points too once head office has that sale (they expire the same day).
        let all = try #require(try store.cardStatus(card, pending: [])?.expiring?.reduce(0) { $0 + $1.points })
        let line = lines[balance + 1]
        let printed = Int64(line.prefix { $0.isNumber }) ?? 0
        #expect(line.hasSuffix(" points expire by \(day)") && (1_500...all).contains(printed), "\(receipt)")
    }

    /// A campaign's offer reaches a till in tmux through a publication; the member's next sale
    /// applies it (shown at the card scan, on the receipt with the offer still open), and a second
    /// campaign's 10% off dairy (on screen, in Ctrl-E, on the receipt; used once); with head
    /// office gone the till lets it be used once more (its limit of two) and then no more; back
    /// online, head office counts both uses and has the same points.
    @Test func aCampaignsOfferReachesATillIsAppliedOfflineAndReconciled() throws {
        let dir = TemporaryDirectory("offer-tmux")
        let ho = try HeadOfficeProcess(.sqlite, dir: dir)
        let store = try ho.store()
        try store.importProgramme(DemoCatalog.programme)
        try store.importCards(DemoCatalog.cards(members: 4, stock: 2))
        try ho.start()
        let till = try TillProcess(headOffice: ho, storeID: "0001")
        let t = try Tmux(command: till.command, width: 140, height: 30, environment: ["LANG": "C.UTF-8", "TZ": "UTC"])
        try Self.signOn(t)
        try store.waitForPoll(of: till.credential)
        // Anna (card 1) agreed to hear from us: the campaign's offer is hers.
        _ = try store.saveSegment(id: nil, name: "Agreed", definition: SegmentDefinition(groups: [SegmentGroup(conditions: [SegmentCondition(.consent, flag: true)])]),
                                  by: "mia")
        try store.createCampaign(CampaignDraft(name: "Milk week", segmentID: "agreed", holdoutBP: 0, subject: "", body: "", link: "",
                                               startsAt: HeadOfficeStore.now(), endsAt: HeadOfficeStore.now() + 7 * 86_400_000,
                                               offer: PersonalOffer(id: "", name: "Triple points on milk", multiplierBP: 30_000, categories: ["Dairy"],
                                                                    validFrom: 0, validTo: 0, uses: 2),
                                               channels: .till), by: "mia")
        // And a discount: 10% off dairy, once.
        try store.createCampaign(CampaignDraft(name: "Dairy ten", segmentID: "agreed", holdoutBP: 0, subject: "", body: "", link: "",
                                               startsAt: HeadOfficeStore.now(), endsAt: HeadOfficeStore.now() + 8 * 86_400_000,
                                               offer: PersonalOffer(id: "", name: "10% off dairy", categories: ["Dairy"], validFrom: 0, validTo: 0,
                                                                    uses: 1, percentOffBP: 1_000),
                                               channels: .till), by: "mia")
        try t.waitFor("Config v2", timeout: 15)
        let card = DemoCatalog.cardNumber(1)
        func sell(_ n: Int, explain: Bool = false) throws -> (screen: String, explained: String) {
            try t.send("5012345678900", "Enter")
            try t.waitFor("Milk 1L")
            try t.send("F5")
            try t.waitFor("LOYALTY CARD")
            try t.send(card, "Enter")
            // The card taken: its message under the sale ("…, +4 this sale"). The customer's line
            // ("this sale +4") alone can be caught in a frame half drawn, the card prompt below it.
            func taken(_ screen: String) -> Bool { screen.range(of: #"\+\d+ this sale"#, options: .regularExpression) != nil }
            var screen = try t.waitUntil("the card's message") { taken($0) }
            var explained = ""
            if explain {
                screen = try t.waitUntil("the card's message, the dairy offer and its total") {
                    taken($0) && $0.contains("Offer: 10% off dairy") && $0.contains("TOTAL EUR 1.07")
                }
                try t.send("C-e")
                explained = try t.waitForAll(["POINTS THIS SALE", "Offer: 10% off dairy"])
                try t.send("Escape")
                try t.waitUntil("the points overlay to close") { !$0.contains("POINTS THIS SALE") }
            }
            try t.send("F6")
            try t.waitFor("0001-01-00000\(n) complete")
            return (screen, explained)
        }
        let (first, explained) = try sell(1, explain: true)
        #expect(first.contains("2 offers (") && first.contains("Triple points on milk") && first.contains("10% off dairy"), "\(first)")
        // The discount under the milk: 10% of 1.19 = 0.12; Ctrl-E explains it below the points.
        #expect(first.contains("Offer: 10% off dairy") && first.contains("-0.12") && first.contains("TOTAL EUR 1.07"), "\(first)")
        #expect(explained.contains("Offer: 10% off dairy") && explained.contains("-0.12"), "\(explained)")
        // Head office goes away: the till sells on its own.
        ho.kill()
        let second = try sell(2).screen
        #expect(second.contains("1 offer (Triple points on milk)"), "one use left, the discount used: \(second)")
        #expect(!second.contains("Offer: 10% off dairy") && second.contains("TOTAL EUR 1.19"), "\(second)")
        let third = try sell(3).screen
        #expect(!third.contains("offer"), "both uses made: \(third)")
        let receipts = try (1...3).map { try till.run(["receipt", "0001-01-00000\($0)"]) }
        #expect(receipts[0].contains("Triple points on milk") && receipts[0].contains("Your offer: Triple points on milk"), "\(receipts[0])")
        #expect(receipts[0].contains("Offer: 10% off dairy") && receipts[0].contains("-0.12") && !receipts[0].contains("Your offer: 10% off dairy"),
                "\(receipts[0])")
        #expect(receipts[1].contains("Triple points on milk") && !receipts[1].contains("Your offer:") && !receipts[1].contains("10% off dairy"),
                "\(receipts[1])")
        #expect(!receipts[2].contains("Triple points on milk"), "\(receipts[2])")
        // The X report: three milks at 1.19 gross, the offer's 0.12 on a line of its own.
        let x = try till.run(["report", "x"]).split(separator: "\n").map(String.init)
        #expect(x.contains { $0.hasPrefix("Gross sales") && $0.hasSuffix(" 3.57") } && x.contains { $0.hasPrefix("Members' offers") && $0.hasSuffix(" -0.12") }
                && x.contains { $0.hasPrefix("Sales after discounts") && $0.hasSuffix(" 3.45") }, "\(x.joined(separator: "\n"))")
        // Back online: the sales reach head office, which counts both uses and gives the same points.
        try ho.start()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, try store.offerRedemptions("milk-week").uses < 2 { usleep(200_000) }
        #expect(try store.offerRedemptions("milk-week") == (2, 1))
        #expect(try store.offerRedemptions("dairy-ten") == (1, 1))
        let ledger = try store.database.read { c in try c.queryOne("SELECT COUNT(*) AS n FROM ledger WHERE rule = 'offer:milk-week'", [])!.int("n") }
        let discrepancies = try store.database.read { c in try c.queryOne("SELECT COUNT(*) AS n FROM discrepancies", [])!.int("n") }
        let over = try store.database.read { c in try c.queryOne("SELECT COUNT(*) AS n FROM exceptions WHERE kind = 'offer-over-redemption'", [])!.int("n") }
        #expect(ledger == 2 && discrepancies == 0 && over == 0)
        try t.send("F12"); try t.send("C-q")
    }
}

extension PublicationTmuxTests {
    /// Cross-sell (issue 18): head office mines the chain's baskets with its own command, and the
    /// till in tmux shows the suggestion line after the item.
    @Test func aTillShowsWhatCustomersAlsoBuyMinedFromTheChainsBaskets() throws {
        let dir = TemporaryDirectory("suggest-tmux")
        let ho = try HeadOfficeProcess(.sqlite, dir: dir)
        let store = try ho.store()
        try store.importProducts(DemoCatalog.featured)
        // Three weeks of another till's sales: coffee beans bring milk into 60% of their baskets.
        let day: Int64 = 86_400_000
        let other = try TillSide(till: TillCredential(storeID: "0001", tillID: "09"), seed: 43)
        other.generator = SaleGenerator(database: other.db, till: other.identity, seed: 43, start: (HeadOfficeStore.now() / day - 21) * day)
        other.generator.sales.companions = ["F0015": ("F0002", 60)]
        other.generator.sales.step = 20 * day / 600
        try other.generator.ring(600, redeemEvery: 0)
        _ = try store.ingest(try other.batch(), from: other.credential)
        while try store.rollUpReportsOnce() > 0 {}
        let mined = try ho.admin(["suggestions", "mine"])
        #expect(mined.contains("chain: 600 baskets") && mined.contains("published as version 1"), "\(mined)")
        #expect(try ho.admin(["suggestions", "list", "--item", "coffee"]).contains("F0015 Coffee beans 500g -> 1. F0002 Milk 1L"))
        try ho.start()
        let till = try TillProcess(headOffice: ho, storeID: "0001")
        let t = try Tmux(command: till.command, width: 140, height: 30, environment: ["LANG": "C.UTF-8", "TZ": "UTC"])
        try Self.signOn(t)
        try t.waitFor("Config v1", timeout: 20)
        try t.send("4000000000013", "Enter")
        let screen = try t.waitFor("Customers who buy Coffee beans 500g also buy: Milk 1L 1.19")
        #expect(screen.contains("Coffee beans 500g"))
        try t.send("5012345678900", "Enter")
        // The milk's line is in ("Milk 1L" alone matches the suggestion already on screen).
        let after = try t.waitFor("Items 2")
        #expect(!after.contains("also buy: Milk 1L"), "milk is in the sale now: \(after)")
        try t.send("F6")
        let done = try t.waitFor("0001-01-000001 complete")
        #expect(!done.contains("Customers who buy"), "the line goes with the sale: \(done)")
        try t.send("F12"); try t.send("C-q")
    }
}

extension HeadOfficeStore {
    /// Waits until a till has asked for updates (its long poll is in place).
    func waitForPoll(of till: TillCredential, timeout: Double = 40) throws {   // two tills and Chromium starting on 2 loaded cores
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try rollout().contains(where: { $0.till == till.name && $0.lastPoll != nil }) { return }
            usleep(100_000)
        }
        throw SpawnError(message: "till \(till.name) never asked head office for updates")
    }
}
