import ESCPOS
import Foundation
import Hummingbird
import TillCore
import TillProtocol

extension HeadOfficeServer {
    func addSettingsAndRollout(_ router: Router<HeadOfficeContext>) {
        router.get("/settings") { request, _ -> Response in
            try await page(request) { user, csrf in
                let choices = try await scopeChoices()
                let profiles = PrinterProfile.builtIn.map { "<option value=\"\(HTML.esc($0.name))\">\(HTML.esc($0.name))</option>" }.joined()
                let body = """
                    <form method="post" action="/settings" class="card">\(HTML.csrfField(csrf))
                    <p class="muted">Only what you fill in changes; empty fields leave each till as it is.</p>
                    <div class="grid">
                    <div><label for="prompt">Ask for the loyalty card at total</label><select id="prompt" name="prompt"><option value="">(unchanged)</option><option value="yes">Yes</option><option value="no">No</option></select></div>
                    <div><label for="printerProfile">Printer profile (at the till's next start)</label><select id="printerProfile" name="printerProfile"><option value="">(unchanged)</option>\(profiles)</select></div>
                    \(HTML.field("discountLimit", "Discount above which a supervisor is needed", "", errors: [:], hint: "e.g. 10%"))
                    \(HTML.field("autoLockMinutes", "Lock the till after (minutes idle)", "", errors: [:]))
                    </div>
                    <label for="receiptHeader">Receipt header lines</label><textarea id="receiptHeader" name="receiptHeader"></textarea>
                    <label for="receiptFooter">Receipt footer lines</label><textarea id="receiptFooter" name="receiptFooter"></textarea>
                    <label for="keymap">Keymap (one a line: action = key key; at the till's next start)</label><textarea id="keymap" name="keymap" placeholder="total = F5 +"></textarea>
                    \(HTML.scopePicker(user: user, stores: choices.stores, groups: choices.groups, tills: choices.tills))
                    <button type="submit" id="publish-settings">Publish the settings</button></form>
                    """
                return html(.ok, HTML.page("Terminal settings", user: user, csrf: csrf, active: "/settings", body))
            }
        }
        router.post("/settings") { request, _ -> Response in
            try await post(request) { user, csrf, f in
                var t = TerminalSettings()
                var problems: [String] = []
                func lines(_ k: String) -> [String]? {
                    let v = (f[k] ?? "").replacingOccurrences(of: "\r", with: "")
                    return v.isEmpty ? nil : v.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                }
                switch f["prompt"] ?? "" { case "yes": t.loyaltyPromptAtTotal = true; case "no": t.loyaltyPromptAtTotal = false; default: break }
                if let p = f["printerProfile"], !p.isEmpty {
                    if PrinterProfile.builtIn.contains(where: { $0.name == p }) { t.printerProfile = p } else { problems.append("Printer profile '\(p)' is not one the tills know") }
                }
                if let d = f["discountLimit"]?.trimmingCharacters(in: .whitespaces), !d.isEmpty {
                    let v = d.hasSuffix("%") ? d : d + "%"
                    if let bp = TaxRate.parsePercent(v), (0...10_000).contains(bp) { t.discountLimit = v } else { problems.append("Discount limit '\(d)' must be a percentage from 0% to 100%") }
                }
                if let a = f["autoLockMinutes"]?.trimmingCharacters(in: .whitespaces), !a.isEmpty {
                    if let m = Int(a), (0...240).contains(m) { t.autoLockMinutes = m } else { problems.append("Lock after '\(a)' must be 0 (never) to 240 minutes") }
                }
                t.receiptHeader = lines("receiptHeader")
                t.receiptFooter = lines("receiptFooter")
                if let k = lines("keymap") {
                    var map: [String: [String]] = [:]
                    for (i, line) in k.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                        let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                        guard parts.count == 2, !parts[0].isEmpty else { problems.append("Keymap line \(i + 1): write action = keys"); continue }
                        map[parts[0]] = parts[1].split(separator: " ").map(String.init)
                    }
                    t.keymap = map
                }
                guard problems.isEmpty else {
                    return html(.unprocessableContent, HTML.page("Terminal settings", user: user, csrf: csrf, active: "/settings",
                                                          notice: ("Nothing was published: " + problems.joined(separator: "; "), true), "<a class=\"button\" href=\"/settings\">Back</a>"))
                }
                let settings = t
                return try await publishing(user, csrf, title: "Terminal settings", active: "/settings") {
                    let (scope, at) = try publication(f, user: user)
                    return try await work.run { [store] in
                        try store.publish(.settings, scope: scope, by: user.username, note: f["note"] ?? "", effectiveAt: at, settings: settings)
                    }.version
                }
            }
        }
        router.get("/rollout") { request, _ -> Response in
            try await page(request) { user, csrf in
                let (rows, all) = try await work.run { [store] in (try store.rollout(), try store.publications(limit: 100)) }
                let visible = rows.filter { user.sees(store: $0.storeID) }
                let pubs = Array(all.filter { user.sees($0.scope) }.prefix(20))
                let utc = TimeZone(identifier: "UTC")!
                var body = "<table id=\"rollout\"><tr><th>Till</th><th>Runs</th><th>Latest for it</th><th>Pending</th><th>Last asked (UTC)</th></tr>"
                for r in visible {
                    body += "<tr class=\"\(r.pending > 0 ? "pending" : "current")\" data-till=\"\(HTML.esc(r.till))\"><td>\(HTML.esc(r.till))</td><td>v\(r.version)</td><td>v\(r.latest)</td>"
                        + "<td>\(r.pending)</td><td>\(HTML.esc(r.lastPoll.map { ProtocolTime.format($0, timeZone: utc) } ?? "never"))</td></tr>"
                }
                body += "</table><p class=\"muted\">A till applies publications between sales and reports the version it runs. Reload to see the latest.</p>"
                let choices = try await scopeChoices()
                body += """
                    <form method="post" action="/rollback" class="card"><h2>Roll back</h2>\(HTML.csrfField(csrf))
                    <p class="muted">Publishes again the version before the latest of that kind, for that scope (as a new version).</p>
                    <div class="grid"><div><label for="kind">What</label><select id="kind" name="kind"><option value="programme">Programme</option><option value="prices">Prices</option><option value="settings">Terminal settings</option></select></div></div>
                    \(HTML.scopePicker(user: user, stores: choices.stores, groups: choices.groups, tills: choices.tills))
                    <button type="submit" class="danger" id="rollback">Roll back</button></form>
                    """
                body += "<h2>Publications</h2>" + Self.publicationsTable(pubs)
                let published = request.uri.queryParameters["published"].map { ("Published as version \($0): the tills apply it between sales.", false) }
                return html(.ok, HTML.page("Rollout", user: user, csrf: csrf, active: "/rollout", notice: published, body))
            }
        }
        router.post("/rollback") { request, _ -> Response in
            try await post(request) { user, csrf, f in
                guard let kind = PublicationKind(rawValue: f["kind"] ?? "") else { return redirect("/rollout") }
                return try await publishing(user, csrf, title: "Rollout", active: "/rollout") {
                    let (scope, _) = try publication(f, user: user)
                    if kind == .programme && !Self.editors.contains(user.role) { throw ForbiddenScope(message: "Only marketing and administrators roll back the programme") }
                    return try await work.run { [store] in try store.rollback(kind, scope: scope, by: user.username) }.version
                }
            }
        }
    }
}
