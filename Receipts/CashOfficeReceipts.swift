public import TillCore

/// The data of `refund.receipt`: the customer's slip for a refund.
public enum RefundSlip {
    public static let schema: TemplateSchema = .object([
        "store": .object(["id": .text, "name": .text, "address": .list(.text)]),
        "till": .object(["id": .text]),
        "receipt": .object(["number": .text, "date": .text, "original": .text]),
        "cashier": .object(["number": .text, "name": .text]),
        "supervisor": .text,
        "reason": .text,
        "currency": .text,
        "lines": .list(.object(["description": .text, "quantity": .text, "amount": .text, "taxCode": .text])),
        "total": .text,
        "tenders": .list(.object(["label": .text, "amount": .text, "reference": .text, "points": .text])),
        "cash": .bool,
        "vat": .list(.object(["code": .text, "rate": .text, "net": .text, "vat": .text, "gross": .text])),
        "loyalty": .object(["card": .text, "takenBack": .text, "restored": .text]),
        "header": .list(.text),
        "footer": .list(.text),
    ])

    public static func data(_ r: CompletedRefund, date: String, address: [String] = [], header: [String] = [], footer: [String] = []) -> TemplateValue {
        let c = r.till.currency, p = r.plan
        var root: TemplateObject = [
            "store": .object(["id": .text(r.till.storeID), "name": .text(r.till.storeName), "address": .list(address.map(TemplateValue.text))]),
            "till": .object(["id": .text(r.till.tillID)]),
            "receipt": .object(["number": .text(r.receiptNumber), "date": .text(date), "original": .text(p.withoutReceipt ? "" : p.originalReceipt)]),
            "cashier": .object(["number": .text(r.cashier.number), "name": .text(r.cashier.name)]),
            "supervisor": .text(r.supervisor ?? ""),
            "reason": .text(r.reason ?? ""),
            "currency": .text(c.code),
            "lines": .list(p.lines.map { l in
                .object(["description": .text(l.description), "quantity": .text(l.soldByWeight ? "\(l.quantity) kg" : l.quantity.description),
                         "amount": .text(c.format(l.amount)), "taxCode": .text(l.taxCode)])
            }),
            "total": .text(c.format(p.total)),
            "tenders": .list(p.tenders.map { t in
                .object(["label": .text(t.kind.label), "amount": .text(c.format(t.amount)), "reference": .text(t.reference ?? ""),
                         "points": .text(t.points.map(String.init) ?? "")])
            }),
            "cash": .bool(p.cash > 0),
            "vat": .list(p.vat.map { v in
                .object(["code": .text(v.code), "rate": .text(TaxRate(code: v.code, basisPoints: v.basisPoints).percentText),
                         "net": .text(c.format(v.net)), "vat": .text(c.format(v.vat)), "gross": .text(c.format(v.gross))])
            }),
            "header": .list(header.map(TemplateValue.text)),
            "footer": .list(footer.map(TemplateValue.text)),
        ]
        if let card = p.cardNumber {
            root["loyalty"] = .object(["card": .text(LoyaltyCardNumber.masked(card)), "takenBack": .text(p.pointsTakenBack.description),
                                       "restored": .text(p.pointsRestored.description)])
        }
        return .object(root)
    }
}

/// The data of `report.receipt`: an X or Z report.
public enum ReportSlip {
    public static let schema: TemplateSchema = .object([
        "store": .object(["id": .text, "name": .text, "address": .list(.text)]),
        "till": .object(["id": .text]),
        "header": .list(.text),
        "report": .object(["kind": .text, "number": .text, "z": .bool, "from": .text, "to": .text, "sequences": .text]),
        "currency": .text,
        "sales": .object(["count": .text, "items": .text, "gross": .text, "value": .text, "lineDiscounts": .text, "saleDiscounts": .text,
                          "discountedLines": .text, "offerDiscounts": .text]),
        "refunds": .object(["count": .text, "value": .text, "withoutReceipt": .text]),
        "netSales": .text,
        "tenders": .list(.object(["label": .text, "count": .text, "sales": .text, "refunds": .text, "net": .text])),
        "vat": .list(.object(["code": .text, "rate": .text, "net": .text, "vat": .text, "gross": .text])),
        "voids": .object(["lines": .text, "linesValue": .text, "sales": .text, "salesValue": .text]),
        "overrides": .object(["granted": .text, "refused": .text]),
        "points": .object(["issued": .text, "redeemed": .text, "takenBack": .text, "restored": .text]),
        "cash": .object(["float": .text, "sales": .text, "refunds": .text, "paidIn": .text, "paidOut": .text, "pickups": .text,
                         "noSales": .text, "expected": .text, "counted": .text, "overShort": .text]),
        "cashiers": .list(.object(["number": .text, "name": .text, "sales": .text, "value": .text, "items": .text,
                                   "itemsPerMinute": .text, "voids": .text, "cancelled": .text, "refunds": .text])),
    ])

    public static func data(
        _ r: PeriodReport, storeName: String, from: String, to: String, address: [String] = [], header: [String] = []
    ) -> TemplateValue {
        let c = Currency(code: r.currency) ?? .eur
        func m(_ v: Int64) -> TemplateValue { .text(c.format(v)) }
        func n(_ v: Int64) -> TemplateValue { .text(String(v)) }
        func n(_ v: Points) -> TemplateValue { .text(v.description) }
        var cash: TemplateObject = [
            "float": m(r.cash.float), "sales": m(r.cash.cashSales), "refunds": m(r.cash.cashRefunds), "paidIn": m(r.cash.paidIn),
            "paidOut": m(r.cash.paidOut), "pickups": m(r.cash.pickups), "noSales": n(r.cash.noSales), "expected": m(r.cash.expected),
        ]
        if let counted = r.cash.counted { cash["counted"] = m(counted) }
        if let os = r.cash.overShort { cash["overShort"] = .text(os > 0 ? "+" + c.format(os) : c.format(os)) }
        let sequences = r.firstSequence.map { "\($0)-\(r.lastSequence ?? $0)" } ?? "none"
        return .object([
            "store": .object(["id": .text(r.storeID), "name": .text(storeName), "address": .list(address.map(TemplateValue.text))]),
            "till": .object(["id": .text(r.tillID)]),
            "header": .list(header.map(TemplateValue.text)),
            "report": .object(["kind": .text(r.kind), "number": n(r.number), "z": .bool(r.kind == "Z"), "from": .text(from), "to": .text(to),
                               "sequences": .text(sequences)]),
            "currency": .text(r.currency),
            "sales": .object(["count": n(r.salesCount), "items": n(r.itemsSold), "gross": r.grossSales.map(m) ?? .text("too large"),
                              "value": m(r.salesValue), "lineDiscounts": m(r.lineDiscounts),
                              "saleDiscounts": m(r.saleDiscounts), "discountedLines": n(r.discountedLines),
                              "offerDiscounts": r.offerDiscounts.map(m) ?? .text("")]),
            "refunds": .object(["count": n(r.refundsCount), "value": m(r.refundsValue), "withoutReceipt": n(r.refundsWithoutReceipt)]),
            "netSales": m(r.netSales),
            "tenders": .list(r.tenders.map { t in
                .object(["label": .text(TenderKind(rawValue: t.kind)?.label ?? t.kind), "count": n(t.count), "sales": m(t.sales),
                         "refunds": m(t.refunds), "net": m(t.net)])
            }),
            "vat": .list(r.vat.map { v in
                .object(["code": .text(v.code), "rate": .text(TaxRate(code: v.code, basisPoints: v.rateBasisPoints).percentText),
                         "net": m(v.net), "vat": m(v.vat), "gross": m(v.gross)])
            }),
            "voids": .object(["lines": n(r.voidedLines), "linesValue": m(r.voidedLinesValue), "sales": n(r.cancelledSales),
                              "salesValue": m(r.cancelledValue)]),
            "overrides": .object(["granted": n(r.overrides), "refused": n(r.overridesRefused)]),
            "points": .object(["issued": n(r.pointsIssued), "redeemed": n(r.pointsRedeemed), "takenBack": n(r.pointsTakenBack),
                               "restored": n(r.pointsRestored)]),
            "cash": .object(cash),
            "cashiers": .list(r.cashiers.map { k in
                .object(["number": .text(k.number), "name": .text(k.name), "sales": n(k.sales), "value": m(k.value), "items": n(k.items),
                         "itemsPerMinute": .text("\(k.itemsPerMinuteTenths / 10).\(k.itemsPerMinuteTenths % 10)"), "voids": n(k.voidedLines),
                         "cancelled": n(k.cancelledSales), "refunds": n(k.refunds)])
            }),
        ])
    }
}
