import Foundation
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillTestSupport
import TillUI

private let anna = DemoCatalog.cardNumber(1)    // Silver, 1500 points
private let boris = DemoCatalog.cardNumber(2)   // Gold (5% discount), 2500 points
private let blocked = DemoCatalog.cardNumber(3)
private let lost = DemoCatalog.cardNumber(4)
private let stock = DemoCatalog.cardNumber(DemoCatalog.firstStockCard)
private func track2(_ card: String) -> String { ";\(card)=2812101?" }

extension Harness {
    /// Milk 1.19 (dairy, double points) and coffee beans 6.99 (10 points a pack): 8.18.
    func ringMilkAndCoffee() {
        scan("5012345678900")
        scan("4000000000013")
    }

    /// Fills the registration form from the card field on; `email` as keyed.
    func register(card: String?, first: String = "Olga", last: String = "Smirnova", phone: String = "+7 912 345 6789",
                  email: String = "olga@example.com", consent: Bool = true, referral: String = "") {
        if let card { keyed(card, .enter) }
        keyed(first, .enter)
        keyed(last, .enter)
        keyed(phone, .enter)
        keyed(email, .enter)
        key(.enter)                      // postcode
        key(.enter)                      // date of birth
        keyed(referral, .enter)          // a friend's code
        if consent { type("y") }
        key(.enter)
    }

    var customer: SaleCustomer? { controller.basket?.customer }
}

@Suite("Loyalty at the till")
struct LoyaltyControllerTests {
    @Test func promptAtTotalThenATrack2SwipeThenCash() throws {
        let h = try Harness(loyalty: true)
        h.ringMilkAndCoffee()
        h.key(.function(5))
        #expect(h.controller.mode == .loyaltyPrompt)
        h.scan(track2(anna))
        #expect(h.controller.mode == .selling)
        #expect(h.customer?.name == "Anna Ivanova")
        #expect(h.customer?.tierName == "Silver")
        #expect(h.controller.message?.text.hasPrefix("Anna Ivanova (Silver): 1500 pts, +21 this sale. Due 8.18") == true)
        #expect(h.controller.customerLine == "Card **** 0015 | Anna Ivanova | Silver | 1500 pts | this sale +21")
        h.key(.function(6))
        #expect(h.controller.sale == nil)
        let doc = try #require(try h.db.saleDocuments().first)
        let l = try #require(doc.loyalty)
        #expect(l.cardNumber == anna)
        #expect(l.earned.map(\.rule) == ["base", "dairy-x2", "coffee-10", "tier-SLV"])
        #expect(l.earned.map(\.points) == [8, 1, 10, 2])
        #expect(l.balanceBefore == 1500)
        #expect(l.balanceAfter == 1521)
        #expect(h.controller.message?.text == "Sale 0001-01-000001 complete. Anna Ivanova: +21 points, balance 1521.")
        // The till's balance is the confirmed one plus its own movements, marked provisional.
        guard case .member(let after) = try h.db.lookupCard(anna, programme: DemoCatalog.programme, now: 1_795_100_000_000) else {
            Issue.record("not a member"); return
        }
        #expect(after.balance == 1521)
        #expect(after.provisional)
    }

    @Test func partOfASalePaidWithPointsThenCash() throws {
        let h = try Harness(loyalty: true)
        h.scan(anna)                                  // a card at any point of the sale
        h.ringMilkAndCoffee()
        h.key(.function(5))
        #expect(h.controller.mode == .selling)         // no prompt: the card is in
        h.key(.ctrl("p"))                             // the most allowed: 50% of 8.18
        #expect(h.controller.message?.text == "818 points pay 4.09. 4.09 still due: F6 cash or F7 card")
        h.key(.function(6))
        let doc = try #require(try h.db.saleDocuments().first)
        #expect(doc.tenders.map(\.kind) == ["points", "cash"])
        #expect(doc.tenders[0].points == 818)
        #expect(doc.tenders[0].amount == 409)
        #expect(doc.loyalty?.redeemed == 818)
        let expected: Int64 = 1500 + 21 - 818
        #expect(doc.loyalty?.balanceAfter == expected)
        guard case .member(let after) = try h.db.lookupCard(anna, programme: DemoCatalog.programme, now: 1_795_100_000_000) else {
            Issue.record("not a member"); return
        }
        #expect(after.balance == 703)
        // Offline: this card may redeem only the cap less what this till redeemed unconfirmed.
        let left: Points = 2000 - 818
        #expect(after.offlineLeft == left)
    }

    @Test func pointsAloneCanPayWhenTheShareAllows() throws {
        let h = try Harness(loyalty: true)
        var p = DemoCatalog.programme
        p.redemption.maxShareBP = 10_000
        try h.db.installProgramme(p, at: 1)
        h.signOffAndOn()
        h.scan("5012345678900")                         // milk 1.19
        h.scan(anna)
        h.key(.ctrl("p"))
        #expect(h.controller.sale == nil)
        let doc = try #require(try h.db.saleDocuments().first)
        #expect(doc.tenders.map(\.kind) == ["points"])
        #expect(doc.tenders[0].points == 238)           // 1.19 at 0.50 per 100 points
    }

    @Test func badCardsAndRedemptionsLeaveTheSaleUnchanged() throws {
        let h = try Harness(loyalty: true)
        h.ringMilkAndCoffee()
        h.key(.function(5))
        let before = h.controller.sale
        func expectRefused(_ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(h.error == message, sourceLocation: sourceLocation)
            #expect(h.controller.sale == before, sourceLocation: sourceLocation)
            #expect(h.controller.mode == .loyaltyPrompt, sourceLocation: sourceLocation)
        }
        h.scan(track2("6034000000000016"))
        expectRefused("Card 6034 0000 0000 0016 failed its check digit: scan again or key it in")
        h.keyed("4111111111111111", .enter)
        expectRefused("Card **** **** **** 1111 is not one of this programme's cards: check the card, or issue a new one")
        h.scan(blocked)
        expectRefused("Card **** **** **** 0031 is blocked: ask the customer to contact the loyalty desk")
        h.scan(lost)
        expectRefused("Card **** **** **** 0049 was reported lost: keep it and issue a new card")
        h.scan(";E?")
        expectRefused("The card's magnetic stripe was not read (';E?…'): swipe again, steadily")
        h.scan(";6034000000000015?")
        expectRefused("The card's magnetic stripe was not read (';60340000000…'): swipe again, steadily")
        #expect(try h.db.saleDocuments().isEmpty)
    }

    @Test func redemptionsAboveTheBalanceTheCapOrTheShareAreRefused() throws {
        let h = try Harness(loyalty: true, prompt: false)
        h.keyed("2", .char("*")); h.keyed("30", .enter)  // two gift cards: 50.00, earn nothing
        h.scan(anna)
        let before = h.controller.sale
        h.keyed("10.00", .ctrl("p"))
        #expect(h.error == "1667 points is more than the 1500 points the card has available")
        #expect(h.controller.sale == before)

        let g = try Harness(loyalty: true, prompt: false)
        g.keyed("3", .char("*")); g.keyed("30", .enter)  // 75.00, less Gold's 5%
        g.scan(boris)
        #expect(g.controller.basket?.totals.total == 7125)
        let gBefore = g.controller.sale
        g.keyed("13.00", .ctrl("p"))
        #expect(g.error == "2167 points is more than the 2000 points this card may redeem until head office confirms its balance")
        #expect(g.controller.sale == gBefore)

        let s = try Harness(loyalty: true, prompt: false)
        s.ringMilkAndCoffee()
        s.scan(anna)
        let sBefore = s.controller.sale
        s.keyed("5.00", .ctrl("p"))
        #expect(s.error == "5.00 in points is more than the 50% of this sale points may pay (4.09): key a smaller amount")
        #expect(s.controller.sale == sBefore)
        s.keyed("0.40", .ctrl("p"))
        #expect(s.error == "80 points is below the minimum of 100 points that can be redeemed")
        #expect(s.controller.sale == sBefore)
    }

    @Test func pointsNeedACard() throws {
        let h = try Harness(loyalty: true, prompt: false)
        h.ringMilkAndCoffee()
        h.key(.ctrl("p"))
        #expect(h.error == "Scan the customer's loyalty card before paying with points")
    }

    @Test func goldMembersGetTheirTierDiscount() throws {
        let h = try Harness(loyalty: true)
        h.ringMilkAndCoffee()
        h.scan(boris)
        #expect(h.controller.basket?.saleDiscount == .percent(basisPoints: 500))
        let discounted: Int64 = 818 - 41
        #expect(h.controller.basket?.totals.total == discounted)
    }

    @Test func issueAndRegisterACardDuringASale() throws {
        let h = try Harness(loyalty: true)
        h.ringMilkAndCoffee()
        h.key(.function(5))
        h.key(.ctrl("n"))
        guard case .registration(let form) = h.controller.mode else { Issue.record("no form"); return }
        #expect(form.consent == false)                  // explicit, off by default
        h.register(card: stock, email: "olga.example.com", consent: false)
        #expect(h.error == "E-mail 'olga.example.com' is not valid: key it as name@domain, e.g. anna@example.com")
        guard case .registration(let kept) = h.controller.mode else { Issue.record("form closed"); return }
        #expect(kept.focus == .email)
        #expect(h.customer == nil)
        for _ in 0..<20 { h.key(.backspace) }
        h.keyed("olga@example.com", .enter)
        h.key(.enter); h.key(.enter); h.key(.enter); h.key(.enter)     // postcode, birth date, friend's code, consent left at No
        #expect(h.customer?.registration?.fullName == "Olga Smirnova")
        #expect(h.customer?.registration?.marketingConsent == false)
        h.key(.function(6))
        let doc = try #require(try h.db.saleDocuments().first)
        let l = try #require(doc.loyalty)
        #expect(l.registration?.email == "olga@example.com")
        #expect(l.welcome.map(\.points) == [100])
        #expect(l.balanceAfter == 100 + l.earned.reduce(0) { $0 + $1.points })
        guard case .member(let olga) = try h.db.lookupCard(stock, programme: DemoCatalog.programme, now: 1_795_100_000_000) else {
            Issue.record("the card is not issued"); return
        }
        #expect(olga.name == "Olga Smirnova")
        #expect(olga.balance.count == l.balanceAfter)
        // The card cannot be issued twice.
        h.key(.escape)
        h.key(.ctrl("n"))
        h.keyed(stock, .enter)
        #expect(h.error == "Card **** **** **** 0008 already belongs to a customer: take another card from stock")
    }

    @Test func aCardIssuedWithNoSaleIsRegisteredAtOnceWithItsSlip() throws {
        let h = try Harness(loyalty: true)
        h.key(.ctrl("n"))
        h.scan(stock)
        h.register(card: nil, first: "Olga", last: "Smirnova", phone: "", email: "olga@example.com")
        #expect(h.controller.mode == .selling)
        #expect(h.customer?.balance == 100)
        #expect(h.receipts.slips.map(\.cardNumber) == [stock])
        let outbox = try h.db.outboxPayloads(kind: "registration")
        #expect(outbox.count == 1)
        let doc = try JSONDecoder().decode(RegistrationDocument.self, from: Data(outbox[0].utf8))
        #expect(doc.registration.cardNumber == stock)
        #expect(doc.welcome.map(\.points) == [100])
        #expect(doc.registration.marketingConsent)
        #expect(try h.db.printJobs(states: [.pending]).map(\.kind) == [.registration])
    }

    @Test func cancellingASaleKeepsTheCardIssuedInIt() throws {
        let h = try Harness(loyalty: true)
        h.ringMilkAndCoffee()
        h.key(.ctrl("n"))
        h.register(card: stock)
        #expect(h.customer?.registration != nil)
        h.key(.function(9))
        #expect(h.error?.hasPrefix("A card was issued in this sale") == true)
        h.key(.function(10))
        h.key(.enter)
        h.supervise()
        #expect(h.controller.message?.text == "Sale cancelled; card **** **** **** 0008 stays registered to Olga Smirnova")
        let outbox = try h.db.outboxPayloads(kind: "registration")
        let doc = try JSONDecoder().decode(RegistrationDocument.self, from: Data(outbox[0].utf8))
        #expect(doc.cancelledSaleID == "00000000-0000-4000-8000-000000000001")
        #expect(try h.db.saleDocuments().isEmpty)
        guard case .member = try h.db.lookupCard(stock, programme: DemoCatalog.programme, now: 1_795_100_000_000) else {
            Issue.record("the registration was lost"); return
        }
    }

    @Test func findACustomerBySurnamePhoneOrEmail() throws {
        let h = try Harness(loyalty: true)
        h.key(.ctrl("f"))
        h.keyed("ivanova", .enter)
        guard case .customerSearch(let s) = h.controller.mode else { Issue.record("no search"); return }
        #expect(s.results.first?.cardNumber == anna)
        h.key(.enter)
        guard case .customerDetail(let d) = h.controller.mode else { Issue.record("no detail"); return }
        #expect(d.customer.balance == 1500)
        #expect(d.nextTier == "900.00 more to reach Gold")   // 600.00 spent of 1500.00
        h.key(.enter)
        #expect(h.customer?.cardNumber == anna)

        let p = try Harness(loyalty: true)
        p.key(.ctrl("f"))
        p.keyed("+7 900 000 0002", .enter)
        guard case .customerSearch(let byPhone) = p.controller.mode else { Issue.record("no search"); return }
        #expect(byPhone.results.map(\.cardNumber) == [boris])
        p.key(.escape)
        p.key(.ctrl("f"))
        p.keyed("BORIS.PETROV@example.com", .enter)
        guard case .customerSearch(let byMail) = p.controller.mode else { Issue.record("no search"); return }
        #expect(byMail.results.map(\.cardNumber) == [boris])
        p.key(.escape)
        p.key(.ctrl("f"))
        p.keyed("Nobody", .enter)
        #expect(p.error == "No customer matches 'Nobody': check the spelling, add the first name, or try the phone number or e-mail")
    }

    @Test func theCustomerSurvivesARestartMidSale() throws {
        let h = try Harness(loyalty: true)
        h.ringMilkAndCoffee()
        h.scan(anna)
        let again = Harness.makeController(db: h.db, receipts: h.receipts, ids: h.ids, clock: h.clock, loyalty: true)
        for c in "1" { again.handle(.key(.char(c))) }
        again.handle(.key(.enter))
        for c in "1234" { again.handle(.key(.char(c))) }
        again.handle(.key(.enter))
        #expect(again.basket?.customer?.cardNumber == anna)
        #expect(again.basket?.lines.count == 2)
    }

    @Test func noPromptWhenTheSettingIsOff() throws {
        let h = try Harness(loyalty: true, prompt: false)
        h.ringMilkAndCoffee()
        h.key(.function(5))
        #expect(h.controller.mode == .selling)
        #expect(h.controller.message?.text == "Total 8.18 due: F6 cash, F7 card, F8 split")
    }

    @Test func escapeSkipsThePromptAndATenderKeyPaysWithoutACard() throws {
        let h = try Harness(loyalty: true)
        h.ringMilkAndCoffee()
        h.key(.function(5))
        h.key(.escape)
        #expect(h.controller.mode == .selling)
        h.key(.function(5))                              // asked once per sale
        #expect(h.controller.mode == .selling)
        let g = try Harness(loyalty: true)
        g.ringMilkAndCoffee()
        g.key(.function(5))
        g.key(.function(6))
        #expect(g.controller.sale == nil)
        #expect(try g.db.saleDocuments().first?.loyalty == nil)
    }
}

extension Harness {
    func signOffAndOn() {
        key(.function(12))
        signOn()
    }
}
