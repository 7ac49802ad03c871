import Foundation
public import TillCore
import TillDocuments
public import TillProtocol

extension DemoSales {
    /// `count` sales on one member's card at one till, about `step` apart from `start` (epoch ms),
    /// numbered from `firstSequence`: a card's spree, as the fraud rules' tests and `till-bench
    /// fraud`'s hold send it. The demo's sales that come out without a loyalty outcome are skipped
    /// (their time passes all the same); throws if too few come out within ten times `count`.
    public static func spree(card: String, customerID: String, till: TillIdentity, programme: LoyaltyProgramme = DemoCatalog.programme,
                             count: Int, start: Int64, step: Int64 = 8 * 60_000, firstSequence: Int64 = 1, seed: UInt64) throws -> IngestBatch {
        var sales = DemoSales(till: till, programme: programme, cards: 1, seed: seed, start: start - step)
        sales.step = step
        var documents: [OutboxDocument] = []
        for _ in 0..<(count * 10) where documents.count < count {
            let (sale, loyalty, time) = try sales.next(redeem: false) { _, _ in
                SaleCustomer(cardNumber: card, customerID: customerID, name: "Member", tierCode: nil, tierName: nil, balance: 0, qualifying: 0,
                             offlineLeft: nil, provisional: false)
            }
            guard loyalty != nil else { continue }
            let completed = try sale.complete(sequence: firstSequence + Int64(documents.count), at: time, till: till, loyalty: loyalty)
            documents.append(OutboxDocument(sale: SaleDocument(completed, timeZone: .gmt)))
        }
        guard documents.count == count else { throw DemoSalesError.tooFewMemberSales(wanted: count, made: documents.count) }
        return IngestBatch(storeID: till.storeID, tillID: till.tillID, documents: documents)
    }
}

/// Why demo sales could not be made as asked.
public enum DemoSalesError: Error, CustomStringConvertible {
    case tooFewMemberSales(wanted: Int, made: Int)

    public var description: String {
        switch self {
        case .tooFewMemberSales(let wanted, let made): "only \(made) of \(wanted) demo sales came out with a loyalty outcome"
        }
    }
}
