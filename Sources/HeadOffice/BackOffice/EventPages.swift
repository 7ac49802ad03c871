import Foundation
import Hummingbird
import TillCore
import TillProtocol

/// The custom events page (admin and marketing): each event type a channel may report of a
/// member, its points and caps, how many earned points in the last 30 days; add or change one.
extension HeadOfficeServer {
    struct EventForm: Decodable {
        var code: String?, name: String?, points: String?, perDay: String?, perMonth: String?, active: String?
    }

    func addEventPages(_ router: RouterGroup<HeadOfficeContext>) {
        router.get("/events") { request, context -> Response in
            try await page(context, roles: Self.coalitionRoles) { session in
                let types = try await work.run { [store] in try store.eventTypes() }
                let editing = types.first { $0.type.code == formField(request, "edit") }?.type
                let feedback = try await work.run { [store] in try store.feedbackSettings() }
                var page = EventsPage(session: session, types: types, form: editing.map(EventsPage.Form.init) ?? .new, feedback: feedback)
                try await page.referrals(store, work: work)
                return render(.ok, "events", page)
            }
        }
        router.post("/events/referrals") { _, context -> Response in
            try await post(context, roles: Self.coalitionRoles) { session, posted in
                let f = try posted.decode(ReferralForm.self)
                let keyed = [f.referrerPoints, f.referredPoints, f.minSpend, f.days, f.monthlyCap].map { ($0 ?? "").trimmingCharacters(in: .whitespaces) }
                let currency = try await work.run { [store] in try store.currency() }
                var notice: (String, Bool)
                var status = HTTPResponse.Status.ok
                let numbers = [Int64(keyed[0]), Int64(keyed[1]), currency.parse(keyed[2]), Int64(keyed[3]), Int64(keyed[4])]
                if numbers.allSatisfy({ $0 != nil }) {
                    let s = ReferralSettings(referrerPoints: numbers[0]!, referredPoints: numbers[1]!, minSpend: numbers[2]!, days: numbers[3]!, monthlyCap: numbers[4]!)
                    do {
                        try await work.run { [store] in try store.saveReferralSettings(s) }
                        notice = ("Referrals now give \(s.referrerPoints) and \(s.referredPoints) points at a first purchase of \(currency.format(s.minSpend)) within \(s.days) days, at most \(s.monthlyCap) a month per member.", false)
                    } catch let e as ChannelRefusal { notice = (e.message, true); status = .unprocessableContent }
                } else {
                    notice = ("Points, days and the monthly cap are whole numbers and the minimum spend an amount such as 10.00 (got '\(keyed.joined(separator: "', '").prefix(120))')", true)
                    status = .unprocessableContent
                }
                let (types, feedback) = try await work.run { [store] in (try store.eventTypes(), try store.feedbackSettings()) }
                var page = EventsPage(session: session, types: types, form: .new, feedback: feedback, notice: notice)
                try await page.referrals(store, work: work)
                if status != .ok { page.referral = EventsPage.ReferralFields(keyed) }
                return render(status, "events", page)
            }
        }
        router.post("/events") { _, context -> Response in
            try await post(context, roles: Self.coalitionRoles) { session, posted in
                let f = try posted.decode(EventForm.self)
                let text = { (s: String?) in (s ?? "").trimmingCharacters(in: .whitespaces) }
                var form = EventsPage.Form(code: text(f.code), name: text(f.name), points: text(f.points), perDay: text(f.perDay),
                                           perMonth: text(f.perMonth), active: f.active == "yes", editing: false)
                func answer(_ status: HTTPResponse.Status, _ notice: (String, Bool), form: EventsPage.Form) async throws -> Response {
                    let (types, feedback) = try await work.run { [store] in (try store.eventTypes(), try store.feedbackSettings()) }
                    var page = EventsPage(session: session, types: types, form: form, feedback: feedback, notice: notice)
                    try await page.referrals(store, work: work)
                    return render(status, "events", page)
                }
                let types = try await work.run { [store] in try store.eventTypes() }
                form.editing = types.contains { $0.type.code == form.code }
                func number(_ s: String, _ what: String) throws -> Int64 {
                    guard let n = Int64(s.isEmpty ? "0" : s) else { throw ChannelRefusal(422, "\(what) '\(s.prefix(20))' must be a whole number") }
                    return n
                }
                do {
                    let t = EventType(code: form.code, name: form.name, points: try number(form.points, "Points"), perDay: try number(form.perDay, "The cap per day"),
                                      perMonth: try number(form.perMonth, "The cap per month"), active: form.active)
                    _ = try await work.run { [store] in try store.saveEventType(t, by: session.user.username) }
                    return try await answer(.ok, ("Event \(t.code) saved: channels earn members \(t.points) points for it.", false), form: .new)
                } catch let e as ChannelRefusal {
                    return try await answer(.unprocessableContent, (e.message, true), form: form)
                }
            }
        }
        router.post("/events/feedback") { _, context -> Response in
            try await post(context, roles: Self.coalitionRoles) { session, posted in
                let f = try posted.decode(FeedbackForm.self)
                let text = { (s: String?) in (s ?? "").trimmingCharacters(in: .whitespaces) }
                let notice: (String, Bool)
                var status = HTTPResponse.Status.ok
                if let points = Int64(text(f.points)), let days = Int64(text(f.days)) {
                    do {
                        try await work.run { [store] in try store.saveFeedbackSettings(FeedbackSettings(points: points, days: days)) }
                        notice = ("Surveys now earn \(points) points when answered within \(days) days of the visit.", false)
                    } catch let e as ChannelRefusal { notice = (e.message, true); status = .unprocessableContent }
                } else {
                    notice = ("Points '\(text(f.points).prefix(20))' and days '\(text(f.days).prefix(20))' must be whole numbers", true)
                    status = .unprocessableContent
                }
                let (types, feedback) = try await work.run { [store] in (try store.eventTypes(), try store.feedbackSettings()) }
                var page = EventsPage(session: session, types: types, form: .new, feedback: feedback, notice: notice)
                try await page.referrals(store, work: work)
                if status != .ok { (page.feedbackPoints, page.feedbackDays) = (text(f.points), text(f.days)) }   // what was keyed, to correct
                return render(status, "events", page)
            }
        }
        router.get("/feedback") { request, context -> Response in
            try await page(context, roles: Self.feedbackRoles) { session in
                let wanted = formField(request, "store").trimmingCharacters(in: .whitespaces)
                let storeID = session.user.storeScope ?? (wanted.isEmpty ? nil : String(wanted.prefix(40)))
                let query = String(formField(request, "q").prefix(100))
                let now = HeadOfficeStore.now()
                let (rows, comments, stores) = try await work.run { [store] in
                    (try store.npsReport(store: storeID, from: now - 366 * 86_400_000, to: now + 86_400_000),
                     try store.feedbackComments(store: storeID, query: query), try store.stores().map(\.id))
                }
                return render(.ok, "feedback", FeedbackPage(session: session, rows: rows, comments: comments, query: query, storeID: storeID ?? "",
                                                            stores: session.user.storeScope == nil ? stores : []))
            }
        }
    }

    static let feedbackRoles: Set<BackOfficeRole> = [.admin, .marketing, .store]

    struct FeedbackForm: Decodable { var points: String?, days: String? }
    struct ReferralForm: Decodable { var referrerPoints: String?, referredPoints: String?, minSpend: String?, days: String?, monthlyCap: String? }
}

struct FeedbackPage: Sendable {
    struct Row: Sendable { var store: String, month: String, responses: Int64, promoters: Int64, passives: Int64, detractors: Int64, nps: Int64 }
    struct Comment: Sendable { var store: String, receipt: String, score: Int64, text: String, date: String }
    struct Store: Sendable { var id: String, selected: Bool }
    var frame: Frame
    var rows: [Row], anyRows: Bool
    var comments: [Comment], anyComments: Bool
    var query: String
    var stores: [Store], chooseStore: Bool

    init(session: BackOfficeSession, rows: [NPSRow], comments: [FeedbackComment], query: String, storeID: String, stores: [String]) {
        frame = Frame("Feedback", session: session, active: "/feedback")
        self.rows = rows.map { Row(store: $0.storeID, month: $0.month, responses: $0.responses, promoters: $0.promoters, passives: $0.passives,
                                   detractors: $0.detractors, nps: $0.nps) }
        anyRows = !rows.isEmpty
        let utc = TimeZone(identifier: "UTC")!
        self.comments = comments.map { Comment(store: $0.storeID, receipt: $0.receiptNumber, score: $0.nps, text: $0.comment,
                                               date: String(ProtocolTime.format($0.at, timeZone: utc).prefix(10))) }
        anyComments = !comments.isEmpty
        self.query = query
        self.stores = stores.map { Store(id: $0, selected: $0 == storeID) }
        chooseStore = !stores.isEmpty
    }
}

struct EventsPage: Sendable {
    struct Row: Sendable { var code: String, name: String, points: Int64, caps: String, active: Bool, recent: Int64 }
    struct Form: Sendable {
        var code: String, name: String, points: String, perDay: String, perMonth: String, active: Bool, editing: Bool
        static let new = Form(code: "", name: "", points: "", perDay: "1", perMonth: "0", active: true, editing: false)
        init(code: String, name: String, points: String, perDay: String, perMonth: String, active: Bool, editing: Bool) {
            self.code = code; self.name = name; self.points = points; self.perDay = perDay; self.perMonth = perMonth
            self.active = active; self.editing = editing
        }
        init(_ t: EventType) {
            self.init(code: t.code, name: t.name, points: String(t.points), perDay: String(t.perDay), perMonth: String(t.perMonth),
                      active: t.active, editing: true)
        }
    }
    var frame: Frame
    var rows: [Row]
    var anyRows: Bool
    var form: Form
    var feedbackPoints: String, feedbackDays: String
    struct ReferralFields: Sendable {
        var referrerPoints: String, referredPoints: String, minSpend: String, days: String, monthlyCap: String
        init(_ v: [String]) { (referrerPoints, referredPoints, minSpend, days, monthlyCap) = (v[0], v[1], v[2], v[3], v[4]) }
    }
    struct ReferralRow: Sendable { var referred: String, referrer: String, channel: String, status: String, reason: String, date: String }
    var referral = ReferralFields(["", "", "", "", ""])
    var referralRows: [ReferralRow] = []
    var anyReferrals = false
    var referralCounts = ""

    /// The referral settings, how many by status, and the latest.
    mutating func referrals(_ store: HeadOfficeStore, work: BlockingWork) async throws {
        let (settings, counts, rows, currency) = try await work.run { [store] in
            (try store.referralSettings(), try store.referralCounts(), try store.referrals(limit: 30), try store.currency())
        }
        referral = ReferralFields([String(settings.referrerPoints), String(settings.referredPoints), currency.format(settings.minSpend), String(settings.days),
                                   String(settings.monthlyCap)])
        let utc = TimeZone(identifier: "UTC")!
        referralRows = rows.map { ReferralRow(referred: "\($0.referredName) (\($0.referredID))", referrer: $0.referrerID, channel: $0.channel, status: $0.status,
                                              reason: $0.reason ?? "", date: String(ProtocolTime.format($0.registeredAt, timeZone: utc).prefix(10))) }
        anyReferrals = !rows.isEmpty
        referralCounts = ["registered", "rewarded", "refused", "expired", "reversed"].map { "\(counts[$0] ?? 0) \($0)" }.joined(separator: ", ")
    }

    init(session: BackOfficeSession, types: [(type: EventType, recent: Int64)], form: Form, feedback: FeedbackSettings, notice: (String, Bool)? = nil) {
        feedbackPoints = String(feedback.points)
        feedbackDays = String(feedback.days)
        frame = Frame("Events", session: session, active: "/events", notice: notice)
        rows = types.map { t, recent in
            let day = t.perDay == 0 ? "no cap a day" : "at most \(t.perDay) a day"
            let month = t.perMonth == 0 ? "no cap a month" : "at most \(t.perMonth) a month"
            return Row(code: t.code, name: t.name, points: t.points, caps: "\(day), \(month)", active: t.active, recent: recent)
        }
        anyRows = !rows.isEmpty
        self.form = form
    }
}
