import Foundation
import Testing
import TillCore
import TillDocuments
import TillProtocol
import TillStore
import TillTestSupport

/// docs/headoffice-api.yaml keeps up with the code: every route, and every field a till sends.
@Suite("The OpenAPI document")
struct APIDocumentTests {
    static let yaml = (try? String(contentsOfFile: PackagePaths.root + "/docs/headoffice-api.yaml", encoding: .utf8)) ?? ""

    @Test func namesEveryRoute() {
        for route in ["/api/v1/ingest:", "/api/v1/cards/{number}:", "/api/v1/cards/{number}/history:", "/api/v1/staff:", "/api/v1/sales/{receipt}:", "/api/v1/updates:", "/api/v1/updates/ack:", "/health:", "/metrics:",
                      "/api/v1/channel/cards/{number}:", "/api/v1/channel/earn:", "/api/v1/channel/reservations:",
                      "/api/v1/channel/reservations/{id}/capture:", "/api/v1/channel/reservations/{id}/cancel:", "/api/v1/channel/reservations/{id}/refund:"] {
            #expect(Self.yaml.contains(route), "\(route) is not documented")
        }
    }

    /// The bounds the document declares are the ones head office enforces.
    @Test func declaresTheBoundsTheGateEnforces() {
        for (what, bound) in [("quantityMilli", DocumentBounds.quantityMilli.upperBound), ("unitPrice", DocumentBounds.unitPrice.upperBound),
                              ("Money", DocumentBounds.amount.upperBound), ("Points", DocumentBounds.points.upperBound),
                              ("Balance", DocumentBounds.balance.upperBound), ("Sequence", DocumentBounds.sequence.upperBound),
                              ("localMinutes", DocumentBounds.localMinutes.upperBound)] {
            #expect(Self.yaml.contains("maximum: \(bound)"), "\(what): \(bound) is not declared")
        }
        #expect(Self.yaml.contains("maxItems: \(DocumentBounds.maxLines)"))
        #expect(Self.yaml.contains("maxItems: \(DocumentBounds.maxTenders)"))
        #expect(Self.yaml.contains("maxItems: \(DocumentBounds.maxAwardParts)"))
        #expect(Self.yaml.contains("maxLength: \(DocumentBounds.maxText)"))
    }

    /// Every key of a sale document with loyalty, a registration and a points tender.
    @Test func describesEveryFieldOfTheDocuments() throws {
        let till = try TillSide(seed: 3)
        try till.generator.ring(10, redeemEvery: 2)
        let db = till.db
        var keys = Set<String>()
        func collect(_ value: Any) {
            if let o = value as? [String: Any] {
                for (k, v) in o {
                    if Int(k) == nil && !k.contains("-") { keys.insert(k) }   // priorPurchases is a map of rule ids
                    collect(v)
                }
            } else if let a = value as? [Any] {
                a.forEach(collect)
            }
        }
        for payload in try db.outboxPayloads(kind: "sale") {
            collect(try JSONSerialization.jsonObject(with: Data(payload.utf8)))
        }
        let registration = RegistrationDocument(
            storeID: "0001", tillID: "01", programmeVersion: "1",
            registration: SaleDocument.RegistrationInfo(cardNumber: "6034", firstName: "A", lastName: "B", phone: "1", email: "e", postcode: "p",
                                                        birthDate: "2000-01-01", marketingConsent: true, registeredAt: "2026-11-23T10:00:00Z"),
            welcome: [], cancelledSaleID: "x")
        collect(try JSONSerialization.jsonObject(with: JSONEncoder().encode(registration)))
        let refund = RefundDocument(
            refundID: "r", storeID: "0001", tillID: "01", sequence: 1, receiptNumber: "0001-01-R00001", originalSaleID: "s",
            originalReceipt: "0001-01-000001", cashier: "1", supervisor: "9", createdAt: "2026-11-23T10:00:00Z", currency: "EUR", total: 1,
            lines: [.init(lineNumber: 1, sku: "A", description: "A", quantityMilli: 1000, amount: 1, taxCode: "B")],
            tenders: [.init(kind: "points", amount: 1, reference: "x", points: 2)],
            loyalty: .init(cardNumber: "6034", pointsTakenBack: 1, pointsRestored: 2))
        collect(try JSONSerialization.jsonObject(with: JSONEncoder().encode(OutboxDocument(refund: refund))))
        collect(try JSONSerialization.jsonObject(with: JSONEncoder().encode(OutboxDocument(zreport: ZReportSummary(
            kind: "Z", number: 1, storeID: "0001", tillID: "01", currency: "EUR", from: 0, to: 1, salesCount: 1, salesValue: 1,
            refundsValue: 0, netSales: 1)))))
        collect(try JSONSerialization.jsonObject(with: JSONEncoder().encode(UpdateBatch(publications: [Publication(
            version: 1, kind: .settings, scope: .store("0001"), createdBy: "a", note: "n", createdAt: 0, effectiveAt: 0, programme: "{}",
            prices: [PriceChange(sku: "A", unitPrice: 1)],
            settings: TerminalSettings(loyaltyPromptAtTotal: true, receiptHeader: ["h"], receiptFooter: ["f"], printerProfile: "p",
                                       keymap: ["total": ["F5"]], discountLimit: "10%", autoLockMinutes: 5))]))))
        collect(try JSONSerialization.jsonObject(with: JSONEncoder().encode(StaffList(staff: [StaffMember(number: "1", name: "A", role: "cashier", pinHash: "x")]))))
        collect(try JSONSerialization.jsonObject(with: JSONEncoder().encode(IngestResponse(
            results: [IngestResult(kind: "sale", id: "x", status: .rejected, reason: "r", cards: [CardBalance(number: "1", balance: 1, tierCode: "S", qualifying: 1)])],
            gaps: [SequenceGap(from: 1, to: 2)]))))
        // The cards publication and the channel API's answers.
        collect(try JSONSerialization.jsonObject(with: JSONEncoder().encode(Publication(
            version: 1, kind: .cards, scope: .chain, createdBy: "a", note: "n", createdAt: 0, effectiveAt: 0,
            cards: [CardChange(number: "1", status: "replaced", replacedBy: "2", customerID: "M1", firstName: "A", lastName: "B", balance: 1,
                               qualifying: 1, tierCode: "S", erased: true)]))))
        collect(try JSONSerialization.jsonObject(with: JSONEncoder().encode(CardStatus(
            card: CardBalance(number: "1", balance: 1, tierCode: "S", qualifying: 1), status: "replaced", customerName: "A", applied: [], replacedBy: "2"))))
        #expect(keys.count > 60)
        for k in keys.sorted() {
            #expect(Self.yaml.contains("\(k):") || Self.yaml.contains("\(k),") || Self.yaml.contains("\(k)]"), "field '\(k)' is not in docs/headoffice-api.yaml")
        }
    }
}
