/// Finds products by what the cashier scans or keys.
public protocol ProductCatalog: Sendable {
    /// The product with this normalised GTIN, if any.
    func product(gtin: String) throws -> Product?
    /// The product with this normalised PLU, if any.
    func product(plu: String) throws -> Product?
    /// Products whose description or category holds every word of `text` (the start of a word,
    /// any order, any case), by description: one page, and how many match in all.
    func searchProducts(_ text: String, limit: Int, offset: Int) throws -> (products: [Product], total: Int)
    /// What customers who buy the item also buy (head office's cross-sell suggestions), best first.
    func suggestions(for sku: String) throws -> [Product]
}

extension ProductCatalog {
    public func suggestions(for sku: String) throws -> [Product] { [] }
}

/// Checks who may sign on.
public protocol CashierDirectory: Sendable {
    /// The cashier with this number and PIN, or nil when either is wrong.
    func authenticate(number: String, pin: String) throws -> Cashier?
    /// Signing on: the PIN is checked and wrong ones are counted for the number; the
    /// `maxAttempts`-th wrong one in a row locks the number until a supervisor unlocks it (0: never
    /// locks). A right PIN resets the count. Kept on disk: a restart does not reset it.
    func signOn(number: String, pin: String, maxAttempts: Int, at time: Timestamp) throws -> SignOnOutcome
    /// Unlocks a number locked after wrong PINs.
    func unlock(number: String) throws
}

/// What a sign-on attempt came to.
public enum SignOnOutcome: Hashable, Sendable {
    case signedOn(Cashier)
    /// Wrong number or PIN; `attemptsLeft` before the number locks (nil: it never does).
    case wrong(attemptsLeft: Int?)
    /// The number is locked after wrong PINs: a supervisor unlocks it.
    case locked
}

/// A sale put aside to be resumed later.
public struct SuspendedSale: Hashable, Sendable {
    public var id: Int64
    public var saleID: String
    public var suspendedAt: Timestamp
    public var cashierName: String
    public var itemCount: Int64
    public var total: Int64

    public init(id: Int64, saleID: String, suspendedAt: Timestamp, cashierName: String, itemCount: Int64, total: Int64) {
        self.id = id
        self.saleID = saleID
        self.suspendedAt = suspendedAt
        self.cashierName = cashierName
        self.itemCount = itemCount
        self.total = total
    }
}

/// The till's durable record of sales.
///
/// Contract: every method is atomic. `commit` writes the sale, its lines, tenders, VAT and the
/// outbox row in one durable (fsync'd) transaction, and removes the open sale in the same
/// transaction, so after a crash a sale is either completely in the journal or still open —
/// never both, never half.
public protocol SaleJournal: Sendable {
    /// Records the last event of `sale.events` so the open sale survives a restart.
    func recordEvent(of sale: OpenSale) throws
    /// The sale that was open when the till stopped, rebuilt from its events.
    func openSale(currency: Currency) throws -> OpenSale?
    /// Completes a paid sale: assigns the next sequence number and journals it durably, together
    /// with its loyalty (registration, points movements) and the print job `receipt` builds for
    /// it (nil: nothing to print).
    func commit(
        _ sale: OpenSale, at time: Timestamp, till: TillIdentity, loyalty: LoyaltyOutcome?,
        receipt: (CompletedSale) -> PrintJobDraft?
    ) throws -> CompletedSale
    /// Forgets the open sale without a trace in the journal: only for a sale with no lines (a
    /// card scanned on an empty sale, then the cashier signed off).
    func discardOpenSale(_ id: String) throws
    /// Records that `sale` (the open sale) is now rung by its `cashier`.
    func takeOver(_ sale: OpenSale) throws
    /// Puts the open sale aside.
    func suspend(_ sale: OpenSale, at time: Timestamp) throws
    func suspendedSales() throws -> [SuspendedSale]
    /// Takes a suspended sale back as the open sale.
    func resume(_ suspended: SuspendedSale, cashier: Cashier, currency: Currency) throws -> OpenSale
    /// Abandons the open sale; it is kept for audit, never journalled as a sale. A card issued
    /// during the sale (`member`) is registered in the same transaction, so cancelling a sale never
    /// loses a registration.
    func cancel(_ sale: OpenSale, at time: Timestamp, registering member: NewMember?) throws
    /// Registers a member whose card was issued outside a sale: the customer, the card, the
    /// welcome bonus, the outbox row and the slip's print job, in one transaction.
    func register(_ member: NewMember, at time: Timestamp) throws
    /// The highest sequence number journalled for this till (0 when none).
    func lastSequence(tillID: String) throws -> Int64
    /// The last sale this till journalled, rebuilt from the journal.
    func lastCompletedSale(till: TillIdentity) throws -> CompletedSale?
}

/// A card issued at the till, with what goes with it.
public struct NewMember: Sendable, Hashable {
    public var registration: Registration
    public var welcome: PointsAward
    public var programmeVersion: String
    public var till: TillIdentity
    /// The registration slip to print (nil: no printer).
    public var slip: PrintJobDraft?

    public init(registration: Registration, welcome: PointsAward, programmeVersion: String, till: TillIdentity, slip: PrintJobDraft?) {
        self.registration = registration
        self.welcome = welcome
        self.programmeVersion = programmeVersion
        self.till = till
        self.slip = slip
    }
}

extension SaleJournal {
    /// Abandons a sale with no card issued in it.
    public func cancel(_ sale: OpenSale, at time: Timestamp) throws {
        try cancel(sale, at: time, registering: nil)
    }

    /// Completes a sale without a loyalty member.
    public func commit(
        _ sale: OpenSale, at time: Timestamp, till: TillIdentity, receipt: (CompletedSale) -> PrintJobDraft?
    ) throws -> CompletedSale {
        try commit(sale, at: time, till: till, loyalty: nil, receipt: receipt)
    }
}

/// A print job to queue: the exact bytes for the printer.
public struct PrintJobDraft: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case receipt, reprint, test, registration, refund, report, drawer
    }

    public var kind: Kind
    public var receiptNumber: String?
    public var payload: [UInt8]

    public init(kind: Kind, receiptNumber: String?, payload: [UInt8]) {
        self.kind = kind
        self.receiptNumber = receiptNumber
        self.payload = payload
    }
}

/// What the card cache knows of a scanned card.
public enum CardLookup: Sendable, Hashable {
    /// A member's card.
    case member(SaleCustomer)
    /// A card of the programme not issued yet (store stock, or not in the cache): it can be issued.
    case notIssued(String)
}

/// A customer found by the till's customer search (CRM at the till).
/// A page of customers found, and how many match in all.
public struct CustomerMatches: Sendable, Hashable {
    public var results: [CustomerSummary]
    public var total: Int
    public init(results: [CustomerSummary], total: Int) {
        self.results = results
        self.total = total
    }
}

extension LoyaltyDirectory {
    /// A till on its own: its own purchases.
    public func history(card: String, limit: Int) throws -> PurchaseHistory {
        PurchaseHistory(purchases: try purchases(card: card, limit: limit), chainWide: false)
    }

    /// The first `limit` customers found.
    public func searchCustomers(_ query: String, limit: Int) throws -> [CustomerSummary] {
        try searchCustomers(query, limit: limit, offset: 0).results
    }
}

public struct CustomerSummary: Sendable, Hashable {
    public var cardNumber: String
    public var name: String
    public var phone: String?
    public var email: String?
    public var status: String
    public init(cardNumber: String, name: String, phone: String?, email: String?, status: String) {
        self.cardNumber = cardNumber
        self.name = name
        self.phone = phone
        self.email = email
        self.status = status
    }
}

/// A purchase the till knows for a card.
public struct PurchaseSummary: Sendable, Hashable {
    public var receiptNumber: String
    public var completedAt: Timestamp
    public var total: Int64
    public var items: Int64
    /// The store it was made in (head office's chain-wide history; nil: this till's own).
    public var storeID: String?
    public init(receiptNumber: String, completedAt: Timestamp, total: Int64, items: Int64, storeID: String? = nil) {
        self.receiptNumber = receiptNumber
        self.completedAt = completedAt
        self.total = total
        self.items = items
        self.storeID = storeID
    }
}

/// A customer's purchases as the till can show them: the whole chain's from head office when it
/// answered within the lookup budget, else this till's own.
public struct PurchaseHistory: Sendable, Hashable {
    public var purchases: [PurchaseSummary]
    /// From head office: every store's purchases (false: this till's only).
    public var chainWide: Bool
    /// Offers the member has (from head office).
    public var offers: [String]
    public init(purchases: [PurchaseSummary], chainWide: Bool, offers: [String] = []) {
        self.purchases = purchases
        self.chainWide = chainWide
        self.offers = offers
    }
}

/// The loyalty programme and the card cache, as the till sees them.
public protocol LoyaltyDirectory: Sendable {
    /// The programme in force, if any.
    func programme() throws -> LoyaltyProgramme?
    /// The member behind a card (blocked and lost cards throw `CardError`).
    func lookupCard(_ number: String, programme: LoyaltyProgramme, now: Timestamp) throws -> CardLookup
    /// Customers by card number, phone (any punctuation, with or without the country code),
    /// e-mail, or names (the start of each word, first or last name, in any order): `limit` of
    /// them from `offset`, with how many match in all.
    func searchCustomers(_ query: String, limit: Int, offset: Int) throws -> CustomerMatches
    /// Purchases at this till for a card, newest first.
    func purchases(card: String, limit: Int) throws -> [PurchaseSummary]
    /// A card's purchases for the customer view: chain-wide from head office when it answers in
    /// time, else this till's.
    func history(card: String, limit: Int) throws -> PurchaseHistory
    /// Cards whose state head office has sent since the last call (a lookup answers from what
    /// the till holds at once and may ask head office in the background): look them up again.
    func refreshedCards() -> [String]
    /// The member behind a card from what this till holds, asking nobody.
    func cachedCard(_ number: String, programme: LoyaltyProgramme, now: Timestamp) throws -> CardLookup
    /// Whether head office holds the card's points as this till knows it now, counting what it
    /// has received and not yet applied (updates apply between sales; a hold must not wait).
    func redemptionsHeld(card: String) throws -> Bool
}

extension LoyaltyDirectory {
    public func refreshedCards() -> [String] { [] }
    public func redemptionsHeld(card: String) throws -> Bool { false }
    public func cachedCard(_ number: String, programme: LoyaltyProgramme, now: Timestamp) throws -> CardLookup {
        try lookupCard(number, programme: programme, now: now)
    }
}

/// A journalled sale with what earlier refunds took from it.
public struct ReturnableSale: Sendable, Hashable {
    public var sale: CompletedSale
    public var returned: ReturnedSoFar
    public init(sale: CompletedSale, returned: ReturnedSoFar) {
        self.sale = sale
        self.returned = returned
    }

    /// What is left to return of a line (milli), 0 for a voided line.
    public func left(line n: Int) -> Int64 {
        guard n >= 1, n <= sale.basket.lines.count, !sale.basket.lines[n - 1].voided else { return 0 }
        return sale.basket.lines[n - 1].item.quantity.milli - (returned.lines[n]?.milli ?? 0)
    }
}

/// A refund as journalled: numbered, with who did it and who authorised it.
public struct CompletedRefund: Sendable, Hashable {
    public var id: String
    public var sequence: Int64
    public var receiptNumber: String
    public var till: TillIdentity
    public var cashier: Cashier
    public var supervisor: String?
    public var at: Timestamp
    public var plan: RefundPlan
    /// Why the goods came back, chosen from the till's list (`[cash_office] return_reasons`).
    public var reason: String?

    public init(id: String, sequence: Int64, receiptNumber: String, till: TillIdentity, cashier: Cashier, supervisor: String?,
                at: Timestamp, plan: RefundPlan, reason: String? = nil) {
        self.reason = reason
        self.id = id
        self.sequence = sequence
        self.receiptNumber = receiptNumber
        self.till = till
        self.cashier = cashier
        self.supervisor = supervisor
        self.at = at
        self.plan = plan
    }

    /// Refund receipt numbers: store-till-R and a sequence of their own.
    public static func receiptNumber(till: TillIdentity, sequence: Int64) -> String {
        let s = String(sequence)
        return "\(till.storeID)-\(till.tillID)-R" + String(repeating: "0", count: max(0, 5 - s.count)) + s
    }
}

/// What a refund is: lines of a receipt, or items without one.
public enum RefundRequest: Sendable, Hashable {
    case receipt(saleID: String, selections: [ReturnSelection], toCash: Bool)
    case withoutReceipt(items: [LineItem])
}

/// The cash office's durable records: refunds, cash movements, the audit trail and the X/Z
/// reports. Every method is one transaction; a refund's lines, tenders, points, outbox row, audit
/// line and slip are written together or not at all.
public protocol CashOfficeStore: Sendable {
    /// A sale of this till by receipt number (or sequence) with its earlier refunds.
    func returnableSale(receipt: String, till: TillIdentity) throws -> ReturnableSale?
    /// Works out the refund inside the transaction (so a line is never returned twice, even by two
    /// tills at once) and journals it. `cardReference`: the card terminal's reference for the
    /// money put back on the card (the refund's card tender carries it).
    func commitRefund(
        _ request: RefundRequest, id: String, cashier: Cashier, supervisor: String?, at time: Timestamp, till: TillIdentity,
        programme: LoyaltyProgramme?, cardReference: String?, reason: String?, slip: (CompletedRefund) -> PrintJobDraft?
    ) throws -> CompletedRefund
    /// Records cash into or out of the drawer (and opens it, `slip`); `detail` goes to the audit trail.
    func recordCash(_ movement: CashMovement, detail: String, slip: PrintJobDraft?) throws
    /// Appends to the audit trail.
    func audit(_ entry: AuditEntry) throws
    /// The X report (z: false) or closes the period with the Z report: numbered, kept, queued for
    /// head office and printed, in one transaction; `cashier` (signed on at the till; nil from the
    /// command line) goes on its audit line.
    func report(
        z: Bool, counted: Int64?, at time: Timestamp, till: TillIdentity, cashier: String?, print: (PeriodReport) -> PrintJobDraft?
    ) throws -> PeriodReport
}

/// A weighing scale the till asks for the weight of a weighed item as it is scanned.
public protocol WeighingScale: Sendable {
    /// The steady weight on the scale, or why there is none.
    func weigh() -> ScaleReading
}

public enum ScaleReading: Equatable, Sendable {
    case weight(Quantity)
    /// The weight is still moving.
    case motion
    case zero
    case underZero
    case overCapacity
    /// The scale did not answer, or not with a weight: why, for the cashier.
    case noAnswer(String)
}
