public import TillCore
import TillProtocol

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

extension TillController {
    // MARK: - Returns

    /// Leaves selling for a cash office screen: only with no sale open, on a till with a cash office.
    func leaveSelling(to next: Mode, before what: String, unavailable: String, _ text: String) {
        if let sale, !sale.basket.isEmpty { return fail("Finish or suspend this sale before \(what)") }
        guard env.cashOffice != nil else { return fail("\(unavailable) not available on this till") }
        entry.clear()
        mode = next
        message = Message(text: text, isError: false)
    }

    func startReturn() {
        returnFlow = ReturnFlow()
        leaveSelling(to: .returnReceipt, before: "a return", unavailable: "Returns are",
                     "Return: scan the barcode on the receipt, or key its number and Enter (\(keymap.label(.refund)) again: no receipt)")
    }

    func returnReceiptKey(_ key: Key, _ action: TillAction?) {
        if editEntry(key, .receipt, limit: 32) { return }
        switch key {
        case .enter:
            let text = input
            entry.clear()
            findReceipt(text)
        default:
            switch action {
            case .clear: mode = .selling; entry.clear(); message = Message(text: "No return", isError: false)
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
        if editEntry(key, .keyed, limit: 8) { return }
        switch key {
        case .enter:
            let text = input
            entry.clear()
            guard !text.isEmpty else { return refund(draft, toCash: false) }
            guard let n = Int(text), n >= 1, n <= sale.basket.lines.count else {
                returnFlow.pendingQuantityText = nil
                return fail("'\(text)' is not a line of receipt \(sale.receiptNumber): key 1 to \(sale.basket.lines.count)")
            }
            let line = sale.basket.lines[n - 1]
            let left = draft.original.left(line: n)
            if line.voided { returnFlow.pendingQuantityText = nil; return fail(ReturnError.voidedLine(n).description) }
            if left <= 0 { returnFlow.pendingQuantityText = nil; return fail(ReturnError.alreadyReturned(line: n, description: line.item.description).description) }
            var milli = left
            if let q = returnFlow.pendingQuantityText {
                returnFlow.pendingQuantityText = nil
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
            returnFlow.pendingQuantityText = input
            entry.clear()
        case .total: refund(draft, toCash: false)
        case .cash: refund(draft, toCash: true)
        case .clear:
            entry.clear()
            returnFlow.pendingQuantityText = nil
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
        if returnFlow.reason == nil && !settings.returnReasons.isEmpty {
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
        if editEntry(key, .keyed, limit: Self.maxInputLength) { return }
        switch key {
        case .enter:
            let code = input
            entry.clear()
            if !code.isEmpty { addReturnItem(code, to: items) }
            return
        default: break
        }
        switch action {
        case .quantity:
            keyQuantity()                       // 2 * then the item; 0.750 * for a weighed one
        case .total, .cash:
            guard !items.isEmpty else { return fail("Scan or key the items being returned first") }
            if returnFlow.reason == nil && !settings.returnReasons.isEmpty {
                mode = .reason(.refund(.withoutReceipt(items)))
                message = Message(text: "Why are these items being returned? Key the reason's number", isError: false)
                return
            }
            // Already authorised when the mode started; the supervisor's number is on the audit trail.
            commitRefund(.withoutReceipt(items: items), draft: nil, supervisor: returnFlow.noReceiptSupervisor)
        case .voidLine:
            guard !items.isEmpty else { return }
            var next = items
            next.removeLast()
            mode = .returnItems(next)
            message = Message(text: "Last item taken off the return", isError: false)
        case .clear:
            mode = .selling
            entry.clear()
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
        let reason = returnFlow.reason
        do {
            let refund = try office.commitRefund(
                request, id: env.makeSaleID(), cashier: cashier, supervisor: supervisor, at: env.now(), till: settings.identity,
                programme: programme, cardReference: cardReference, reason: reason, slip: env.printer.refundJob)
            returnFlow = ReturnFlow()
            env.outboxWritten()
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
}
