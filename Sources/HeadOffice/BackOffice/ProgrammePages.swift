import Foundation
import Hummingbird
import TillCore
import TillProtocol

extension HeadOfficeServer {
    static let editors: Set<BackOfficeRole> = [.admin, .marketing]

    /// The programme being edited: the saved draft, else the one in force.
    func workingProgramme() async throws -> (LoyaltyProgramme, draft: Bool)? {
        try await work.run { [store] in
            if let json = try store.draft("programme"), let p = try? JSONDecoder().decode(LoyaltyProgramme.self, from: Data(json.utf8)) { return (p, true) }
            return try store.latestProgramme().map { ($0, false) }
        }
    }

    func programmeForm(_ p: LoyaltyProgramme, values: [String: String], errors: [String: String], csrf: String) -> String {
        let c = Currency(code: p.currency) ?? .eur
        func f(_ n: String, _ l: String, hint: String? = nil) -> String { HTML.field(n, l, values[n] ?? "", errors: errors, hint: hint) }
        var s = "<form method=\"post\" action=\"/programme\" class=\"card\">" + HTML.csrfField(csrf)
        s += "<h2>General</h2><div class=\"grid\">" + f("name", "Programme name") + f("version", "Version", hint: "A new name for each change, e.g. 2026-12") + "</div>"
        s += "<h2>Earning</h2><div class=\"grid\">" + f("earn.pointsPerUnit", "Points", hint: "points earned for each amount below")
            + f("earn.unitMinor", "For every (\(c.code))", hint: "e.g. 1.00") + f("welcomeBonus", "Welcome bonus (points)") + "</div>"
        let spend = p.tierQualification.basis == .spend
        s += "<h2>Tiers</h2><p class=\"muted\">Reached by \(spend ? "spend (\(c.code))" : "points") over \(p.tierQualification.periodDays) days; each tier must start above the one before. Leave a row empty to remove it.</p><div>"
        for i in 0..<(p.tiers.count + 1) {
            s += "<div class=\"grid\">" + f("tiers[\(i)].code", "Code") + f("tiers[\(i)].name", "Name") + f("tiers[\(i)].threshold", "From")
                + f("tiers[\(i)].earnMultiplierBP", "Earn rate", hint: "100% = normal, 125% = ×1.25") + f("tiers[\(i)].discountBP", "Discount") + "</div>"
        }
        s += "</div><h2>Redeeming points</h2><div class=\"grid\">" + f("redemption.minimumPoints", "Fewest points redeemed")
            + f("redemption.maxShareBP", "Most of a sale paid in points") + f("redemption.offlineCapPoints", "Most points a till redeems offline (per card)") + "</div>"
        s += "<p class=\"muted\">Conversion table: 100 points are worth the amount of the band with the most points not above those redeemed. It must not decrease.</p>"
        for i in 0..<(p.redemption.bands.count + 1) {
            s += "<div class=\"grid\">" + f("redemption.bands[\(i)].minPoints", "From points") + f("redemption.bands[\(i)].minorPer100Points", "100 points are worth (\(c.code))") + "</div>"
        }
        s += "<h2>Card ranges</h2>"
        for i in 0..<(p.cardRanges.count + 1) {
            s += "<div class=\"grid\">" + f("cardRanges[\(i)].name", "Name") + f("cardRanges[\(i)].prefix", "Starts with") + f("cardRanges[\(i)].length", "Digits") + "</div>"
        }
        if let general = errors.filter({ !$0.key.contains("[") || !values.keys.contains($0.key) }).filter({ values[$0.key] == nil }).first {
            s += "<p class=\"err\" data-field=\"\(HTML.esc(general.key))\">\(HTML.esc(general.key)): \(HTML.esc(general.value))</p>"
        }
        s += "<button type=\"submit\" id=\"save\">Save draft</button></form>"
        return s
    }

    func addProgrammePages(_ router: Router<HeadOfficeContext>) {
        router.get("/programme") { request, _ -> Response in
            try await page(request, roles: Self.editors) { user, csrf in
                guard let (p, draft) = try await workingProgramme() else {
                    return html(.ok, HTML.page("Programme", user: user, csrf: csrf, notice: ("No programme yet: import one with headoffice programme import FILE.json", true), ""))
                }
                let saved = request.uri.queryParameters["saved"] != nil
                let choices = try await scopeChoices()
                var body = draft ? "<p class=\"pill\">Draft: not published yet. <a href=\"/programme/diff\">What changed</a></p>" : "<p class=\"pill\">As published</p>"
                body += programmeForm(p, values: ProgrammeForm.values(p), errors: [:], csrf: csrf)
                body += """
                    <form method="post" action="/programme/preview" class="card"><h2>What would this basket earn?</h2>\(HTML.csrfField(csrf))
                    <p class="muted">One item a line: its SKU, then how many (e.g. <code>F0015 2</code>). The same engine as the tills.</p>
                    <textarea name="basket" id="basket"></textarea>
                    <div class="grid"><div><label for="tier">Member's tier</label><select name="tier" id="tier">\(p.tiers.map { "<option value=\"\(HTML.esc($0.code))\">\(HTML.esc($0.name))</option>" }.joined())</select></div></div>
                    <button type="submit" id="preview">Preview</button></form>
                    <form method="post" action="/programme/publish" class="card"><h2>Publish</h2>\(HTML.csrfField(csrf))
                    \(HTML.scopePicker(user: user, stores: choices.stores, groups: choices.groups, tills: choices.tills))
                    <button type="submit" id="publish">Publish \(draft ? "the draft" : "again")</button></form>
                    """
                return html(.ok, HTML.page("Loyalty programme", user: user, csrf: csrf, active: "/programme",
                                           notice: saved ? ("Draft saved. Preview it, look at what changed, then publish.", false) : nil, body))
            }
        }
        router.post("/programme") { request, _ -> Response in
            try await post(request, roles: Self.editors) { user, csrf, f in
                guard let (base, _) = try await workingProgramme() else { return redirect("/programme") }
                let (parsed, errors) = ProgrammeForm.parse(f, base: base)
                guard let p = parsed else {
                    let body = programmeForm(base, values: f, errors: errors, csrf: csrf)
                    return html(.unprocessableContent, HTML.page("Loyalty programme", user: user, csrf: csrf, active: "/programme",
                                                          notice: ("Nothing was saved: \(errors.count) field\(errors.count == 1 ? "" : "s") to correct (marked in red).", true), body))
                }
                let e = JSONEncoder()
                e.outputFormatting = [.sortedKeys]
                let json = String(decoding: try e.encode(p), as: UTF8.self)
                try await work.run { [store] in try store.saveDraft("programme", json: json, by: user.username) }
                return redirect("/programme?saved=1")
            }
        }
        router.post("/programme/preview") { request, _ -> Response in
            try await post(request, roles: Self.editors) { user, csrf, f in
                guard let (p, draft) = try await workingProgramme() else { return redirect("/programme") }
                var basket = Basket(currency: Currency(code: p.currency) ?? .eur)
                var problems: [String] = []
                for (i, line) in (f["basket"] ?? "").split(whereSeparator: \.isNewline).enumerated() {
                    let parts = line.split(separator: " ").map(String.init)
                    guard let sku = parts.first else { continue }
                    let qty = parts.count > 1 ? Int64(parts[1]) : 1
                    guard let qty, qty > 0 else { problems.append("line \(i + 1): '\(parts[1])' is not a quantity"); continue }
                    guard let product = try await work.run({ [store] in try store.product(sku: sku) }) else {
                        problems.append("line \(i + 1): no item has SKU '\(sku)'"); continue
                    }
                    do {
                        try basket.apply(.addLine(item: LineItem(sku: product.sku, description: product.description, category: product.category,
                                                                 taxCode: product.taxCode, taxBasisPoints: 0, unitPrice: product.unitPrice,
                                                                 quantity: product.soldByWeight ? .one : .units(qty))))
                    } catch { problems.append("line \(i + 1): \(error)") }
                }
                let now = HeadOfficeStore.now()
                let context = EarnContext(time: LocalDateTime(minutes: now / 60_000), storeID: "", tierCode: f["tier"])
                let award = p.award(for: basket, context: context)
                let c = Currency(code: p.currency) ?? .eur
                var body = "<div class=\"card\"><p>Programme \(HTML.esc(p.version))\(draft ? " (draft)" : ""), basket of \(c.format(basket.totals.total)):</p><table id=\"award\"><tr><th>Rule</th><th class=\"num\">Points</th></tr>"
                for part in award.parts { body += "<tr><td>\(HTML.esc(part.label))</td><td class=\"num\">\(part.points)</td></tr>" }
                body += "<tr><th>Total</th><th class=\"num\" id=\"total-points\">\(award.total)</th></tr></table></div>"
                if !problems.isEmpty { body = "<div class=\"notice error\">" + problems.map(HTML.esc).joined(separator: "<br>") + "</div>" + body }
                body += "<a class=\"button\" href=\"/programme\">Back to the programme</a>"
                return html(problems.isEmpty ? .ok : .unprocessableContent, HTML.page("Preview", user: user, csrf: csrf, active: "/programme", body))
            }
        }
        router.get("/programme/diff") { request, _ -> Response in
            try await page(request, roles: Self.editors) { user, csrf in
                let (draft, published) = try await work.run { [store] in
                    (try store.draft("programme").flatMap { try? JSONDecoder().decode(LoyaltyProgramme.self, from: Data($0.utf8)) },
                     try store.latestProgramme())
                }
                guard let draft, let published else {
                    return html(.ok, HTML.page("What changed", user: user, csrf: csrf, active: "/programme", notice: ("There is no draft: nothing has changed.", false), ""))
                }
                let d = ProgrammeForm.diff(from: published, to: draft)
                var body = "<table id=\"diff\"><tr><th>Field</th><th>Published (\(HTML.esc(published.version)))</th><th>Draft</th></tr>"
                for r in d { body += "<tr><td>\(HTML.esc(r.field))</td><td>\(HTML.esc(r.old))</td><td><strong>\(HTML.esc(r.new))</strong></td></tr>" }
                body += "</table>"
                if d.isEmpty { body = "<p>The draft is the same as the published programme.</p>" }
                return html(.ok, HTML.page("What changed", user: user, csrf: csrf, active: "/programme", body + "<a class=\"button\" href=\"/programme\">Back</a>"))
            }
        }
        router.post("/programme/publish") { request, _ -> Response in
            try await post(request, roles: Self.editors) { user, csrf, f in
                guard let (p, _) = try await workingProgramme() else { return redirect("/programme") }
                return try await publishing(user, csrf, title: "Loyalty programme", active: "/programme") {
                    let (scope, at) = try publication(f, user: user)
                    let pub = try await work.run { [store] in
                        let pub = try store.publish(.programme, scope: scope, by: user.username, note: f["note"] ?? "", effectiveAt: at, programme: p)
                        try store.deleteDraft("programme")
                        return pub
                    }
                    await updates.update(try await work.run { [store] in try store.visibleState() })
                    return pub.version
                }
            }
        }
    }
}
