import Foundation
import Testing
import TillCore

/// The programme the engine tests run against (programmes are JSON data, as on the till).
let testProgrammeJSON = """
    {
      "version": "t-1", "name": "Test Rewards", "currency": "EUR",
      "earn": { "pointsPerUnit": 1, "unitMinor": 100, "rounding": "down", "excludedCategories": ["Tobacco"], "excludedSKUs": ["GIFT"] },
      "bonuses": [
        { "id": "dairy", "name": "Double points on dairy", "categories": ["Dairy"], "multiplierBP": 20000 },
        { "id": "coffee", "name": "Coffee: 10 a pack", "skus": ["COFFEE"], "fixedPointsPerUnit": 10 }
      ],
      "quantityRules": [ { "id": "crois3", "name": "3+ croissants", "sku": "CROIS", "minQuantity": 3, "points": 25 } ],
      "nthPurchaseRules": [ { "id": "third", "name": "Every 3rd visit", "every": 3, "periodDays": 30, "points": 50 } ],
      "promotions": [
        { "id": "tue", "name": "Double points on Tuesdays", "starts": "2026-11-01T00:00", "ends": "2026-12-01T00:00", "weekdays": [2], "multiplierBP": 20000 },
        { "id": "happy", "name": "Happy hour +20", "starts": "2026-11-01T00:00", "ends": "2026-12-01T00:00", "timeFrom": "17:00", "timeTo": "19:00",
          "stores": ["0001"], "bonusPoints": 20 }
      ],
      "tiers": [
        { "code": "MEM", "name": "Member", "threshold": 0, "earnMultiplierBP": 10000, "discountBP": 0 },
        { "code": "SLV", "name": "Silver", "threshold": 50000, "earnMultiplierBP": 12500, "discountBP": 0 },
        { "code": "GLD", "name": "Gold", "threshold": 150000, "earnMultiplierBP": 15000, "discountBP": 500 }
      ],
      "tierQualification": { "basis": "spend", "periodDays": 365 },
      "welcomeBonus": 100,
      "redemption": {
        "bands": [ { "minPoints": 0, "minorPer100Points": 50 }, { "minPoints": 1000, "minorPer100Points": 60 }, { "minPoints": 5000, "minorPer100Points": 75 } ],
        "minimumPoints": 100, "maxShareBP": 5000, "offlineCapPoints": 2000
      },
      "cashback": { "schedule": "quarterly", "minimumPoints": 2000,
                    "bands": [ { "minPoints": 0, "minorPer100Points": 40 }, { "minPoints": 10000, "minorPer100Points": 50 } ] },
      "cardRanges": [ { "name": "Test", "prefix": "6034", "length": 16 } ]
    }
    """

let testProgramme: LoyaltyProgramme = try! JSONDecoder().decode(LoyaltyProgramme.self, from: Data(testProgrammeJSON.utf8))

/// Monday 23 November 2026, 12:00, store 0001.
let monday = EarnContext(time: LocalDateTime(minutes: LocalDateTime.parseMinutes("2026-11-23T12:00")!), storeID: "0001", tierCode: "MEM")

func at(_ s: String, store: String = "0001", tier: String? = "MEM", prior: [String: Int64] = [:]) -> EarnContext {
    EarnContext(time: LocalDateTime(minutes: LocalDateTime.parseMinutes(s)!), storeID: store, tierCode: tier, priorPurchases: prior)
}

func basket(_ items: [(sku: String, category: String, price: Int64, qty: Int64)], discount: Discount? = nil, void: Int? = nil) throws -> Basket {
    var b = Basket(currency: .eur)
    for i in items {
        try b.apply(.addLine(item: LineItem(sku: i.sku, description: i.sku, category: i.category, taxCode: "A", taxBasisPoints: 2000,
                                            unitPrice: i.price, quantity: Quantity(milli: i.qty), soldByWeight: i.qty % 1000 != 0)))
    }
    if let void { try b.apply(.voidLine(number: void)) }
    if let discount { try b.apply(.discountSale(discount: discount)) }
    return b
}

@Suite("Earning points, rule by rule")
struct EarnTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var items: [(sku: String, category: String, price: Int64, qty: Int64)]
        var context: EarnContext
        var discount: Discount? = nil
        var void: Int? = nil
        var rounding: LoyaltyProgramme.Rounding = .down
        var expected: [String: Int64]
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "base and a category multiplier", items: [("MILK", "Dairy", 119, 3000), ("BREAD", "Bakery", 249, 1000)],
             context: monday, expected: ["base": 6, "dairy": 3]),
        Case(name: "excluded category and SKU earn nothing", items: [("CIG", "Tobacco", 950, 1000), ("GIFT", "Gifts", 2500, 1000)],
             context: monday, expected: [:]),
        Case(name: "exclusions do not take the bonus lines away", items: [("CIG", "Tobacco", 950, 1000), ("MILK", "Dairy", 119, 1000)],
             context: monday, expected: ["base": 1, "dairy": 1]),
        Case(name: "fixed points per unit", items: [("COFFEE", "Grocery", 699, 2000)], context: monday, expected: ["base": 13, "coffee": 20]),
        Case(name: "quantity rule reached", items: [("CROIS", "Bakery", 95, 3000)], context: monday, expected: ["base": 2, "crois3": 25]),
        Case(name: "quantity rule one short", items: [("CROIS", "Bakery", 95, 2000)], context: monday, expected: ["base": 1]),
        Case(name: "every 3rd visit: this is the 3rd", items: [("BREAD", "Bakery", 1000, 1000)], context: at("2026-11-23T12:00", prior: ["third": 2]),
             expected: ["base": 10, "third": 50]),
        Case(name: "every 3rd visit: this is the 4th", items: [("BREAD", "Bakery", 1000, 1000)], context: at("2026-11-23T12:00", prior: ["third": 3]),
             expected: ["base": 10]),
        Case(name: "Tuesday from its first minute", items: [("BREAD", "Bakery", 1000, 1000)], context: at("2026-11-24T00:00"),
             expected: ["base": 10, "tue": 10]),
        Case(name: "Monday's last minute is not Tuesday", items: [("BREAD", "Bakery", 1000, 1000)], context: at("2026-11-23T23:59"),
             expected: ["base": 10]),
        Case(name: "promotion ends exclusive", items: [("BREAD", "Bakery", 1000, 1000)], context: at("2026-12-01T00:00"),
             expected: ["base": 10]),
        Case(name: "happy hour starts at 17:00", items: [("BREAD", "Bakery", 1000, 1000)], context: at("2026-11-23T17:00"),
             expected: ["base": 10, "happy": 20]),
        Case(name: "happy hour not at 16:59", items: [("BREAD", "Bakery", 1000, 1000)], context: at("2026-11-23T16:59"), expected: ["base": 10]),
        Case(name: "happy hour ends before 19:00", items: [("BREAD", "Bakery", 1000, 1000)], context: at("2026-11-23T19:00"), expected: ["base": 10]),
        Case(name: "happy hour is for store 0001 only", items: [("BREAD", "Bakery", 1000, 1000)], context: at("2026-11-23T18:00", store: "0002"),
             expected: ["base": 10]),
        Case(name: "silver tier x1.25 rounds down", items: [("BREAD", "Bakery", 1000, 1000)], context: at("2026-11-23T12:00", tier: "SLV"),
             expected: ["base": 10, "tier-SLV": 2]),
        Case(name: "gold tier x1.5", items: [("BREAD", "Bakery", 1000, 1000)], context: at("2026-11-23T12:00", tier: "GLD"),
             expected: ["base": 10, "tier-GLD": 5]),
        Case(name: "points follow the discounted net", items: [("BREAD", "Bakery", 1000, 1000)], context: monday,
             discount: .percent(basisPoints: 5_000), expected: ["base": 5]),
        Case(name: "a voided line earns nothing", items: [("MILK", "Dairy", 500, 1000), ("BREAD", "Bakery", 300, 1000)], context: monday,
             void: 1, expected: ["base": 3]),
        Case(name: "rounding down", items: [("BREAD", "Bakery", 299, 1000)], context: monday, expected: ["base": 2]),
        Case(name: "rounding to nearest, half up", items: [("BREAD", "Bakery", 250, 1000)], context: monday, rounding: .nearest, expected: ["base": 3]),
        Case(name: "rounding to nearest, below half", items: [("BREAD", "Bakery", 249, 1000)], context: monday, rounding: .nearest, expected: ["base": 2]),
        Case(name: "rounding up", items: [("BREAD", "Bakery", 201, 1000)], context: monday, rounding: .up, expected: ["base": 3]),
        Case(name: "everything at once on a Tuesday happy hour in gold",
             items: [("MILK", "Dairy", 119, 3000), ("COFFEE", "Grocery", 699, 1000), ("CROIS", "Bakery", 95, 3000), ("CIG", "Tobacco", 950, 1000)],
             context: at("2026-11-24T17:30", tier: "GLD", prior: ["third": 5]),
             expected: ["base": 13, "dairy": 3, "coffee": 10, "crois3": 25, "third": 50, "tue": 13, "happy": 20, "tier-GLD": 6]),
    ]

    @Test("baskets x rules", arguments: cases)
    func award(c: Case) throws {
        var p = testProgramme
        p.earn.rounding = c.rounding
        let a = p.award(for: try basket(c.items, discount: c.discount, void: c.void), context: c.context)
        let got = Dictionary(uniqueKeysWithValues: a.parts.filter { $0.points > 0 }.map { ($0.rule, $0.points.count) })
        #expect(got == c.expected)
        #expect(a.total.count == c.expected.values.reduce(0, +))
    }

    @Test func everyPartExplainsItself() throws {
        let a = testProgramme.award(for: try basket([("MILK", "Dairy", 119, 3000), ("BREAD", "Bakery", 249, 1000)]), context: at("2026-11-24T12:00", tier: "SLV"))
        #expect(a.parts == [
            .init(rule: "base", label: "1 pt per 1.00 on 6.06", points: 6),
            .init(rule: "dairy", label: "Double points on dairy", points: 3),
            .init(rule: "tue", label: "Double points on Tuesdays", points: 6),
            .init(rule: "tier-SLV", label: "Silver tier x1.25", points: 1),
        ])
    }
}

@Suite("Redeeming points")
struct RedemptionTests {
    @Test("the value of points depends on how many", arguments: [
        (Int64(99), Int64(49)), (100, 50), (999, 499), (1000, 600), (4999, 2999), (5000, 3750), (0, 0),
    ])
    func value(points: Int64, minor: Int64) {
        #expect(testProgramme.value(ofPoints: Points(points)) == minor)
    }

    @Test("the fewest points for an amount", arguments: [
        (Int64(50), Int64?(100)), (49, 98), (499, 998), (500, 1000), (600, 1000), (601, 1002), (3750, 5000),
    ])
    func pointsForAmount(amount: Int64, points: Int64?) {
        #expect(testProgramme.points(forAmount: amount)?.count == points)
    }

    @Test func theLimitIsTheLeastOfDueShareAndBalance() {
        #expect(testProgramme.redemptionLimit(available: 3_000, total: 4_000, due: 4_000) == 1_800) // value of 3000 points
        #expect(testProgramme.redemptionLimit(available: 9_000, total: 4_000, due: 4_000) == 2_000) // 50% of the sale
        #expect(testProgramme.redemptionLimit(available: 9_000, total: 4_000, due: 1_500) == 1_500) // what is due
        #expect(testProgramme.redemptionLimit(available: 0, total: 4_000, due: 4_000) == 0)
    }

    @Test func redemptionsAreChecked() {
        #expect(throws: RedemptionError.belowMinimum(points: 98, minimum: 100)) {
            try testProgramme.checkRedemption(points: 98, amount: 49, available: 500, offlineLeft: nil, total: 1_000, due: 1_000)
        }
        #expect(throws: RedemptionError.aboveBalance(points: 1_000, available: 500)) {
            try testProgramme.checkRedemption(points: 1_000, amount: 600, available: 500, offlineLeft: nil, total: 10_000, due: 10_000)
        }
        #expect(throws: RedemptionError.aboveOfflineCap(points: 1_000, left: 400)) {
            try testProgramme.checkRedemption(points: 1_000, amount: 600, available: 5_000, offlineLeft: 400, total: 10_000, due: 10_000)
        }
        let share = RedemptionError.aboveShare(amount: Money(minor: 600, currency: .eur), limit: Money(minor: 500, currency: .eur), shareText: "50%")
        #expect(throws: share) {
            try testProgramme.checkRedemption(points: 1_000, amount: 600, available: 5_000, offlineLeft: nil, total: 1_000, due: 1_000)
        }
        #expect(share.description == "6.00 in points is more than the 50% of this sale points may pay (5.00): key a smaller amount")
    }

    @Test func cashbackConvertsTheBalanceOnlyFromTheMinimum() {
        #expect(testProgramme.cashback(balance: 1_999) == nil)
        #expect(testProgramme.cashback(balance: 2_000)! == (2_000, 800))
        #expect(testProgramme.cashback(balance: 10_000)! == (10_000, 5_000))
    }
}

@Suite("Loyalty invariants (property-based, seeded)")
struct LoyaltyPropertyTests {
    /// SplitMix64, so every run checks the same 2,000 cases and a failure can be replayed.
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int64) -> Int64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int64((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    @Test func awardsAreNeverNegativeAndTheirPartsSumToTheTotal() throws {
        var r = Random(state: 42)
        let skus = [("MILK", "Dairy"), ("BREAD", "Bakery"), ("COFFEE", "Grocery"), ("CROIS", "Bakery"), ("CIG", "Tobacco"), ("GIFT", "Gifts")]
        let tiers = ["MEM", "SLV", "GLD", nil]
        for _ in 0..<2_000 {
            let n = Int(r.next(8)) + 1
            let items = (0..<n).map { _ in
                let s = skus[Int(r.next(Int64(skus.count)))]
                return (sku: s.0, category: s.1, price: r.next(5_000), qty: (r.next(5) + 1) * 1000)
            }
            let minutes = LocalDateTime.parseMinutes("2026-10-25T00:00")! + r.next(60 * 24 * 45)
            let ctx = EarnContext(time: LocalDateTime(minutes: minutes), storeID: r.next(2) == 0 ? "0001" : "0002",
                                  tierCode: tiers[Int(r.next(4))], priorPurchases: ["third": r.next(10)])
            let discount: Discount? = r.next(3) == 0 ? .percent(basisPoints: r.next(10_001)) : nil
            let a = testProgramme.award(for: try basket(items, discount: discount), context: ctx)
            #expect(a.parts.allSatisfy { $0.points >= 0 })
            #expect(a.total == a.parts.reduce(0) { $0 + $1.points })
            #expect(a.total >= 0)
        }
    }

    @Test func redeemingNeverExceedsTheBalanceTheCapOrTheShare() {
        var r = Random(state: 7)
        for _ in 0..<2_000 {
            let available = r.next(20_000), total = r.next(100_000) + 1, due = r.next(total) + 1
            let cap = r.next(3_000)
            let limit = testProgramme.redemptionLimit(available: Points(min(available, cap)), total: total, due: due)
            #expect(limit <= due)
            #expect(limit <= total * testProgramme.redemption.maxShareBP / 10_000)
            #expect(limit <= testProgramme.value(ofPoints: Points(min(available, cap))))
            if limit > 0, let points = testProgramme.points(forAmount: limit) {
                #expect(points.count <= min(available, cap))
                #expect(testProgramme.value(ofPoints: points) >= limit)
            }
            // Whatever the cashier keys, an accepted redemption stays within balance, cap and share.
            let keyed = r.next(total) + 1
            if let points = testProgramme.points(forAmount: keyed),
               (try? testProgramme.checkRedemption(points: points, amount: keyed, available: Points(available), offlineLeft: Points(cap), total: total, due: due)) != nil {
                #expect(points.count <= available && points.count <= cap)
                #expect(keyed <= due && keyed <= total * testProgramme.redemption.maxShareBP / 10_000)
                #expect(available - points.count >= 0)
            }
        }
    }

    @Test func moreRedeemedPointsAreNeverWorthLess() {
        var previous: Int64 = 0
        for points in stride(from: Int64(0), through: 12_000, by: 1) {
            let v = testProgramme.value(ofPoints: Points(points))
            #expect(v >= previous)
            previous = v
        }
    }
}

@Suite("Programme validation")
struct ProgrammeValidationTests {
    @Test func theTestProgrammeIsValid() {
        #expect(testProgramme.validate().isEmpty)
    }

    @Test func aNegativeRateOverlappingTiersAndADecreasingTableNameTheirFields() {
        var p = testProgramme
        p.earn.pointsPerUnit = -1
        p.tiers[2].threshold = 50_000
        p.redemption.bands[2].minorPer100Points = 55
        #expect(p.validate().map(\.description) == [
            "earn.pointsPerUnit: -1 must not be negative",
            "tiers[2].threshold: 50000 overlaps tiers[1] (50000): each tier must start above the one before",
            "redemption.bands[2].minorPer100Points: 55 is below redemption.bands[1]'s 60: the table must not decrease, or redeeming more points would be worth less",
        ])
    }

    @Test func otherMistakes() {
        var p = testProgramme
        p.promotions[0].ends = "2026-10-01T00:00"
        p.promotions[1].weekdays = [8]
        p.bonuses[0].multiplierBP = 5_000
        p.cardRanges = []
        #expect(p.validate().map(\.field) == ["bonuses[0].multiplierBP", "promotions[0].ends", "promotions[1].weekdays", "cardRanges"])
    }
}

@Suite("Cards")
struct CardTests {
    @Test func luhn() {
        #expect(LoyaltyCardNumber.luhnDigit("603400000000001") == "5")
        #expect(LoyaltyCardNumber.luhnValid("79927398713"))
        #expect(!LoyaltyCardNumber.luhnValid("79927398710"))
    }

    @Test func rangesAndCheckDigits() throws {
        let ranges = testProgramme.cardRanges
        #expect(try LoyaltyCardNumber.validate("6034000000000015", ranges: ranges) == "6034000000000015")
        #expect(throws: CardError.badCheckDigit("6034000000000012")) { try LoyaltyCardNumber.validate("6034000000000012", ranges: ranges) }
        #expect(throws: CardError.outsideRanges("4111111111111111")) { try LoyaltyCardNumber.validate("4111111111111111", ranges: ranges) }
        #expect(throws: CardError.outsideRanges("603400000000001")) { try LoyaltyCardNumber.validate("603400000000001", ranges: ranges) }
    }

    @Test func tracks() throws {
        #expect(try LoyaltyCardNumber.fromTrack(";6034000000000015=2812101?") == "6034000000000015")
        #expect(try LoyaltyCardNumber.fromTrack("%B6034000000000015^IVANOVA/ANNA^2812101?") == "6034000000000015")
        #expect(throws: CardError.malformedTrack(";6034000000000015?")) { try LoyaltyCardNumber.fromTrack(";6034000000000015?") }
        #expect(throws: CardError.malformedTrack("%B60340^X")) { try LoyaltyCardNumber.fromTrack("%B60340^X") }
    }

    @Test func messagesMaskTheNumber() {
        #expect(LoyaltyCardNumber.masked("6034123456789012") == "**** **** **** 9012")
        #expect(CardError.blocked("6034123456789012").description == "Card **** **** **** 9012 is blocked: ask the customer to contact the loyalty desk")
        #expect(CardError.badCheckDigit("6034123456789013").description == "Card 6034 1234 5678 9013 failed its check digit: scan again or key it in")
    }

    @Test func registrationsAreChecked() throws {
        func reg(phone: String = "", email: String = "anna@example.com", first: String = "Anna", dob: String = "") throws -> Registration {
            try Registration.make(cardNumber: "6034000000000015", firstName: first, lastName: "Ivanova", phone: phone, email: email,
                                  postcode: "", birthDate: dob, marketingConsent: false, at: 0)
        }
        #expect(try reg().email == "anna@example.com")
        #expect(throws: CardError.invalidEmail("anna.example.com")) { try reg(email: "anna.example.com") }
        #expect(throws: CardError.contactRequired) { try reg(email: "") }
        #expect(throws: CardError.invalidPhone("12ab")) { try reg(phone: "12ab", email: "") }
        #expect(throws: CardError.invalidBirthDate("1990-13-01")) { try reg(dob: "1990-13-01") }
        #expect(try reg(phone: "+7 916 123-45-67", email: "").phone == "+7 916 123-45-67")
        // Issue 13, defect 6: only real dates, in the past, of someone alive.
        let now: Int64 = 1_795_000_000_000   // 2026-11-17
        func born(_ dob: String) throws -> Registration {
            try Registration.make(cardNumber: "6034000000000015", firstName: "Anna", lastName: "Ivanova", phone: "", email: "anna@example.com",
                                  postcode: "", birthDate: dob, marketingConsent: false, at: now)
        }
        #expect(throws: CardError.invalidBirthDate("2031-02-31")) { try born("2031-02-31") }
        #expect(throws: CardError.invalidBirthDate("1990-02-30")) { try born("1990-02-30") }
        #expect(throws: CardError.invalidBirthDate("1990-04-31")) { try born("1990-04-31") }
        #expect(throws: CardError.invalidBirthDate("2001-02-29")) { try born("2001-02-29") }
        #expect(try born("2000-02-29").birthDate == "2000-02-29")
        #expect(throws: CardError.birthDateNotPossible("2031-02-28")) { try born("2031-02-28") }
        #expect(throws: CardError.birthDateNotPossible("1850-01-01")) { try born("1850-01-01") }
        #expect(try born("1931-06-01").birthDate == "1931-06-01")
        #expect(try reg().marketingConsent == false)
    }
}

/// Personal offers (issue 16): a campaign's bonus on its lines, once they reach the minimum;
/// the outcome's offers still open after the sale.
@Suite("Personal offers")
struct PersonalOfferTests {
    static let coffee = PersonalOffer(id: "coffee-week", name: "Triple points on coffee", multiplierBP: 30_000, categories: ["Coffee"], minSpend: 500,
                                      validFrom: 0, validTo: 2_000_000_000_000, uses: 2)
    static let bonus = PersonalOffer(id: "welcome-back", name: "50 points back", bonusPoints: 50, validFrom: 0, validTo: 1_000, stores: ["0002"], uses: 1)

    @Test func anOfferGivesItsMultipleOnItsLinesOnceTheyReachTheMinimum() throws {
        var context = monday
        context.offers = [Self.coffee]
        // Coffee 7.00 (earns 7 base; the offer 2×7 more), bread 3.00 (base only).
        let b = try basket([("BEANS", "Coffee", 700, 1000), ("BREAD", "Bakery", 300, 1000)])
        let award = testProgramme.award(for: b, context: context)
        #expect(award.parts.first { $0.rule == "offer:coffee-week" }?.points == 14)
        #expect(award.parts.first { $0.rule == "offer:coffee-week" }?.label == "Triple points on coffee")
        // Below the minimum on its lines (4.00 of coffee): nothing from the offer.
        let small = try basket([("BEANS", "Coffee", 400, 1000), ("BREAD", "Bakery", 900, 1000)])
        #expect(!testProgramme.award(for: small, context: context).parts.contains { $0.rule == "offer:coffee-week" })
        // Without the offer in the context (not the member's, or used up): nothing.
        #expect(!testProgramme.award(for: b, context: monday).parts.contains { $0.rule.hasPrefix("offer:") })
        // A basket-wide bonus.
        context.offers = [Self.bonus]
        #expect(testProgramme.award(for: b, context: context).parts.first { $0.rule == "offer:welcome-back" }?.points == 50)
    }

    @Test func anOfferIsValidInItsWindowAtItsStores() {
        #expect(Self.bonus.isValid(at: 500, store: "0002") && !Self.bonus.isValid(at: 500, store: "0001"))
        #expect(!Self.bonus.isValid(at: 1_000, store: "0002"), "the end is not in the window")
        #expect(Self.coffee.isValid(at: 1, store: "0009"))
        #expect(PersonalOffer.id(ofRule: "offer:coffee-week") == "coffee-week" && PersonalOffer.id(ofRule: "base") == nil)
        #expect(Self.coffee.summary(currency: .eur) == "3× points on Coffee when you spend 5.00")
    }

    @Test func theOffersStillOpenAfterASaleAreLessItsUse() throws {
        var customer = SaleCustomer(cardNumber: "6034000000000001", customerID: "M1", name: "Anna", tierCode: "MEM", tierName: "Member", balance: 0,
                                    qualifying: 0, offlineLeft: nil, provisional: false)
        customer.offers = [Self.coffee, PersonalOffer(id: "once", name: "Once", bonusPoints: 5, validFrom: 0, validTo: 2_000_000_000_000, uses: 1)]
        var context = monday
        context.offers = customer.offers
        let b = try basket([("BEANS", "Coffee", 700, 1000)])
        let outcome = testProgramme.outcome(for: b, customer: customer, context: context)
        // Both used once: coffee has one use left, "once" none.
        #expect(outcome.openOffers.map(\.offer.id) == ["coffee-week"] && outcome.openOffers.first?.usesLeft == 1)
    }
}
