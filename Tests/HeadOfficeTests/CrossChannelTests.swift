import Foundation
import HeadOffice
import PrivateServers
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillSync
import TillTestSupport

/// Cross-channel exactness (issue 15): a till that was offline sends its sales (redeeming on the
/// card) and refunds (points taken back and given back) while the web shop reserves, captures, cancels and refunds on the same card through the
/// channel API, and head office is killed (SIGKILL) three times in between. Afterwards no point
/// was spent twice and none lost: the card's balance is its loaded balance plus the till's
/// journal plus what the web shop captured and refunded; every reservation is in the state the
/// web shop left it (or expired), and each cancelled or expired one gave its points back once.
@Suite("Points across the till and the web shop, head office killed", .serialized)
struct CrossChannelTests {
    /// What the web shop did with each reservation.
    enum Plan: Int { case capture, cancel, captureAndRefund, abandon }

    struct Done: Sendable {
        var id: String
        var points: Int64
        var plan: Plan
        var refunded: Int64
    }

    /// One web shop: every call retried with the same idempotency key until head office answers.
    final class Shop: @unchecked Sendable {
        let url: String, key: String, card: String
        let http = HTTPConnection()
        var retries = 0
        init(url: String, key: String, card: String) {
            self.url = url
            self.key = key
            self.card = card
        }

        func call(_ path: String, _ body: String, idempotency: String?) -> HTTPAnswer? {
            let deadline = Date().addingTimeInterval(90)
            while true {
                var headers = ["Authorization: Bearer \(key)", "Content-Type: application/json"]
                if let idempotency { headers.append("Idempotency-Key: \(idempotency)") }
                if let a = try? http.send("POST", url + path, headers: headers, body: Array(body.utf8), timeoutMilliseconds: 5_000), a.status < 500 {
                    return a
                }
                retries += 1
                if Date() > deadline { return nil }
                usleep(100_000)
            }
        }

        func run(_ count: Int) -> [Done] {
            var done: [Done] = []
            for i in 0..<count {
                let plan = Plan(rawValue: i % 4)!
                let points: Int64 = 30 + Int64(i % 5) * 5
                let hold = plan == .abandon ? 5 : 600
                let a = call("/api/v1/channel/reservations", "{\"cardNumber\":\"\(card)\",\"points\":\(points),\"orderID\":\"W-\(i)\",\"holdSeconds\":\(hold)}",
                             idempotency: "reserve-\(i)")
                guard let a, a.status == 200, let r = try? JSONDecoder().decode(ReservationAnswer.self, from: Data(a.body)) else { continue }   // 409: not enough
                var d = Done(id: r.id, points: points, plan: plan, refunded: 0)
                switch plan {
                case .capture: _ = call("/api/v1/channel/reservations/\(r.id)/capture", "", idempotency: nil)
                case .cancel: _ = call("/api/v1/channel/reservations/\(r.id)/cancel", "", idempotency: nil)
                case .captureAndRefund:
                    _ = call("/api/v1/channel/reservations/\(r.id)/capture", "", idempotency: nil)
                    if call("/api/v1/channel/reservations/\(r.id)/refund", "{\"points\":15}", idempotency: "refund-\(i)")?.status == 200 { d.refunded = 15 }
                case .abandon: break
                }
                done.append(d)
                usleep(20_000)
            }
            return done
        }
    }

    @Test(arguments: Backend.allCases)
    func noPointIsSpentTwiceOrLost(backend: Backend) async throws {
        let dir = TemporaryDirectory("cross-channel")
        let ho = try HeadOfficeProcess(backend, dir: dir)
        let key = try ho.admin(["channel", "add", "web-shop"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let till = try TillProcess(headOffice: ho, batchSize: 10)
        let card = DemoCatalog.cardNumber(1)
        // Offline: the till rings sales on the card, redeeming every third (head office is not up).
        let identity = TillIdentity(storeID: "0001", storeName: "Demo Store", tillID: "01", currency: .eur)
        let journal = try till.database()
        var generator = SaleGenerator(database: journal, till: identity, cards: 1, seed: 11, start: 1_795_000_000_000)
        let sales = try generator.ring(150, redeemEvery: 3)
        // And refunds every tenth sale whole: the points it earned taken back, the points it was paid with given back.
        var refunds = 0
        for (i, sale) in sales.enumerated() where i % 10 == 0 && sale.loyalty != nil {
            let selections = sale.basket.lines.filter { !$0.voided }.map { ReturnSelection(line: $0.number, quantity: $0.item.quantity) }
            _ = try journal.commitRefund(.receipt(saleID: sale.id, selections: selections, toCash: false), id: "refund-\(i)", cashier: DemoCatalog.supervisor,
                                         supervisor: nil, at: sale.completedAt + 1_000, till: identity, programme: DemoCatalog.programme) { _ in nil }
            refunds += 1
        }
        #expect(refunds >= 10)
        try ho.start()
        let shop = Shop(url: ho.url, key: key, card: card)
        let web = StartedOnThread { shop.run(60) }
        // Online: the till sends while the web shop works; head office is killed three times.
        for pause in [700_000, 900_000, 600_000] as [UInt32] {
            let sync = try till.startSync()
            usleep(pause)
            ho.kill()
            _ = waitForExit(sync)
            usleep(300_000)
            try ho.start()
        }
        let done = try await web.value()
        let out = try till.run(["sync", "now"])
        #expect(out.contains("0 refused"), "\(out)")
        #expect(done.count >= 20, "the web shop reserved only \(done.count) times")
        print("cross-channel \(backend): \(done.count) reservations, \(shop.retries) retries of calls head office did not answer")

        // Abandoned reservations expire (5 s) and give their points back.
        let store = try ho.store()
        let deadline = Date().addingTimeInterval(40)
        while Date() < deadline {
            let open = try store.database.read { c in try c.queryOne("SELECT COUNT(*) AS n FROM reservations WHERE state = 'reserved'", [])?.int("n") ?? 0 }
            if open == 0 { break }
            usleep(250_000)
        }
        let states = try store.database.read { c in
            try c.query("SELECT id, state, refunded FROM reservations", []).reduce(into: [String: (String, Int64)]()) { $0[$1.text("id")] = ($1.text("state"), $1.int("refunded")) }
        }
        #expect(states.count == done.count, "head office holds \(states.count) reservations, the web shop made \(done.count)")
        for d in done {
            let expected = switch d.plan { case .capture, .captureAndRefund: "captured"; case .cancel: "cancelled"; case .abandon: "expired" }
            #expect(states[d.id]?.0 == expected, "reservation \(d.id) (\(d.plan)) is \(states[d.id]?.0 ?? "missing")")
            #expect(states[d.id]?.1 == d.refunded)
        }
        // Each cancelled or expired reservation gave its points back once; a captured one never.
        let releases = try store.database.read { c in
            try c.query("SELECT sale_id, COUNT(*) AS n FROM ledger WHERE kind = 'release' GROUP BY sale_id", []).reduce(into: [String: Int64]()) {
                $0[$1.text("sale_id")] = $1.int("n")
            }
        }
        for d in done {
            #expect(releases[d.id] == ((d.plan == .cancel || d.plan == .abandon) ? 1 : nil), "reservation \(d.id) (\(d.plan)) released \(releases[d.id] ?? 0) times")
        }
        // The balance: loaded, plus the till's journal, less what the web shop kept.
        let expected = try expectedBalances([try till.database()])[card] ?? 0
        let kept = done.filter { $0.plan == .capture || $0.plan == .captureAndRefund }.reduce(Int64(0)) { $0 + $1.points - $1.refunded }
        let balance = try #require(try store.cardStatus(card, pending: [])).card.balance
        #expect(balance == expected - kept, "balance \(balance); the till's journal says \(expected) and the web shop kept \(kept)")
        let ledger = try store.database.read { c in try c.queryOne("SELECT SUM(points) AS n FROM ledger WHERE card_number = ?", [.text(card)])?.int("n") }
        #expect(ledger == balance)
        #expect(try store.gaps(of: till.credential).isEmpty)
    }
}
