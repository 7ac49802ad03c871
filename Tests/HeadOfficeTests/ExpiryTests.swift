import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillTestSupport

/// Point expiry (issue 17): points expire N months after they were earned, oldest first; a
/// balance never goes negative; every expired point once.
@Suite("Point expiry", .serialized)
struct ExpiryTests {
    @Test func theCutoffIsNMonthsBackOrTheStartOfThatYear() throws {
        let t = ProtocolTime.parse("2027-03-31T10:00:00Z")!
        #expect(LoyaltyProgramme.Expiry(months: 6).cutoff(at: t) == ProtocolTime.parse("2026-09-30T10:00:00Z")!)
        #expect(LoyaltyProgramme.Expiry(months: 1).cutoff(at: t) == ProtocolTime.parse("2027-02-28T10:00:00Z")!)
        #expect(LoyaltyProgramme.Expiry(months: 12, atYearEnd: true).cutoff(at: t) == ProtocolTime.parse("2026-01-01T00:00:00Z")!)
        #expect(LoyaltyProgramme.Expiry(months: 14).cutoff(at: t) == ProtocolTime.parse("2026-01-31T10:00:00Z")!)
        var p = DemoCatalog.programme
        p.expiry = LoyaltyProgramme.Expiry(months: 0, noticeDays: 400)
        #expect(p.validate().map(\.field) == ["expiry.months", "expiry.noticeDays"])
        // Read from JSON with its defaults; a programme without the section has none.
        let json = #"{"months": 12}"#
        #expect(try JSONDecoder().decode(LoyaltyProgramme.Expiry.self, from: Data(json.utf8)) == LoyaltyProgramme.Expiry(months: 12, atYearEnd: false, noticeDays: 30))
        #expect(DemoCatalog.programme.expiry == nil)
    }

    /// The commands: no expiry without the programme's section; with it, a run, a card's points
    /// expiring soon.
    @Test func theExpiryCommands() throws {
        let dir = TemporaryDirectory("expiry-cli")
        let ho = try HeadOfficeProcess(.sqlite, dir: dir)
        let none = try runProcess(ho.binary, ["expiry", "run", "--database", ho.database])
        #expect(none.status != 0 && none.stderr.contains("no expiry section"), "\(none.stderr)")
        var programme = DemoCatalog.programme
        programme.version = "demo-expiry"
        // Points expire at once after a month: the cards' opening balances (loaded now) expire within the notice days.
        programme.expiry = LoyaltyProgramme.Expiry(months: 1, noticeDays: 40)
        let file = dir.write("programme.json", String(decoding: try JSONEncoder().encode(programme), as: UTF8.self))
        try ho.admin(["programme", "import", file])
        let card = DemoCatalog.cardNumber(1)
        #expect(try ho.admin(["expiry", "show", card]).contains("1500 points of card **** **** **** 0015 expire by"))
        #expect(try ho.admin(["expiry", "run"]).contains(": 0 points on 0 cards."))
        let store = try ho.store()
        let soon = try #require(try store.expiringPoints(card))
        #expect(soon.points == 1_500)
        // The till hears the same at a card scan: 1,500 points, and the day they go.
        let opened = try store.database.read { c in try c.queryOne("SELECT created_at FROM ledger WHERE card_number = ? AND kind = 'opening'", [.text(card)])!.int("created_at") }
        let day = programme.expiry!.expiresAt(earnedAt: opened)
        #expect(try store.cardStatus(card, pending: [])?.expiring == [ExpiringLot(points: 1_500, at: day)])
        #expect(programme.expiry!.cutoff(at: day) > opened && programme.expiry!.cutoff(at: day - 86_400_000) <= opened)
        #expect(try store.cardStatus(card, pending: [], at: opened - 90 * 86_400_000)?.expiring == nil, "beyond the notice days: nothing said")
        // A month and a day later they are gone, once.
        let later = HeadOfficeStore.now() + 32 * 86_400_000
        let run = try store.runExpiry(at: later)
        #expect(run.points == (try store.database.read { c in try c.queryOne("SELECT SUM(points) AS p FROM ledger WHERE kind = 'opening'", [])!.int("p") }))
        #expect(try store.balance(of: card) == 0 && (try store.runExpiry(at: later)).points == 0)
    }

    /// Members who agreed to hear from us are told by e-mail, once a card and month, that points
    /// expire; the others are not.
    @Test func membersAreToldAheadOnce() throws {
        let dir = TemporaryDirectory("expiry-mail")
        let smtp = try SMTPSink(dir: dir)
        let store = try makeHeadOffice(.sqlite, dir)
        var programme = DemoCatalog.programme
        programme.version = "demo-expiry"
        programme.expiry = LoyaltyProgramme.Expiry(months: 1, noticeDays: 40)
        try store.importProgramme(programme)
        // The opening balances (loaded now) expire within 40 days: consenting members with an e-mail are told.
        let consenting = demoCards.filter { $0.status == "active" && $0.balance > 0 && $0.member?.marketingConsent == true }
        #expect(!consenting.isEmpty && consenting.count < demoCards.filter { $0.balance > 0 }.count)
        #expect(try store.queueExpiryNotices() == consenting.count)
        #expect(try store.queueExpiryNotices() == 0, "a second day in the same month queues nothing more")
        let mail = MailSettings(relay: smtp.relay, from: "Rewards <rewards@example.com>")
        #expect(try CashbackScheduler.sendExpiryNotices(store, mail: mail) == consenting.count)
        #expect(try CashbackScheduler.sendExpiryNotices(store, mail: mail) == 0)
        let first = try #require(consenting.first)
        let message = try smtp.waitForMessage(to: first.member!.email!, containing: "expire by")
        #expect(message.contains("Subject: \(first.balance) of your points expire by") && message.contains(String(first.number.suffix(4))), "\(message)")
        #expect(smtp.messages().count == consenting.count)
    }

    /// A generated year of earning, redeeming and cancelled reservations on eight cards, expiry
    /// run every day: each run expires exactly what a model of the cards' lots (used oldest first)
    /// says, no balance goes below zero, a second run the same day expires nothing.
    @Test(arguments: Backend.allCases)
    func aGeneratedYearExpiresEveryPointOnceOldestFirst(backend: Backend) throws {
        let dir = TemporaryDirectory("expiry-\(backend)")
        let store = try makeHeadOffice(backend, dir)
        var programme = DemoCatalog.programme
        programme.version = "demo-expiry"
        programme.expiry = LoyaltyProgramme.Expiry(months: 6)
        try store.importProgramme(programme)
        _ = try store.addChannel("shop", scopes: [.earn, .redeem, .read])
        let shop = SalesChannel(name: "shop", scopes: [.earn, .redeem, .read], createdAt: 0, revokedAt: nil)
        let cards = (5...12).map { DemoCatalog.cardNumber($0) }
        // The model: each card's lots (when earned, points left), used oldest first.
        var lots: [String: [(at: Int64, left: Int64)]] = [:]
        let importedAt = try store.database.read { c in try c.queryOne("SELECT MIN(created_at) AS t FROM ledger", [])!.int("t") }
        // Every card head office has (the ones the year leaves alone expire too), with its opening balance.
        let all = demoCards.map(\.number)
        for card in all { lots[card] = [(importedAt, try store.balance(of: card)!)] }
        func use(_ card: String, _ points: Int64) {
            var rest = points
            for i in lots[card]!.indices where rest > 0 {
                let take = min(rest, lots[card]![i].left)
                lots[card]![i].left -= take
                rest -= take
            }
        }
        var rng = SplitMix64(seed: 29)
        let start = ProtocolTime.parse("2027-01-01T00:00:00Z")!
        var expiredByModel: [String: Int64] = [:], runs: [Int64] = []
        for day in 0..<365 {
            let base = start + Int64(day) * 86_400_000
            for (k, card) in cards.enumerated() where rng.next() % 3 == 0 {
                let at = base + Int64(9 + k) * 3_600_000
                switch rng.next() % 4 {
                case 0, 1:
                    let answer = try store.channelEarn(EarnRequest(cardNumber: card, orderID: "o\(day)-\(k)", amount: Int64(1_000 + rng.next() % 20_000)),
                                                       channel: shop, at: at)
                    lots[card]!.append((at, answer.points))
                case 2:
                    let balance = try store.balance(of: card)!
                    guard balance > 0 else { continue }
                    let points = min(balance, 1 + Int64(rng.next() % 60))
                    let r = try store.reserve(ReserveRequest(cardNumber: card, points: points), channel: shop, idempotencyKey: "r\(day)-\(k)", at: at)
                    _ = try store.settleReservation(r.id, action: "capture", channel: shop, idempotencyKey: nil, at: at)
                    use(card, points)
                default:
                    // Reserved and cancelled at once: the points come back, as old as they were.
                    let balance = try store.balance(of: card)!
                    guard balance > 0 else { continue }
                    let r = try store.reserve(ReserveRequest(cardNumber: card, points: balance), channel: shop, idempotencyKey: "c\(day)-\(k)", at: at)
                    _ = try store.settleReservation(r.id, action: "cancel", channel: shop, idempotencyKey: nil, at: at)
                }
            }
            // The night's run.
            let night = base + 23 * 3_600_000
            let cutoff = programme.expiry!.cutoff(at: night)
            var expected: Int64 = 0
            for card in all {
                for i in lots[card]!.indices where lots[card]![i].at < cutoff && lots[card]![i].left > 0 {
                    expected += lots[card]![i].left
                    expiredByModel[card, default: 0] += lots[card]![i].left
                    lots[card]![i].left = 0
                }
            }
            let run = try store.runExpiry(at: night)
            #expect(run.points == expected, "day \(day): head office expired \(run.points), the lots say \(expected)")
            #expect(try store.runExpiry(at: night + 1).points == 0, "day \(day): a second run expired more")
            runs.append(run.points)
            for card in all {
                let balance = try store.balance(of: card)!
                #expect(balance >= 0 && balance == lots[card]!.reduce(0) { $0 + $1.left }, "day \(day) card \(card)")
            }
        }
        // Every expired point once: the ledger's expiries per card are the model's.
        let ledger = try store.database.read { c in
            try c.query("SELECT card_number, SUM(points) AS p FROM ledger WHERE kind = 'expire' GROUP BY card_number", [])
                .reduce(into: [String: Int64]()) { $0[$1.text("card_number")] = -$1.int("p") }
        }
        #expect(ledger == expiredByModel.filter { $0.value > 0 })
        #expect(runs.filter { $0 > 0 }.count > 20, "expiry ran on too few days to mean anything: \(runs.filter { $0 > 0 }.count)")
        #expect(try CustomerServiceActionsTests.ledgerAgrees(store))
        print("expiry \(backend): \(runs.reduce(0, +)) points expired on \(runs.filter { $0 > 0 }.count) of 365 nights, on \(ledger.count) cards")
        // What a member is told ahead: the points that expire within the notice days.
        let card = cards[0]
        let soon = try store.expiringPoints(card, at: start + 365 * 86_400_000)
        let cutoff = programme.expiry!.cutoff(at: start + 395 * 86_400_000)
        let modelSoon = lots[card]!.filter { $0.at < cutoff }.reduce(0) { $0 + $1.left }
        #expect((soon?.points ?? 0) == modelSoon)
    }
}
