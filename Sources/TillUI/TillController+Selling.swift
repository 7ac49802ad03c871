import TillCore
import TillProtocol

extension TillController {
    // MARK: - Selling

    func sellingKey(_ key: Key, _ action: TillAction?) {
        if editEntry(key, .keyed, limit: Self.maxInputLength, sayWhenFull: true) { return }
        switch key {
        case .enter:
            guard !input.isEmpty else {
                // "3 * Enter": the selected line (the last, if none) becomes 3.
                if let q = pendingQuantity { changeQuantity(to: q) }
                return
            }
            let code = input
            entry.clear()
            isCardCode(code) ? identifyCard(code) : addItem(code)
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
        case .help: overlay = .help
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
        case .messages: overlay = .messages
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
            if basket?.customer != nil && basket?.activeLines.count == 1 { applyMemberDiscounts() }
            suggestion = crossSell(after: product)
        } catch {
            pendingQuantity = nil
            fail("\(error)")
        }
    }

    /// "Customers who buy X also buy: Y 3.49": the best of head office's suggestions for the item
    /// just rung that is not in the sale yet (nil: none, or the suggestions could not be read —
    /// they never hold up a sale).
    func crossSell(after product: Product) -> String? {
        guard let suggested = try? env.catalog.suggestions(for: product.sku), !suggested.isEmpty else { return nil }
        let inSale = Set(basket?.activeLines.map(\.item.sku) ?? [])
        guard let next = suggested.first(where: { !inSale.contains($0.sku) }) else { return nil }
        return "Customers who buy \(product.description) also buy: \(next.description) \(currency.format(next.unitPrice))\(next.soldByWeight ? "/kg" : "")"
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
        entry.clear()
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
    func removeLastTender(_ t: Tender) {
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
    func changeQuantity(to q: Quantity) {
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

    func voidLine() {
        guard let basket, !basket.isEmpty else { return fail(SaleError.noLines.description) }
        if let last = basket.tenders.last, input.isEmpty {
            return removeLastTender(last)
        }
        var number = selectedLine ?? basket.lines.count
        if !input.isEmpty {
            guard let n = Int(input), input.allSatisfy(\.isNumber) else {
                let text = input
                entry.clear()
                return fail("'\(text)' is not a line number: key 1 to \(basket.lines.count), then \(keymap.label(.voidLine))")
            }
            number = n
        }
        entry.clear()
        do {
            try apply(.voidLine(number: number))
            audit("void-line", "line \(number) \(basket.lines[number - 1].item.description) \(currency.format(basket.lines[number - 1].amount))")
            message = Message(text: "Line \(number) voided", isError: false)
            totalled = false
        } catch { fail("\(error)") }
    }

    func discount(sale isSale: Bool) {
        guard let basket, !basket.activeLines.isEmpty else { return fail(SaleError.noLines.description) }
        let text = input
        entry.clear()
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
        applyMemberDiscounts()
        if settings.loyaltyPromptAtTotal, programme != nil, basket.customer == nil, !selling.promptedForCard, !basket.paymentStarted {
            selling.promptedForCard = true
            mode = .loyaltyPrompt
            entry.clear()
            message = Message(text: "Ask for the loyalty card: scan it, or key its number and Enter", isError: false)
            return
        }
        message = Message(text: totalMessage, isError: false)
    }

    func toggleSplit() {
        guard let basket, !basket.activeLines.isEmpty else { return fail(SaleError.noLines.description) }
        split.toggle()
        message = Message(
            text: split ? "Split tender: key each part, then its tender key" : "Split tender off",
            isError: false)
    }

    func keyedAmount(default due: Int64) throws -> Int64 {
        let text = input
        entry.clear()
        if text.isEmpty { return due }
        guard let amount = currency.parseKeyed(text) else { throw SaleError.invalidAmount(text) }
        return amount
    }

    func tender(_ kind: TenderKind) {
        guard let basket, !basket.activeLines.isEmpty else { return fail(SaleError.noLines.description) }
        if let sale, basket.isPaid {
            // Paid already (a journal from before the tender and the sale were one transaction):
            // the tender key finishes it.
            entry.clear()
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
        closeSale()
        let lines = env.printer.saleCompleted(done)
        mode = .receipt(CompletedReceipt(sale: done, lines: lines, scroll: 0))
        var text = done.totals.change > 0
            ? "Change \(currency.format(done.totals.change)). Sale \(done.receiptNumber) complete."
            : "Sale \(done.receiptNumber) complete."
        if let o = done.loyalty { text += " \(o.customer.name): +\(o.earned.total + o.welcome.total) points, balance \(o.balanceAfter)." }
        message = Message(text: text, isError: false)
    }

    /// Queues a copy of the last receipt.
    func reprint() {
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

    func cardReferenceKey(_ key: Key, _ action: TillAction?, amount: Int64) {
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
        if editEntry(key, .reference, limit: 32) { return }
        switch key {
        case .enter:
            do {
                let reference = try Tender.validateReference(input)
                entry.clear()
                try done(reference)
            } catch {
                entry.clear()
                fail("\(error)")
            }
        default:
            if action == .clear {
                entry.clear()
                back()
            } else {
                fail(hint)
            }
        }
    }
}
