public import TillCore
import TillProtocol

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

/// What a reason is being chosen for (from the till's lists in `[cash_office]`).
public enum ReasonRequest: Equatable, Sendable {
    case priceOverride(line: Int, unitPrice: Int64)
    case discount(isSale: Bool, line: Int, discount: Discount)
    case refund(PendingReturn)
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
        entry.clear()
        mode = .override(OverrideRequest(action: action, pending: pending, detail: detail, supervisorNumber: nil))
        if action == .cashAboveLimit {
            message = Message(text: detail.prefix(1).uppercased() + detail.dropFirst()
                              + ": supervisor, key your number and Enter (\(keymap.label(.clear)): key another amount)", isError: false)
        } else {
            message = Message(text: "\(action.label) needs a supervisor: supervisor, key your number and Enter", isError: false)
        }
    }

    func overrideKey(_ key: Key, _ action: TillAction?, request: OverrideRequest) {
        if editEntry(key, .digits, limit: 8) { return }
        switch key {
        case .enter:
            guard !input.isEmpty else {
                return fail(request.supervisorNumber == nil ? "Supervisor: key your number, then Enter" : "Supervisor: key your PIN, then Enter")
            }
            guard let number = request.supervisorNumber else {
                var next = request
                next.supervisorNumber = input
                entry.clear()
                mode = .override(next)
                message = Message(text: "Supervisor \(number(next)): key your PIN and Enter", isError: false)
                return
            }
            let pin = input
            entry.clear()
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
                entry.clear()
                leaveOverride(request, refused: nil)
            } else {
                fail("Supervisor: key your number and PIN with the digit keys, then Enter; \(keymap.label(.clear)) goes back")
            }
        }
    }

    func number(_ r: OverrideRequest) -> String { r.supervisorNumber ?? "" }

    /// Back to where the action was asked for, the sale or return unchanged.
    func leaveOverride(_ request: OverrideRequest, refused: String?) {
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
            returnFlow.noReceiptSupervisor = supervisor
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
        entry.clear()
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
                returnFlow.reason = reason
                switch pending {
                case .receipt(let draft, let toCash):
                    mode = .returnLines(draft)
                    refund(draft, toCash: toCash)
                case .withoutReceipt(let items):
                    mode = .returnItems(items)
                    commitRefund(.withoutReceipt(items: items), draft: nil, supervisor: returnFlow.noReceiptSupervisor)
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

    func authorisePriceOverride(line: Int, unitPrice price: Int64, reason: String?) {
        guard let basket else { return }
        mode = .selling
        let item = basket.lines[line - 1].item
        authorise(.priceOverride, "line \(line) \(item.description) \(currency.format(item.unitPrice)) -> \(currency.format(price))"
                  + (reason.map { " (\($0))" } ?? ""), .priceOverride(line: line, unitPrice: price, reason: reason))
    }
}
