public import TillCore

/// The data of `sale.receipt`: what a template can show of a completed sale.
public enum SaleReceipt {
    /// The fields a sale receipt template can use (README "Receipt templates").
    public static let schema: TemplateSchema = .object([
        "store": .object(["id": .text, "name": .text, "address": .list(.text)]),
        "till": .object(["id": .text]),
        "receipt": .object(["number": .text, "date": .text, "copy": .bool]),
        "cashier": .object(["number": .text, "name": .text]),
        "currency": .text,
        "lines": .list(.object([
            "description": .text, "taxCode": .text, "quantity": .text, "unitPrice": .text, "amount": .text,
            "single": .bool, "weighed": .bool, "discount": .object(["label": .text, "amount": .text, "reason": .text]),
            "override": .object(["was": .text, "reason": .text]), "offer": .object(["name": .text, "amount": .text]),
        ])),
        "subtotal": .text,
        "showSubtotal": .bool,
        "saleDiscount": .object(["label": .text, "amount": .text, "reason": .text]),
        "total": .text,
        "tenders": .list(.object(["label": .text, "amount": .text, "reference": .text])),
        "change": .text,
        "cashTendered": .bool,
        "vat": .list(.object(["code": .text, "rate": .text, "net": .text, "vat": .text, "gross": .text])),
        "items": .text,
        "header": .list(.text),
        "footer": .list(.text),
        "loyalty": LoyaltyBlock.schema,
    ])

    /// The template data for a sale. `date` is its local date and time, formatted; `copy` marks a reprint.
    /// `spendBasis`: tiers are reached by spend (money), not points, so "to next tier" is an amount.
    public static func data(
        _ sale: CompletedSale, date: String, copy: Bool = false, address: [String] = [], header: [String] = [],
        footer: [String] = [], spendBasis: Bool = true, survey: String? = nil
    ) -> TemplateValue {
        let c = sale.till.currency
        let t = sale.totals
        var lines: [TemplateValue] = []
        lines.reserveCapacity(sale.basket.lines.count)
        for (line, a) in zip(sale.basket.lines, t.lines) where !line.voided {
            let item = line.item
            var fields = [TemplateObject.Field]()
            fields.reserveCapacity(9)
            fields.append(.init("description", .text(item.description)))
            fields.append(.init("taxCode", .text(item.taxCode)))
            fields.append(.init("quantity", .text(item.soldByWeight ? "\(item.quantity) kg" : item.quantity.description)))
            fields.append(.init("unitPrice", .text(item.soldByWeight ? c.format(item.unitPrice) + "/kg" : c.format(item.unitPrice))))
            fields.append(.init("amount", .text(c.format(a.gross))))
            fields.append(.init("single", .bool(item.quantity == .one && !item.soldByWeight)))
            fields.append(.init("weighed", .bool(item.soldByWeight)))
            if let d = line.discount {
                fields.append(.init("discount", .object(["label": .text(d.label(currency: c)), "amount": .text(c.format(a.lineDiscount)),
                                                         "reason": .text(line.discountReason ?? "")])))
            }
            if a.offerDiscount > 0 {
                fields.append(.init("offer", .object(["name": .text(t.offerLabel), "amount": .text(c.format(a.offerDiscount))])))
            }
            if let was = item.listPrice {
                fields.append(.init("override", .object(["was": .text(item.soldByWeight ? c.format(was) + "/kg" : c.format(was)),
                                                          "reason": .text(item.overrideReason ?? "")])))
            }
            lines.append(.object(TemplateObject(fields: fields)))
        }
        var root: TemplateObject = [
            "store": .object(["id": .text(sale.till.storeID), "name": .text(sale.till.storeName), "address": .list(address.map(TemplateValue.text))]),
            "till": .object(["id": .text(sale.till.tillID)]),
            "receipt": .object(["number": .text(sale.receiptNumber), "date": .text(date), "copy": .bool(copy)]),
            "cashier": .object(["number": .text(sale.cashier.number), "name": .text(sale.cashier.name)]),
            "currency": .text(c.code),
            "lines": .list(lines),
            "subtotal": .text(c.format(t.subtotal)),
            "showSubtotal": .bool(t.lineDiscounts > 0 || t.saleDiscount > 0 || t.offerDiscount > 0),
            "total": .text(c.format(t.total)),
            "tenders": .list(sale.basket.tenders.map { x in
                .object(["label": .text(x.kind.label), "amount": .text(c.format(x.amount)), "reference": .text(x.reference ?? "")])
            }),
            "change": .text(t.change > 0 ? c.format(t.change) : ""),
            "cashTendered": .bool(!copy && sale.basket.tenders.contains { $0.kind == .cash }),
            "vat": .list(t.vat.map { v in
                .object(["code": .text(v.code), "rate": .text(TaxRate(code: v.code, basisPoints: v.basisPoints).percentText),
                         "net": .text(c.format(v.net)), "vat": .text(c.format(v.vat)), "gross": .text(c.format(v.gross))])
            }),
            "items": .text(String(t.itemCount)),
            "header": .list(header.map(TemplateValue.text)),
            "footer": .list(footer.map(TemplateValue.text)),
        ]
        if let d = sale.basket.saleDiscount {
            root["saleDiscount"] = .object(["label": .text(d.label(currency: c)), "amount": .text(c.format(t.saleDiscount)),
                                            "reason": .text(sale.basket.saleDiscountReason ?? "")])
        }
        if let o = sale.loyalty {
            var block = LoyaltyBlock.data(o, currency: c, spendBasis: spendBasis)
            // The survey of this visit (a member's sale only), as a QR code.
            if let survey, case .object(var fields) = block {
                fields["survey"] = .text(survey)
                block = .object(fields)
            }
            root["loyalty"] = block
        }
        return .object(root)
    }
}

/// The data of `testpage.receipt`.
public enum TestPage {
    public static let schema: TemplateSchema = .object([
        "store": .object(["id": .text, "name": .text, "address": .list(.text)]),
        "till": .object(["id": .text]),
        "printer": .object(["profile": .text, "paper": .text, "columns": .text, "connection": .text]),
        "date": .text,
        "ruler": .text,
        "header": .list(.text),
    ])

    public static func data(
        storeID: String, storeName: String, address: [String], tillID: String, profile: String, paperWidthMM: Int,
        columns: Int, connection: String, date: String
    ) -> TemplateValue {
        let ruler = (1...max(1, columns)).map { String($0 % 10) }.joined()
        return .object([
            "store": .object(["id": .text(storeID), "name": .text(storeName), "address": .list(address.map(TemplateValue.text))]),
            "till": .object(["id": .text(tillID)]),
            "printer": .object(["profile": .text(profile), "paper": .text("\(paperWidthMM) mm"), "columns": .text(String(columns)),
                                "connection": .text(connection)]),
            "date": .text(date),
            "ruler": .text(ruler),
            "header": .list([]),
        ])
    }
}

/// The points block of a sale receipt (`loyalty.*`).
public enum LoyaltyBlock {
    public static let schema: TemplateSchema = .object([
        "card": .text, "name": .text, "previous": .text,
        "earned": .list(.object(["label": .text, "points": .text, "rule": .text])),
        "earnedTotal": .text, "welcome": .text, "redeemed": .text, "redeemedValue": .text, "balance": .text,
        "tier": .text, "nextTier": .text, "toNextTier": .text, "provisional": .bool, "expiring": .text, "expiringBy": .text,
        "offers": .list(.object(["name": .text, "until": .text, "code": .text, "uses": .text])),
        "challenges": .list(.object(["line": .text])),
        "survey": .text,
    ])

    static func data(_ o: LoyaltyOutcome, currency c: Currency, spendBasis: Bool) -> TemplateValue {
        var block: TemplateObject = [
            "card": .text(LoyaltyCardNumber.masked(o.customer.cardNumber)),
            "name": .text(o.customer.name),
            "previous": .text(o.balanceBefore.description),
            "earned": .list(o.earned.parts.filter { $0.points != 0 }.map { p in
                .object(["label": .text(p.label), "points": .text(p.points.description), "rule": .text(p.rule)])
            }),
            "earnedTotal": .text(o.earned.total.description),
            "welcome": .text(o.welcome.total > 0 ? o.welcome.total.description : ""),
            "redeemed": .text(o.redeemed > 0 ? o.redeemed.description : ""),
            "redeemedValue": .text(o.redeemed > 0 ? c.format(o.redeemedValue) : ""),
            "balance": .text(o.balanceAfter.description),
            "tier": .text(o.tierName ?? ""),
            "nextTier": .text(o.nextTierName ?? ""),
            // The balance the till started from includes movements head office has not confirmed.
            "provisional": .bool(o.customer.provisional),
        ]
        if let n = o.toNextTier { block["toNextTier"] = .text(spendBasis ? c.format(n) : "\(n) points") }
        // Points that expire soon (head office's word at the card scan), less what this sale redeemed: the oldest go first.
        if let soon = o.customer.expiringSoon, let by = o.customer.expiringBy, soon > o.redeemed {
            let (y, m, d) = LocalDateTime.civil(fromDays: by / 86_400_000)
            block["expiring"] = .text((soon - o.redeemed).description)
            block["expiringBy"] = .text("\(y)-\(m < 10 ? "0" : "")\(m)-\(d < 10 ? "0" : "")\(d)")
        }
        // The member's progress in challenges ("Coffee challenge 2 of 3", or complete with its reward).
        block["challenges"] = .list(o.challenges.map { .object(["line": .text($0.line(currency: c))]) })
        // The member's personal offers still open, each with its code.
        block["offers"] = .list(o.openOffers.map { open in
            let (y, m, d) = LocalDateTime.civil(fromDays: (open.offer.validTo - 1) / 86_400_000)
            return .object(["name": .text(open.offer.name), "until": .text("\(y)-\(m < 10 ? "0" : "")\(m)-\(d < 10 ? "0" : "")\(d)"),
                            "code": .text(open.offer.id), "uses": .text(open.usesLeft > 1 ? " (\(open.usesLeft) times)" : "")])
        })
        return .object(block)
    }
}

/// The data of `registration.receipt`: the slip printed when a card is issued at the till.
public enum RegistrationSlip {
    public static let schema: TemplateSchema = .object([
        "store": .object(["id": .text, "name": .text, "address": .list(.text)]),
        "till": .object(["id": .text]),
        "date": .text,
        "programme": .text,
        "card": .text,
        "name": .text,
        "phone": .text,
        "email": .text,
        "postcode": .text,
        "birthDate": .text,
        "consent": .bool,
        "welcome": .text,
        "header": .list(.text),
    ])

    public static func data(
        _ r: Registration, programme: String, welcome: Points, storeID: String, storeName: String, address: [String], tillID: String,
        date: String
    ) -> TemplateValue {
        .object([
            "store": .object(["id": .text(storeID), "name": .text(storeName), "address": .list(address.map(TemplateValue.text))]),
            "till": .object(["id": .text(tillID)]),
            "date": .text(date),
            "programme": .text(programme),
            "card": .text(LoyaltyCardNumber.masked(r.cardNumber)),
            "name": .text(r.fullName),
            "phone": .text(r.phone ?? ""),
            "email": .text(r.email ?? ""),
            "postcode": .text(r.postcode ?? ""),
            "birthDate": .text(r.birthDate ?? ""),
            "consent": .bool(r.marketingConsent),
            "welcome": .text(welcome > 0 ? welcome.description : ""),
            "header": .list([]),
        ])
    }
}
