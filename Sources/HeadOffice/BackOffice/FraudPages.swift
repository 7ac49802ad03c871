import Foundation
import Hummingbird
import TillCore
import TillDocuments
import TillProtocol

/// The fraud pages (admin and the fraud role, mouse only): the rules with their figures (alerts by
/// status, the newest evaluation on a generated month), each rule's settings, evaluating them now;
/// the alerts by status; a case with its evidence, its notes, moving it on, holding or blocking its card.
extension HeadOfficeServer {
    static let fraudRoles: Set<BackOfficeRole> = [.admin, .fraud]

    struct FraudRuleForm: Decodable {
        var id: String?, enabled: String?, threshold: String?, window: String?, unit: String?, percent: String?, action: String?, measure: String?
    }
    struct FraudCaseForm: Decodable { var id: String?, status: String?, note: String?, act: String? }

    func addFraudPages(_ router: RouterGroup<HeadOfficeContext>) {
        router.get("/fraud") { _, context -> Response in
            try await page(context, roles: Self.fraudRoles) { session in try await fraudPage(session) }
        }
        router.post("/fraud/rule") { _, context -> Response in
            try await post(context, roles: Self.fraudRoles) { session, posted in
                let f = try posted.decode(FraudRuleForm.self)
                let id = String((f.id ?? "").prefix(40))
                do {
                    let saved = try await work.run { [store] in
                        guard var rule = try store.fraudRules().first(where: { $0.id == id }) else { throw ChannelRefusal(404, "There is no rule '\(id)'") }
                        let text = { (s: String?) in (s ?? "").trimmingCharacters(in: .whitespaces) }
                        guard let threshold = Int64(text(f.threshold)), let window = Int64(text(f.window)), let percent = Int64(text(f.percent).isEmpty ? "0" : text(f.percent)) else {
                            throw ChannelRefusal(422, "Rule \(id): the threshold '\(text(f.threshold).prefix(20))', the window '\(text(f.window).prefix(20))' and the percentage '\(text(f.percent).prefix(20))' must be whole numbers")
                        }
                        let unit: Int64 = ["minutes": 60, "hours": 3_600, "days": 86_400][f.unit ?? ""] ?? 3_600
                        guard let action = FraudAction(rawValue: f.action ?? "") else { throw ChannelRefusal(422, "Choose what rule \(id) does from the list") }
                        let (seconds, overflow) = window.multipliedReportingOverflow(by: unit)
                        rule.windowSeconds = overflow ? .max : seconds
                        rule.threshold = threshold
                        rule.percent = percent
                        rule.action = action
                        rule.enabled = f.enabled == "on"
                        if let m = f.measure, !rule.kind.measures.isEmpty { rule.measure = m }
                        try store.saveFraudRule(rule, by: session.user.username)
                        return rule
                    }
                    return try await fraudPage(session, notice: ("Rule \(saved.id) saved: \(saved.enabled ? "on" : "off"), in force for the next documents the tills send.", false))
                } catch let e as ChannelRefusal {
                    return try await fraudPage(session, notice: (e.message, true), status: .unprocessableContent)
                }
            }
        }
        router.post("/fraud/evaluate") { _, context -> Response in
            try await post(context, roles: Self.fraudRoles) { session, _ in
                let e = try await work.run { [store] in
                    try store.evaluateFraudRules(members: 1_000, directory: NSTemporaryDirectory(), by: session.user.username)
                }
                let said = "Evaluated on a generated month of \(e.sales) sales: \(e.caught) of \(e.injected) injected cases caught (\(Self.percentText(e.recall))), "
                    + "\(e.flaggedMembers) of \(e.normalMembers) normal members flagged (\(Self.percentText(e.falsePositiveRate))), \(e.flaggedCashiers) of \(e.normalCashiers) normal cashiers."
                return try await fraudPage(session, notice: (said, false))
            }
        }
        router.get("/fraud/alerts") { request, context -> Response in
            try await page(context, roles: Self.fraudRoles) { session in
                let status = String(formField(request, "status").prefix(20)), rule = String(formField(request, "rule").prefix(40))
                let alerts = try await work.run { [store] in
                    try store.fraudAlerts(status: status.isEmpty ? nil : status, rule: rule.isEmpty ? nil : rule, limit: 500)
                }
                return render(.ok, "fraud-alerts", FraudAlertsPage(session: session, alerts: alerts, status: status, rule: rule))
            }
        }
        router.get("/fraud/case") { request, context -> Response in
            try await page(context, roles: Self.fraudRoles) { session in
                try await fraudCasePage(session, id: Int64(formField(request, "id").prefix(19)) ?? 0)
            }
        }
        router.post("/fraud/case") { _, context -> Response in
            try await post(context, roles: Self.fraudRoles) { session, posted in
                let f = try posted.decode(FraudCaseForm.self)
                let id = Int64((f.id ?? "").prefix(19)) ?? 0
                let note = f.note ?? ""
                do {
                    let said = try await work.run { [store] () throws -> String in
                        guard let (alert, _, _) = try store.fraudCase(id) else { throw ServiceError("There is no alert #\(id)") }
                        switch f.act {
                        case "hold", "block":
                            guard let card = alert.card else { throw ServiceError("Alert #\(id) is about \(alert.subject), not a card: there is no card to \(f.act ?? "")") }
                            let why = "Fraud case #\(id)" + (note.isEmpty ? "" : ": \(note)")
                            if f.act == "hold" {
                                try store.setRedemptionHold(card, held: true, by: session.user.username, reason: .fraudSuspected, note: String(why.prefix(HeadOfficeStore.maxServiceNote)))
                            } else {
                                try store.setCardStatus(card, to: "blocked", by: session.user.username, reason: .fraudSuspected, note: String(why.prefix(HeadOfficeStore.maxServiceNote)))
                            }
                            try store.updateFraudCase(id, status: alert.status == "open" ? "investigating" : nil,
                                                     note: (f.act == "hold" ? "Points held" : "Card blocked") + (note.isEmpty ? "" : ": \(note)"), by: session.user.username)
                            return f.act == "hold" ? "Card \(LoyaltyCardNumber.masked(card))'s points are held at every till from their next update (seconds when online)."
                                : "Card \(LoyaltyCardNumber.masked(card)) is blocked at every till from their next update (seconds when online)."
                        default:
                            try store.updateFraudCase(id, status: f.status, note: note, by: session.user.username)
                            return "Case #\(id) saved."
                        }
                    }
                    return try await fraudCasePage(session, id: id, notice: (said, false))
                } catch let e as ServiceError {
                    return try await fraudCasePage(session, id: id, notice: (e.description, true), status: .unprocessableContent)
                }
            }
        }
    }

    static func percentText(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }

    func fraudPage(_ session: BackOfficeSession, notice: (String, Bool)? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let (rules, figures) = try await work.run { [store] in (try store.fraudRules(), try store.fraudRuleFigures()) }
        return render(status, "fraud", FraudPage(session: session, rules: rules, figures: figures, notice: notice))
    }

    func fraudCasePage(_ session: BackOfficeSession, id: Int64, notice: (String, Bool)? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let money = try await currency()
        guard let (alert, notes, evidence) = try await work.run({ [store] in try store.fraudCase(id) }) else {
            return message(.notFound, "Fraud", session, active: "/fraud", notice: ("There is no alert #\(id)", true), back: "/fraud/alerts")
        }
        return render(status, "fraud-case", FraudCasePage(session: session, alert: alert, notes: notes, evidence: evidence, money: money, notice: notice))
    }
}

func utcMinute(_ ms: Int64) -> String {
    String(ProtocolTime.format(ms, timeZone: TimeZone(identifier: "UTC")!).prefix(16)).replacingOccurrences(of: "T", with: " ")
}

struct FraudPage: Sendable {
    struct Option: Sendable { var value: String, label: String, selected: Bool }
    struct Row: Sendable {
        var id: String, label: String, enabled: Bool, threshold: Int64, window: Int64, units: [Option], percent: Int64, usesPercent: Bool
        var actions: [Option], measures: [Option], anyMeasures: Bool
        var alerts: Int64, open: Int64, confirmed: Int64, dismissed: Int64, evaluated: Bool, injected: Int64, caught: Int64, normal: Int64, flagged: Int64
    }
    var frame: Frame
    var rows: [Row]
    var evaluatedAt: String?

    init(session: BackOfficeSession, rules: [FraudRule], figures: [FraudRuleFigures], notice: (String, Bool)?) {
        frame = Frame("Fraud", session: session, active: "/fraud", notice: notice)
        let byRule = Dictionary(figures.map { ($0.ruleID, $0) }, uniquingKeysWith: { a, _ in a })
        rows = rules.map { r in
            let (window, unit): (Int64, String) = r.windowSeconds % 86_400 == 0 ? (r.windowSeconds / 86_400, "days")
                : r.windowSeconds % 3_600 == 0 ? (r.windowSeconds / 3_600, "hours") : (r.windowSeconds / 60, "minutes")
            let f = byRule[r.id]
            return Row(id: r.id, label: r.kind.label, enabled: r.enabled, threshold: r.threshold, window: window,
                       units: ["minutes", "hours", "days"].map { Option(value: $0, label: $0, selected: $0 == unit) }, percent: r.percent,
                       usesPercent: r.kind == .cardOneCashier || r.kind == .cashierNorm,
                       actions: FraudAction.allCases.filter { $0 == .alert || r.kind.isAboutCards }.map {
                           Option(value: $0.rawValue, label: ["alert": "Alert only", "hold": "Alert and hold the card's points", "block": "Alert and block the card"][$0.rawValue] ?? $0.rawValue,
                                  selected: $0 == r.action)
                       },
                       measures: r.kind.measures.map { Option(value: $0, label: $0, selected: $0 == r.measure) }, anyMeasures: !r.kind.measures.isEmpty,
                       alerts: f?.alerts ?? 0, open: f?.open ?? 0, confirmed: f?.confirmed ?? 0, dismissed: f?.dismissed ?? 0, evaluated: f?.evaluatedAt != nil,
                       injected: f?.injected ?? 0, caught: f?.caught ?? 0, normal: f?.normal ?? 0, flagged: f?.flagged ?? 0)
        }
        evaluatedAt = figures.compactMap(\.evaluatedAt).max().map(utcMinute)
    }
}

struct FraudAlertsPage: Sendable {
    struct Row: Sendable { var id: Int64, when: String, rule: String, subject: String, store: String, figures: String, status: String, action: String? }
    struct Option: Sendable { var value: String, label: String, selected: Bool }
    var frame: Frame
    var rows: [Row], anyRows: Bool
    var statuses: [Option]
    var rule: String

    init(session: BackOfficeSession, alerts: [FraudAlert], status: String, rule: String) {
        frame = Frame("Fraud alerts", session: session, active: "/fraud")
        rows = alerts.map {
            Row(id: $0.id, when: utcMinute($0.happenedAt), rule: $0.ruleID, subject: Self.subject($0), store: $0.storeID ?? "", figures: $0.figures,
                status: $0.status, action: $0.action == "alert" ? nil : $0.action)
        }
        anyRows = !rows.isEmpty
        statuses = ([("", "All")] + FraudAlert.statuses.map { ($0, $0) }).map { Option(value: $0.0, label: $0.1, selected: $0.0 == status) }
        self.rule = rule
    }

    static func subject(_ a: FraudAlert) -> String {
        switch a.subjectKind {
        case "card": "card \(LoyaltyCardNumber.masked(a.subject))"
        case "cashier": "cashier \(a.cashier ?? "") at store \(a.storeID ?? "")"
        default: a.subject.replacingOccurrences(of: "phone:", with: "phone ").replacingOccurrences(of: "email:", with: "e-mail ")
        }
    }
}

struct FraudCasePage: Sendable {
    struct Item: Sendable { var kind: String, when: String, receipt: String, store: String, till: String, cashier: String, card: String, total: String, detail: String }
    struct Note: Sendable { var when: String, user: String, status: String, note: String }
    struct Option: Sendable { var value: String, selected: Bool }
    var frame: Frame
    var id: Int64, rule: String, subject: String, figures: String, status: String, when: String, raised: String
    var card: String?, customerID: String?, members: [String], anyMembers: Bool
    var items: [Item], anyItems: Bool
    var notes: [Note], anyNotes: Bool
    var statuses: [Option]

    init(session: BackOfficeSession, alert: FraudAlert, notes: [FraudNote], evidence: [FraudEvidence], money: Currency, notice: (String, Bool)?) {
        frame = Frame("Fraud case #\(alert.id)", session: session, active: "/fraud", notice: notice)
        id = alert.id
        rule = alert.ruleID
        subject = FraudAlertsPage.subject(alert)
        figures = alert.figures
        status = alert.status
        when = utcMinute(alert.happenedAt)
        raised = utcMinute(alert.createdAt) + (alert.action == "alert" ? "" : ", and the rule \(alert.action == "hold" ? "held the card's points" : "blocked the card")")
        card = alert.card.map(LoyaltyCardNumber.masked)
        customerID = alert.customerID
        members = alert.subjectKind == "details" ? alert.evidence : []
        anyMembers = !members.isEmpty
        items = evidence.map { e in
            var detail: [String] = []
            if e.pointsPaid > 0 { detail.append("\(money.format(e.pointsPaid)) paid with points") }
            if e.voids > 0 { detail.append("\(e.voids) voided") }
            if e.overrides > 0 { detail.append("\(e.overrides) price overrides") }
            if e.withoutReceipt { detail.append("no receipt") }
            return Item(kind: e.kind, when: utcMinute(e.at), receipt: e.receipt, store: e.storeID, till: e.tillID, cashier: e.cashier,
                        card: e.card.map(LoyaltyCardNumber.masked) ?? "", total: money.format(e.total), detail: detail.joined(separator: ", "))
        }
        anyItems = !items.isEmpty
        self.notes = notes.map { Note(when: utcMinute($0.at), user: $0.user, status: $0.status ?? "", note: $0.note) }
        anyNotes = !notes.isEmpty
        statuses = FraudAlert.statuses.map { Option(value: $0, selected: $0 == alert.status) }
    }
}
