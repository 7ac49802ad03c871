import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TillCore
import TillProtocol

/// The coalition's pages (admin and marketing): the partners with their earn rule and rates, and
/// the settlement per period (statements, the check against the ledger, closing, corrections,
/// CSV).
extension HeadOfficeServer {
    static let coalitionRoles: Set<BackOfficeRole> = [.admin, .marketing]

    struct PartnerForm: Decodable {
        var id: String?, name: String?, kind: String?, earnPoints: String?, earnUnit: String?, multipliers: String?
        var issueRate: String?, redeemRate: String?, cashbackPayer: String?
    }

    struct SettlementForm: Decodable {
        var period: String?, partner: String?, amount: String?, owedBy: String?, note: String?
    }

    func currency() async throws -> Currency {
        try await work.run { [store] in try store.currency() }
    }

    func addPartnerPages(_ router: RouterGroup<HeadOfficeContext>) {
        router.get("/partners") { request, context -> Response in
            try await page(context, roles: Self.coalitionRoles) { session in
                let money = try await currency()
                let editing = formField(request, "edit")
                let partners = try await work.run { [store] in try store.partners() }
                let form = partners.first { $0.id == editing }.map { PartnersPage.Form($0, money) } ?? PartnersPage.Form.new
                return render(.ok, "partners", PartnersPage(frame: Frame("Partners", session: session, active: "/partners"),
                                                            partners: partners.map { PartnersPage.Row($0, money) }, form: form))
            }
        }
        router.post("/partners") { _, context -> Response in
            try await post(context, roles: Self.coalitionRoles) { session, posted in
                let f = try posted.decode(PartnerForm.self)
                let money = try await currency()
                let partners = try await work.run { [store] in try store.partners() }
                let existing = partners.first { $0.id == (f.id ?? "") }
                func refuse(_ text: String) -> Response {
                    var form = PartnersPage.Form.new
                    form.id = f.id ?? ""; form.name = f.name ?? ""; form.earnPoints = f.earnPoints ?? ""; form.earnUnit = f.earnUnit ?? ""
                    form.multipliers = f.multipliers ?? ""; form.issueRate = f.issueRate ?? ""; form.redeemRate = f.redeemRate ?? ""
                    form.cashbackPayer = f.cashbackPayer == "yes"; form.editing = existing != nil
                    form.kinds = PartnersPage.Form.kindChoices(selected: f.kind ?? "", editing: existing)
                    return render(.unprocessableContent, "partners", PartnersPage(
                        frame: Frame("Partners", session: session, active: "/partners", notice: (text, true)),
                        partners: partners.map { PartnersPage.Row($0, money) }, form: form))
                }
                guard let kind = existing?.kind ?? PartnerKind(rawValue: f.kind ?? ""), kind != .chain || existing != nil else {
                    return refuse("Choose whether the partner is a bank or a retailer")
                }
                guard let points = Int64((f.earnPoints ?? "").trimmingCharacters(in: .whitespaces)) else {
                    return refuse("Points earned '\((f.earnPoints ?? "").prefix(30))' is not a whole number (e.g. 1)")
                }
                let text = { (s: String?) in (s ?? "").trimmingCharacters(in: .whitespaces) }
                guard let unit = money.parse(text(f.earnUnit)) else { return refuse("Spend '\(text(f.earnUnit).prefix(30))' is not an amount (e.g. 10.00)") }
                guard let issue = money.parse(text(f.issueRate)) else { return refuse("Issue rate '\(text(f.issueRate).prefix(30))' is not an amount (e.g. 1.00)") }
                guard let redeem = money.parse(text(f.redeemRate)) else { return refuse("Redemption rate '\(text(f.redeemRate).prefix(30))' is not an amount (e.g. 0.90)") }
                do {
                    let partner = Partner(id: text(f.id), name: f.name ?? "", kind: kind, earnPoints: points, earnUnit: unit,
                                          multipliers: try Partner.parseMultipliers(f.multipliers ?? ""), issueRate: issue, redeemRate: redeem,
                                          cashbackPayer: f.cashbackPayer == "yes")
                    let key = try await work.run { [store] in try store.savePartner(partner) }
                    let notice = key.map { "Partner \(partner.id) added. Its channel key, shown only now (give it to the partner): \($0)" }
                        ?? "Partner \(partner.id) saved."
                    let now = try await work.run { [store] in try store.partners() }
                    return render(.ok, "partners", PartnersPage(frame: Frame("Partners", session: session, active: "/partners", notice: (notice, false)),
                                                                partners: now.map { PartnersPage.Row($0, money) }, form: .new, key: key))
                } catch let e as ChannelRefusal {
                    return refuse(e.message)
                }
            }
        }
        router.get("/settlement") { request, context -> Response in
            try await page(context, roles: Self.coalitionRoles) { session in
                let asked = formField(request, "period")
                let done = formField(request, "done")
                let notice: (String, Bool)? = done == "closed" ? ("The period is closed: its statements will not change.", false)
                    : done == "corrected" ? ("The correction is recorded: it goes on the partner's next statement closed.", false) : nil
                return try await settlementPage(session, period: asked, notice: notice, status: .ok)
            }
        }
        router.post("/settlement/close") { _, context -> Response in
            try await post(context, roles: Self.coalitionRoles) { session, posted in
                let f = try posted.decode(SettlementForm.self)
                guard let period = CashbackPeriod.parse(f.period ?? "") else {
                    return try await settlementPage(session, period: "", notice: ("Choose a period to close (e.g. 2026-10)", true), status: .unprocessableContent)
                }
                do {
                    _ = try await work.run { [store] in try store.closeSettlement(period, by: session.user.username) }
                    return redirect("/settlement?period=\(period.id)&done=closed")
                } catch let e as ServiceError {
                    return try await settlementPage(session, period: period.id, notice: (e.description, true), status: .unprocessableContent)
                }
            }
        }
        router.post("/settlement/correction") { _, context -> Response in
            try await post(context, roles: Self.coalitionRoles) { session, posted in
                let f = try posted.decode(SettlementForm.self)
                let money = try await currency()
                guard let period = CashbackPeriod.parse(f.period ?? "") else {
                    return try await settlementPage(session, period: "", notice: ("Choose the period corrected", true), status: .unprocessableContent)
                }
                let text = (f.amount ?? "").trimmingCharacters(in: .whitespaces)
                guard let amount = money.parse(text), amount > 0 else {
                    return try await settlementPage(session, period: period.id, notice: ("Amount '\(text.prefix(30))' is not an amount above zero (e.g. 12.50)", true),
                                                    status: .unprocessableContent)
                }
                let partner = String((f.partner ?? "").prefix(40))
                do {
                    try await work.run { [store] in
                        try store.addSettlementCorrection(partner: partner, corrects: period, amount: f.owedBy == "programme" ? -amount : amount,
                                                          note: f.note ?? "", by: session.user.username)
                    }
                    return redirect("/settlement?period=\(period.id)&done=corrected")
                } catch let e as ServiceError {
                    return try await settlementPage(session, period: period.id, notice: (e.description, true), status: .unprocessableContent)
                }
            }
        }
        router.get("/settlement/statement.csv") { request, context -> Response in
            try await page(context, roles: Self.coalitionRoles) { session in
                let partner = formField(request, "partner")
                guard let period = CashbackPeriod.parse(formField(request, "period")) else {
                    return message(.notFound, "Settlement", session, active: "/settlement", notice: ("Choose a period (e.g. 2026-10)", true), back: "/settlement")
                }
                let money = try await currency()
                guard let s = try await work.run({ [store] in try store.settlement(period) }).statements.first(where: { $0.partner.id == partner }) else {
                    return message(.notFound, "Settlement", session, active: "/settlement", notice: ("There is no partner '\(partner.prefix(40))'", true), back: "/settlement")
                }
                let name = "settlement-\(s.partner.id)-\(period.id).csv"
                return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                                                       .contentDisposition: "attachment; filename=\"\(name)\""],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: HeadOfficeStore.settlementCSV(s, currency: money))))
            }
        }
    }

    /// The settlement page for a period (default: the last month that ended).
    func settlementPage(_ session: BackOfficeSession, period asked: String, notice: (String, Bool)?, status: HTTPResponse.Status) async throws -> Response {
        let money = try await currency()
        let now = HeadOfficeStore.now()
        let period = CashbackPeriod.parse(asked) ?? CashbackPeriod.lastEnded(.monthly, before: now)
        var notice = notice
        if !asked.isEmpty && CashbackPeriod.parse(asked) == nil && notice == nil {
            notice = ("'\(asked.prefix(20))' is not a period (2026-10, 2026-Q4 or 2026): showing \(period.id)", true)
        }
        let s = try await work.run { [store] in try store.settlement(period) }
        let previous = CashbackPeriod.lastEnded(.monthly, before: period.start).id
        let next = CashbackPeriod.lastEnded(.monthly, before: period.end + 32 * 86_400_000).id
        return render(status, "settlement", SettlementPage(
            frame: Frame("Settlement", session: session, active: "/settlement", notice: notice), period: period.id, previous: previous,
            next: period.end <= now ? next : nil, closed: s.closed, canClose: !s.closed && period.end <= now, ended: period.end <= now,
            statements: s.statements.map { SettlementPage.Statement($0, money) },
            programme: s.programme.map { SettlementPage.Movement(label: $0.label, points: $0.points) }, anyProgramme: !s.programme.isEmpty,
            ledgerPoints: s.ledgerPoints, statementPoints: s.statementPoints, reconciled: s.reconciled,
            partners: s.statements.map { SettlementPage.Choice(value: $0.partner.id, label: $0.partner.name) }))
    }
}

/// The partners' page (the `partners` template).
struct PartnersPage: Sendable {
    struct Row: Sendable {
        var id: String, name: String, kind: String, rule: String, multipliers: String, issueRate: String, redeemRate: String, cashbackPayer: Bool
        init(_ p: Partner, _ money: Currency) {
            id = p.id; name = p.name; kind = p.kind.rawValue
            rule = p.kind == .chain ? "the programme's rules" : "\(p.earnPoints) per \(money.format(p.earnUnit))"
            multipliers = p.multipliersText; issueRate = money.format(p.issueRate); redeemRate = money.format(p.redeemRate); cashbackPayer = p.cashbackPayer
        }
    }
    struct Choice: Sendable { var value: String, label: String, selected: Bool }
    struct Form: Sendable {
        var id = "", name = "", earnPoints = "1", earnUnit = "10.00", multipliers = "", issueRate = "1.00", redeemRate = "1.00"
        var cashbackPayer = false, editing = false, isChain = false
        var kinds: [Choice] = kindChoices(selected: "retailer", editing: nil)
        static let new = Form()
        static func kindChoices(selected: String, editing: Partner?) -> [Choice] {
            if let editing { return [Choice(value: editing.kind.rawValue, label: editing.kind.rawValue, selected: true)] }
            return [Choice(value: "retailer", label: "Partner retailer", selected: selected != "bank"), Choice(value: "bank", label: "Bank", selected: selected == "bank")]
        }
        init() {}
        init(_ p: Partner, _ money: Currency) {
            id = p.id; name = p.name; earnPoints = String(p.earnPoints); earnUnit = money.format(p.earnUnit); multipliers = p.multipliersText
            issueRate = money.format(p.issueRate); redeemRate = money.format(p.redeemRate); cashbackPayer = p.cashbackPayer; editing = true
            isChain = p.kind == .chain
            kinds = Self.kindChoices(selected: p.kind.rawValue, editing: p)
        }
    }
    var frame: Frame
    var partners: [Row]
    var form: Form
    var key: String?
}

/// The settlement page (the `settlement` template).
struct SettlementPage: Sendable {
    struct Line: Sendable { var kind: String, label: String, points: Int64, rate: String, amount: String }
    struct Statement: Sendable {
        var id: String, name: String, lines: [Line], net: String, owedBy: String, closedAt: String?, closedBy: String?
        init(_ s: SettlementStatement, _ money: Currency) {
            id = s.partner.id; name = s.partner.name
            lines = s.lines.map { Line(kind: $0.kind, label: $0.label, points: $0.points, rate: $0.rate.map { money.format($0) } ?? "", amount: money.format($0.amount)) }
            net = money.format(abs(s.net))
            owedBy = s.net >= 0 ? "owed by \(s.partner.name)" : "owed to \(s.partner.name)"
            closedAt = s.closedAt.map { ProtocolTime.format($0, timeZone: TimeZone(identifier: "UTC")!) }
            closedBy = s.closedBy
        }
    }
    struct Movement: Sendable { var label: String, points: Int64 }
    struct Choice: Sendable { var value: String, label: String }
    var frame: Frame
    var period: String, previous: String, next: String?
    var closed: Bool, canClose: Bool, ended: Bool
    var statements: [Statement]
    var programme: [Movement]
    var anyProgramme: Bool
    var ledgerPoints: Int64, statementPoints: Int64, reconciled: Bool
    var partners: [Choice]
}
