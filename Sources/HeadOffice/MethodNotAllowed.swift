import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Answers 405 Method Not Allowed, with `Allow`, for a path head office serves by other methods
/// (the router alone would say 404, as if the path did not exist).
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Each path (a `*` stands for one segment) and the methods it is served by.
    let routes: [(segments: [Substring], methods: [HTTPRequest.Method])]

    init(_ routes: [(String, [HTTPRequest.Method])]) {
        self.routes = routes.map { ($0.0.split(separator: "/"), $0.1) }
    }

    func allowed(_ path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/")
        for r in routes where r.segments.count == segments.count && zip(r.segments, segments).allSatisfy({ $0 == "*" || $0 == $1 }) {
            return r.methods
        }
        return nil
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            guard response.status == .notFound, let methods = allowed(request.uri.path), !methods.contains(request.method),
                  !(request.method == .head && methods.contains(.get)) else { return response }
            return Self.refusal(methods, request.method)
        } catch let e as HTTPError where e.status == .notFound {
            guard let methods = allowed(request.uri.path), !methods.contains(request.method) else { throw e }
            return Self.refusal(methods, request.method)
        }
    }

    static func refusal(_ methods: [HTTPRequest.Method], _ used: HTTPRequest.Method) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[.allow] = methods.map(\.rawValue).joined(separator: ", ")
        let body = #"{"error":"This address takes \#(methods.map(\.rawValue).joined(separator: " or ")), not \#(used.rawValue)"}"#
        return Response(status: .methodNotAllowed, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

/// Every error the router or a handler throws becomes an answer with a body that says what was
/// wrong (`{"error": "…"}`), never an empty one: a malformed address, an unreadable query.
struct ErrorBodyMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as any HTTPResponseError {
            let status = e.status
            // Errors that already carry a page or a body of their own keep it.
            if let generated = try? e.response(from: request, context: context), generated.body.contentLength != 0 { return generated }
            let message: String
            switch status.code {
            case 400: message = "The request could not be read (its address, query or body is malformed): check it and send it again"
            case 404: message = "There is nothing at \(String(request.uri.path.prefix(200)))"
            case 413: message = "The request is larger than head office accepts"
            default: message = status.reasonPhrase
            }
            let body = "{\"error\":\(Self.jsonString(message))}"
            return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
