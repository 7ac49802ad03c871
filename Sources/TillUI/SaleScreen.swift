import Foundation
public import TillCore

/// Draws the controller's state. Holds no state of its own: every frame is drawn from scratch
/// (ncurses sends only the differences to the terminal).
struct SaleScreen {
    static let minRows = 24
    static let minCols = 80

    let t: Terminal
    /// A timestamp as a local date and time.
    var dateText: (Timestamp) -> String = { String($0) }

    func draw(_ c: TillController, clock: String, status: [String]) {
        t.clear()
        guard t.rows >= Self.minRows, t.cols >= Self.minCols else {
            t.put(0, 0, "The till needs a terminal of at least \(Self.minCols)x\(Self.minRows);", .bold)
            t.put(1, 0, "this one is \(t.cols)x\(t.rows). Enlarge the window: nothing is lost meanwhile.")
            t.refresh()
            return
        }
        header(c, clock: clock)
        statusBar(c, status: status)
        switch c.mode {
        case .signOn(let number):
            signOn(c, number: number)
        default:
            saleBody(c)
            switch c.mode {
            case .receipt(let r): receipt(c, r)
            case .resumeList(let sales, let selected): resumeList(c, sales, selected)
            case .confirmCancel: confirmCancel(c)
            case .loyaltyPrompt: loyaltyPrompt(c)
            case .registration(let form): registration(c, form)
            case .customerSearch(let search): customerSearch(c, search)
            case .customerDetail(let detail): customerDetail(c, detail)
            case .productLookup(let lookup): productLookup(c, lookup)
            case .override(let request): overridePanel(c, request)
            case .reason(let request):
                smallPanel(c, reasonTitle(c, request).0, [reasonTitle(c, request).1]
                           + c.reasons(for: request).enumerated().map { "\($0.offset + 1)  \($0.element)" }
                           + ["\(c.settings.keymap.label(.clear)): back"])
            case .returnReceipt: returnReceipt(c)
            case .returnLines(let draft): returnLines(c, draft)
            case .refundCardReference(let step): returnLines(c, step.draft)
            case .returnItems(let items): returnItems(c, items)
            case .document(let view): document(c, view)
            case .cashOffice: cashOffice(c)
            case .cashAmount(let kind): smallPanel(c, kind.label.uppercased(), ["Key the amount and Enter."])
            case .cashReason(let kind, let amount):
                smallPanel(c, kind.label.uppercased(), [kind == .noSale ? "Why open the drawer?" : "\(kind.label) \(c.settings.identity.currency.format(amount)): what for?",
                                                       "Reason: " + c.input])
            case .denominationCount(let count): countPanel(c, count)
            case .closeCount: smallPanel(c, "CLOSE THE DAY", ["Count every note and coin in the drawer", "and key the total, then Enter.", "The Z report then closes the day."])
            case .confirmClose(let counted, let parked):
                smallPanel(c, "CLOSE THE DAY?", ["Counted: \(c.settings.identity.currency.format(counted))"]
                           + (parked > 0 ? ["\(parked) parked sale\(parked == 1 ? "" : "s") waiting:", "finish or cancel first, or it goes", "into the next day's report."] : [])
                           + ["Enter: print the Z report, close the day.", "\(c.settings.keymap.label(.clear)): count again."])
            case .locked: lockedPanel(c)
            default: break
            }
        }
        messageLine(c)
        if c.showingMessages { messages(c) }
        if c.showingHelp { help(c) }
        if c.showingPoints { pointsDetail(c) }
        placeCursor(c)
        t.refresh()
    }

    // MARK: Bars

    private func header(_ c: TillController, clock: String) {
        let id = c.settings.identity
        t.fillRow(0, .reverse)
        t.put(0, 1, "\(id.storeName) | Store \(id.storeID) | Till \(id.tillID)", [.reverse, .bold])
        let right = "Sale \(c.nextSaleNumber)  \(clock) "
        t.put(0, t.cols - right.count, right, .reverse)
    }

    private func statusBar(_ c: TillController, status: [String]) {
        let y = t.rows - 1
        t.fillRow(y, .reverse)
        let help = "\(c.settings.keymap.label(.help)) Help "
        let text = StatusBar.fit(cashier: c.cashier, items: status, width: t.cols - help.count - 3)
        t.put(y, 1, text, .reverse, width: t.cols - help.count - 3)
        t.put(y, t.cols - help.count - 1, help, [.reverse, .bold])
    }

    /// The message: on its line when it fits; otherwise in full, wrapped, in a box just above the
    /// totals (over the last sale lines until the next key), never cut at the screen's edge.
    private func messageLine(_ c: TillController) {
        guard let m = c.message else { return }
        let y = t.rows - 3
        let style: TextStyle = m.isError ? .error : .ok
        if m.text.count <= t.cols - 2 || !c.messageIsFresh {
            if m.text.count > t.cols - 2 {
                let more = " (\(c.settings.keymap.label(.messages)): in full)"
                t.put(y, m.isError ? 0 : 1, String(m.text.prefix(t.cols - 3 - more.count)) + "…" + more, style)
                return
            }
            if m.isError { t.put(y, 0, " " + m.text + " ", style) } else { t.put(y, 1, m.text, style) }
            return
        }
        let lines = wrap(m.text, width: t.cols - 4)
        let shown = Array(lines.prefix(max(1, t.rows - 10)))
        let top = t.rows - 7 - shown.count
        t.box(top - 1, 0, shown.count + 2, t.cols)
        for (i, line) in shown.enumerated() { t.put(top + i, 2, line, style) }
        t.put(y, 1, String(shown[0].prefix(t.cols - 3)) + "…", style)
    }

    /// The last messages, newest first, each in full.
    private func messages(_ c: TillController) {
        let w = t.cols - 4, h = t.rows - 4
        let x = 2, y = 2
        t.box(y, x, h, w)
        t.put(y, x + 2, " LAST MESSAGES (newest first) ", .bold)
        var row = y + 1
        for stamped in c.messageHistory.reversed() {
            let when = dateText(stamped.at)
            let time = String(when.suffix(5))
            for (i, line) in wrap(stamped.message.text, width: w - 10).enumerated() {
                guard row < y + h - 2 else { break }
                t.put(row, x + 2, i == 0 ? time : "", .dim)
                t.put(row, x + 8, line, stamped.message.isError ? .error : [])
                row += 1
            }
        }
        if c.messageHistory.isEmpty { t.put(row, x + 2, "No messages yet.", .dim) }
        t.put(y + h - 1, x + 2, " Any key closes ", .dim)
    }

    // MARK: Sign-on

    private func signOn(_ c: TillController, number: String?) {
        let w = 56, h = 10
        let y = max(2, (t.rows - h) / 2 - 1), x = (t.cols - w) / 2
        t.box(y, x, h, w)
        t.put(y, x + 2, " SIGN ON ", .bold)
        t.put(y + 2, x + 3, "Cashier number:")
        t.put(y + 2, x + 20, number ?? c.input, number == nil ? .underline : [])
        if number == nil { t.put(y + 2, x + 20 + c.input.count, String(repeating: " ", count: 8 - c.input.count), .underline) }
        t.put(y + 4, x + 3, "PIN:")
        if number != nil {
            t.put(y + 4, x + 20, String(repeating: "*", count: c.input.count) + String(repeating: " ", count: 8 - c.input.count), .underline)
        }
        t.put(y + 6, x + 3, "Enter: continue   \(c.settings.keymap.label(.clear)): start again", .dim)
        t.put(y + 7, x + 3, "\(c.settings.keymap.label(.quit)): quit the till", .dim)
        if let hint = c.settings.signOnHint { t.put(y + h + 1, x + 2, hint, .accent, width: w - 2) }
    }

    // MARK: Sale

    private struct Row {
        var line: Int
        var text: [String]
        var voided: Bool
        var isDiscount: Bool
    }

    private func saleBody(_ c: TillController) {
        let cur = c.settings.identity.currency
        let amountW = 11, priceW = 10, qtyW = 10
        let descX = 6
        let descW = t.cols - descX - qtyW - priceW - amountW - 2
        func row(_ y: Int, _ num: String, _ desc: String, _ qty: String, _ price: String, _ amount: String, _ style: TextStyle) {
            t.put(y, 1, pad(num, 3, right: true), style)
            t.put(y, descX, pad(desc, descW), style, width: descW)
            t.put(y, descX + descW, pad(qty, qtyW, right: true), style)
            t.put(y, descX + descW + qtyW, pad(price, priceW, right: true), style)
            t.put(y, descX + descW + qtyW + priceW, pad(amount, amountW, right: true), style)
        }
        row(1, "#", "Description", "Qty", "Price", "Amount", [.bold, .underline])

        var rows: [Row] = []
        if let b = c.displayedBasket {
            for (line, a) in zip(b.lines, b.totals.lines) {
                let item = line.item
                let qty = item.soldByWeight ? "\(item.quantity) kg" : item.quantity.description
                let price = cur.format(item.unitPrice) + (item.soldByWeight ? "/kg" : "")
                let amount = line.voided ? "VOID" : cur.format(a.gross)
                rows.append(Row(line: line.number, text: [String(line.number), item.description, qty, price, amount],
                                voided: line.voided, isDiscount: false))
                if let d = line.discount {
                    rows.append(Row(line: line.number, text: ["", "  Discount \(d.label(currency: cur))", "", "", cur.format(-a.lineDiscount)],
                                    voided: false, isDiscount: true))
                }
            }
        }
        let top = 2, bottom = t.rows - 7
        let visible = bottom - top + 1
        // Keep the selected line in view; otherwise show the newest lines.
        var first = max(0, rows.count - visible)
        if let sel = c.selectedLine, let idx = rows.firstIndex(where: { $0.line == sel }) {
            if idx < first { first = idx }
        }
        for (i, r) in rows.dropFirst(first).prefix(visible).enumerated() {
            var style: TextStyle = r.voided ? .dim : []
            if r.isDiscount { style.insert(.accent) }
            if r.line == c.selectedLine && !r.isDiscount { style.insert(.reverse) }
            row(top + i, r.text[0], r.text[1], r.text[2], r.text[3], r.text[4], style)
        }
        if first > 0 { t.put(top, t.cols - 12, " ^ more ^ ", .dim) }
        if rows.isEmpty, case .selling = c.mode {
            t.put(top + 1, descX, "Scan an item, or key its PLU and press Enter.", .dim)
            t.put(top + 2, descX, "\(c.settings.keymap.label(.help)) shows every key.", .dim)
        }

        t.hline(t.rows - 6, 0, t.cols)
        if let customer = c.customerLine { t.put(t.rows - 6, 2, " " + customer + " ", [.accent, .bold], width: t.cols - 4) }
        let totals = c.displayedBasket?.totals ?? .empty
        var summary = "Items \(totals.itemCount)"
        if totals.lineDiscounts > 0 || totals.saleDiscount > 0 {
            summary += "   Subtotal \(cur.format(totals.subtotal))"
            if totals.saleDiscount > 0 { summary += "   Sale discount -\(cur.format(totals.saleDiscount))" }
        }
        t.put(t.rows - 5, 1, summary)
        if c.split { t.put(t.rows - 5, t.cols - 12, " SPLIT ON ", .reverse) }
        let totalText = "TOTAL \(cur.code) \(cur.format(totals.total))"
        t.put(t.rows - 4, 1, totalText, c.totalled ? [.bold, .reverse] : .bold)
        if totals.paid > 0 {
            let paid = "Paid \(cur.format(totals.paid))   Due \(cur.format(totals.due))"
            t.put(t.rows - 4, t.cols - paid.count - 1, paid, .bold)
        }
        inputLine(c)
    }

    private func inputLine(_ c: TillController) {
        let y = t.rows - 2
        let prompt = Self.inputPrompt(c)
        t.put(y, 1, prompt, .bold)
        switch c.mode {
        case .confirmCancel, .registration, .customerSearch, .customerDetail, .productLookup, .locked, .cashOffice: return
        case .override(let r) where r.supervisorNumber != nil: t.put(y, prompt.count + 2, String(repeating: "*", count: c.input.count))
        default: t.put(y, prompt.count + 2, c.input)
        }
    }

    static func inputPrompt(_ c: TillController) -> String {
        var prompt: String
        switch c.mode {
        case .cardReference(let amount): prompt = "Card reference for \(c.settings.identity.currency.format(amount)):"
        case .refundCardReference(let step): prompt = "Card refund reference for \(c.settings.identity.currency.format(step.amount)):"
        case .resumeList: prompt = "Resume sale number:"
        case .confirmCancel: prompt = "Cancel the sale? Enter = yes, \(c.settings.keymap.label(.clear)) = no"
        case .receipt, .document: prompt = "Next item:"
        case .loyaltyPrompt: prompt = "Loyalty card number:"
        case .registration, .customerSearch, .customerDetail, .productLookup, .locked, .cashOffice: prompt = ""
        case .override(let r): prompt = r.supervisorNumber == nil ? "Supervisor number:" : "Supervisor \(r.supervisorNumber!) PIN:"
        case .returnReceipt: prompt = "Receipt number:"
        case .returnLines: prompt = c.pendingQuantityText.map { "\($0) x  Line number:" } ?? "Line number:"
        case .returnItems: prompt = "Item returned:"
        case .cashAmount(let kind): prompt = "\(kind.label) amount:"
        case .cashReason: prompt = "Reason:"
        case .closeCount: prompt = "Cash counted:"
        case .denominationCount(let count): prompt = "Count of \(c.settings.identity.currency.format(count.denominations[count.selected])):"
        case .confirmClose: prompt = "Close the day? Enter = yes, \(c.settings.keymap.label(.clear)) = no"
        case .reason: prompt = "Reason number:"
        default: prompt = "Item / PLU:"
        }
        if let q = c.pendingQuantity { prompt = "\(q) x  " + prompt }
        return prompt
    }

    private func placeCursor(_ c: TillController) {
        if c.showingHelp { t.hideCursor(); return }
        switch c.mode {
        case .signOn(let number):
            let w = 56, h = 10
            let y = max(2, (t.rows - h) / 2 - 1), x = (t.cols - w) / 2
            t.moveCursor(number == nil ? y + 2 : y + 4, x + 20 + c.input.count)
        case .confirmCancel, .customerDetail, .cashOffice, .document:
            t.hideCursor()
        case .locked:
            let (y, x, _, _) = lockedBox()
            t.moveCursor(y + 4, x + 20 + c.input.count)
        case .registration(let form):
            let (y, x, _, _) = registrationBox()
            let row = form.focus.rawValue
            let text = form.value(form.focus)
            t.moveCursor(y + 2 + row, x + 26 + (form.focus == .consent ? 0 : text.count))
        case .customerSearch(let search):
            let (y, x, _, _) = searchBox()
            t.moveCursor(y + 2, x + 11 + search.query.count)
        case .productLookup(let lookup):
            let (y, x, _, _) = searchBox()
            t.moveCursor(y + 2, x + 11 + lookup.query.count)
        default:
            t.moveCursor(t.rows - 2, Self.inputPrompt(c).count + 2 + c.input.count)
        }
    }

    // MARK: Overlays

    private func receipt(_ c: TillController, _ r: TillController.CompletedReceipt) {
        let cur = c.settings.identity.currency
        let w = min(52, t.cols - 4)   // 48 columns of paper and the frame
        let h = t.rows - 8
        let x = t.cols - w - 2, y = 2
        t.box(y, x, h, w)
        t.put(y, x + 2, " RECEIPT \(r.sale.receiptNumber) ", .bold)
        let body = h - 4
        let start = min(r.scroll, max(0, r.lines.count - body))
        for (i, line) in r.lines.dropFirst(start).prefix(body).enumerated() {
            t.put(y + 1 + i, x + 2, line, [], width: w - 4)
        }
        let t2 = r.sale.totals
        let change = t2.change > 0 ? "CHANGE \(cur.format(t2.change))" : "PAID IN FULL"
        t.put(y + h - 2, x + 2, change, [.bold, .reverse])
        if r.lines.count > body { t.put(y + h - 1, x + w - 16, " Up/Down more ", .dim) }
    }

    private func resumeList(_ c: TillController, _ sales: [SuspendedSale], _ selected: Int) {
        let cur = c.settings.identity.currency
        let w = 64, h = min(t.rows - 8, sales.count + 4)
        let x = (t.cols - w) / 2, y = 3
        t.box(y, x, h, w)
        t.put(y, x + 2, " SUSPENDED SALES ", .bold)
        let body = h - 3
        let first = max(0, min(selected - body + 1, sales.count - body))
        for (i, s) in sales.enumerated().dropFirst(first).prefix(body) {
            let text = pad(String(i + 1), 3, right: true) + "  " + pad(s.cashierName, 20) + pad("\(s.itemCount) items", 10, right: true)
                + pad(cur.format(s.total), 12, right: true)
            t.put(y + 1 + i - first, x + 2, pad(text, w - 4), i == selected ? .reverse : [])
        }
        t.put(y + h - 1, x + 2, " Up/Down or number, Enter resumes, \(c.settings.keymap.label(.clear)) goes back ", .dim)
    }

    private func confirmCancel(_ c: TillController) {
        let cur = c.settings.identity.currency
        let totals = c.basket?.totals ?? .empty
        var giveBack: [String] = []
        if let basket = c.basket, let text = TillController.giveBack(basket, currency: cur) {
            giveBack = wrap(text.prefix(1).uppercased() + text.dropFirst() + ".", width: 54)
        }
        let w = 60, h = 6 + giveBack.count
        let x = (t.cols - w) / 2, y = (t.rows - h) / 2
        t.box(y, x, h, w)
        t.put(y, x + 2, " CANCEL SALE ", [.bold, .error])
        t.put(y + 2, x + 3, "Cancel this sale of \(totals.itemCount) items, \(cur.format(totals.total))?")
        for (i, line) in giveBack.enumerated() { t.put(y + 3 + i, x + 3, line, .bold) }
        t.put(y + 3 + giveBack.count, x + 3, "Enter = cancel it     \(c.settings.keymap.label(.clear)) = keep selling", .bold)
    }

    private func loyaltyPrompt(_ c: TillController) {
        let km = c.settings.keymap
        let cur = c.settings.identity.currency
        let w = 62, h = 9
        let x = (t.cols - w) / 2, y = max(2, (t.rows - h) / 2 - 2)
        t.box(y, x, h, w)
        t.put(y, x + 2, " LOYALTY CARD ", .bold)
        t.put(y + 2, x + 3, "Total \(cur.format(c.basket?.totals.due ?? 0)) due.", .bold)
        t.put(y + 3, x + 3, "Ask for the customer's loyalty card and scan or swipe it,")
        t.put(y + 4, x + 3, "or key its number and Enter.")
        t.put(y + 6, x + 3, "\(km.label(.clear)) / Enter: no card   \(km.label(.newCard)): new card   \(km.label(.findCustomer)): find", .dim, width: w - 5)
        t.put(y + 7, x + 3, "\(km.label(.cash)) / \(km.label(.card)): pay without a card", .dim, width: w - 5)
    }

    private func registrationBox() -> (y: Int, x: Int, h: Int, w: Int) {
        let w = min(72, t.cols - 4), h = 14
        return (max(1, (t.rows - h) / 2 - 2), (t.cols - w) / 2, h, w)
    }

    private func registration(_ c: TillController, _ form: RegistrationForm) {
        let (y, x, h, w) = registrationBox()
        t.box(y, x, h, w)
        t.put(y, x + 2, " NEW LOYALTY CARD ", .bold)
        for f in RegistrationForm.Field.allCases {
            let row = y + 2 + f.rawValue
            let focused = f == form.focus
            t.put(row, x + 3, f.label + ":", focused ? .bold : [])
            let width = min(f == .consent ? 3 : 40, w - 29)
            var value = form.value(f)
            if f == .card, !value.isEmpty, value.allSatisfy({ $0.isASCII && $0.isNumber }) { value = String(value.suffix(width)) }
            t.put(row, x + 26, value + String(repeating: " ", count: max(0, width - value.count)), focused ? [.underline, .bold] : .underline, width: width)
        }
        t.put(y + h - 3, x + 3, form.focus.hint, .accent, width: w - 6)
        t.put(y + h - 2, x + 3, "Enter/Tab: next field   Up: back   \(c.settings.keymap.label(.clear)): cancel", .dim, width: w - 6)
    }

    private func searchBox() -> (y: Int, x: Int, h: Int, w: Int) {
        let w = min(76, t.cols - 4), h = min(t.rows - 8, 16)
        return (2, (t.cols - w) / 2, h, w)
    }

    private func customerSearch(_ c: TillController, _ search: CustomerSearch) {
        searchPanel(c, search, title: "FIND CUSTOMER", hint: "Card, phone, e-mail, or names (the start of each, any order)", enter: "open") { r, _ in
            let contact = r.phone ?? r.email ?? ""
            return pad(LoyaltyCardNumber.masked(r.cardNumber), 21) + pad(r.name, 24) + pad(contact, 20) + (r.status == "active" ? "" : r.status.uppercased())
        }
    }

    /// A search's panel: what is keyed, how many match, the page with the selected row shown.
    private func searchPanel<Item>(_ c: TillController, _ search: PagedSearch<Item>, title: String, hint: String, enter: String,
                                   row: (Item, _ width: Int) -> String) {
        let (y, x, h, w) = searchBox()
        t.box(y, x, h, w)
        t.put(y, x + 2, " \(title) ", .bold)
        t.put(y + 2, x + 3, "Search:", .bold)
        t.put(y + 2, x + 11, search.query + String(repeating: " ", count: max(0, 40 - search.query.count)), .underline, width: w - 14)
        t.put(y + 3, x + 3, hint, .dim, width: w - 6)
        if search.total > 0 {
            let count = "\(search.offset + 1)-\(search.offset + search.results.count) of \(search.total)"
            t.put(y + 4, x + w - count.count - 3, count, .bold)
        }
        let body = h - 7
        let first = max(0, min(search.selected - body + 1, search.results.count - body))
        for (i, r) in search.results.enumerated().dropFirst(first).prefix(body) {
            t.put(y + 5 + i - first, x + 2, pad(row(r, w - 4), w - 4), i == search.selected ? .reverse : [], width: w - 4)
        }
        t.put(y + h - 1, x + 2, " Enter: search / \(enter)   Up/Down: choose   PgUp/PgDn: pages   \(c.settings.keymap.label(.clear)): back ", .dim)
    }

    private func productLookup(_ c: TillController, _ l: ProductLookup) {
        let cur = c.settings.identity.currency
        searchPanel(c, l, title: "FIND A PRODUCT", hint: "Words of the name or category, any order; scan: price check", enter: "add") { p, width in
            let price = cur.format(p.unitPrice) + (p.soldByWeight ? "/kg" : "")
            let name = pad(p.description, max(10, width - 8 - 12 - 12))
            return pad(p.plu ?? "", 8) + name + pad(p.category, 12) + pad(price, 12, right: true)
        }
    }

    private func customerDetail(_ c: TillController, _ d: CustomerDetail) {
        let cur = c.settings.identity.currency
        let (y, x, h, w) = searchBox()
        t.box(y, x, h, w)
        t.put(y, x + 2, " CUSTOMER ", .bold)
        let m = d.customer
        t.put(y + 1, x + 3, d.summary.name, .bold, width: w - 6)
        t.put(y + 2, x + 3, "Card \(LoyaltyCardNumber.masked(m.cardNumber))   \(d.summary.status.uppercased())", [], width: w - 6)
        t.put(y + 3, x + 3, [d.summary.phone, d.summary.email].compactMap { $0 }.joined(separator: "   "), [], width: w - 6)
        t.put(y + 4, x + 3, "Balance \(m.balance) points\(m.provisional ? " (provisional)" : "")   Tier \(m.tierName ?? "-")", .bold, width: w - 6)
        if let next = d.nextTier { t.put(y + 5, x + 3, next, .accent, width: w - 6) }
        t.put(y + 6, x + 3, d.purchases.isEmpty ? "No purchases at this till yet" : "Purchases at this till:", .underline)
        for (i, p) in d.purchases.prefix(h - 9).enumerated() {
            let date = dateText(p.completedAt)
            t.put(y + 7 + i, x + 3, pad(date, 18) + pad(p.receiptNumber, 18) + pad("\(p.items) items", 10, right: true) + pad(cur.format(p.total), 12, right: true))
        }
        t.put(y + h - 1, x + 2, " Enter: this customer for the sale   \(c.settings.keymap.label(.clear)): back ", .dim)
    }

    private func pointsDetail(_ c: TillController) {
        let award = c.projectedAward() ?? PointsAward(parts: [])
        let customer = c.displayedBasket?.customer
        let w = min(66, t.cols - 4), h = min(t.rows - 2, award.parts.count + 7)
        let x = (t.cols - w) / 2, y = 2
        t.box(y, x, h, w)
        t.put(y, x + 2, " POINTS THIS SALE ", .bold)
        if let customer { t.put(y + 1, x + 3, "\(customer.name): \(customer.balance) points now", [], width: w - 6) }
        for (i, p) in award.parts.prefix(h - 7).enumerated() {
            t.put(y + 3 + i, x + 3, pad(p.label, w - 16), [], width: w - 16)
            t.put(y + 3 + i, x + w - 12, pad("+\(p.points)", 9, right: true))
        }
        let row = y + 3 + min(award.parts.count, h - 7)
        t.put(row + 1, x + 3, pad("Total earned", w - 16), .bold)
        t.put(row + 1, x + w - 12, pad("+\(award.total)", 9, right: true), .bold)
        t.put(y + h - 1, x + 2, " Any key closes this ", .dim)
    }

    private func help(_ c: TillController) {
        let km = c.settings.keymap
        let allActions = TillAction.allCases.filter { $0 != .quantity && $0 != .help && ![.lineUp, .lineDown, .pageUp, .pageDown].contains($0) }
        if allActions.count + 6 > t.rows - 1 { return helpInTwoColumns(c, allActions) }
        var lines: [(String, String)] = [
            ("digits Enter", "Key a PLU, barcode or card; Backspace deletes"),
            ("N \(km.label(.quantity))", "Quantity of the next item, e.g. 3 \(km.label(.quantity)) or 0.750 \(km.label(.quantity))"),
        ]
        let navigation: [TillAction] = [.lineUp, .lineDown, .pageUp, .pageDown]
        for action in TillAction.allCases where action != .quantity && action != .help && !navigation.contains(action) {
            let keys = km.keys(for: action).map(\.description).joined(separator: " ")
            if !keys.isEmpty { lines.append((keys, action.summary)) }
        }
        let nav = navigation.flatMap { km.keys(for: $0) }.map(\.description).joined(separator: " ")
        lines.append((nav, "Select a line, scroll"))
        lines.append(("", "Amounts: 2000 is 20.00; 20.00 is 20.00 too"))
        // Keys first column as wide as the longest (so "Ctrl-X F10" fits), at most 18.
        let keyW = min(18, (lines.map(\.0.count).max() ?? 10) + 1)
        let w = min(t.cols - 2, 78), h = min(t.rows - 1, lines.count + 2)
        let x = (t.cols - w) / 2, y = 0
        t.box(y, x, h, w)
        t.put(y, x + 2, " KEYS (\(km.label(.help))) ", .bold)
        for (i, l) in lines.prefix(h - 2).enumerated() {
            t.put(y + 1 + i, x + 2, pad(l.0, keyW), .bold)
            t.put(y + 1 + i, x + 2 + keyW + 1, l.1, [], width: w - keyW - 5)
        }
        t.put(y + h - 1, x + 2, " Any key closes this help ", .dim)
    }

    /// Help on a screen too short for one column: the short summaries, side by side.
    private func helpInTwoColumns(_ c: TillController, _ actions: [TillAction]) {
        let km = c.settings.keymap
        var lines: [(String, String)] = [("digits Enter", "PLU, barcode or card"), ("N \(km.label(.quantity))", "Quantity (0.750 = kg)")]
        for action in actions {
            let keys = km.keys(for: action).map(\.description).joined(separator: " ")
            if !keys.isEmpty { lines.append((keys, action.shortSummary)) }
        }
        let nav = [TillAction.lineUp, .lineDown, .pageUp, .pageDown].flatMap { km.keys(for: $0) }.map(\.description).joined(separator: " ")
        lines.append(("", nav + " lines"))
        lines.append(("", "Amounts: 2000 is 20.00"))
        let w = min(t.cols - 2, 78), perColumn = (lines.count + 1) / 2
        let h = min(t.rows - 1, perColumn + 2)
        let x = (t.cols - w) / 2, y = 0
        let colW = (w - 4) / 2
        let keyW = min(12, (lines.map(\.0.count).max() ?? 10) + 1)
        t.box(y, x, h, w)
        t.put(y, x + 2, " KEYS (\(km.label(.help))) ", .bold)
        for (i, l) in lines.enumerated() {
            let col = i / perColumn, row = i % perColumn
            guard row < h - 2 else { continue }
            let cx = x + 2 + col * (colW + 1)
            t.put(y + 1 + row, cx, pad(l.0, keyW), .bold, width: keyW)
            t.put(y + 1 + row, cx + keyW + 1, l.1, [], width: colW - keyW - 1)
        }
        t.put(y + h - 1, x + 2, " Any key closes this help ", .dim)
    }

    // MARK: Cash office

    private func box(_ title: String, width: Int, height: Int, top: Int? = nil, titleStyle: TextStyle = .bold) -> (y: Int, x: Int, w: Int, h: Int) {
        let w = min(width, t.cols - 2), h = min(height, t.rows - 8)
        let x = (t.cols - w) / 2, y = top ?? max(2, (t.rows - 6 - h) / 2)
        t.box(y, x, h, w)
        t.put(y, x + 2, " \(title) ", titleStyle)
        return (y, x, w, h)
    }

    /// The reason panel's title and what it is for.
    private func reasonTitle(_ c: TillController, _ request: ReasonRequest) -> (String, String) {
        let money = c.settings.identity.currency
        switch request {
        case .priceOverride(let line, let price): return ("PRICE OVERRIDE: REASON", "Line \(line): new price \(money.format(price))")
        case .discount(let isSale, let line, let d):
            return ("DISCOUNT: REASON", (isSale ? "Sale discount " : "Line \(line): discount ") + d.label(currency: money))
        case .refund(.receipt(let draft, _)): return ("RETURN: REASON", "Receipt \(draft.original.sale.receiptNumber)")
        case .refund(.withoutReceipt(let items)): return ("RETURN: REASON", "\(items.count) item\(items.count == 1 ? "" : "s") without a receipt")
        }
    }

    /// The drawer's count: each note and coin, how many, their value, in two columns; the total.
    private func countPanel(_ c: TillController, _ count: CashCount) {
        let money = c.settings.identity.currency
        let rows = (count.denominations.count + 1) / 2
        let (y, x, w, h) = box("CLOSE THE DAY: COUNT THE DRAWER", width: 74, height: rows + 6)
        let half = (w - 4) / 2
        for (i, d) in count.denominations.enumerated() {
            let n = count.counts[i]
            let (product, overflow) = d.multipliedReportingOverflow(by: n)
            let value = overflow ? "?" : money.format(product)
            let shown = i == count.selected && !c.input.isEmpty ? c.input + "_" : String(n)
            let text = pad(money.format(d), 8, right: true) + " x " + pad(shown, 7) + pad(value, 12, right: true)
            t.put(y + 2 + i % rows, x + 2 + (i / rows) * half, (i == count.selected ? ">" : " ") + text, i == count.selected ? .reverse : [], width: half - 1)
        }
        let total = count.total.map(money.format) ?? "too large"
        t.put(y + 3 + rows, x + 3, "Counted: \(total)", .bold, width: w - 6)
        t.put(y + h - 1, x + 2, " Enter: next   \(c.settings.keymap.label(.total)): done   \(c.settings.keymap.label(.clear)): back ", .dim)
    }

    private func smallPanel(_ c: TillController, _ title: String, _ lines: [String]) {
        let (y, x, w, h) = box(title, width: 60, height: lines.count + 4)
        for (i, l) in lines.enumerated() { t.put(y + 2 + i, x + 3, l, [], width: w - 6) }
        t.put(y + h - 1, x + 2, " Enter: go on   \(c.settings.keymap.label(.clear)): back ", .dim)
    }

    private func overridePanel(_ c: TillController, _ r: OverrideRequest) {
        let (y, x, w, h) = box("SUPERVISOR OVERRIDE", width: 66, height: 9, titleStyle: [.bold, .error])
        t.put(y + 2, x + 3, r.action.label, .bold, width: w - 6)
        t.put(y + 3, x + 3, r.detail, [], width: w - 6)
        t.put(y + 5, x + 3, "Supervisor number: " + (r.supervisorNumber ?? c.input), r.supervisorNumber == nil ? .bold : [])
        if r.supervisorNumber != nil { t.put(y + 6, x + 3, "PIN: " + String(repeating: "*", count: c.input.count), .bold) }
        t.put(y + h - 1, x + 2, " Enter: go on   \(c.settings.keymap.label(.clear)): not now ", .dim)
    }

    private func returnReceipt(_ c: TillController) {
        let km = c.settings.keymap
        smallPanel(c, "RETURN", ["Scan the barcode on the customer's receipt,", "or key the receipt number and Enter.",
                                 "\(km.label(.refund)): no receipt (supervisor, cash at today's price)"])
    }

    private func returnLines(_ c: TillController, _ d: ReturnDraft) {
        let cur = c.settings.identity.currency
        let sale = d.original.sale
        let (y, x, w, h) = box("RETURN OF RECEIPT \(sale.receiptNumber)", width: 78, height: t.rows - 8, top: 1)
        t.put(y + 1, x + 2, pad("#", 3, right: true) + "  " + pad("Description", w - 48) + pad("Sold", 8, right: true) + pad("Left", 8, right: true)
              + pad("Return", 8, right: true) + pad("Paid", 12, right: true), [.bold, .underline], width: w - 4)
        let lines = sale.basket.lines
        let body = h - 7
        let first = max(0, min(d.selected - body, lines.count - body))
        for (i, l) in lines.enumerated().dropFirst(first).prefix(body) {
            let left = d.original.left(line: l.number)
            let chosen = d.chosen[l.number].map { Quantity(milli: $0).description } ?? ""
            let paid = l.voided ? "VOID" : cur.format(sale.totals.lines[i].net)
            var style: TextStyle = l.voided || left == 0 ? .dim : []
            if !chosen.isEmpty { style.insert(.accent) }
            if l.number == d.selected { style.insert(.reverse) }
            t.put(y + 2 + i - first, x + 2, pad(String(l.number), 3, right: true) + "  " + pad(l.item.description, w - 48)
                  + pad(l.item.quantity.description, 8, right: true) + pad(Quantity(milli: left).description, 8, right: true)
                  + pad(chosen, 8, right: true) + pad(paid, 12, right: true), style, width: w - 4)
        }
        var summary = "Choose lines: number Enter (N \(c.settings.keymap.label(.quantity)) number for part)"
        if !d.chosen.isEmpty, case .success(let p) = c.previewRefund(d) {
            summary = "Refund \(cur.format(p.total)):"
            for tender in p.tenders {
                switch tender.kind {
                case .cash: summary += " cash \(cur.format(tender.amount))"
                case .card: summary += " card \(cur.format(tender.amount))"
                case .points: summary += " points +\(tender.points ?? 0)"
                }
            }
            if p.pointsTakenBack > 0 { summary += "; points taken back \(p.pointsTakenBack)" }
        }
        t.put(y + h - 3, x + 3, summary, .bold, width: w - 6)
        if let customer = sale.loyalty?.customer { t.put(y + h - 4, x + 3, "Loyalty: \(customer.name), card \(LoyaltyCardNumber.masked(customer.cardNumber))", .accent, width: w - 6) }
        let km = c.settings.keymap
        t.put(y + h - 1, x + 2, " \(km.label(.total)): refund to how it was paid   \(km.label(.cash)): all in cash   \(km.label(.clear)): abandon ", .dim, width: w - 4)
    }

    private func returnItems(_ c: TillController, _ items: [LineItem]) {
        let cur = c.settings.identity.currency
        let (y, x, w, h) = box("REFUND WITHOUT RECEIPT", width: 70, height: max(8, min(t.rows - 8, items.count + 6)))
        for (i, item) in items.suffix(h - 5).enumerated() {
            t.put(y + 2 + i, x + 3, pad(item.description, w - 20) + pad(cur.format(item.unitPrice), 12, right: true), [], width: w - 6)
        }
        if items.isEmpty { t.put(y + 2, x + 3, "Scan or key each item the customer brings back.", .dim) }
        let total = items.reduce(0) { $0 + (MinorUnits.mulDivRounded($1.unitPrice, $1.quantity.milli, 1000) ?? 0) }
        t.put(y + h - 2, x + 3, "Refund in cash: \(cur.format(total))", .bold)
        let km = c.settings.keymap
        t.put(y + h - 1, x + 2, " \(km.label(.total)): refund   \(km.label(.voidLine)): remove last   \(km.label(.clear)): abandon ", .dim, width: w - 4)
    }

    private func document(_ c: TillController, _ v: DocumentView) {
        let w = min(52, t.cols - 4)   // 48 columns of paper and the frame
        let h = t.rows - 8
        let x = t.cols - w - 2, y = 2
        t.box(y, x, h, w)
        t.put(y, x + 2, " \(v.title) ", .bold)
        let body = h - 2
        let start = min(v.scroll, max(0, v.lines.count - body))
        for (i, line) in v.lines.dropFirst(start).prefix(body).enumerated() {
            t.put(y + 1 + i, x + 2, line, [], width: w - 4)
        }
        if v.lines.count > body { t.put(y + h - 1, x + w - 16, " Up/Down more ", .dim) }
    }

    private func cashOffice(_ c: TillController) {
        let items = CashOfficeItem.allCases
        let (y, x, w, h) = box("CASH OFFICE", width: 60, height: items.count + 4)
        for (i, item) in items.enumerated() {
            t.put(y + 2 + i, x + 3, "\(item.rawValue)  \(item.label)", [], width: w - 6)
        }
        t.put(y + h - 1, x + 2, " Key a number   \(c.settings.keymap.label(.clear)): back ", .dim)
    }

    private func lockedBox() -> (y: Int, x: Int, h: Int, w: Int) {
        let w = 56, h = 8
        return (max(2, (t.rows - h) / 2 - 1), (t.cols - w) / 2, h, w)
    }

    private func lockedPanel(_ c: TillController) {
        let (y, x, h, w) = lockedBox()
        for row in 0..<h { t.put(y + row, x, String(repeating: " ", count: w)) }
        t.box(y, x, h, w)
        t.put(y, x + 2, " LOCKED ", [.bold, .error])
        t.put(y + 2, x + 3, "\(c.cashier?.name ?? "Cashier") (\(c.cashier?.number ?? ""))", .bold)
        t.put(y + 4, x + 3, "PIN:")
        t.put(y + 4, x + 20, String(repeating: "*", count: c.input.count) + String(repeating: " ", count: max(0, 8 - c.input.count)), .underline)
        t.put(y + 6, x + 3, "Key your PIN and Enter to carry on", .dim)
    }

    private func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
        if s.count >= n { return String(s.prefix(n)) }
        let fill = String(repeating: " ", count: n - s.count)
        return right ? fill + s : s + fill
    }
}

/// `text` in lines of at most `width` characters, broken at spaces (a word longer than a line is
/// cut into pieces): nothing the cashier must read is lost at the edge of a box.
func wrap(_ text: String, width: Int) -> [String] {
    var lines: [String] = []
    var current = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: true) {
        var word = Substring(word)
        while word.count > width {
            if !current.isEmpty { lines.append(current); current = "" }
            lines.append(String(word.prefix(width)))
            word = word.dropFirst(width)
        }
        if current.isEmpty {
            current = String(word)
        } else if current.count + 1 + word.count <= width {
            current += " " + word
        } else {
            lines.append(current)
            current = String(word)
        }
    }
    if !current.isEmpty { lines.append(current) }
    return lines
}

/// The status bar at any width: full words when they fit; at 80 columns the same facts
/// abbreviated (offline and unsent, printer and config version are never the ones cut).
public enum StatusBar {
    public static func fit(cashier: Cashier?, items: [String], width: Int) -> String {
        let who = cashier.map { "Cashier \($0.number) \($0.name)" } ?? "Signed off"
        let whoShort = cashier.map { "C\($0.number)" } ?? "Off"
        let short = items.map(abbreviated)
        // Times without their seconds, last.
        let shorter = short.map { $0.replacingOccurrences(of: #"(\d\d:\d\d):\d\d"#, with: "$1", options: .regularExpression) }
        let candidates = [([who] + items, " | "), ([whoShort] + items, " | "), ([who] + short, " | "), ([whoShort] + short, " | "),
                          ([whoShort] + short, "|"), ([whoShort] + shorter, "|")]
        for (parts, separator) in candidates {
            let text = parts.joined(separator: separator)
            if text.count <= width { return text }
        }
        return String(([whoShort] + shorter).joined(separator: "|").prefix(width))
    }

    /// One status item in as few characters as say the same.
    static func abbreviated(_ item: String) -> String {
        var s = item
        for (long, short) in [("Printer: ", "Prn "), ("Unsent: ", "Unsent "), (" (oldest ", " "), ("Head office: ", "HO "),
                              ("last contact ", ""), ("no contact yet", "never"), ("offline, ", "OFFLINE "), ("connecting", "…"),
                              (" waiting)", "w)"), ("REJECTED: ", "REJ "), (" (till sync status)", ""), ("Config v", "Cfg v"), ("Programme: ", "Prog ")] {
            s = s.replacingOccurrences(of: long, with: short)
        }
        // A long reason in brackets is for `till sync status`, not the bar.
        if let open = s.firstIndex(of: "("), s.hasSuffix(")"), s.distance(from: open, to: s.endIndex) > 24 {
            s = String(s[..<open]).trimmingCharacters(in: .whitespaces)
        }
        if s.hasPrefix("Unsent "), s.hasSuffix(")") { s.removeLast() }
        return s
    }
}

