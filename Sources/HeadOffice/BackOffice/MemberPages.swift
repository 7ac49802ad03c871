import ESCPOS
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TillCore
import TillDocuments
import TillProtocol

/// The member's page (`member-signin`, `member-code`, `member-home` templates, in the
/// `member-layout`).
struct MemberFrame: Sendable {
    struct Notice: Sendable { var text: String, isError: Bool }
    var title: String
    var notice: Notice?
    var signedIn: Bool
    var memberCSRF: String

    init(_ title: String, notice: (String, Bool)? = nil, session: MemberSession? = nil) {
        self.title = title
        self.notice = notice.map { Notice(text: $0.0, isError: $0.1) }
        signedIn = session != nil
        memberCSRF = session?.csrf ?? ""
    }
}

struct MemberSignInPage: Sendable { var frame: MemberFrame; var nonce: String; var email: String; var mailReady: Bool }
struct MemberCodePage: Sendable { var frame: MemberFrame; var nonce: String; var email: String }

struct MemberHomePage: Sendable {
    struct Card: Sendable { var number: String, grouped: String, status: String, active: Bool }
    struct Movement: Sendable { var at: String, what: String, points: Int64, receipt: String?, receiptQuery: String }
    var frame: MemberFrame
    var name: String
    var balance: Int64
    var tierName: String?
    var nextTier: String?
    /// "120 points expire soon (by 2027-01-31)…"
    var expiring: String?
    var cards: [Card]
    var digital: Card?
    var ledger: [Movement]
    var detailFields: [FieldView]
    var consentGranted: Bool
    var consentText: String
    struct Offer: Sendable { var id: String, name: String, summary: String, until: String, uses: String, active: Bool }
    var offers: [Offer]
    var anyOffers: Bool
    struct Challenge: Sendable { var id: String, name: String, progress: String, reward: String, done: String?, canJoin: Bool }
    struct Badge: Sendable { var name: String, challenge: String, date: String }
    var challenges: [Challenge] = []
    var anyChallenges = false
    var badges: [Badge] = []
    var anyBadges = false
    struct Invited: Sendable { var name: String, status: String, date: String }
    var referralCode = ""
    var referralTerms = ""
    var invited: [Invited] = []
    var anyInvited = false
    /// Joined lately and bought nothing yet, invited by nobody: a friend's code may still be given.
    var canGiveCode = false
}

extension HeadOfficeServer {
    static let memberCookie = "member_session"
    static let memberLoginCookie = "member_login"

    func memberSession(_ request: Request) async throws -> (token: String, session: MemberSession)? {
        guard let token = cookieValue(request, Self.memberCookie) else { return nil }
        return try await work.run { [store] in try store.memberSession(token) }.map { (token, $0) }
    }

    func memberPage(_ template: String, _ page: Any, status: HTTPResponse.Status = .ok, cookies: [String] = []) -> Response {
        render(status, template, page, cookies: cookies)
    }

    func addMemberPages(_ router: Router<HeadOfficeContext>) {
        router.get("/member") { request, _ -> Response in
            let done = ["details": "Your details are saved.", "consent": "Your choice is saved.", "lost": "The card is blocked: no one can use it. Ask for a new card at your next visit; your points move to it.",
                        "offer": "The offer is active: our tills give it to you from now on.",
                        "challenge": "You have joined: your purchases count from now on.",
                        "referral": "Thank you: your friend's code is noted. You both earn points with your first purchase."][formField(request, "done")]
            guard let (_, session) = try await memberSession(request) else { return signInPage(notice: nil) }
            return try await memberHome(session, notice: done.map { ($0, false) })
        }
        router.post("/member/code") { request, _ -> Response in
            let f = try await postedForm(request)
            guard let nonce = f["login_csrf"], let expected = cookieValue(request, Self.memberLoginCookie), CSRFMiddleware.same(nonce, expected) else {
                return signInPage(notice: ("The sign-in form had expired: key your e-mail again.", true), status: .forbidden)
            }
            let email = String((f["email"] ?? "").prefix(254))
            guard let mail = options.mail else {
                return signInPage(notice: ("Signing in by e-mail is not set up at head office yet: ask at the store.", true), status: .serviceUnavailable)
            }
            do {
                if let (_, code) = try await work.run({ [store] in try store.requestSignInCode(email: email) }) {
                    let message = MailMessage(to: email.trimmingCharacters(in: .whitespaces).lowercased(), subject: "Your sign-in code",
                                              text: "Your code to sign in to your rewards page is \(code).\n\nIt works once, for 10 minutes. If you did not ask for it, ignore this e-mail.\n")
                    do { try await mailing.run { try Mailer(mail).send(message) } } catch {
                        logger.error("sign-in code not sent", metadata: ["error": "\(error)"])
                        return signInPage(notice: ("The code could not be sent just now: try again in a few minutes.", true), status: .serviceUnavailable)
                    }
                }
            } catch let e as MemberRefusal {
                return signInPage(notice: (e.description, true), status: .unprocessableContent, email: email)
            }
            let n = HeadOfficeStore.randomToken()
            return memberPage("member-code", MemberCodePage(
                frame: MemberFrame("Key your code", notice: ("If \(email) is a member's e-mail address, a 6-digit code is on its way. It works once, for 10 minutes.", false)),
                nonce: n, email: email), cookies: [cookie(Self.memberLoginCookie, n, maxAge: 3600)])
        }
        router.post("/member/verify") { request, _ -> Response in
            let f = try await postedForm(request)
            let email = String((f["email"] ?? "").prefix(254))
            guard let nonce = f["login_csrf"], let expected = cookieValue(request, Self.memberLoginCookie), CSRFMiddleware.same(nonce, expected) else {
                return signInPage(notice: ("The sign-in form had expired: ask for a new code.", true), status: .forbidden)
            }
            do {
                let (token, _) = try await signingIn.run { [store] in try store.verifySignInCode(email: email, code: String((f["code"] ?? "").prefix(20))) }
                return redirect("/member", cookies: [cookie(Self.memberCookie, token, maxAge: Int(HeadOfficeStore.memberSessionLifetime / 1000)),
                                                     cookie(Self.memberLoginCookie, "", maxAge: 0)])
            } catch let e as MemberRefusal {
                let n = HeadOfficeStore.randomToken()
                return memberPage("member-code", MemberCodePage(frame: MemberFrame("Key your code", notice: (e.description, true)), nonce: n, email: email),
                                  status: .unprocessableContent, cookies: [cookie(Self.memberLoginCookie, n, maxAge: 3600)])
            }
        }
        for action in ["details", "consent", "lost", "logout", "offer", "challenge", "referral"] {
            router.post("/member/\(action)") { request, _ -> Response in
                guard let (token, session) = try await memberSession(request) else { return redirect("/member") }
                let f = try await postedForm(request)
                guard let sent = f["csrf"], CSRFMiddleware.same(sent, session.csrf) else {
                    return try await memberHome(session, notice: ("The page had expired: nothing was changed. Try again.", true), status: .forbidden)
                }
                do {
                    switch action {
                    case "logout":
                        try await work.run { [store] in try store.memberSignOut(token) }
                        return redirect("/member", cookies: [cookie(Self.memberCookie, "", maxAge: 0)])
                    case "details":
                        let d = MemberDetails(firstName: f["firstName"] ?? "", lastName: f["lastName"] ?? "", phone: f["phone"] ?? "", email: f["email"] ?? "",
                                              postcode: f["postcode"] ?? "", birthDate: f["birthDate"] ?? "")
                        try await work.run { [store] in try store.correctDetails(session.customerID, d, by: "member", reason: .customerRequest, note: "on the member page") }
                    case "consent":
                        try await work.run { [store] in try store.recordConsent(session.customerID, granted: f["granted"] == "yes", channel: "member page", by: nil) }
                    case "offer":
                        let offer = f["offer"] ?? ""
                        guard try await work.run({ [store] in try store.activateOffer(offer, customer: session.customerID) }) else {
                            return try await memberHome(session, notice: ("That offer is not one you can activate now: it may have ended, or be active already.", true),
                                                        status: .unprocessableContent)
                        }
                    case "challenge":
                        let id = f["challenge"] ?? ""
                        do {
                            try await work.run { [store] in try store.joinChallenge(id, customer: session.customerID) }
                        } catch let e as ChannelRefusal {
                            return try await memberHome(session, notice: (e.message, true), status: .unprocessableContent)
                        }
                    case "referral":
                        let code = f["code"] ?? ""
                        do {
                            let r = try await work.run { [store] in try store.giveReferralCode(code, customer: session.customerID, channel: "member page") }
                            if r.status == "refused" {
                                return try await memberHome(session, notice: ("That code was not taken: \(r.reason ?? "it is not one we can reward")", true),
                                                            status: .unprocessableContent)
                            }
                        } catch let e as ChannelRefusal {
                            return try await memberHome(session, notice: (e.message, true), status: .unprocessableContent)
                        }
                    default:
                        let card = f["card"] ?? ""
                        try await work.run { [store] in try store.reportLostByMember(session.customerID, card: card) }
                    }
                } catch let e as ServiceError {
                    return try await memberHome(session, notice: (e.description, true), status: .unprocessableContent)
                } catch let e as MemberRefusal {
                    return try await memberHome(session, notice: (e.description, true), status: .unprocessableContent)
                }
                return redirect("/member?done=\(action)")
            }
        }
        router.get("/member/card.svg") { request, _ -> Response in
            guard let (_, session) = try await memberSession(request) else { return Response(status: .unauthorized) }
            let card = formField(request, "card")
            let mine = try await work.run { [store] in try store.memberHasCard(session.customerID, card: card, activeOnly: true) }
            guard mine else { return Response(status: .notFound) }
            let svg = formField(request, "kind") == "qr" ? Self.qrSVG(card) : Self.barcodeSVG(card)
            return Response(status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "private, no-store"], body: ResponseBody(byteBuffer: ByteBuffer(string: svg)))
        }
        // The member's referral code as a QR code, for a friend's phone or the till's scanner to read.
        router.get("/member/referral.svg") { request, _ -> Response in
            guard let (_, session) = try await memberSession(request) else { return Response(status: .unauthorized) }
            let code = try await work.run { [store] in try store.referralCode(customer: session.customerID) }
            return Response(status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "private, no-store"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: Self.qrSVG(code))))
        }
        router.get("/member/receipt.svg") { request, _ -> Response in
            guard let (_, session) = try await memberSession(request) else { return Response(status: .unauthorized) }
            let number = formField(request, "number")
            let found = try await work.run { [store] () -> (SaleDocument, HeadOfficeStore.ReceiptHeading)? in
                guard let doc = try store.saleDocument(receipt: number, store: nil), let card = doc.loyalty?.cardNumber,
                      try store.memberHasCard(session.customerID, card: card, activeOnly: false) else { return nil }
                return (doc, try store.receiptHeading(doc))
            }
            guard let (doc, heading) = found else { return Response(status: .notFound) }
            let svg = try await rendering.run { try HeadOfficeStore.receiptSVG(doc, heading: heading) }
            return Response(status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "private, no-store"], body: ResponseBody(byteBuffer: ByteBuffer(string: svg)))
        }
    }

    func signInPage(notice: (String, Bool)?, status: HTTPResponse.Status = .ok, email: String = "") -> Response {
        let n = HeadOfficeStore.randomToken()
        return memberPage("member-signin", MemberSignInPage(frame: MemberFrame("Your rewards", notice: notice), nonce: n, email: email, mailReady: options.mail != nil),
                          status: status, cookies: [cookie(Self.memberLoginCookie, n, maxAge: 3600)])
    }

    func memberHome(_ session: MemberSession, notice: (String, Bool)?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let offers = try await work.run { [store] in try store.memberOffers(customer: session.customerID) }
        let (challenges, badges) = try await work.run { [store] in try store.memberChallenges(session.customerID) }
        let (code, invited, settings, mayGive) = try await work.run { [store] in
            (try store.referralCode(customer: session.customerID), try store.referrals(referrer: session.customerID), try store.referralSettings(),
             try store.mayGiveReferralCode(customer: session.customerID))
        }
        let loaded = try await work.run { [store] () -> (CustomerProfile, TierProgress, String, [ExpiringPoints])? in
            guard let p = try store.customerProfile(session.customerID, ledgerLimit: 50) else { return nil }
            let active = p.cards.first { $0.status == "active" }
            let card = try active.flatMap { try store.cardStatus($0.number, pending: []) }
            let progress = try store.tierProgress(qualifying: card?.card.qualifying ?? 0, tierCode: card?.card.tierCode)
            let expiring = try p.cards.filter { $0.balance > 0 }.compactMap { try store.expiringPoints($0.number) }
            return (p, progress, try store.consentTexts().first?.body ?? "", expiring)
        }
        guard let (p, progress, consentText, expiring) = loaded else { return signInPage(notice: nil) }
        let utc = TimeZone(identifier: "UTC")!
        let s = p.summary
        let cards = p.cards.map {
            MemberHomePage.Card(number: $0.number, grouped: LoyaltyCardNumber.grouped($0.number), status: $0.status, active: $0.status == "active")
        }
        var next: String?
        if let name = progress.nextTierName, let needed = progress.needed {
            next = progress.basis == "spend" ? "\((Currency(code: progress.currency) ?? .eur).format(needed)) more spend to reach \(name)" : "\(needed) more points to reach \(name)"
        }
        var page = MemberHomePage(
            frame: MemberFrame("Your rewards", notice: notice, session: session), name: "\(s.firstName) \(s.lastName)", balance: s.balance,
            tierName: progress.tierName, nextTier: next,
            expiring: expiring.isEmpty ? nil : "\(expiring.reduce(0) { $0 + $1.points }) points expire soon (by \(ProtocolTime.format(expiring.map(\.by).max()!, timeZone: utc).prefix(10))): use them before then",
            cards: cards, digital: cards.first { $0.active },
            ledger: p.ledger.map {
                .init(at: ProtocolTime.format($0.at, timeZone: utc).prefix(10).description, what: $0.label ?? $0.kind, points: $0.points, receipt: $0.receipt,
                      receiptQuery: Self.queryParameter($0.receipt ?? ""))
            },
            detailFields: [
                FieldView("firstName", "First name", s.firstName), FieldView("lastName", "Last name", s.lastName),
                FieldView("phone", "Phone", s.phone ?? ""), FieldView("email", "E-mail", s.email ?? ""),
                FieldView("postcode", "Postcode", s.postcode ?? ""), FieldView("birthDate", "Born (YYYY-MM-DD)", p.birthDate ?? ""),
            ],
            consentGranted: p.marketingConsent, consentText: consentText,
            offers: offers.map { o in
                .init(id: o.offer.id, name: o.offer.name, summary: o.offer.summary(currency: Currency(code: progress.currency) ?? .eur), until: ProtocolTime.format(o.offer.validTo - 1, timeZone: utc).prefix(10).description,
                      uses: o.usesLeft > 1 ? "\(o.usesLeft) times" : "once", active: o.active)
            }, anyOffers: !offers.isEmpty)
        let currency = Currency(code: progress.currency) ?? .eur
        page.challenges = challenges.map { ch in
            let amount = { (v: Int64) in ch.unit == "spend" ? currency.format(v) : String(v) }
            let unit = ["visits": " visits", "items": " items", "weeks": " weeks in a row"][ch.unit] ?? ""
            let reward = [ch.rewardPoints > 0 ? "\(ch.rewardPoints) points" : nil, ch.badge.map { "the \($0) badge" }].compactMap { $0 }.joined(separator: " and ")
            let done = ch.completions >= ch.maxCompletions ? "Completed" : ch.completions > 0 ? "Completed \(ch.completions) of \(ch.maxCompletions) times" : nil
            return .init(id: ch.id, name: ch.name, progress: ch.optIn && !ch.joined ? "Join to take part" : "\(amount(ch.value)) of \(amount(ch.goal))\(unit)",
                         reward: reward, done: done, canJoin: ch.optIn && !ch.joined)
        }
        page.anyChallenges = !challenges.isEmpty
        page.badges = badges.map { .init(name: $0.name, challenge: $0.challenge, date: ProtocolTime.format($0.at, timeZone: utc).prefix(10).description) }
        page.anyBadges = !badges.isEmpty
        page.referralCode = code
        page.referralTerms = "A friend who gives this code when they join earns \(settings.referredPoints) points and you \(settings.referrerPoints), "
            + "once their first purchase of \(currency.format(settings.minSpend)) or more comes within \(settings.days) days."
        let statusText = ["registered": "joined, no purchase yet", "rewarded": "bought: points earned", "refused": "not rewarded",
                          "expired": "no purchase in time", "reversed": "purchase returned: points taken back"]
        page.invited = invited.map { .init(name: $0.referredName, status: statusText[$0.status] ?? $0.status,
                                           date: ProtocolTime.format($0.registeredAt, timeZone: utc).prefix(10).description) }
        page.anyInvited = !invited.isEmpty
        page.canGiveCode = mayGive
        return memberPage("member-home", page, status: status)
    }

    /// The card number as a Code 128 barcode, as the tills' scanners read it.
    static func barcodeSVG(_ number: String) -> String {
        let modules = (try? BarcodePatterns.code128(number)) ?? []
        let module = 3, quiet = 12, height = 90
        let width = (modules.count + 2 * quiet) * module
        var rects = ""
        var x = 0
        while x < modules.count {
            guard modules[x] else { x += 1; continue }
            var run = 1
            while x + run < modules.count && modules[x + run] { run += 1 }
            rects += "<rect x=\"\((x + quiet) * module)\" y=\"0\" width=\"\(run * module)\" height=\"\(height)\"/>"
            x += run
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">"
            + "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><g fill=\"#000\">\(rects)</g></svg>"
    }

    /// The card number as a QR code.
    static func qrSVG(_ number: String) -> String {
        guard let qr = try? QRCode(bytes: Array(number.utf8)) else { return "<svg xmlns=\"http://www.w3.org/2000/svg\"/>" }
        let scale = 6, quiet = 4
        let side = (qr.size + 2 * quiet) * scale
        var rects = ""
        for y in 0..<qr.size {
            for x in 0..<qr.size where qr[x, y] {
                rects += "<rect x=\"\((x + quiet) * scale)\" y=\"\((y + quiet) * scale)\" width=\"\(scale)\" height=\"\(scale)\"/>"
            }
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(side)\" height=\"\(side)\" viewBox=\"0 0 \(side) \(side)\">"
            + "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><g fill=\"#000\">\(rects)</g></svg>"
    }
}
