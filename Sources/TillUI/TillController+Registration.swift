import TillCore

/// The registration form for a card issued at the till.
public struct RegistrationForm: Equatable, Sendable {
    public enum Field: Int, CaseIterable, Sendable {
        case card, firstName, lastName, phone, email, postcode, birthDate, referral, consent

        public var label: String {
            switch self {
            case .card: "Card number"
            case .firstName: "First name"
            case .lastName: "Last name"
            case .phone: "Phone"
            case .email: "E-mail"
            case .postcode: "Postcode"
            case .birthDate: "Date of birth"
            case .referral: "Friend's code"
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
            case .referral: "Optional: the code of the member who invited them (both earn points)"
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
            case .referral: 12
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

    /// Gives a character or Backspace to the field in focus (not the consent: Y or N there).
    mutating func edit(_ key: Key) {
        guard focus != .consent else { return }
        var line = EntryLine(values[focus.rawValue])
        _ = line.edit(key, .text, limit: focus.maxLength)
        values[focus.rawValue] = line.text
    }
}

extension TillController {
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
        entry.clear()
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
                form.edit(key)
            }
        case .backspace:
            form.replaceOnType = false
            if form.focus != .consent { form.edit(key) }
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

    func submitRegistration(_ form: inout RegistrationForm) {
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
                marketingConsent: form.consent, at: now, referralCode: form.value(.referral))
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
        case .invalidReferralCode: return .referral
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
}
