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
                discount: l.discount.map(DiscountInfo.init), lineDiscount: a.lineDiscount,
                saleDiscountShare: a.saleDiscountShare, net: a.net, taxCode: l.item.taxCode,
                taxRateBasisPoints: l.item.taxBasisPoints, voided: l.voided)
        }
        self.init(
            saleID: s.id, storeID: s.till.storeID, tillID: s.till.tillID, sequence: s.sequence,
            receiptNumber: s.receiptNumber, cashier: CashierInfo(number: s.cashier.number, name: s.cashier.name),
            startedAt: ProtocolTime.format(s.startedAt, timeZone: timeZone),
            completedAt: ProtocolTime.format(s.completedAt, timeZone: timeZone),
            currency: s.till.currency.code, lines: lines, saleDiscount: s.basket.saleDiscount.map(DiscountInfo.init),
            vat: t.vat.map { VAT(code: $0.code, rateBasisPoints: $0.basisPoints, gross: $0.gross, vat: $0.vat, net: $0.net) },
            tenders: s.basket.tenders.map { TenderInfo(kind: $0.kind.rawValue, amount: $0.amount, reference: $0.reference) },
            totals: Totals(
                subtotal: t.subtotal, lineDiscounts: t.lineDiscounts, saleDiscount: t.saleDiscount, total: t.total,
                paid: t.paid, change: t.change, itemCount: t.itemCount))
    }
}

extension SaleDocument.DiscountInfo {
    init(_ d: Discount) {
        switch d {
        case .percent(let bp): self.init(kind: "percent", value: bp)
        case .amount(let m): self.init(kind: "amount", value: m)
        }
    }
}

extension CompletedSale {
    /// Rebuilds a journalled sale from its document (for reprints, `till receipt`, returns).
    /// The basket is replayed through the core and must come to the document's totals exactly.
    public init(document d: SaleDocument, storeName: String?) throws {
        guard let currency = Currency(code: d.currency) else {
            throw TillStoreError.failed(context: "read sale \(d.receiptNumber)", reason: "unknown currency \(d.currency)")
        }
        let lines = d.lines.sorted { $0.lineNumber < $1.lineNumber }
        var events: [BasketEvent] = lines.map { l in
            .addLine(item: LineItem(
                sku: l.sku, description: l.description, category: l.category, taxCode: l.taxCode,
                taxBasisPoints: l.taxRateBasisPoints, unitPrice: l.unitPrice, quantity: Quantity(milli: l.quantityMilli),
                soldByWeight: l.soldByWeight, code: l.code, priceFromLabel: l.priceFromLabel))
        }
        events += lines.filter(\.voided).map { .voidLine(number: $0.lineNumber) }
        events += lines.compactMap { l in l.discount.map { .discountLine(number: l.lineNumber, discount: Discount($0)) } }
        if let s = d.saleDiscount { events.append(.discountSale(discount: Discount(s))) }
        events += d.tenders.map { .addTender(tender: Tender(kind: TenderKind(rawValue: $0.kind) ?? .cash, amount: $0.amount, reference: $0.reference)) }
        let basket = try Basket(currency: currency, replaying: events)
        let t = basket.totals
        guard t.total == d.totals.total, t.paid == d.totals.paid, t.change == d.totals.change, t.saleDiscount == d.totals.saleDiscount else {
            throw TillStoreError.failed(context: "read sale \(d.receiptNumber)", reason: "its lines do not add up to its journalled total")
        }
        self.init(
            id: d.saleID, sequence: d.sequence, receiptNumber: d.receiptNumber,
            till: TillIdentity(storeID: d.storeID, storeName: storeName ?? d.storeID, tillID: d.tillID, currency: currency),
            cashier: Cashier(number: d.cashier.number, name: d.cashier.name),
            startedAt: ProtocolTime.parse(d.startedAt) ?? 0, completedAt: ProtocolTime.parse(d.completedAt) ?? 0, basket: basket)
    }
}

extension Discount {
    init(_ info: SaleDocument.DiscountInfo) {
        self = info.kind == "percent" ? .percent(basisPoints: info.value) : .amount(minor: info.value)
    }
}
