import Foundation
import Testing
import TillCore

/// Personal offers that take money off (issue 16): a percent or an amount off their lines, or a
/// free item; after line discounts, before the sale discount, exact to the cent.
@Suite("Offers that take money off")
struct OfferDiscountTests {
    static let anna = SaleCustomer(cardNumber: "6034000000000001", customerID: "M1", name: "Anna", tierCode: "MEM", tierName: "Member",
                                   balance: 0, qualifying: 0, offlineLeft: nil, provisional: false)
    static func offer(_ id: String, percent: Int64? = nil, amount: Int64? = nil, free: Bool = false, skus: [String] = [],
                      categories: [String] = [], minSpend: Int64 = 0) -> PersonalOffer {
        PersonalOffer(id: id, name: id.capitalized, skus: skus, categories: categories, minSpend: minSpend, validFrom: 0,
                      validTo: 2_000_000_000_000, uses: 1, percentOffBP: percent, amountOff: amount, freeItem: free ? true : nil)
    }

    /// A basket for Anna with `offers`.
    func sale(_ items: [(sku: String, category: String, price: Int64, qty: Int64)], offers: [PersonalOffer]) throws -> Basket {
        var b = try basket(items)
        try b.apply(.identifyCustomer(customer: Self.anna))
        try b.apply(.useOffers(offers: offers))
        return b
    }

    @Test func aPercentComesOffEachOfItsLinesRounded() throws {
        let b = try sale([("BEANS", "Coffee", 700, 1000), ("PODS", "Coffee", 333, 1000), ("BREAD", "Bakery", 300, 1000)],
                         offers: [Self.offer("ten", percent: 1_000, categories: ["Coffee"])])
        let t = b.totals
        #expect(t.lines.map(\.offerDiscount) == [70, 33, 0])
        #expect(t.offerDiscounts == [OfferDiscount(id: "ten", name: "Ten", amount: 103)])
        #expect(t.subtotal == 1_333 - 103 && t.total == 1_230)
        #expect(t.lines.map(\.net).reduce(0, +) == t.total)
    }

    @Test func anAmountIsSpreadOverItsLinesAndOnlyFromTheMinimum() throws {
        let two = Self.offer("two", amount: 200, categories: ["Coffee"], minSpend: 500)
        let b = try sale([("BEANS", "Coffee", 700, 1000), ("BREAD", "Bakery", 300, 1000), ("PODS", "Coffee", 300, 1000)], offers: [two])
        #expect(b.totals.lines.map(\.offerDiscount) == [140, 0, 60])
        #expect(b.totals.total == 1_100)
        // Its lines come to 4.00, below the minimum 5.00 (the bread does not count): nothing.
        let small = try sale([("BEANS", "Coffee", 400, 1000), ("BREAD", "Bakery", 900, 1000)], offers: [two])
        #expect(small.totals.offerDiscounts.isEmpty && small.totals.total == 1_300)
        // Never more than its lines come to.
        let big = try sale([("PODS", "Coffee", 150, 1000)], offers: [Self.offer("big", amount: 500)])
        #expect(big.totals.offerDiscount == 150 && big.totals.total == 0)
    }

    @Test func aFreeItemIsOneUnitOfTheCheapestOfItsItemsSoldByTheUnit() throws {
        let croissant = Self.offer("free", free: true, categories: ["Bakery"], minSpend: 1_000)
        // Three croissants at 1.20, a bun at 0.90, bread by weight (never the free one).
        let b = try sale([("CROIS", "Bakery", 120, 3000), ("BUN", "Bakery", 90, 1000), ("LOAF", "Bakery", 50, 750), ("MILK", "Dairy", 700, 1000)],
                         offers: [croissant])
        #expect(b.totals.lines.map(\.offerDiscount) == [0, 90, 0, 0])
        // The minimum counts the whole sale: 3.60 + 0.90 + 0.38 + 7.00 = 11.88 ≥ 10.00. Without the milk it is not reached.
        let small = try sale([("CROIS", "Bakery", 120, 3000), ("BUN", "Bakery", 90, 1000)], offers: [croissant])
        #expect(small.totals.offerDiscounts.isEmpty)
        // No item of its own in the sale: nothing.
        let none = try sale([("MILK", "Dairy", 1_500, 1000)], offers: [croissant])
        #expect(none.totals.offerDiscounts.isEmpty)
    }

    @Test func offersComeAfterLineDiscountsAndBeforeTheSaleDiscount() throws {
        var b = try sale([("BEANS", "Coffee", 1_000, 1000), ("BREAD", "Bakery", 500, 1000)],
                         offers: [Self.offer("ten", percent: 1_000, categories: ["Coffee"])])
        try b.apply(.discountLine(number: 1, discount: .amount(minor: 200)))
        try b.apply(.discountSale(discount: .percent(basisPoints: 500)))
        let t = b.totals
        // Coffee 10.00 − 2.00 = 8.00, the offer 10% = 0.80 → 7.20; bread 5.00; subtotal 12.20; 5% = 0.61.
        #expect(t.lines[0].lineDiscount == 200 && t.lines[0].offerDiscount == 80)
        #expect(t.subtotal == 1_220 && t.saleDiscount == 61 && t.total == 1_159)
        #expect(t.lines.map(\.net).reduce(0, +) == t.total)
        #expect(t.vat.map(\.gross).reduce(0, +) == t.total)
        // The points are on what the member paid.
        let award = testProgramme.award(for: b, context: monday)
        #expect(award.parts.first { $0.rule == "base" }?.points == 11)
    }

    @Test func twoOffersApplyOneAfterTheOtherAndTheOutcomeNamesThem() throws {
        var customer = Self.anna
        customer.offers = [Self.offer("ten", percent: 1_000), Self.offer("two", amount: 200, categories: ["Coffee"])]
        var b = try basket([("BEANS", "Coffee", 1_000, 1000)])
        try b.apply(.identifyCustomer(customer: customer))
        try b.apply(.useOffers(offers: customer.offers))
        #expect(b.totals.offerDiscounts.map(\.amount) == [100, 200] && b.totals.total == 700)
        #expect(b.totals.offerLabel == "your offers")
        let outcome = testProgramme.outcome(for: b, customer: customer, context: monday)
        #expect(outcome.discountOffers == ["ten", "two"] && outcome.offersUsed == ["ten", "two"])
        #expect(outcome.openOffers.isEmpty, "each was used once, its only use")
    }

    @Test func theBasketKeepsOffersOnlyForItsMemberAndBeforePayment() throws {
        var b = try basket([("BEANS", "Coffee", 1_000, 1000)])
        #expect(throws: SaleError.noCustomer) { try b.apply(.useOffers(offers: [Self.offer("ten", percent: 1_000)])) }
        try b.apply(.identifyCustomer(customer: Self.anna))
        // Offers that give points are not the basket's: the engine gives them.
        try b.apply(.useOffers(offers: [Self.offer("ten", percent: 1_000), PersonalOffer(id: "pts", name: "Pts", bonusPoints: 5, validFrom: 0, validTo: 1)]))
        #expect(b.offers.map(\.id) == ["ten"] && b.totals.total == 900)
        // Another member's card: the offers go.
        var boris = Self.anna
        boris.cardNumber = "6034000000000023"
        boris.customerID = "M2"
        try b.apply(.identifyCustomer(customer: boris))
        #expect(b.offers.isEmpty && b.totals.total == 1_000)
        try b.apply(.useOffers(offers: [Self.offer("ten", percent: 1_000)]))
        try b.apply(.addTender(tender: Tender(kind: .cash, amount: 500)))
        #expect(throws: SaleError.paymentStarted) { try b.apply(.useOffers(offers: [])) }
        #expect(throws: SaleError.paymentStarted) { try b.apply(.identifyCustomer(customer: Self.anna)) }
        try b.apply(.removeLastTender)
        try b.apply(.removeCustomer)
        #expect(b.offers.isEmpty && b.totals.total == 1_000)
    }

    @Test func anyBasketAndOffersAddUpExactly() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let n = Int.random(in: 1...8, using: &rng)
            let items = (0..<n).map { i in
                (sku: "S\(i % 3)", category: ["Coffee", "Bakery", "Dairy"][i % 3], price: Int64.random(in: 0...5_000, using: &rng),
                 qty: Int64.random(in: 1...5, using: &rng) * 1000)
            }
            var offers: [PersonalOffer] = []
            for k in 0..<Int.random(in: 1...3, using: &rng) {
                let cats = Bool.random(using: &rng) ? [] : ["Coffee"]
                switch Int.random(in: 0...2, using: &rng) {
                case 0: offers.append(Self.offer("p\(k)", percent: Int64.random(in: 1...10_000, using: &rng), categories: cats))
                case 1: offers.append(Self.offer("a\(k)", amount: Int64.random(in: 1...20_000, using: &rng), categories: cats,
                                                 minSpend: Int64.random(in: 0...3_000, using: &rng)))
                default: offers.append(Self.offer("f\(k)", free: true, categories: ["Bakery"]))
                }
            }
            var b = try sale(items, offers: offers)
            if Bool.random(using: &rng) { try b.apply(.discountLine(number: 1, discount: .percent(basisPoints: 1_500))) }
            let t = b.totals
            #expect(t.lines.allSatisfy { $0.net >= 0 && $0.offerDiscount >= 0 })
            #expect(t.lines.map(\.net).reduce(0, +) == t.total)
            #expect(t.lines.map(\.offerDiscount).reduce(0, +) == t.offerDiscount)
            #expect(t.lines.map { $0.gross - $0.lineDiscount - $0.offerDiscount - $0.saleDiscountShare } == t.lines.map(\.net))
            for o in offers where o.amountOff != nil {
                if let d = t.offerDiscounts.first(where: { $0.id == o.id }) { #expect(d.amount <= o.amountOff!) }
            }
        }
    }

    /// A sale left open on a till before offers existed (its journalled customer has no
    /// "offers") is rebuilt after the upgrade, with none; one with offers keeps them.
    @Test func aCustomerJournalledBeforeOffersReadsWithNone() throws {
        var customer = Self.anna
        customer.offers = [Self.offer("ten", percent: 1_000)]
        let events: [BasketEvent] = [.addLine(item: LineItem(sku: "S", description: "S", taxCode: "A", taxBasisPoints: 2000, unitPrice: 100, quantity: .one)),
                                     .identifyCustomer(customer: customer)]
        let json = String(decoding: try JSONEncoder().encode(events), as: UTF8.self)
        #expect(try JSONDecoder().decode([BasketEvent].self, from: Data(json.utf8)) == events)
        // The same journal as a till before v15 wrote it: the customer without "offers".
        func strip(_ v: Any) -> Any {
            if var o = v as? [String: Any] {
                o["offers"] = nil
                return o.mapValues(strip)
            }
            if let a = v as? [Any] { return a.map(strip) }
            return v
        }
        let old = String(decoding: try JSONSerialization.data(withJSONObject: strip(try JSONSerialization.jsonObject(with: Data(json.utf8)))), as: UTF8.self)
        #expect(!old.contains("offers") && json.contains("offers"))
        let read = try JSONDecoder().decode([BasketEvent].self, from: Data(old.utf8))
        guard case .identifyCustomer(let c) = read[1] else { Issue.record("\(read)"); return }
        #expect(c.offers.isEmpty && c.cardNumber == customer.cardNumber && c.balance == customer.balance)
        #expect(try Basket(currency: .eur, replaying: read).customer?.name == "Anna")
    }

    @Test func sharesAddUpToTheWholeInProportion() {
        #expect(MinorUnits.shares(of: 100, over: [1, 1, 1]) == [34, 33, 33])
        #expect(MinorUnits.shares(of: 200, over: [700, 0, 300]) == [140, 0, 60])
        #expect(MinorUnits.shares(of: 5, over: [0, 0]) == [0, 0])
        for _ in 0..<200 {
            let weights = (0..<Int.random(in: 1...10)).map { _ in Int64.random(in: 0...1_000_000_000) }
            let total = Int64.random(in: 0...max(0, weights.reduce(0, +)))
            let s = MinorUnits.shares(of: total, over: weights)
            #expect(weights.reduce(0, +) == 0 || s.reduce(0, +) == total)
            #expect(zip(s, weights).allSatisfy { $0 <= $1 })
        }
    }

    @Test func anOfferSaysWhatItGives() {
        #expect(Self.offer("x", percent: 1_000, categories: ["Coffee"]).summary(currency: .eur) == "10% off on Coffee")
        #expect(Self.offer("x", amount: 250, minSpend: 2_000).summary(currency: .eur) == "2.50 off when you spend 20.00")
        #expect(Self.offer("x", free: true, skus: ["CROIS"]).summary(currency: .eur) == "a free CROIS")
    }
}
