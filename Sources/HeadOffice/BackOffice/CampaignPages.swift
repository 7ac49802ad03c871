import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TillCore
import TillProtocol

/// The campaign pages (admin, marketing): the campaigns with how far each is; a new one (a saved
/// segment, the holdout, the e-mail, its link, when it starts and its results window ends); one
/// campaign's e-mails by state and what members did, paused and resumed with a button.
extension HeadOfficeServer {
    struct CampaignForm: Decodable {
        var name: String?, segment: String?, holdout: String?, subject: String?, text: String?, link: String?, rate: String?
        var starts: String?, ends: String?, id: String?
        var channels: String?, offerName: String?, offerMultiple: String?, offerPoints: String?, offerCategories: String?, offerSkus: String?
        var offerMinSpend: String?, offerUses: String?, offerActivate: String?, offerPercent: String?, offerAmount: String?, offerFree: String?
    }

    static let defaultCampaignText = """
        Hello {{firstName}},

        You have {{points}} points on your card {{card}}.
        This week: see what we have picked for you: {{link}}

        You get this e-mail because you agreed to hear from us. No more offers by e-mail: {{unsubscribe}}
        """

    func addCampaignPages(_ router: RouterGroup<HeadOfficeContext>) {
        router.get("/campaigns") { _, context -> Response in
            try await page(context, roles: Self.coalitionRoles) { session in try await campaignsPage(session, form: nil, notice: nil) }
        }
        router.post("/campaigns") { _, context -> Response in
            try await post(context, roles: Self.coalitionRoles) { session, posted in
                let f = try posted.decode(CampaignForm.self)
                func refuse(_ text: String) async throws -> Response {
                    try await campaignsPage(session, form: f, notice: (text, true), status: .unprocessableContent)
                }
                guard let rate = Int64((f.rate ?? "").trimmingCharacters(in: .whitespaces)) else {
                    return try await refuse("The sending rate '\((f.rate ?? "").prefix(20))' must be a whole number of e-mails a second")
                }
                let startText = (f.starts ?? "").trimmingCharacters(in: .whitespaces)
                let start: Int64
                if startText.isEmpty || startText == "now" { start = HeadOfficeStore.now() } else {
                    guard let t = ProtocolTime.parse(startText.count == 16 ? startText + ":00Z" : startText) else {
                        return try await refuse("The start '\(startText.prefix(30))' is not a date and time (YYYY-MM-DDTHH:MM, UTC)")
                    }
                    start = t
                }
                let endText = (f.ends ?? "").trimmingCharacters(in: .whitespaces)
                guard let end = endText.isEmpty ? start + 30 * 86_400_000 : ProtocolTime.parse(endText + "T23:59:59Z") else {
                    return try await refuse("The end '\(endText.prefix(30))' is not a date (YYYY-MM-DD)")
                }
                guard let channels = CampaignChannels(rawValue: f.channels ?? "email") else { return try await refuse("Choose how the campaign reaches its members") }
                do {
                    let terms = OfferTerms(name: f.offerName ?? "", multiple: f.offerMultiple ?? "", points: f.offerPoints ?? "",
                                           categories: f.offerCategories ?? "", skus: f.offerSkus ?? "", minSpend: f.offerMinSpend ?? "",
                                           uses: f.offerUses ?? "", activate: f.offerActivate == "yes", percentOff: f.offerPercent ?? "",
                                           amountOff: f.offerAmount ?? "", freeItem: f.offerFree == "yes")
                    let draft = CampaignDraft(name: f.name ?? "", segmentID: f.segment ?? "", holdoutBP: try HeadOfficeStore.holdout(f.holdout ?? ""),
                                              subject: f.subject ?? "", body: (f.text ?? "").replacingOccurrences(of: "\r\n", with: "\n"), link: f.link ?? "",
                                              ratePerSecond: rate, startsAt: start, endsAt: end,
                                              offer: try HeadOfficeStore.offer(terms, currency: try await currency()), channels: channels)
                    let c = try await work.run { [store] in try store.createCampaign(draft, by: session.user.username) }
                    return redirect("/campaigns/view?id=\(c.id)&created=1")
                } catch let p as CampaignProblem { return try await refuse(p.description) }
            }
        }
        router.get("/campaigns/view") { request, context -> Response in
            try await page(context, roles: Self.coalitionRoles) { session in
                let id = formField(request, "id")
                let created = formField(request, "created") == "1"
                return try await campaignPage(session, id: id, notice: created ? ("The campaign is created. It starts at the time shown; this page shows how far it is.", false) : nil)
            }
        }
        router.get("/campaigns/programme") { _, context -> Response in
            try await page(context, roles: Self.coalitionRoles) { session in
                let money = try await currency()
                let months = try await work.run { [store] in try store.programmeMonths(12) }
                func pct(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
                return render(.ok, "programme-months", ProgrammeMonthsPage(
                    frame: Frame("The programme by month", session: session, active: "/campaigns"),
                    months: months.map { m in
                        .init(month: m.month, members: m.members, repeatRate: pct(m.repeatRate), frequency: String(format: "%.2f", m.frequency),
                              memberCheck: money.format(Int64(m.memberCheck.rounded())), otherCheck: money.format(Int64(m.otherCheck.rounded())),
                              memberShare: m.sales == 0 ? "" : pct(Double(m.memberSales) / Double(m.sales)))
                    }))
            }
        }
        router.get("/campaigns/chart.svg") { request, context -> Response in
            try await page(context, roles: Self.coalitionRoles) { session in
                let id = formField(request, "id")
                guard let c = try await work.run({ [store] in try store.campaign(id) }), c.launchedAt != nil else {
                    return message(.notFound, "Campaigns", session, active: "/campaigns", notice: ("There is no started campaign '\(id.prefix(48))'", true), back: "/campaigns")
                }
                let after = formField(request, "window") == "1"
                let from = after ? c.endsAt : c.startsAt, to = Swift.min(after ? c.endsAt + (c.endsAt - c.startsAt) : c.endsAt, HeadOfficeStore.now())
                let r = try await work.run { [store] in try store.campaignResults(id, from: from, to: Swift.max(from + 1, to)) }
                return Response(status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "no-store"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: Self.upliftChart(r))))
            }
        }
        for (path, pause) in [("/campaigns/pause", true), ("/campaigns/resume", false)] {
            router.post(RouterPath(stringLiteral: path)) { _, context -> Response in
                try await post(context, roles: Self.coalitionRoles) { session, posted in
                    let id = posted["id"] ?? ""
                    do {
                        let c = try await work.run { [store] in try store.setCampaignPaused(id, pause) }
                        return try await campaignPage(session, id: id, notice: (pause ? "Paused: no more e-mails go until you resume it." : "Resumed: it goes on where it stopped (\(c.state.rawValue)).", false))
                    } catch let p as CampaignProblem {
                        return try await campaignPage(session, id: id, notice: (p.description, true), status: .unprocessableContent)
                    }
                }
            }
        }
    }

    var mailNote: String? {
        guard let mail = options.mail else { return "E-mail is not set up: give headoffice serve a [mail] section (relay, from, public_url). Campaigns wait until it is." }
        return mail.publicURL == nil ? "E-mail has no public_url in [mail] (the address members' mail programs reach head office at, for the links): campaigns wait until it has." : nil
    }

    func campaignsPage(_ session: BackOfficeSession, form f: CampaignForm?, notice: (String, Bool)?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let (campaigns, segments) = try await work.run { [store] in (try store.campaigns(), try store.segments()) }
        let now = HeadOfficeStore.now()
        let utc = TimeZone(identifier: "UTC")!
        let chosen = f?.segment ?? segments.first?.id ?? ""
        return render(status, "campaigns", CampaignsPage(
            frame: Frame("Campaigns", session: session, active: "/campaigns", notice: notice), mailNote: mailNote,
            campaigns: campaigns.map { .init(id: $0.id, name: $0.name, state: $0.state.rawValue, segment: "\($0.segmentID) v\($0.segmentVersion)",
                                             holdout: HeadOfficeStore.percent($0.holdoutBP), starts: Self.minute($0.startsAt, utc),
                                             targeted: $0.targeted, heldOut: $0.heldOut) },
            anyCampaigns: !campaigns.isEmpty, anySegments: !segments.isEmpty,
            segments: segments.map { .init(value: $0.id, label: "\($0.name) (v\($0.version), \($0.members) members when saved)", selected: $0.id == chosen) },
            name: f?.name ?? "", holdout: f?.holdout ?? "10", subject: f?.subject ?? "{{firstName}}, something for you", text: f?.text ?? Self.defaultCampaignText,
            link: f?.link ?? "", rate: f?.rate ?? "1000", starts: f?.starts ?? Self.minute(now, utc).replacingOccurrences(of: " ", with: "T"),
            ends: f?.ends ?? String(ProtocolTime.format(now + 30 * 86_400_000, timeZone: utc).prefix(10)),
            fields: HeadOfficeStore.campaignFields.map { "{{\($0)}}" }.joined(separator: " "),
            channels: CampaignChannels.allCases.map { .init(value: $0.rawValue, label: ["email": "E-mail", "till": "The offer at the tills only",
                                                                                     "both": "E-mail and the offer at the tills"][$0.rawValue] ?? $0.rawValue,
                                                         selected: $0.rawValue == (f?.channels ?? "email")) },
            offerName: f?.offerName ?? "", offerMultiple: f?.offerMultiple ?? "", offerPoints: f?.offerPoints ?? "", offerCategories: f?.offerCategories ?? "",
            offerSkus: f?.offerSkus ?? "", offerMinSpend: f?.offerMinSpend ?? "", offerUses: f?.offerUses ?? "1", offerActivate: f?.offerActivate == "yes",
            offerPercent: f?.offerPercent ?? "", offerAmount: f?.offerAmount ?? "", offerFree: f?.offerFree == "yes"))
    }

    static func minute(_ t: Int64, _ utc: TimeZone) -> String {
        ProtocolTime.format(t, timeZone: utc).prefix(16).replacingOccurrences(of: "T", with: " ")
    }

    func campaignPage(_ session: BackOfficeSession, id: String, notice: (String, Bool)?, status: HTTPResponse.Status = .ok) async throws -> Response {
        guard let (c, p) = try await work.run({ [store] () -> (Campaign, CampaignProgress)? in
            guard let c = try store.campaign(id) else { return nil }
            return (c, try store.campaignProgress(id))
        }) else {
            return message(.notFound, "Campaigns", session, active: "/campaigns", notice: ("There is no campaign '\(id.prefix(48))'", true), back: "/campaigns")
        }
        let utc = TimeZone(identifier: "UTC")!
        let order = ["pending", "sending", "sent", "bounced", "failed", "till-only", "no-consent", "no-email", "holdout"]
        let meaning = ["pending": "waiting to be sent", "sending": "being handed to the relay", "sent": "taken by the relay", "bounced": "refused by the relay for good",
                       "failed": "not taken after five tries", "no-consent": "targeted, but did not agree to hear from us", "no-email": "targeted, no e-mail address", "till-only": "targeted: the offer at the tills, no e-mail",
                       "holdout": "held out: sent nothing (the control group)"]
        let money = try await currency()
        let windows: [(String, Int64, Int64)] = c.launchedAt == nil ? [] : [
            ("During the campaign", c.startsAt, c.endsAt), ("The same length after it", c.endsAt, c.endsAt + (c.endsAt - c.startsAt)),
        ].filter { $0.1 < HeadOfficeStore.now() }
        let results = try await work.run { [store] in try windows.map { ($0.0, try store.campaignResults(id, from: $0.1, to: Swift.min($0.2, HeadOfficeStore.now()))) } }
        let redemptions = try await work.run { [store] in try store.offerRedemptions(id) }
        let sent = p.byState["sent"] ?? 0
        func rate(_ n: Int64) -> String { sent == 0 ? "" : " (\(n * 1_000 / sent / 10).\(n * 1_000 / sent % 10)% of those sent)" }
        return render(status, "campaign", CampaignPage(
            frame: Frame("Campaign: \(c.name)", session: session, active: "/campaigns", notice: notice), mailNote: mailNote,
            id: c.id, state: c.state.rawValue, segment: "\(c.segmentID) v\(c.segmentVersion)", holdout: HeadOfficeStore.percent(c.holdoutBP),
            subject: c.subject, link: c.link, rate: c.ratePerSecond, starts: Self.minute(c.startsAt, utc) + " UTC", ends: Self.minute(c.endsAt, utc) + " UTC",
            launched: c.launchedAt.map { Self.minute($0, utc) + " UTC" }, finished: c.finishedAt.map { Self.minute($0, utc) + " UTC" },
            targeted: c.targeted, heldOut: c.heldOut,
            states: order.filter { p.byState[$0] != nil }.map { .init(state: $0, meaning: meaning[$0] ?? "", members: p.byState[$0] ?? 0) },
            opened: "\(p.opened)\(rate(p.opened))", clicked: "\(p.clicked)\(rate(p.clicked))", unsubscribed: "\(p.unsubscribed)\(rate(p.unsubscribed))",
            canPause: c.state == .sending || c.state == .scheduled, canResume: c.state == .paused,
            channels: c.channels.rawValue,
            offer: c.offer.map { "\($0.name): \($0.summary(currency: money)), \($0.uses == 1 ? "once" : "\($0.uses) times") per member\($0.mustActivate == true ? ", once activated by the member" : "")" },
            offerUses: c.offer == nil ? nil : "\(redemptions.uses) uses by \(redemptions.members) members",
            results: results.enumerated().map { Self.resultsView($0.element.0, $0.element.1, money, index: $0.offset) }, anyResults: !results.isEmpty))
    }

    static func resultsView(_ title: String, _ r: CampaignWindowResults, _ money: Currency, index: Int) -> CampaignPage.Results {
        let utc = TimeZone(identifier: "UTC")!
        func pct(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
        func num(_ x: Double) -> String { String(format: "%.2f", x) }
        func cash(_ x: Double) -> String { money.format(Int64(x.rounded())) }
        func interval(_ u: Uplift?, _ f: (Double) -> String, signed: Bool = true) -> (String, String) {
            guard let u else { return ("", "too few members to tell") }
            let d = (u.difference >= 0 && signed ? "+" : "") + f(u.difference)
            let verdict = u.isPositive ? "more than the holdout: the campaign made the difference" : u.isNegative ? "less than the holdout"
                : "cannot be told apart from doing nothing"
            return ("\(d) (\(f(u.low)) to \(f(u.high)))", verdict)
        }
        let bought = interval(r.bought, { String(format: "%.1f points", $0 * 100) })
        let visits = interval(r.visits, num), revenue = interval(r.revenue, cash)
        return CampaignPage.Results(
            title: title, window: "\(Self.minute(r.from, utc)) to \(Self.minute(r.to, utc)) UTC", index: index,
            rows: [
                .init(label: "Members", targeted: "\(r.targeted.members)", holdout: "\(r.holdout.members)", uplift: "", verdict: ""),
                .init(label: "Bought at least once", targeted: pct(r.targeted.boughtShare), holdout: pct(r.holdout.boughtShare), uplift: bought.0, verdict: bought.1),
                .init(label: "Visits per member", targeted: num(r.targeted.visitsPerMember), holdout: num(r.holdout.visitsPerMember), uplift: visits.0, verdict: visits.1),
                .init(label: "Revenue per member", targeted: cash(r.targeted.revenuePerMember), holdout: cash(r.holdout.revenuePerMember), uplift: revenue.0, verdict: revenue.1),
                .init(label: "Average check", targeted: cash(r.targeted.averageCheck), holdout: cash(r.holdout.averageCheck), uplift: "", verdict: ""),
            ])
    }

    /// The uplift of each figure relative to the holdout's, with its 95% interval, as bars
    /// around zero (SVG drawn here: an image, no script).
    static func upliftChart(_ r: CampaignWindowResults) -> String {
        let items: [(String, Uplift?)] = [("Bought", r.bought), ("Visits", r.visits), ("Revenue", r.revenue)]
        let rel = items.map { (name, u) -> (String, Double, Double, Double)? in
            guard let u, u.holdoutMean > 0 else { return nil }
            return (name, u.difference / u.holdoutMean * 100, u.low / u.holdoutMean * 100, u.high / u.holdoutMean * 100)
        }
        let bound = Swift.max(10, (rel.compactMap { $0.map { Swift.max(abs($0.2), abs($0.3)) } }.max() ?? 10) * 1.1)
        let width = 560.0, left = 80.0, right = 20.0, rowH = 34.0, height = 30 + rowH * Double(items.count)
        func x(_ v: Double) -> Double { left + (v + bound) / (2 * bound) * (width - left - right) }
        var out = #"<svg xmlns="http://www.w3.org/2000/svg" width="560" height="\#(Int(height))" viewBox="0 0 560 \#(Int(height))" font-family="sans-serif" font-size="11">"#
        out += #"<line x1="\#(x(0))" y1="8" x2="\#(x(0))" y2="\#(height - 18)" stroke="gray"/>"#
        out += #"<text x="\#(x(0))" y="\#(height - 4)" text-anchor="middle">0%</text><text x="\#(x(-bound))" y="\#(height - 4)">\#(String(format: "%.0f%%", -bound))</text>"#
        out += #"<text x="\#(x(bound))" y="\#(height - 4)" text-anchor="end">+\#(String(format: "%.0f%%", bound))</text>"#
        for (i, item) in items.enumerated() {
            let y = 14 + rowH * Double(i)
            out += #"<text x="4" y="\#(y + 14)">\#(item.0)</text>"#
            guard let r = rel[i] else { out += #"<text x="\#(left)" y="\#(y + 14)" fill="gray">too few members</text>"#; continue }
            let color = r.2 > 0 ? "#2a7d3f" : r.3 < 0 ? "#b3261e" : "#6b7280"
            out += #"<rect x="\#(x(r.2))" y="\#(y + 4)" width="\#(Swift.max(1, x(r.3) - x(r.2)))" height="14" fill="\#(color)" fill-opacity="0.3"/>"#
            out += #"<line x1="\#(x(r.1))" y1="\#(y + 1)" x2="\#(x(r.1))" y2="\#(y + 21)" stroke="\#(color)" stroke-width="3"/>"#
            out += #"<text x="\#(width - right)" y="\#(y + 14)" text-anchor="end">\#(String(format: "%+.1f%%", r.1))</text>"#
        }
        return out + "</svg>"
    }
}

/// The programme's months (the `programme-months` template).
struct ProgrammeMonthsPage: Sendable {
    struct Row: Sendable { var month: String, members: Int64, repeatRate: String, frequency: String, memberCheck: String, otherCheck: String, memberShare: String }
    var frame: Frame
    var months: [Row]
}

/// The campaigns page (the `campaigns` template).
struct CampaignsPage: Sendable {
    struct Row: Sendable { var id: String, name: String, state: String, segment: String, holdout: String, starts: String, targeted: Int64, heldOut: Int64 }
    struct Choice: Sendable { var value: String, label: String, selected: Bool }
    var frame: Frame
    var mailNote: String?
    var campaigns: [Row]
    var anyCampaigns: Bool, anySegments: Bool
    var segments: [Choice]
    var name: String, holdout: String, subject: String, text: String, link: String, rate: String, starts: String, ends: String
    var fields: String
    var channels: [Choice]
    var offerName: String, offerMultiple: String, offerPoints: String, offerCategories: String, offerSkus: String, offerMinSpend: String, offerUses: String
    var offerActivate: Bool
    var offerPercent: String, offerAmount: String, offerFree: Bool
}

/// One campaign (the `campaign` template).
struct CampaignPage: Sendable {
    struct State: Sendable { var state: String, meaning: String, members: Int64 }
    var frame: Frame
    var mailNote: String?
    var id: String, state: String, segment: String, holdout: String, subject: String, link: String
    var rate: Int64
    var starts: String, ends: String
    var launched: String?, finished: String?
    var targeted: Int64, heldOut: Int64
    var states: [State]
    var opened: String, clicked: String, unsubscribed: String
    var canPause: Bool, canResume: Bool
    var channels: String
    var offer: String?, offerUses: String?
    struct Row: Sendable { var label: String, targeted: String, holdout: String, uplift: String, verdict: String }
    struct Results: Sendable { var title: String, window: String, index: Int, rows: [Row] }
    var results: [Results]
    var anyResults: Bool
}
