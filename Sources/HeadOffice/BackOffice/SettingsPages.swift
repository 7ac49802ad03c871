import ESCPOS
import Foundation
import Hummingbird
import TillCore
import TillProtocol

struct SettingsPage: Sendable {
    var frame: Frame
    var profiles: [String]
    var fields: [FieldView]
    var scopes: [ScopeOption]
}

struct RolloutPage: Sendable {
    struct Row: Sendable { var till: String, version: Int64, latest: Int64, pending: Int, current: Bool, lastAsked: String }
    var frame: Frame
    var rows: [Row]
    var scopes: [ScopeOption]
    var publications: [PublicationRow], anyPublications: Bool
}

extension HeadOfficeServer {
    /// The terminal settings form; an empty field leaves each till as it is.
    struct SettingsForm: Decodable {
        var prompt: String?
        var printerProfile: String?
        var discountLimit: String?
        var autoLockMinutes: String?
        var receiptHeader: String?
        var receiptFooter: String?
        var keymap: String?
    }

    struct RollbackForm: Decodable { var kind: String? }

    /// The settings a form asks for, or what is wrong with it (each problem quoting the value).
    static func terminalSettings(_ f: SettingsForm) -> (TerminalSettings, problems: [String]) {
        var t = TerminalSettings()
        var problems: [String] = []
        func lines(_ v: String?) -> [String]? {
            let v = (v ?? "").replacingOccurrences(of: "\r", with: "")
            return v.isEmpty ? nil : v.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        switch f.prompt ?? "" { case "yes": t.loyaltyPromptAtTotal = true; case "no": t.loyaltyPromptAtTotal = false; default: break }
        if let p = f.printerProfile, !p.isEmpty {
            if PrinterProfile.builtIn.contains(where: { $0.name == p }) { t.printerProfile = p } else { problems.append("Printer profile '\(p)' is not one the tills know") }
        }
        if let d = f.discountLimit?.trimmingCharacters(in: .whitespaces), !d.isEmpty {
            let v = d.hasSuffix("%") ? d : d + "%"
            if let bp = TaxRate.parsePercent(v), (0...10_000).contains(bp) { t.discountLimit = v } else { problems.append("Discount limit '\(d)' must be a percentage from 0% to 100%") }
        }
        if let a = f.autoLockMinutes?.trimmingCharacters(in: .whitespaces), !a.isEmpty {
            if let m = Int(a), (0...240).contains(m) { t.autoLockMinutes = m } else { problems.append("Lock after '\(a)' must be 0 (never) to 240 minutes") }
        }
        t.receiptHeader = lines(f.receiptHeader)
        t.receiptFooter = lines(f.receiptFooter)
        if let k = lines(f.keymap) {
            var map: [String: [String]] = [:]
            for (i, line) in k.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty else { problems.append("Keymap line \(i + 1): write action = keys"); continue }
                map[parts[0]] = parts[1].split(separator: " ").map(String.init)
            }
            t.keymap = map
        }
        return (t, problems)
    }

    func addSettingsAndRollout(_ router: RouterGroup<HeadOfficeContext>) {
        router.get("/settings") { _, context -> Response in
            try await page(context) { session in
                render(.ok, "settings", SettingsPage(
                    frame: Frame("Terminal settings", session: session, active: "/settings"), profiles: PrinterProfile.builtIn.map(\.name),
                    fields: [FieldView("discountLimit", "Discount above which a supervisor is needed", "", hint: "e.g. 10%"),
                             FieldView("autoLockMinutes", "Lock the till after (minutes idle)", "")],
                    scopes: try await scopes(for: session.user)))
            }
        }
        router.post("/settings") { _, context -> Response in
            try await post(context) { session, f in
                let (settings, problems) = Self.terminalSettings(try f.decode(SettingsForm.self))
                guard problems.isEmpty else {
                    return message(.unprocessableContent, "Terminal settings", session, active: "/settings",
                                   notice: ("Nothing was published: " + problems.joined(separator: "; "), true), back: "/settings")
                }
                let fields = try f.decode(PublishFields.self)
                return try await publishing(session, title: "Terminal settings", active: "/settings") {
                    let (scope, at) = try publication(fields, user: session.user)
                    return try await work.run { [store] in
                        try store.publish(.settings, scope: scope, by: session.user.username, note: fields.note ?? "", effectiveAt: at, settings: settings)
                    }.version
                }
            }
        }
        router.get("/rollout") { request, context -> Response in
            try await page(context) { session in
                let user = session.user
                let (rows, all) = try await work.run { [store] in (try store.rollout(), try store.publications(limit: 100)) }
                let utc = TimeZone(identifier: "UTC")!
                let pubs = all.filter { user.sees($0.scope) }.prefix(20).map(PublicationRow.init)
                let published = request.uri.queryParameters["published"].map { ("Published as version \($0): the tills apply it between sales.", false) }
                return render(.ok, "rollout", RolloutPage(
                    frame: Frame("Rollout", session: session, active: "/rollout", notice: published),
                    rows: rows.filter { user.sees(store: $0.storeID) }.map { r in
                        .init(till: r.till, version: r.version, latest: r.latest, pending: r.pending, current: r.pending == 0,
                              lastAsked: r.lastPoll.map { ProtocolTime.format($0, timeZone: utc) } ?? "never")
                    },
                    scopes: try await scopes(for: user), publications: pubs, anyPublications: !pubs.isEmpty))
            }
        }
        router.post("/rollback") { _, context -> Response in
            try await post(context) { session, f in
                guard let kind = PublicationKind(rawValue: try f.decode(RollbackForm.self).kind ?? "") else { return redirect("/rollout") }
                let fields = try f.decode(PublishFields.self)
                return try await publishing(session, title: "Rollout", active: "/rollout") {
                    let (scope, _) = try publication(fields, user: session.user)
                    if kind == .programme && !Self.editors.contains(session.user.role) { throw ForbiddenScope(message: "Only marketing and administrators roll back the programme") }
                    return try await work.run { [store] in try store.rollback(kind, scope: scope, by: session.user.username) }.version
                }
            }
        }
    }
}
