public import TillCore
import TillProtocol

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
    public internal(set) var cashier: Cashier?
    public internal(set) var sale: OpenSale?
    /// The entry line (every screen's keying goes through it).
    var entry = EntryLine()
    /// What is keyed on the entry line.
    public var input: String { entry.text }
    /// The sale being rung and paid (reset when it is over).
    var selling = SellingState()
    public internal(set) var pendingQuantity: Quantity? {
        get { selling.pendingQuantity }
        set { selling.pendingQuantity = newValue }
    }
    public internal(set) var split: Bool {
        get { selling.split }
        set { selling.split = newValue }
    }
    public internal(set) var totalled: Bool {
        get { selling.totalled }
        set { selling.totalled = newValue }
    }
    /// The selected line number (1-based), if any.
    public internal(set) var selectedLine: Int? {
        get { selling.selectedLine }
        set { selling.selectedLine = newValue }
    }
    /// The cross-sell line: what customers who buy the item last rung also buy.
    public internal(set) var suggestion: String? {
        get { selling.suggestion }
        set { selling.suggestion = newValue }
    }
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
    public internal(set) var messageHistory: [StampedMessage] = []
    static let historyLength = 20
    /// Drawn over the screen until the next key.
    var overlay: Overlay?
    public var showingMessages: Bool { overlay == .messages }
    /// The message came with the last key (or event): shown in full, wrapped if need be; from
    /// the next key on, on its line (and in full with the messages key).
    public internal(set) var messageIsFresh = false
    public var showingHelp: Bool { overlay == .help }
    /// The points overlay: this sale's points, rule by rule.
    public var showingPoints: Bool { overlay == .points }
    /// The loyalty programme in force (reloaded at sign-on); nil: no loyalty at this till.
    public internal(set) var programme: LoyaltyProgramme?
    /// A return being made (reset when one starts).
    var returnFlow = ReturnFlow()
    /// The last count by notes and coins, to go back to when the day is not closed after all.
    var lastCount: CashCount?
    public internal(set) var shouldQuit = false
    public internal(set) var lastSequence: Int64 = 0
    /// The sale completed last in this session (for reprints).
    public internal(set) var lastCompleted: CompletedSale?
    /// Set when the cashier should hear a beep (a refused action); the screen clears it.
    public var bell = false
    /// A quantity keyed (N *) before a line number on the return screen.
    public var pendingQuantityText: String? { returnFlow.pendingQuantityText }
    /// The lock and the idle time before it.
    var lock = LockState()
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
        lock.lastActivity = env.now()
        messageIsFresh = false
        if case .key(let k) = event, keymap.action(for: k) == .points {} else { selling.pointsOffer = nil }
        switch event {
        case .scan(let code): handleScan(code)
        case .key(let key): handleKey(key)
        }
    }

    func handleScan(_ code: String) {
        overlay = nil
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
            entry.clear()
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

    func handleKey(_ key: Key) {
        let action = keymap.action(for: key)
        if overlay != nil {
            overlay = nil
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
            overlay = .help
            return
        }
        if action == .messages {
            overlay = .messages
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

    // MARK: - Helpers

    func moveSelection(_ delta: Int) {
        guard let count = basket?.lines.count, count > 0 else { return }
        let current = selectedLine ?? count
        selectedLine = min(count, max(1, current + delta))
    }

    func resetEntry() {
        entry.clear()
        pendingQuantity = nil
    }

    /// The open sale is over (completed, suspended or cancelled): the screen is ready for the next.
    func closeSale() {
        sale = nil
        entry.clear()
        selling = SellingState()
    }

    /// Gives `key` to the entry line if it edits it on this screen (characters it takes, up to
    /// `limit`; Backspace): true when it did, and the screen is done with the key. A character
    /// past the limit changes nothing, and with `sayWhenFull` says so.
    func editEntry(_ key: Key, _ characters: EntryLine.Characters, limit: Int, sayWhenFull: Bool = false) -> Bool {
        switch entry.edit(key, characters, limit: limit) {
        case .edited: return true
        case .full:
            if sayWhenFull { fail("The entry is at most \(limit) characters") }
            return true
        case .notAnEdit: return false
        }
    }

    func fail(_ text: String) {
        message = Message(text: text, isError: true)
        bell = true
    }

    struct NotSignedOn: Error, CustomStringConvertible {
        var description: String { "Sign on first" }
    }
}
