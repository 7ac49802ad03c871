/// Finds products by what the cashier scans or keys.
public protocol ProductCatalog: Sendable {
    /// The product with this normalised GTIN, if any.
    func product(gtin: String) throws -> Product?
    /// The product with this normalised PLU, if any.
    func product(plu: String) throws -> Product?
}

/// Checks who may sign on.
public protocol CashierDirectory: Sendable {
    /// The cashier with this number and PIN, or nil when either is wrong.
    func authenticate(number: String, pin: String) throws -> Cashier?
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
    /// with the print job `receipt` builds for it (nil: nothing to print).
    func commit(
        _ sale: OpenSale, at time: Timestamp, till: TillIdentity, receipt: (CompletedSale) -> PrintJobDraft?
    ) throws -> CompletedSale
    /// Puts the open sale aside.
    func suspend(_ sale: OpenSale, at time: Timestamp) throws
    func suspendedSales() throws -> [SuspendedSale]
    /// Takes a suspended sale back as the open sale.
    func resume(_ suspended: SuspendedSale, cashier: Cashier, currency: Currency) throws -> OpenSale
    /// Abandons the open sale; it is kept for audit, never journalled as a sale.
    func cancel(_ sale: OpenSale, at time: Timestamp) throws
    /// The highest sequence number journalled for this till (0 when none).
    func lastSequence(tillID: String) throws -> Int64
    /// The last sale this till journalled, rebuilt from the journal.
    func lastCompletedSale(till: TillIdentity) throws -> CompletedSale?
}

/// A print job to queue: the exact bytes for the printer.
public struct PrintJobDraft: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case receipt, reprint, test
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
