import TillCore
import TillProtocol

extension TillController {
    // MARK: - Sign-on

    func signOnKey(_ key: Key, _ action: TillAction?, number: String?) {
        if action == .quit {
            shouldQuit = true
            return
        }
        if editEntry(key, .digits, limit: 8) {
            if key != .backspace { message = nil }
            return
        }
        switch key {
        case .enter:
            guard !input.isEmpty else {
                fail(number == nil ? "Key your cashier number, then Enter" : "Key your PIN, then Enter")
                return
            }
            guard let number else {
                mode = .signOn(cashierNumber: input)
                entry.clear()
                message = nil
                return
            }
            let pin = input
            entry.clear()
            do {
                switch try env.cashiers.signOn(number: number, pin: pin, maxAttempts: settings.maxPINAttempts, at: env.now()) {
                case .signedOn(let c):
                    signedOn(c)
                case .wrong(let left):
                    mode = .signOn(cashierNumber: nil)
                    audit("sign-on-refused", "cashier \(number): wrong number or PIN")
                    let warning = left.map { $0 == 1 ? " (one more wrong PIN locks it)" : " (\($0) more wrong PINs lock it)" } ?? ""
                    fail("Cashier \(number) and that PIN do not match\(warning): key your cashier number again")
                case .locked:
                    audit("sign-on-locked", "cashier \(number): locked after \(settings.maxPINAttempts) wrong PINs")
                    entry.clear()
                    mode = .override(OverrideRequest(action: .unlockCashier, pending: .unlockCashier(number: number),
                                                     detail: "cashier \(number)", supervisorNumber: nil))
                    fail("Cashier \(number) is locked after \(settings.maxPINAttempts) wrong PINs: a supervisor unlocks it with their number and PIN "
                         + "(\(keymap.label(.clear)): back)")
                }
            } catch {
                mode = .signOn(cashierNumber: nil)
                fail("\(error)")
            }
        case _ where action == .clear:
            entry.clear()
            mode = .signOn(cashierNumber: nil)
            message = nil
        default:
            fail("Key your cashier number and PIN with the digit keys, then Enter")
        }
    }

    func signedOn(_ c: Cashier) {
        cashier = c
        audit("sign-on", "\(c.name) (\(c.role.rawValue))")
        reloadProgramme()
        mode = .selling
        resetEntry()
        message = Message(text: "Signed on: \(c.name). Scan or key an item.", isError: false)
        do {
            lastSequence = try env.journal.lastSequence(tillID: settings.identity.tillID)
            if sale == nil, var restored = try env.journal.openSale(currency: currency) {
                if restored.cashier.number != c.number {
                    // Left by another cashier (the till stopped): this cashier carries it on and
                    // answers for it, on the receipt and in the Z report.
                    let from = restored.cashier
                    restored = restored.takenOver(by: c)
                    try env.journal.takeOver(restored)
                    audit("take-over", saleID: restored.id, "sale of \(from.name) (\(from.number))")
                }
                sale = restored
                selectedLine = restored.basket.lines.last?.number
                if restored.basket.isPaid && !restored.basket.activeLines.isEmpty {
                    // Paid in full before the till stopped: finish it (its receipt prints now).
                    return complete(restored)
                }
                message = Message(
                    text: "The sale in progress when the till stopped is back (\(restored.basket.lines.count) lines): carry on",
                    isError: false)
            }
        } catch {
            fail("\(error)")
        }
    }
}
