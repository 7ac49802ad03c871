/// A completed sale as it leaves the till: in the outbox for head office and in
/// `till export sales` for accounting. Money is integer minor units of `currency`;
/// quantities are thousandths (`quantityMilli`: 3 items = 3000, 0.750 kg = 750).
public struct SaleDocument: Codable, Sendable, Equatable {
    /// Version of this document's schema; head office refuses versions it does not know.
    public var schemaVersion: Int
    /// UUID of the sale: the idempotency key at head office.
    public var saleID: String
    public var storeID: String
    public var tillID: String
    /// Per-till sequence number, 1, 2, 3…: head office detects gaps with it.
    public var sequence: Int64
    public var receiptNumber: String
    public var cashier: CashierInfo
    /// ISO 8601 local time with offset and milliseconds, e.g. 2026-11-23T14:05:12.345+01:00.
    public var startedAt: String
    public var completedAt: String
    public var currency: String
    public var lines: [Line]
    public var saleDiscount: DiscountInfo?
    public var vat: [VAT]
    public var tenders: [TenderInfo]
    public var totals: Totals
    /// The loyalty member and their points, when a card was scanned.
    public var loyalty: LoyaltyInfo?

    public static let currentSchemaVersion = 1

    public init(
        schemaVersion: Int = SaleDocument.currentSchemaVersion, saleID: String, storeID: String, tillID: String,
        sequence: Int64, receiptNumber: String, cashier: CashierInfo, startedAt: String, completedAt: String,
        currency: String, lines: [Line], saleDiscount: DiscountInfo?, vat: [VAT], tenders: [TenderInfo], totals: Totals,
        loyalty: LoyaltyInfo? = nil
    ) {
        self.loyalty = loyalty
        self.schemaVersion = schemaVersion
        self.saleID = saleID
        self.storeID = storeID
        self.tillID = tillID
        self.sequence = sequence
        self.receiptNumber = receiptNumber
        self.cashier = cashier
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.currency = currency
        self.lines = lines
        self.saleDiscount = saleDiscount
        self.vat = vat
        self.tenders = tenders
        self.totals = totals
    }

    public struct CashierInfo: Codable, Sendable, Equatable {
        public var number: String
        public var name: String
        public init(number: String, name: String) {
            self.number = number
            self.name = name
        }
    }

    public struct DiscountInfo: Codable, Sendable, Equatable {
        /// "percent" (value in basis points: 1000 = 10%) or "amount" (value in minor units).
        public var kind: String
        public var value: Int64
        /// Why it was given, chosen from the till's list (`[cash_office] discount_reasons`).
        public var reason: String?
        public init(kind: String, value: Int64, reason: String? = nil) {
            self.kind = kind
            self.value = value
            self.reason = reason
        }
    }

    /// A line's price override: the unit price it had (`listPrice`) and the reason given.
    public struct PriceOverrideInfo: Codable, Sendable, Equatable {
        public var listPrice: Int64
        public var reason: String?
        public init(listPrice: Int64, reason: String?) {
            self.listPrice = listPrice
            self.reason = reason
        }
    }

    public struct Line: Codable, Sendable, Equatable {
        public var lineNumber: Int
        public var sku: String
        public var description: String
        public var category: String
        /// The barcode, PLU or in-store label scanned or keyed.
        public var code: String?
        public var quantityMilli: Int64
        public var soldByWeight: Bool
        /// VAT-inclusive unit price (per kg when sold by weight).
        public var unitPrice: Int64
        public var priceFromLabel: Bool
        /// Unit price × quantity, rounded, before discounts (0 when voided).
        public var amount: Int64
        public var discount: DiscountInfo?
        public var lineDiscount: Int64
        /// What the member's offers took off the line (after its line discount; nil: nothing).
        public var offerDiscount: Int64?
        public var saleDiscountShare: Int64
        /// What the customer paid for the line.
        public var net: Int64
        public var taxCode: String
        public var taxRateBasisPoints: Int64
        public var voided: Bool
        /// The price before a price override, and why it was changed (nil: not overridden).
        public var priceOverride: PriceOverrideInfo?

        public init(
            lineNumber: Int, sku: String, description: String, category: String, code: String?, quantityMilli: Int64,
            soldByWeight: Bool, unitPrice: Int64, priceFromLabel: Bool, amount: Int64, discount: DiscountInfo?,
            lineDiscount: Int64, saleDiscountShare: Int64, net: Int64, taxCode: String, taxRateBasisPoints: Int64,
            voided: Bool, priceOverride: PriceOverrideInfo? = nil, offerDiscount: Int64? = nil
        ) {
            self.offerDiscount = offerDiscount
            self.priceOverride = priceOverride
            self.lineNumber = lineNumber
            self.sku = sku
            self.description = description
            self.category = category
            self.code = code
            self.quantityMilli = quantityMilli
            self.soldByWeight = soldByWeight
            self.unitPrice = unitPrice
            self.priceFromLabel = priceFromLabel
            self.amount = amount
            self.discount = discount
            self.lineDiscount = lineDiscount
            self.saleDiscountShare = saleDiscountShare
            self.net = net
            self.taxCode = taxCode
            self.taxRateBasisPoints = taxRateBasisPoints
            self.voided = voided
        }
    }

    public struct VAT: Codable, Sendable, Equatable {
        public var code: String
        public var rateBasisPoints: Int64
        public var gross: Int64
        public var vat: Int64
        public var net: Int64
        public init(code: String, rateBasisPoints: Int64, gross: Int64, vat: Int64, net: Int64) {
            self.code = code
            self.rateBasisPoints = rateBasisPoints
            self.gross = gross
            self.vat = vat
            self.net = net
        }
    }

    public struct TenderInfo: Codable, Sendable, Equatable {
        /// "cash", "card" or "points".
        public var kind: String
        public var amount: Int64
        public var reference: String?
        /// Points redeemed, for a points tender.
        public var points: Int64?
        public init(kind: String, amount: Int64, reference: String?, points: Int64? = nil) {
            self.kind = kind
            self.amount = amount
            self.reference = reference
            self.points = points
        }
    }

    /// Loyalty: the card, the programme version and context the points were computed with (so
    /// head office can recompute them), the award rule by rule, redemption, balances, and the
    /// registration when the card was issued at this sale.
    /// A personal offer a receipt tells the member they still have.
    public struct OpenOffer: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        /// Epoch milliseconds.
        public var validTo: Int64
        public var usesLeft: Int64
        public init(id: String, name: String, validTo: Int64, usesLeft: Int64) {
            self.id = id
            self.name = name
            self.validTo = validTo
            self.usesLeft = usesLeft
        }
    }

    /// An offer of the member's that took money off the sale: its terms (so the sale can be
    /// replayed exactly) and what it took. Head office checks the terms against its own.
    public struct OfferDiscountInfo: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        /// "percent" (value in basis points), "amount" (value in minor units) or "free-item" (value 1).
        public var kind: String
        public var value: Int64
        public var skus: [String]
        public var categories: [String]
        public var minSpend: Int64
        /// What it took off the sale (minor units).
        public var amount: Int64
        public init(id: String, name: String, kind: String, value: Int64, skus: [String], categories: [String], minSpend: Int64, amount: Int64) {
            self.id = id
            self.name = name
            self.kind = kind
            self.value = value
            self.skus = skus
            self.categories = categories
            self.minSpend = minSpend
            self.amount = amount
        }
    }

    public struct LoyaltyInfo: Codable, Sendable, Equatable {
        public var cardNumber: String
        public var customerID: String?
        public var customerName: String
        public var programmeVersion: String
        /// Local minutes since 1970-01-01T00:00 at the sale (promotion windows).
        public var localMinutes: Int64
        public var tierCode: String?
        public var tierName: String?
        public var priorPurchases: [String: Int64]
        public var qualifying: Int64
        public var earned: [AwardPart]
        public var welcome: [AwardPart]
        public var redeemed: Int64
        public var redeemedValue: Int64
        public var balanceBefore: Int64
        public var balanceAfter: Int64
        public var provisional: Bool
        public var offlineLeft: Int64?
        public var nextTierName: String?
        public var toNextTier: Int64?
        public var registration: RegistrationInfo?
        /// Points of `balanceBefore` that head office said expire soon, and by when (epoch ms): the
        /// receipt's line, printed again by a reprint.
        public var expiringSoon: Int64?
        public var expiringBy: Int64?
        /// The member's personal offers still open after the sale (the receipt prints them, a
        /// reprint too).
        public var openOffers: [OpenOffer]?
        /// The member's offers that took money off the sale, in the order they were applied.
        public var offerDiscounts: [OfferDiscountInfo]?
        /// The member's progress in challenges as the till saw it (the receipt prints it, a
        /// reprint too); head office counts the sale towards them itself.
        public var challenges: [ChallengeInfo]?

        public init(
            cardNumber: String, customerID: String?, customerName: String, programmeVersion: String, localMinutes: Int64,
            tierCode: String?, tierName: String?, priorPurchases: [String: Int64], qualifying: Int64, earned: [AwardPart],
            welcome: [AwardPart], redeemed: Int64, redeemedValue: Int64, balanceBefore: Int64, balanceAfter: Int64,
            provisional: Bool, offlineLeft: Int64?, nextTierName: String?, toNextTier: Int64?, registration: RegistrationInfo?,
            expiringSoon: Int64? = nil, expiringBy: Int64? = nil, openOffers: [OpenOffer]? = nil,
            offerDiscounts: [OfferDiscountInfo]? = nil, challenges: [ChallengeInfo]? = nil
        ) {
            self.challenges = challenges
            self.offerDiscounts = offerDiscounts
            self.openOffers = openOffers
            self.expiringSoon = expiringSoon
            self.expiringBy = expiringBy
            self.cardNumber = cardNumber
            self.customerID = customerID
            self.customerName = customerName
            self.programmeVersion = programmeVersion
            self.localMinutes = localMinutes
            self.tierCode = tierCode
            self.tierName = tierName
            self.priorPurchases = priorPurchases
            self.qualifying = qualifying
            self.earned = earned
            self.welcome = welcome
            self.redeemed = redeemed
            self.redeemedValue = redeemedValue
            self.balanceBefore = balanceBefore
            self.balanceAfter = balanceAfter
            self.provisional = provisional
            self.offlineLeft = offlineLeft
            self.nextTierName = nextTierName
            self.toNextTier = toNextTier
            self.registration = registration
        }
    }

    /// A challenge's progress after the sale: `value` of `goal` (visits, spend, items or weeks),
    /// and whether the sale completed it (its reward, once head office confirms).
    public struct ChallengeInfo: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var value: Int64
        public var goal: Int64
        public var unit: String
        public var completed: Bool
        public var rewardPoints: Int64
        public var badge: String?
        public init(id: String, name: String, value: Int64, goal: Int64, unit: String, completed: Bool, rewardPoints: Int64, badge: String?) {
            self.id = id
            self.name = name
            self.value = value
            self.goal = goal
            self.unit = unit
            self.completed = completed
            self.rewardPoints = rewardPoints
            self.badge = badge
        }
    }

    public struct AwardPart: Codable, Sendable, Equatable {
        public var rule: String
        public var label: String
        public var points: Int64
        public init(rule: String, label: String, points: Int64) {
            self.rule = rule
            self.label = label
            self.points = points
        }
    }

    /// A member registered at the till (their card was issued during the sale).
    public struct RegistrationInfo: Codable, Sendable, Equatable {
        public var cardNumber: String
        public var firstName: String
        public var lastName: String
        public var phone: String?
        public var email: String?
        public var postcode: String?
        public var birthDate: String?
        public var marketingConsent: Bool
        public var registeredAt: String
        /// The code of the member who invited them, as given (head office checks it).
        public var referralCode: String?
        public init(cardNumber: String, firstName: String, lastName: String, phone: String?, email: String?, postcode: String?,
                    birthDate: String?, marketingConsent: Bool, registeredAt: String, referralCode: String? = nil) {
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
    }

    public struct Totals: Codable, Sendable, Equatable {
        /// The lines' nets after line discounts and offers, before the sale discount.
        public var subtotal: Int64
        public var lineDiscounts: Int64
        /// What the member's offers took off (nil: nothing).
        public var offerDiscounts: Int64?
        public var saleDiscount: Int64
        public var total: Int64
        public var paid: Int64
        public var change: Int64
        public var itemCount: Int64
        public init(subtotal: Int64, lineDiscounts: Int64, saleDiscount: Int64, total: Int64, paid: Int64,
                    change: Int64, itemCount: Int64, offerDiscounts: Int64? = nil) {
            self.offerDiscounts = offerDiscounts
            self.subtotal = subtotal
            self.lineDiscounts = lineDiscounts
            self.saleDiscount = saleDiscount
            self.total = total
            self.paid = paid
            self.change = change
            self.itemCount = itemCount
        }
    }
}
