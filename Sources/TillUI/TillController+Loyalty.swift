public import TillCore

extension TillController {
    // MARK: - Cards

    func reloadProgramme() {
        guard let directory = env.loyalty else { return }
        if let p = try? directory.programme() { programme = p }
    }

    /// Whether a scanned or keyed code is a loyalty card rather than a product: magnetic-stripe
    /// data, or digits of a length and prefix of one of the programme's card ranges.
    func isCardCode(_ code: String) -> Bool {
        if code.first == "%" || code.first == ";" { return true }
        guard let programme, code.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        return programme.cardRanges.contains { $0.contains(code) }
    }

    func isProductCode(_ code: String) -> Bool {
        (try? ProductCode.classify(code, rules: settings.barcodeRules)) != nil
    }

    /// The card number in what a reader sent (track data or digits), checked against the
    /// programme's ranges and its check digit.
    func cardNumber(from raw: String, _ programme: LoyaltyProgramme) throws(CardError) -> String {
        let trimmed = raw.trimmedForCard
        let number = trimmed.first == "%" || trimmed.first == ";" ? try LoyaltyCardNumber.fromTrack(trimmed) : trimmed
        return try LoyaltyCardNumber.validate(number, ranges: programme.cardRanges)
    }

    /// Why a card cannot be issued, if it cannot.
    func cardProblem(_ raw: String) -> String? {
        guard let programme, let directory = env.loyalty else { return Self.noProgramme }
        do {
            let number = try cardNumber(from: raw, programme)
            if case .member = try directory.lookupCard(number, programme: programme, now: env.now()) {
                return CardError.alreadyIssued(number).description
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    static let noProgramme = "This till has no loyalty programme yet: ask head office to send it (till import programme FILE.json)"

    /// A card was scanned or keyed: the sale is for its member. A card not issued yet opens the
    /// registration form. Anything wrong leaves the sale exactly as it was.
    func identifyCard(_ raw: String) {
        guard let programme, let directory = env.loyalty else { return fail(Self.noProgramme) }
        let atPrompt = mode == .loyaltyPrompt
        do {
            let number = try cardNumber(from: raw, programme)
            switch try directory.lookupCard(number, programme: programme, now: env.now()) {
            case .member(let c):
                if let b = basket, b.tenders.contains(where: { $0.kind == .points }), b.customer?.cardNumber != c.cardNumber {
                    return fail("Points from card \(LoyaltyCardNumber.masked(b.customer?.cardNumber ?? "")) already pay part of this sale: finish it first")
                }
                try apply(.identifyCustomer(customer: c))
                applyMemberDiscounts()
                let withDue = atPrompt || totalled
                if withDue { mode = .selling }
                message = cardScanMessage(c, withDue: withDue)
                selling.cardMessage = message.map { CardScanMessage(message: $0, withDue: withDue) }
            case .notIssued(let n):
                startRegistration(card: n)
                message = Message(text: "Card \(LoyaltyCardNumber.masked(n)) is not registered yet: key the customer's details, or \(keymap.label(.clear)) for no card", isError: false)
            }
        } catch {
            fail("\(error)")
        }
    }

    /// What a card scan says: the member, tier and balance (`*`: not confirmed by head office),
    /// what this sale earns, and the amount due and tender keys when the sale was totalled.
    func cardScanMessage(_ c: SaleCustomer, withDue: Bool) -> Message {
        var text = "\(c.name) (\(c.tierName ?? "member")): \(c.balance) pts\(c.provisional ? "*" : "")"
        let offers = c.offers.filter { $0.uses > 0 && $0.isValid(at: env.now(), store: settings.identity.storeID) }
        if !offers.isEmpty { text += ", \(offers.count) offer\(offers.count == 1 ? "" : "s") (\(offers.map(\.name).joined(separator: "; ")))" }
        if let b = basket, !b.activeLines.isEmpty { text += ", +\(projectedAward()?.total ?? 0) this sale" }
        if withDue {
            text += ". Due \(currency.format(basket?.totals.due ?? 0)): \(keymap.label(.cash)) cash, \(keymap.label(.card)) card, \(keymap.label(.points)) points"
        }
        return Message(text: text, isError: false)
    }

    /// Head office answered about the sale's card after the scan (the scan did not wait): the sale
    /// takes the balance and tier it sent, or loses a card head office has blocked or reported
    /// lost. A sale already paid partly in points keeps the card as it was.
    func takeRefreshedCards() {
        guard let directory = env.loyalty else { return }
        let numbers = directory.refreshedCards()
        guard !numbers.isEmpty, let programme, let b = basket, let current = b.customer, numbers.contains(current.cardNumber),
              current.registration == nil, !b.tenders.contains(where: { $0.kind == .points }) else { return }
        let onScreen = selling.cardMessage.flatMap { $0.message == message ? $0.withDue : nil }
        do {
            guard case .member(let fresh) = try directory.cachedCard(current.cardNumber, programme: programme, now: env.now()) else { return }
            guard fresh.balance != current.balance || fresh.tierCode != current.tierCode || fresh.provisional != current.provisional
                    || fresh.qualifying != current.qualifying || fresh.expiringSoon != current.expiringSoon || fresh.offers != current.offers
                    || fresh.redemptionsHeld != current.redemptionsHeld else { return }
            try apply(.identifyCustomer(customer: fresh))
            applyMemberDiscounts()
            if let withDue = onScreen {
                message = cardScanMessage(fresh, withDue: withDue)
                selling.cardMessage = message.map { CardScanMessage(message: $0, withDue: withDue) }
            }
        } catch {
            guard b.tenders.isEmpty else { return fail("Head office says: \(error). Payment has started: finish or cancel the sale") }
            removeCard()
            fail("Head office says: \(error). The card is off the sale.")
        }
    }

    /// Takes a card scanned by mistake off the sale, with the tier discount it brought.
    func removeCard() {
        guard let b = basket, let c = b.customer else { return fail("There is no loyalty card on this sale to take off") }
        let tier = programme?.tiers.first { $0.code == c.tierCode }
        do {
            try apply(.removeCustomer)
            var text = "Card \(LoyaltyCardNumber.masked(c.cardNumber)) (\(c.name)) taken off the sale"
            if let tier, tier.discountBP > 0, case .percent(let bp)? = basket?.saleDiscount, bp == tier.discountBP {
                try apply(.discountSale(discount: .percent(basisPoints: 0)))
                text += "; the \(tier.name) discount is off too"
            }
            selling.promptedForCard = false
            message = Message(text: text + ". Scan the right card, or sell without one.", isError: false)
        } catch {
            fail("\(error)")
        }
    }

    /// What Total says: the amount due and the tender keys.
    var totalMessage: String {
        let due = basket?.totals.due ?? 0
        var keys = "\(keymap.label(.cash)) cash, \(keymap.label(.card)) card"
        if basket?.customer != nil { keys += ", \(keymap.label(.points)) points" }
        return "Total \(currency.format(due)) due: \(keys), \(keymap.label(.split)) split"
    }

    /// A member's discounts: their offers that take money off (valid here and now, with uses
    /// left; the engine applies them to the lines as they come), and their tier's discount as the
    /// sale discount unless the sale already has one.
    func applyMemberDiscounts() {
        guard let b = basket, let c = b.customer, !b.paymentStarted else { return }
        let now = env.now(), store = settings.identity.storeID
        let offers = c.offers.filter { $0.givesDiscount && $0.uses > 0 && $0.isValid(at: now, store: store) }
        if offers != b.offers { try? apply(.useOffers(offers: offers)) }
        guard let programme, let tier = programme.tiers.first(where: { $0.code == c.tierCode }), tier.discountBP > 0,
              b.saleDiscount == nil, !b.activeLines.isEmpty else { return }
        try? apply(.discountSale(discount: .percent(basisPoints: tier.discountBP)))
    }

    func earnContext(_ c: SaleCustomer, at time: Timestamp) -> EarnContext {
        let store = settings.identity.storeID
        return EarnContext(time: env.localTime(time), storeID: store, tierCode: c.tierCode, priorPurchases: c.priorPurchases,
                           offers: c.offers.filter { $0.uses > 0 && $0.isValid(at: time, store: store) })
    }

    /// What the sale does for its member, computed as it is committed.
    func loyaltyOutcome(of basket: Basket, at time: Timestamp) -> LoyaltyOutcome? {
        guard let c = basket.customer, let programme else { return nil }
        return programme.outcome(for: basket, customer: c, context: earnContext(c, at: time), saleID: sale?.id)
    }

    /// The points the open sale would earn now, rule by rule.
    public func projectedAward() -> PointsAward? {
        guard let b = displayedBasket, b.customer != nil, let programme else { return nil }
        if case .receipt(let r) = mode, sale == nil { return r.sale.loyalty?.earned }
        guard let c = b.customer else { return nil }
        return programme.award(for: b, context: earnContext(c, at: env.now()))
    }

    func showPointsDetail() {
        guard displayedBasket?.customer != nil else {
            return fail("Scan the customer's loyalty card first: then \(keymap.label(.pointsDetail)) shows the points by rule")
        }
        overlay = .points
    }

    // MARK: - Points as a tender

    func payWithPoints() {
        guard let basket, !basket.activeLines.isEmpty else { return fail(SaleError.noLines.description) }
        guard let c = basket.customer else { return fail(SaleError.noCustomer.description) }
        guard let programme else { return fail(Self.noProgramme) }
        // The hold as this till knows it now (it may have arrived since the card was scanned).
        if c.redemptionsHeld || (try? env.loyalty?.redemptionsHeld(card: c.cardNumber)) == true {
            entry.clear()
            selling.pointsOffer = nil
            return fail("Points cannot be used on this card today: please ask the customer to contact us. Take the payment by cash or card")
        }
        let text = input
        entry.clear()
        let offer = selling.pointsOffer
        selling.pointsOffer = nil
        if let paid = basket.tenders.first(where: { $0.kind == .points }) {
            return fail("Points already pay \(currency.format(paid.amount)) of this sale: take cash or card for the rest")
        }
        let t = basket.totals
        func check(_ p: LoyaltyProgramme.PointsPayment) throws {
            try programme.checkRedemption(points: p.points, amount: p.amount, available: c.balance, offlineLeft: c.offlineLeft, total: t.total, due: t.due)
        }
        let chosen: LoyaltyProgramme.PointsPayment
        var note = ""
        if text.isEmpty, let offer {
            chosen = offer                      // the points key again: what the till offered
        } else {
            let amount: Int64
            if text.isEmpty {
                let limit = programme.redemptionLimit(available: min(c.balance, c.offlineLeft ?? c.balance), total: t.total, due: t.due)
                guard limit > 0 else {
                    if c.balance < programme.redemption.minimumPoints {
                        return fail(RedemptionError.belowMinimum(points: c.balance, minimum: programme.redemption.minimumPoints).description)
                    }
                    return fail(RedemptionError.nothingToRedeem.description)
                }
                amount = limit
            } else {
                guard let a = currency.parseKeyed(text), a > 0 else { return fail(SaleError.invalidAmount(text).description) }
                amount = a
            }
            let (exact, below, above) = programme.payments(for: amount)
            if let exact {
                chosen = exact
            } else {
                let fitting = [below, above].compactMap { $0 }.filter { (try? check($0)) != nil }
                let b = fitting.first { $0.amount < amount }, a = fitting.first { $0.amount > amount }
                if text.isEmpty, let b {
                    // "The most allowed": the most that points pay without the customer giving more than they get.
                    chosen = b
                    note = " (\(currency.format(amount)) is not a value points have: the most below it)"
                } else if let first = b ?? a {
                    selling.pointsOffer = first
                    var options: [String] = []
                    if let b { options.append("\(keymap.label(.points)) again: \(b.points) points pay \(currency.format(b.amount))") }
                    if let a {
                        options.append(b == nil ? "\(keymap.label(.points)) again: \(a.points) points pay \(currency.format(a.amount))"
                                                : "or key \(currency.format(a.amount)) \(keymap.label(.points)): \(a.points) points pay \(currency.format(a.amount))")
                    }
                    message = Message(
                        text: "No number of points is worth exactly \(currency.format(amount)) (the customer never gives points worth more than they get). "
                            + options.joined(separator: "; "),
                        isError: false)
                    return
                } else if let nearest = above ?? below {
                    // Neither fits the sale or the card: say why, in the cashier's own amount.
                    do { try check(LoyaltyProgramme.PointsPayment(points: nearest.points, amount: amount)) } catch { return fail("\(error)") }
                    return fail("No number of points is worth \(currency.format(amount)): key a smaller amount")
                } else {
                    return fail("No number of points is worth \(currency.format(amount)): key a smaller amount")
                }
            }
        }
        do {
            try check(chosen)
            try addTender(Tender(kind: .points, amount: chosen.amount, points: chosen.points))
            if let open = sale, !open.basket.isPaid {
                message = Message(
                    text: "\(chosen.points) points pay \(currency.format(chosen.amount))\(note). \(currency.format(open.basket.totals.due)) still due: \(keymap.label(.cash)) cash or \(keymap.label(.card)) card",
                    isError: false)
            }
        } catch {
            fail("\(error)")
        }
    }

    // MARK: - Loyalty prompt

    func loyaltyPromptKey(_ key: Key, _ action: TillAction?) {
        if editEntry(key, .digits, limit: 19) { return }
        switch key {
        case .enter:
            guard !input.isEmpty else { return skipPrompt() }
            let code = input
            entry.clear()
            identifyCard(code)
            return
        default: break
        }
        switch action {
        case .clear: skipPrompt()
        case .newCard: startRegistration(card: input, fromPrompt: true)
        case .findCustomer: startCustomerSearch()
        case .cash, .card, .split, .points, .lineUp, .lineDown, .voidLine, .lineDiscount, .saleDiscount, .cancelSale, .quantity:
            // The cashier goes on without a card.
            mode = .selling
            handle(.key(key))
        default:
            fail("Scan the loyalty card or key its number and Enter; \(keymap.label(.clear)) = no card, \(keymap.label(.newCard)) = new card, \(keymap.label(.findCustomer)) = find customer")
        }
    }

    func skipPrompt() {
        entry.clear()
        mode = .selling
        message = Message(text: totalMessage, isError: false)
    }
}

extension String {
    /// Without surrounding spaces (what a cashier keys, what a reader sends).
    var trimmedForCard: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" { s.removeLast() }
        return String(s)
    }
}
