import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillSync
import TillTestSupport

/// Referrals (issue 18): a member's code given by a new member at the till's form, on their page
/// or through a channel; both rewarded at the first qualifying purchase; the abuse limits.
@Suite("Referrals", .serialized)
struct ReferralTests {
    static let anna = DemoCatalog.cardNumber(1)

    /// A new member registered on the till's form with `code`, buying `skus` in the same sale.
    static func join(_ side: TillSide, stock: Int, first: String, phone: String, email: String = "", code: String, skus: [String], at time: Int64) throws -> CompletedSale {
        let programme = DemoCatalog.programme
        let r = try Registration.make(cardNumber: DemoCatalog.cardNumber(DemoCatalog.firstStockCard + stock), firstName: first, lastName: "Newman", phone: phone,
                                      email: email, postcode: "", birthDate: "", marketingConsent: false, at: time, referralCode: code)
        let customer = SaleCustomer(cardNumber: r.cardNumber, customerID: r.cardNumber, name: r.fullName, tierCode: nil, tierName: nil, balance: 0,
                                    qualifying: 0, offlineLeft: programme.redemption.offlineCapPoints, provisional: true, registration: r)
        return try sell(side, customer: customer, skus: skus, at: time)
    }

    static func sell(_ side: TillSide, card: String, skus: [String], at time: Int64) throws -> CompletedSale {
        try side.sell(card: card, skus: skus, at: time)
    }

    static func sell(_ side: TillSide, customer: SaleCustomer, skus: [String], at time: Int64) throws -> CompletedSale {
        try side.sell(customer: customer, skus: skus, at: time)
    }

    static func ledger(_ store: HeadOfficeStore, _ card: String) throws -> [Int64] {
        try store.database.read { c in
            try c.query("SELECT points FROM ledger WHERE card_number = ? AND rule = 'referral' ORDER BY created_at, points", [.text(card)]).map { $0.int("points") }
        }
    }

    @Test(arguments: Backend.allCases)
    func bothAreRewardedOnceAndEveryAbuseLimitHolds(backend: Backend) throws {
        let dir = TemporaryDirectory("referral-\(backend)")
        let store = try makeHeadOffice(backend, dir)
        try store.saveReferralSettings(ReferralSettings(referrerPoints: 200, referredPoints: 100, minSpend: 1_000, days: 30, monthlyCap: 2))
        let code = try store.referralCode(customer: "M1")
        let again = try store.referralCode(customer: "M1")
        #expect(Registration.isReferralCode(code) && code.count == 8 && again == code, "the same code each time")
        let t = try TillSide(seed: 61)
        let hour: Int64 = 3_600_000
        let t0 = (HeadOfficeStore.now() / hour - 10) * hour
        let annaBefore = try store.channelCard(Self.anna).balance

        // Olga joins with Anna's code (in lower case) and buys 13.89 at once: both rewarded.
        let olga = try Self.join(t, stock: 0, first: "Olga", phone: "+44 7700 900001", code: code.lowercased(), skus: ["F0011", "F0004"], at: t0)
        // Piotr gives Anna's code but registers with Anna's own phone: refused.
        _ = try Self.join(t, stock: 1, first: "Piotr", phone: "+7 900 000 0001", code: code, skus: ["F0011"], at: t0 + hour)
        // Quinn gives it with Anna's own e-mail (another card of the programme's range, new to head office): refused.
        _ = try Self.join(t, stock: 10, first: "Quinn", phone: "", email: "Anna.Ivanova@example.com", code: code, skus: ["F0011"], at: t0 + hour + 60_000)
        // Rosa: a first purchase below the minimum, then one above it.
        let rosaSmall = try Self.join(t, stock: 2, first: "Rosa", phone: "+44 7700 900003", code: code, skus: ["F0002"], at: t0 + 2 * hour)
        // Sven: an unknown code.
        _ = try Self.join(t, stock: 3, first: "Sven", phone: "+44 7700 900004", code: "ZZZZ9999", skus: ["F0011"], at: t0 + 3 * hour)
        _ = try store.ingest(try t.batch(), from: t.credential)
        let olgaCard = olga.loyalty!.customer.cardNumber, rosaCard = rosaSmall.loyalty!.customer.cardNumber
        #expect(try Self.ledger(store, olgaCard) == [100] && (try Self.ledger(store, Self.anna)) == [200])
        #expect(try store.channelCard(Self.anna).balance == annaBefore + 200)
        var byName = Dictionary(uniqueKeysWithValues: try store.referrals(referrer: "M1").map { ($0.referredName, $0) })
        #expect(byName["Olga N"]?.status == "rewarded" && byName["Rosa N"]?.status == "registered")
        #expect(byName["Piotr N"]?.status == "refused" && byName["Piotr N"]?.reason == "registered with the referrer's own phone")
        #expect(byName["Quinn N"]?.status == "refused" && byName["Quinn N"]?.reason == "registered with the referrer's own e-mail")
        #expect(try store.referrals().first { $0.referredName == "Sven N" }?.reason == "no member has the code ZZZZ9999")

        // Rosa's second purchase qualifies; Tomas (a third friend this month) passes the cap of two.
        _ = try Self.sell(t, card: rosaCard, skus: ["F0011"], at: t0 + 4 * hour)
        let tomas = try Self.join(t, stock: 4, first: "Tomas", phone: "+44 7700 900005", code: code, skus: ["F0011"], at: t0 + 5 * hour)
        _ = try store.ingest(try t.batch(), from: t.credential)
        byName = Dictionary(uniqueKeysWithValues: try store.referrals(referrer: "M1").map { ($0.referredName, $0) })
        let rosaLedger = try Self.ledger(store, rosaCard)
        #expect(byName["Rosa N"]?.status == "rewarded" && rosaLedger == [100])
        #expect(byName["Tomas N"]?.status == "refused" && byName["Tomas N"]?.reason?.contains("rewarded for 2 friends") == true, "\(byName["Tomas N"]?.reason ?? "")")
        #expect(try Self.ledger(store, tomas.loyalty!.customer.cardNumber).isEmpty && (try Self.ledger(store, Self.anna)) == [200, 200])

        // Olga returns her purchase: both her reward and Anna's are taken back, once.
        let selections = olga.basket.lines.map { ReturnSelection(line: $0.number, quantity: $0.item.quantity) }
        _ = try t.db.commitRefund(.receipt(saleID: olga.id, selections: selections, toCash: false), id: "refund-olga", cashier: DemoCatalog.supervisor,
                                  supervisor: nil, at: t0 + 6 * hour, till: t.identity, programme: DemoCatalog.programme) { _ in nil }
        _ = try store.ingest(try t.batch(), from: t.credential)
        _ = try store.ingest(try t.batch(), from: t.credential)
        let (olgaLedger, annaRewards) = (try Self.ledger(store, olgaCard), try Self.ledger(store, Self.anna))
        #expect(olgaLedger == [100, -100] && annaRewards == [200, 200, -200], "\(olgaLedger) \(annaRewards)")
        #expect(try store.referrals(referrer: "M1").first { $0.referredName == "Olga N" }?.status == "reversed")
        #expect(try store.referralCounts() == ["rewarded": 1, "reversed": 1, "refused": 4])
        let annaLedger = try store.database.read { c in try c.queryOne("SELECT SUM(points) AS p FROM ledger WHERE card_number = ?", [.text(Self.anna)])!.int("p") }
        #expect(try store.channelCard(Self.anna).balance == annaLedger)
        // Settings are bounded.
        #expect(throws: ChannelRefusal.self) { try store.saveReferralSettings(ReferralSettings(monthlyCap: 0)) }
        #expect(throws: ChannelRefusal.self) { try store.saveReferralSettings(ReferralSettings(referrerPoints: 100_001)) }
    }

    /// The member's page and the channel API: a code given after joining, before any purchase.
    @Test func aCodeIsGivenOnTheMembersPageOrByAChannelBeforeTheFirstPurchase() async throws {
        let dir = TemporaryDirectory("referral-page")
        let store = try makeHeadOffice(.sqlite, dir)
        let code = try store.referralCode(customer: "M1")
        let t = try TillSide(seed: 62)
        let now = HeadOfficeStore.now()
        // Two new members join at the till without a code (a card issued with no sale).
        for (i, name) in [(0, "Vera"), (1, "Walter")] {
            let r = try Registration.make(cardNumber: DemoCatalog.cardNumber(DemoCatalog.firstStockCard + i), firstName: name, lastName: "Newman",
                                          phone: "", email: "\(name.lowercased())@example.com", postcode: "", birthDate: "", marketingConsent: false, at: now - 60_000)
            try t.db.register(NewMember(registration: r, welcome: DemoCatalog.programme.welcomeAward, programmeVersion: DemoCatalog.programme.version,
                                        till: t.identity, slip: nil), at: now - 60_000)
        }
        _ = try store.ingest(try t.batch(), from: t.credential)
        let vera = DemoCatalog.cardNumber(DemoCatalog.firstStockCard), walter = DemoCatalog.cardNumber(DemoCatalog.firstStockCard + 1)
        let server = try await RunningServer(store)
        defer { Task { await server.stop() } }
        // Vera on her page.
        let (_, signIn) = try #require(try store.requestSignInCode(email: "vera@example.com"))
        let (token, session) = try store.verifySignInCode(email: "vera@example.com", code: signIn)
        func page(_ method: String, _ path: String, _ body: String? = nil) async throws -> HTTPAnswer {
            try await onThread {
                try HTTPConnection().send(method, server.url + path, headers: ["Cookie: member_session=\(token)", "Content-Type: application/x-www-form-urlencoded"],
                                          body: body.map { Array($0.utf8) }, timeoutMilliseconds: 30_000)
            }
        }
        let home = try await page("GET", "/member")
        #expect(home.text.contains("id=\"referral-code\"") && home.text.contains("id=\"give-code\""), "\(home.text.prefix(4000))")
        let qr = try await page("GET", "/member/referral.svg")
        #expect(qr.status == 200 && qr.text.hasPrefix("<svg"))
        let typo = try await page("POST", "/member/referral", "csrf=\(session.csrf)&code=NOPE1234")
        #expect(typo.status == 422 && typo.text.contains("No member has the code NOPE1234: check it with your friend"))
        let gave = try await page("POST", "/member/referral", "csrf=\(session.csrf)&code=\(code)")
        #expect(gave.status == 303, "\(gave.text.components(separatedBy: "class=\"notice").last?.prefix(300) ?? "")")
        let after = try await page("GET", "/member")
        #expect(!after.text.contains("id=\"give-code\""), "given once")
        #expect(try store.referrals(referrer: "M1").map { "\($0.referredName) \($0.status) \($0.channel)" } == ["Vera N registered member page"])
        // Walter through a channel, with the earn scope.
        let key = try store.addChannel("shop", scopes: [.earn, .read])
        func channel(_ body: String) async throws -> HTTPAnswer {
            try await onThread {
                try HTTPConnection().send("POST", server.url + "/api/v1/channel/referrals", headers: ["Authorization: Bearer \(key)", "Content-Type: application/json"],
                                          body: Array(body.utf8), timeoutMilliseconds: 30_000)
            }
        }
        #expect(try await channel(#"{"cardNumber":"\#(walter)","code":"x"}"#).status == 422)
        let given = try await channel(#"{"cardNumber":"\#(walter)","code":"\#(code.lowercased())"}"#)
        #expect(given.status == 200 && given.text.contains("\"status\":\"registered\""), "\(given.text)")
        // After a purchase, a code is no longer taken.
        _ = try ReferralTests.sell(t, card: vera, skus: ["F0011"], at: now)
        _ = try store.ingest(try t.batch(), from: t.credential)
        #expect(try store.referrals(referrer: "M1").first { $0.referredName == "Vera N" }?.status == "rewarded")
        #expect(try store.giveReferralCode("ZZZZ9999", customer: vera, channel: "member page").status == "rewarded", "a code is given once")
        #expect(throws: ChannelRefusal(422, "A friend's code is given within 30 days of joining")) {
            try store.giveReferralCode(code, customer: "M5", channel: "member page")
        }
        // Anna sees who she invited on her page.
        let (_, annaCode) = try #require(try store.requestSignInCode(email: "anna.ivanova@example.com"))
        let (annaToken, _) = try store.verifySignInCode(email: "anna.ivanova@example.com", code: annaCode)
        let annas = try await onThread {
            try HTTPConnection().send("GET", server.url + "/member", headers: ["Cookie: member_session=\(annaToken)"], timeoutMilliseconds: 30_000)
        }
        #expect(annas.text.contains(">\(code)</strong>") && annas.text.contains("<td>Vera N</td>") && annas.text.contains("bought: points earned"),
                "\(annas.text.prefix(5000))")
    }
}
