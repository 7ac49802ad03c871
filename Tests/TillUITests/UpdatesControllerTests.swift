import Foundation
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillTestSupport
import TillUI

@Suite("Updates from head office at the till")
struct UpdatesControllerTests {
    /// The demo programme at 3 points per 1.00 (instead of 1), as head office would publish it.
    func tripled(version: Int64) throws -> Publication {
        var p = DemoCatalog.programme
        p.version = "2026-triple"
        p.earn.pointsPerUnit = 3
        p.promotions = []
        return Publication(version: version, kind: .programme, scope: .store("0001"), createdBy: "marketing", note: "Triple points",
                           createdAt: 0, effectiveAt: 0, programme: String(decoding: try JSONEncoder().encode(p), as: UTF8.self))
    }

    @Test func aPublicationArrivingMidSaleIsAppliedOnlyAfterThatSale() throws {
        let h = try Harness(loyalty: true, prompt: false)
        h.scan("4006381333931")                                      // a sale is open
        try h.db.receive([try tripled(version: 7)], at: 0)
        for _ in 0..<5 { h.controller.tick() }
        #expect(h.controller.programme?.version != "2026-triple")    // not in the middle of a sale
        #expect(try h.db.appliedPublicationVersion() == 0)
        h.scan(DemoCatalog.cardNumber(1))
        h.key(.function(5)); h.key(.function(6))
        guard case .receipt(let first) = h.controller.mode else { Issue.record("no sale"); return }
        let before = first.sale.loyalty?.earned.parts.first { $0.rule == "base" }?.points
        h.controller.tick()
        #expect(h.controller.programme?.version == "2026-triple")    // between sales: applied
        #expect(try h.db.appliedPublicationVersion() == 7)
        // The sale's own message stays first; the update follows it.
        #expect(h.controller.message?.text.hasPrefix("Sale 0001-01-000001 complete.") == true)
        #expect(h.controller.message?.text.contains("Update from head office (v7): Programme 2026-triple: 3 pt per 1.00") == true)
        // The next sale earns by the new rate: the same 1.49 pens, 3 x the base points.
        h.scan("4006381333931")
        h.scan(DemoCatalog.cardNumber(1))
        h.key(.function(5)); h.key(.function(6))
        guard case .receipt(let second) = h.controller.mode else { Issue.record("no second sale"); return }
        #expect(before == 1)
        #expect(second.sale.loyalty?.programmeVersion == "2026-triple")
        #expect(second.sale.loyalty?.earned.parts.first { $0.rule == "base" }?.points == 4)   // floor(1.49 x 3)
        // The manager sees what changed.
        h.key(.escape); h.key(.ctrl("o")); h.type("8")
        guard case .document(let v) = h.controller.mode else { Issue.record("no what-changed view"); return }
        #expect(v.lines.contains("v7 programme for store:0001"))
        #expect(v.lines.contains("  by marketing: Triple points"))
    }

    /// A newer head office's kind of publication: the batch is still read, the rest applied, and
    /// that one skipped with its reason (the till does not stop hearing from head office).
    @Test func aKindOfPublicationThisTillDoesNotKnowIsSkippedWithItsReason() throws {
        let h = try Harness()
        let json = #"""
            {"publications":[{"version":8,"kind":"loyalty-games","scope":{"kind":"chain"},"createdBy":"hq","note":"","createdAt":0,"effectiveAt":0},
                             {"version":9,"kind":"settings","scope":{"kind":"chain"},"createdBy":"hq","note":"","createdAt":0,"effectiveAt":0,
                              "settings":{"receiptFooter":["See you soon"]}}]}
            """#
        let batch = try JSONDecoder().decode(UpdateBatch.self, from: Data(json.utf8))
        #expect(batch.publications.map(\.kind) == [.unknown, .settings])
        try h.db.receive(batch.publications, at: 0)
        let applied = try h.db.applyPendingPublications(at: 0)
        #expect(applied.map(\.problem) == ["this till does not know this kind of publication: upgrade it to take such updates", nil])
        #expect(try h.db.appliedPublicationVersion() == 9 && (try h.db.terminalSettings())?.receiptFooter == ["See you soon"])
    }

    @Test func theSuggestionLineNamesWhatCustomersAlsoBuyNotYetInTheSale() throws {
        let h = try Harness()
        // Coffee beans: milk, then orange juice; milk: nothing sold here.
        let set = SuggestionSet(minedAt: 0, baskets: 700, items: [SuggestionSet.Item(sku: "F0015", also: ["F0002", "F0005"]),
                                                                   SuggestionSet.Item(sku: "F0002", also: ["F9999"])])
        try h.db.receive([Publication(version: 5, kind: .suggestions, scope: .chain, createdBy: "nightly", note: "", createdAt: 0, effectiveAt: 0,
                                      suggestions: set)], at: 0)
        h.controller.tick()
        #expect(try h.db.appliedPublicationVersion() == 5)
        h.scan("4000000000013")
        #expect(h.controller.suggestion == "Customers who buy Coffee beans 500g also buy: Milk 1L 1.19")
        h.scan("5012345678900")                          // milk: its suggestion is not sold here
        #expect(h.controller.suggestion == nil)
        h.scan("4000000000013")                          // milk is in the sale now: the next one
        #expect(h.controller.suggestion == "Customers who buy Coffee beans 500g also buy: Orange juice 1L 2.29")
        h.scan("4006381333931")                          // pens: none
        #expect(h.controller.suggestion == nil)
        h.scan("4000000000013")
        #expect(h.controller.suggestion != nil)
        h.key(.function(6))                              // paid: the sale is over, the line goes
        #expect(h.controller.suggestion == nil)
    }

    @Test func theCustomerLineShowsTheMembersChallengeAndTheReceiptKeepsIt() throws {
        let h = try Harness(loyalty: true, prompt: false)
        var p = DemoCatalog.programme
        p.version = "2026-challenge"
        p.challenges = [Challenge(id: "coffee", name: "Coffee challenge", measure: .visits, skus: ["F0015"], target: 2, window: .days, length: 30,
                                  rewardPoints: 100, starts: "1970-01-01T00:00", ends: "2100-01-01T00:00")]
        try h.db.receive([Publication(version: 3, kind: .programme, scope: .chain, createdBy: "marketing", note: "", createdAt: 0, effectiveAt: 0,
                                      programme: String(decoding: try JSONEncoder().encode(p), as: UTF8.self))], at: 0)
        h.controller.tick()
        #expect(h.controller.programme?.version == "2026-challenge")
        h.scan(DemoCatalog.cardNumber(1))
        h.scan("5012345678900")                          // milk: not the challenge's
        #expect(h.controller.customerLine?.contains("Coffee") == false)
        h.scan("4000000000013")                          // coffee: one of two
        #expect(h.controller.customerLine?.hasSuffix("| Coffee challenge 1 of 2") == true, "\(h.controller.customerLine ?? "")")
        h.key(.function(6))
        guard case .receipt(let first) = h.controller.mode else { Issue.record("no sale"); return }
        #expect(first.sale.loyalty?.challenges.first?.line(currency: .eur) == "Coffee challenge 1 of 2")
        // The next sale at this till counts the first (head office has not answered yet).
        h.key(.escape)
        h.scan(DemoCatalog.cardNumber(1))
        h.scan("4000000000013")
        #expect(h.controller.customerLine?.hasSuffix("| Coffee challenge complete! +100 points to come") == true, "\(h.controller.customerLine ?? "")")
        h.key(.function(6))
        guard case .receipt(let second) = h.controller.mode else { Issue.record("no second sale"); return }
        #expect(second.sale.loyalty?.challenges.first?.completedNow == true)
        #expect(h.controller.customerLine?.hasSuffix("| Coffee challenge complete! +100 points to come") == true, "the receipt's line: \(h.controller.customerLine ?? "")")
    }

    @Test func pricesAndSettingsApplyTogetherAndABadPublicationIsSkippedNotHalfApplied() throws {
        let h = try Harness()
        let settings = Publication(version: 3, kind: .settings, scope: .chain, createdBy: "it", note: "", createdAt: 0, effectiveAt: 0,
                                   settings: TerminalSettings(loyaltyPromptAtTotal: false, discountLimit: "25%"))
        let sku = DemoCatalog.featured.first { $0.barcodes.contains("4006381333931") }!.sku
        let prices = Publication(version: 4, kind: .prices, scope: .chain, createdBy: "it", note: "", createdAt: 0, effectiveAt: 0,
                                 prices: [PriceChange(sku: sku, unitPrice: 99)])
        var broken = DemoCatalog.programme
        broken.earn.pointsPerUnit = -1
        let bad = Publication(version: 5, kind: .programme, scope: .chain, createdBy: "it", note: "", createdAt: 0, effectiveAt: 0,
                              programme: String(decoding: try JSONEncoder().encode(broken), as: UTF8.self))
        try h.db.receive([prices, settings, bad], at: 0)
        h.controller.tick()
        #expect(h.controller.settings.loyaltyPromptAtTotal == false)
        #expect(h.controller.settings.discountLimitBasisPoints == 2500)
        #expect(h.controller.message?.isError == true)
        #expect(try h.db.appliedPublicationVersion() == 5)
        h.scan("4006381333931")
        #expect(h.controller.basket?.lines.last?.item.unitPrice == 99)
        h.keyed("20%", .function(3))                                    // within the new limit: no supervisor
        h.key(.char("1"))                                               // its reason
        #expect(h.controller.mode == .selling)
    }
}
