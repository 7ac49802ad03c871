import Foundation
import Testing
import TillCore

/// Refunds: points follow the money exactly, including partial returns of a multi-buy and sales
/// part-paid with points. Every expected figure below is worked out by hand in the comments.
@Suite("Refunds")
struct RefundTests {
    let till = TillIdentity(storeID: "0001", storeName: "Test", tillID: "01", currency: .eur)
    let member = SaleCustomer(cardNumber: "6034000000000001", customerID: "c1", name: "Anna", tierCode: "MEM", tierName: "Member",
                              balance: 2000, qualifying: 0, offlineLeft: nil, provisional: false)

    func item(_ sku: String, _ category: String, _ price: Int64, _ qty: Int64) -> LineItem {
        LineItem(sku: sku, description: sku, category: category, taxCode: "A", taxBasisPoints: 2000, unitPrice: price, quantity: .units(qty))
    }

    func complete(_ items: [LineItem], discount: Discount? = nil, tenders: (Int64) -> [Tender]) throws -> CompletedSale {
        var sale = OpenSale(id: "s1", startedAt: 0, cashier: Cashier(number: "1", name: "C"), currency: .eur)
        for i in items { sale = try sale.trying(.addLine(item: i)) }
        if let discount { sale = try sale.trying(.discountSale(discount: discount)) }
        sale = try sale.trying(.identifyCustomer(customer: member))
        for t in tenders(sale.basket.totals.total) { sale = try sale.trying(.addTender(tender: t)) }
        let outcome = testProgramme.outcome(for: sale.basket, customer: member, context: monday)
        return try sale.complete(sequence: 1, at: 1, till: till, loyalty: outcome)
    }

    /// Applies a refund to what was returned so far, as the journal would.
    func record(_ p: RefundPlan, into prior: inout ReturnedSoFar) {
        for l in p.lines {
            let before = prior.lines[l.lineNumber] ?? .init(milli: 0, amount: 0)
            prior.lines[l.lineNumber] = .init(milli: before.milli + l.quantity.milli, amount: before.amount + l.amount)
        }
        prior.value += p.total
        prior.pointsValue += p.tenders.filter { $0.kind == .points }.reduce(0) { $0 + $1.amount }
        prior.pointsRestored += p.pointsRestored
        prior.pointsTakenBack += p.pointsTakenBack
        prior.toCard += p.tenders.filter { $0.kind == .card }.reduce(0) { $0 + $1.amount }
    }

    @Test func aMultiBuyReturnedOneByOneTakesBackExactlyWhatItEarned() throws {
        // 3 croissants at 1.20 (3+ croissants: +25) and coffee 8.99 (+10 a pack), paid in cash.
        // Earned: base floor(12.59) = 12, coffee 10, croissants 25 = 47.
        let sale = try complete([item("CROIS", "Bakery", 120, 3), item("COFFEE", "Coffee", 899, 1)]) { [Tender(kind: .cash, amount: $0)] }
        #expect(sale.loyalty?.earned.total == 47)
        var prior = ReturnedSoFar.none
        // Kept: 2 croissants + coffee = 11.39: base 11 + coffee 10 = 21; the multi-buy bonus goes. 47 - 21 = 26.
        let first = try RefundPlanner.plan(sale: sale, prior: prior, selections: [.init(line: 1, quantity: .one)], toCash: false, programme: testProgramme)
        #expect(first.total == 120)
        #expect(first.pointsTakenBack == 26)
        #expect(first.tenders == [RefundTender(kind: .cash, amount: 120)])
        record(first, into: &prior)
        // Kept: 1 croissant + coffee = 10.19: 10 + 10 = 20; 27 taken in all, 1 now.
        let second = try RefundPlanner.plan(sale: sale, prior: prior, selections: [.init(line: 1, quantity: .one)], toCash: false, programme: testProgramme)
        #expect(second.total == 120)
        #expect(second.pointsTakenBack == 1)
        record(second, into: &prior)
        // Everything else: the last croissant and the coffee; all 47 points and all 12.59 back.
        let rest = try RefundPlanner.plan(sale: sale, prior: prior, selections: [.init(line: 1, quantity: .one), .init(line: 2, quantity: .one)],
                                          toCash: false, programme: testProgramme)
        #expect(rest.total == 120 + 899)
        #expect(rest.pointsTakenBack == 20)
        record(rest, into: &prior)
        #expect(prior.value == sale.totals.total)
        #expect(prior.pointsTakenBack == 47)
        // A line cannot be returned twice.
        #expect(throws: ReturnError.alreadyReturned(line: 1, description: "CROIS")) {
            try RefundPlanner.plan(sale: sale, prior: prior, selections: [.init(line: 1, quantity: .one)], toCash: false, programme: testProgramme)
        }
    }

    @Test func aSalePartPaidWithPointsGetsItsPointsBackInProportion() throws {
        // A 10.00 and 3 x B 3.33 (9.99), 10% off the sale: 2.00 off, spread 1.00 / 1.00: nets 9.00 and 8.99, total 17.99.
        // Paid: 834 points for 5.00, then 12.99 cash. Earned on 17.99: 17 points.
        let sale = try complete([item("A", "", 1000, 1), item("B", "", 333, 3)], discount: .percent(basisPoints: 1000)) { total in
            [Tender(kind: .points, amount: 500, points: 834), Tender(kind: .cash, amount: total - 500)]
        }
        #expect(sale.totals.total == 1799)
        #expect(sale.totals.lines.map(\.net) == [900, 899])
        #expect(sale.loyalty?.earned.total == 17)
        var prior = ReturnedSoFar.none
        // One B: round(8.99 / 3) = 3.00. Points value round(5.00 x 300/1799) = 0.83, points round(834 x 300/1799) = 139,
        // cash 3.00 - 0.83 = 2.17. Kept 14.99 earns 14: 3 taken back.
        let one = try RefundPlanner.plan(sale: sale, prior: prior, selections: [.init(line: 2, quantity: .one)], toCash: false, programme: testProgramme)
        #expect(one.total == 300)
        #expect(one.tenders == [RefundTender(kind: .cash, amount: 217), RefundTender(kind: .points, amount: 83, points: 139)])
        #expect(one.pointsRestored == 139)
        #expect(one.pointsTakenBack == 3)
        record(one, into: &prior)
        // The rest: 14.99; every point that paid comes back (834 - 139 = 695), cash 14.99 - 4.17 = 10.82, 14 more taken back.
        let rest = try RefundPlanner.plan(sale: sale, prior: prior, selections: [.init(line: 1, quantity: .one), .init(line: 2, quantity: .units(2))],
                                          toCash: false, programme: testProgramme)
        #expect(rest.total == 1499)
        #expect(rest.tenders == [RefundTender(kind: .cash, amount: 1082), RefundTender(kind: .points, amount: 417, points: 695)])
        #expect(rest.pointsTakenBack == 14)
        record(rest, into: &prior)
        #expect(prior.pointsRestored == 834)
        #expect(prior.pointsTakenBack == 17)
        #expect(one.cash + rest.cash == 1299)
    }

    @Test func cardMoneyGoesBackToTheCardFirstUnlessASupervisorSaysCash() throws {
        // 20.00: 15.00 on card (ref AB12), 5.00 cash.
        let sale = try complete([item("A", "", 1000, 2)]) { _ in
            [Tender(kind: .card, amount: 1500, reference: "AB12"), Tender(kind: .cash, amount: 500)]
        }
        let one = try RefundPlanner.plan(sale: sale, prior: .none, selections: [.init(line: 1, quantity: .one)], toCash: false, programme: testProgramme)
        #expect(one.tenders == [RefundTender(kind: .card, amount: 1000, reference: "AB12")])
        var prior = ReturnedSoFar.none
        record(one, into: &prior)
        let two = try RefundPlanner.plan(sale: sale, prior: prior, selections: [.init(line: 1, quantity: .one)], toCash: false, programme: testProgramme)
        #expect(two.tenders == [RefundTender(kind: .card, amount: 500, reference: "AB12"), RefundTender(kind: .cash, amount: 500)])
        let cash = try RefundPlanner.plan(sale: sale, prior: .none, selections: [.init(line: 1, quantity: .units(2))], toCash: true, programme: testProgramme)
        #expect(cash.tenders == [RefundTender(kind: .cash, amount: 2000)])
    }

    @Test func refusedReturnsSayWhy() throws {
        var items = [item("A", "", 1000, 2)]
        items.append(LineItem(sku: "BAN", description: "Bananas", taxCode: "A", taxBasisPoints: 2000, unitPrice: 199,
                              quantity: Quantity(milli: 750), soldByWeight: true))
        let sale = try complete(items) { [Tender(kind: .cash, amount: $0)] }
        func plan(_ s: [ReturnSelection]) throws { _ = try RefundPlanner.plan(sale: sale, prior: .none, selections: s, toCash: false, programme: nil) }
        #expect(throws: ReturnError.nothingChosen) { try plan([]) }
        #expect(throws: ReturnError.noSuchLine(3, count: 2)) { try plan([.init(line: 3, quantity: .one)]) }
        #expect(throws: ReturnError.moreThanLeft(line: 1, description: "A", asked: .units(3), left: .units(2))) { try plan([.init(line: 1, quantity: .units(3))]) }
        #expect(throws: ReturnError.weighedLinePart(line: 2, description: "Bananas")) { try plan([.init(line: 2, quantity: Quantity(milli: 500))]) }
        // Another programme version: points come back in proportion to the value.
        let other = try complete([item("A", "", 1000, 2)]) { [Tender(kind: .cash, amount: $0)] }
        var changed = testProgramme
        changed.version = "t-2"
        let p = try RefundPlanner.plan(sale: other, prior: .none, selections: [.init(line: 1, quantity: .one)], toCash: false, programme: changed)
        #expect(other.loyalty?.earned.total == 20)
        #expect(p.pointsTakenBack == 10)
    }

    @Test func discountsAboveTheLimitNeedASupervisor() {
        #expect(Discount.percent(basisPoints: 1000).exceeds(limitBasisPoints: 1000, of: 5000) == false)
        #expect(Discount.percent(basisPoints: 1001).exceeds(limitBasisPoints: 1000, of: 5000) == true)
        #expect(Discount.amount(minor: 500).exceeds(limitBasisPoints: 1000, of: 5000) == false)
        #expect(Discount.amount(minor: 501).exceeds(limitBasisPoints: 1000, of: 5000) == true)
        #expect(Discount.amount(minor: 5000).exceeds(limitBasisPoints: 10_000, of: 5000) == false)
    }
}
