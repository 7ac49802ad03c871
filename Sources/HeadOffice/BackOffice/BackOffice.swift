import ESCPOS
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Receipts
import TillCore
import TillDocuments
import TillProtocol

/// The back office: server-rendered pages, mouse only, no JavaScript. Every page needs a
/// session; every form carries the session's CSRF token; a store manager acts only on their
/// store. Pages: overview, programme (edit, preview, diff, publish), catalog and prices (CSV
/// upload, one item), terminal settings, rollout (and rollback), receipts as the paper shows them.
extension HeadOfficeServer {
    static let sessionCookie = "bo_session"
    static let loginCookie = "bo_login"

    // MARK: Responses

    func html(_ status: HTTPResponse.Status, _ body: String, cookies: [String] = []) -> Response {
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8",
            .cacheControl: "no-store",
            .contentSecurityPolicy: "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
        ]
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        for c in cookies { headers.append(HTTPField(name: .setCookie, value: c)) }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        for c in cookies { headers.append(HTTPField(name: .setCookie, value: c)) }
        return Response(status: .seeOther, headers: headers)
    }

    func cookieValue(_ request: Request, _ name: String) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
                if kv.count == 2, kv[0] == name { return kv[1] }
            }
        }
        return nil
    }

    func cookie(_ name: String, _ value: String, maxAge: Int? = nil) -> String {
        var c = "\(name)=\(value); Path=/; HttpOnly; SameSite=Strict"
        if options.tlsCertificate != nil { c += "; Secure" }
        if let maxAge { c += "; Max-Age=\(maxAge)" }
        return c
    }

    /// A field of a GET form's query, as the browser sent it: `+` is a space, `%2B` a plus. (The
    /// URI's own query parameters keep `+` as it is, so "whole milk" would be searched as
    /// "whole+milk".) Empty when the field is absent.
    func formField(_ request: Request, _ name: String) -> String {
        for pair in (request.uri.query ?? "").split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            guard kv.first.map({ String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding == name }) == true else { continue }
            let raw = kv.count > 1 ? String(kv[1]) : ""
            return raw.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
        }
        return ""
    }

    func render(_ status: HTTPResponse.Status, _ template: String, _ page: Any, cookies: [String] = []) -> Response {
        html(status, BackOfficeTemplates.render(template, page), cookies: cookies)
    }

    /// A page that is only a notice (refused, not found, nothing to show), with a way back.
    func message(_ status: HTTPResponse.Status, _ title: String, _ session: BackOfficeSession?, active: String = "",
                 notice: (String, Bool), back: String? = nil) -> Response {
        render(status, "message", MessagePage(frame: Frame(title, session: session, active: active, notice: notice), back: back))
    }

    /// A page for the signed-in (`SessionAuthenticator` put them on the context) in one of
    /// `roles`: otherwise back to sign-in, or a page saying the role may not.
    func page(_ context: HeadOfficeContext, roles: Set<BackOfficeRole> = BackOfficeRole.tillRoles,
              _ body: (BackOfficeSession) async throws -> Response) async throws -> Response {
        guard let session = context.identity else { return redirect("/login") }
        guard roles.contains(session.user.role) else {
            return message(.forbidden, "Not allowed", session, notice: ("A \(session.user.role.label.lowercased()) cannot open this page.", true))
        }
        return try await body(session)
    }

    /// A form post, behind `CSRFMiddleware` (signed in, its token checked, its form read): the
    /// right role, or refused.
    func post(_ context: HeadOfficeContext, roles: Set<BackOfficeRole> = BackOfficeRole.tillRoles,
              _ body: (BackOfficeSession, PostedForm) async throws -> Response) async throws -> Response {
        guard let session = context.identity, let form = context.form else { return redirect("/login") }
        guard roles.contains(session.user.role) else {
            return message(.forbidden, "Not allowed", session, notice: ("A \(session.user.role.label.lowercased()) cannot do this.", true))
        }
        return try await body(session, form)
    }

    /// Where this user may publish, for the scope picker.
    func scopes(for user: BackOfficeUser) async throws -> [ScopeOption] {
        try await work.run { [store] in
            let tills = try store.tills().filter { $0.revokedAt == nil }
            let stores = Array(Set(tills.map(\.till.storeID))).sorted()
            return ScopeOption.choices(for: user, stores: stores, groups: try store.groupNames(), tills: tills.map(\.till.name))
        }
    }

    /// Reads the scope and time of a publish form, checking what the user may do.
    func publication(_ f: PublishFields, user: BackOfficeUser) throws -> (PublicationScope, Int64?) {
        guard let scope = PublicationScope.parse(f.scope ?? "") else { throw PublicationError("Choose where to publish") }
        guard user.mayPublish(to: scope) else {
            throw ForbiddenScope(message: "A store manager publishes only to their own store (\(user.storeID ?? "none")); \(scope) is not theirs")
        }
        let at = (f.at ?? "").trimmingCharacters(in: .whitespaces)
        guard !at.isEmpty else { return (scope, nil) }
        guard let ms = ProtocolTime.parse(at.count == 16 ? at + ":00Z" : at) else { throw PublicationError("'\(at)' is not a date and time") }
        return (scope, ms)
    }

    struct ForbiddenScope: Error { var message: String }

    /// Runs a publication from a form: on to the rollout page, or the reason it was refused
    /// (403 for a scope the user may not publish to, 422 for a publication head office refuses).
    func publishing(_ session: BackOfficeSession, title: String, active: String, _ body: () async throws -> Int64) async throws -> Response {
        do {
            return redirect("/rollout?published=\(try await body())")
        } catch let e as ForbiddenScope {
            return message(.forbidden, "Not allowed", session, notice: (e.message, true))
        } catch let e as PublicationError {
            return message(.unprocessableContent, title, session, active: active, notice: (e.description, true), back: active)
        }
    }

    // MARK: Routes

    struct LoginForm: Decodable {
        var login_csrf: String?
        var username: String?
        var password: String?
    }

    /// Sign-in on `router`; every other page on a group behind the session authenticator and the
    /// CSRF check.
    func addBackOffice(_ router: Router<HeadOfficeContext>) {
        router.get("/login") { _, _ -> Response in
            let nonce = HeadOfficeStore.randomToken()
            return render(.ok, "login", Self.loginPage(nonce: nonce, error: nil), cookies: [cookie(Self.loginCookie, nonce, maxAge: 3600)])
        }
        router.post("/login") { request, _ -> Response in
            let f = try await postedForm(request).decode(LoginForm.self)
            let nonce = HeadOfficeStore.randomToken()
            guard let sent = f.login_csrf, let expected = cookieValue(request, Self.loginCookie), CSRFMiddleware.same(sent, expected) else {
                return render(.forbidden, "login", Self.loginPage(nonce: nonce, error: "The sign-in form had expired: sign in again."),
                              cookies: [cookie(Self.loginCookie, nonce, maxAge: 3600)])
            }
            let user = f.username ?? "", password = f.password ?? ""
            do {
                let (token, _) = try await signingIn.run { [store] in try store.signIn(user, password: password) }
                return redirect("/", cookies: [cookie(Self.sessionCookie, token), cookie(Self.loginCookie, "", maxAge: 0)])
            } catch let e as SignInFailure {
                return render(.unauthorized, "login", Self.loginPage(nonce: nonce, error: e.description), cookies: [cookie(Self.loginCookie, nonce, maxAge: 3600)])
            }
        }
        let pages = router.group().add(middleware: SessionAuthenticator(server: self)).add(middleware: CSRFMiddleware(server: self))
        pages.post("/logout") { request, context -> Response in
            try await post(context, roles: Set(BackOfficeRole.allCases)) { _, _ in
                if let token = cookieValue(request, Self.sessionCookie) { try await work.run { [store] in try store.signOut(token) } }
                return redirect("/login", cookies: [cookie(Self.sessionCookie, "", maxAge: 0)])
            }
        }
        pages.get("/") { _, context -> Response in
            // Customer service starts on the customers' page.
            if context.identity?.user.role == .service { return redirect("/customers") }
            return try await page(context) { session in
                let (all, everyTill) = try await work.run { [store] in (try store.publications(limit: 50), try store.rollout()) }
                let pubs = all.filter { session.user.sees($0.scope) }.prefix(10).map(PublicationRow.init)
                let rollout = everyTill.filter { session.user.sees(store: $0.storeID) }
                return render(.ok, "overview", OverviewPage(frame: Frame("Overview", session: session, active: "/"),
                                                            current: rollout.filter { $0.pending == 0 }.count, tills: rollout.count,
                                                            publications: pubs, anyPublications: !pubs.isEmpty))
            }
        }
        addProgrammePages(pages)
        addCatalogPages(pages)
        addSettingsAndRollout(pages)
        addCustomerPages(pages)
        addPartnerPages(pages)
        addReportPages(pages)
        addCashbackPages(pages)
        addSegmentPages(pages)
        addCampaignPages(pages)
        addEventPages(pages)
        addSuggestionPages(pages)
        addFraudPages(pages)
    }

    static func loginPage(nonce: String, error: String?) -> LoginPage {
        LoginPage(frame: Frame("Sign in", session: nil, notice: error.map { ($0, true) }), nonce: nonce)
    }
}

/// A form whose body was too large (over 8 MB) or did not arrive in time: a page that says so.
struct FormTooLarge: HTTPResponseError {
    var slow = false
    var status: HTTPResponse.Status { slow ? .requestTimeout : .contentTooLarge }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let message = slow
            ? "The form did not arrive in time: nothing was changed. Check the connection and send it again."
            : "The form or file is larger than 8 MB: nothing was changed. Split the file and send the parts one after another."
        let page = BackOfficeTemplates.render("message", MessagePage(frame: Frame("Not sent", session: nil, notice: (message, true)), back: "/"))
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
    }
}
