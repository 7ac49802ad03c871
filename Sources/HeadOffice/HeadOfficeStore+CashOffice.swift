import Foundation
import Synchronization
import TillCore
import TillDocuments
public import TillProtocol

extension HeadOfficeStore {
    /// A refund: kept, and its points (taken back, given back) on the card's ledger, once.
    /// Head office's own figures for a refund's points: the card is the original sale's, and the
    /// points taken back and given back are the tills' own refund rules (RefundPlanner) applied to
    /// the sale head office holds and the refunds of it it already has. Where that cannot be done
    /// (a double return made offline, an original sale not here yet) the till's figures stand,
    /// never more than what is left of the sale's points. A difference is a discrepancy.
    func refundPoints(_ doc: RefundDocument, _ c: any SQLConnection) throws -> (card: String?, takenBack: Points, restored: Points, check: AwardCheck?) {
        let tillTaken = Points(doc.loyalty?.pointsTakenBack ?? 0), tillRestored = Points(doc.loyalty?.pointsRestored ?? 0)
        func check(_ kind: String, _ why: String, _ taken: Points, _ restored: Points) -> AwardCheck? {
            guard taken != tillTaken || restored != tillRestored || kind == "refund-unchecked" else { return nil }
            return AwardCheck(kind: kind, detail: "Refund \(doc.receiptNumber): the till took back \(tillTaken) and gave back \(tillRestored) points; \(why)",
                              tillPoints: tillRestored - tillTaken, headOfficePoints: restored - taken)
        }
        guard let originalID = doc.originalSaleID else {
            return (nil, 0, 0, check("refund-points", "a refund without a receipt moves no points", 0, 0))
        }
        guard let json = try c.queryOne("SELECT document FROM sales WHERE sale_id = ?", [.text(originalID)])?["document"].text,
              let saleDoc = try? JSONDecoder().decode(SaleDocument.self, from: Data(json.utf8)),
              let sale = try? CompletedSale(document: saleDoc, storeName: nil) else {
            return (doc.loyalty?.cardNumber, tillTaken, tillRestored,
                    check("refund-unchecked", "head office does not have the sale \(originalID) yet: the till's figures were not checked", tillTaken, tillRestored))
        }
        guard let loyalty = saleDoc.loyalty else {
            return (nil, 0, 0, check("refund-points", "the sale had no loyalty card", 0, 0))
        }
        let priorDocs = try c.query("SELECT document FROM refunds WHERE original_sale_id = ? AND refund_id <> ?", [.text(originalID), .text(doc.refundID)])
            .compactMap { $0["document"].text.flatMap { try? JSONDecoder().decode(RefundDocument.self, from: Data($0.utf8)) } }
        let prior = ReturnedSoFar(refunds: priorDocs)
        let selections = doc.lines.map { ReturnSelection(line: $0.lineNumber, quantity: Quantity(milli: $0.quantityMilli)) }
        let programme = try programme(version: loyalty.programmeVersion)
        do {
            let plan = try RefundPlanner.plan(sale: sale, prior: prior, selections: selections, toCash: true, programme: programme)
            return (loyalty.cardNumber, plan.pointsTakenBack, plan.pointsRestored,
                    check("refund-points", "the sale's rules give \(plan.pointsTakenBack) and \(plan.pointsRestored): the ledger has head office's", plan.pointsTakenBack, plan.pointsRestored))
        } catch {
            // Returned already (two tills offline), or lines the sale does not have: at most what is left.
            let earned = loyalty.earned.sum { Points($0.points) }
            let taken = min(tillTaken, max(0, earned - prior.pointsTakenBack))
            let restored = min(tillRestored, max(0, Points(loyalty.redeemed) - prior.pointsRestored))
            return (loyalty.cardNumber, taken, restored,
                    check("refund-points", "head office could not work the refund out (\(error)): at most what is left of the sale's points, \(taken) and \(restored)", taken, restored))
        }
    }

    /// A refund: kept, and its points (taken back, given back) on the card's ledger, once, by
    /// head office's own figures.
    func applyRefund(_ doc: RefundDocument, _ json: String, till: TillCredential, at received: Int64, _ c: any SQLConnection) throws -> IngestResult {
        if try c.queryOne("SELECT refund_id FROM refunds WHERE refund_id = ?", [.text(doc.refundID)]) != nil {
            return IngestResult(kind: "refund", id: doc.refundID, status: .duplicate, reason: "already applied", cards: try balances([doc.loyalty?.cardNumber], c))
        }
        let (card, takenBack, restored, check) = try refundPoints(doc, c)
        try c.execute("""
            INSERT INTO refunds (refund_id, store_id, till_id, sequence, receipt_number, original_sale_id, card_number, total,
                points_taken_back, points_restored, document, received_at, cashier, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(doc.refundID), .text(doc.storeID), .text(doc.tillID), .int(doc.sequence), .text(doc.receiptNumber),
                  SQLValue(doc.originalSaleID), SQLValue(card), .int(doc.total), .points(takenBack), .points(restored),
                  .text(json), .int(received), .text(doc.cashier), .int(ProtocolTime.parse(doc.createdAt) ?? received)])
        if let check {
            try c.execute("""
                INSERT INTO discrepancies (sale_id, card_number, kind, detail, till_points, head_office_points, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.text(doc.refundID), SQLValue(card), .text(check.kind), .text(check.detail), .points(check.tillPoints),
                      SQLValue(check.headOfficePoints?.count), .int(received)])
        }
        try checkReturnedOnce(doc, till: till, at: received, c)
        try reverseReferral(of: doc.originalSaleID, refund: doc.refundID, till: till, at: received, c)
        guard let card, takenBack > 0 || restored > 0 else {
            return IngestResult(kind: "refund", id: doc.refundID, status: .accepted, cards: try balances([card], c))
        }
        let delta = restored - takenBack   // both within 0...10^12
        guard let row = try moveCard(card, delta: delta.count, qualifying: 0, saleID: doc.refundID, receipt: doc.receiptNumber,
                                     till: till, at: received, c) else {
            return IngestResult(kind: "refund", id: doc.refundID, status: .accepted, cards: try balances([card], c))
        }
        for (kind, points, label) in [("return-earn", -takenBack, "Points of returned items"), ("return-redeem", restored, "Redeemed points given back")]
        where points != 0 {
            try c.execute("""
                INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, till_id, created_at)
                VALUES (?, ?, ?, ?, 'return', ?, ?, ?, ?)
                """, [.text(card), .text(doc.refundID), .text(kind), .points(points), .text(label), .text(till.storeID), .text(till.tillID), .int(received)])
        }
        if row.text("status") == "replaced" {
            try forwardReplaced(card, delta: delta.count, qualifying: 0, saleID: doc.refundID, programme: nil, at: received, c)
        }
        if row.int("balance") < 0 {
            let b = row.int("balance")
            try c.execute("""
                INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('overdraft', ?, ?, ?, ?, ?, ?)
                """, [.text(card), .text(doc.refundID), .text(till.storeID), .text(till.tillID),
                      .text("Refund \(doc.receiptNumber) took back \(takenBack) points the card had already spent: balance \(b)"), .int(received)])
        }
        return IngestResult(kind: "refund", id: doc.refundID, status: .accepted, cards: try balances([card], c))
    }

    /// Two tills that refunded the same line while offline: the money has been given, so the refund
    /// stands, and the double return is recorded as an exception for the store to follow up.
    func checkReturnedOnce(_ doc: RefundDocument, till: TillCredential, at received: Int64, _ c: any SQLConnection) throws {
        guard let original = doc.originalSaleID,
              let json = try c.queryOne("SELECT document FROM sales WHERE sale_id = ?", [.text(original)])?["document"].text,
              let sale = try? JSONDecoder().decode(SaleDocument.self, from: Data(json.utf8)) else { return }
        var returned: [Int: Int64] = [:]
        for row in try c.query("SELECT document FROM refunds WHERE original_sale_id = ?", [.text(original)]) {
            guard let r = row["document"].text.flatMap({ try? JSONDecoder().decode(RefundDocument.self, from: Data($0.utf8)) }) else { continue }
            for l in r.lines { returned[l.lineNumber, default: 0] += l.quantityMilli }
        }
        for line in sale.lines where (returned[line.lineNumber] ?? 0) > line.quantityMilli {
            try c.execute("""
                INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('double-return', ?, ?, ?, ?, ?, ?)
                """, [SQLValue(doc.loyalty?.cardNumber), .text(original), .text(till.storeID), .text(till.tillID),
                      .text("Line \(line.lineNumber) (\(line.description)) of receipt \(sale.receiptNumber) has been refunded for \(Quantity(milli: returned[line.lineNumber] ?? 0)) but \(Quantity(milli: line.quantityMilli)) were sold (refund \(doc.receiptNumber))"),
                      .int(received)])
        }
    }

    /// A sale of the till's store by receipt number, with the refunds head office has of it, for a
    /// return at any till of the store. Nil: head office does not have it.
    public func saleForReturn(receipt: String, store: String) throws -> SaleForReturn? {
        try database.read { c in
            guard let json = try c.queryOne("SELECT document FROM sales WHERE receipt_number = ? AND store_id = ?", [.text(receipt), .text(store)])?["document"].text
            else { return nil }
            let sale = try JSONDecoder().decode(SaleDocument.self, from: Data(json.utf8))
            let refunds = try c.query("SELECT document FROM refunds WHERE original_sale_id = ?", [.text(sale.saleID)]).compactMap {
                $0["document"].text.flatMap { try? JSONDecoder().decode(RefundDocument.self, from: Data($0.utf8)) }
            }
            return SaleForReturn(sale: sale, refunds: refunds)
        }
    }

    /// A till's Z report, kept as sent, once.
    func applyZReport(_ doc: ZReportSummary, _ json: String, id: String, till: TillCredential, at received: Int64, _ c: any SQLConnection) throws -> IngestResult {
        if try c.queryOne("SELECT document_id FROM z_reports WHERE document_id = ?", [.text(id)]) != nil {
            return IngestResult(kind: "zreport", id: id, status: .duplicate, reason: "already received")
        }
        try c.execute("""
            INSERT INTO z_reports (document_id, store_id, till_id, number, period_from, period_to, sales_count, net_sales, document, received_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(id), .text(doc.storeID), .text(doc.tillID), .int(doc.number), .int(doc.from), .int(doc.to), .int(doc.salesCount),
                  .int(doc.netSales), .text(json), .int(received)])
        return IngestResult(kind: "zreport", id: id, status: .accepted)
    }
}
