import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import NIOCore

/// A signed-in back office user: who, and the session's CSRF token (every form carries it).
public struct BackOfficeSession: Sendable {
    public var user: BackOfficeUser
    public var csrf: String
}

/// The back office's session check, as hummingbird-auth's authenticator: a session cookie that
/// names a live session puts its user on the context (`identity`); anything else leaves the
/// context signed out, and each page then sends the browser to sign in.
struct SessionAuthenticator: AuthenticatorMiddleware {
    typealias Context = HeadOfficeContext
    let server: HeadOfficeServer

    func authenticate(request: Request, context: HeadOfficeContext) async throws -> BackOfficeSession? {
        guard let token = server.cookieValue(request, HeadOfficeServer.sessionCookie), !token.isEmpty, token.utf8.count <= 128 else { return nil }
        return try await server.work.run { [store = server.store] in
            try store.session(token).map { BackOfficeSession(user: $0.0, csrf: $0.csrf) }
        }
    }
}

/// Every back office form post passes this one check before its handler runs: signed in (else to
/// the sign-in page), a body of at most 8 MB that arrives in time, and the session's CSRF token in
/// it, compared in constant time. The form read here travels on the context (`form`), so the
/// handler does not read the body again. Sign-in itself has its own token and is not behind it.
struct CSRFMiddleware: RouterMiddleware {
    typealias Context = HeadOfficeContext
    let server: HeadOfficeServer
    static let maxFormBytes = 8 << 20

    func handle(_ request: Request, context: HeadOfficeContext, next: (Request, HeadOfficeContext) async throws -> Response) async throws -> Response {
        guard request.method == .post else { return try await next(request, context) }
        guard let session = context.identity else { return server.redirect("/login") }
        let form = try await server.postedForm(request)
        guard let given = form.fields["csrf"], Self.same(given, session.csrf) else {
            let frame = Frame("Form refused", session: session, notice: (
                "This form did not come from your back office session (its security token is missing or old): nothing was changed. Open the page again and retry.", true))
            return server.html(.forbidden, BackOfficeTemplates.render("message", MessagePage(frame: frame)))
        }
        var context = context
        context.form = form
        return try await next(request, context)
    }

    static func same(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0
    }
}

/// A posted form as `CSRFMiddleware` read it: its fields by name (URL-encoded or multipart), and
/// for a URL-encoded body the text, which `decode` turns into a form type with Hummingbird's
/// URL-encoded form decoder.
struct PostedForm: Sendable {
    var fields: [String: String]
    var urlencoded: String?

    subscript(_ name: String) -> String? { fields[name] }

    /// The form as `T`: a field it does not name is ignored; a field sent twice, or one that is
    /// not percent-encoded, is refused (`FormNotRead`), and nothing is changed.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try URLEncodedFormDecoder().decode(T.self, from: urlencoded ?? "")
        } catch let e as URLEncodedFormError {
            switch e.code {
            case .duplicateKeys: throw FormNotRead(reason: "the field '\(e.value)' was sent twice")
            case .failedToPercentDecode: throw FormNotRead(reason: "'\(e.value)' is not percent-encoded text")
            default: throw FormNotRead(reason: e.description)
            }
        } catch {
            throw FormNotRead(reason: "\(error)")
        }
    }
}

/// A form that came but cannot be read as its page's form: a page that says so (400).
struct FormNotRead: HTTPResponseError {
    var reason: String
    var status: HTTPResponse.Status { .badRequest }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let clipped = reason.count > 200 ? String(reason.prefix(200)) + "…" : reason
        let frame = Frame("Form not read", session: nil, notice: ("The form could not be read (\(clipped)): nothing was changed. Open the page again and retry.", true))
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: BackOfficeTemplates.render("message", MessagePage(frame: frame, back: "/")))))
    }
}

/// The part of a publishing form that says where and when: the scope picker's fields.
struct PublishFields: Decodable, Sendable {
    var scope: String?
    var at: String?
    var note: String?

    init(scope: String?, at: String?, note: String?) {
        self.scope = scope
        self.at = at
        self.note = note
    }

    init(_ form: PostedForm) { self.init(scope: form["scope"], at: form["at"], note: form["note"]) }
}

extension HeadOfficeServer {
    /// Reads a form post: at most 8 MB, within the body timeout, else a page that says why.
    func postedForm(_ request: Request) async throws -> PostedForm {
        let buffer: ByteBuffer
        do { buffer = try await body(request, upTo: CSRFMiddleware.maxFormBytes) } catch BodyProblem.tooLarge {
            throw FormTooLarge()
        } catch {
            throw FormTooLarge(slow: true)
        }
        let bytes = Array(buffer.readableBytesView)
        let type = request.headers[.contentType] ?? ""
        if type.hasPrefix("multipart/form-data") { return PostedForm(fields: FormBody.multipart(bytes, contentType: type)) }
        return PostedForm(fields: FormBody.urlencoded(bytes), urlencoded: String(decoding: bytes, as: UTF8.self))
    }
}
