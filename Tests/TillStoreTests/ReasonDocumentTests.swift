import Foundation
import Testing
import TillCore
import TillDocuments
import TillProtocol

/// Reasons chosen at the till travel in the documents head office receives, bounded, and come
/// back when a sale is rebuilt from its document.
@Suite("Reasons in the documents")
struct ReasonDocumentTests {
    let till = TillIdentity(storeID: "0001", storeName: "Demo Store", tillID: "01", currency: .eur)
    let utc = TimeZone(identifier: "UTC")!

    func sale(lineReason: String?, saleReason: String?) throws -> CompletedSale {
        var open = OpenSale(id: "s", startedAt: 0, cashier: Cashier(number: "1", name: "Ann"), currency: .eur)
        open = try open.trying(.addLine(item: LineItem(sku: "F1", description: "Highlighter pen", taxCode: "A", taxBasisPoints: 2000,
                                                       unitPrice: 149, quantity: .one)))
        open = try open.trying(.discountLine(number: 1, discount: .percent(basisPoints: 1_000), reason: lineReason))
        open = try open.trying(.discountSale(discount: .amount(minor: 10), reason: saleReason))
        open = try open.trying(.addTender(tender: Tender(kind: .cash, amount: 200)))
        return try open.complete(sequence: 1, at: 1, till: till, loyalty: nil)
    }

    @Test func discountReasonsGoToHeadOfficeAndComeBack() throws {
        let doc = SaleDocument(try sale(lineReason: "Damaged item", saleReason: "Customer complaint"), timeZone: utc)
        #expect(doc.lines[0].discount?.reason == "Damaged item")
        #expect(doc.saleDiscount?.reason == "Customer complaint")
        #expect(doc.boundsProblem() == nil)
        let back = try CompletedSale(document: JSONDecoder().decode(SaleDocument.self, from: SaleDocument.makeEncoder().encode(doc)), storeName: "Demo Store")
        #expect(back.basket.lines[0].discountReason == "Damaged item")
        #expect(back.basket.saleDiscountReason == "Customer complaint")
        // Removing a discount takes its reason with it.
        var open = OpenSale(id: "t", startedAt: 0, cashier: Cashier(number: "1", name: "Ann"), currency: .eur)
        open = try open.trying(.addLine(item: LineItem(sku: "F1", description: "Pen", taxCode: "A", taxBasisPoints: 2000, unitPrice: 149, quantity: .one)))
        open = try open.trying(.discountLine(number: 1, discount: .percent(basisPoints: 1_000), reason: "Damaged item"))
        open = try open.trying(.discountLine(number: 1, discount: .percent(basisPoints: 0)))
        #expect(open.basket.lines[0].discountReason == nil)
    }

    @Test func aReasonOverItsBoundIsRefusedNamingTheField() throws {
        let long = String(repeating: "x", count: 41)
        let doc = SaleDocument(try sale(lineReason: long, saleReason: nil), timeZone: utc)
        #expect(doc.boundsProblem()?.contains("lines[0].discount.reason") == true, "\(doc.boundsProblem() ?? "")")
        let whole = SaleDocument(try sale(lineReason: nil, saleReason: long), timeZone: utc)
        #expect(whole.boundsProblem()?.contains("saleDiscount.reason") == true, "\(whole.boundsProblem() ?? "")")
    }
}
