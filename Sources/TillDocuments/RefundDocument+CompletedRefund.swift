public import Foundation
public import TillCore
public import TillProtocol

extension RefundDocument {
    /// The document head office receives for a journalled refund.
    public init(_ r: CompletedRefund, timeZone: TimeZone) {
        let p = r.plan
        self.init(
            refundID: r.id, storeID: r.till.storeID, tillID: r.till.tillID, sequence: r.sequence, receiptNumber: r.receiptNumber,
            originalSaleID: p.withoutReceipt ? nil : p.originalSaleID, originalReceipt: p.withoutReceipt ? nil : p.originalReceipt,
            cashier: r.cashier.number, supervisor: r.supervisor, createdAt: ProtocolTime.format(r.at, timeZone: timeZone),
            currency: r.till.currency.code, total: p.total,
            lines: p.lines.map {
                Line(lineNumber: $0.lineNumber, sku: $0.sku, description: $0.description, quantityMilli: $0.quantity.milli,
                     amount: $0.amount, taxCode: $0.taxCode)
            },
            tenders: p.tenders.map { Tender(kind: $0.kind.rawValue, amount: $0.amount, reference: $0.reference, points: $0.points?.count) },
            loyalty: p.cardNumber.map { Loyalty(cardNumber: $0, pointsTakenBack: p.pointsTakenBack.count, pointsRestored: p.pointsRestored.count) },
            reason: r.reason)
    }
}

extension ZReportSummary {
    public init(_ r: PeriodReport) {
        self.init(kind: r.kind, number: r.number, storeID: r.storeID, tillID: r.tillID, currency: r.currency, from: r.from, to: r.to,
                  salesCount: r.salesCount, salesValue: r.salesValue, refundsValue: r.refundsValue, netSales: r.netSales)
    }
}

extension ReturnedSoFar {
    /// What these refunds of one sale took from it, together.
    public init(refunds: [RefundDocument]) {
        self = .none
        for r in refunds {
            for l in r.lines {
                let before = lines[l.lineNumber] ?? .init(milli: 0, amount: 0)
                lines[l.lineNumber] = .init(milli: before.milli + l.quantityMilli, amount: before.amount + l.amount)
            }
            value += r.total
            pointsValue += r.tenders.filter { $0.kind == TenderKind.points.rawValue }.reduce(0) { $0 + $1.amount }
            toCard += r.tenders.filter { $0.kind == TenderKind.card.rawValue }.reduce(0) { $0 + $1.amount }
            pointsRestored += Points(r.loyalty?.pointsRestored ?? 0)
            pointsTakenBack += Points(r.loyalty?.pointsTakenBack ?? 0)
        }
    }
}
