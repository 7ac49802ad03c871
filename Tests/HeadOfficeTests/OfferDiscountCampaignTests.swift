import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillStore
import TillTestSupport

/// A campaign's offer that takes money off (issue 16): it reaches the tills in the offers
/// publication, two tills offline each take it off a member's sale, and head office replays
/// every sale to the same figures, counts each use, records the one beyond the limit, and
/// records as a discrepancy an offer a till applied that is not the member's.
@Suite("Offers that take money off, at head office", .serialized)
struct OfferDiscountCampaignTests {
    @Test(arguments: Backend.allCases)
    func aDiscountOfferIsReplayedCountedAndAForgedOneRecorded(backend: Backend) throws {
        let dir = TemporaryDirectory("offer-discount-\(backend)")
        let store = try makeHeadOffice(backend, dir)
        _ = try CampaignTests.everyone(store)
        let start: Int64 = 1_794_000_000_000
        // A name longer than an id may be: the id is cut to 32 characters, so "offer:ID" fits a document's 40.
        let c = try store.createCampaign(CampaignDraft(
            name: "Ten percent off dairy for our most loyal members this winter", segmentID: "everyone", holdoutBP: 0, subject: "", body: "",
            link: "", startsAt: start, endsAt: start + 30 * 86_400_000,
            offer: try HeadOfficeStore.offer(OfferTerms(name: "10% off dairy", categories: "Dairy", uses: "1", percentOff: "10"), currency: .eur),
            channels: .till), by: "mia")
        #expect(c.id == "ten-percent-off-dairy-for-our-mo" && c.id.count <= HeadOfficeStore.campaignIDLength)
        try store.launchDueCampaigns(at: start)
        let publication = try #require(try store.publications().first { $0.kind == .offers })
        #expect(publication.offers?.definitions.first?.percentOffBP == 1_000)

        var tills: [TillSide] = []
        var uses: [String: Int] = [:]
        for (i, credential) in [TillCredential(storeID: "0001", tillID: "01"), TillCredential(storeID: "0002", tillID: "01")].enumerated() {
            _ = try store.registerTill(credential)
            let t = try TillSide(till: credential, seed: UInt64(70 + i))
            try t.db.receive([publication], at: start)
            _ = try t.db.applyPendingPublications(at: start)
            t.generator = SaleGenerator(database: t.db, till: t.identity, seed: UInt64(70 + i), start: start + 86_400_000)
            _ = try t.generator.ring(80, redeemEvery: 0)
            var here: [String: Int] = [:]
            for d in try t.db.saleDocuments() {
                guard let taken = d.loyalty?.offerDiscounts?.first(where: { $0.id == c.id }) else { continue }
                let member = demoCards.first { $0.number == d.loyalty?.cardNumber }!.customerID!
                here[member, default: 0] += 1
                // 10% of each dairy line's net after its line discount, rounded; nothing off other lines.
                for l in d.lines where !l.voided {
                    let before = l.amount - l.lineDiscount
                    let expected = l.category == "Dairy" ? (before * 1_000 + 5_000) / 10_000 : 0
                    #expect((l.offerDiscount ?? 0) == expected, "line \(l.lineNumber) \(l.category) \(before)")
                }
                #expect(taken.amount == d.totals.offerDiscounts && taken.kind == "percent" && taken.value == 1_000)
                // The receipt's replay gives the same figures.
                let replayed = try CompletedSale(document: d, storeName: nil)
                #expect(replayed.totals.total == d.totals.total && replayed.loyalty?.discountOffers == [c.id])
            }
            #expect(here.values.allSatisfy { $0 == 1 }, "a till lets each member use it once")
            for (m, n) in here { uses[m, default: 0] += n }
            tills.append(t)
        }
        #expect(uses.values.contains(2), "some member used it at both tills")

        // A third till was given an offer head office never made (a forged publication).
        let forged = Publication(version: 0, kind: .offers, scope: .chain, createdBy: "someone", note: "forged", createdAt: start, effectiveAt: start,
                                 offers: OfferChanges(definitions: [OfferDefinition(id: "half-price", name: "Half price", multiplierBP: nil, bonusPoints: nil,
                                                                                    skus: [], categories: [], minSpend: 0, validFrom: start,
                                                                                    validTo: start + 30 * 86_400_000, stores: [], percentOffBP: 5_000)],
                                                      members: demoCards.compactMap(\.customerID).map { .init(customerID: $0, offer: "half-price", uses: 5) }))
        let rogueCredential = TillCredential(storeID: "0003", tillID: "01")
        _ = try store.registerTill(rogueCredential)
        let rogue = try TillSide(till: rogueCredential, seed: 79)
        try rogue.db.receive([forged], at: start)
        _ = try rogue.db.applyPendingPublications(at: start)
        rogue.generator = SaleGenerator(database: rogue.db, till: rogue.identity, seed: 79, start: start + 86_400_000)
        _ = try rogue.generator.ring(20, redeemEvery: 0)
        let forgedSales = try rogue.db.saleDocuments().filter { $0.loyalty?.offerDiscounts?.contains { $0.id == "half-price" } == true }
        #expect(!forgedSales.isEmpty)

        for t in tills + [rogue] {
            let results = try store.ingest(try t.batch(), from: t.credential).results
            #expect(results.allSatisfy { $0.status == .accepted }, "\(results.filter { $0.status != .accepted }.map { $0.reason ?? "" })")
        }
        // Head office replays every sale to the till's figures, and counts every use.
        let figures = try store.database.read { c in try c.queryOne("SELECT COUNT(*) AS n FROM discrepancies WHERE kind IN ('figures', 'points')", [])!.int("n") }
        #expect(figures == 0)
        let rows = try store.database.read { db in try db.query("SELECT customer_id, uses_left, used FROM member_offers WHERE campaign_id = ?", [.text(c.id)]) }
        for r in rows {
            let n = Int64(uses[r.text("customer_id")] ?? 0)
            #expect(r.int("used") == n && r.int("uses_left") == 1 - n, "\(r.text("customer_id"))")
        }
        let over = try store.database.read { db in try db.queryOne("SELECT COUNT(*) AS n FROM exceptions WHERE kind = 'offer-over-redemption'", [])!.int("n") }
        #expect(over == Int64(uses.values.filter { $0 > 1 }.count))
        #expect(try store.offerRedemptions(c.id) == (Int64(uses.values.reduce(0, +)), Int64(uses.count)))
        // The forged offer: one discrepancy per sale that used it, naming it; no use counted anywhere.
        let offerChecks = try store.database.read { db in try db.query("SELECT detail FROM discrepancies WHERE kind = 'offer'", []) }
        #expect(offerChecks.count == forgedSales.count)
        #expect(offerChecks.allSatisfy { $0.text("detail").contains("offer half-price (Half price): the member has no such offer") })
        let forgedUses = try store.database.read { db in try db.queryOne("SELECT COUNT(*) AS n FROM member_offers WHERE campaign_id = 'half-price'", [])!.int("n") }
        #expect(forgedUses == 0)
    }
}
