import Foundation
import TillDocuments
public import TillCore
import TillProtocol

extension OfferDefinition {
    /// An offer's terms as the tills are sent them.
    init(_ o: PersonalOffer) {
        self.init(id: o.id, name: o.name, multiplierBP: o.multiplierBP, bonusPoints: o.bonusPoints, skus: o.skus, categories: o.categories,
                  minSpend: o.minSpend, validFrom: o.validFrom, validTo: o.validTo, stores: o.stores, percentOffBP: o.percentOffBP,
                  amountOff: o.amountOff, freeItem: o.freeItem)
    }
}

/// An offer as a marketer keys it (the back office's form, `headoffice campaign create`'s
/// options), every field as text; `HeadOfficeStore.offer(_:currency:)` reads it.
public struct OfferTerms: Sendable {
    public var name: String, multiple: String, points: String, categories: String, skus: String, minSpend: String, uses: String
    /// A percentage off ("10", "12.5") and an amount off ("2.50").
    public var percentOff: String, amountOff: String
    public var freeItem: Bool
    public var activate: Bool
    public init(name: String, multiple: String = "", points: String = "", categories: String = "", skus: String = "", minSpend: String = "",
                uses: String = "", activate: Bool = false, percentOff: String = "", amountOff: String = "", freeItem: Bool = false) {
        self.name = name
        self.multiple = multiple
        self.points = points
        self.categories = categories
        self.skus = skus
        self.minSpend = minSpend
        self.uses = uses
        self.activate = activate
        self.percentOff = percentOff
        self.amountOff = amountOff
        self.freeItem = freeItem
    }
}

/// Campaigns' offers at the tills: their terms read and checked, the member's offers (and
/// activating one), what the tills are told (members who activated one, members who used one up),
/// the uses.
extension HeadOfficeStore {
    /// A decimal such as "12.5", in units of 10^-`places`, of at most `max` whole units; nil for
    /// anything else (a sign, an exponent, more decimals, a number too large).
    public static func decimal(_ text: String, places: Int, max: Int64) -> Int64? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ".", omittingEmptySubsequences: false)
        func digits(_ s: Substring) -> Bool { !s.isEmpty && s.allSatisfy { $0.isASCII && $0.isNumber } }
        guard (1...2).contains(parts.count), digits(parts[0]), parts[0].count <= 6, let whole = Int64(parts[0]), whole <= max else { return nil }
        var scale: Int64 = 1
        for _ in 0..<places { scale *= 10 }
        guard parts.count == 2 else { return whole * scale }
        guard digits(parts[1]), parts[1].count <= places, let fraction = Int64(parts[1].padding(toLength: places, withPad: "0", startingAt: 0)) else { return nil }
        return whole * scale + fraction
    }

    /// The holdout a marketer keyed ("10", "12.5": a percentage), in basis points.
    public static func holdout(_ text: String) throws -> Int64 {
        guard let bp = decimal(text, places: 2, max: 100) else {
            throw CampaignProblem("The holdout '\(text.prefix(20))' must be a percentage from 0 to 50, such as 10 or 12.5")
        }
        return bp
    }

    /// The offer a marketer keyed (nil: no name, no offer), each field read or refused with what
    /// was keyed; its bounds are checked when the campaign is created.
    public static func offer(_ t: OfferTerms, currency: Currency) throws -> PersonalOffer? {
        let name = t.name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return nil }
        func text(_ s: String) -> String { s.trimmingCharacters(in: .whitespaces) }
        func list(_ s: String) -> [String] { s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        /// A field read by `parse`, nil when empty; anything else is refused, quoting what was keyed.
        func field(_ s: String, _ parse: (String) -> Int64?, _ what: String, _ should: String) throws -> Int64? {
            let v = text(s)
            guard !v.isEmpty else { return nil }
            guard let x = parse(v) else { throw CampaignProblem("The offer's \(what) '\(v.prefix(20))' \(should)") }
            return x
        }
        let multiple = try field(t.multiple, { decimal($0, places: 4, max: 1_000) }, "multiple", "must be a number such as 2 or 1.5")
        let points = try field(t.points, { Int64($0) }, "bonus points", "must be a whole number")
        let minimum = try field(t.minSpend, currency.parse, "minimum spend", "is not an amount (e.g. 10.00)") ?? 0
        let percent = try field(t.percentOff, { decimal($0, places: 2, max: 100) }, "percent off", "must be a percentage such as 10 or 12.5")
        let amount = try field(t.amountOff, currency.parse, "amount off", "is not an amount (e.g. 2.50)")
        let usesText = text(t.uses).isEmpty ? "1" : text(t.uses)
        guard let uses = Int64(usesText) else { throw CampaignProblem("The offer's uses '\(usesText.prefix(20))' must be a whole number") }
        return PersonalOffer(id: "", name: name, multiplierBP: multiple, bonusPoints: points, skus: list(t.skus), categories: list(t.categories),
                             minSpend: minimum, validFrom: 0, validTo: 0, uses: uses, mustActivate: t.activate ? true : nil,
                             percentOffBP: percent, amountOff: amount, freeItem: t.freeItem ? true : nil)
    }

    /// An offer's terms within their bounds; the first wrong one, said plainly.
    static func checkOffer(_ o: PersonalOffer) throws {
        func need(_ ok: Bool, _ message: @autoclosure () -> String) throws { if !ok { throw CampaignProblem(message()) } }
        let name = o.name.trimmingCharacters(in: .whitespaces)
        try need(!name.isEmpty && name.count <= 60 && !name.contains(where: \.isNewline), "Give the offer a name of 1 to 60 characters (the till and the receipt show it)")
        let gives = [o.multiplierBP != nil || o.bonusPoints != nil, o.percentOffBP != nil, o.amountOff != nil, o.freeItem == true].filter { $0 }.count
        try need(gives == 1, gives == 0
                 ? "The offer must give something: points (a multiple, bonus points, or both), a percent off, an amount off, or a free item"
                 : "An offer gives one thing: points (a multiple, bonus points, or both), a percent off, an amount off, or a free item; make another campaign for another")
        if let p = o.percentOffBP { try need((1...10_000).contains(p), "The offer's percent off must be above 0% and at most 100%") }
        if let a = o.amountOff { try need((1...1_000_000_000).contains(a), "The offer's amount off must be above 0 and at most 10,000,000.00") }
        if o.freeItem == true { try need(!o.skus.isEmpty || !o.categories.isEmpty, "A free item offer names the items (SKUs or categories) one of which is free") }
        if let m = o.multiplierBP { try need((10_001...100_000).contains(m), "The offer's multiple must be above 1× and at most 10× (got \(Double(m) / 10_000)×)") }
        if let b = o.bonusPoints { try need((1...100_000).contains(b), "The offer's bonus points must be 1 to 100,000 (got \(b))") }
        try need(o.skus.count <= 50 && o.categories.count <= 50, "An offer names at most 50 SKUs and 50 categories")
        for t in o.skus + o.categories { try need(!t.isEmpty && t.count <= 64 && !t.contains(where: \.isNewline), "'\(t.prefix(64))' is not a SKU or category (1 to 64 characters)") }
        try need((0...1_000_000_000).contains(o.minSpend), "The offer's minimum spend must be 0 to 10,000,000.00")
        try need((1...100).contains(o.uses), "An offer can be used 1 to 100 times per member (got \(o.uses))")
        try need(o.stores.count <= 200, "An offer names at most 200 stores")
    }

    /// Of `ids`, the card's member's offers valid at `store` at `time`, with head office's terms.
    func memberOffers(_ ids: Set<String>, card: String, at time: Int64, store: String) throws -> [PersonalOffer] {
        let list = Array(ids.prefix(20))
        return try database.read { c in
            try c.query("""
                SELECT c.offer, m.activated_at FROM member_offers m JOIN campaigns c ON c.id = m.campaign_id
                WHERE m.customer_id = (SELECT customer_id FROM cards WHERE number = ?) AND m.campaign_id IN (\(Self.placeholders(list.count)))
                ORDER BY m.campaign_id
                """, [.text(card)] + list.map { .text($0) }).compactMap { r -> PersonalOffer? in
                guard let o = r["offer"].text.flatMap({ try? JSONDecoder().decode(PersonalOffer.self, from: Data($0.utf8)) }), o.isValid(at: time, store: store),
                      o.mustActivate != true || (r["activated_at"].int.map { $0 <= time } ?? false)
                else { return nil }
                return o
            }
        }
    }

    /// The offers that took money off a sale, checked against the member's own as head office has
    /// them (`own`): those that are theirs, on head office's terms, and took what those terms
    /// give (each one use); and a check for each that is not (no such offer, not valid at that
    /// store then, not activated, other terms, another amount), naming the offer. The money was
    /// taken at the till; the check is for someone to look at, and the use is not counted.
    func offerDiscounts(_ doc: SaleDocument, _ sale: CompletedSale, own: [PersonalOffer]) -> (uses: [(id: String, label: String)], checks: [AwardCheck]) {
        let taken = sale.basket.totals.offerDiscounts
        var uses: [(id: String, label: String)] = [], checks: [AwardCheck] = []
        for o in doc.loyalty?.offerDiscounts ?? [] {
            let head = "Sale \(doc.receiptNumber) took \(o.amount) off with offer \(o.id) (\(o.name)): "
            let problem: String?
            if let mine = own.first(where: { $0.id == o.id }) {
                let computed = taken.first { $0.id == o.id }?.amount ?? 0
                if SaleDocument.OfferDiscountInfo(mine, amount: o.amount) != o {
                    problem = "its terms (\(o.kind) \(o.value), minimum \(o.minSpend)) are not head office's (\(mine.summary(currency: sale.till.currency)))"
                } else if computed != o.amount {
                    problem = "its terms give \(computed)"
                } else {
                    problem = nil
                }
            } else {
                problem = "the member has no such offer valid at store \(doc.storeID) then (not theirs, ended or not activated)"
            }
            if let problem {
                checks.append(AwardCheck(kind: "offer", detail: head + problem, tillPoints: 0, headOfficePoints: nil))
            } else {
                uses.append((o.id, o.name))
            }
        }
        return (uses, checks)
    }

    /// Tells the tills which members have used an offer up (as head office counts the uses of
    /// every till), in one publication; how many, nil when none was waiting.
    public func publishUsedUpOffers(at time: Int64 = HeadOfficeStore.now()) throws -> Int? {
        let waiting = try database.read { c in
            try c.queryOne("SELECT 1 AS w FROM member_offers WHERE used_up_published = 0 AND uses_left <= 0 LIMIT 1", []) != nil
        }
        guard waiting else { return nil }
        return try database.write { c in
            let rows = try c.query("""
                UPDATE member_offers SET used_up_published = 1 WHERE used_up_published = 0 AND uses_left <= 0 RETURNING campaign_id, customer_id
                """, [])
            guard !rows.isEmpty else { return 0 }
            _ = try insertPublication(Publication(version: 0, kind: .offers, scope: .chain, createdBy: "head office", note: "Offers used up",
                                                  createdAt: time, effectiveAt: time, offers: OfferChanges(definitions: [], members: rows.map {
                                                      .init(customerID: $0.text("customer_id"), offer: $0.text("campaign_id"), uses: 0)
                                                  })), c)
            return rows.count
        }
    }

    /// A member's offers from campaigns: not yet ended, with the uses left and whether it is active.
    public struct MemberOffer: Sendable, Equatable {
        public var offer: PersonalOffer, usesLeft: Int64, active: Bool
    }

    public func memberOffers(customer id: String, at time: Int64 = HeadOfficeStore.now()) throws -> [MemberOffer] {
        try database.read { c in
            try c.query("""
                SELECT c.offer, m.uses_left, m.activated_at FROM member_offers m JOIN campaigns c ON c.id = m.campaign_id
                WHERE m.customer_id = ? AND m.uses_left > 0 AND c.ends_at > ? ORDER BY c.ends_at, c.id
                """, [.text(id), .int(time)]).compactMap { r -> MemberOffer? in
                guard let o = r["offer"].text.flatMap({ try? JSONDecoder().decode(PersonalOffer.self, from: Data($0.utf8)) }) else { return nil }
                return MemberOffer(offer: o, usesLeft: r.int("uses_left"), active: o.mustActivate != true || r["activated_at"].int != nil)
            }
        }
    }

    /// The member activates an offer that must be activated (their page, the e-mail's link):
    /// the tills hear of it within seconds. False: not theirs, not to activate, or done already.
    @discardableResult
    public func activateOffer(_ campaign: String, customer id: String, at time: Int64 = HeadOfficeStore.now()) throws -> Bool {
        try database.write { c in
            guard let r = try c.queryOne("""
                SELECT c.offer, c.ends_at FROM member_offers m JOIN campaigns c ON c.id = m.campaign_id
                WHERE m.campaign_id = ? AND m.customer_id = ? AND m.activated_at IS NULL
                """, [.text(campaign), .text(id)]),
                  let o = r["offer"].text.flatMap({ try? JSONDecoder().decode(PersonalOffer.self, from: Data($0.utf8)) }), o.mustActivate == true,
                  r.int("ends_at") > time else { return false }
            return try c.execute("UPDATE member_offers SET activated_at = ? WHERE campaign_id = ? AND customer_id = ? AND activated_at IS NULL",
                                 [.int(time), .text(campaign), .text(id)]) == 1
        }
    }

    /// Tells the tills of the offers members activated since the last time, in one publication;
    /// how many, nil when none was waiting.
    public func publishActivatedOffers(at time: Int64 = HeadOfficeStore.now()) throws -> Int? {
        let waiting = try database.read { c in
            try c.queryOne("SELECT 1 AS w FROM member_offers WHERE activation_published = 0 AND activated_at IS NOT NULL LIMIT 1", []) != nil
        }
        guard waiting else { return nil }
        return try database.write { c in
            let rows = try c.query("""
                UPDATE member_offers SET activation_published = 1 WHERE activation_published = 0 AND activated_at IS NOT NULL
                RETURNING campaign_id, customer_id, uses_left
                """, [])
            guard !rows.isEmpty else { return 0 }
            var definitions: [OfferDefinition] = []
            for id in Set(rows.map { $0.text("campaign_id") }).sorted() {
                guard let o = try c.queryOne("SELECT offer FROM campaigns WHERE id = ?", [.text(id)])?["offer"].text
                    .flatMap({ try? JSONDecoder().decode(PersonalOffer.self, from: Data($0.utf8)) }) else { continue }
                definitions.append(OfferDefinition(o))
            }
            _ = try insertPublication(Publication(version: 0, kind: .offers, scope: .chain, createdBy: "head office", note: "Offers activated",
                                                  createdAt: time, effectiveAt: time, offers: OfferChanges(definitions: definitions, members: rows.map {
                                                      .init(customerID: $0.text("customer_id"), offer: $0.text("campaign_id"), uses: max(0, $0.int("uses_left")))
                                                  })), c)
            return rows.count
        }
    }

    /// Each targeted member's uses of the campaign's offer so far, and how many used it.
    public func offerRedemptions(_ id: String) throws -> (uses: Int64, members: Int64) {
        try database.read { c in
            let r = try c.queryOne("SELECT COALESCE(SUM(used), 0) AS u, COUNT(CASE WHEN used > 0 THEN 1 END) AS m FROM member_offers WHERE campaign_id = ?", [.text(id)])
            return (r?.int("u") ?? 0, r?.int("m") ?? 0)
        }
    }
}
