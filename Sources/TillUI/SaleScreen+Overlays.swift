import Foundation
import TillCore

extension SaleScreen {
    // MARK: Overlays

    func receipt(_ c: TillController, _ r: TillController.CompletedReceipt) {
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

    func resumeList(_ c: TillController, _ sales: [SuspendedSale], _ selected: Int) {
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

    func confirmCancel(_ c: TillController) {
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

    func loyaltyPrompt(_ c: TillController) {
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

    func registrationBox() -> (y: Int, x: Int, h: Int, w: Int) {
        let w = min(72, t.cols - 4), h = 15
        return (max(1, (t.rows - h) / 2 - 2), (t.cols - w) / 2, h, w)
    }

    func registration(_ c: TillController, _ form: RegistrationForm) {
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

    func searchBox() -> (y: Int, x: Int, h: Int, w: Int) {
        let w = min(76, t.cols - 4), h = min(t.rows - 8, 16)
        return (2, (t.cols - w) / 2, h, w)
    }

    func customerSearch(_ c: TillController, _ search: CustomerSearch) {
        searchPanel(c, search, title: "FIND CUSTOMER", hint: "Card, phone, e-mail, or names (the start of each, any order)", enter: "open") { r, _ in
            let contact = r.phone ?? r.email ?? ""
            return pad(LoyaltyCardNumber.masked(r.cardNumber), 21) + pad(r.name, 24) + pad(contact, 20) + (r.status == "active" ? "" : r.status.uppercased())
        }
    }

    /// A search's panel: what is keyed, how many match, the page with the selected row shown.
    func searchPanel<Item>(_ c: TillController, _ search: PagedSearch<Item>, title: String, hint: String, enter: String,
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

    func productLookup(_ c: TillController, _ l: ProductLookup) {
        let cur = c.settings.identity.currency
        searchPanel(c, l, title: "FIND A PRODUCT", hint: "Words of the name or category, any order; scan: price check", enter: "add") { p, width in
            let price = cur.format(p.unitPrice) + (p.soldByWeight ? "/kg" : "")
            let name = pad(p.description, max(10, width - 8 - 12 - 12))
            return pad(p.plu ?? "", 8) + name + pad(p.category, 12) + pad(price, 12, right: true)
        }
    }

    func customerDetail(_ c: TillController, _ d: CustomerDetail) {
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
        let heading = d.chainWide
            ? (d.purchases.isEmpty ? "No purchases in any store yet (head office)" : "Purchases in every store (head office):")
            : (d.purchases.isEmpty ? "No purchases at this till yet" : "Purchases at this till:")
        t.put(y + 6, x + 3, heading, .underline, width: w - 6)
        var row = y + 7
        if !d.offers.isEmpty {
            t.put(row, x + 3, "Offers: " + d.offers.joined(separator: "; "), .accent, width: w - 6)
            row += 1
        }
        for p in d.purchases.prefix(max(0, y + h - 2 - row)) {
            let date = dateText(p.completedAt)
            t.put(row, x + 3, pad(date, 18) + pad(p.receiptNumber, 18) + pad(p.storeID.map { "store \($0)" } ?? "", 12)
                  + pad("\(p.items) items", 10, right: true) + pad(cur.format(p.total), 12, right: true), [], width: w - 6)
            row += 1
        }
        t.put(y + h - 1, x + 2, " Enter: this customer for the sale   \(c.settings.keymap.label(.clear)): back ", .dim)
    }

    func pointsDetail(_ c: TillController) {
        let award = c.projectedAward() ?? PointsAward(parts: [])
        let customer = c.displayedBasket?.customer
        // The member's offers that take money off: what each took, below the points.
        let offers = c.displayedBasket?.totals.offerDiscounts ?? []
        let challenges = c.challengeProgress()
        let w = min(66, t.cols - 4), h = min(t.rows - 2, award.parts.count + 7 + offers.count + challenges.count)
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
        for (i, o) in offers.enumerated() where row + 2 + i < y + h - 1 {
            t.put(row + 2 + i, x + 3, pad("Offer: \(o.name)", w - 18), .accent, width: w - 18)
            t.put(row + 2 + i, x + w - 14, pad("-" + c.currency.format(o.amount), 11, right: true), .accent)
        }
        for (i, ch) in challenges.enumerated() where row + 2 + offers.count + i < y + h - 1 {
            t.put(row + 2 + offers.count + i, x + 3, ch.line(currency: c.currency), .accent, width: w - 6)
        }
        t.put(y + h - 1, x + 2, " Any key closes this ", .dim)
    }

    func help(_ c: TillController) {
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
    func helpInTwoColumns(_ c: TillController, _ actions: [TillAction]) {
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
}
