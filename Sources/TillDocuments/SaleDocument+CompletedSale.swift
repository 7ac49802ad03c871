public import Foundation
public import TillCore
public import TillProtocol

extension SaleDocument {
    /// The wire document of a completed sale; timestamps in `timeZone`.
    public init(_ s: CompletedSale, timeZone: TimeZone) {
        let t = s.totals
        let lines = zip(s.basket.lines, t.lines).map { l, a in
            Line(
                lineNumber: l.number, sku: l.item.sku, description: l.item.description, category: l.item.category,
                code: l.item.code, quantityMilli: l.item.quantity.milli, soldByWeight: l.item.soldByWeight,
                unitPrice: l.item.unitPrice, priceFromLabel: l.item.priceFromLabel, amount: a.gross,
                discount: l.discount.map { DiscountInfo($0, reason: l.discountReason) }, lineDiscount: a.lineDiscount,
                saleDiscountShare: a.saleDiscountShare, net: a.net, taxCode: l.item.taxCode,
                taxRateBasisPoints: l.item.taxBasisPoints, voided: l.voided,
                priceOverride: l.item.listPrice.map { PriceOverrideInfo(listPrice: $0, reason: l.item.overrideReason) },
                offerDiscount: a.offerDiscount > 0 ? a.offerDiscount : nil)
        }
        self.init(
            saleID: s.id, storeID: s.till.storeID, tillID: s.till.tillID, sequence: s.sequence,
            receiptNumber: s.receiptNumber, cashier: CashierInfo(number: s.cashier.number, name: s.cashier.name),
            startedAt: ProtocolTime.format(s.startedAt, timeZone: timeZone),
            completedAt: ProtocolTime.format(s.completedAt, timeZone: timeZone),
            currency: s.till.currency.code, lines: lines, saleDiscount: s.basket.saleDiscount.map { DiscountInfo($0, reason: s.basket.saleDiscountReason) },
            vat: t.vat.map { VAT(code: $0.code, rateBasisPoints: $0.basisPoints, gross: $0.gross, vat: $0.vat, net: $0.net) },
            tenders: s.basket.tenders.map { TenderInfo(kind: $0.kind.rawValue, amount: $0.amount, reference: $0.reference, points: $0.points?.count) },
            totals: Totals(
                subtotal: t.subtotal, lineDiscounts: t.lineDiscounts, saleDiscount: t.saleDiscount, total: t.total,
                paid: t.paid, change: t.change, itemCount: t.itemCount, offerDiscounts: t.offerDiscount > 0 ? t.offerDiscount : nil),
            loyalty: s.loyalty.map { LoyaltyInfo($0, timeZone: timeZone, offers: Self.offerDiscounts(s.basket)) })
    }

    /// The offers that took money off a basket, with their terms, in the order applied.
    static func offerDiscounts(_ b: Basket) -> [OfferDiscountInfo]? {
        let taken = b.totals.offerDiscounts
        let list = taken.compactMap { d in b.offers.first { $0.id == d.id }.flatMap { OfferDiscountInfo($0, amount: d.amount) } }
        return list.isEmpty ? nil : list
    }
}

extension SaleDocument.OfferDiscountInfo {
    /// An offer's discount terms and what it took; nil for an offer that gives no discount.
    public init?(_ o: PersonalOffer, amount: Int64) {
        let kind: String, value: Int64
        if o.freeItem == true { (kind, value) = ("free-item", 1) }
        else if let p = o.percentOffBP, p > 0 { (kind, value) = ("percent", p) }
        else if let a = o.amountOff, a > 0 { (kind, value) = ("amount", a) }
        else { return nil }
        self.init(id: o.id, name: o.name, kind: kind, value: value, skus: o.skus, categories: o.categories, minSpend: o.minSpend, amount: amount)
    }

    /// The offer as a till applies it (its window and uses do not matter once the sale is made).
    public var offer: PersonalOffer {
        PersonalOffer(id: id, name: name, skus: skus, categories: categories, minSpend: minSpend, validFrom: 0, validTo: 0,
                      percentOffBP: kind == "percent" ? value : nil, amountOff: kind == "amount" ? value : nil,
                      freeItem: kind == "free-item" ? true : nil)
    }
}

extension SaleDocument.LoyaltyInfo {
    public init(_ o: LoyaltyOutcome, timeZone: TimeZone, offers: [SaleDocument.OfferDiscountInfo]? = nil) {
        let c = o.customer
        self.init(
            cardNumber: c.cardNumber, customerID: c.customerID, customerName: c.name, programmeVersion: o.programmeVersion,
            localMinutes: o.context.time.minutes, tierCode: c.tierCode, tierName: o.tierName, priorPurchases: c.priorPurchases,
            qualifying: c.qualifying, earned: o.earned.parts.map(SaleDocument.AwardPart.init),
            welcome: o.welcome.parts.map(SaleDocument.AwardPart.init), redeemed: o.redeemed.count, redeemedValue: o.redeemedValue,
            balanceBefore: o.balanceBefore.count, balanceAfter: o.balanceAfter.count, provisional: c.provisional, offlineLeft: c.offlineLeft?.count,
            nextTierName: o.nextTierName, toNextTier: o.toNextTier,
            registration: c.registration.map { SaleDocument.RegistrationInfo($0, timeZone: timeZone) },
            expiringSoon: c.expiringSoon?.count, expiringBy: c.expiringBy, openOffers: Self.openOffers(o), offerDiscounts: offers,
            challenges: o.challenges.isEmpty ? nil : o.challenges.map {
                SaleDocument.ChallengeInfo(id: $0.id, name: $0.name, value: $0.value, goal: $0.goal, unit: $0.unit, completed: $0.completedNow,
                                           rewardPoints: $0.rewardPoints, badge: $0.badge)
            })
    }

    static func openOffers(_ o: LoyaltyOutcome) -> [SaleDocument.OpenOffer]? {
        let open = o.openOffers.map { SaleDocument.OpenOffer(id: $0.offer.id, name: $0.offer.name, validTo: $0.offer.validTo, usesLeft: $0.usesLeft) }
        return open.isEmpty ? nil : open
    }

    /// The outcome back from a document (reprints, returns, head office).
    public func outcome(storeID: String) -> LoyaltyOutcome {
        let registration = self.registration.map {
            Registration(cardNumber: $0.cardNumber, firstName: $0.firstName, lastName: $0.lastName, phone: $0.phone, email: $0.email,
                         postcode: $0.postcode, birthDate: $0.birthDate, marketingConsent: $0.marketingConsent,
                         registeredAt: ProtocolTime.parse($0.registeredAt) ?? 0)
        }
        var customer = SaleCustomer(
            cardNumber: cardNumber, customerID: customerID, name: customerName, tierCode: tierCode, tierName: tierName,
            balance: Points(balanceBefore), qualifying: qualifying, offlineLeft: offlineLeft.map { Points($0) }, provisional: provisional,
            priorPurchases: priorPurchases, registration: registration)
        customer.expiringSoon = expiringSoon.map { Points($0) }
        customer.expiringBy = expiringBy
        // The offers as they were before the sale (the document keeps them as after it).
        let discounted = (offerDiscounts ?? []).map(\.id)
        let used = Set(earned.compactMap { PersonalOffer.id(ofRule: $0.rule) }).union(discounted)
        customer.offers = (openOffers ?? []).map {
            PersonalOffer(id: $0.id, name: $0.name, validFrom: 0, validTo: $0.validTo, uses: $0.usesLeft + (used.contains($0.id) ? 1 : 0))
        }
        var outcome = LoyaltyOutcome(
            customer: customer, programmeVersion: programmeVersion,
            context: EarnContext(time: LocalDateTime(minutes: localMinutes), storeID: storeID, tierCode: tierCode, priorPurchases: priorPurchases),
            earned: PointsAward(parts: earned.map { .init(rule: $0.rule, label: $0.label, points: Points($0.points)) }),
            welcome: PointsAward(parts: welcome.map { .init(rule: $0.rule, label: $0.label, points: Points($0.points)) }),
            redeemed: Points(redeemed), redeemedValue: redeemedValue, tierName: tierName, nextTierName: nextTierName, toNextTier: toNextTier)
        outcome.discountOffers = discounted
        outcome.challenges = (challenges ?? []).map {
            ChallengeProgress(id: $0.id, name: $0.name, value: $0.value, goal: $0.goal, completedNow: $0.completed, completions: 0, finished: false,
                              rewardPoints: $0.rewardPoints, badge: $0.badge, unit: $0.unit)
        }
        return outcome
    }
}

extension SaleDocument.RegistrationInfo {
    public init(_ r: Registration, timeZone: TimeZone) {
        self.init(
            cardNumber: r.cardNumber, firstName: r.firstName, lastName: r.lastName, phone: r.phone, email: r.email,
            postcode: r.postcode, birthDate: r.birthDate, marketingConsent: r.marketingConsent,
            registeredAt: ProtocolTime.format(r.registeredAt, timeZone: timeZone), referralCode: r.referralCode)
    }
}

extension SaleDocument.AwardPart {
    public init(_ p: PointsAward.Part) { self.init(rule: p.rule, label: p.label, points: p.points.count) }
}

extension SaleDocument.DiscountInfo {
    init(_ d: Discount, reason: String? = nil) {
        switch d {
        case .percent(let bp): self.init(kind: "percent", value: bp, reason: reason)
        case .amount(let m): self.init(kind: "amount", value: m, reason: reason)
        }
    }
}

extension CompletedSale {
    /// Rebuilds a journalled sale from its document (for reprints, `till receipt`, returns).
    /// The basket is replayed through the core and must come to the document's totals exactly.
    public init(document d: SaleDocument, storeName: String?) throws {
        guard let currency = Currency(code: d.currency) else {
            throw DocumentError("sale \(d.receiptNumber): unknown currency '\(d.currency)'")
        }
        let lines = d.linesInOrder
        var events: [BasketEvent] = lines.map { l in
            .addLine(item: LineItem(
                sku: l.sku, description: l.description, category: l.category, taxCode: l.taxCode,
                taxBasisPoints: l.taxRateBasisPoints, unitPrice: l.unitPrice, quantity: Quantity(milli: l.quantityMilli),
                soldByWeight: l.soldByWeight, code: l.code, priceFromLabel: l.priceFromLabel,
                listPrice: l.priceOverride?.listPrice, overrideReason: l.priceOverride?.reason))
        }
        events += lines.filter(\.voided).map { .voidLine(number: $0.lineNumber) }
        events += lines.compactMap { l in l.discount.map { .discountLine(number: l.lineNumber, discount: Discount($0), reason: $0.reason) } }
        if let s = d.saleDiscount { events.append(.discountSale(discount: Discount(s), reason: s.reason)) }
        let outcome = d.loyalty?.outcome(storeID: d.storeID)
        if let outcome { events.append(.identifyCustomer(customer: outcome.customer)) }
        if let offers = d.loyalty?.offerDiscounts, !offers.isEmpty { events.append(.useOffers(offers: offers.map(\.offer))) }
        events += d.tenders.map { .addTender(tender: Tender(kind: TenderKind(rawValue: $0.kind) ?? .cash, amount: $0.amount, reference: $0.reference, points: $0.points.map { Points($0) })) }
        let basket: Basket
        do { basket = try Basket(currency: currency, replaying: events) } catch {
            throw DocumentError("sale \(d.receiptNumber): \(error)")
        }
        let t = basket.totals
        guard t.total == d.totals.total, t.paid == d.totals.paid, t.change == d.totals.change, t.saleDiscount == d.totals.saleDiscount else {
            throw DocumentError("sale \(d.receiptNumber): its lines do not add up to its total \(d.totals.total)")
        }
        self.init(
            id: d.saleID, sequence: d.sequence, receiptNumber: d.receiptNumber,
            till: TillIdentity(storeID: d.storeID, storeName: storeName ?? d.storeID, tillID: d.tillID, currency: currency),
            cashier: Cashier(number: d.cashier.number, name: d.cashier.name),
            startedAt: ProtocolTime.parse(d.startedAt) ?? 0, completedAt: ProtocolTime.parse(d.completedAt) ?? 0, basket: basket,
            loyalty: outcome)
    }
}

extension SaleDocument {
    /// The lines by line number: the document's own array when it is in order already, as a
    /// till writes it (no copy).
    public var linesInOrder: [Line] {
        zip(lines, lines.dropFirst()).allSatisfy { $0.lineNumber < $1.lineNumber } ? lines : lines.sorted { $0.lineNumber < $1.lineNumber }
    }
}

extension Discount {
    public init(_ info: SaleDocument.DiscountInfo) {
        self = info.kind == "percent" ? .percent(basisPoints: info.value) : .amount(minor: info.value)
    }
}

/// A document that cannot be read back as a sale: what is wrong, naming the field.
public struct DocumentError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension SaleDocument {
    /// What is wrong with a document that did not come from a till's journal as it should: a
    /// field out of range, named; nil when it is well-formed. `CompletedSale(document:)` then
    /// checks that it adds up.
    public func problem() -> String? {
        if schemaVersion != SaleDocument.currentSchemaVersion {
            return "schemaVersion \(schemaVersion) is not one this head office reads (\(SaleDocument.currentSchemaVersion))"
        }
        if !DocumentGate.isUUID(saleID) { return "saleID '\(DocumentGate.quoted(saleID))' is not a UUID" }
        if sequence < 1 { return "sequence \(sequence) must be 1 or more" }
        if Currency(code: currency) == nil { return "currency '\(DocumentGate.quoted(currency))' is not a currency code such as EUR" }
        if ProtocolTime.parse(completedAt) == nil { return "completedAt '\(DocumentGate.quoted(completedAt))' is not an ISO 8601 time" }
        if lines.isEmpty { return "a sale needs at least one line" }
        for (i, l) in lines.enumerated() {
            if l.quantityMilli <= 0 { return "lines[\(i)].quantityMilli \(l.quantityMilli) must be positive" }
            if l.unitPrice < 0 { return "lines[\(i)].unitPrice \(l.unitPrice) must not be negative" }
            if l.taxRateBasisPoints < 0 || l.taxRateBasisPoints > 10_000 { return "lines[\(i)].taxRateBasisPoints \(l.taxRateBasisPoints) must be 0 to 10000" }
            if l.lineNumber != i + 1 { return "lines[\(i)].lineNumber \(l.lineNumber) must be \(i + 1)" }
        }
        for (i, t) in tenders.enumerated() {
            if t.amount <= 0 { return "tenders[\(i)].amount \(t.amount) must be positive" }
            if TenderKind(rawValue: t.kind) == nil { return "tenders[\(i)].kind '\(DocumentGate.quoted(t.kind))' must be cash, card or points" }
            if t.kind == "points" && (t.points ?? 0) <= 0 { return "tenders[\(i)].points must be positive for a points tender" }
        }
        // Every figure within its bound before anything is added up.
        if let bounds = boundsProblem() { return bounds }
        if let l = loyalty {
            let tendered = tenders.filter { $0.kind == "points" }.reduce(0) { $0 + ($1.points ?? 0) }
            if tendered != l.redeemed { return "loyalty.redeemed \(l.redeemed) is not the \(tendered) points tendered" }
        } else if tenders.contains(where: { $0.kind == "points" }) {
            return "a points tender needs the sale's loyalty card"
        }
        return nil
    }
}
