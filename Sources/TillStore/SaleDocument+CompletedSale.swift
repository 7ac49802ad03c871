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
