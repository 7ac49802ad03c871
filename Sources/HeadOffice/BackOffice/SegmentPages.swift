import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TillCore
import TillProtocol

/// The segments pages (admin, marketing): the RFM cells and the saved segments; the builder,
/// where every condition is added with the mouse (each kind of condition its own row: choose,
/// click Add) and the count of members follows every change; a segment saved as a new version,
/// and its members as CSV.
extension HeadOfficeServer {
    struct SegmentForm: Decodable {
        var definition: String?, id: String?, name: String?, action: String?, group: String?
        var text: String?, min: String?, max: String?, days: String?, date: String?, flag: String?, remove: String?
    }

    func addSegmentPages(_ router: RouterGroup<HeadOfficeContext>) {
        router.get("/segments") { request, context -> Response in
            try await page(context, roles: Self.coalitionRoles) { session in
                let scored = formField(request, "scored")
                return try await segmentsPage(session, notice: scored.isEmpty ? nil : ("\(scored) members scored: the cells below are up to date.", false))
            }
        }
        router.post("/segments/rfm") { _, context -> Response in
            try await post(context, roles: Self.coalitionRoles) { _, _ in
                let result = try await work.run { [store] in try store.computeRFM() }
                return redirect("/segments?scored=\(result.members)")
            }
        }
        router.get("/segments/new") { _, context -> Response in
            try await page(context, roles: Self.coalitionRoles) { session in
                try await builderPage(session, definition: SegmentDefinition(), id: nil, name: "", notice: nil)
            }
        }
        router.get("/segments/view") { request, context -> Response in
            try await page(context, roles: Self.coalitionRoles) { session in
                let id = formField(request, "id")
                let versions = try await work.run { [store] in try store.segmentVersions(id) }
                let wanted = Int64(formField(request, "version"))
                guard let shown = versions.first(where: { wanted == nil || $0.version == wanted }) else {
                    return message(.notFound, "Segments", session, active: "/segments", notice: ("There is no segment '\(id.prefix(48))' (or no such version of it)", true), back: "/segments")
                }
                return try await builderPage(session, definition: shown.definition, id: shown.id, name: shown.name, notice: nil, versions: versions, shown: shown.version)
            }
        }
        router.get("/segments/members.csv") { request, context -> Response in
            try await page(context, roles: Self.coalitionRoles) { session in
                let id = formField(request, "id")
                let versions = try await work.run { [store] in try store.segmentVersions(id) }
                let wanted = Int64(formField(request, "version"))
                guard let s = versions.first(where: { wanted == nil || $0.version == wanted }) else {
                    return message(.notFound, "Segments", session, active: "/segments", notice: ("There is no segment '\(id.prefix(48))' (or no such version of it)", true), back: "/segments")
                }
                let csv = try await work.run { [store] in try store.segmentCSV(s.definition) }
                return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                                                       .contentDisposition: "attachment; filename=\"segment-\(s.id)-v\(s.version).csv\""],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: csv)))
            }
        }
        router.post("/segments/build") { _, context -> Response in
            try await post(context, roles: Self.coalitionRoles) { session, posted in
                let f = try posted.decode(SegmentForm.self)
                let id = (f.id ?? "").isEmpty ? nil : f.id
                let name = f.name ?? ""
                var definition: SegmentDefinition
                do { definition = try SegmentDefinition.decode(f.definition ?? "") } catch let p as SegmentProblem {
                    return try await builderPage(session, definition: SegmentDefinition(), id: id, name: name, notice: (p.description, true), status: .unprocessableContent)
                }
                let before = definition
                do {
                    try await buildStep(&definition, f)
                    try definition.validate()
                } catch let p as SegmentProblem {
                    return try await builderPage(session, definition: before, id: id, name: name, notice: (p.description, true), status: .unprocessableContent)
                }
                if f.action == "save" {
                    do {
                        let saved = try await work.run { [store, definition] in try store.saveSegment(id: id, name: name, definition: definition, by: session.user.username) }
                        let versions = try await work.run { [store] in try store.segmentVersions(saved.id) }
                        return try await builderPage(session, definition: saved.definition, id: saved.id, name: saved.name,
                                                     notice: ("Saved '\(saved.name)' as version \(saved.version): \(saved.members) members now.", false),
                                                     versions: versions, shown: saved.version)
                    } catch let p as SegmentProblem {
                        return try await builderPage(session, definition: definition, id: id, name: name, notice: (p.description, true), status: .unprocessableContent)
                    }
                }
                return try await builderPage(session, definition: definition, id: id, name: name, notice: nil)
            }
        }
    }

    /// One change the builder's buttons ask for: add a condition (`action` is its field), remove
    /// one (`remove` is "group.condition"), add a group, switch how conditions or groups combine.
    private func buildStep(_ d: inout SegmentDefinition, _ f: SegmentForm) async throws {
        let action = f.action ?? ""
        let group = Int(f.group ?? "") ?? 0
        func text(_ s: String?) -> String { (s ?? "").trimmingCharacters(in: .whitespaces) }
        func number(_ s: String?, _ what: String) throws -> Int64? {
            let t = text(s)
            guard !t.isEmpty else { return nil }
            guard let n = Int64(t) else { throw SegmentProblem("\(what): '\(t.prefix(30))' is not a whole number") }
            return n
        }
        switch action {
        case "save": return
        case "new-group":
            guard d.groups.count < SegmentDefinition.maxGroups else { throw SegmentProblem("A segment has at most \(SegmentDefinition.maxGroups) groups") }
            d.groups.append(SegmentGroup())
        case "match": d.match = d.match == .all ? .any : .all
        case "group-match":
            guard d.groups.indices.contains(group) else { throw SegmentProblem("There is no group \(group + 1)") }
            d.groups[group].match = d.groups[group].match == .all ? .any : .all
        case "remove":
            let parts = text(f.remove).split(separator: ".").compactMap { Int($0) }
            guard parts.count == 2, d.groups.indices.contains(parts[0]), d.groups[parts[0]].conditions.indices.contains(parts[1]) else {
                throw SegmentProblem("That condition is no longer there: the builder below shows the segment as it is")
            }
            d.groups[parts[0]].conditions.remove(at: parts[1])
            if d.groups[parts[0]].conditions.isEmpty && d.groups.count > 1 { d.groups.remove(at: parts[0]) }
        default:
            guard let field = SegmentField(rawValue: action) else { throw SegmentProblem("'\(action.prefix(30))' is not something the builder can add") }
            guard d.groups.indices.contains(group) else { throw SegmentProblem("There is no group \(group + 1) to add to") }
            var c = SegmentCondition(field)
            switch field {
            case .tier, .store, .postcode, .rfm, .category, .sku: c.text = text(f.text)
            case .consent: c.flag = f.flag == "yes" ? true : f.flag == "no" ? false : nil
            case .registeredSince, .lastSeenBefore: c.date = text(f.date)
            case .age, .visits, .balance:
                c.min = try number(f.min, field.label); c.max = try number(f.max, field.label)
            case .spend:
                let money = try await currency()
                for (raw, keyPath) in [(text(f.min), \SegmentCondition.min), (text(f.max), \SegmentCondition.max)] where !raw.isEmpty {
                    guard let v = money.parse(raw) else { throw SegmentProblem("\(field.label): '\(raw.prefix(30))' is not an amount (e.g. 250.00)") }
                    c[keyPath: keyPath] = v
                }
            }
            if field == .category || field == .sku { c.days = try number(f.days, "The days to look back") }
            try c.validate()
            guard d.groups[group].conditions.count < SegmentDefinition.maxConditions else {
                throw SegmentProblem("Group \(group + 1) has \(SegmentDefinition.maxConditions) conditions already")
            }
            d.groups[group].conditions.append(c)
        }
    }

    func segmentsPage(_ session: BackOfficeSession, notice: (String, Bool)?) async throws -> Response {
        let (segments, rfm) = try await work.run { [store] in (try store.segments(), try store.rfmCells()) }
        let money = try await currency()
        return render(.ok, "segments", SegmentsPage(
            frame: Frame("Segments", session: session, active: "/segments", notice: notice),
            scoredAt: rfm.computedAt.map { ProtocolTime.format($0, timeZone: TimeZone(identifier: "UTC")!).prefix(16).replacingOccurrences(of: "T", with: " ") + " UTC" },
            cells: rfm.cells.map { .init(cell: $0.0.rawValue, meaning: $0.0.meaning, members: $0.1) },
            segments: segments.map { .init(id: $0.id, name: $0.name, version: $0.version, members: $0.members, by: $0.createdBy,
                                           conditions: $0.definition.describe(money: money.format)) },
            anySegments: !segments.isEmpty))
    }

    func builderPage(_ session: BackOfficeSession, definition: SegmentDefinition, id: String?, name: String, notice: (String, Bool)?,
                     versions: [Segment] = [], shown: Int64? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let money = try await currency()
        let started = Date()
        let (count, all, choices) = try await work.run { [store] () -> (Int64, Int64, SegmentChoices) in
            (try store.segmentCount(definition), try store.segmentCount(SegmentDefinition()), try store.segmentChoices())
        }
        let countMs = Int(Date().timeIntervalSince(started) * 1000)
        let json = definition.json
        let groups = definition.groups.enumerated().map { g, group in
            SegmentBuilderPage.Group(
                index: g, number: g + 1, matchLabel: group.match == .all ? "all of these" : "any of these",
                otherMatch: group.match == .all ? "any" : "all",
                conditions: group.conditions.enumerated().map { .init(key: "\(g).\($0.offset)", text: $0.element.describe(money: money.format)) },
                empty: group.conditions.isEmpty, notLast: g < definition.groups.count - 1)
        }
        let targets = definition.groups.indices.map { SegmentBuilderPage.Choice(value: "\($0)", label: "group \($0 + 1)") }
        return render(status, "segment", SegmentBuilderPage(
            frame: Frame(id == nil ? "New segment" : "Segment: \(name)", session: session, active: "/segments", notice: notice),
            definition: json, id: id ?? "", name: name, count: count, all: all, countMs: countMs,
            groups: groups, joiner: definition.match == .all ? "and" : "or", otherMatch: definition.match == .all ? "any" : "all",
            manyGroups: definition.groups.count > 1, targets: targets,
            tiers: choices.tiers.map { .init(value: $0.0, label: "\($0.1) (\($0.0))") },
            stores: choices.stores.map { .init(value: $0, label: $0) },
            categories: choices.categories.map { .init(value: $0, label: $0) },
            cells: RFMCell.allCases.map { .init(value: $0.rawValue, label: "\($0.rawValue): \($0.meaning)") },
            versions: versions.map { .init(version: $0.version, members: $0.members, by: $0.createdBy,
                                           at: ProtocolTime.format($0.createdAt, timeZone: TimeZone(identifier: "UTC")!).prefix(16).replacingOccurrences(of: "T", with: " "),
                                           conditions: $0.definition.describe(money: money.format), shown: $0.version == shown) },
            anyVersions: !versions.isEmpty))
    }
}

/// The segments page (the `segments` template).
struct SegmentsPage: Sendable {
    struct Cell: Sendable { var cell: String, meaning: String, members: Int64 }
    struct Row: Sendable { var id: String, name: String, version: Int64, members: Int64, by: String, conditions: String }
    var frame: Frame
    var scoredAt: String?
    var cells: [Cell]
    var segments: [Row]
    var anySegments: Bool
}

/// The segment builder (the `segment` template).
struct SegmentBuilderPage: Sendable {
    struct Condition: Sendable { var key: String, text: String }
    struct Group: Sendable { var index: Int, number: Int, matchLabel: String, otherMatch: String, conditions: [Condition], empty: Bool, notLast: Bool }
    struct Choice: Sendable { var value: String, label: String }
    struct Version: Sendable { var version: Int64, members: Int64, by: String, at: String, conditions: String, shown: Bool }
    var frame: Frame
    var definition: String, id: String, name: String
    var count: Int64, all: Int64, countMs: Int
    var groups: [Group]
    var joiner: String, otherMatch: String, manyGroups: Bool
    var targets: [Choice], tiers: [Choice], stores: [Choice], categories: [Choice], cells: [Choice]
    var anyTiers: Bool { !tiers.isEmpty }
    var saved: Bool { !id.isEmpty }
    var versions: [Version]
    var anyVersions: Bool
}
