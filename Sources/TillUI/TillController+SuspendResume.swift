import TillCore
import TillProtocol

extension TillController {
    // MARK: - Suspend, resume, cancel, sign off

    func suspendOrResume() {
        if let sale, !sale.basket.isEmpty {
            guard !sale.basket.paymentStarted else { return fail(SaleError.paymentStarted.description) }
            if sale.basket.customer?.registration != nil {
                return fail("A card was issued in this sale: finish it, or cancel it (\(keymap.label(.cancelSale)); the card stays registered)")
            }
            do {
                try env.journal.suspend(sale, at: env.now())
                closeSale()
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
            entry.clear()
            message = nil
        } catch { fail("\(error)") }
    }

    func resumeListKey(_ key: Key, _ action: TillAction?, sales: [SuspendedSale], selected: Int) {
        if editEntry(key, .digits, limit: 4) { return }
        switch key {
        case .enter:
            var index = selected
            if !input.isEmpty {
                guard let n = Int(input), (1...sales.count).contains(n) else {
                    let t = input
                    entry.clear()
                    return fail("There is no suspended sale \(t): choose 1 to \(sales.count)")
                }
                index = n - 1
            }
            entry.clear()
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
            entry.clear()
            mode = .selling
            message = nil
        default:
            fail("Choose a sale with Up/Down or its number, then Enter; \(keymap.label(.clear)) goes back")
        }
    }

    func askCancel() {
        guard let sale, !sale.basket.isEmpty else { return fail("There is no sale to cancel") }
        mode = .confirmCancel
        entry.clear()
        message = nil
    }

    func confirmCancelKey(_ key: Key, _ action: TillAction?) {
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
                closeSale()
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
        let points = basket.tenders.filter { $0.kind == .points }.sum { $0.points ?? 0 }
        var parts: [String] = []
        if money > 0 {
            let kinds = Set(basket.tenders.filter { $0.kind != .points }.map(\.kind))
            let how = kinds == [.card] ? " (refund it on the card terminal)" : kinds == [.cash] ? " in cash" : " (cash in cash, card on the card terminal)"
            parts.append("give back the \(currency.format(money)) paid\(how)")
        }
        if points > 0 { parts.append("the \(points) points stay on the customer's card (nothing to give back for them)") }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    func signOff() {
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
            selling.promptedForCard = false
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
}
