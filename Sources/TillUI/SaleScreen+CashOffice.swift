import Foundation
import TillCore

extension SaleScreen {
    // MARK: Cash office

    func box(_ title: String, width: Int, height: Int, top: Int? = nil, titleStyle: TextStyle = .bold) -> (y: Int, x: Int, w: Int, h: Int) {
        let w = min(width, t.cols - 2), h = min(height, t.rows - 8)
        let x = (t.cols - w) / 2, y = top ?? max(2, (t.rows - 6 - h) / 2)
        t.box(y, x, h, w)
        t.put(y, x + 2, " \(title) ", titleStyle)
        return (y, x, w, h)
    }

    /// The reason panel's title and what it is for.
    func reasonTitle(_ c: TillController, _ request: ReasonRequest) -> (String, String) {
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
    func countPanel(_ c: TillController, _ count: CashCount) {
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

    func smallPanel(_ c: TillController, _ title: String, _ lines: [String]) {
        let (y, x, w, h) = box(title, width: 60, height: lines.count + 4)
        for (i, l) in lines.enumerated() { t.put(y + 2 + i, x + 3, l, [], width: w - 6) }
        t.put(y + h - 1, x + 2, " Enter: go on   \(c.settings.keymap.label(.clear)): back ", .dim)
    }

    func overridePanel(_ c: TillController, _ r: OverrideRequest) {
        let (y, x, w, h) = box("SUPERVISOR OVERRIDE", width: 66, height: 9, titleStyle: [.bold, .error])
        t.put(y + 2, x + 3, r.action.label, .bold, width: w - 6)
        t.put(y + 3, x + 3, r.detail, [], width: w - 6)
        t.put(y + 5, x + 3, "Supervisor number: " + (r.supervisorNumber ?? c.input), r.supervisorNumber == nil ? .bold : [])
        if r.supervisorNumber != nil { t.put(y + 6, x + 3, "PIN: " + String(repeating: "*", count: c.input.count), .bold) }
        t.put(y + h - 1, x + 2, " Enter: go on   \(c.settings.keymap.label(.clear)): not now ", .dim)
    }

    func returnReceipt(_ c: TillController) {
        let km = c.settings.keymap
        smallPanel(c, "RETURN", ["Scan the barcode on the customer's receipt,", "or key the receipt number and Enter.",
                                 "\(km.label(.refund)): no receipt (supervisor, cash at today's price)"])
    }

    func returnLines(_ c: TillController, _ d: ReturnDraft) {
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

    func returnItems(_ c: TillController, _ items: [LineItem]) {
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

    func document(_ c: TillController, _ v: DocumentView) {
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

    func cashOffice(_ c: TillController) {
        let items = CashOfficeItem.allCases
        let (y, x, w, h) = box("CASH OFFICE", width: 60, height: items.count + 4)
        for (i, item) in items.enumerated() {
            t.put(y + 2 + i, x + 3, "\(item.rawValue)  \(item.label)", [], width: w - 6)
        }
        t.put(y + h - 1, x + 2, " Key a number   \(c.settings.keymap.label(.clear)): back ", .dim)
    }

    func lockedBox() -> (y: Int, x: Int, h: Int, w: Int) {
        let w = 56, h = 8
        return (max(2, (t.rows - h) / 2 - 1), (t.cols - w) / 2, h, w)
    }

    func lockedPanel(_ c: TillController) {
        let (y, x, h, w) = lockedBox()
        for row in 0..<h { t.put(y + row, x, String(repeating: " ", count: w)) }
        t.box(y, x, h, w)
        t.put(y, x + 2, " LOCKED ", [.bold, .error])
        t.put(y + 2, x + 3, "\(c.cashier?.name ?? "Cashier") (\(c.cashier?.number ?? ""))", .bold)
        t.put(y + 4, x + 3, "PIN:")
        t.put(y + 4, x + 20, String(repeating: "*", count: c.input.count) + String(repeating: " ", count: max(0, 8 - c.input.count)), .underline)
        t.put(y + 6, x + 3, "Key your PIN and Enter to carry on", .dim)
    }

    func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
        if s.count >= n { return String(s.prefix(n)) }
        let fill = String(repeating: " ", count: n - s.count)
        return right ? fill + s : s + fill
    }
}
