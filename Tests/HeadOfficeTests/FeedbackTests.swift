import ESCPOS
import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillSync
import TillTestSupport

/// Feedback (issue 18): a member's receipt carries a QR code to a survey; the answer (0 to 10 and a
/// comment) earns points once per receipt, within the days set; the NPS by store and month, and
/// the comments, searchable.
@Suite("Feedback on receipts", .serialized)
struct FeedbackTests {
    @Test(arguments: Backend.allCases)
    func anAnswerEarnsOncePerReceiptWithinItsDays(backend: Backend) throws {
        let dir = TemporaryDirectory("feedback-\(backend)")
        let store = try makeHeadOffice(backend, dir)
        let till = try TillSide(seed: 31)
        let start: Int64 = 1_796_000_000_000
        till.generator = SaleGenerator(database: till.db, till: till.identity, seed: 31, start: start)
        try till.generator.ring(40, redeemEvery: 0)
        _ = try store.ingest(try till.batch(), from: till.credential)
        let members = try till.db.saleDocuments().filter { $0.loyalty != nil && $0.loyalty?.registration == nil }
        let others = try till.db.saleDocuments().filter { $0.loyalty == nil }
        #expect(members.count >= 4 && !others.isEmpty)
        #expect(try store.feedbackSettings() == FeedbackSettings(points: 20, days: 14))
        #expect(try store.surveySale(others[0].saleID) == nil, "a sale without a card has no survey")
        #expect(try store.surveySale("not-a-uuid") == nil && (try store.surveySale(UUID().uuidString)) == nil)

        let first = members[0]
        let card = try #require(first.loyalty?.cardNumber)
        let before = try store.channelCard(card).balance
        let day = Int64(86_400_000)
        let when = ProtocolTime.parse(first.completedAt)! + day
        #expect(try store.surveySale(first.saleID.uppercased())?.answered == false)
        #expect(throws: ChannelRefusal(422, "Choose a score from 0 to 10")) { try store.submitFeedback(saleID: first.saleID, nps: 11, comment: "", at: when) }
        #expect(throws: ChannelRefusal.self) { try store.submitFeedback(saleID: first.saleID, nps: 5, comment: String(repeating: "x", count: 1_001), at: when) }
        #expect(try store.submitFeedback(saleID: first.saleID, nps: 9, comment: "  Friendly staff, 100% fresh bread ", at: when) == .earned(20))
        #expect(try store.submitFeedback(saleID: first.saleID, nps: 0, comment: "again", at: when) == .alreadyAnswered)
        #expect(try store.channelCard(card).balance == before + 20)
        #expect(try store.surveySale(first.saleID)?.answered == true)
        // Too late: recorded without points; no points set: the same.
        let late = members[1]
        #expect(try store.submitFeedback(saleID: late.saleID, nps: 3, comment: "Queue too long", at: ProtocolTime.parse(late.completedAt)! + 15 * day)
                == .recorded("points are given for answers within 14 days of the visit"))
        try store.saveFeedbackSettings(FeedbackSettings(points: 0, days: 14))
        #expect(try store.submitFeedback(saleID: members[2].saleID, nps: 7, comment: "", at: ProtocolTime.parse(members[2].completedAt)! + day)
                == .recorded("surveys earn no points now"))
        #expect(throws: ChannelRefusal.self) { try store.saveFeedbackSettings(FeedbackSettings(points: 5, days: 0)) }
        let ledger = try store.database.read { c in try c.query("SELECT points, card_number FROM ledger WHERE rule = 'feedback'", []) }
        #expect(ledger.count == 1 && ledger.first?.int("points") == 20 && ledger.first?.text("card_number") == card)

        // The NPS of the store's month: one promoter, one passive, one detractor: 0.
        let rows = try store.npsReport(store: nil, from: start - day, to: start + 60 * day)
        #expect(rows.map(\.responses).reduce(0, +) == 3 && rows.map(\.promoters).reduce(0, +) == 1 && rows.map(\.detractors).reduce(0, +) == 1)
        #expect(try store.npsReport(store: "0009", from: start - day, to: start + 60 * day).isEmpty)
        // Comments: searchable, a % in the words is a %.
        #expect(try store.feedbackComments(store: nil, query: "").map(\.comment).sorted() == ["Friendly staff, 100% fresh bread", "Queue too long"])
        #expect(try store.feedbackComments(store: "0001", query: "100%").map(\.receiptNumber) == [first.receiptNumber])
        #expect(try store.feedbackComments(store: nil, query: "0%f").isEmpty)
    }

    /// The Feedback page: a store manager sees their store's answers only, whatever they ask for;
    /// customer service does not open it.
    @Test func aStoreManagerSeesTheirStoresAnswersOnly() async throws {
        let dir = TemporaryDirectory("feedback-page")
        let store = try makeHeadOffice(.sqlite, dir)
        for (i, credential) in [TillCredential(storeID: "0001", tillID: "01"), TillCredential(storeID: "0002", tillID: "01")].enumerated() {
            let till = try TillSide(till: credential, seed: UInt64(40 + i))
            try till.generator.ring(30, redeemEvery: 0)
            _ = try store.ingest(try till.batch(), from: till.credential)
            let sale = try #require(try till.db.saleDocuments().first { $0.loyalty != nil && $0.loyalty?.registration == nil })
            _ = try store.submitFeedback(saleID: sale.saleID, nps: 8, comment: "Comment from store \(credential.storeID)")
        }
        try store.saveUser("sam", role: .store, storeID: "0002", password: "sam-secret-123")
        try store.saveUser("cas", role: .service, storeID: nil, password: "cas-secret-123")
        let server = try await RunningServer(store, options: ServerOptions(port: 0))
        defer { Task { await server.stop() } }
        func get(_ user: String, _ password: String, _ path: String) async throws -> HTTPAnswer {
            let (token, _) = try store.signIn(user, password: password)
            return try await onThread { try HTTPConnection().send("GET", server.url + path, headers: ["Cookie: bo_session=\(token)"], timeoutMilliseconds: 30_000) }
        }
        let mine = try await get("sam", "sam-secret-123", "/feedback?store=0001")
        #expect(mine.status == 200 && mine.text.contains("Comment from store 0002") && !mine.text.contains("Comment from store 0001"), "\(mine.text)")
        #expect(!mine.text.contains("id=\"store\""), "a store manager chooses no store")
        #expect(try await get("cas", "cas-secret-123", "/feedback").status == 403)
    }

    /// The whole path: a till configured with the survey's address prints a member's receipt on a
    /// raster printer; zbarimg reads the QR code off the printed page; the survey at head office
    /// takes the answer and the card earns once; a second answer earns nothing.
    @Test func theQRCodeOnAPrintedReceiptLeadsToTheSurvey() throws {
        let dir = TemporaryDirectory("feedback-qr")
        let ho = try HeadOfficeProcess(.sqlite, dir: dir)
        let store = try ho.store()
        try store.importProgramme(DemoCatalog.programme)
        try store.importCards(DemoCatalog.cards(members: 20, stock: 5))
        try ho.start()
        let till = try TillProcess(headOffice: ho, extra: """
            [printer]
            profile = "star-tsp100-raster"
            paper_mm = 80

            [loyalty]
            survey_url = "\(ho.url)/s"
            """)
        try till.ring(12, seed: 5)
        try till.run(["sync", "now"])
        let sale = try #require(try till.database().saleDocuments().first { $0.loyalty != nil && $0.loyalty?.registration == nil })
        let escpos = till.dir.file("receipt.bin")
        try till.run(["receipt", sale.receiptNumber, "--format", "escpos", "-o", escpos])
        var printer = try VirtualPrinter(profile: try PrinterProfile.named("star-tsp100-raster"), paperWidthMM: 80)
        printer.feed([UInt8](try Data(contentsOf: URL(fileURLWithPath: escpos))))
        let pages = printer.elements.compactMap { if case .image(let b, _) = $0 { return b } else { return nil } }
        #expect(!pages.isEmpty)
        var read: [String] = []
        for (i, page) in pages.enumerated() {
            let pbm = till.dir.file("page-\(i).pbm")
            try Data(page.pbm).write(to: URL(fileURLWithPath: pbm))
            read += try runProcess("/usr/bin/zbarimg", ["-q", "--raw", pbm]).stdout.split(separator: "\n").map(String.init)
        }
        let url = try #require(read.first { $0.hasPrefix(ho.url + "/s/") }, "zbarimg read: \(read)")
        #expect(url == ho.url + "/s/" + sale.saleID.lowercased())

        let card = try #require(sale.loyalty?.cardNumber)
        let before = try store.channelCard(card).balance
        let page = try HTTPConnection().send("GET", url, timeoutMilliseconds: 30_000)
        #expect(page.status == 200 && page.text.contains("How did we do?") && page.text.contains(sale.receiptNumber) && page.text.contains("earns 20 points"),
                "\(page.status) \(page.text)")
        func answer(_ body: String) throws -> HTTPAnswer {
            try HTTPConnection().send("POST", url, headers: ["Content-Type: application/x-www-form-urlencoded"], body: Array(body.utf8), timeoutMilliseconds: 30_000)
        }
        let noScore = try answer("comment=hello")
        #expect(noScore.status == 422 && noScore.text.contains("Choose how likely"))
        let sent = try answer("nps=10&comment=Great+coffee%21")
        #expect(sent.status == 200 && sent.text.contains("your card has earned 20 points"), "\(sent.text)")
        let again = try answer("nps=2&comment=changed+my+mind")
        #expect(again.status == 200 && again.text.contains("already told us"), "\(again.text)")
        #expect(try HTTPConnection().send("GET", url, timeoutMilliseconds: 30_000).text.contains("already told us"))
        #expect(try store.channelCard(card).balance == before + 20)
        #expect(try store.feedbackComments(store: nil, query: "coffee").map(\.comment) == ["Great coffee!"])
        let unknown = try HTTPConnection().send("GET", ho.url + "/s/" + UUID().uuidString.lowercased(), timeoutMilliseconds: 30_000)
        #expect(unknown.status == 404 && unknown.text.contains("We do not know this receipt yet"))
    }
}
