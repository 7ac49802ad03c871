public import TillCore

/// Sales as the controller would ring them up: random lines from the demo range, a loyalty card on
/// most (points earned by the demo programme, sometimes some redeemed), cash. Deterministic for a
/// seed. For benchmarks and tests; the till database they go into is the caller's.
public struct DemoSales: Sendable {
    public let till: TillIdentity
    public let programme: LoyaltyProgramme
    /// The member cards used (the demo's, 1…`cards`).
    public let cards: Int
    /// Who rings the sales up (with `variety`, each sale one of them in turn at random).
    public var cashiers: [Cashier] = [DemoCatalog.cashier]
    /// Sales as a real day has them: a few seconds to a minute and a half each, some lines voided,
    /// some prices overridden, some sales discounted, some paid by card. Off: the plain sales the
    /// benchmarks and older tests were written for (the same for a seed as before).
    public var variety = false
    /// Unissued cards to give new members during sales (with `variety`, one sale in 25 until they run out).
    public var cardsToIssue: [String] = []
    /// Items that bring another into the basket (a planted association, for the cross-sell mining's
    /// tests): a sale with the item also has its companion `percent` times in a hundred.
    public var companions: [String: (sku: String, percent: UInt64)] = [:]
    /// Time between one sale and the next (milliseconds).
    public var step: Int64 = 60_000
    var rng: SplitMix64
    var clock: Int64
    let products = DemoCatalog.featured.filter { !$0.soldByWeight }

    public init(till: TillIdentity = TillIdentity(storeID: "0001", storeName: "Demo Store", tillID: "01", currency: .eur),
                programme: LoyaltyProgramme = DemoCatalog.programme, cards: Int = 20, seed: UInt64 = 1, start: Int64 = 1_795_000_000_000) {
        self.till = till
        self.programme = programme
        self.cards = cards
        rng = SplitMix64(seed: seed)
        clock = start
    }

    /// Rings up `count` sales, points redeemed on every `redeemEvery`th (0: never): each card is
    /// found by `lookup` and each sale committed by `commit` (a till database's, as the till's
    /// controller commits). Returns them as committed.
    public mutating func ring(
        _ count: Int, redeemEvery: Int = 5, lookup: (String, Timestamp) throws -> SaleCustomer?,
        commit: (OpenSale, LoyaltyOutcome?, Timestamp) throws -> CompletedSale
    ) throws -> [CompletedSale] {
        var out: [CompletedSale] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            let (sale, loyalty, time) = try next(redeem: redeemEvery > 0 && i % redeemEvery == 0, lookup: lookup)
            out.append(try commit(sale, loyalty, time))
        }
        return out
    }

    /// The next sale, paid, not yet committed: random lines from the demo range, a member card on
    /// most (found by `lookup`), points redeemed when `redeem`, the rest in cash. Returns the sale,
    /// its loyalty outcome and its completion time.
    public mutating func next(
        redeem: Bool, lookup: (String, Timestamp) throws -> SaleCustomer?
    ) throws -> (OpenSale, LoyaltyOutcome?, Timestamp) {
        clock += step
        let cashier = variety ? cashiers[Int(rng.next() % UInt64(max(1, cashiers.count)))] : cashiers.first ?? DemoCatalog.cashier
        let started = variety ? clock - 5_000 - Int64(rng.next() % 85_000) : clock
        var sale = OpenSale(id: SaleID.make(at: clock), startedAt: started, cashier: cashier, currency: till.currency)
        for _ in 0..<(1 + Int(rng.next() % 6)) {
            let p = products[Int(rng.next() % UInt64(products.count))]
            sale = try sale.trying(.addLine(item: LineItem(
                sku: p.sku, description: p.description, category: p.category, taxCode: p.taxCode,
                taxBasisPoints: standardTaxRates[p.taxCode]?.basisPoints ?? 0, unitPrice: p.unitPrice,
                quantity: .units(1 + Int64(rng.next() % 3)), code: p.barcodes.first ?? p.plu)))
        }
        for line in sale.basket.lines {
            guard let (sku, percent) = companions[line.item.sku], rng.next() % 100 < percent, let p = products.first(where: { $0.sku == sku }),
                  !sale.basket.lines.contains(where: { $0.item.sku == sku }) else { continue }
            sale = try sale.trying(.addLine(item: LineItem(
                sku: p.sku, description: p.description, category: p.category, taxCode: p.taxCode,
                taxBasisPoints: standardTaxRates[p.taxCode]?.basisPoints ?? 0, unitPrice: p.unitPrice, quantity: .units(1), code: p.barcodes.first ?? p.plu)))
        }
        if variety {
            let lines = sale.basket.lines.count
            if lines >= 2 && rng.next() % 6 == 0 { sale = try sale.trying(.voidLine(number: 1)) }
            if rng.next() % 8 == 0, let last = sale.basket.lines.last, !last.voided {
                sale = try sale.trying(.overridePrice(number: last.number, unitPrice: max(1, last.item.unitPrice * 9 / 10), reason: "damaged"))
            }
            if rng.next() % 7 == 0 { sale = try sale.trying(.discountSale(discount: .percent(basisPoints: 500), reason: "staff")) }
        }
        var customer: SaleCustomer?
        if variety, !cardsToIssue.isEmpty, rng.next() % 25 == 0 {
            // A new member: the card issued with this sale (as the till's registration form does).
            let card = cardsToIssue.removeFirst()
            let first = programme.tier(for: 0)
            let r = Registration(cardNumber: card, firstName: "New", lastName: "Member \(card.suffix(4))", phone: nil,
                                 email: "new\(card.suffix(6))@example.com", postcode: nil, birthDate: nil, marketingConsent: false, registeredAt: clock)
            let c = SaleCustomer(cardNumber: card, customerID: card, name: "New Member", tierCode: first?.code, tierName: first?.name, balance: 0,
                                 qualifying: 0, offlineLeft: programme.redemption.offlineCapPoints, provisional: true, registration: r)
            customer = c
            sale = try sale.trying(.identifyCustomer(customer: c))
        } else if rng.next() % 5 != 0 {
            // Cards 3 and 4 of the demo are blocked and lost: skip them.
            var n = 1 + Int(rng.next() % UInt64(cards))
            if n == 3 || n == 4 { n = 1 }
            if let c = try lookup(DemoCatalog.cardNumber(n), clock) {
                customer = c
                sale = try sale.trying(.identifyCustomer(customer: c))
                // The member's offers that take money off, as the till's screen applies them.
                let discounts = c.offers.filter { [clock, till] o in o.givesDiscount && o.uses > 0 && o.isValid(at: clock, store: till.storeID) }
                if !discounts.isEmpty { sale = try sale.trying(.useOffers(offers: discounts)) }
            }
        }
        if let c = customer, redeem {
            let t = sale.basket.totals
            let limit = programme.redemptionLimit(available: min(c.balance, c.offlineLeft ?? c.balance), total: t.total, due: t.due)
            if limit > 0, let points = programme.points(forAmount: limit), points >= programme.redemption.minimumPoints,
               points <= c.balance, points <= (c.offlineLeft ?? points) {
                sale = try sale.trying(.addTender(tender: Tender(kind: .points, amount: limit, points: points)))
            }
        }
        let byCard = variety && rng.next() % 3 == 0
        sale = try sale.trying(.addTender(tender: Tender(kind: byCard ? .card : .cash, amount: sale.basket.totals.due)))
        let loyalty = customer.map {
            programme.outcome(for: sale.basket, customer: $0, context: EarnContext(
                time: LocalDateTime(minutes: clock / 60_000), storeID: till.storeID, tierCode: $0.tierCode, priorPurchases: $0.priorPurchases,
                offers: $0.offers.filter { [clock, till] o in o.uses > 0 && o.isValid(at: clock, store: till.storeID) }), saleID: sale.id)
        }
        return (sale, loyalty, clock)
    }
}
