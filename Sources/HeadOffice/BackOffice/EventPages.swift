import Foundation
import Hummingbird

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
                return render(.ok, "events", EventsPage(session: session, types: types, form: editing.map(EventsPage.Form.init) ?? .new))
            }
        }
        router.post("/events") { _, context -> Response in
            try await post(context, roles: Self.coalitionRoles) { session, posted in
                let f = try posted.decode(EventForm.self)
                let text = { (s: String?) in (s ?? "").trimmingCharacters(in: .whitespaces) }
                var form = EventsPage.Form(code: text(f.code), name: text(f.name), points: text(f.points), perDay: text(f.perDay),
                                           perMonth: text(f.perMonth), active: f.active == "yes", editing: false)
                func answer(_ status: HTTPResponse.Status, _ notice: (String, Bool), form: EventsPage.Form) async throws -> Response {
                    let types = try await work.run { [store] in try store.eventTypes() }
                    return render(status, "events", EventsPage(session: session, types: types, form: form, notice: notice))
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
                    try await work.run { [store] in try store.saveEventType(t, by: session.user.username) }
                    return try await answer(.ok, ("Event \(t.code) saved: channels earn members \(t.points) points for it.", false), form: .new)
                } catch let e as ChannelRefusal {
                    return try await answer(.unprocessableContent, (e.message, true), form: form)
                }
            }
        }
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

    init(session: BackOfficeSession, types: [(type: EventType, recent: Int64)], form: Form, notice: (String, Bool)? = nil) {
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
