import ESCPOS
import Foundation
@testable import HeadOffice
import Receipts
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillSync
import TillTestSupport

/// Challenges (issue 18) across tills: each till shows the member's progress at once, from what
/// head office last said and its own sales; head office replays every sale it receives, however
/// late, and confirms each completion and pays its reward once.
@Suite("Challenges at head office", .serialized)
struct ChallengeIngestTests {
    static let coffee = Challenge(id: "coffee", name: "Coffee challenge", measure: .visits, skus: ["F0015"], target: 3, window: .days, length: 30,
                                  rewardPoints: 100, badge: "Coffee lover", starts: "2026-01-01T00:00", ends: "2031-01-01T00:00")
    static let weekly = Challenge(id: "weekly", name: "Every week", measure: .visits, target: 1, window: .streak, length: 3, rewardPoints: 50,
                                  starts: "2026-01-01T00:00", ends: "2031-01-01T00:00")

    static var programme: LoyaltyProgramme {
        var p = DemoCatalog.programme
        p.version = "2026.12-challenges"
        p.challenges = [coffee, weekly]
        return p
    }

    static func sell(_ side: TillSide, card: String, skus: [String], at time: Int64, programme: LoyaltyProgramme = Self.programme) throws -> CompletedSale {
        try side.sell(card: card, skus: skus, at: time, programme: programme)
    }

    /// The receipt as the paper shows it.
    static func receipt(_ sale: CompletedSale) throws -> String {
        let profile = try PrinterProfile.named("generic-80")
        let paper = try profile.paper(widthMM: 80)
        let t = try ReceiptTemplate(named: "sale.receipt", from: BuiltInTemplates(), schema: SaleReceipt.schema, maxImageWidth: paper.dots)
        var v = try VirtualPrinter(profile: profile, paperWidthMM: 80)
        v.feed(try t.render(SaleReceipt.data(sale, date: "2026-12-06 10:00"), columns: paper.columns["A"]!).escpos(profile: profile, paperWidthMM: 80))
        return v.text.joined(separator: "\n")
    }

    @Test(arguments: Backend.allCases)
    func aChallengeCompletedAcrossTwoTillsOneOfflineIsPaidOnce(backend: Backend) throws {
        let dir = TemporaryDirectory("challenge-\(backend)")
        let store = try makeHeadOffice(backend, dir)
        try store.importProgramme(Self.programme)
        let a = try TillSide(till: till1, seed: 51), b = try TillSide(till: till2, seed: 52)
        for side in [a, b] { try side.db.installProgramme(Self.programme, at: 1) }
        let card = DemoCatalog.cardNumber(1)
        let hour: Int64 = 3_600_000
        let t0 = (HeadOfficeStore.now() / hour - 6) * hour
        let opening = try store.channelCard(card).balance

        // Till B, online: the first coffee; head office has it, and says so at B's next card scan.
        let first = try Self.sell(b, card: card, skus: ["F0015", "F0002"], at: t0)
        #expect(first.loyalty?.challenges.map { $0.line(currency: .eur) } == ["Coffee challenge 1 of 3", "Every week 1 of 3 weeks"])
        #expect(try Self.receipt(first).contains("Coffee challenge 1 of 3"))
        _ = try store.ingest(try b.batch(), from: b.credential)
        try b.db.confirmCard(try #require(try store.cardStatus(card, pending: [])), at: t0 + 60_000)
        // Till A, offline: it knows only its own sales.
        let second = try Self.sell(a, card: card, skus: ["F0015"], at: t0 + hour)
        let third = try Self.sell(a, card: card, skus: ["F0015", "F0005"], at: t0 + 2 * hour)
        #expect(second.loyalty?.challenges.first?.line(currency: .eur) == "Coffee challenge 1 of 3")
        #expect(third.loyalty?.challenges.first?.line(currency: .eur) == "Coffee challenge 2 of 3")
        #expect(try Self.receipt(third).contains("Coffee challenge 2 of 3"))
        // Till B again: head office's one and its own.
        let fourth = try Self.sell(b, card: card, skus: ["F0015"], at: t0 + 3 * hour)
        #expect(fourth.loyalty?.challenges.first?.line(currency: .eur) == "Coffee challenge 2 of 3")
        #expect(try Self.receipt(fourth).contains("Coffee challenge 2 of 3"))
        _ = try store.ingest(try b.batch(), from: b.credential)
        #expect(try store.challengeCompletions().isEmpty, "two visits head office knows of")

        // Till A comes back: four visits in all; the challenge completes once, paid once.
        _ = try store.ingest(try a.batch(), from: a.credential)
        _ = try store.ingest(try a.batch(), from: a.credential)   // sent again: duplicates
        let done = try store.challengeCompletions("coffee")
        #expect(done.count == 1 && done[0].points == 100 && done[0].seq == 1, "\(done)")
        let rewards = try store.database.read { c in try c.query("SELECT points FROM ledger WHERE rule = 'challenge:coffee'", []) }
        #expect(rewards.map { $0.int("points") } == [100])
        let ledger = try store.database.read { c in try c.queryOne("SELECT SUM(points) AS p FROM ledger WHERE card_number = ?", [.text(card)])!.int("p") }
        #expect(try store.channelCard(card).balance == ledger && ledger > opening + 100)
        let customer = try #require(try store.database.read { c in try c.queryOne("SELECT customer_id FROM cards WHERE number = ?", [.text(card)])?.text("customer_id") })
        let mine = try store.memberChallenges(customer)
        #expect(mine.badges.map(\.name) == ["Coffee lover"])
        #expect(mine.challenges.first { $0.id == "coffee" }.map { ($0.completions, $0.value) } ?? (0, 0) == (1, 0))

        // Head office's word reaches till A: done as often as a member may, it shows no more.
        try a.db.confirmCard(try #require(try store.cardStatus(card, pending: [])), at: t0 + 4 * hour)
        let fifth = try Self.sell(a, card: card, skus: ["F0015"], at: t0 + 4 * hour)
        #expect(fifth.loyalty?.challenges.map(\.id) == ["weekly"], "\(fifth.loyalty?.challenges ?? [])")
        _ = try store.ingest(try a.batch(), from: a.credential)
        #expect(try store.challengeCompletions("coffee").count == 1)
    }

    @Test(arguments: Backend.allCases)
    func aStreakBrokenByAMissingWeekIsNotCompleted(backend: Backend) throws {
        let dir = TemporaryDirectory("streak-\(backend)")
        let store = try makeHeadOffice(backend, dir)
        try store.importProgramme(Self.programme)
        let a = try TillSide(till: till1, seed: 53)
        try a.db.installProgramme(Self.programme, at: 1)
        let card = DemoCatalog.cardNumber(2)
        let week: Int64 = 7 * 86_400_000
        let now = HeadOfficeStore.now()
        // A visit 6, 5, 3 and 2 weeks ago: week 4 missing, never three in a row.
        for k: Int64 in [6, 5, 3, 2] { _ = try Self.sell(a, card: card, skus: ["F0002"], at: now - k * week) }
        _ = try store.ingest(try a.batch(), from: a.credential)
        #expect(try store.challengeCompletions("weekly").isEmpty)
        // Last week too: three weeks in a row.
        let last = try Self.sell(a, card: card, skus: ["F0002"], at: now - week)
        #expect(last.loyalty?.challenges.first { $0.id == "weekly" }?.completedNow == true)
        #expect(try Self.receipt(last).contains("Every week complete! +50 points to come"))
        _ = try store.ingest(try a.batch(), from: a.credential)
        #expect(try store.challengeCompletions("weekly").map(\.points) == [50])
    }

    /// The member's page: progress, badges, and joining a challenge members opt in to (their
    /// sales count from then on).
    @Test func theMemberPageShowsProgressAndBadgesAndJoinsAChallenge() async throws {
        let dir = TemporaryDirectory("challenge-page")
        let store = try makeHeadOffice(.sqlite, dir)
        var programme = Self.programme
        programme.challenges.append(Challenge(id: "club", name: "Breakfast club", measure: .items, categories: ["Bakery"], target: 5, window: .month,
                                              optIn: true, badge: "Early bird", starts: "2026-01-01T00:00", ends: "2031-01-01T00:00"))
        try store.importProgramme(programme)
        let a = try TillSide(till: till1, seed: 54)
        try a.db.installProgramme(programme, at: 1)
        let card = DemoCatalog.cardNumber(1)
        let now = HeadOfficeStore.now()
        for k: Int64 in [4, 3, 2] { _ = try Self.sell(a, card: card, skus: ["F0015"], at: now - k * 3_600_000, programme: programme) }
        _ = try Self.sell(a, card: card, skus: ["F0009"], at: now - 3_600_000, programme: programme)   // a baguette before joining: not counted
        _ = try store.ingest(try a.batch(), from: a.credential)
        let server = try await RunningServer(store)
        defer { Task { await server.stop() } }
        let (customer, code) = try #require(try store.requestSignInCode(email: "anna.ivanova@example.com"))
        let (token, session) = try store.verifySignInCode(email: "anna.ivanova@example.com", code: code)
        func send(_ method: String, _ path: String, _ body: String? = nil) async throws -> HTTPAnswer {
            try await onThread {
                try HTTPConnection().send(method, server.url + path, headers: ["Cookie: member_session=\(token)", "Content-Type: application/x-www-form-urlencoded"],
                                          body: body.map { Array($0.utf8) }, timeoutMilliseconds: 30_000)
            }
        }
        let home = try await send("GET", "/member")
        #expect(home.status == 200 && home.text.contains("id=\"badges\"") && home.text.contains(">Coffee lover</span>"), "\(home.text.prefix(4000))")
        #expect(home.text.contains("<strong>Coffee challenge</strong> <span class=\"progress\">0 of 3 visits</span>") && home.text.contains(">Completed</span>"))
        #expect(home.text.contains("<strong>Breakfast club</strong> <span class=\"progress\">Join to take part</span>") && home.text.contains("id=\"join-club\""))
        #expect(try await send("POST", "/member/challenge", "csrf=\(session.csrf)&challenge=weekly").status == 422, "not one to join")
        #expect(try await send("POST", "/member/challenge", "csrf=wrong&challenge=club").status == 403)
        #expect(try await send("POST", "/member/challenge", "csrf=\(session.csrf)&challenge=club").status == 303)
        let joined = try await send("GET", "/member")
        #expect(joined.text.contains("<strong>Breakfast club</strong> <span class=\"progress\">0 of 5 items</span>") && !joined.text.contains("id=\"join-club\""),
                "\(joined.text.prefix(5000))")
        // From now on the member's bakery items count, at the till as at head office.
        let status = try #require(try store.cardStatus(card, pending: []))
        #expect(status.challenges?.first { $0.id == "club" }?.joined == true, "\(status.challenges ?? [])")
        try a.db.confirmCard(status, at: now)
        let croissants = try Self.sell(a, card: card, skus: ["F0010", "F0009"], at: now, programme: programme)
        #expect(croissants.loyalty?.challenges.first { $0.id == "club" }?.line(currency: .eur) == "Breakfast club 2 of 5")
        _ = try store.ingest(try a.batch(), from: a.credential)
        #expect(try store.memberChallenges(customer).challenges.first { $0.id == "club" }?.value == 2)
    }
}

/// The programme page's form keeps challenges as it keeps tiers: a row each, one empty to add
/// one; wrong values are named next to their field.
@Suite("Challenges in the programme form")
struct ChallengeFormTests {
    @Test func aChallengeRowIsReadCheckedAndShownAgain() throws {
        var fields = ProgrammeForm.values(DemoCatalog.programme)
        for (k, v) in ["id": "coffee", "name": "Coffee challenge", "measure": "visits", "skus": "F0015, F0002", "target": "3", "window": "days",
                       "length": "30", "optIn": "no", "rewardPoints": "100", "badge": "Coffee lover", "starts": "2026-12-01T00:00", "ends": "2027-01-01T00:00"] {
            fields["challenges[0].\(k)"] = v
        }
        fields["version"] = "2026.12-coffee"
        let (parsed, errors) = ProgrammeForm.parse(fields, base: DemoCatalog.programme)
        #expect(errors.isEmpty, "\(errors)")
        let ch = try #require(parsed?.challenges.first)
        #expect(ch == Challenge(id: "coffee", name: "Coffee challenge", measure: .visits, skus: ["F0015", "F0002"], target: 3, window: .days, length: 30,
                                rewardPoints: 100, badge: "Coffee lover", starts: "2026-12-01T00:00", ends: "2027-01-01T00:00"))
        #expect(ProgrammeForm.values(try #require(parsed))["challenges[0].skus"] == "F0015, F0002")
        // Spend is an amount; a wrong window and a streak of one week are named at their fields.
        fields["challenges[0].measure"] = "spend"
        fields["challenges[0].target"] = "25.00"
        #expect(ProgrammeForm.parse(fields, base: DemoCatalog.programme).0?.challenges.first?.target == 2_500)
        fields["challenges[0].window"] = "fortnight"
        fields["challenges[1].window"] = "streak"
        fields["challenges[1].length"] = "1"
        fields["challenges[1].id"] = "run"
        let bad = ProgrammeForm.parse(fields, base: DemoCatalog.programme)
        #expect(bad.0 == nil && bad.1["challenges[0].window"] == "'fortnight' is not days, week, month or streak", "\(bad.1)")
        #expect(bad.1["challenges[1].length"]?.contains("must be 2 to 52") == true, "\(bad.1)")
        let view = ProgrammeFormView(DemoCatalog.programme, values: fields, errors: bad.1)
        #expect(view.challenges.count == 1 && view.challenges[0].fields.first { $0.name == "challenges[0].window" }?.fieldError != nil)
    }
}
