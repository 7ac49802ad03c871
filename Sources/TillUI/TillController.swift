public import TillCore
public import TillProtocol
public import TillStore

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
    func registrationSlip(for registration: Registration, welcome: Int64, programmeName: String) -> PrintJobDraft?
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

extension TillDatabase: PublicationApplier {}

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

/// The till's settings that shape selling.
public struct TillSettings: Sendable {
    public var identity: TillIdentity
    public var taxRates: [String: TaxRate]
    public var barcodeRules: BarcodeRules
    public var keymap: Keymap
    /// A line shown on the sign-on screen (the demo store shows its demo PINs).
    public var signOnHint: String?
    /// At total, ask for the customer's loyalty card (terminal setting `[loyalty] prompt_at_total`).
    public var loyaltyPromptAtTotal: Bool
    /// A discount above this share of the value (basis points; 1000 = 10%) needs a supervisor.
    public var discountLimitBasisPoints: Int64 = 1000
    /// Lock the till after this long without a key (milliseconds; 0: never).
    public var autoLockMilliseconds: Int64 = 0
    /// Cash a cashier may take, give or move without a supervisor.
    public var cashLimits = CashLimits()
    /// Wrong PINs in a row that lock a cashier number at sign-on until a supervisor unlocks it (0: never).
    public var maxPINAttempts = 3
    /// The reasons a price override is chosen from (on the receipt and in the audit trail); none: not asked.
    public var priceOverrideReasons = TillSettings.defaultPriceOverrideReasons
    public static let defaultPriceOverrideReasons = ["Price match", "Damaged or soiled", "Wrong shelf label", "Manager's decision"]
    /// The reasons a line or sale discount is chosen from; none: not asked.
    public var discountReasons = TillSettings.defaultDiscountReasons
    public static let defaultDiscountReasons = ["Damaged item", "Customer complaint", "Staff discount", "Manager's decision"]
    /// The reasons a return is chosen from (on the refund slip and in the audit trail); none: not asked.
    public var returnReasons = TillSettings.defaultReturnReasons
    public static let defaultReturnReasons = ["Faulty", "Wrong size or colour", "Changed mind", "Not as described"]
    /// The notes and coins the drawer is counted by at the Z report (minor units, largest first);
    /// none: the total is keyed.
    public var denominations = TillSettings.defaultDenominations
    public static let defaultDenominations: [Int64] = [10_000, 5_000, 2_000, 1_000, 500, 200, 100, 50, 20, 10, 5, 2, 1]

    public init(
        identity: TillIdentity, taxRates: [String: TaxRate], barcodeRules: BarcodeRules, keymap: Keymap,
        signOnHint: String? = nil, loyaltyPromptAtTotal: Bool = true
    ) {
        self.identity = identity
        self.taxRates = taxRates
        self.barcodeRules = barcodeRules
        self.keymap = keymap
        self.signOnHint = signOnHint
        self.loyaltyPromptAtTotal = loyaltyPromptAtTotal
    }
}

/// The till's state machine: sign-on, selling, tendering, suspend/resume, cancel, receipt.
///
/// Fed `InputEvent`s; every change to a sale is validated by the core, then recorded by the
/// journal, and only then shown. A refused action leaves the sale exactly as it was and sets a
/// one-line message that quotes the value and says what to do.
public final class TillController {
    public enum Mode: Equatable, Sendable {
        /// Keying the cashier number (nil) or the PIN for that number.
        case signOn(cashierNumber: String?)
        case selling
        /// Keying the card terminal's reference for a card tender of `amount`.
        case cardReference(amount: Int64)
        case confirmCancel
        case resumeList(sales: [SuspendedSale], selected: Int)
        /// A sale just completed: its receipt is on screen.
        case receipt(CompletedReceipt)
        /// At total: waiting for the customer's loyalty card.
        case loyaltyPrompt
        /// Issuing a new card: the registration form.
        case registration(RegistrationForm)
        /// Finding a customer by card, phone, e-mail or surname.
        case customerSearch(CustomerSearch)
        /// One customer's details and purchases.
        case customerDetail(CustomerDetail)
        /// Finding a product by name; a price check.
        case productLookup(ProductLookup)
        /// A guarded action waiting for a supervisor's number and PIN.
        case override(OverrideRequest)
        /// A price override waiting for its reason (a number from the list).
        /// A reason being chosen from the till's list, by its number.
        case reason(ReasonRequest)
        /// A return: waiting for the receipt's barcode or number.
        case returnReceipt
        /// A return: choosing the receipt's lines to give back.
        case returnLines(ReturnDraft)
        /// A return going back to the customer's card: keying the card terminal's reference for it.
        case refundCardReference(RefundCardStep)
        /// A refund without a receipt: the items scanned so far.
        case returnItems([LineItem])
        /// A refund slip or an X/Z report on screen.
        case document(DocumentView)
        /// The cash office menu.
        case cashOffice
        /// Keying the amount of a cash movement.
        case cashAmount(CashMovementKind)
        /// Keying the reason for a paid in, paid out or no sale.
        case cashReason(CashMovementKind, amount: Int64)
        /// The blind count before the Z report.
        case closeCount
        /// The drawer counted note by note and coin by coin.
        case denominationCount(CashCount)
        /// The count keyed: closing the day waits for Enter; `parked` sales are waiting.
        case confirmClose(counted: Int64, parked: Int)
        /// Locked (idle or on request): the cashier's PIN carries on.
        case locked
    }

    public struct Message: Equatable, Sendable {
        public var text: String
        public var isError: Bool
    }

    public struct StampedMessage: Equatable, Sendable {
        public var at: Timestamp
        public var message: Message
    }

    public struct CompletedReceipt: Equatable, Sendable {
        public var sale: CompletedSale
        public var lines: [String]
        public var scroll: Int
    }

    public internal(set) var settings: TillSettings
    let env: TillEnvironment

    public internal(set) var mode: Mode = .signOn(cashierNumber: nil)
    public private(set) var cashier: Cashier?
    public internal(set) var sale: OpenSale?
    public internal(set) var input = ""
    public internal(set) var pendingQuantity: Quantity?
    public private(set) var split = false
    public internal(set) var totalled = false
    /// The selected line number (1-based), if any.
    public private(set) var selectedLine: Int?
    public internal(set) var message: Message? {
        didSet {
            messageIsFresh = message != nil
            guard let message, message != oldValue else { return }
            messageHistory.append(StampedMessage(at: env.now(), message: message))
            if messageHistory.count > Self.historyLength { messageHistory.removeFirst(messageHistory.count - Self.historyLength) }
        }
    }
    /// The last messages, newest last, for the messages key: nothing the cashier had to read is lost
    /// when the next key replaces it.
    public private(set) var messageHistory: [StampedMessage] = []
    static let historyLength = 20
    public internal(set) var showingMessages = false
    /// The message came with the last key (or event): shown in full, wrapped if need be; from
    /// the next key on, on its line (and in full with the messages key).
    public private(set) var messageIsFresh = false
    public internal(set) var showingHelp = false
    /// The points overlay: this sale's points, rule by rule.
    public internal(set) var showingPoints = false
    /// The loyalty programme in force (reloaded at sign-on); nil: no loyalty at this till.
    public internal(set) var programme: LoyaltyProgramme?
    /// The loyalty prompt was shown for the open sale (it is shown once per sale).
    var promptedForCard = false
    /// The message a card scan gave (and whether it named the amount due), while it is still the
    /// one on screen: head office's later answer about the card rewrites it.
    var cardMessage: (message: Message, withDue: Bool)?
    /// The reason chosen for the return being made (asked once, before any money moves).
    var returnReason: String?
    /// The last count by notes and coins, to go back to when the day is not closed after all.
    var lastCount: CashCount?
    /// Points the till offered when a keyed amount could not be paid exactly in points: the
    /// points key again takes them; any other key forgets them.
    var pointsOffer: LoyaltyProgramme.PointsPayment?
    public private(set) var shouldQuit = false
    public private(set) var lastSequence: Int64 = 0
    /// The sale completed last in this session (for reprints).
    public private(set) var lastCompleted: CompletedSale?
    /// Set when the cashier should hear a beep (a refused action); the screen clears it.
    public var bell = false
    /// A quantity keyed (N *) before a line number on the return screen.
    public internal(set) var pendingQuantityText: String?
    /// Who authorised the refund without a receipt being rung.
    var noReceiptSupervisor: String?
    /// Where unlocking goes back to.
    var modeBeforeLock: Mode?
    /// When the last key or scan came (for the auto-lock).
    var lastActivity: Timestamp = 0
    /// When the till last looked for head office's publications.
    var lastUpdateCheck: Timestamp = Int64.min / 2

    public static let maxInputLength = 24

    public init(settings: TillSettings, environment: TillEnvironment) {
        self.settings = settings
        self.env = environment
        self.lastSequence = (try? environment.journal.lastSequence(tillID: settings.identity.tillID)) ?? 0
        self.programme = try? environment.loyalty?.programme()
    }

    var currency: Currency { settings.identity.currency }
    var keymap: Keymap { settings.keymap }
    public var nextSaleNumber: Int64 { lastSequence + 1 }
    public var basket: Basket? { sale?.basket }

    /// The basket on screen: the open sale's, or the one just completed while its receipt shows.
    public var displayedBasket: Basket? {
        if case .receipt(let r) = mode, sale == nil { return r.sale.basket }
        return sale?.basket
    }

    // MARK: - Events

    public func handle(_ event: InputEvent) {
        lastActivity = env.now()
        messageIsFresh = false
        if case .key(let k) = event, keymap.action(for: k) == .points {} else { pointsOffer = nil }
        switch event {
        case .scan(let code): handleScan(code)
        case .key(let key): handleKey(key)
        }
    }

    private func handleScan(_ code: String) {
        showingHelp = false
        showingMessages = false
        showingPoints = false
        let card = isCardCode(code)
        switch mode {
        case .signOn:
            fail(card ? "Sign on before scanning a loyalty card" : "Sign on before scanning items")
        case .receipt, .selling:
            mode = .selling
            card ? identifyCard(code) : addItem(code)
        case .loyaltyPrompt:
            // At the prompt everything scanned is taken as a card: a wrong one is reported as such.
            if card || !isProductCode(code) {
                identifyCard(code)
            } else {
                mode = .selling
                addItem(code)
            }
        case .registration(var form):
            // A card scanned into the form replaces the number; a refused one keeps the form on
            // the card field, ready for the next scan.
            form.values[RegistrationForm.Field.card.rawValue] = code
            if let problem = cardProblem(code) {
                form.focus(on: .card)
                form.replaceOnType = true
                mode = .registration(form)
                fail(problem)
            } else {
                form.focus(on: form.focus == .card ? .firstName : form.focus)
                mode = .registration(form)
                message = nil
            }
        case .customerSearch, .customerDetail:
            showCustomer(card: code)
        case .productLookup:
            priceCheck(code)
        case .returnReceipt:
            input = ""
            findReceipt(code)
        case .returnItems(let items):
            addReturnItem(code, to: items)
        case .document:
            mode = .selling
            card ? identifyCard(code) : addItem(code)
        case .locked:
            fail("The till is locked: \(cashier?.name ?? "cashier"), key your PIN and Enter")
        case .cardReference, .refundCardReference, .confirmCancel, .resumeList, .override, .reason, .returnLines, .cashOffice, .cashAmount,
             .cashReason, .closeCount, .denominationCount, .confirmClose:
            fail("Finish this step first (Esc goes back), then scan \(card ? "the card" : code) again")
        }
    }

    private func handleKey(_ key: Key) {
        let action = keymap.action(for: key)
        if showingHelp || showingPoints || showingMessages {
            showingHelp = false
            showingPoints = false
            showingMessages = false
            return
        }
        // Forms take printable characters as text, even those bound to actions ('?', '+', '*').
        if case .char = key {
            switch mode {
            case .registration(let form): return registrationKey(key, action, form: form)
            case .customerSearch(let search): return customerSearchKey(key, action, search: search)
            case .cashReason(let kind, let amount): return cashReasonKey(key, action, kind: kind, amount: amount)
            default: break
            }
        }
        if case .locked = mode { return lockedKey(key, action) }
        if action == .help {
            showingHelp = true
            return
        }
        if action == .messages {
            showingMessages = true
            return
        }
        switch mode {
        case .loyaltyPrompt: loyaltyPromptKey(key, action)
        case .registration(let form): registrationKey(key, action, form: form)
        case .customerSearch(let search): customerSearchKey(key, action, search: search)
        case .customerDetail(let detail): customerDetailKey(key, action, detail: detail)
        case .productLookup(let lookup): lookupKey(key, action, lookup: lookup)
        case .signOn(let number): signOnKey(key, action, number: number)
        case .selling: sellingKey(key, action)
        case .cardReference(let amount): cardReferenceKey(key, action, amount: amount)
        case .confirmCancel: confirmCancelKey(key, action)
        case .resumeList(let sales, let selected): resumeListKey(key, action, sales: sales, selected: selected)
        case .override(let request): overrideKey(key, action, request: request)
        case .reason(let request): reasonKey(key, action, request)
        case .returnReceipt: returnReceiptKey(key, action)
        case .returnLines(let draft): returnLinesKey(key, action, draft: draft)
        case .refundCardReference(let step): refundCardReferenceKey(key, action, step: step)
        case .returnItems(let items): returnItemsKey(key, action, items: items)
        case .document(let view): documentKey(key, action, view: view)
        case .cashOffice: cashOfficeKey(key, action)
        case .cashAmount(let kind): cashAmountKey(key, action, kind: kind)
        case .cashReason(let kind, let amount): cashReasonKey(key, action, kind: kind, amount: amount)
        case .closeCount: cashAmountKey(key, action, kind: nil)
        case .denominationCount(let count): denominationKey(key, action, count)
        case .confirmClose(let counted, _): confirmCloseKey(key, action, counted: counted)
        case .locked: lockedKey(key, action)
        case .receipt(var r):
            switch action {
            case .lineUp, .pageUp: r.scroll = max(0, r.scroll - (action == .pageUp ? 10 : 1)); mode = .receipt(r)
            case .lineDown, .pageDown: r.scroll = min(max(0, r.lines.count - 1), r.scroll + (action == .pageDown ? 10 : 1)); mode = .receipt(r)
            case .clear: mode = .selling; message = nil
            default:
                mode = .selling
                message = nil
                sellingKey(key, action)
            }
        }
    }

    // MARK: - Sign-on

    private func signOnKey(_ key: Key, _ action: TillAction?, number: String?) {
        if action == .quit {
            shouldQuit = true
            return
        }
        switch key {
        case .char(let c) where c.isASCII && c.isNumber:
            if input.count < 8 { input.append(c) }
            message = nil
        case .backspace:
            if !input.isEmpty { input.removeLast() }
        case .enter:
            guard !input.isEmpty else {
                fail(number == nil ? "Key your cashier number, then Enter" : "Key your PIN, then Enter")
                return
            }
            guard let number else {
                mode = .signOn(cashierNumber: input)
                input = ""
                message = nil
                return
            }
            let pin = input
            input = ""
            do {
                switch try env.cashiers.signOn(number: number, pin: pin, maxAttempts: settings.maxPINAttempts, at: env.now()) {
                case .signedOn(let c):
                    signedOn(c)
                case .wrong(let left):
                    mode = .signOn(cashierNumber: nil)
                    audit("sign-on-refused", "cashier \(number): wrong number or PIN")
                    let warning = left.map { $0 == 1 ? " (one more wrong PIN locks it)" : " (\($0) more wrong PINs lock it)" } ?? ""
                    fail("Cashier \(number) and that PIN do not match\(warning): key your cashier number again")
                case .locked:
                    audit("sign-on-locked", "cashier \(number): locked after \(settings.maxPINAttempts) wrong PINs")
                    input = ""
                    mode = .override(OverrideRequest(action: .unlockCashier, pending: .unlockCashier(number: number),
                                                     detail: "cashier \(number)", supervisorNumber: nil))
                    fail("Cashier \(number) is locked after \(settings.maxPINAttempts) wrong PINs: a supervisor unlocks it with their number and PIN "
                         + "(\(keymap.label(.clear)): back)")
                }
            } catch {
                mode = .signOn(cashierNumber: nil)
                fail("\(error)")
            }
        case _ where action == .clear:
            input = ""
            mode = .signOn(cashierNumber: nil)
            message = nil
        default:
            fail("Key your cashier number and PIN with the digit keys, then Enter")
        }
    }

    private func signedOn(_ c: Cashier) {
        cashier = c
        audit("sign-on", "\(c.name) (\(c.role.rawValue))")
        reloadProgramme()
        mode = .selling
        resetEntry()
        message = Message(text: "Signed on: \(c.name). Scan or key an item.", isError: false)
        do {
            lastSequence = try env.journal.lastSequence(tillID: settings.identity.tillID)
            if sale == nil, var restored = try env.journal.openSale(currency: currency) {
                if restored.cashier.number != c.number {
                    // Left by another cashier (the till stopped): this cashier carries it on and
                    // answers for it, on the receipt and in the Z report.
                    let from = restored.cashier
                    restored = restored.takenOver(by: c)
                    try env.journal.takeOver(restored)
                    audit("take-over", saleID: restored.id, "sale of \(from.name) (\(from.number))")
                }
                sale = restored
                selectedLine = restored.basket.lines.last?.number
                if restored.basket.isPaid && !restored.basket.activeLines.isEmpty {
                    // Paid in full before the till stopped: finish it (its receipt prints now).
                    return complete(restored)
                }
                message = Message(
                    text: "The sale in progress when the till stopped is back (\(restored.basket.lines.count) lines): carry on",
                    isError: false)
            }
        } catch {
            fail("\(error)")
        }
    }

    // MARK: - Selling

    private func sellingKey(_ key: Key, _ action: TillAction?) {
        if key.isEntryCharacter, case .char(let c) = key {
            guard input.count < Self.maxInputLength else { return fail("The entry is at most \(Self.maxInputLength) characters") }
            input.append(c)
            return
        }
        switch key {
        case .enter:
            guard !input.isEmpty else {
                // "3 * Enter": the selected line (the last, if none) becomes 3.
                if let q = pendingQuantity { changeQuantity(to: q) }
                return
            }
            let code = input
            input = ""
            isCardCode(code) ? identifyCard(code) : addItem(code)
            return
        case .backspace:
            if !input.isEmpty { input.removeLast() }
            return
        default: break
        }
        guard let action else {
            return fail("Key \(key) does nothing here: press \(keymap.label(.help)) for help")
        }
        switch action {
        case .quantity: keyQuantity()
        case .voidLine: voidLine()
        case .lineDiscount: discount(sale: false)
        case .saleDiscount: discount(sale: true)
        case .total: total()
        case .cash: tender(.cash)
        case .card: tender(.card)
        case .split: toggleSplit()
        case .suspendResume: suspendOrResume()
        case .cancelSale: askCancel()
        case .signOff: signOff()
        case .clear: resetEntry(); message = nil
        case .lineUp: moveSelection(-1)
        case .lineDown: moveSelection(1)
        case .pageUp: moveSelection(-10)
        case .pageDown: moveSelection(10)
        case .help: showingHelp = true
        case .reprint: reprint()
        case .quit: fail("Sign off (\(keymap.label(.signOff))) before quitting the till")
        case .points: payWithPoints()
        case .newCard: startRegistration(card: input.isEmpty ? "" : input)
        case .findCustomer: startCustomerSearch()
        case .pointsDetail: showPointsDetail()
        case .refund: startReturn()
        case .cashOffice: openCashOffice()
        case .priceOverride: priceOverride()
        case .lock: lock(auto: false)
        case .removeCard: removeCard()
        case .messages: showingMessages = true
        case .lookup: startLookup()
        }
    }

    /// Adds the product for a keyed or scanned code, with the pending quantity.
    func addItem(_ code: String) {
        do {
            let productCode = try ProductCode.classify(code, rules: settings.barcodeRules)
            let product: Product?
            switch productCode {
            case .gtin(let g): product = try env.catalog.product(gtin: g)
            case .plu(let p): product = try env.catalog.product(plu: p)
            case .priceEmbedded(let p, _, _), .weightEmbedded(let p, _, _): product = try env.catalog.product(plu: p)
            }
            guard let product else {
                switch productCode {
                case .gtin(let g): throw SaleError.unknownBarcode(g)
                case .plu(let p): throw SaleError.unknownPLU(p)
                case .priceEmbedded(let p, _, let c), .weightEmbedded(let p, _, let c):
                    return fail("Label \(c) is for PLU \(p), which no product has: key the item's PLU and price instead")
                }
            }
            guard let rate = settings.taxRates[product.taxCode] else {
                return fail("\(product.description) has tax code '\(product.taxCode)', which this till does not know: ask head office to fix the catalog")
            }
            var quantity = pendingQuantity
            var weighedHere = false
            let labelled: Bool
            switch productCode {
            case .gtin, .plu: labelled = false
            case .priceEmbedded, .weightEmbedded: labelled = true
            }
            if product.soldByWeight, quantity == nil, !labelled, let scale = env.scale {
                // Weighed on the till's scale (a weight keyed first, or a label, wins).
                let reading = scale.weigh()
                guard case .weight(let q) = reading else { return fail(Self.scaleProblem(reading, item: product.description)) }
                quantity = q
                weighedHere = true
            }
            let item = try LineItem.make(product: product, code: productCode, keyedQuantity: quantity, taxRate: rate)
            try apply(.addLine(item: item))
            pendingQuantity = nil
            totalled = false
            selectedLine = sale?.basket.lines.last?.number
            message = nil
            if weighedHere, let line = sale?.basket.lines.last {
                message = Message(text: "\(item.description): \(item.quantity) kg on the scale, \(currency.format(line.amount))", isError: false)
            }
            // A member's card scanned before the first item: the tier discount from that item on.
            if basket?.customer != nil && basket?.activeLines.count == 1 { applyTierDiscount() }
        } catch {
            pendingQuantity = nil
            fail("\(error)")
        }
    }

    /// What the cashier is told when the scale gives no weight for `item`.
    static func scaleProblem(_ reading: ScaleReading, item: String) -> String {
        let keyIt = "or key the weight first (e.g. 0.750 *), then the item"
        switch reading {
        case .weight: return ""
        case .zero: return "The scale shows nothing: put the \(item) on the scale and scan again, \(keyIt)"
        case .motion: return "The scale is not steady: let the \(item) settle and scan again, \(keyIt)"
        case .underZero: return "The scale shows less than zero: empty it and zero it, then scan again, \(keyIt)"
        case .overCapacity: return "The \(item) is too heavy for the scale: \(keyIt)"
        case .noAnswer(let why): return "Scale: \(why). Key the weight first (e.g. 0.750 *), then the item"
        }
    }

    /// Validates the event against the sale, records it, and only then makes it current.
    func apply(_ event: BasketEvent) throws {
        guard let cashier else { throw NotSignedOn() }
        let current = sale ?? OpenSale(id: env.makeSaleID(), startedAt: env.now(), cashier: cashier, currency: currency)
        let next = try current.trying(event)
        try env.journal.recordEvent(of: next)
        sale = next
    }

    func keyQuantity() {
        let text = input
        input = ""
        guard !text.isEmpty else {
            return fail("Key the quantity first, then \(keymap.label(.quantity)) (e.g. 3 \(keymap.label(.quantity)))")
        }
        guard let q = Quantity.parse(text) else { return fail(SaleError.invalidQuantity(text).description) }
        guard q.milli > 0, q <= .maximum else { return fail(SaleError.quantityOutOfRange(text).description) }
        pendingQuantity = q
        message = nil
    }

    /// Payment has started and the void key is pressed: the last tender comes off (the customer
    /// pays another way) and the cashier is told what to give back.
    private func removeLastTender(_ t: Tender) {
        do {
            try apply(.removeLastTender)
            let what = "\(t.kind.label) \(currency.format(t.amount))"
            let todo: String
            switch t.kind {
            case .cash: todo = "give the \(currency.format(t.amount)) back"
            case .card: todo = "reverse it on the card terminal" + (t.reference.map { " (ref \($0))" } ?? "")
            case .points: todo = "the \(t.points ?? 0) points stay on the card"
            }
            audit("tender-removed", "\(what)" + (t.reference.map { " ref \($0)" } ?? "") + (t.points.map { ", \($0) points" } ?? ""))
            message = Message(text: "\(what) taken off: \(todo). \(currency.format(basket?.totals.due ?? 0)) due", isError: false)
        } catch { fail("\(error)") }
    }

    /// The selected line's quantity (the last line's when none is selected) changed to `q`.
    private func changeQuantity(to q: Quantity) {
        pendingQuantity = nil
        guard let basket, !basket.isEmpty else { return fail("Key a quantity, then \(keymap.label(.quantity)), then scan the item") }
        let number = selectedLine ?? basket.lines.count
        let before = basket.lines[number - 1].item.quantity
        do {
            try apply(.changeQuantity(number: number, quantity: q))
            totalled = false
            let line = self.basket!.lines[number - 1]
            audit("quantity-change", "line \(number) \(line.item.description): \(before) -> \(q)")
            message = Message(text: "Line \(number): \(q) x \(line.item.description) \(currency.format(line.amount))", isError: false)
        } catch {
            fail("\(error)")
        }
    }

    private func voidLine() {
        guard let basket, !basket.isEmpty else { return fail(SaleError.noLines.description) }
        if let last = basket.tenders.last, input.isEmpty {
            return removeLastTender(last)
        }
        var number = selectedLine ?? basket.lines.count
        if !input.isEmpty {
            guard let n = Int(input), input.allSatisfy(\.isNumber) else {
                let text = input
                input = ""
                return fail("'\(text)' is not a line number: key 1 to \(basket.lines.count), then \(keymap.label(.voidLine))")
            }
            number = n
        }
        input = ""
        do {
            try apply(.voidLine(number: number))
            audit("void-line", "line \(number) \(basket.lines[number - 1].item.description) \(currency.format(basket.lines[number - 1].amount))")
            message = Message(text: "Line \(number) voided", isError: false)
            totalled = false
        } catch { fail("\(error)") }
    }

    private func discount(sale isSale: Bool) {
        guard let basket, !basket.activeLines.isEmpty else { return fail(SaleError.noLines.description) }
        let text = input
        input = ""
        let key = keymap.label(isSale ? .saleDiscount : .lineDiscount)
        guard !text.isEmpty else { return fail("Key the discount first, e.g. 10% or 1.50, then \(key)") }
        do {
            let d = try Discount.parseKeyed(text, currency: currency)
            let number = selectedLine ?? basket.lines.count
            // Checked before asking anyone: a discount the sale refuses needs no reason or supervisor.
            _ = try sale?.trying(isSale ? .discountSale(discount: d) : .discountLine(number: number, discount: d))
            if !d.isZero && !settings.discountReasons.isEmpty {
                mode = .reason(.discount(isSale: isSale, line: number, discount: d))
                let what = isSale ? "the sale discount" : "line \(number)'s discount"
                message = Message(text: "Why \(what) of \(d.label(currency: currency))? Key the reason's number", isError: false)
                return
            }
            discountWithReason(isSale: isSale, line: number, d, reason: nil)
        } catch { fail("\(error)") }
    }

    /// The discount with its reason (if asked): a supervisor above the limit, else given at once.
    func discountWithReason(isSale: Bool, line number: Int, _ d: Discount, reason: String?) {
        guard let basket else { return }
        mode = .selling
        let value = isSale ? basket.totals.subtotal : basket.lines[number - 1].amount
        if d.exceeds(limitBasisPoints: settings.discountLimitBasisPoints, of: value) {
            let limit = TaxRate(code: "", basisPoints: settings.discountLimitBasisPoints).percentText
            let what = isSale ? "sale discount" : "line \(number) discount"
            return authorise(.discountAboveLimit, "\(what) \(d.label(currency: currency)) above \(limit)" + (reason.map { " (\($0))" } ?? ""),
                             .discount(isSale: isSale, line: number, discount: d, reason: reason))
        }
        applyDiscount(isSale: isSale, line: number, d, reason: reason, supervisor: nil)
    }

    func applyDiscount(isSale: Bool, line number: Int, _ d: Discount, reason: String?, supervisor: String?) {
        do {
            let why = reason.map { " (\($0))" } ?? ""
            if isSale {
                try apply(.discountSale(discount: d, reason: reason))
                message = Message(text: d.isZero ? "Sale discount removed" : "Sale discount \(d.label(currency: currency))\(why)", isError: false)
            } else {
                try apply(.discountLine(number: number, discount: d, reason: reason))
                message = Message(text: d.isZero ? "Discount removed from line \(number)" : "Line \(number): discount \(d.label(currency: currency))\(why)", isError: false)
            }
            if supervisor != nil || !d.isZero {
                audit(isSale ? "sale-discount" : "line-discount", supervisor: supervisor,
                      (isSale ? d.label(currency: currency) : "line \(number): \(d.label(currency: currency))") + why)
            }
            totalled = false
        } catch { fail("\(error)") }
    }

    func total() {
        guard let basket, !basket.activeLines.isEmpty else { return fail(SaleError.noLines.description) }
        totalled = true
        applyTierDiscount()
        if settings.loyaltyPromptAtTotal, programme != nil, basket.customer == nil, !promptedForCard, !basket.paymentStarted {
            promptedForCard = true
            mode = .loyaltyPrompt
            input = ""
            message = Message(text: "Ask for the loyalty card: scan it, or key its number and Enter", isError: false)
            return
        }
        message = Message(text: totalMessage, isError: false)
    }

    private func toggleSplit() {
        guard let basket, !basket.activeLines.isEmpty else { return fail(SaleError.noLines.description) }
        split.toggle()
        message = Message(
            text: split ? "Split tender: key each part, then its tender key" : "Split tender off",
            isError: false)
    }

    private func keyedAmount(default due: Int64) throws -> Int64 {
        let text = input
        input = ""
        if text.isEmpty { return due }
        guard let amount = currency.parseKeyed(text) else { throw SaleError.invalidAmount(text) }
        return amount
    }

    func tender(_ kind: TenderKind) {
        guard let basket, !basket.activeLines.isEmpty else { return fail(SaleError.noLines.description) }
        if let sale, basket.isPaid {
            // Paid already (a journal from before the tender and the sale were one transaction):
            // the tender key finishes it.
            input = ""
            return complete(sale)
        }
        do {
            let keyed = !input.isEmpty
            let amount = try keyedAmount(default: basket.totals.due)
            let t = Tender(kind: kind, amount: amount)
            try basket.validateTender(t, split: split)
            if kind == .cash, let over = cashOverLimit(t, due: basket.totals.due, keyed: keyed) {
                return authorise(.cashAboveLimit, over, .cashTender(t))
            }
            if kind == .card {
                mode = .cardReference(amount: amount)
                message = Message(text: "Take \(currency.format(amount)) on the card terminal, then key its reference and Enter", isError: false)
                return
            }
            try addTender(t)
        } catch { fail("\(error)") }
    }

    /// What is above the cash limits in a cash tender (nil: within them). The tendered limit
    /// catches an amount keyed wrong; the exact amount due (the tender key alone) is never that.
    func cashOverLimit(_ t: Tender, due: Int64, keyed: Bool) -> String? {
        let limits = settings.cashLimits
        if keyed && t.amount > limits.tendered {
            return "cash tendered \(currency.format(t.amount)) is above the till's limit of \(currency.format(limits.tendered))"
        }
        let change = t.amount - due
        if change > limits.change {
            return "change \(currency.format(change)) is above the till's limit of \(currency.format(limits.change))"
        }
        return nil
    }

    /// Adds a tender. The one that pays the sale is not saved as an event of the open sale: it
    /// goes into the journal with the completed sale, in the same transaction. A crash or a failed
    /// write leaves either the completed sale or an open sale that can still be paid, never a
    /// paid sale that cannot be finished.
    func addTender(_ t: Tender) throws {
        guard let cashier else { throw NotSignedOn() }
        let current = sale ?? OpenSale(id: env.makeSaleID(), startedAt: env.now(), cashier: cashier, currency: currency)
        let next = try current.trying(.addTender(tender: t))
        guard next.basket.isPaid else {
            try env.journal.recordEvent(of: next)
            sale = next
            message = Message(text: "\(currency.format(next.basket.totals.due)) still due: take another tender", isError: false)
            return
        }
        complete(next)
    }

    /// Completes a paid sale: the journal's commit, then the receipt. If the commit fails the
    /// sale stays as it was before its last tender, and the cashier tries the tender again.
    func complete(_ open: OpenSale) {
        let done: CompletedSale
        do {
            let now = env.now()
            done = try env.journal.commit(open, at: now, till: settings.identity, loyalty: loyaltyOutcome(of: open.basket, at: now),
                                          receipt: env.printer.receiptJob)
        } catch {
            return fail("The sale could not be recorded and is still open: \(error). Try the tender key again.")
        }
        env.outboxWritten()
        lastSequence = done.sequence
        lastCompleted = done
        sale = nil
        promptedForCard = false
        resetEntry()
        split = false
        totalled = false
        selectedLine = nil
        let lines = env.printer.saleCompleted(done)
        mode = .receipt(CompletedReceipt(sale: done, lines: lines, scroll: 0))
        var text = done.totals.change > 0
            ? "Change \(currency.format(done.totals.change)). Sale \(done.receiptNumber) complete."
            : "Sale \(done.receiptNumber) complete."
        if let o = done.loyalty { text += " \(o.customer.name): +\(o.earned.total + o.welcome.total) points, balance \(o.balanceAfter)." }
        message = Message(text: text, isError: false)
    }

    /// Queues a copy of the last receipt.
    private func reprint() {
        do {
            guard let last = try lastCompleted ?? env.journal.lastCompletedSale(till: settings.identity) else {
                return fail("There is no receipt to reprint yet")
            }
            try env.printer.reprint(last)
            audit("reprint", saleID: last.id, last.receiptNumber)
            message = Message(text: "Copy of receipt \(last.receiptNumber) sent to the printer", isError: false)
        } catch {
            fail("\(error)")
        }
    }

    /// Shows a problem reported from outside a keystroke (the printer), without touching the sale.
    public func notify(_ text: String) {
        fail(text)
    }

    private func cardReferenceKey(_ key: Key, _ action: TillAction?, amount: Int64) {
        referenceKey(key, action, hint: "Key the card terminal's reference and Enter, or \(keymap.label(.clear)) to go back", back: {
            mode = .selling
            message = Message(text: "Card payment not taken", isError: false)
        }, done: { reference in
            mode = .selling
            try addTender(Tender(kind: .card, amount: amount, reference: reference))
        })
    }

    /// Keying a card terminal's reference (a payment's or a refund's): letters, digits, '-' and
    /// '/', up to 32; Enter gives the checked reference to `done`, the clear key calls `back`,
    /// and any other key says `hint`.
    func referenceKey(_ key: Key, _ action: TillAction?, hint: String, back: () -> Void, done: (String) throws -> Void) {
        switch key {
        case .char(let c) where c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "/"):
            if input.count < 32 { input.append(c) }
        case .backspace:
            if !input.isEmpty { input.removeLast() }
        case .enter:
            do {
                let reference = try Tender.validateReference(input)
                input = ""
                try done(reference)
            } catch {
                input = ""
                fail("\(error)")
            }
        default:
            if action == .clear {
                input = ""
                back()
            } else {
                fail(hint)
            }
        }
    }

    // MARK: - Suspend, resume, cancel, sign off

    private func suspendOrResume() {
        if let sale, !sale.basket.isEmpty {
            guard !sale.basket.paymentStarted else { return fail(SaleError.paymentStarted.description) }
            if sale.basket.customer?.registration != nil {
                return fail("A card was issued in this sale: finish it, or cancel it (\(keymap.label(.cancelSale)); the card stays registered)")
            }
            do {
                try env.journal.suspend(sale, at: env.now())
                self.sale = nil
                promptedForCard = false
                resetEntry()
                split = false
                totalled = false
                selectedLine = nil
                message = Message(
                    text: "Sale suspended (\(sale.basket.totals.itemCount) items, \(currency.format(sale.basket.totals.total))): \(keymap.label(.suspendResume)) on an empty sale resumes it",
                    isError: false)
            } catch { fail("\(error)") }
            return
        }
        do {
            let list = try env.journal.suspendedSales()
            guard !list.isEmpty else { return fail("There are no suspended sales") }
            mode = .resumeList(sales: list, selected: list.count - 1)
            input = ""
            message = nil
        } catch { fail("\(error)") }
    }

    private func resumeListKey(_ key: Key, _ action: TillAction?, sales: [SuspendedSale], selected: Int) {
        switch key {
        case .char(let c) where c.isASCII && c.isNumber:
            if input.count < 4 { input.append(c) }
            return
        case .backspace:
            if !input.isEmpty { input.removeLast() }
            return
        case .enter:
            var index = selected
            if !input.isEmpty {
                guard let n = Int(input), (1...sales.count).contains(n) else {
                    let t = input
                    input = ""
                    return fail("There is no suspended sale \(t): choose 1 to \(sales.count)")
                }
                index = n - 1
            }
            input = ""
            guard let cashier else { return }
            do {
                let resumed = try env.journal.resume(sales[index], cashier: cashier, currency: currency)
                sale = resumed
                selectedLine = resumed.basket.lines.last?.number
                mode = .selling
                message = Message(text: "Sale resumed (\(resumed.basket.lines.count) lines)", isError: false)
            } catch {
                mode = .selling
                fail("\(error)")
            }
            return
        default: break
        }
        switch action {
        case .lineUp: mode = .resumeList(sales: sales, selected: max(0, selected - 1))
        case .lineDown: mode = .resumeList(sales: sales, selected: min(sales.count - 1, selected + 1))
        case .clear, .suspendResume:
            input = ""
            mode = .selling
            message = nil
        default:
            fail("Choose a sale with Up/Down or its number, then Enter; \(keymap.label(.clear)) goes back")
        }
    }

    private func askCancel() {
        guard let sale, !sale.basket.isEmpty else { return fail("There is no sale to cancel") }
        mode = .confirmCancel
        input = ""
        message = nil
    }

    private func confirmCancelKey(_ key: Key, _ action: TillAction?) {
        if key == .enter, let sale {
            authorise(.voidSale, "sale of \(sale.basket.totals.itemCount) items, \(currency.format(sale.basket.totals.total))", .voidSale)
        } else if action == .clear || action == .cancelSale {
            mode = .selling
            message = Message(text: "The sale goes on", isError: false)
        } else {
            fail("Enter cancels the sale, \(keymap.label(.clear)) keeps it")
        }
    }

    /// Cancels (voids) the open sale, once authorised.
    func cancelConfirmed(supervisor: String?) {
        if let sale {
            do {
                let member = keptRegistration(of: sale)
                try env.journal.cancel(sale, at: env.now(), registering: member)
                if member?.slip != nil { env.printer.queued() }
                if member != nil { env.outboxWritten() }
                let giveBack = Self.giveBack(sale.basket, currency: currency)
                self.sale = nil
                promptedForCard = false
                resetEntry()
                split = false
                totalled = false
                selectedLine = nil
                mode = .selling
                var text = giveBack.map { "Sale cancelled: \($0)" } ?? "Sale cancelled"
                if let member { text += "; card \(LoyaltyCardNumber.masked(member.registration.cardNumber)) stays registered to \(member.registration.fullName)" }
                audit("void-sale", supervisor: supervisor, saleID: sale.id,
                      "\(sale.basket.totals.itemCount) items, \(currency.format(sale.basket.totals.total))")
                message = Message(text: text, isError: false)
            } catch {
                mode = .selling
                fail("\(error)")
            }
        }
    }

    /// What the cashier must do about what was paid when a sale is cancelled: money is given
    /// back in money; points need nothing (they were never taken from the card). Nil: nothing paid.
    static func giveBack(_ basket: Basket, currency: Currency) -> String? {
        let money = basket.tenders.filter { $0.kind != .points }.reduce(Int64(0)) { $0 + $1.amount }
        let points = basket.tenders.filter { $0.kind == .points }.reduce(Int64(0)) { $0 + ($1.points ?? 0) }
        var parts: [String] = []
        if money > 0 {
            let kinds = Set(basket.tenders.filter { $0.kind != .points }.map(\.kind))
            let how = kinds == [.card] ? " (refund it on the card terminal)" : kinds == [.cash] ? " in cash" : " (cash in cash, card on the card terminal)"
            parts.append("give back the \(currency.format(money)) paid\(how)")
        }
        if points > 0 { parts.append("the \(points) points stay on the customer's card (nothing to give back for them)") }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    private func signOff() {
        if let sale, !sale.basket.isEmpty {
            return fail("Finish, suspend (\(keymap.label(.suspendResume))) or cancel (\(keymap.label(.cancelSale))) the sale before signing off")
        }
        if let sale {
            // A card scanned on an empty sale belongs to this cashier's customer, not the next one's.
            do {
                if let member = keptRegistration(of: sale) {
                    try env.journal.cancel(sale, at: env.now(), registering: member)
                    if member.slip != nil { env.printer.queued() }
                    env.outboxWritten()
                } else {
                    try env.journal.discardOpenSale(sale.id)
                }
            } catch {
                return fail("\(error)")
            }
            self.sale = nil
            promptedForCard = false
            split = false
            totalled = false
            selectedLine = nil
        }
        audit("sign-off", "")
        cashier = nil
        resetEntry()
        mode = .signOn(cashierNumber: nil)
        message = Message(text: "Signed off", isError: false)
    }

    // MARK: - Helpers

    private func moveSelection(_ delta: Int) {
        guard let count = basket?.lines.count, count > 0 else { return }
        let current = selectedLine ?? count
        selectedLine = min(count, max(1, current + delta))
    }

    func resetEntry() {
        input = ""
        pendingQuantity = nil
    }

    func fail(_ text: String) {
        message = Message(text: text, isError: true)
        bell = true
    }

    struct NotSignedOn: Error, CustomStringConvertible {
        var description: String { "Sign on first" }
    }
}
