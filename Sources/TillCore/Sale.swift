/// Milliseconds since 1970-01-01T00:00:00Z. The core keeps time as a plain number; the edges
/// turn it into dates.
public typealias Timestamp = Int64

/// A person who signs on to the till.
public struct Cashier: Hashable, Sendable, Codable {
    public var number: String
    public var name: String
    public var role: Role

    public enum Role: String, Hashable, Sendable, Codable, CaseIterable {
        case cashier, supervisor, manager
    }

    public init(number: String, name: String, role: Role = .cashier) {
        self.number = number
        self.name = name
        self.role = role
    }
}

/// Where a sale happens.
public struct TillIdentity: Hashable, Sendable {
    public var storeID: String
    public var storeName: String
    public var tillID: String
    public var currency: Currency

    public init(storeID: String, storeName: String, tillID: String, currency: Currency) {
        self.storeID = storeID
        self.storeName = storeName
        self.tillID = tillID
        self.currency = currency
    }

    /// The receipt number printed (and encoded as a barcode) for a sale: store-till-sequence.
    public func receiptNumber(sequence: Int64) -> String {
        let s = String(sequence)
        return "\(storeID)-\(tillID)-" + String(repeating: "0", count: max(0, 6 - s.count)) + s
    }
}

/// A sale being rung up: its identity, who rings it, and the events that make its basket.
public struct OpenSale: Sendable, Hashable {
    /// UUID of the sale: its idempotency key from the first item to head office.
    public let id: String
    public let startedAt: Timestamp
    public let cashier: Cashier
    public private(set) var events: [BasketEvent]
    public private(set) var basket: Basket

    public init(id: String, startedAt: Timestamp, cashier: Cashier, currency: Currency) {
        self.id = id
        self.startedAt = startedAt
        self.cashier = cashier
        self.events = []
        self.basket = Basket(currency: currency)
    }

    /// Rebuilds an interrupted sale from its recorded events.
    public init(
        id: String, startedAt: Timestamp, cashier: Cashier, currency: Currency, events: [BasketEvent]
    ) throws(SaleError) {
        self.init(id: id, startedAt: startedAt, cashier: cashier, currency: currency)
        self.basket = try Basket(currency: currency, replaying: events)
        self.events = events
    }

    /// The same sale, carried on by another cashier (who answers for it from now on).
    public func takenOver(by cashier: Cashier) -> OpenSale {
        var next = OpenSale(id: id, startedAt: startedAt, cashier: cashier, currency: basket.currency)
        next.events = events
        next.basket = basket
        return next
    }

    /// The basket this event would produce, without changing the sale.
    public func trying(_ event: BasketEvent) throws(SaleError) -> OpenSale {
        var next = self
        try next.basket.apply(event)
        next.events.append(event)
        return next
    }

    /// Finishes the sale; it must be paid in full.
    public func complete(sequence: Int64, at time: Timestamp, till: TillIdentity, loyalty: LoyaltyOutcome? = nil) throws(SaleError) -> CompletedSale {
        guard !basket.activeLines.isEmpty else { throw .noLines }
        guard basket.isPaid else { throw .notFullyPaid(due: basket.money(basket.totals.due)) }
        return CompletedSale(
            id: id, sequence: sequence, receiptNumber: till.receiptNumber(sequence: sequence), till: till,
            cashier: cashier, startedAt: startedAt, completedAt: time, basket: basket, loyalty: loyalty)
    }
}

/// A completed, paid sale as it goes into the journal. Immutable.
public struct CompletedSale: Sendable, Hashable {
    public let id: String
    public let sequence: Int64
    public let receiptNumber: String
    public let till: TillIdentity
    public let cashier: Cashier
    public let startedAt: Timestamp
    public let completedAt: Timestamp
    public let basket: Basket
    /// What the sale did for its loyalty member, if a card was scanned.
    public let loyalty: LoyaltyOutcome?

    public var totals: BasketTotals { basket.totals }

    public init(
        id: String, sequence: Int64, receiptNumber: String, till: TillIdentity, cashier: Cashier, startedAt: Timestamp,
        completedAt: Timestamp, basket: Basket, loyalty: LoyaltyOutcome? = nil
    ) {
        self.loyalty = loyalty
        self.id = id
        self.sequence = sequence
        self.receiptNumber = receiptNumber
        self.till = till
        self.cashier = cashier
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.basket = basket
    }
}
