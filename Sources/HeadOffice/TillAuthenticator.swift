import HTTPTypes
public import Hummingbird
public import HummingbirdAuth

/// What head office knows of a request as it passes through: for the tills' API, the till it is
/// from (set by `TillAuthenticator` before any of the API's handlers runs); for the back office,
/// the signed-in user (`identity`, set by `SessionAuthenticator`) and the form a post brought
/// (set by `CSRFMiddleware` once its token is checked).
public struct HeadOfficeContext: AuthRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The till whose bearer token came with the request; nil outside the API.
    public var till: TillCredential?
    /// The back office user whose session cookie came with the request.
    public var identity: BackOfficeSession?
    /// A back office post's form, read and its CSRF token checked.
    var form: PostedForm?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// The request's till: always there behind `TillAuthenticator` (a route outside it that asks
    /// is refused 401, never served as nobody).
    func requireTill() throws -> TillCredential {
        guard let till else { throw HTTPError(.unauthorized, message: "This address needs a till's bearer token") }
        return till
    }
}

/// Every route of the tills' API sits behind this one check: the bearer token names a registered
/// till that is not revoked, or the request is refused 401 saying why, before its handler runs
/// (and before its body is read).
struct TillAuthenticator: RouterMiddleware {
    let server: HeadOfficeServer

    func handle(_ request: Request, context: HeadOfficeContext, next: (Request, HeadOfficeContext) async throws -> Response) async throws -> Response {
        var context = context
        switch try await server.authenticate(request) {
        case .success(let till): context.till = till
        case .failure(let failure): return server.refuse(401, failure.description)
        }
        return try await next(request, context)
    }
}
