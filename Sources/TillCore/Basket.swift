/// What goes onto a sale line: a snapshot of the product as sold, so that a sale never
/// changes when the catalog does.
public struct LineItem: Hashable, Sendable, Codable {
    public var sku: String
    public var description: String
    public var category: String
    public var taxCode: String
    public var taxBasisPoints: Int64
    /// VAT-inclusive price per unit (per kg when sold by weight), in minor units.
    public var unitPrice: Int64
    public var quantity: Quantity
    public var soldByWeight: Bool
    /// The code scanned or keyed for this line (GTIN, PLU or in-store label).
    public var code: String?
    /// True when the price came from an in-store price label rather than the catalog.
    public var priceFromLabel: Bool
    /// The unit price before a price override changed it (nil: not overridden).
    public var listPrice: Int64?
    /// Why the price was overridden (one of the till's configured reasons).
    public var overrideReason: String?

    public init(
        sku: String, description: String, category: String = "", taxCode: String, taxBasisPoints: Int64,
        unitPrice: Int64, quantity: Quantity, soldByWeight: Bool = false, code: String? = nil,
        priceFromLabel: Bool = false, listPrice: Int64? = nil, overrideReason: String? = nil
    ) {
        self.listPrice = listPrice
        self.overrideReason = overrideReason
        self.sku = sku
        self.description = description
        self.category = category
        self.taxCode = taxCode
        self.taxBasisPoints = taxBasisPoints
        self.unitPrice = unitPrice
        self.quantity = quantity
        self.soldByWeight = soldByWeight
        self.code = code
        self.priceFromLabel = priceFromLabel
    }

    /// Builds the line for a product found by `code`, applying the quantity the cashier keyed
    /// (`N *`) and the rules for weighed items and in-store labels.
    public static func make(
        product: Product, code: ProductCode?, keyedQuantity: Quantity?, taxRate: TaxRate
    ) throws(SaleError) -> LineItem {
        var quantity: Quantity
        var price = product.unitPrice
        var soldByWeight = product.soldByWeight
        var fromLabel = false
        var codeText: String?
        switch code {
        case .weightEmbedded(_, let grams, let c):
            guard keyedQuantity == nil else { throw .quantityWithWeighedLabel(code: c) }
            guard product.soldByWeight else { throw .weightOnUnitItem(code: c, item: product.description) }
            quantity = Quantity(milli: grams)
            codeText = c
        case .priceEmbedded(_, let labelPrice, let c):
            quantity = keyedQuantity ?? .one
            price = labelPrice
            soldByWeight = false // the label priced the pack: it sells as one unit
            fromLabel = true
            codeText = c
        case .gtin(let g):
            quantity = keyedQuantity ?? .one
            codeText = g
        case .plu(let p):
            quantity = keyedQuantity ?? .one
            codeText = p
        case nil:
            quantity = keyedQuantity ?? .one
        }
        if soldByWeight {
            var weighedByLabel = false
            if case .weightEmbedded = code { weighedByLabel = true }
            if !weighedByLabel && keyedQuantity == nil { throw .weightRequired(item: product.description) }
        } else if !quantity.isWhole {
            throw .quantityNotWhole(item: product.description, quantity: quantity)
        }
        guard quantity.milli > 0, quantity <= .maximum else { throw .quantityOutOfRange(quantity.description) }
        return LineItem(
            sku: product.sku, description: product.description, category: product.category,
            taxCode: taxRate.code, taxBasisPoints: taxRate.basisPoints, unitPrice: price,
            quantity: quantity, soldByWeight: soldByWeight, code: codeText, priceFromLabel: fromLabel
        )
    }
}

/// A line on the sale: what was sold, its discount and whether it was voided.
public struct BasketLine: Hashable, Sendable {
    /// 1-based line number as shown to the cashier; never reused within a sale.
    public var number: Int
    public var item: LineItem
    /// Price × quantity, rounded (see `MinorUnits`), before discounts.
    public var amount: Int64
    public var discount: Discount?
    /// Why the discount was given (chosen from the till's list), if it was asked.
    public var discountReason: String?
    public var voided: Bool
}

/// A change to an open sale. The sale is the result of applying its events in order, which is
/// how an interrupted sale is rebuilt after a restart.
public enum BasketEvent: Hashable, Sendable, Codable {
    case addLine(item: LineItem)
    case voidLine(number: Int)
    case discountLine(number: Int, discount: Discount, reason: String? = nil)
    case discountSale(discount: Discount, reason: String? = nil)
    /// A new unit price for a line (a price override, authorised by a supervisor), and why.
    case overridePrice(number: Int, unitPrice: Int64, reason: String? = nil)
    /// A new quantity for a line already rung (items sold by the unit, not priced by a label).
    case changeQuantity(number: Int, quantity: Quantity)
    case addTender(tender: Tender)
    /// The last tender taken off (the customer pays another way); the sale is not cancelled.
    case removeLastTender
    /// The sale is for this loyalty member (a card was scanned, or issued and registered).
    case identifyCustomer(customer: SaleCustomer)
    /// The card is taken off the sale (scanned by mistake).
    case removeCustomer
    /// The member's offers that take money off (a percent, an amount, a free item) apply to the
    /// sale, in this order, to the lines as they are and as they change (none: `[]`).
    case useOffers(offers: [PersonalOffer])
}

/// The sale being rung up: lines, discounts and tenders, with totals always up to date.
///
/// Every mutation goes through `apply(_:)`, which either applies the event completely or
/// throws and leaves the basket exactly as it was.
public struct Basket: Sendable, Hashable {
    public let currency: Currency
    public private(set) var lines: [BasketLine] = []
    public private(set) var saleDiscount: Discount?
    public private(set) var saleDiscountReason: String?
    public private(set) var tenders: [Tender] = []
    public private(set) var totals: BasketTotals = .empty
    /// The loyalty member, once their card is scanned.
    public private(set) var customer: SaleCustomer?
    /// The member's offers that take money off this sale (`useOffers`).
    public private(set) var offers: [PersonalOffer] = []

    public init(currency: Currency) { self.currency = currency }

    /// Rebuilds a basket from its events, each checked as `apply` checks it, totals and all.
    /// In place: a replay that throws leaves no basket, so no event needs the copy `apply` keeps
    /// to undo it (head office replays every sale it receives: copying the basket at each event
    /// was a quarter of the replay).
    ///
    /// The lines a replay starts with are added without totalling the basket after each: while
    /// nothing but lines has been added, totalling can only fail on the lines' sum, which is
    /// checked line by line against the same bound instead, failing at the same line with the
    /// same error. The basket is totalled once they are in.
    public init(currency: Currency, replaying events: [BasketEvent]) throws(SaleError) {
        self.init(currency: currency)
        var onlyLines = true, sum: Int64 = 0
        for e in events {
            if onlyLines, case .addLine = e {
                try applyUnchecked(e)
                let (s, overflow) = sum.addingReportingOverflow(lines[lines.count - 1].amount)
                guard !overflow, s <= Money.maximumMinor, s >= -Money.maximumMinor else { throw .amountTooLarge(item: "this sale") }
                sum = s
                continue
            }
            if onlyLines {
                onlyLines = false
                totals = try BasketTotals.compute(self)
            }
            try applyUnchecked(e)
            totals = try BasketTotals.compute(self)
        }
        if onlyLines { totals = try BasketTotals.compute(self) }
    }

    public var isEmpty: Bool { lines.isEmpty }
    public var activeLines: [BasketLine] { lines.filter { !$0.voided } }
    public var paymentStarted: Bool { !tenders.isEmpty }
    /// True when the sale has items and is paid in full.
    public var isPaid: Bool { !activeLines.isEmpty && totals.paid >= totals.total }

    /// Applies one event, or throws and leaves the basket unchanged.
    public mutating func apply(_ event: BasketEvent) throws(SaleError) {
        var next = self
        try next.applyUnchecked(event)
        next.totals = try BasketTotals.compute(next)
        self = next
    }

    private mutating func applyUnchecked(_ event: BasketEvent) throws(SaleError) {
        switch event {
        case .addLine(let item):
            guard tenders.isEmpty else { throw .paymentStarted }
            guard let amount = MinorUnits.mulDivRounded(item.unitPrice, item.quantity.milli, 1000),
                  amount <= Money.maximumMinor, item.unitPrice >= 0
            else { throw .amountTooLarge(item: item.description) }
            lines.append(BasketLine(number: lines.count + 1, item: item, amount: amount, discount: nil, discountReason: nil, voided: false))
        case .voidLine(let n):
            guard tenders.isEmpty else { throw .paymentStarted }
            let i = try index(ofLine: n)
            lines[i].voided = true
            lines[i].discount = nil
            lines[i].discountReason = nil
        case .discountLine(let n, let discount, let reason):
            guard tenders.isEmpty else { throw .paymentStarted }
            let i = try index(ofLine: n)
            if discount.isZero { lines[i].discount = nil; lines[i].discountReason = nil; return }
            let value = lines[i].amount
            guard let off = discount.amount(of: value), off <= value else {
                throw .discountAboveLineValue(
                    discount: money(discount.amount(of: value) ?? Money.maximumMinor), line: n, value: money(value))
            }
            lines[i].discount = discount
            lines[i].discountReason = reason
        case .overridePrice(let n, let price, let reason):
            guard tenders.isEmpty else { throw .paymentStarted }
            let i = try index(ofLine: n)
            guard price >= 0, price <= Money.maximumMinor,
                  let amount = MinorUnits.mulDivRounded(price, lines[i].item.quantity.milli, 1000), amount <= Money.maximumMinor
            else { throw .amountTooLarge(item: lines[i].item.description) }
            lines[i].item.listPrice = lines[i].item.listPrice ?? lines[i].item.unitPrice
            lines[i].item.overrideReason = reason
            lines[i].item.unitPrice = price
            lines[i].item.priceFromLabel = false
            lines[i].amount = amount
            if let d = lines[i].discount, (d.amount(of: amount) ?? Int64.max) > amount { lines[i].discount = nil; lines[i].discountReason = nil }
        case .changeQuantity(let n, let quantity):
            guard tenders.isEmpty else { throw .paymentStarted }
            let i = try index(ofLine: n)
            let item = lines[i].item
            guard !item.soldByWeight, !item.priceFromLabel else { throw .quantityFixed(line: n, item: item.description) }
            guard quantity.milli > 0, quantity <= .maximum else { throw .quantityOutOfRange(quantity.description) }
            guard quantity.isWhole else { throw .quantityNotWhole(item: item.description, quantity: quantity) }
            guard let amount = MinorUnits.mulDivRounded(item.unitPrice, quantity.milli, 1000), amount <= Money.maximumMinor
            else { throw .amountTooLarge(item: item.description) }
            lines[i].item.quantity = quantity
            lines[i].amount = amount
            if let d = lines[i].discount, (d.amount(of: amount) ?? Int64.max) > amount { lines[i].discount = nil; lines[i].discountReason = nil }
        case .discountSale(let discount, let reason):
            guard tenders.isEmpty else { throw .paymentStarted }
            guard !activeLines.isEmpty else { throw .noLines }
            saleDiscount = discount.isZero ? nil : discount
            saleDiscountReason = discount.isZero ? nil : reason
        case .identifyCustomer(let c):
            if tenders.contains(where: { $0.kind == .points }) { throw .paymentStarted }
            if c.customerID != customer?.customerID || c.cardNumber != customer?.cardNumber {
                // Another member: the last one's offers are not theirs.
                if !offers.isEmpty && !tenders.isEmpty { throw .paymentStarted }
                offers = []
            }
            customer = c
        case .removeCustomer:
            guard let c = customer else { throw .noCustomer }
            if !tenders.isEmpty { throw .paymentStarted }
            if c.registration != nil { throw .cardIssuedInSale }
            customer = nil
            offers = []
        case .useOffers(let list):
            guard tenders.isEmpty else { throw .paymentStarted }
            guard customer != nil || list.isEmpty else { throw .noCustomer }
            offers = list.filter(\.givesDiscount)
        case .addTender(let tender):
            guard !activeLines.isEmpty else { throw .noLines }
            if tender.kind == .points && customer == nil { throw .noCustomer }
            let due = totals.due
            guard due > 0 else { throw .alreadyPaid }
            guard tender.amount > 0 else { throw .zeroTender(kind: tender.kind) }
            guard tender.amount <= Money.maximumMinor else { throw .invalidAmount(String(tender.amount)) }
            if !tender.kind.givesChange && tender.amount > due {
                throw .tenderAboveDue(kind: tender.kind, amount: money(tender.amount), due: money(due))
            }
            tenders.append(tender)
        case .removeLastTender:
            guard !tenders.isEmpty else { throw .noTender }
            tenders.removeLast()
        }
    }

    /// Checks a tender the cashier keyed before it is applied: without split mode a tender
    /// must cover what is due.
    public func validateTender(_ tender: Tender, split: Bool) throws(SaleError) {
        guard !activeLines.isEmpty else { throw .noLines }
        let due = totals.due
        guard due > 0 else { throw .alreadyPaid }
        guard tender.amount > 0 else { throw .zeroTender(kind: tender.kind) }
        if !tender.kind.givesChange && tender.amount > due {
            throw .tenderAboveDue(kind: tender.kind, amount: money(tender.amount), due: money(due))
        }
        if !split && tender.amount < due {
            throw .tenderLessThanDue(kind: tender.kind, amount: money(tender.amount), due: money(due))
        }
    }

    private func index(ofLine n: Int) throws(SaleError) -> Int {
        guard n >= 1, n <= lines.count else { throw .noSuchLine(n, count: lines.count) }
        guard !lines[n - 1].voided else { throw .lineAlreadyVoided(n) }
        return n - 1
    }

    public func money(_ minor: Int64) -> Money { Money(minor: minor, currency: currency) }
}
