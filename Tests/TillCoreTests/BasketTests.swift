import Testing
import TillCore

private let rateA = TaxRate(code: "A", basisPoints: 2000)
private let rateB = TaxRate(code: "B", basisPoints: 500)

private func item(_ desc: String, _ price: Int64, qty: Int64 = 1000, rate: TaxRate = rateA, weighed: Bool = false) -> LineItem {
    LineItem(sku: desc, description: desc, taxCode: rate.code, taxBasisPoints: rate.basisPoints,
             unitPrice: price, quantity: Quantity(milli: qty), soldByWeight: weighed)
}

@Suite("Basket totals, discounts and VAT")
struct BasketTests {
    /// The worked example in README "Money and rounding".
    func workedExample() throws -> Basket {
        var b = Basket(currency: .eur)
        try b.apply(.addLine(item: item("Milk", 119, qty: 3000, rate: rateB)))
        try b.apply(.addLine(item: item("Bread", 249, rate: rateB)))
        try b.apply(.addLine(item: item("Apples", 299, qty: 750, rate: rateB, weighed: true)))
        try b.apply(.addLine(item: item("Wine", 899)))
        try b.apply(.addLine(item: item("Batteries", 555)))
        try b.apply(.discountLine(number: 4, discount: .percent(basisPoints: 1000)))
        try b.apply(.discountLine(number: 5, discount: .amount(minor: 100)))
        try b.apply(.discountSale(discount: .percent(basisPoints: 500)))
        return b
    }

    @Test func lineAmountsAndDiscountsRoundHalfAwayFromZero() throws {
        let t = try workedExample().totals
        #expect(t.lines.map(\.gross) == [357, 249, 224, 899, 555])
        #expect(t.lines.map(\.lineDiscount) == [0, 0, 0, 90, 100])
        #expect(t.subtotal == 2094)
        #expect(t.lineDiscounts == 190)
    }

    @Test func saleDiscountIsAllocatedByLargestRemainderAndSumsExactly() throws {
        let t = try workedExample().totals
        #expect(t.saleDiscount == 105)
        #expect(t.lines.map(\.saleDiscountShare) == [18, 12, 11, 41, 23])
        #expect(t.lines.map(\.net) == [339, 237, 213, 768, 432])
        #expect(t.total == 1989)
    }

    @Test func vatIsComputedOncePerRateOnDiscountedTotals() throws {
        let t = try workedExample().totals
        #expect(t.vat == [
            VATLine(code: "A", basisPoints: 2000, gross: 1200, vat: 200, net: 1000),
            VATLine(code: "B", basisPoints: 500, gross: 789, vat: 38, net: 751),
        ])
        #expect(t.itemCount == 3 + 1 + 1 + 1 + 1)
    }

    /// Twelve tax codes (past the eight a linear search serves), lines in no order: one VAT line
    /// per code, in the codes' order, each adding up its own lines only.
    @Test func vatByManyCodesKeepsEachCodesOwnLines() throws {
        var b = Basket(currency: .eur)
        let codes = (0..<12).map { "T" + String(10 + ($0 * 7) % 12) }
        for (i, code) in (codes + codes.reversed()).enumerated() {
            try b.apply(.addLine(item: item("Item \(i)", 100, rate: TaxRate(code: code, basisPoints: 1000))))
        }
        #expect(b.totals.vat.map(\.code) == codes.sorted())
        #expect(b.totals.vat.allSatisfy { $0.gross == 200 && $0.vat == 18 && $0.net == 182 })

        var index = ShortListIndex()
        for (i, code) in codes.enumerated() { #expect(index.position(of: code) == (i, true)) }
        for (i, code) in codes.enumerated().reversed() { #expect(index.position(of: code) == (i, false)) }
        #expect(index.keys == codes)
    }

    @Test func vatHalfRoundsUp() throws {
        var b = Basket(currency: .eur)
        try b.apply(.addLine(item: item("Sweet", 3)))
        #expect(b.totals.vat.first?.vat == 1) // 3 × 20/120 = 0.5 → 1
    }

    @Test func cashOverpaymentGivesChange() throws {
        var b = try workedExample()
        try b.apply(.addTender(tender: Tender(kind: .cash, amount: 2000)))
        #expect(b.totals.paid == 2000)
        #expect(b.totals.change == 11)
        #expect(b.totals.due == 0)
        #expect(b.isPaid)
    }

    @Test func splitTenderCardThenCash() throws {
        var b = try workedExample()
        try b.basketValidates(Tender(kind: .card, amount: 1000), split: true)
        try b.apply(.addTender(tender: Tender(kind: .card, amount: 1000, reference: "A1B2")))
        #expect(b.totals.due == 989)
        #expect(!b.isPaid)
        try b.apply(.addTender(tender: Tender(kind: .cash, amount: 1000)))
        #expect(b.totals.change == 11)
        #expect(b.isPaid)
    }

    @Test func tenderLessThanDueIsRefusedWithoutSplit() throws {
        let b = try workedExample()
        #expect(throws: SaleError.tenderLessThanDue(
            kind: .cash, amount: Money(minor: 500, currency: .eur), due: Money(minor: 1989, currency: .eur))) {
            try b.validateTender(Tender(kind: .cash, amount: 500), split: false)
        }
        let message = SaleError.tenderLessThanDue(
            kind: .cash, amount: Money(minor: 500, currency: .eur), due: Money(minor: 1989, currency: .eur)).description
        #expect(message == "Cash 5.00 is less than the 19.89 due: key at least 19.89, or press Split to pay part")
    }

    @Test func cardCannotExceedDue() throws {
        var b = try workedExample()
        let before = b
        #expect(throws: SaleError.self) { try b.apply(.addTender(tender: Tender(kind: .card, amount: 2000))) }
        #expect(b == before)
    }

    @Test func discountAboveLineValueIsRefusedAndSaleUnchanged() throws {
        var b = try workedExample()
        let before = b
        #expect(throws: SaleError.discountAboveLineValue(
            discount: Money(minor: 1000, currency: .eur), line: 2, value: Money(minor: 249, currency: .eur))) {
            try b.apply(.discountLine(number: 2, discount: .amount(minor: 1000)))
        }
        #expect(b == before)
    }

    @Test func voidingALineThatWouldLeaveTheSaleDiscountTooLargeIsRefused() throws {
        var b = Basket(currency: .eur)
        try b.apply(.addLine(item: item("A", 500)))
        try b.apply(.addLine(item: item("B", 500)))
        try b.apply(.discountSale(discount: .amount(minor: 800)))
        let before = b
        #expect(throws: SaleError.self) { try b.apply(.voidLine(number: 1)) }
        #expect(b == before)
    }

    @Test func voidedLinesDropOutOfTotals() throws {
        var b = Basket(currency: .eur)
        try b.apply(.addLine(item: item("A", 500)))
        try b.apply(.addLine(item: item("B", 250)))
        try b.apply(.voidLine(number: 1))
        #expect(b.totals.total == 250)
        #expect(b.lines.count == 2)
        #expect(b.activeLines.count == 1)
        #expect(throws: SaleError.lineAlreadyVoided(1)) { try b.apply(.voidLine(number: 1)) }
        #expect(throws: SaleError.noSuchLine(3, count: 2)) { try b.apply(.voidLine(number: 3)) }
    }

    @Test func nothingChangesOnceThePaymentHasStarted() throws {
        var b = try workedExample()
        try b.apply(.addTender(tender: Tender(kind: .card, amount: 100)))
        #expect(throws: SaleError.paymentStarted) { try b.apply(.addLine(item: item("X", 1))) }
        #expect(throws: SaleError.paymentStarted) { try b.apply(.voidLine(number: 1)) }
        #expect(throws: SaleError.paymentStarted) { try b.apply(.discountSale(discount: .amount(minor: 1))) }
    }

    @Test func priceOverflowIsRefused() throws {
        var b = Basket(currency: .eur)
        #expect(throws: SaleError.amountTooLarge(item: "Gold")) {
            try b.apply(.addLine(item: item("Gold", Int64.max / 2, qty: 9_999_000)))
        }
        try b.apply(.addLine(item: item("Bar", Money.maximumMinor)))
        #expect(throws: SaleError.amountTooLarge(item: "this sale")) {
            try b.apply(.addLine(item: item("Bar", Money.maximumMinor)))
        }
        #expect(b.lines.count == 1)
    }

    @Test func replayingEventsRebuildsTheSameBasket() throws {
        let b = try workedExample()
        var events: [BasketEvent] = b.lines.map { .addLine(item: $0.item) }
        events += [.discountLine(number: 4, discount: .percent(basisPoints: 1000)),
                   .discountLine(number: 5, discount: .amount(minor: 100)),
                   .discountSale(discount: .percent(basisPoints: 500))]
        #expect(try Basket(currency: .eur, replaying: events) == b)
    }

    /// A replay (done in place) checks each event as `apply` does: thousands of random event
    /// lists, many of them wrong somewhere (a void of no line, a tender before any line, amounts
    /// that overflow, a discount above the value), rebuild the same basket or fail with the same
    /// error at the same event as applying them one by one.
    @Test func aReplayChecksEveryEventAsApplyingItDoes() throws {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(n))
        }
        let prices: [Int64] = [1, 99, 1_000, 123_457, 1_000, 250, 0, Money.maximumMinor / 3, Money.maximumMinor]
        // Mostly everyday amounts, now and then one at or past the bounds.
        func price() -> Int64 { prices[next(10) < 8 ? next(6) : 6 + next(3)] }
        let customer = SaleCustomer(cardNumber: "1", customerID: "M1", name: "Anna", tierCode: nil, tierName: nil, balance: 5_000, qualifying: 0,
                                    offlineLeft: nil, provisional: false)
        var outcomes: [String: Int] = [:]
        for _ in 0..<3_000 {
            var events: [BasketEvent] = []
            for _ in 0..<(1 + next(10)) {
                switch next(13) {
                case 0, 1, 2, 3, 4, 5: events.append(.addLine(item: item("P\(next(5))", price(), qty: next(20) == 0 ? -1000 : Int64(1 + next(3)) * 1000,
                                                          rate: next(2) == 0 ? rateA : rateB)))
                case 6: events.append(.voidLine(number: 1 + next(5)))
                case 7: events.append(.discountSale(discount: next(2) == 0 ? .percent(basisPoints: Int64(next(12_000))) : .amount(minor: price())))
                case 8: events.append(.identifyCustomer(customer: customer))
                case 9: events.append(.addTender(tender: Tender(kind: [.cash, .card, .points][next(3)], amount: price(),
                                                                points: Points(Int64(next(100))))))
                case 10: events.append(.discountLine(number: 1 + next(5), discount: next(2) == 0 ? .percent(basisPoints: Int64(next(12_000))) : .amount(minor: price())))
                case 11: events.append(.removeLastTender)
                default: events.append(.changeQuantity(number: 1 + next(5), quantity: Quantity(milli: Int64(next(4)) * 1000)))
                }
            }
            var oneByOne = Basket(currency: .eur)
            var failed: SaleError?
            for e in events {
                do { try oneByOne.apply(e) } catch { failed = error; break }
            }
            do {
                let replayed = try Basket(currency: .eur, replaying: events)
                #expect(failed == nil && replayed == oneByOne, "\(events)")
                outcomes["rebuilt", default: 0] += 1
            } catch {
                #expect(error == failed, "\(events)")
                outcomes["refused", default: 0] += 1
            }
        }
        // Both kinds are common, so the comparison means something either way.
        #expect((outcomes["rebuilt"] ?? 0) > 300 && (outcomes["refused"] ?? 0) > 300, "\(outcomes)")
    }

    @Test func keyedDiscounts() throws {
        #expect(try Discount.parseKeyed("10%", currency: .eur) == .percent(basisPoints: 1000))
        #expect(try Discount.parseKeyed("12.5%", currency: .eur) == .percent(basisPoints: 1250))
        #expect(try Discount.parseKeyed("150", currency: .eur) == .amount(minor: 150))
        #expect(try Discount.parseKeyed("1.50", currency: .eur) == .amount(minor: 150))
        #expect(throws: SaleError.invalidDiscount("150%")) { try Discount.parseKeyed("150%", currency: .eur) }
        #expect(throws: SaleError.invalidDiscount("abc")) { try Discount.parseKeyed("abc", currency: .eur) }
    }
}

@Suite("Making lines from products")
struct LineItemTests {
    let milk = Product(sku: "M1", barcodes: ["4006381333931"], plu: "7", description: "Milk", unitPrice: 119, taxCode: "B")
    let apples = Product(sku: "AP", plu: "42", description: "Apples", unitPrice: 299, taxCode: "B", soldByWeight: true)

    @Test func keyedQuantityMultipliesAUnitItem() throws {
        let l = try LineItem.make(product: milk, code: .gtin("4006381333931"), keyedQuantity: .units(3), taxRate: rateB)
        #expect(l.quantity == .units(3))
        #expect(l.unitPrice == 119)
        #expect(l.taxBasisPoints == 500)
        #expect(l.code == "4006381333931")
    }

    @Test func unitItemsNeedWholeQuantities() {
        #expect(throws: SaleError.quantityNotWhole(item: "Milk", quantity: Quantity(milli: 1500))) {
            try LineItem.make(product: milk, code: nil, keyedQuantity: Quantity(milli: 1500), taxRate: rateB)
        }
    }

    @Test("quantity must be 1 to 9999", arguments: [Int64(0), 10_000_000])
    func quantityRange(milli: Int64) {
        #expect(throws: SaleError.quantityOutOfRange(Quantity(milli: milli).description)) {
            try LineItem.make(product: milk, code: nil, keyedQuantity: Quantity(milli: milli), taxRate: rateB)
        }
    }

    @Test func weighedItemNeedsAWeight() {
        #expect(throws: SaleError.weightRequired(item: "Apples")) {
            try LineItem.make(product: apples, code: .plu("42"), keyedQuantity: nil, taxRate: rateB)
        }
    }

    @Test func weighedItemWithKeyedWeight() throws {
        let l = try LineItem.make(product: apples, code: .plu("42"), keyedQuantity: Quantity(milli: 750), taxRate: rateB)
        #expect(l.quantity.milli == 750)
        var b = Basket(currency: .eur)
        try b.apply(.addLine(item: l))
        #expect(b.totals.total == 224) // 2.99 × 0.750 = 2.2425
    }

    @Test func weightLabelGivesTheQuantity() throws {
        let l = try LineItem.make(product: apples, code: .weightEmbedded(plu: "42", grams: 1250, code: "2100042012509"),
                                  keyedQuantity: nil, taxRate: rateB)
        #expect(l.quantity.milli == 1250)
        var b = Basket(currency: .eur)
        try b.apply(.addLine(item: l))
        #expect(b.totals.total == 374) // 2.99 × 1.25 = 3.7375
    }

    @Test func weightLabelOnUnitItemIsRefused() {
        #expect(throws: SaleError.weightOnUnitItem(code: "2100007012503", item: "Milk")) {
            try LineItem.make(product: milk, code: .weightEmbedded(plu: "7", grams: 1250, code: "2100007012503"),
                              keyedQuantity: nil, taxRate: rateB)
        }
    }

    @Test func priceLabelOverridesCatalogPrice() throws {
        let l = try LineItem.make(product: apples, code: .priceEmbedded(plu: "42", price: 995, code: "2300042009953"),
                                  keyedQuantity: nil, taxRate: rateB)
        #expect(l.unitPrice == 995)
        #expect(l.quantity == .one)
        #expect(l.priceFromLabel)
        #expect(!l.soldByWeight)
    }
}

extension Basket {
    func basketValidates(_ t: Tender, split: Bool) throws { try validateTender(t, split: split) }
}

@Suite("Open and completed sales")
struct SaleTests {
    let till = TillIdentity(storeID: "0001", storeName: "Demo", tillID: "01", currency: .eur)

    @Test func receiptNumberIsStoreTillSequence() {
        #expect(till.receiptNumber(sequence: 42) == "0001-01-000042")
        #expect(till.receiptNumber(sequence: 1_234_567) == "0001-01-1234567")
    }

    @Test func completingRequiresFullPayment() throws {
        var s = OpenSale(id: "u1", startedAt: 1_000, cashier: Cashier(number: "1", name: "Ann"), currency: .eur)
        s = try s.trying(.addLine(item: item("X", 500)))
        #expect(throws: SaleError.notFullyPaid(due: Money(minor: 500, currency: .eur))) {
            try s.complete(sequence: 1, at: 2_000, till: till)
        }
        s = try s.trying(.addTender(tender: Tender(kind: .cash, amount: 1000)))
        let done = try s.complete(sequence: 7, at: 2_000, till: till)
        #expect(done.receiptNumber == "0001-01-000007")
        #expect(done.totals.change == 500)
        #expect(s.events.count == 2)
    }

    @Test func tryingDoesNotChangeTheSaleOnError() throws {
        let s = OpenSale(id: "u1", startedAt: 1_000, cashier: Cashier(number: "1", name: "Ann"), currency: .eur)
        #expect(throws: SaleError.noLines) { try s.trying(.addTender(tender: Tender(kind: .cash, amount: 1))) }
        #expect(s.events.isEmpty)
    }
}
