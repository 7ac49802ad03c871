public import TillCore
public import TillProtocol

/// Receipts: builds each sale's print job (inside the sale's commit), shows what the paper will
/// show, queues reprints, and reports the printer's state. Printing itself happens elsewhere
/// (the spooler), so a missing printer never holds up a sale.
public protocol ReceiptPrinting: Sendable {
    /// The print job for a just-completed sale; called inside its commit. Nil: nothing to print.
    func receiptJob(for sale: CompletedSale) -> PrintJobDraft?
    /// After the commit: the receipt as the paper will show it, for the screen.
    func saleCompleted(_ sale: CompletedSale) -> [String]
    /// Queues a copy of a sale's receipt, marked COPY.
    func reprint(_ sale: CompletedSale) throws
    /// The printer's state for the status bar, e.g. "ready", "paper out (2 waiting)".
    var statusLine: String { get }
    /// A new printing problem to tell the cashier about (each problem once), if any.
    func takeProblem() -> String?
    /// The slip for a card issued at the till (nil: nothing to print).
    func registrationSlip(for registration: Registration, welcome: Points, programmeName: String) -> PrintJobDraft?
    /// Tells the printer a job was queued outside a sale.
    func queued()
    /// The refund slip (the customer's receipt for a refund; opens the drawer for cash).
    func refundJob(for refund: CompletedRefund) -> PrintJobDraft?
    /// An X or Z report for the printer.
    func reportJob(for report: PeriodReport) -> PrintJobDraft?
    /// A slip that opens the cash drawer for a cash movement or a no sale.
    func drawerJob(for movement: CashMovement) -> PrintJobDraft?
    /// The report as the paper will show it, for the screen.
    func reportLines(for report: PeriodReport) -> [String]
    /// The refund slip as the paper will show it, for the screen.
    func refundLines(for refund: CompletedRefund) -> [String]
    /// Head office published terminal settings (receipt header and footer).
    func settingsChanged(_ settings: TerminalSettings)
}

extension ReceiptPrinting {
    public func refundJob(for refund: CompletedRefund) -> PrintJobDraft? { nil }
    public func reportJob(for report: PeriodReport) -> PrintJobDraft? { nil }
    public func drawerJob(for movement: CashMovement) -> PrintJobDraft? { nil }
    public func reportLines(for report: PeriodReport) -> [String] { ["\(report.kind) report \(report.number)"] }
    public func refundLines(for refund: CompletedRefund) -> [String] { ["Refund \(refund.receiptNumber)"] }
    public func settingsChanged(_ settings: TerminalSettings) {}
}

/// Publications from head office, applied between sales.
public protocol PublicationApplier: Sendable {
    func hasPendingPublications() throws -> Bool
    /// Applies everything received, in one transaction; what was applied.
    func applyPendingPublications(at time: Timestamp) throws -> [AppliedPublication]
    func terminalSettings() throws -> TerminalSettings?
    func appliedPublications(limit: Int) throws -> [(Publication, Timestamp, String?)]
}

/// Everything the controller needs from outside, wired by the `till` executable.
public struct TillEnvironment: Sendable {
    public var catalog: any ProductCatalog
    public var cashiers: any CashierDirectory
    public var journal: any SaleJournal
    public var printer: any ReceiptPrinting
    /// Wall-clock time (epoch ms).
    public var now: @Sendable () -> Timestamp
    /// A new sale UUID.
    public var makeSaleID: @Sendable () -> String
    /// The loyalty programme and card cache; nil: the till runs without loyalty.
    public var loyalty: (any LoyaltyDirectory)?
    /// Local date and time of a timestamp in the store's time zone (promotion windows).
    public var localTime: @Sendable (Timestamp) -> LocalDateTime
    /// Called after something was written to the outbox (a sale, a registration): send it soon.
    public var outboxWritten: @Sendable () -> Void
    /// Refunds, cash movements, audit trail, X/Z; nil: the till has no cash office (tests of selling alone).
    public var cashOffice: (any CashOfficeStore)?
    /// Head office's publications; nil: the till takes no updates.
    public var updates: (any PublicationApplier)?
    /// Called after publications were applied: tell head office the version the till runs.
    public var publicationsApplied: @Sendable () -> Void = {}
    /// The till's scale, asked for a weighed item's weight; nil: weights are keyed.
    public var scale: (any WeighingScale)?

    public init(
        catalog: any ProductCatalog, cashiers: any CashierDirectory, journal: any SaleJournal,
        printer: any ReceiptPrinting, now: @escaping @Sendable () -> Timestamp, makeSaleID: @escaping @Sendable () -> String,
        loyalty: (any LoyaltyDirectory)? = nil,
        localTime: @escaping @Sendable (Timestamp) -> LocalDateTime = { LocalDateTime(minutes: $0 / 60_000) },
        outboxWritten: @escaping @Sendable () -> Void = {}, cashOffice: (any CashOfficeStore)? = nil,
        updates: (any PublicationApplier)? = nil, publicationsApplied: @escaping @Sendable () -> Void = {},
        scale: (any WeighingScale)? = nil
    ) {
        self.scale = scale
        self.cashOffice = cashOffice
        self.updates = updates
        self.publicationsApplied = publicationsApplied
        self.outboxWritten = outboxWritten
        self.catalog = catalog
        self.cashiers = cashiers
        self.journal = journal
        self.printer = printer
        self.now = now
        self.makeSaleID = makeSaleID
        self.loyalty = loyalty
        self.localTime = localTime
    }
}
