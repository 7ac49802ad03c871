import Foundation
import Hummingbird
import TillCore
import TillProtocol

/// The programme page's form: every field of the programme, tiers, bands and card ranges with
/// one empty row each to add one (the `programme` template).
struct ProgrammeFormView: Sendable {
    struct Row: Sendable { var fields: [FieldView] }
    struct OtherError: Sendable { var key: String, message: String }

    var general: [FieldView], earning: [FieldView], redemption: [FieldView]
    var tiersNote: String
    var tiers: [Row], bands: [Row], cardRanges: [Row], challenges: [Row]
    var otherError: OtherError?

    init(_ p: LoyaltyProgramme, values: [String: String], errors: [String: String]) {
        let c = Currency(code: p.currency) ?? .eur
        func f(_ n: String, _ l: String, hint: String? = nil) -> FieldView { FieldView(n, l, values[n] ?? "", errors: errors, hint: hint) }
        general = [f("name", "Programme name"), f("version", "Version", hint: "A new name for each change, e.g. 2026-12")]
        earning = [f("earn.pointsPerUnit", "Points", hint: "points earned for each amount below"),
                   f("earn.unitMinor", "For every (\(c.code))", hint: "e.g. 1.00"), f("welcomeBonus", "Welcome bonus (points)")]
        let spend = p.tierQualification.basis == .spend
        tiersNote = "Reached by \(spend ? "spend (\(c.code))" : "points") over \(p.tierQualification.periodDays) days; each tier must start above the one before. Leave a row empty to remove it."
        tiers = (0..<(p.tiers.count + 1)).map { i in
            Row(fields: [f("tiers[\(i)].code", "Code"), f("tiers[\(i)].name", "Name"), f("tiers[\(i)].threshold", "From"),
                         f("tiers[\(i)].earnMultiplierBP", "Earn rate", hint: "100% = normal, 125% = ×1.25"), f("tiers[\(i)].discountBP", "Discount")])
        }
        redemption = [f("redemption.minimumPoints", "Fewest points redeemed"), f("redemption.maxShareBP", "Most of a sale paid in points"),
                      f("redemption.offlineCapPoints", "Most points a till redeems offline (per card)")]
        bands = (0..<(p.redemption.bands.count + 1)).map { i in
            Row(fields: [f("redemption.bands[\(i)].minPoints", "From points"), f("redemption.bands[\(i)].minorPer100Points", "100 points are worth (\(c.code))")])
        }
        cardRanges = (0..<(p.cardRanges.count + 1)).map { i in
            Row(fields: [f("cardRanges[\(i)].name", "Name"), f("cardRanges[\(i)].prefix", "Starts with"), f("cardRanges[\(i)].length", "Digits")])
        }
        challenges = (0..<(p.challenges.count + 1)).map { i in
            let k = "challenges[\(i)]."
            return Row(fields: [f(k + "id", "Code", hint: "letters, digits, -"), f(k + "name", "Name (receipts show it)"),
                                f(k + "measure", "Counts", hint: "visits, spend or items"), f(k + "skus", "Of items (SKUs)", hint: "comma-separated; none: all"),
                                f(k + "categories", "Or categories", hint: "comma-separated"), f(k + "target", "To reach", hint: "spend: an amount"),
                                f(k + "window", "Within", hint: "days, week, month or streak"), f(k + "length", "Days / weeks in a row", hint: "for days and streak"),
                                f(k + "maxCompletions", "Times a member may complete it"), f(k + "optIn", "Members join first", hint: "yes or no"),
                                f(k + "rewardPoints", "Reward (points)"), f(k + "badge", "Badge"),
                                f(k + "starts", "From", hint: "YYYY-MM-DDTHH:MM"), f(k + "ends", "Until")])
        }
        // An error for a field the form does not show (a rule the whole programme breaks).
        otherError = errors.filter { !$0.key.contains("[") || !values.keys.contains($0.key) }.filter { values[$0.key] == nil }.first
            .map { OtherError(key: $0.key, message: $0.value) }
    }
}

struct ProgrammePage: Sendable {
    struct TierChoice: Sendable { var code: String, name: String }
    var frame: Frame
    var showState: Bool
    var isDraft: Bool
    var form: ProgrammeFormView
    var tierChoices: [TierChoice] = []
    var scopes: [ScopeOption] = []
}

struct PreviewPage: Sendable {
    struct Part: Sendable { var label: String, points: String }
    var frame: Frame
    var version: String, isDraft: Bool, basketTotal: String
    var parts: [Part], totalPoints: String
    var problems: [String], anyProblems: Bool
}

struct DiffPage: Sendable {
    struct Change: Sendable { var field: String, before: String, after: String }
    var frame: Frame
    var publishedVersion: String
    var changes: [Change], anyChanges: Bool
}

extension HeadOfficeServer {
    static let editors: Set<BackOfficeRole> = [.admin, .marketing]

    /// The programme being edited: the saved draft, else the one in force.
    func workingProgramme() async throws -> (LoyaltyProgramme, draft: Bool)? {
        try await work.run { [store] in
            if let json = try store.draft("programme"), let p = try? JSONDecoder().decode(LoyaltyProgramme.self, from: Data(json.utf8)) { return (p, true) }
            return try store.latestProgramme().map { ($0, false) }
        }
    }

    struct PreviewForm: Decodable {
        var basket: String?
        var tier: String?
    }

    func addProgrammePages(_ router: RouterGroup<HeadOfficeContext>) {
        router.get("/programme") { request, context -> Response in
            try await page(context, roles: Self.editors) { session in
                guard let (p, draft) = try await workingProgramme() else {
                    return message(.ok, "Programme", session, notice: ("No programme yet: import one with headoffice programme import FILE.json", true))
                }
                let saved = request.uri.queryParameters["saved"] != nil
                let frame = Frame("Loyalty programme", session: session, active: "/programme",
                                  notice: saved ? ("Draft saved. Preview it, look at what changed, then publish.", false) : nil)
                return render(.ok, "programme", ProgrammePage(
                    frame: frame, showState: true, isDraft: draft, form: ProgrammeFormView(p, values: ProgrammeForm.values(p), errors: [:]),
                    tierChoices: p.tiers.map { .init(code: $0.code, name: $0.name) }, scopes: try await scopes(for: session.user)))
            }
        }
        router.post("/programme") { _, context -> Response in
            // The programme's field names (`tiers[0].code`) are paths into arrays of records, which
            // Hummingbird's URL-encoded decoder does not take: ProgrammeForm reads them by name.
            try await post(context, roles: Self.editors) { session, f in
                guard let (base, _) = try await workingProgramme() else { return redirect("/programme") }
                let (parsed, errors) = ProgrammeForm.parse(f.fields, base: base)
                guard let p = parsed else {
                    let frame = Frame("Loyalty programme", session: session, active: "/programme",
                                      notice: ("Nothing was saved: \(errors.count) field\(errors.count == 1 ? "" : "s") to correct (marked in red).", true))
                    return render(.unprocessableContent, "programme",
                                  ProgrammePage(frame: frame, showState: false, isDraft: false, form: ProgrammeFormView(base, values: f.fields, errors: errors)))
                }
                let e = JSONEncoder()
                e.outputFormatting = [.sortedKeys]
                let json = String(decoding: try e.encode(p), as: UTF8.self)
                try await work.run { [store] in try store.saveDraft("programme", json: json, by: session.user.username) }
                return redirect("/programme?saved=1")
            }
        }
        router.post("/programme/preview") { _, context -> Response in
            try await post(context, roles: Self.editors) { session, posted in
                guard let (p, draft) = try await workingProgramme() else { return redirect("/programme") }
                let f = try posted.decode(PreviewForm.self)
                var basket = Basket(currency: Currency(code: p.currency) ?? .eur)
                var problems: [String] = []
                for (i, line) in (f.basket ?? "").split(whereSeparator: \.isNewline).enumerated() {
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
                let context = EarnContext(time: LocalDateTime(minutes: now / 60_000), storeID: "", tierCode: f.tier)
                let award = p.award(for: basket, context: context)
                let c = Currency(code: p.currency) ?? .eur
                return render(problems.isEmpty ? .ok : .unprocessableContent, "programme-preview", PreviewPage(
                    frame: Frame("Preview", session: session, active: "/programme"), version: p.version, isDraft: draft,
                    basketTotal: c.format(basket.totals.total), parts: award.parts.map { .init(label: $0.label, points: $0.points.description) },
                    totalPoints: award.total.description, problems: problems, anyProblems: !problems.isEmpty))
            }
        }
        router.get("/programme/diff") { _, context -> Response in
            try await page(context, roles: Self.editors) { session in
                let (draft, published) = try await work.run { [store] in
                    (try store.draft("programme").flatMap { try? JSONDecoder().decode(LoyaltyProgramme.self, from: Data($0.utf8)) },
                     try store.latestProgramme())
                }
                guard let draft, let published else {
                    return message(.ok, "What changed", session, active: "/programme", notice: ("There is no draft: nothing has changed.", false))
                }
                let d = ProgrammeForm.diff(from: published, to: draft)
                return render(.ok, "programme-diff", DiffPage(
                    frame: Frame("What changed", session: session, active: "/programme"), publishedVersion: published.version,
                    changes: d.map { .init(field: $0.field, before: $0.old, after: $0.new) }, anyChanges: !d.isEmpty))
            }
        }
        router.post("/programme/publish") { _, context -> Response in
            try await post(context, roles: Self.editors) { session, f in
                guard let (p, _) = try await workingProgramme() else { return redirect("/programme") }
                let fields = try f.decode(PublishFields.self)
                return try await publishing(session, title: "Loyalty programme", active: "/programme") {
                    let (scope, at) = try publication(fields, user: session.user)
                    let pub = try await work.run { [store] in
                        let pub = try store.publish(.programme, scope: scope, by: session.user.username, note: fields.note ?? "", effectiveAt: at, programme: p)
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
