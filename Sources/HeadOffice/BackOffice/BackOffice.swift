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

    func signedIn(_ request: Request) async throws -> (BackOfficeUser, String)? {
        guard let token = cookieValue(request, Self.sessionCookie), !token.isEmpty else { return nil }
        return try await work.run { [store] in try store.session(token) }
    }

    func form(_ request: Request) async throws -> [String: String] {
        let body: ByteBuffer
        do { body = try await self.body(request, upTo: 8 << 20) } catch BodyProblem.tooLarge {
            throw FormTooLarge()
        } catch {
            throw FormTooLarge(slow: true)
        }
        let bytes = Array(body.readableBytesView)
        let type = request.headers[.contentType] ?? ""
        return type.hasPrefix("multipart/form-data") ? FormBody.multipart(bytes, contentType: type) : FormBody.urlencoded(bytes)
    }

    /// A page for the signed-in: otherwise back to sign-in.
    func page(_ request: Request, roles: Set<BackOfficeRole> = Set(BackOfficeRole.allCases),
              _ body: @escaping (BackOfficeUser, String) async throws -> Response) async throws -> Response {
        guard let (user, csrf) = try await signedIn(request) else { return redirect("/login") }
        guard roles.contains(user.role) else {
            return html(.forbidden, HTML.page("Not allowed", user: user, csrf: csrf, notice: ("A \(user.role.label.lowercased()) cannot open this page.", true), ""))
        }
        return try await body(user, csrf)
    }

    /// A form post: signed in, the right role, and the session's CSRF token, or refused.
    func post(_ request: Request, roles: Set<BackOfficeRole> = Set(BackOfficeRole.allCases),
              _ body: @escaping (BackOfficeUser, String, [String: String]) async throws -> Response) async throws -> Response {
        guard let (user, csrf) = try await signedIn(request) else { return redirect("/login") }
        let f = try await form(request)
        guard let given = f["csrf"], given.utf8.count == csrf.utf8.count, zip(given.utf8, csrf.utf8).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else {
            return html(.forbidden, HTML.page("Form refused", user: user, csrf: csrf,
                                              notice: ("This form did not come from your back office session (its security token is missing or old): nothing was changed. Open the page again and retry.", true), ""))
        }
        guard roles.contains(user.role) else {
            return html(.forbidden, HTML.page("Not allowed", user: user, csrf: csrf, notice: ("A \(user.role.label.lowercased()) cannot do this.", true), ""))
        }
        return try await body(user, csrf, f)
    }

    func scopeChoices() async throws -> (stores: [String], groups: [String], tills: [String]) {
        try await work.run { [store] in
            let tills = try store.tills().filter { $0.revokedAt == nil }
            let stores = Array(Set(tills.map(\.till.storeID))).sorted()
            let groups = try store.groupNames()
            return (stores, groups, tills.map(\.till.name))
        }
    }

    /// Reads the scope and time of a publish form, checking what the user may do.
    func publication(_ f: [String: String], user: BackOfficeUser) throws -> (PublicationScope, Int64?) {
        guard let scope = PublicationScope.parse(f["scope"] ?? "") else { throw PublicationError("Choose where to publish") }
        guard user.mayPublish(to: scope) else {
            throw ForbiddenScope(message: "A store manager publishes only to their own store (\(user.storeID ?? "none")); \(scope) is not theirs")
        }
        let at = (f["at"] ?? "").trimmingCharacters(in: .whitespaces)
        guard !at.isEmpty else { return (scope, nil) }
        guard let ms = ProtocolTime.parse(at.count == 16 ? at + ":00Z" : at) else { throw PublicationError("'\(at)' is not a date and time") }
        return (scope, ms)
    }

    struct ForbiddenScope: Error { var message: String }

    /// Runs a publication from a form: on to the rollout page, or the reason it was refused
    /// (403 for a scope the user may not publish to, 422 for a publication head office refuses).
    func publishing(_ user: BackOfficeUser, _ csrf: String, title: String, active: String,
                    _ body: () async throws -> Int64) async throws -> Response {
        do {
            return redirect("/rollout?published=\(try await body())")
        } catch let e as ForbiddenScope {
            return html(.forbidden, HTML.page("Not allowed", user: user, csrf: csrf, notice: (e.message, true), ""))
        } catch let e as PublicationError {
            return html(.unprocessableContent, HTML.page(title, user: user, csrf: csrf, active: active, notice: (e.description, true),
                                                  "<a class=\"button\" href=\"\(active)\">Back</a>"))
        }
    }

    // MARK: Routes

    func addBackOffice(_ router: Router<HeadOfficeContext>) {
        router.get("/login") { request, _ -> Response in
            let nonce = HeadOfficeStore.randomToken()
            return html(.ok, Self.loginPage(nonce: nonce, error: nil), cookies: [cookie(Self.loginCookie, nonce, maxAge: 3600)])
        }
        router.post("/login") { request, _ -> Response in
            let f = try await form(request)
            let nonce = HeadOfficeStore.randomToken()
            guard let sent = f["login_csrf"], let expected = cookieValue(request, Self.loginCookie), sent == expected else {
                return html(.forbidden, Self.loginPage(nonce: nonce, error: "The sign-in form had expired: sign in again."),
                            cookies: [cookie(Self.loginCookie, nonce, maxAge: 3600)])
            }
            let user = f["username"] ?? "", password = f["password"] ?? ""
            do {
                let (token, _) = try await signingIn.run { [store] in try store.signIn(user, password: password) }
                return redirect("/", cookies: [cookie(Self.sessionCookie, token), cookie(Self.loginCookie, "", maxAge: 0)])
            } catch let e as SignInFailure {
                return html(.unauthorized, Self.loginPage(nonce: nonce, error: e.description), cookies: [cookie(Self.loginCookie, nonce, maxAge: 3600)])
            }
        }
        router.post("/logout") { request, _ -> Response in
            try await post(request) { _, _, _ in
                if let token = cookieValue(request, Self.sessionCookie) { try await work.run { [store] in try store.signOut(token) } }
                return redirect("/login", cookies: [cookie(Self.sessionCookie, "", maxAge: 0)])
            }
        }
        router.get("/") { request, _ -> Response in
            try await page(request) { user, csrf in
                let (all, everyTill) = try await work.run { [store] in (try store.publications(limit: 50), try store.rollout()) }
                let pubs = Array(all.filter { user.sees($0.scope) }.prefix(10))
                let rollout = everyTill.filter { user.sees(store: $0.storeID) }
                let current = rollout.filter { $0.pending == 0 }.count
                var body = "<div class=\"card\"><strong>\(current) of \(rollout.count)</strong> tills run every publication meant for them. <a href=\"/rollout\">Rollout</a></div>"
                body += "<h2>Latest publications</h2>" + Self.publicationsTable(pubs)
                return html(.ok, HTML.page("Overview", user: user, csrf: csrf, active: "/", body))
            }
        }
        addProgrammePages(router)
        addCatalogPages(router)
        addSettingsAndRollout(router)
    }

    static func loginPage(nonce: String, error: String?) -> String {
        HTML.page("Sign in", user: nil, csrf: nil, notice: error.map { ($0, true) }, """
            <form method="post" action="/login" class="card" style="max-width:460px">
            <input type="hidden" name="login_csrf" value="\(HTML.esc(nonce))">
            <label for="username">User name</label><input type="text" id="username" name="username" autocomplete="username">
            <label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password">
            <button type="submit" id="signin">Sign in</button>
            <p class="muted">Accounts are made by an administrator: <code>headoffice user add NAME --role admin|marketing|store</code>.</p>
            </form>
            """)
    }

    static func publicationsTable(_ pubs: [Publication]) -> String {
        guard !pubs.isEmpty else { return "<p class=\"muted\">Nothing published yet.</p>" }
        var t = "<table><tr><th>Version</th><th>What</th><th>To</th><th>By</th><th>In force from (UTC)</th><th>Note</th></tr>"
        for p in pubs {
            t += "<tr><td>v\(p.version)</td><td>\(HTML.esc(p.kind.rawValue))</td><td>\(HTML.esc(p.scope.description))</td><td>\(HTML.esc(p.createdBy))</td>"
                + "<td>\(HTML.esc(ProtocolTime.format(p.effectiveAt, timeZone: TimeZone(identifier: "UTC")!)))</td><td>\(HTML.esc(p.note))</td></tr>"
        }
        return t + "</table>"
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
        let page = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Not sent</title></head><body><p>\(HTML.esc(message))</p><p><a href=\"/\">Back</a></p></body></html>"
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
    }
}
