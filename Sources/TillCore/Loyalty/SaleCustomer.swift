/// The loyalty member a sale is for, as the till knew them when the card was scanned.
public struct SaleCustomer: Hashable, Sendable, Codable {
    public var cardNumber: String
    public var customerID: String?
    public var name: String
    public var tierCode: String?
    public var tierName: String?
    /// Points available when the card was scanned: the last balance head office confirmed plus
    /// this till's movements it has not confirmed yet.
    public var balance: Points
    /// Spend (minor units) or points in the tier period, for "to next tier".
    public var qualifying: Int64
    /// Points this card may still redeem before head office confirms its balance; nil: no cap.
    public var offlineLeft: Points?
    /// True when `balance` includes movements head office has not confirmed.
    public var provisional: Bool
    /// Rule id → earlier qualifying purchases in the rule's period (Nth-purchase rules).
    public var priorPurchases: [String: Int64]
    /// Set when the card was issued during this sale.
    public var registration: Registration?
    /// Points of `balance` that expire soon, and by when (epoch ms), as head office last said.
    public var expiringSoon: Points? = nil
    public var expiringBy: Int64? = nil
    /// The member's personal offers this till knows, with the uses left of each (head office's
    /// figure less this till's own uses).
    public var offers: [PersonalOffer] = []
    /// Head office holds this card's points: none may be spent (the card still earns).
    public var redemptionsHeld = false
    /// The member's challenges as head office last said, with this till's own sales since.
    public var challenges: [ChallengeRecord] = []

    public init(
        cardNumber: String, customerID: String?, name: String, tierCode: String?, tierName: String?, balance: Points,
        qualifying: Int64, offlineLeft: Points?, provisional: Bool, priorPurchases: [String: Int64] = [:],
        registration: Registration? = nil
    ) {
        self.cardNumber = cardNumber
        self.customerID = customerID
        self.name = name
        self.tierCode = tierCode
        self.tierName = tierName
        self.balance = balance
        self.qualifying = qualifying
        self.offlineLeft = offlineLeft
        self.provisional = provisional
        self.priorPurchases = priorPurchases
        self.registration = registration
    }

    private enum CodingKeys: String, CodingKey {
        case cardNumber, customerID, name, tierCode, tierName, balance, qualifying, offlineLeft, provisional, priorPurchases, registration
        case expiringSoon, expiringBy, offers, redemptionsHeld, challenges
    }

    /// Reads a customer as an open sale's journal keeps it. Fields added since a till version
    /// (the offers, v15) may be missing from a sale journalled before it: they read as none, so
    /// a sale open across an upgrade is rebuilt, not lost (the hold, v16, likewise).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cardNumber = try c.decode(String.self, forKey: .cardNumber)
        customerID = try c.decodeIfPresent(String.self, forKey: .customerID)
        name = try c.decode(String.self, forKey: .name)
        tierCode = try c.decodeIfPresent(String.self, forKey: .tierCode)
        tierName = try c.decodeIfPresent(String.self, forKey: .tierName)
        balance = try c.decode(Points.self, forKey: .balance)
        qualifying = try c.decode(Int64.self, forKey: .qualifying)
        offlineLeft = try c.decodeIfPresent(Points.self, forKey: .offlineLeft)
        provisional = try c.decode(Bool.self, forKey: .provisional)
        priorPurchases = try c.decodeIfPresent([String: Int64].self, forKey: .priorPurchases) ?? [:]
        registration = try c.decodeIfPresent(Registration.self, forKey: .registration)
        expiringSoon = try c.decodeIfPresent(Points.self, forKey: .expiringSoon)
        expiringBy = try c.decodeIfPresent(Int64.self, forKey: .expiringBy)
        offers = try c.decodeIfPresent([PersonalOffer].self, forKey: .offers) ?? []
        redemptionsHeld = try c.decodeIfPresent(Bool.self, forKey: .redemptionsHeld) ?? false
        challenges = try c.decodeIfPresent([ChallengeRecord].self, forKey: .challenges) ?? []
    }
}

/// A new member registered at the till when their card is issued. Contact details are checked
/// here; marketing consent is explicit and off unless the customer says yes.
public struct Registration: Hashable, Sendable, Codable {
    public var cardNumber: String
    public var firstName: String
    public var lastName: String
    public var phone: String?
    public var email: String?
    public var postcode: String?
    /// YYYY-MM-DD.
    public var birthDate: String?
    public var marketingConsent: Bool
    public var registeredAt: Timestamp
    /// The code of the member who invited them (a referral), as given at registration.
    public var referralCode: String?

    public init(cardNumber: String, firstName: String, lastName: String, phone: String?, email: String?, postcode: String?,
                birthDate: String?, marketingConsent: Bool, registeredAt: Timestamp, referralCode: String? = nil) {
        self.referralCode = referralCode
        self.cardNumber = cardNumber
        self.firstName = firstName
        self.lastName = lastName
        self.phone = phone
        self.email = email
        self.postcode = postcode
        self.birthDate = birthDate
        self.marketingConsent = marketingConsent
        self.registeredAt = registeredAt
    }

    /// Builds a registration from what the cashier keyed; every field is checked.
    public static func make(
        cardNumber: String, firstName: String, lastName: String, phone: String, email: String, postcode: String,
        birthDate: String, marketingConsent: Bool, at time: Timestamp, referralCode: String = ""
    ) throws(CardError) -> Registration {
        let referral = referralCode.trimmedSpaces.uppercased()
        guard referral.isEmpty || Self.isReferralCode(referral) else { throw .invalidReferralCode(referralCode.trimmedSpaces) }
        let first = firstName.trimmedSpaces, last = lastName.trimmedSpaces
        guard !first.isEmpty || !last.isEmpty else { throw .nameRequired }
        let phone = phone.trimmedSpaces, email = email.trimmedSpaces, postcode = postcode.trimmedSpaces, dob = birthDate.trimmedSpaces
        guard !phone.isEmpty || !email.isEmpty else { throw .contactRequired }
        // Checked over the UTF-8 bytes: a card file runs this for each of millions of members.
        if !phone.isEmpty {
            let digits = phone.utf8.count(where: { $0 >= 48 && $0 <= 57 })
            guard digits >= 6, digits <= 15, phone.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || Self.phonePunctuation.contains($0) }) else {
                throw .invalidPhone(phone)
            }
        }
        if !email.isEmpty {
            let parts = email.utf8.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].contains(UInt8(ascii: ".")), parts[1].first != UInt8(ascii: "."),
                  parts[1].last != UInt8(ascii: "."), !email.utf8.contains(UInt8(ascii: " ")) else { throw .invalidEmail(email) }
        }
        if !postcode.isEmpty {
            guard postcode.count <= 10, postcode.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == " " || $0 == "-" }) else {
                throw .invalidPostcode(postcode)
            }
        }
        if !dob.isEmpty {
            guard let minutes = LocalDateTime.parseMinutes(dob + "T00:00") else { throw .invalidBirthDate(dob) }
            // Today as the till's clock has it (a day's leeway either side for the time zone).
            let today = time / 60_000
            guard minutes <= today + 1440, minutes >= today - 130 * 366 * 1440 else { throw .birthDateNotPossible(dob) }
        }
        return Registration(
            cardNumber: cardNumber, firstName: first, lastName: last, phone: phone.isEmpty ? nil : phone,
            email: email.isEmpty ? nil : email.lowercased(), postcode: postcode.isEmpty ? nil : postcode.uppercased(),
            birthDate: dob.isEmpty ? nil : dob, marketingConsent: marketingConsent, registeredAt: time, referralCode: referral.isEmpty ? nil : referral)
    }

    /// A member's referral code: 4 to 12 capital letters and digits.
    public static func isReferralCode(_ s: String) -> Bool {
        (4...12).contains(s.utf8.count) && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) }
    }

    private static let phonePunctuation = Set(" +-()/.".utf8)

    public var fullName: String { [firstName, lastName].filter { !$0.isEmpty }.joined(separator: " ") }
}

/// What a sale did for its loyalty member: points earned by rule, welcome bonus, points
/// redeemed, balances before and after, and the tier. Kept with the sale; head office recomputes
/// `earned` with the same programme version and context to check it.
public struct LoyaltyOutcome: Hashable, Sendable, Codable {
    public var customer: SaleCustomer
    public var programmeVersion: String
    public var context: EarnContext
    public var earned: PointsAward
    public var welcome: PointsAward
    public var redeemed: Points
    public var redeemedValue: Int64
    public var tierName: String?
    public var nextTierName: String?
    /// How much more qualifying spend (minor units) or points the next tier needs.
    public var toNextTier: Int64?
    /// The member's offers that took money off this sale (their ids).
    public var discountOffers: [String] = []
    /// The member's progress in the challenges this sale counts in (head office confirms completions).
    public var challenges: [ChallengeProgress] = []

    public init(customer: SaleCustomer, programmeVersion: String, context: EarnContext, earned: PointsAward, welcome: PointsAward,
                redeemed: Points, redeemedValue: Int64, tierName: String?, nextTierName: String?, toNextTier: Int64?) {
        self.customer = customer
        self.programmeVersion = programmeVersion
        self.context = context
        self.earned = earned
        self.welcome = welcome
        self.redeemed = redeemed
        self.redeemedValue = redeemedValue
        self.tierName = tierName
        self.nextTierName = nextTierName
        self.toNextTier = toNextTier
    }

    public var balanceBefore: Points { customer.balance }
    public var balanceAfter: Points { customer.balance + earned.total + welcome.total - redeemed }
}

extension LoyaltyProgramme {
    /// The loyalty outcome of a paid basket for its customer.
    public func outcome(for basket: Basket, customer: SaleCustomer, context: EarnContext, saleID: String? = nil) -> LoyaltyOutcome {
        let earned = award(for: basket, context: context)
        let redeemedPoints = basket.tenders.filter { $0.kind == .points }.sum { $0.points ?? 0 }
        let redeemedValue = basket.tenders.filter { $0.kind == .points }.reduce(0) { $0 + $1.amount }
        // This sale counts towards the tier: its spend (the total less what points paid), or its points.
        let spend = max(0, basket.totals.total - redeemedValue)
        let qualifyingAfter = customer.qualifying + (tierQualification.basis == .spend ? spend : earned.total.count)
        let tier = self.tier(for: qualifyingAfter)
        let next = nextTier(after: qualifyingAfter)
        var outcome = LoyaltyOutcome(
            customer: customer, programmeVersion: version, context: context, earned: earned,
            welcome: customer.registration == nil ? PointsAward(parts: []) : welcomeAward, redeemed: redeemedPoints,
            redeemedValue: redeemedValue, tierName: tier?.name ?? customer.tierName, nextTierName: next?.tier.name,
            toNextTier: next?.needed)
        outcome.discountOffers = basket.totals.offerDiscounts.map(\.id)
        if !challenges.isEmpty {
            outcome.challenges = challengeProgress(lines: basket.challengeLines, saleID: saleID ?? "", customer: customer, time: context.time)
        }
        return outcome
    }
}

extension StringProtocol {
    var trimmedSpaces: String {
        // Most fields have nothing to trim: seen on the bytes, without building Characters.
        let space = { (b: UInt8?) in b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
        let whole = String(self)
        if !space(whole.utf8.first), !space(whole.utf8.last) { return whole }
        var s = Substring(whole)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
