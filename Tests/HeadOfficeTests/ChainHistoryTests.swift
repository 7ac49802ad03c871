import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillSync
import TillTestSupport

/// The till's customer view (Ctrl-F) shows the member's purchases in every store when head
/// office answers within the lookup budget, and the till's own when it does not.
@Suite("Chain-wide history at the till")
struct ChainHistoryTests {
    @Test func theCustomerViewHasEveryStoresPurchasesWhenHeadOfficeAnswers() async throws {
        let dir = TemporaryDirectory("chain-history")
        let store = try makeHeadOffice(.sqlite, dir)
        _ = try store.registerTill(till1)
        let other = TillCredential(storeID: "0002", tillID: "01")
        let token = try store.registerTill(other)
        // Store 0001's till sells to Anna; the till of store 0002 has never seen her.
        let elsewhere = try TillSide()
        elsewhere.generator = SaleGenerator(database: elsewhere.db, till: elsewhere.identity, cards: 1, seed: 4)
        try elsewhere.generator.ring(12)
        _ = try store.ingest(try elsewhere.batch(), from: till1)
        let card = DemoCatalog.cardNumber(1)
        let expected = try #require(try store.cardHistory(card, limit: 10))
        #expect(!expected.purchases.isEmpty && expected.purchases.allSatisfy { $0.storeID == "0001" && $0.items > 0 })
        #expect(expected.purchases.map(\.completedAt) == expected.purchases.map(\.completedAt).sorted(by: >))

        let server = try await RunningServer(store)
        let here = try TillSide(till: other)
        let link = HeadOfficeLink(url: server.url, ca: nil, token: token.description, lookupTimeoutMilliseconds: 300)
        let directory = OnlineLoyaltyDirectory(database: here.db, link: link, forwarder: nil)
        // Within the 300 ms budget (the first request also opens the connection: three tries).
        var answered: PurchaseHistory?
        var best = Double.infinity
        for _ in 0..<3 {
            // Timed on the thread (a loaded suite may keep the test's task waiting for its turn).
            let (h, took) = try await onThread { () -> (PurchaseHistory, Double) in
                let started = Date()
                return (try directory.history(card: card, limit: 10), Date().timeIntervalSince(started))
            }
            if h.chainWide { answered = h; best = min(best, took) }
        }
        let h = try #require(answered, "head office never answered within 300 ms")
        #expect(h.purchases.map(\.receiptNumber) == expected.purchases.map(\.receiptNumber))
        #expect(h.purchases.allSatisfy { $0.storeID == "0001" })
        print("chain-history: head office's history in \(Int(best * 1000)) ms")
        // Head office gone: this till's own purchases (none), at once.
        await server.stop()
        let (local, took) = try await onThread { () -> (PurchaseHistory, Double) in
            let started = Date()
            return (try directory.history(card: card, limit: 10), Date().timeIntervalSince(started))
        }
        #expect(!local.chainWide && local.purchases.isEmpty)
        #expect(took < 1, "the till waited \(took) s for a head office that is gone")
        // A card that is no member's is not found; bounds are checked.
        #expect(try store.cardHistory(DemoCatalog.cardNumber(DemoCatalog.firstStockCard)) == nil)
    }
}
