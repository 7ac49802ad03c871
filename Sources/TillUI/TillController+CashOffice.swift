public import TillCore
import TillProtocol
import TillStore

/// A guarded action waiting for a supervisor's number and PIN.
public struct OverrideRequest: Equatable, Sendable {
    public enum Pending: Equatable, Sendable {
        case voidSale
        case discount(isSale: Bool, line: Int, discount: Discount, reason: String?)
        case priceOverride(line: Int, unitPrice: Int64, reason: String?)
        case refund(ReturnDraft, toCash: Bool)
        case refundWithoutReceipt
        case refundItems([LineItem])
        case noSale(reason: String)
        case cashTender(Tender)
        case cashMovement(CashMovementKind, amount: Int64, reason: String?)
        /// A cashier number locked after wrong PINs, at sign-on.
        case unlockCashier(number: String)
    }

    public var action: GuardedAction
    public var pending: Pending
    /// What is being authorised, for the screen and the audit trail.
    public var detail: String
    /// The supervisor's number once keyed (then the PIN is keyed).
    public var supervisorNumber: String?
}

/// The drawer counted by notes and coins at the Z report.
public struct CashCount: Equatable, Sendable {
    /// Minor units, largest first.
    public var denominations: [Int64]
    public var counts: [Int64]
    public var selected = 0
    /// At most this many of one note or coin.
    public static let maxPieces: Int64 = 100_000

    public init(denominations: [Int64]) {
        self.denominations = denominations
        counts = Array(repeating: 0, count: denominations.count)
    }

    /// The cash counted, added with checked arithmetic; nil past the largest amount the till takes.
    public var total: Int64? {
        var sum: Int64 = 0
        for (d, n) in zip(denominations, counts) {
            let (value, o1) = d.multipliedReportingOverflow(by: n)
            let (next, o2) = sum.addingReportingOverflow(value)
            guard !o1, !o2, next <= Money.maximumMinor else { return nil }
            sum = next
        }
        return sum
    }

    /// "50.00 x 3, 0.20 x 4": the notes and coins counted (for the audit trail).
    public func breakdown(_ currency: Currency) -> String {
        let parts = zip(denominations, counts).filter { $0.1 > 0 }.map { "\(currency.format($0.0)) x \($0.1)" }
        return (parts.isEmpty ? "nothing" : parts.joined(separator: ", ")) + "; total " + (total.map(currency.format) ?? "too large")
    }
}

/// What a reason is being chosen for (from the till's lists in `[cash_office]`).
public enum ReasonRequest: Equatable, Sendable {
    case priceOverride(line: Int, unitPrice: Int64)
    case discount(isSale: Bool, line: Int, discount: Discount)
    case refund(PendingReturn)
}

/// A return waiting for its reason: lines of a receipt, or items without one.
public enum PendingReturn: Equatable, Sendable {
    case receipt(ReturnDraft, toCash: Bool)
    case withoutReceipt([LineItem])
}

/// A refund authorised that puts money back on the customer's card: it is made once the cashier
/// has done it on the card terminal and keyed the terminal's reference.
public struct RefundCardStep: Equatable, Sendable {
    public var draft: ReturnDraft
    public var toCash: Bool
    public var supervisor: String?
    /// What goes back to the card.
    public var amount: Int64
}

/// A return being put together: the original sale and the lines chosen so far.
public struct ReturnDraft: Equatable, Sendable {
    public var original: ReturnableSale
    /// Line number → quantity (milli) chosen to return.
    public var chosen: [Int: Int64] = [:]
    public var selected = 1

    public var selections: [ReturnSelection] {
        chosen.keys.sorted().map { ReturnSelection(line: $0, quantity: Quantity(milli: chosen[$0]!)) }
    }
}

/// A document on screen: a refund slip or an X/Z report, as the paper shows it.
public struct DocumentView: Equatable, Sendable {
    public var title: String
    public var lines: [String]
    public var scroll = 0
}

/// What the cash office menu offers, in order (the cashier keys the number).
public enum CashOfficeItem: Int, CaseIterable, Sendable {
    case float = 1, pickup, paidIn, paidOut, noSale, xReport, zReport, updates

    public var label: String {
        switch self {
        case .float: "Opening float"
        case .pickup: "Pickup (cash lift to the safe)"
        case .paidIn: "Paid in"
        case .paidOut: "Paid out"
        case .noSale: "No sale (open the drawer; supervisor)"
        case .xReport: "X report (the day so far)"
        case .zReport: "Z report: count the drawer and close the day"
        case .updates: "What changed: updates from head office"
        }
    }

    var movement: CashMovementKind? {
        switch self {
        case .float: .float
        case .pickup: .pickup
        case .paidIn: .paidIn
        case .paidOut: .paidOut
        case .noSale: .noSale
        case .xReport, .zReport, .updates: nil
        }
    }
}

extension TillController {
    // MARK: - Audit

    /// Appends to the audit trail. A till without a cash office records nothing; a write that
    /// fails is shown, never hidden.
    func audit(_ action: String, supervisor: String? = nil, saleID: String? = nil, _ detail: String) {
        guard let office = env.cashOffice else { return }
        do {
            try office.audit(AuditEntry(at: env.now(), action: action, cashier: cashier?.number, supervisor: supervisor,
                                        saleID: saleID ?? sale?.id, detail: detail))
        } catch {
            fail("The audit trail could not be written: \(error)")
        }
    }

    // MARK: - Supervisor overrides

    /// Runs `pending` at once when the signed-on person may supervise; otherwise asks for a
    /// supervisor's number and PIN first.
    func authorise(_ action: GuardedAction, _ detail: String, _ pending: OverrideRequest.Pending) {
        guard let cashier else { return }
        if cashier.role.maySupervise {
            perform(pending, supervisor: nil)
            return
        }
        input = ""
        mode = .override(OverrideRequest(action: action, pending: pending, detail: detail, supervisorNumber: nil))
        if action == .cashAboveLimit {
            message = Message(text: detail.prefix(1).uppercased() + detail.dropFirst()
                              + ": supervisor, key your number and Enter (\(keymap.label(.clear)): key another amount)", isError: false)
        } else {
            message = Message(text: "\(action.label) needs a supervisor: supervisor, key your number and Enter", isError: false)
        }
    }

    func overrideKey(_ key: Key, _ action: TillAction?, request: OverrideRequest) {
        switch key {
        case .char(let c) where c.isASCII && c.isNumber:
            if input.count < 8 { input.append(c) }
        case .backspace:
            if !input.isEmpty { input.removeLast() }
        case .enter:
            guard !input.isEmpty else {
                return fail(request.supervisorNumber == nil ? "Supervisor: key your number, then Enter" : "Supervisor: key your PIN, then Enter")
            }
            guard let number = request.supervisorNumber else {
                var next = request
                next.supervisorNumber = input
                input = ""
                mode = .override(next)
                message = Message(text: "Supervisor \(number(next)): key your PIN and Enter", isError: false)
                return
            }
            let pin = input
            input = ""
            // Counted as at sign-on: a supervisor's PIN cannot be guessed here either.
            let who: Cashier?
            do {
                switch try env.cashiers.signOn(number: number, pin: pin, maxAttempts: settings.maxPINAttempts, at: env.now()) {
                case .signedOn(let c): who = c
                case .wrong: who = nil
                case .locked:
                    audit("override-refused", supervisor: number, "\(request.action.label): \(request.detail): supervisor \(number) is locked")
                    return leaveOverride(request, refused: "Supervisor \(number) is locked after wrong PINs: another supervisor unlocks it at sign-on")
                }
            } catch {
                return leaveOverride(request, refused: "\(error)")
            }
            guard let who else {
                audit("override-refused", supervisor: number, "\(request.action.label): \(request.detail): wrong number or PIN")
                return leaveOverride(request, refused: "Supervisor \(number) and that PIN do not match: \(request.action.label.lowercased()) not done")
            }
            guard who.role.maySupervise else {
                audit("override-refused", supervisor: number, "\(request.action.label): \(request.detail): \(who.name) is a cashier")
                return leaveOverride(request, refused: "\(who.name) (\(number)) is a cashier, not a supervisor: \(request.action.label.lowercased()) not done")
            }
            guard who.number != cashier?.number else {
                return leaveOverride(request, refused: "A supervisor cannot authorise their own action")
            }
            audit("override", supervisor: who.number, "\(request.action.label): \(request.detail)")
            perform(request.pending, supervisor: who.number)
        default:
            if action == .clear {
                input = ""
                leaveOverride(request, refused: nil)
            } else {
                fail("Supervisor: key your number and PIN with the digit keys, then Enter; \(keymap.label(.clear)) goes back")
            }
        }
    }

    private func number(_ r: OverrideRequest) -> String { r.supervisorNumber ?? "" }

    /// Back to where the action was asked for, the sale or return unchanged.
    private func leaveOverride(_ request: OverrideRequest, refused: String?) {
        switch request.pending {
        case .refund(let draft, _): mode = .returnLines(draft)
        case .cashMovement: mode = .cashOffice
        case .unlockCashier: mode = .signOn(cashierNumber: nil)
        default: mode = .selling
        }
        if let refused { fail(refused) } else { message = Message(text: "\(request.action.label) not done", isError: false) }
    }

    /// Does what was authorised; `supervisor` is who authorised it (nil: the signed-on supervisor).
    func perform(_ pending: OverrideRequest.Pending, supervisor: String?) {
        switch pending {
        case .voidSale:
            mode = .confirmCancel
            cancelConfirmed(supervisor: supervisor)
        case .discount(let isSale, let line, let d, let reason):
            mode = .selling
            applyDiscount(isSale: isSale, line: line, d, reason: reason, supervisor: supervisor)
        case .priceOverride(let line, let price, let reason):
            mode = .selling
            do {
                let was = basket.map { $0.lines[line - 1].item.unitPrice }
                try apply(.overridePrice(number: line, unitPrice: price, reason: reason))
                totalled = false
                let why = [was.map { "was \(currency.format($0))" }, reason].compactMap { $0 }.joined(separator: "; ")
                audit("price-override", supervisor: supervisor, "line \(line): \(currency.format(price))" + (why.isEmpty ? "" : " (\(why))"))
                message = Message(text: "Line \(line): price \(currency.format(price))" + (reason.map { " (\($0))" } ?? ""), isError: false)
            } catch { fail("\(error)") }
        case .refund(let draft, let toCash):
            // Money back on a card is done on the card terminal first; its reference goes on the refund.
            if case .success(let plan) = previewRefund(draft, toCash: toCash),
               let card = plan.tenders.first(where: { $0.kind == .card && $0.amount > 0 }) {
                mode = .refundCardReference(RefundCardStep(draft: draft, toCash: toCash, supervisor: supervisor, amount: card.amount))
                message = Message(text: "Refund \(currency.format(card.amount)) to the customer's card on the card terminal, then key its reference and Enter",
                                  isError: false)
                return
            }
            commitRefund(.receipt(saleID: draft.original.sale.id, selections: draft.selections, toCash: toCash), draft: draft, supervisor: supervisor)
        case .refundWithoutReceipt:
            noReceiptSupervisor = supervisor
            mode = .returnItems([])
            message = Message(text: "Refund without a receipt: scan or key each item, then \(keymap.label(.total))", isError: false)
        case .refundItems(let items):
            commitRefund(.withoutReceipt(items: items), draft: nil, supervisor: supervisor)
        case .noSale(let reason):
            recordCash(.noSale, amount: 0, reason: reason, supervisor: supervisor)
        case .cashTender(let t):
            mode = .selling
            do { try addTender(t) } catch { fail("\(error)") }
        case .cashMovement(let kind, let amount, let reason):
            recordCash(kind, amount: amount, reason: reason, supervisor: supervisor)
        case .unlockCashier(let number):
            mode = .signOn(cashierNumber: nil)
            do {
                try env.cashiers.unlock(number: number)
                audit("cashier-unlocked", supervisor: supervisor, "cashier \(number)")
                message = Message(text: "Cashier \(number) unlocked: key your cashier number and PIN", isError: false)
            } catch { fail("\(error)") }
        }
    }

    // MARK: - Price override

    func priceOverride() {
        guard let basket, !basket.activeLines.isEmpty else { return fail(SaleError.noLines.description) }
        let text = input
        input = ""
        let line = selectedLine ?? basket.lines.count
        guard !text.isEmpty else { return fail("Key the new price first, e.g. 1.99, then \(keymap.label(.priceOverride)) (it changes the selected line)") }
        guard let price = currency.parseKeyed(text) else { return fail(SaleError.invalidAmount(text).description) }
        do {
            _ = try sale?.trying(.overridePrice(number: line, unitPrice: price))
        } catch { return fail("\(error)") }
        guard !settings.priceOverrideReasons.isEmpty else { return authorisePriceOverride(line: line, unitPrice: price, reason: nil) }
        mode = .reason(.priceOverride(line: line, unitPrice: price))
        message = Message(text: "Why change line \(line)'s price to \(currency.format(price))? Key the reason's number", isError: false)
    }

    /// The reasons `request` is chosen from.
    func reasons(for request: ReasonRequest) -> [String] {
        switch request {
        case .priceOverride: settings.priceOverrideReasons
        case .discount: settings.discountReasons
        case .refund: settings.returnReasons
        }
    }

    /// The reason's number keyed: the action goes on (to a supervisor where it needs one);
    /// the clear key goes back with nothing done.
    func reasonKey(_ key: Key, _ action: TillAction?, _ request: ReasonRequest) {
        let reasons = reasons(for: request)
        if case .char(let c) = key, let n = c.wholeNumberValue, n >= 1, n <= reasons.count {
            let reason = reasons[n - 1]
            switch request {
            case .priceOverride(let line, let price): authorisePriceOverride(line: line, unitPrice: price, reason: reason)
            case .discount(let isSale, let line, let d): discountWithReason(isSale: isSale, line: line, d, reason: reason)
            case .refund(let pending):
                returnReason = reason
                switch pending {
                case .receipt(let draft, let toCash):
                    mode = .returnLines(draft)
                    refund(draft, toCash: toCash)
                case .withoutReceipt(let items):
                    mode = .returnItems(items)
                    commitRefund(.withoutReceipt(items: items), draft: nil, supervisor: noReceiptSupervisor)
                }
            }
            return
        }
        if action == .clear {
            switch request {
            case .priceOverride:
                mode = .selling
                message = Message(text: "Price override not done", isError: false)
            case .discount:
                mode = .selling
                message = Message(text: "Discount not given", isError: false)
            case .refund(let pending):
                switch pending {
                case .receipt(let draft, _): mode = .returnLines(draft)
                case .withoutReceipt(let items): mode = .returnItems(items)
                }
                message = Message(text: "Nothing refunded yet: \(keymap.label(.total)) refunds, \(keymap.label(.clear)) abandons the return", isError: false)
            }
            return
        }
        fail("Key the reason's number, 1 to \(reasons.count); \(keymap.label(.clear)) goes back")
    }

    private func authorisePriceOverride(line: Int, unitPrice price: Int64, reason: String?) {
        guard let basket else { return }
        mode = .selling
        let item = basket.lines[line - 1].item
        authorise(.priceOverride, "line \(line) \(item.description) \(currency.format(item.unitPrice)) -> \(currency.format(price))"
                  + (reason.map { " (\($0))" } ?? ""), .priceOverride(line: line, unitPrice: price, reason: reason))
    }

    // MARK: - Returns

    /// Leaves selling for a cash office screen: only with no sale open, on a till with a cash office.
    private func leaveSelling(to next: Mode, before what: String, unavailable: String, _ text: String) {
        if let sale, !sale.basket.isEmpty { return fail("Finish or suspend this sale before \(what)") }
        guard env.cashOffice != nil else { return fail("\(unavailable) not available on this till") }
        input = ""
        mode = next
        message = Message(text: text, isError: false)
    }

    func startReturn() {
        returnReason = nil
        leaveSelling(to: .returnReceipt, before: "a return", unavailable: "Returns are",
                     "Return: scan the barcode on the receipt, or key its number and Enter (\(keymap.label(.refund)) again: no receipt)")
    }

    func returnReceiptKey(_ key: Key, _ action: TillAction?) {
        switch key {
        case .char(let c) where c.isASCII && (c.isNumber || c.isLetter || c == "-"):
            if input.count < 32 { input.append(c) }
        case .backspace:
            if !input.isEmpty { input.removeLast() }
        case .enter:
            let text = input
            input = ""
            findReceipt(text)
        default:
            switch action {
            case .clear: mode = .selling; input = ""; message = Message(text: "No return", isError: false)
            case .refund: authorise(.refundWithoutReceipt, "items refunded in cash at today's price", .refundWithoutReceipt)
            default: fail("Scan or key the receipt number, then Enter; \(keymap.label(.refund)): no receipt; \(keymap.label(.clear)): back")
            }
        }
    }

    func findReceipt(_ text: String) {
        let receipt = text.trimmingSpaces
        guard !receipt.isEmpty else { return fail("Scan the barcode on the receipt, or key its number and Enter") }
        guard let office = env.cashOffice else { return }
        do {
            let parts = receipt.split(separator: "-")
            if parts.count == 3, String(parts[0]) != settings.identity.storeID { throw ReturnError.notThisStore(receipt) }
            guard let found = try office.returnableSale(receipt: receipt, till: settings.identity) else {
                throw ReturnError.noSuchReceipt(receipt)
            }
            let draft = ReturnDraft(original: found)
            mode = .returnLines(draft)
            let left = found.sale.basket.lines.indices.contains { found.left(line: $0 + 1) > 0 }
            message = left
                ? Message(text: "Receipt \(found.sale.receiptNumber): key a line number and Enter (N \(keymap.label(.quantity)) for part), then \(keymap.label(.total))", isError: false)
                : Message(text: "Everything on receipt \(found.sale.receiptNumber) has already been returned", isError: true)
        } catch {
            fail("\(error)")
        }
    }

    func returnLinesKey(_ key: Key, _ action: TillAction?, draft: ReturnDraft) {
        var draft = draft
        let sale = draft.original.sale
        if key.isEntryCharacter, case .char(let c) = key {
            if input.count < 8 { input.append(c) }
            return
        }
        switch key {
        case .backspace:
            if !input.isEmpty { input.removeLast() }
            return
        case .enter:
            let text = input
            input = ""
            guard !text.isEmpty else { return refund(draft, toCash: false) }
            guard let n = Int(text), n >= 1, n <= sale.basket.lines.count else {
                pendingQuantityText = nil
                return fail("'\(text)' is not a line of receipt \(sale.receiptNumber): key 1 to \(sale.basket.lines.count)")
            }
            let line = sale.basket.lines[n - 1]
            let left = draft.original.left(line: n)
            if line.voided { pendingQuantityText = nil; return fail(ReturnError.voidedLine(n).description) }
            if left <= 0 { pendingQuantityText = nil; return fail(ReturnError.alreadyReturned(line: n, description: line.item.description).description) }
            var milli = left
            if let q = pendingQuantityText {
                pendingQuantityText = nil
                guard let qty = Quantity.parse(q), qty.milli > 0, qty.isWhole, !line.item.soldByWeight else {
                    return fail(line.item.soldByWeight ? ReturnError.weighedLinePart(line: n, description: line.item.description).description
                                                       : "'\(q)' is not a whole number of items to return")
                }
                guard qty.milli <= left else {
                    return fail(ReturnError.moreThanLeft(line: n, description: line.item.description, asked: qty, left: Quantity(milli: left)).description)
                }
                milli = qty.milli
            } else if draft.chosen[n] != nil {
                draft.chosen[n] = nil
                draft.selected = n
                mode = .returnLines(draft)
                message = Message(text: "Line \(n) taken off the return", isError: false)
                return
            }
            draft.chosen[n] = milli
            draft.selected = n
            mode = .returnLines(draft)
            message = Message(text: "Line \(n): return \(Quantity(milli: milli)) of \(line.item.description)", isError: false)
            return
        default: break
        }
        switch action {
        case .quantity:
            guard !input.isEmpty else { return fail("Key how many first, then \(keymap.label(.quantity)), then the line number") }
            pendingQuantityText = input
            input = ""
        case .total: refund(draft, toCash: false)
        case .cash: refund(draft, toCash: true)
        case .clear:
            input = ""
            pendingQuantityText = nil
            mode = .selling
            message = Message(text: "Return abandoned: nothing was refunded", isError: false)
        case .lineUp: draft.selected = max(1, draft.selected - 1); mode = .returnLines(draft)
        case .lineDown: draft.selected = min(sale.basket.lines.count, draft.selected + 1); mode = .returnLines(draft)
        default:
            fail("Key a line number and Enter to choose it; \(keymap.label(.total)) refunds; \(keymap.label(.clear)) abandons the return")
        }
    }

    /// The refund the draft would make now (for the screen), or the reason it cannot.
    public func previewRefund(_ draft: ReturnDraft, toCash: Bool = false) -> Result<RefundPlan, ReturnError> {
        do {
            return .success(try RefundPlanner.plan(
                sale: draft.original.sale, prior: draft.original.returned, selections: draft.selections, toCash: toCash, programme: programme))
        } catch { return .failure(error) }
    }

    func refund(_ draft: ReturnDraft, toCash: Bool) {
        let plan: RefundPlan
        switch previewRefund(draft, toCash: toCash) {
        case .failure(let e): return fail(e.description)
        case .success(let p): plan = p
        }
        // The reason first, before any money moves (a card refund is done on the terminal next).
        if returnReason == nil && !settings.returnReasons.isEmpty {
            mode = .reason(.refund(.receipt(draft, toCash: toCash)))
            message = Message(text: "Why is \(currency.format(plan.total)) being returned? Key the reason's number", isError: false)
            return
        }
        let detail = "\(currency.format(plan.total)) of receipt \(draft.original.sale.receiptNumber)"
        let paidCashOnly = draft.original.sale.basket.tenders.allSatisfy { $0.kind == .cash || $0.kind == .points }
        if toCash && !paidCashOnly {
            // Money that went on a card coming back in cash: a supervisor decides, and it counts as the refund's override.
            authorise(.refundToCash, detail + " in cash", .refund(draft, toCash: true))
        } else {
            authorise(.refund, detail, .refund(draft, toCash: toCash))
        }
    }

    func returnItemsKey(_ key: Key, _ action: TillAction?, items: [LineItem]) {
        if key.isEntryCharacter, case .char(let c) = key {
            if input.count < Self.maxInputLength { input.append(c) }
            return
        }
        switch key {
        case .backspace:
            if !input.isEmpty { input.removeLast() }
            return
        case .enter:
            let code = input
            input = ""
            if !code.isEmpty { addReturnItem(code, to: items) }
            return
        default: break
        }
        switch action {
        case .quantity:
            keyQuantity()                       // 2 * then the item; 0.750 * for a weighed one
        case .total, .cash:
            guard !items.isEmpty else { return fail("Scan or key the items being returned first") }
            if returnReason == nil && !settings.returnReasons.isEmpty {
                mode = .reason(.refund(.withoutReceipt(items)))
                message = Message(text: "Why are these items being returned? Key the reason's number", isError: false)
                return
            }
            // Already authorised when the mode started; the supervisor's number is on the audit trail.
            commitRefund(.withoutReceipt(items: items), draft: nil, supervisor: noReceiptSupervisor)
        case .voidLine:
            guard !items.isEmpty else { return }
            var next = items
            next.removeLast()
            mode = .returnItems(next)
            message = Message(text: "Last item taken off the return", isError: false)
        case .clear:
            mode = .selling
            input = ""
            message = Message(text: "Return abandoned: nothing was refunded", isError: false)
        default:
            fail("Scan or key each item (a quantity or weight first: 2 \(keymap.label(.quantity))); \(keymap.label(.total)) refunds in cash; \(keymap.label(.voidLine)) takes the last off; \(keymap.label(.clear)) abandons")
        }
    }

    /// Scans during a return without a receipt add the item at today's price.
    func addReturnItem(_ code: String, to items: [LineItem]) {
        do {
            let productCode = try ProductCode.classify(code, rules: settings.barcodeRules)
            let product: Product?
            switch productCode {
            case .gtin(let g): product = try env.catalog.product(gtin: g)
            case .plu(let p), .priceEmbedded(let p, _, _), .weightEmbedded(let p, _, _): product = try env.catalog.product(plu: p)
            }
            guard let product else { throw SaleError.unknownBarcode(code) }
            guard let rate = settings.taxRates[product.taxCode] else { return fail("\(product.description): unknown tax code '\(product.taxCode)'") }
            let quantity = pendingQuantity
            pendingQuantity = nil
            let item = try LineItem.make(product: product, code: productCode, keyedQuantity: quantity, taxRate: rate)
            mode = .returnItems(items + [item])
            let amount = MinorUnits.mulDivRounded(item.unitPrice, item.quantity.milli, 1000)
            let what = item.quantity == .one && !item.soldByWeight ? "" : item.soldByWeight ? "\(item.quantity) kg " : "\(item.quantity) x "
            message = Message(text: "Return \(what)\(item.description) \(currency.format(amount ?? item.unitPrice))", isError: false)
        } catch {
            pendingQuantity = nil
            fail("\(error)")
        }
    }

    /// Keys while the card terminal's reference for a card refund is keyed.
    func refundCardReferenceKey(_ key: Key, _ action: TillAction?, step: RefundCardStep) {
        let hint = "Refund \(currency.format(step.amount)) on the card terminal, then key its reference and Enter; \(keymap.label(.clear)) goes back"
        referenceKey(key, action, hint: hint, back: {
            mode = .returnLines(step.draft)
            message = Message(text: "Card refund not made: nothing was refunded. Refund again when the card terminal has done it", isError: false)
        }, done: { reference in
            commitRefund(.receipt(saleID: step.draft.original.sale.id, selections: step.draft.selections, toCash: step.toCash),
                         draft: step.draft, supervisor: step.supervisor, cardReference: reference)
        })
    }

    func commitRefund(_ request: RefundRequest, draft: ReturnDraft?, supervisor: String?, cardReference: String? = nil) {
        guard let office = env.cashOffice, let cashier else { return }
        let reason = returnReason
        do {
            let refund = try office.commitRefund(
                request, id: env.makeSaleID(), cashier: cashier, supervisor: supervisor, at: env.now(), till: settings.identity,
                programme: programme, cardReference: cardReference, reason: reason, slip: env.printer.refundJob)
            returnReason = nil
            env.outboxWritten()
            noReceiptSupervisor = nil
            let p = refund.plan
            var text = "Refund \(refund.receiptNumber):"
            for t in p.tenders {
                switch t.kind {
                case .cash: text += " give \(currency.format(t.amount)) cash;"
                case .card: text += " \(currency.format(t.amount)) back to the card" + (t.reference.map { " (ref \($0))" } ?? "") + ";"
                case .points: text += " \(t.points ?? 0) points back;"
                }
            }
            if p.pointsTakenBack > 0 { text += " \(p.pointsTakenBack) points taken back;" }
            if text.hasSuffix(";") { text.removeLast() }
            mode = .document(DocumentView(title: "REFUND \(refund.receiptNumber)", lines: env.printer.refundLines(for: refund)))
            message = Message(text: text, isError: false)
        } catch {
            if let draft { mode = .returnLines(draft) } else { mode = .selling }
            fail("\(error)")
        }
    }

    // MARK: - Cash office

    func openCashOffice() {
        leaveSelling(to: .cashOffice, before: "the cash office", unavailable: "The cash office is", "Cash office: key a number")
    }

    func cashOfficeKey(_ key: Key, _ action: TillAction?) {
        if case .char(let c) = key, let n = c.wholeNumberValue, let item = CashOfficeItem(rawValue: n) {
            return choose(item)
        }
        if action == .clear || action == .cashOffice {
            mode = .selling
            message = nil
            return
        }
        fail("Key 1 to \(CashOfficeItem.allCases.count) to choose; \(keymap.label(.clear)) goes back")
    }

    private func choose(_ item: CashOfficeItem) {
        input = ""
        switch item {
        case .xReport: runReport(z: false, counted: nil)
        case .updates: showUpdates()
        case .zReport:
            if settings.denominations.isEmpty {
                mode = .closeCount
                message = Message(text: "Count the cash in the drawer and key the total (the till does not show what it expects)", isError: false)
            } else {
                let count = CashCount(denominations: settings.denominations)
                lastCount = nil
                mode = .denominationCount(count)
                message = Message(text: countHint(count), isError: false)
            }
        case .noSale:
            mode = .cashReason(.noSale, amount: 0)
            message = Message(text: "Why open the drawer? Key the reason and Enter", isError: false)
        default:
            let kind = item.movement!
            mode = .cashAmount(kind)
            message = Message(text: "\(kind.label): key the amount and Enter", isError: false)
        }
    }

    func cashAmountKey(_ key: Key, _ action: TillAction?, kind: CashMovementKind?) {
        if key.isEntryCharacter, case .char(let c) = key {
            if input.count < 12 { input.append(c) }
            return
        }
        switch key {
        case .backspace:
            if !input.isEmpty { input.removeLast() }
        case .enter:
            let text = input
            input = ""
            guard let amount = currency.parseKeyed(text), !text.isEmpty else {
                return fail("'\(text)' is not an amount: key e.g. 150.00 or 15000, then Enter")
            }
            guard let kind else { return askToClose(counted: amount) }
            guard amount > 0 else { return fail("\(kind.label) of \(currency.format(0)): key the amount, then Enter") }
            if kind.needsReason {
                mode = .cashReason(kind, amount: amount)
                message = Message(text: "\(kind.label) \(currency.format(amount)): key the reason and Enter", isError: false)
            } else {
                recordCashWithinLimits(kind, amount: amount, reason: nil)
            }
        default:
            if action == .clear { mode = .cashOffice; input = ""; message = nil } else {
                fail("Key the amount with the digit keys, then Enter; \(keymap.label(.clear)) goes back")
            }
        }
    }

    func cashReasonKey(_ key: Key, _ action: TillAction?, kind: CashMovementKind, amount: Int64) {
        switch key {
        case .char(let c) where !c.isNewline:
            if input.count < 60 { input.append(c) }
        case .backspace:
            if !input.isEmpty { input.removeLast() }
        case .enter:
            let reason = input.trimmingSpaces
            guard !reason.isEmpty else { return fail("Key the reason (e.g. 'window cleaner'), then Enter") }
            input = ""
            if kind == .noSale {
                authorise(.noSale, reason, .noSale(reason: reason))
            } else {
                recordCashWithinLimits(kind, amount: amount, reason: reason)
            }
        default:
            if action == .clear { mode = .cashOffice; input = ""; message = nil } else {
                fail("Key the reason, then Enter; \(keymap.label(.clear)) goes back")
            }
        }
    }

    /// A cash movement above the till's limit for its kind needs a supervisor.
    private func recordCashWithinLimits(_ kind: CashMovementKind, amount: Int64, reason: String?) {
        if let limit = settings.cashLimits.limit(for: kind), amount > limit {
            return authorise(.cashAboveLimit, "\(kind.label.lowercased()) \(currency.format(amount)) is above the till's limit of \(currency.format(limit))",
                             .cashMovement(kind, amount: amount, reason: reason))
        }
        recordCash(kind, amount: amount, reason: reason, supervisor: nil)
    }

    private func recordCash(_ kind: CashMovementKind, amount: Int64, reason: String?, supervisor: String?) {
        guard let office = env.cashOffice, let cashier else { return }
        let m = CashMovement(kind: kind, amount: amount, reason: reason, cashier: cashier.number, supervisor: supervisor, at: env.now())
        var detail = kind == .noSale ? "drawer opened" : currency.format(amount)
        if let reason { detail += ": " + reason }
        do {
            try office.recordCash(m, detail: detail, slip: env.printer.drawerJob(for: m))
            env.printer.queued()
            mode = .selling
            message = Message(text: kind == .noSale ? "Drawer open (no sale)" : "\(kind.label) \(currency.format(amount)) recorded", isError: false)
        } catch {
            mode = .cashOffice
            fail("\(error)")
        }
    }

    // MARK: - Counting the drawer by notes and coins

    func countHint(_ count: CashCount) -> String {
        // One line at 80 columns: the prompt below it must stay in sight.
        "How many of \(currency.format(count.denominations[count.selected]))? Key it and Enter; \u{2191}\u{2193} move; \(keymap.label(.total)): all counted"
    }

    /// Keys while the drawer is counted: a number and Enter for the selected note or coin (then
    /// the next), arrows to move, Total to finish; the total is added up exactly, and refused
    /// past what a drawer can hold.
    func denominationKey(_ key: Key, _ action: TillAction?, _ count: CashCount) {
        var count = count
        func take() -> Bool {
            guard !input.isEmpty else { return true }
            let text = input
            input = ""
            guard let n = Int64(text), text.allSatisfy(\.isASCIIDigit), (0...CashCount.maxPieces).contains(n) else {
                fail("'\(text)' is not a number of notes or coins: key 0 to \(CashCount.maxPieces), then Enter")
                return false
            }
            count.counts[count.selected] = n
            return true
        }
        switch key {
        case .char(let c) where c.isASCII && c.isNumber:
            if input.count < 6 { input.append(c) }
            return
        case .backspace:
            if !input.isEmpty { input.removeLast() }
            return
        case .enter:
            guard take() else { return }
            count.selected = min(count.selected + 1, count.denominations.count - 1)
        case .up:
            guard take() else { return }
            count.selected = max(0, count.selected - 1)
        case .down:
            guard take() else { return }
            count.selected = min(count.selected + 1, count.denominations.count - 1)
        default:
            if action == .total {
                guard take() else { return }
                guard let total = count.total else {
                    mode = .denominationCount(count)
                    return fail("The count comes to more than a drawer can hold: check the numbers keyed")
                }
                lastCount = count
                audit("cash-count", count.breakdown(currency))
                return askToClose(counted: total)
            }
            if action == .clear {
                input = ""
                mode = .cashOffice
                message = Message(text: "Day not closed: nothing was counted", isError: false)
                return
            }
            return fail("Key how many of \(currency.format(count.denominations[count.selected])) and Enter; \(keymap.label(.total)) finishes; \(keymap.label(.clear)) goes back")
        }
        mode = .denominationCount(count)
        message = Message(text: countHint(count), isError: false)
    }

    /// The count is keyed: the Z report waits for the cashier to say so, after saying what it
    /// does and what it leaves (sales parked now are in no report until they are finished).
    private func askToClose(counted: Int64) {
        let parked = (try? env.journal.suspendedSales().count) ?? 0
        mode = .confirmClose(counted: counted, parked: parked)
        var text = "Close the day with \(currency.format(counted)) counted? Enter closes it; \(keymap.label(.clear)) counts again"
        if parked > 0 {
            let one = parked == 1
            text = "\(parked) parked sale\(one ? " is" : "s are") waiting: finish or cancel \(one ? "it" : "them") first, "
                + "or \(one ? "it goes" : "they go") into tomorrow's report. " + text
        }
        message = Message(text: text, isError: parked > 0)
    }

    func confirmCloseKey(_ key: Key, _ action: TillAction?, counted: Int64) {
        if key == .enter { return runReport(z: true, counted: counted) }
        if action == .clear {
            input = ""
            if let count = lastCount {
                mode = .denominationCount(count)
                message = Message(text: "Not closed: correct the count. " + countHint(count), isError: false)
            } else {
                mode = .closeCount
                message = Message(text: "Not closed: count the cash again and key the total", isError: false)
            }
            return
        }
        fail("Enter closes the day with the Z report; \(keymap.label(.clear)) counts again")
    }

    private func runReport(z: Bool, counted: Int64?) {
        guard let office = env.cashOffice else { return }
        do {
            let r = try office.report(z: z, counted: counted, at: env.now(), till: settings.identity, cashier: cashier?.number,
                                      print: env.printer.reportJob)
            env.printer.queued()
            if z { env.outboxWritten() }
            mode = .document(DocumentView(title: "\(r.kind) REPORT \(r.number)", lines: env.printer.reportLines(for: r)))
            var text = "\(r.kind) report \(r.number): \(r.salesCount) sales, net \(currency.format(r.netSales))"
            if let os = r.cash.overShort { text += os == 0 ? "; the drawer balances" : os > 0 ? "; drawer over by \(currency.format(os))" : "; drawer short by \(currency.format(-os))" }
            message = Message(text: text, isError: false)
        } catch {
            mode = .cashOffice
            fail("\(error)")
        }
    }

    func documentKey(_ key: Key, _ action: TillAction?, view: DocumentView) {
        var v = view
        switch action {
        case .lineUp, .pageUp: v.scroll = max(0, v.scroll - (action == .pageUp ? 10 : 1)); mode = .document(v)
        case .lineDown, .pageDown: v.scroll = min(max(0, v.lines.count - 1), v.scroll + (action == .pageDown ? 10 : 1)); mode = .document(v)
        default:
            mode = .selling
            message = nil
        }
    }

    // MARK: - Updates from head office

    /// Applies head office's publications when no sale is open (never in the middle of one), at
    /// most twice a second.
    func applyUpdatesBetweenSales() {
        guard let updates = env.updates, sale == nil else { return }
        switch mode {
        case .selling, .receipt, .signOn, .document, .locked: break
        default: return
        }
        let now = env.now()
        guard now - lastUpdateCheck >= 500 else { return }
        lastUpdateCheck = now
        do {
            guard try updates.hasPendingPublications() else { return }
            let applied = try updates.applyPendingPublications(at: now)
            guard !applied.isEmpty else { return }
            reloadProgramme()
            if let t = try updates.terminalSettings() { adopt(t) }
            env.publicationsApplied()
            let versions = applied.map { "v\($0.publication.version)" }.joined(separator: ", ")
            let text = "Update from head office (\(versions)): " + applied.map(\.summary).joined(separator: "; ")
            if case .signOn = mode { return }
            // Just after a sale its change and receipt message stay first on the line.
            if case .receipt = mode, let m = message, !m.isError {
                message = Message(text: m.text + " " + text, isError: applied.contains { $0.problem != nil })
            } else {
                message = Message(text: text, isError: applied.contains { $0.problem != nil })
            }
        } catch {
            fail("Head office's update could not be applied: \(error); the till carries on as before")
        }
    }

    /// Takes the terminal settings that apply at once (the printer profile and keymap wait for a restart).
    func adopt(_ t: TerminalSettings) {
        if let v = t.loyaltyPromptAtTotal { settings.loyaltyPromptAtTotal = v }
        if let v = t.discountLimit, v.hasSuffix("%"), let bp = TaxRate.parsePercent(v) { settings.discountLimitBasisPoints = bp }
        if let v = t.autoLockMinutes, v >= 0 { settings.autoLockMilliseconds = Int64(v) * 60_000 }
        env.printer.settingsChanged(t)
    }

    /// A local time for people: "YYYY-MM-DD HH:MM".
    public static func text(_ t: LocalDateTime) -> String {
        let (y, m, d) = ProtocolTime.civil(fromDays: t.days)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let minute = Int64(t.minuteOfDay)
        return "\(y)-\(two(m))-\(two(d)) \(two(minute / 60)):\(two(minute % 60))"
    }

    private func showUpdates() {
        guard let updates = env.updates else { return fail("This till takes no updates from head office") }
        do {
            let list = try updates.appliedPublications(limit: 30)
            var lines: [String] = list.isEmpty ? ["No update from head office yet."] : []
            for (p, at, problem) in list {
                lines.append("v\(p.version) \(p.kind.rawValue) for \(p.scope)")
                lines.append("  by \(p.createdBy): \(p.note.isEmpty ? "-" : p.note)")
                lines.append("  applied \(Self.text(env.localTime(at)))" + (problem.map { ", NOT APPLIED: \($0)" } ?? ""))
            }
            mode = .document(DocumentView(title: "WHAT CHANGED", lines: lines))
            message = nil
        } catch { fail("\(error)") }
    }

    // MARK: - Lock

    /// Called by the terminal loop: locks the till after the configured idle time.
    public func tick() {
        applyUpdatesBetweenSales()
        takeRefreshedCards()
        guard settings.autoLockMilliseconds > 0, cashier != nil, !isLocked else { return }
        if env.now() - lastActivity >= settings.autoLockMilliseconds { lock(auto: true) }
    }

    public var isLocked: Bool { if case .locked = mode { return true } else { return false } }

    func lock(auto: Bool) {
        guard let cashier else { return }
        modeBeforeLock = mode
        input = ""
        mode = .locked
        audit("lock", auto ? "locked after \(settings.autoLockMilliseconds / 60_000) min idle" : "locked by \(cashier.name)")
        message = Message(text: "Locked. \(cashier.name): key your PIN and Enter to carry on", isError: false)
    }

    func lockedKey(_ key: Key, _ action: TillAction?) {
        switch key {
        case .char(let c) where c.isASCII && c.isNumber:
            if input.count < 8 { input.append(c) }
        case .backspace:
            if !input.isEmpty { input.removeLast() }
        case .enter:
            guard let cashier else { return }
            let pin = input
            input = ""
            let ok = (try? env.cashiers.authenticate(number: cashier.number, pin: pin)) != nil
            guard ok else {
                audit("unlock-refused", "wrong PIN")
                return fail("That is not \(cashier.name)'s PIN: the till stays locked")
            }
            mode = modeBeforeLock ?? .selling
            modeBeforeLock = nil
            audit("unlock", "")
            message = Message(text: "Unlocked", isError: false)
        default:
            fail("The till is locked: \(cashier?.name ?? "cashier"), key your PIN and Enter")
        }
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " { s.removeFirst() }
        while let l = s.last, l == " " { s.removeLast() }
        return String(s)
    }
}
