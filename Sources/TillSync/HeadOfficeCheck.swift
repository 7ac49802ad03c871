import Foundation
import TillProtocol

/// What head office answered when asked directly: whether it is there and healthy, and whether
/// it accepts this till's credential (`till sync status`).
public struct HeadOfficeCheck: Sendable, Equatable {
    public enum Health: Sendable, Equatable {
        /// /health said ok; the database it runs on.
        case healthy(database: String)
        /// It answered but cannot do its work (e.g. it cannot write to its database).
        case unhealthy(String)
        /// No answer: the network, the name, the certificate or a timeout.
        case unreachable(String)
    }
    public enum Credential: Sendable, Equatable {
        case accepted
        /// Head office does not know or no longer accepts the till's token (revoked, re-registered).
        case refused(String)
        /// Not asked (head office did not answer, or the till is not enrolled) or no clear answer.
        case unknown(String)
    }
    public var health: Health
    public var credential: Credential

    /// Lines for a person: what head office said and, where something is wrong, what to do.
    public var lines: [String] {
        var out: [String] = []
        switch health {
        case .healthy(let database): out.append("Head office answers and is healthy (\(database)).")
        case .unhealthy(let why): out.append("Head office answers but is not healthy: \(why). Sales wait here until it is; tell head office's IT.")
        case .unreachable(let why): out.append("Head office cannot be reached: \(why). Sales wait in the outbox; nothing is lost.")
        }
        switch credential {
        case .accepted: out.append("Head office accepts this till's credential.")
        case .refused(let why):
            out.append("Head office refuses this till's credential (\(why)): ask for a new one (headoffice till register), then till sync enrol --token-file FILE.")
        case .unknown(let why): out.append("This till's credential was not checked: \(why).")
        }
        return out
    }

    /// Asks head office at `url`: /health, then (with `token`) a request only an enrolled till may
    /// make, which changes nothing (the updates after `after`, without waiting).
    public static func ask(url: String, ca: String?, token: String?, after: (version: Int64, effectiveAt: Int64) = (0, 0),
                           timeoutMilliseconds: Int = 5_000) -> HeadOfficeCheck {
        let base = url.hasSuffix("/") ? String(url.dropLast()) : url
        let http = HTTPConnection(ca: ca)
        let health: Health
        do {
            let a = try http.send("GET", base + "/health", timeoutMilliseconds: timeoutMilliseconds)
            struct Body: Decodable { var status: String?; var database: String?; var error: String? }
            let body = try? JSONDecoder().decode(Body.self, from: Data(a.body))
            if a.status == 200, body?.status == "ok" {
                health = .healthy(database: body?.database ?? "database not named")
            } else {
                health = .unhealthy(body?.error ?? "HTTP \(a.status) from /health")
            }
        } catch {
            return HeadOfficeCheck(health: .unreachable(error.message), credential: .unknown("head office did not answer"))
        }
        guard let token else {
            return HeadOfficeCheck(health: health, credential: .unknown("this till is not enrolled (till sync enrol --token-file FILE)"))
        }
        do {
            let a = try http.send("GET", base + "/api/v1/updates?after=\(after.version)&from=\(after.effectiveAt)&wait=0",
                                  headers: ["Authorization: Bearer \(token)"], timeoutMilliseconds: timeoutMilliseconds)
            switch a.status {
            case 200: return HeadOfficeCheck(health: health, credential: .accepted)
            case 401, 403: return HeadOfficeCheck(health: health, credential: .refused(Forwarder.message(a) ?? "HTTP \(a.status)"))
            default: return HeadOfficeCheck(health: health, credential: .unknown(Forwarder.message(a) ?? "head office answered HTTP \(a.status)"))
            }
        } catch {
            return HeadOfficeCheck(health: health, credential: .unknown(error.message))
        }
    }
}
