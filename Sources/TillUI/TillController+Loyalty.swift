public import TillCore

/// The registration form for a card issued at the till.
public struct RegistrationForm: Equatable, Sendable {
    public enum Field: Int, CaseIterable, Sendable {
        case card, firstName, lastName, phone, email, postcode, birthDate, consent

        public var label: String {
            switch self {
            case .card: "Card number"
            case .firstName: "First name"
            case .lastName: "Last name"
            case .phone: "Phone"
            case .email: "E-mail"
            case .postcode: "Postcode"
            case .birthDate: "Date of birth"
            case .consent: "Offers by e-mail/SMS"
            }
        }

        /// What the cashier sees under the form while on this field.
        public var hint: String {
            switch self {
            case .card: "Scan a card from the store's stock, or key its number"
            case .firstName, .lastName: "As the customer spells it"
            case .phone: "Phone and/or e-mail: at least one of them"
            case .email: "e.g. anna@example.com"
            case .postcode: "Optional"
            case .birthDate: "Optional, YYYY-MM-DD"
            case .consent: "Y only if the customer says yes, N = no; then Enter registers the card"
            }
        }

        var maxLength: Int {
            switch self {
            case .card: 40
            case .firstName, .lastName: 40
            case .phone: 20
            case .email: 80
            case .postcode: 10
            case .birthDate: 10
            case .consent: 0
            }
        }
    }

    public var values: [String] = Array(repeating: "", count: Field.allCases.count - 1)
    /// Marketing consent: explicit, off unless the customer says yes.
    public var consent = false
    public var focus: Field = .card
    /// Esc goes back to the loyalty prompt rather than the sale.
    public var fromPrompt = false
    /// The next character typed replaces the field's value instead of adding to it: the field was
    /// refused, or the cashier came back to it (as a form selects a field's text on entering it).
    public var replaceOnType = false

    /// Moves to another field; what is typed there first replaces its value.
    public mutating func focus(on field: Field) {
        if field != focus { replaceOnType = true }
        focus = field
    }

    public func value(_ f: Field) -> String { f == .consent ? (consent ? "Yes" : "No") : values[f.rawValue] }
}

/// A search with one page of its results on screen (customers at Ctrl-F, products at Ctrl-T):
/// what was keyed, the page, the selected result, and where the page starts in how many.
public struct PagedSearch<Item: Equatable & Sendable>: Equatable, Sendable {
    public var query = ""
    public var results: [Item] = []
    public var selected = 0
    /// The query the results are for (Enter on unchanged results takes the selected one).
    public var searchedFor: String?
    /// How many match in all, and where this page starts.
    public var total = 0
    public var offset = 0
    static var pageSize: Int { 20 }

    public init() {}

    /// What a key does to the search.
    enum Step {
        /// Typed, deleted or moved: the search as it is now.
        case changed(PagedSearch)
        /// Another page to fetch from `offset` (`last`: select its last result).
        case page(offset: Int, last: Bool)
        case refused(String)
    }

    /// Characters, Backspace, Up/Down (across pages), PgUp/PgDn; nil for any other key.
    func step(_ key: Key, maxLength: Int) -> Step? {
        var s = self
        switch key {
        case .char(let c) where !c.isNewline:
            if s.query.count < maxLength { s.query.append(c) }
            return .changed(s)
        case .backspace:
            if !s.query.isEmpty { s.query.removeLast() }
            return .changed(s)
        case .up:
            if s.selected == 0 && s.offset > 0 { return .page(offset: s.offset - Self.pageSize, last: true) }
            s.selected = max(0, s.selected - 1)
            return .changed(s)
        case .down:
            if s.selected == s.results.count - 1 && s.offset + s.results.count < s.total { return .page(offset: s.offset + s.results.count, last: false) }
            s.selected = min(max(0, s.results.count - 1), s.selected + 1)
            return .changed(s)
        case .pageDown:
            guard s.offset + s.results.count < s.total else { return .refused("This is the last page") }
            return .page(offset: s.offset + Self.pageSize, last: false)
        case .pageUp:
            guard s.offset > 0 else { return .refused("This is the first page") }
            return .page(offset: s.offset - Self.pageSize, last: false)
        default:
            return nil
        }
    }

    /// The selected result, when Enter is on the results of what is keyed now.
    var chosen: Item? { searchedFor == query && results.indices.contains(selected) ? results[selected] : nil }

    /// A fetched page in place.
    func showing(_ page: [Item], total: Int, offset: Int, last: Bool) -> PagedSearch {
        var s = self
        s.results = page
        s.total = total
        s.offset = max(0, offset)
        s.selected = last ? max(0, page.count - 1) : 0
        s.searchedFor = s.query
        return s
    }

    /// "1-20 of 125 found" or "3 found".
    var foundText: String {
        total <= results.count ? "\(total) found" : "\(offset + 1)-\(offset + results.count) of \(total) found"
    }
}

/// The customer search (CRM at the till).
public typealias CustomerSearch = PagedSearch<CustomerSummary>

/// One customer, as the till knows them.
public struct CustomerDetail: Equatable, Sendable {
    public var summary: CustomerSummary
    public var customer: SaleCustomer
    public var purchases: [PurchaseSummary]
    public var nextTier: String?
    /// Where Esc goes back to.
    public var search: CustomerSearch?
}

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
                applyTierDiscount()
                let withDue = atPrompt || totalled
                if withDue { mode = .selling }
                message = cardScanMessage(c, withDue: withDue)
                cardMessage = message.map { ($0, withDue) }
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
        let onScreen = cardMessage.flatMap { $0.message == message ? $0.withDue : nil }
        do {
            guard case .member(let fresh) = try directory.cachedCard(current.cardNumber, programme: programme, now: env.now()) else { return }
            guard fresh.balance != current.balance || fresh.tierCode != current.tierCode || fresh.provisional != current.provisional
                    || fresh.qualifying != current.qualifying else { return }
            try apply(.identifyCustomer(customer: fresh))
            applyTierDiscount()
            if let withDue = onScreen {
                message = cardScanMessage(fresh, withDue: withDue)
                cardMessage = message.map { ($0, withDue) }
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
            promptedForCard = false
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

    /// A member's tier discount, as the sale discount, unless the sale already has one.
    func applyTierDiscount() {
        guard let b = basket, let c = b.customer, let programme,
              let tier = programme.tiers.first(where: { $0.code == c.tierCode }), tier.discountBP > 0,
              b.saleDiscount == nil, !b.paymentStarted, !b.activeLines.isEmpty else { return }
        try? apply(.discountSale(discount: .percent(basisPoints: tier.discountBP)))
    }

    func earnContext(_ c: SaleCustomer, at time: Timestamp) -> EarnContext {
        EarnContext(time: env.localTime(time), storeID: settings.identity.storeID, tierCode: c.tierCode, priorPurchases: c.priorPurchases)
    }

    /// What the sale does for its member, computed as it is committed.
    func loyaltyOutcome(of basket: Basket, at time: Timestamp) -> LoyaltyOutcome? {
        guard let c = basket.customer, let programme else { return nil }
        return programme.outcome(for: basket, customer: c, context: earnContext(c, at: time))
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
        showingPoints = true
    }

    // MARK: - Points as a tender

    func payWithPoints() {
        guard let basket, !basket.activeLines.isEmpty else { return fail(SaleError.noLines.description) }
        guard let c = basket.customer else { return fail(SaleError.noCustomer.description) }
        guard let programme else { return fail(Self.noProgramme) }
        let text = input
        input = ""
        let offer = pointsOffer
        pointsOffer = nil
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
                    pointsOffer = first
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
        switch key {
        case .char(let c) where c.isASCII && c.isNumber:
            if input.count < 19 { input.append(c) }
            return
        case .backspace:
            if !input.isEmpty { input.removeLast() }
            return
        case .enter:
            guard !input.isEmpty else { return skipPrompt() }
            let code = input
            input = ""
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

    private func skipPrompt() {
        input = ""
        mode = .selling
        message = Message(text: totalMessage, isError: false)
    }

    // MARK: - Issuing a card

    func startRegistration(card: String, fromPrompt: Bool = false) {
        guard programme != nil, env.loyalty != nil else { return fail(Self.noProgramme) }
        if let b = basket, b.tenders.contains(where: { $0.kind == .points }) {
            return fail("Points already pay part of this sale: issue the new card after it")
        }
        var form = RegistrationForm()
        form.values[RegistrationForm.Field.card.rawValue] = card
        form.focus = card.isEmpty ? .card : .firstName
        form.fromPrompt = fromPrompt || mode == .loyaltyPrompt
        input = ""
        mode = .registration(form)
        message = Message(text: "New card: Enter or Tab moves to the next field, Up goes back, \(keymap.label(.clear)) cancels", isError: false)
        if !card.isEmpty, let problem = cardProblem(card) {
            form.focus = .card
            mode = .registration(form)
            fail(problem)
        }
    }

    func registrationKey(_ key: Key, _ action: TillAction?, form: RegistrationForm) {
        var form = form
        defer { if case .registration = mode { mode = .registration(form) } }
        let fields = RegistrationForm.Field.allCases
        // A problem shown is about what was there: once the cashier edits, it goes.
        let editing: Bool
        switch key {
        case .char, .backspace: editing = true
        default: editing = false
        }
        if editing, message?.isError == true { message = nil }
        switch key {
        case .char(let c):
            if form.focus == .consent {
                switch c {
                case "y", "Y": form.consent = true
                case "n", "N": form.consent = false
                case " ": form.consent.toggle()
                default: fail("Y if the customer wants offers by e-mail/SMS, N if not")
                }
            } else if !c.isNewline {
                if form.replaceOnType { form.values[form.focus.rawValue] = "" }
                form.replaceOnType = false
                if form.values[form.focus.rawValue].count < form.focus.maxLength { form.values[form.focus.rawValue].append(c) }
            }
        case .backspace:
            form.replaceOnType = false
            if form.focus != .consent, !form.values[form.focus.rawValue].isEmpty { form.values[form.focus.rawValue].removeLast() }
        case .tab, .down, .enter:
            // A card number the programme refuses keeps the form on it, ready to be keyed again.
            if form.focus == .card, key == .enter || !form.value(.card).isEmpty, let problem = cardProblem(form.value(.card)) {
                form.replaceOnType = true
                return fail(problem)
            }
            if key == .enter && form.focus == .consent { return submitRegistration(&form) }
            form.focus(on: fields[min(fields.count - 1, form.focus.rawValue + 1)])
        case .up:
            form.focus(on: fields[max(0, form.focus.rawValue - 1)])
        default:
            if action == .clear {
                mode = form.fromPrompt ? .loyaltyPrompt : .selling
                message = Message(text: "No card issued", isError: false)
            } else {
                fail("Key the customer's details: Enter or Tab for the next field, Up to go back, \(keymap.label(.clear)) to cancel")
            }
        }
    }

    private func submitRegistration(_ form: inout RegistrationForm) {
        guard let programme, env.loyalty != nil else { return fail(Self.noProgramme) }
        let now = env.now()
        let registration: Registration
        do {
            if let problem = cardProblem(form.value(.card)) {
                form.focus(on: .card)
                form.replaceOnType = true
                return fail(problem)
            }
            let number = try cardNumber(from: form.value(.card), programme)
            registration = try Registration.make(
                cardNumber: number, firstName: form.value(.firstName), lastName: form.value(.lastName), phone: form.value(.phone),
                email: form.value(.email), postcode: form.value(.postcode), birthDate: form.value(.birthDate),
                marketingConsent: form.consent, at: now)
        } catch {
            form.focus(on: Self.field(for: error))
            form.replaceOnType = true
            return fail("\(error)")
        }
        let welcome = programme.welcomeAward
        let first = programme.tier(for: 0)
        let card = registration.cardNumber
        do {
            if let b = basket, !b.activeLines.isEmpty {
                // The registration rides with the sale: one transaction at commit, slip after the receipt.
                let c = SaleCustomer(
                    cardNumber: card, customerID: card, name: registration.fullName, tierCode: first?.code, tierName: first?.name,
                    balance: 0, qualifying: 0, offlineLeft: programme.redemption.offlineCapPoints, provisional: true,
                    registration: registration)
                try apply(.identifyCustomer(customer: c))
                mode = .selling
                message = Message(
                    text: "Card issued to \(registration.fullName): \(welcome.total) welcome points with this sale; the slip prints with the receipt. " + totalMessage,
                    isError: false)
            } else {
                let member = NewMember(
                    registration: registration, welcome: welcome, programmeVersion: programme.version, till: settings.identity,
                    slip: env.printer.registrationSlip(for: registration, welcome: welcome.total, programmeName: programme.name))
                try env.journal.register(member, at: now)
                if member.slip != nil { env.printer.queued() }
                env.outboxWritten()
                mode = .selling
                let c = SaleCustomer(
                    cardNumber: card, customerID: card, name: registration.fullName, tierCode: first?.code, tierName: first?.name,
                    balance: welcome.total, qualifying: 0, offlineLeft: programme.redemption.offlineCapPoints, provisional: true)
                try? apply(.identifyCustomer(customer: c))
                message = Message(
                    text: "Card issued to \(registration.fullName): \(welcome.total) welcome points; the slip is printing. Scan their items.",
                    isError: false)
            }
        } catch {
            fail("The card was not issued: \(error). Try Enter again.")
        }
    }

    /// The form field a registration problem is about.
    static func field(for error: any Error) -> RegistrationForm.Field {
        guard let e = error as? CardError else { return .card }
        switch e {
        case .invalidEmail: return .email
        case .invalidPhone, .contactRequired: return .phone
        case .invalidPostcode: return .postcode
        case .invalidBirthDate, .birthDateNotPossible: return .birthDate
        case .nameRequired: return .firstName
        default: return .card
        }
    }

    /// The registration to keep when a sale that issued a card is cancelled.
    func keptRegistration(of sale: OpenSale) -> NewMember? {
        guard let r = sale.basket.customer?.registration else { return nil }
        let welcome = programme?.welcomeAward ?? PointsAward(parts: [])
        return NewMember(
            registration: r, welcome: welcome, programmeVersion: programme?.version ?? "", till: settings.identity,
            slip: env.printer.registrationSlip(for: r, welcome: welcome.total, programmeName: programme?.name ?? "Loyalty"))
    }

    // MARK: - Customer lookup

    func startCustomerSearch() {
        guard env.loyalty != nil, programme != nil else { return fail(Self.noProgramme) }
        input = ""
        mode = .customerSearch(CustomerSearch())
        message = Message(text: "Find a customer: key a card number, phone, e-mail or surname and Enter (or scan the card)", isError: false)
    }

    func customerSearchKey(_ key: Key, _ action: TillAction?, search: CustomerSearch) {
        switch search.step(key, maxLength: 60) {
        case .changed(let s):
            mode = .customerSearch(s)
            return
        case .page(let offset, let last): return searchPage(search, offset: offset, last: last)
        case .refused(let why): return fail(why)
        case nil: break
        }
        if key == .enter {
            if let chosen = search.chosen { return showCustomer(card: chosen.cardNumber, from: search) }
            guard !search.query.trimmedForCard.isEmpty else { return fail("Key a card number, phone, e-mail or name first") }
            return searchPage(search, offset: 0)
        }
        if action == .clear {
            mode = .selling
            message = nil
        } else {
            fail("Key what to search for and Enter; \(keymap.label(.clear)) goes back")
        }
    }

    /// Runs the search for one page of results and says how many match in all.
    func searchPage(_ search: CustomerSearch, offset: Int, last: Bool = false) {
        let q = search.query.trimmedForCard
        do {
            let found = try env.loyalty?.searchCustomers(q, limit: CustomerSearch.pageSize, offset: max(0, offset))
                ?? CustomerMatches(results: [], total: 0)
            let search = search.showing(found.results, total: found.total, offset: offset, last: last)
            mode = .customerSearch(search)
            if found.results.isEmpty {
                fail("No customer matches '\(q)': check the spelling, add the first name, or try the phone number or e-mail")
            } else if found.total <= found.results.count {
                message = Message(text: "\(found.total) found: Up/Down to choose, Enter to open", isError: false)
            } else {
                message = Message(
                    text: "\(search.offset + 1)-\(search.offset + found.results.count) of \(found.total) found: PgDn/PgUp for more, or add the first name; Enter opens",
                    isError: false)
            }
        } catch {
            fail("\(error)")
        }
    }

    /// Opens a customer by card number (scanned, keyed or chosen from the search).
    func showCustomer(card raw: String, from search: CustomerSearch? = nil) {
        guard let programme, let directory = env.loyalty else { return fail(Self.noProgramme) }
        do {
            let number = try cardNumber(from: raw, programme)
            guard case .member(let c) = try directory.lookupCard(number, programme: programme, now: env.now()) else {
                return fail(CardError.unknown(number).description)
            }
            let summary = try directory.searchCustomers(number, limit: 1).first
                ?? CustomerSummary(cardNumber: number, name: c.name, phone: nil, email: nil, status: "active")
            let purchases = try directory.purchases(card: number, limit: 10)
            var next: String?
            if let n = programme.nextTier(after: c.qualifying) {
                next = "\(programme.tierQualification.basis == .spend ? currency.format(n.needed) : "\(n.needed) points") more to reach \(n.tier.name)"
            }
            mode = .customerDetail(CustomerDetail(summary: summary, customer: c, purchases: purchases, nextTier: next, search: search))
            message = Message(text: "Enter: this customer for the sale; \(keymap.label(.clear)): back", isError: false)
        } catch {
            fail("\(error)")
        }
    }

    func customerDetailKey(_ key: Key, _ action: TillAction?, detail: CustomerDetail) {
        if key == .enter {
            mode = .selling
            identifyCard(detail.customer.cardNumber)
            return
        }
        if action == .clear {
            if let s = detail.search {
                mode = .customerSearch(s)
                message = nil
            } else {
                mode = .selling
                message = nil
            }
            return
        }
        fail("Enter uses this customer for the sale; \(keymap.label(.clear)) goes back")
    }

    /// The customer line on the sale screen, e.g. "Anna Ivanova | Gold | 1234 pts | this sale +45".
    public var customerLine: String? {
        guard let c = displayedBasket?.customer else { return nil }
        var parts = ["Card \(LoyaltyCardNumber.masked(c.cardNumber).suffix(9))", c.name]
        if let t = c.tierName { parts.append(t) }
        parts.append("\(c.balance) pts\(c.provisional ? "*" : "")")
        if c.registration != nil { parts.append("NEW") }
        if let a = projectedAward(), displayedBasket?.activeLines.isEmpty == false { parts.append("this sale +\(a.total)") }
        return parts.joined(separator: " | ")
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
