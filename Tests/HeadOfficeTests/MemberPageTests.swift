import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillSync
import TillTestSupport

/// The member's own page (issue 15): sign-in by a one-time code sent through a real SMTP server,
/// rate-limited and never telling who is a member; the page's balance, tier, card images and
/// actions, each for the signed-in member only.
@Suite("The member's own page", .serialized)
struct MemberPageTests {
    static let anna = DemoCatalog.cardNumber(1), annaMail = "anna.ivanova@example.com"

    static func code(in message: String) -> String? {
        guard let r = message.range(of: #"is \d{6}\."#, options: .regularExpression) else { return nil }
        return String(message[r].dropFirst(3).prefix(6))
    }

    @Test func codesAreSentOnceEachLastTenMinutesAllowFiveTriesAndAreRateLimited() throws {
        let dir = TemporaryDirectory("member-codes")
        let store = try makeHeadOffice(.sqlite, dir)
        #expect(try store.requestSignInCode(email: "nobody@example.com", at: 1_000) == nil)
        let (id, code) = try #require(try store.requestSignInCode(email: "  Anna.Ivanova@Example.com ", at: 1_000))
        #expect(id == "M1" && code.count == 6)
        // Wrong codes count; the fifth wrong one ends the code.
        for left in [4, 3, 2, 1] {
            #expect(throws: MemberRefusal("That code is not the one we sent: check the e-mail and key its 6 digits (\(left) \(left == 1 ? "try" : "tries") left)")) {
                try store.verifySignInCode(email: Self.annaMail, code: code == "000000" ? "111111" : "000000", at: 2_000)
            }
        }
        #expect(throws: MemberRefusal("That code is not the one we sent, and it was the last try: ask for a new code")) {
            try store.verifySignInCode(email: Self.annaMail, code: "999999" == code ? "888888" : "999999", at: 2_000)
        }
        #expect(throws: MemberRefusal("The code was keyed wrongly 5 times: ask for a new code")) {
            try store.verifySignInCode(email: Self.annaMail, code: code, at: 2_000)
        }
        // A new code works once, within 10 minutes.
        let (_, second) = try #require(try store.requestSignInCode(email: Self.annaMail, at: 3_000))
        #expect(throws: MemberRefusal.self) { try store.verifySignInCode(email: Self.annaMail, code: second, at: 3_000 + HeadOfficeStore.codeLifetime + 1) }
        let (third, _) = (try #require(try store.requestSignInCode(email: Self.annaMail, at: 4_000)), 0)
        let (token, session) = try store.verifySignInCode(email: Self.annaMail, code: third.code, at: 5_000)
        let restored = try store.memberSession(token, at: 6_000)
        #expect(session.customerID == "M1" && restored == session)
        #expect(throws: MemberRefusal.self) { try store.verifySignInCode(email: Self.annaMail, code: third.code, at: 5_001) }
        // Three codes per address per quarter hour (asked for a known address or not).
        #expect(throws: MemberRefusal.self) { try store.requestSignInCode(email: Self.annaMail, at: 6_000) }
        for i in 0..<2 { _ = try store.requestSignInCode(email: "nobody@example.com", at: 10_000 + Int64(i)) }
        #expect(throws: MemberRefusal.self) { try store.requestSignInCode(email: "nobody@example.com", at: 20_000) }
        #expect(try store.requestSignInCode(email: Self.annaMail, at: 4_000 + HeadOfficeStore.codeWindow + 1) != nil)
        #expect(throws: MemberRefusal.self) { try store.requestSignInCode(email: "not an address") }
        // Signed out, and a session expires.
        #expect(try store.memberSession(token, at: 5_000 + HeadOfficeStore.memberSessionLifetime + 1) == nil)
        try store.memberSignOut(token)
        #expect(try store.memberSession(token, at: 6_000) == nil)
    }

    @Test func theCodeComesByEMailAndThePageIsTheMembersOnly() async throws {
        let dir = TemporaryDirectory("member-http")
        let smtp = try SMTPSink(dir: dir)
        let store = try makeHeadOffice(.sqlite, dir)
        let server = try await RunningServer(store, options: ServerOptions(port: 0, mail: MailSettings(relay: smtp.relay, from: "Rewards <rewards@example.com>")))
        defer { Task { await server.stop() } }
        func send(_ method: String, _ path: String, _ body: String? = nil, cookie: String) async throws -> HTTPAnswer {
            try await onThread {
                try HTTPConnection().send(method, server.url + path, headers: ["Cookie: \(cookie)", "Content-Type: application/x-www-form-urlencoded"],
                                          body: body.map { Array($0.utf8) }, timeoutMilliseconds: 30_000)
            }
        }
        let asked = try await send("POST", "/member/code", "login_csrf=n1&email=anna.ivanova%40example.com", cookie: "member_login=n1")
        #expect(asked.status == 200 && asked.text.contains("a 6-digit code is on its way"), "\(asked.text)")
        let mail = try smtp.waitForMessage(to: Self.annaMail)
        let code = try #require(Self.code(in: mail), "\(mail)")
        // An unknown address gets the same page and no e-mail.
        let unknown = try await send("POST", "/member/code", "login_csrf=n1&email=nobody%40example.com", cookie: "member_login=n1")
        #expect(unknown.status == 200 && unknown.text.contains("a 6-digit code is on its way"))
        #expect(try await send("POST", "/member/code", "login_csrf=n2&email=anna.ivanova%40example.com", cookie: "member_login=n1").status == 403)
        let wrong = try await send("POST", "/member/verify", "login_csrf=n1&email=anna.ivanova%40example.com&code=\(code == "123456" ? "654321" : "123456")",
                                   cookie: "member_login=n1")
        #expect(wrong.status == 422 && wrong.text.contains("4 tries left"))
        let (token, session) = try store.verifySignInCode(email: Self.annaMail, code: code)
        let home = try await send("GET", "/member", cookie: "member_session=\(token)")
        #expect(home.status == 200 && home.text.contains("<div class=\"big\" id=\"balance\">1500</div>"), "\(home.text.prefix(3000))")
        #expect(home.text.contains("<strong id=\"tier\">Silver</strong>") && home.text.contains("more spend to reach Gold"))
        #expect(home.text.contains("/member/card.svg?kind=barcode&amp;card=\(Self.anna)") && !home.text.contains("<script"))
        #expect(!home.text.contains("id=\"expiring\""))
        // Once points expire (a month after they were earned, told 40 days ahead), the page says so.
        var expiring = DemoCatalog.programme
        expiring.version = "demo-expiry"
        expiring.expiry = LoyaltyProgramme.Expiry(months: 1, noticeDays: 40)
        try store.importProgramme(expiring)
        let soon = try await send("GET", "/member", cookie: "member_session=\(token)")
        #expect(soon.text.contains("<p id=\"expiring\"><strong>1500 points expire soon (by "), "\(soon.text.prefix(3000))")
        let svg = try await send("GET", "/member/card.svg?kind=qr&card=\(Self.anna)", cookie: "member_session=\(token)")
        #expect(svg.status == 200 && svg.text.hasPrefix("<svg"))
        #expect(try await send("GET", "/member/card.svg?kind=qr&card=\(DemoCatalog.cardNumber(2))", cookie: "member_session=\(token)").status == 404)
        #expect(try await send("GET", "/member/card.svg?kind=qr&card=\(Self.anna)", cookie: "member_session=nope").status == 401)
        // Actions need the page's token; consent and a lost card, recorded as the member's.
        #expect(try await send("POST", "/member/consent", "csrf=wrong&granted=no", cookie: "member_session=\(token)").status == 403)
        #expect(try await send("POST", "/member/consent", "csrf=\(session.csrf)&granted=no", cookie: "member_session=\(token)").status == 303)
        let consent = try #require(try store.consentHistory(customer: "M1").last)
        #expect(!consent.granted && consent.channel == "member page" && consent.recordedBy == nil)
        #expect(try await send("POST", "/member/lost", "csrf=\(session.csrf)&card=\(DemoCatalog.cardNumber(2))", cookie: "member_session=\(token)").status == 422)
        #expect(try await send("POST", "/member/lost", "csrf=\(session.csrf)&card=\(Self.anna)", cookie: "member_session=\(token)").status == 303)
        #expect(try store.cardStatus(Self.anna, pending: [])?.status == "lost")
        #expect(try store.publications().first?.cards == [CardChange(number: Self.anna, status: "lost")])
        #expect(try store.auditTrail(customer: "M1").first?.user == "member")
        #expect(try await send("POST", "/member/logout", "csrf=\(session.csrf)", cookie: "member_session=\(token)").status == 303)
        #expect(try store.memberSession(token) == nil)
    }

    @Test func withoutARelayThePageSaysSignInIsNotSetUp() async throws {
        let dir = TemporaryDirectory("member-nomail")
        let store = try makeHeadOffice(.sqlite, dir)
        let server = try await RunningServer(store)
        defer { Task { await server.stop() } }
        let page = try await onThread { try HTTPConnection().send("GET", server.url + "/member", timeoutMilliseconds: 30_000) }
        #expect(page.status == 200 && page.text.contains("not set up yet"))
        let asked = try await onThread {
            try HTTPConnection().send("POST", server.url + "/member/code", headers: ["Cookie: member_login=n", "Content-Type: application/x-www-form-urlencoded"],
                                      body: Array("login_csrf=n&email=anna.ivanova%40example.com".utf8), timeoutMilliseconds: 30_000)
        }
        #expect(asked.status == 503 && asked.text.contains("not set up at head office"))
    }
}
