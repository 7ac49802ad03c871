import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillStore
import TillTestSupport

/// Holds (issue 19, part): customer service holds a card's points; every till has it through the
/// cards publication and lets none be spent while the sale goes on; a till that had not heard yet
/// (offline) and redeemed is recorded as an exception; released, the points can be spent again.
@Suite("Holding a card's points", .serialized)
struct RedemptionHoldTests {
    @Test(arguments: Backend.allCases)
    func aHoldReachesTheTillsAndARedemptionBeforeItIsAnException(backend: Backend) throws {
        let dir = TemporaryDirectory("hold-\(backend)")
        let store = try makeHeadOffice(backend, dir)
        let till = try TillSide(seed: 61)
        let start: Int64 = 1_796_000_000_000
        till.generator = SaleGenerator(database: till.db, till: till.identity, seed: 61, start: start)
        // Offline: the till redeems points of members (every other sale) before it hears of any hold.
        try till.generator.ring(40, redeemEvery: 2)
        let redeemed = try till.db.saleDocuments().filter { ($0.loyalty?.redeemed ?? 0) > 0 }
        let card = try #require(redeemed.first?.loyalty?.cardNumber)
        let member = try #require(demoCards.first { $0.number == card }?.customerID)
        try store.setRedemptionHold(card, held: true, by: "cas", reason: .fraudSuspected, note: "Many redemptions at night")
        #expect(throws: ServiceError("Card \(LoyaltyCardNumber.masked(card))'s points are already held")) {
            try store.setRedemptionHold(card, held: true, by: "cas", reason: .fraudSuspected, note: "again")
        }
        let heldProfile = try store.customerProfile(member)
        #expect(heldProfile?.cards.first { $0.number == card }?.pointsHeld == true)
        let audit = try store.database.read { c in try c.query("SELECT action, card_number FROM audit WHERE action = 'hold-points'", []) }
        #expect(audit.count == 1 && audit.first?.text("card_number") == card)
        // The sales arrive: each redemption on the held card is an exception; the others are not.
        _ = try store.ingest(try till.batch(), from: till.credential)
        let onCard = redeemed.filter { $0.loyalty?.cardNumber == card }
        let exceptions = try store.database.read { c in try c.query("SELECT sale_id, detail FROM exceptions WHERE kind = 'held-card-redemption'", []) }
        #expect(Set(exceptions.map { $0.text("sale_id") }) == Set(onCard.map(\.saleID)) && !onCard.isEmpty)
        #expect(exceptions.allSatisfy { $0.text("detail").contains("the till had not heard of the hold") })

        // The till hears: the card is taken and earns, its points cannot be spent.
        let held = try #require(try store.publications().filter { $0.kind == .cards }.max { $0.version < $1.version })
        #expect(held.cards == [CardChange(number: card, status: "active", redemptionHold: true)])
        try till.db.receive([held], at: start)
        _ = try till.db.applyPendingPublications(at: start)
        guard case .member(let c) = try till.db.lookupCard(card, programme: DemoCatalog.programme, now: start) else { Issue.record("not a member"); return }
        #expect(c.redemptionsHeld && c.balance > 0)
        // Released: spendable again, at head office and at the till.
        try store.setRedemptionHold(card, held: false, by: "cas", reason: .other, note: "Checked with the member")
        let released = try #require(try store.publications().filter { $0.kind == .cards }.max { $0.version < $1.version })
        #expect(released.cards?.first?.redemptionHold == false)
        try till.db.receive([released], at: start)
        _ = try till.db.applyPendingPublications(at: start)
        guard case .member(let r) = try till.db.lookupCard(card, programme: DemoCatalog.programme, now: start) else { return }
        let profile = try store.customerProfile(member)
        #expect(!r.redemptionsHeld && profile?.cards.first { $0.number == card }?.pointsHeld == false)
    }

    /// At a till in tmux: a member's sale is open; customer service holds the card's points at head
    /// office (or a fraud rule does, as the card's sales at three other stores that day are
    /// applied); within 10 s the points key says they cannot be used, and the sale is paid in cash.
    @Test(arguments: ["customer service", "a rule"])
    func aHoldStopsARedemptionAtATillWithinTenSecondsAndTheSaleCompletes(heldBy: String) throws {
        let dir = TemporaryDirectory("hold-tmux")
        let ho = try HeadOfficeProcess(.sqlite, dir: dir)
        let store = try ho.store()
        try store.importProgramme(DemoCatalog.programme)
        try store.importCards(DemoCatalog.cards(members: 4, stock: 2))
        try ho.start()
        let till = try TillProcess(headOffice: ho, storeID: "0001", cards: 4)
        let t = try Tmux(command: till.command, width: 140, height: 30, environment: ["LANG": "C.UTF-8", "TZ": "UTC"])
        try PublicationTmuxTests.signOn(t)
        try store.waitForPoll(of: till.credential)
        // Boris (card 2) has points to spend.
        let card = DemoCatalog.cardNumber(2)
        try t.send("5012345678900", "Enter")
        try t.waitFor("Milk 1L")
        try t.send("F5")
        try t.waitFor("LOYALTY CARD")
        try t.send(card, "Enter")
        try t.waitFor("this sale")
        let held = Date()
        if heldBy == "a rule" {
            var rule = try #require(try store.fraudRules().first { $0.id == "card-stores-day" })
            rule.action = .hold
            try store.saveFraudRule(rule, by: "fiona")
            for (i, storeID) in ["0002", "0003", "0004"].enumerated() {
                let other = TillCredential(storeID: storeID, tillID: "01")
                _ = try store.registerTill(other)
                let sale = try FraudRuleTests.memberSales(card: card, customerID: "M2", storeID: storeID, count: 1,
                                                          start: HeadOfficeStore.now() - 3_600_000 + Int64(i) * 600_000)
                _ = try store.ingest(sale, from: other)
            }
            #expect(try store.fraudAlerts().map(\.ruleID) == ["card-stores-day"])
        } else {
            try store.setRedemptionHold(card, held: true, by: "cas", reason: .fraudSuspected, note: "Card used at three stores in an hour")
        }
        // The till has the hold once it has received head office's first publication (it applies
        // updates between sales; the points key reads what it has received).
        let tillDB = try till.database()
        while Date().timeIntervalSince(held) < 10, try tillDB.receivedPublicationCursor().version < 1 { usleep(50_000) }
        let seconds = Date().timeIntervalSince(held)
        #expect(seconds < 10, "the hold took \(seconds) s to reach the till")
        try t.send("C-p")
        let refused = try t.waitFor("Points cannot be used on this card today")
        #expect(refused.contains("please ask the customer to contact us"), "\(refused)")
        try t.send("F6")
        try t.waitFor("0001-01-000001 complete")
        try t.waitFor("Config v1", timeout: 10)   // applied once the sale is over
        let doc = try #require(try till.database().saleDocuments().first)
        #expect(doc.loyalty?.redeemed == 0 && doc.tenders.map(\.kind) == ["cash"] && doc.loyalty?.cardNumber == card)
        try t.send("F12"); try t.send("C-q")
        print("hold (by \(heldBy)) reached the tmux till and refused the points in \(String(format: "%.2f", seconds)) s")
    }
}
