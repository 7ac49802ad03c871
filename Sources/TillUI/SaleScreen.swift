import Foundation
import TillCore

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

    func header(_ c: TillController, clock: String) {
        let id = c.settings.identity
        t.fillRow(0, .reverse)
        t.put(0, 1, "\(id.storeName) | Store \(id.storeID) | Till \(id.tillID)", [.reverse, .bold])
        let right = "Sale \(c.nextSaleNumber)  \(clock) "
        t.put(0, t.cols - right.count, right, .reverse)
    }

    func statusBar(_ c: TillController, status: [String]) {
        let y = t.rows - 1
        t.fillRow(y, .reverse)
        let help = "\(c.settings.keymap.label(.help)) Help "
        let text = StatusBar.fit(cashier: c.cashier, items: status, width: t.cols - help.count - 3)
        t.put(y, 1, text, .reverse, width: t.cols - help.count - 3)
        t.put(y, t.cols - help.count - 1, help, [.reverse, .bold])
    }

    /// The message: on its line when it fits; otherwise in full, wrapped, in a box just above the
    /// totals (over the last sale lines until the next key), never cut at the screen's edge.
    func messageLine(_ c: TillController) {
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
    func messages(_ c: TillController) {
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

    func signOn(_ c: TillController, number: String?) {
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
        if let hint = c.settings.signOnHint {
            // Centred under the box, as wide as the terminal: cut to the box, the demo's hint lost
            // the last digit of the supervisor's PIN.
            t.put(y + h + 1, max(0, (t.cols - hint.count) / 2), hint, .accent)
        }
    }

    // MARK: Sale

    struct Row {
        var line: Int
        var text: [String]
        var voided: Bool
        var isDiscount: Bool
    }

    func saleBody(_ c: TillController) {
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
                if a.offerDiscount > 0 {
                    rows.append(Row(line: line.number, text: ["", "  Offer: \(b.totals.offerLabel)", "", "", cur.format(-a.offerDiscount)],
                                    voided: false, isDiscount: true))
                }
            }
        }
        // The cross-sell suggestion, on the last row of the lines while the sale is being rung.
        var bottom = t.rows - 7
        if let s = c.suggestion, case .selling = c.mode, !c.totalled {
            t.put(bottom, descX, s, .accent, width: t.cols - descX - 1)
            bottom -= 1
        }
        let top = 2
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
        if totals.lineDiscounts > 0 || totals.saleDiscount > 0 || totals.offerDiscount > 0 {
            if totals.offerDiscount > 0 { summary += "   Offers -\(cur.format(totals.offerDiscount))" }
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

    func inputLine(_ c: TillController) {
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

    func placeCursor(_ c: TillController) {
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
