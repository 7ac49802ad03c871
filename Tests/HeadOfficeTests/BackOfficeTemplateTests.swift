import Foundation
@testable import HeadOffice
import Testing
import TillProtocol
import TillSync
import TillTestSupport

/// The back office's pages as mustache templates: every template file is compiled in and parses,
/// every value from data is escaped, and a form the decoder cannot read changes nothing.
@Suite("Back office templates")
struct BackOfficeTemplateTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/HeadOffice/BackOffice/templates").standardized.path

    @Test func everyTemplateFileIsCompiledInAndNoneWritesAValueUnescaped() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder).sorted()
        let names = files.map { $0 == "backoffice.css" ? "style" : String($0.dropLast(".mustache".count)) }
        // (member-style is CSS in a .mustache file: a partial of the member layout.)
        #expect(Set(names) == Set(BackOfficeTemplates.sources.keys), "files \(files) vs compiled \(BackOfficeTemplates.sources.keys.sorted())")
        #expect(files.allSatisfy { $0.hasSuffix(".mustache") || $0 == "backoffice.css" }, "\(files)")
        for file in files {
            let text = try String(contentsOfFile: Self.folder + "/" + file, encoding: .utf8)
            #expect(!text.contains("{{{") && !text.contains("{{&"), "\(file) writes a value without escaping it")
            // What is compiled in is the file as it is in the folder.
            let name = file == "backoffice.css" ? "style" : String(file.dropLast(".mustache".count))
            #expect(BackOfficeTemplates.sources[name].map { String(decoding: $0, as: UTF8.self) } == text, "\(file)")
        }
    }

    static let hostile = "<script>alert(\"x\")</script>&'"
    static let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"

    static let session = BackOfficeSession(user: BackOfficeUser(username: hostile, role: .store, storeID: "0001"), csrf: "tok\"en")

    @Test func everyPageDrawsInTheLayoutWithEveryValueEscaped() {
        let frame = Frame(Self.hostile, session: Self.session, active: "/rollout", notice: (Self.hostile, true))
        let field = FieldView("price", Self.hostile, Self.hostile, errors: ["price": Self.hostile], hint: Self.hostile)
        let scope = ScopeOption(value: Self.hostile, label: Self.hostile)
        let pages: [(String, Any)] = [
            ("message", MessagePage(frame: frame, back: "/settings")),
            ("login", LoginPage(frame: frame, nonce: Self.hostile)),
            ("overview", OverviewPage(frame: frame, current: 1, tills: 2, publications: [], anyPublications: false)),
            ("catalog", CatalogPage(frame: frame, query: Self.hostile, items: [.init(sku: Self.hostile, description: Self.hostile, category: "c", price: "1.00", skuQuery: "x")],
                                    mayUpload: true, issues: [Self.hostile], anyIssues: true, columns: "sku", scopes: [scope])),
            ("catalog-item", CatalogItemPage(frame: frame, sku: Self.hostile, description: Self.hostile, price: "1.00", priceField: field, scopes: [scope])),
            ("settings", SettingsPage(frame: frame, profiles: [Self.hostile], fields: [field], scopes: [scope])),
            ("rollout", RolloutPage(frame: frame, rows: [.init(till: Self.hostile, version: 1, latest: 2, pending: 1, current: false, lastAsked: "never")],
                                    scopes: [scope], publications: [], anyPublications: false)),
            ("receipts", ReceiptsPage(frame: frame, number: Self.hostile, numberQuery: "x", found: true, missing: false)),
            ("programme-preview", PreviewPage(frame: frame, version: Self.hostile, isDraft: true, basketTotal: "1.00", parts: [.init(label: Self.hostile, points: "3")],
                                              totalPoints: "3", problems: [Self.hostile], anyProblems: true)),
            ("programme-diff", DiffPage(frame: frame, publishedVersion: Self.hostile, changes: [.init(field: Self.hostile, before: "1", after: "2")], anyChanges: true)),
            ("customer", Self.customerPage(frame)),
            ("approvals", ApprovalsPage(frame: frame, threshold: 500, waiting: [Self.waiting], anyWaiting: true)),
        ]
        for (name, page) in pages {
            let html = BackOfficeTemplates.render(name, page)
            #expect(html.hasPrefix("<!doctype html>"), "\(name): \(html.prefix(80))")
            #expect(html.trimmingCharacters(in: .newlines).hasSuffix("</main></body></html>"), "\(name): \(html.suffix(80))")
            #expect(!html.contains("<script>"), "\(name) lets a value through unescaped")
            #expect(html.contains("<title>\(Self.escaped) · Head office</title>"), "\(name)")
            #expect(html.contains("<div class=\"notice error\">\(Self.escaped)</div>"), "\(name)")
            // A store manager's navigation: no programme link; the page in hand marked.
            #expect(!html.contains("href=\"/programme\">Programme") && html.contains("<a href=\"/rollout\" class=\"on\">Rollout</a>"), "\(name)")
            #expect(html.contains("<span class=\"who\">\(Self.escaped) · Store manager · store 0001"), "\(name)")
            #expect(html.contains("name=\"csrf\" value=\"tok&quot;en\""), "\(name)")
        }
        let item = BackOfficeTemplates.render("catalog-item", pages[4].1)
        #expect(item.contains("<input type=\"text\" id=\"price\" name=\"price\" value=\"\(Self.escaped)\" class=\"bad\"><div class=\"muted\">\(Self.escaped)</div><div class=\"err\" data-field=\"price\">\(Self.escaped)</div>"), "\(item)")
        // A field without hint or error does not borrow one from the page around it.
        let plain = BackOfficeTemplates.render("settings", SettingsPage(frame: frame, profiles: [], fields: [FieldView("autoLockMinutes", "Lock", "")], scopes: []))
        #expect(plain.contains("<input type=\"text\" id=\"autoLockMinutes\" name=\"autoLockMinutes\" value=\"\"></div>"), "\(plain)")
    }

    static let waiting = CustomerPage.Waiting(adjustmentID: 7, card: hostile, points: 900, reasonLabel: hostile, note: hostile, requestedBy: hostile,
                                              at: hostile, mine: false)

    /// A member's page with every value hostile and every action shown.
    static func customerPage(_ frame: Frame) -> CustomerPage {
        let h = hostile
        return CustomerPage(
            frame: frame, id: h, idQuery: "x", name: h, phone: h, email: h, postcode: h, birthDate: h, consent: h, registeredAt: h, registeredStore: h,
            balance: 1, cardCount: 1, cards: [.init(number: h, status: h, tier: h, balance: 1)], anyPurchases: true,
            purchases: [.init(at: h, receipt: h, receiptQuery: "x", storeID: h, card: h, total: h)], stores: [.init(store: h, sales: 1)], ledgerNote: h,
            ledger: [.init(at: h, card: h, kind: h, rule: h, receipt: h, receiptQuery: "x", points: 1)],
            consents: [.init(givenAt: h, what: h, version: h, consentText: h, channel: h, recordedBy: h)],
            audit: [.init(at: h, user: h, action: h, card: h, reasonLabel: h, note: h, detail: h)], anyAudit: true, waiting: [waiting], anyWaiting: true,
            canAct: true, closedNote: h, mergedInto: h, reasons: [.init(value: h, label: h)], detailFields: [FieldView("firstName", h, h)],
            usableCards: [h], consentGranted: true, approvalPoints: 500, tierLine: h)
    }

    /// The member's pages: their own layout (no back office navigation), every value escaped.
    @Test func theMembersPagesEscapeEveryValue() {
        let h = Self.hostile
        let frame = MemberFrame(h, notice: (h, true), session: MemberSession(customerID: "M1", csrf: "tok\"en"))
        let card = MemberHomePage.Card(number: h, grouped: h, status: h, active: true)
        let pages: [(String, Any)] = [
            ("member-signin", MemberSignInPage(frame: frame, nonce: h, email: h, mailReady: false)),
            ("member-code", MemberCodePage(frame: frame, nonce: h, email: h)),
            ("member-home", MemberHomePage(frame: frame, name: h, balance: 1, tierName: h, nextTier: h, cards: [card], digital: card,
                                           ledger: [.init(at: h, what: h, points: 1, receipt: h, receiptQuery: "x")], detailFields: [FieldView("phone", h, h)],
                                           consentGranted: true, consentText: h,
                                           offers: [.init(id: h, name: h, summary: h, until: h, uses: h, active: false)], anyOffers: true)),
        ]
        for (name, page) in pages {
            let html = BackOfficeTemplates.render(name, page)
            #expect(html.hasPrefix("<!doctype html>") && html.contains("<title>\(Self.escaped)</title>"), "\(name): \(html.prefix(200))")
            #expect(!html.contains("<script>") && html.contains("<div class=\"notice error\">\(Self.escaped)</div>"), "\(name)")
            #expect(!html.contains("href=\"/customers\"") && html.contains("name=\"csrf\" value=\"tok&quot;en\""), "\(name)")
        }
    }

    @Test func aPageForNobodyHasNoNavigationAndAMissingTemplateSaysSo() {
        let html = BackOfficeTemplates.render("login", LoginPage(frame: Frame("Sign in", session: nil), nonce: "n"))
        #expect(!html.contains("<a href=") && !html.contains("Sign out") && html.contains("name=\"login_csrf\" value=\"n\""))
        #expect(!html.contains("class=\"notice"))
        #expect(BackOfficeTemplates.render("no-such-page", MessagePage(frame: Frame("x", session: nil))).contains("missing from head office (template no-such-page)"))
    }

    @Test func aFormWithAFieldSentTwiceIsRefusedAndChangesNothing() async throws {
        let dir = TemporaryDirectory("ho-forms")
        let store = try makeHeadOffice(.sqlite, dir)
        try store.saveUser("ada", role: .admin, storeID: nil, password: "ada-secret-123")
        let (session, csrf) = try store.signIn("ada", password: "ada-secret-123")
        let server = try await RunningServer(store, options: ServerOptions(port: 0))
        defer { Task { await server.stop() } }
        func post(_ path: String, _ body: String) async throws -> HTTPAnswer {
            try await onThread {
                try HTTPConnection().send("POST", server.url + path, headers: ["Cookie: bo_session=\(session)", "Content-Type: application/x-www-form-urlencoded"],
                                          body: Array(body.utf8), timeoutMilliseconds: 30_000)
            }
        }
        let twice = try await post("/settings", "csrf=\(csrf)&scope=chain&scope=store:0001&autoLockMinutes=3")
        #expect(twice.status == 400)
        #expect(twice.text.contains("The form could not be read (") && twice.text.contains("the field &#39;scope&#39; was sent twice") && twice.text.contains("nothing was changed"), "\(twice.text)")
        let badPercent = try await post("/settings", "csrf=\(csrf)&scope=chain&note=%zz")
        #expect(badPercent.status == 400, "\(badPercent.text)")
        #expect(try store.publications().isEmpty)
        // The same form, sent once, publishes.
        let once = try await post("/settings", "csrf=\(csrf)&scope=chain&autoLockMinutes=3")
        #expect(once.status == 303, "\(once.text)")
        #expect(try store.publications().map(\.settings?.autoLockMinutes) == [3])
    }
}
