import Foundation
import TillCore
import TillProtocol

// MARK: Segments

/// A segment: members chosen by conditions on what head office knows of them, in groups. The
/// groups combine by `match` (all: every group holds; any: one does), each group's conditions
/// by its own.
public struct SegmentDefinition: Codable, Sendable, Equatable {
    public enum Match: String, Codable, Sendable, CaseIterable { case all, any }
    public var match: Match
    public var groups: [SegmentGroup]
    public init(match: Match = .all, groups: [SegmentGroup] = [SegmentGroup()]) {
        self.match = match
        self.groups = groups
    }

    public static let maxGroups = 10, maxConditions = 20

    /// Checks every condition is within its bounds; the first wrong one, said plainly.
    public func validate() throws {
        guard groups.count <= Self.maxGroups else { throw SegmentProblem("A segment has at most \(Self.maxGroups) groups (this one has \(groups.count))") }
        for (g, group) in groups.enumerated() {
            guard group.conditions.count <= Self.maxConditions else {
                throw SegmentProblem("Group \(g + 1) has \(group.conditions.count) conditions: at most \(Self.maxConditions)")
            }
            for c in group.conditions { try c.validate() }
        }
    }

    public var isEmpty: Bool { groups.allSatisfy(\.conditions.isEmpty) }

    public static func decode(_ json: String) throws -> SegmentDefinition {
        guard json.utf8.count <= 64_000, let d = try? JSONDecoder().decode(SegmentDefinition.self, from: Data(json.utf8)) else {
            throw SegmentProblem("The segment's conditions could not be read: start the segment again")
        }
        try d.validate()
        return d
    }

    public var json: String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: (try? e.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

public struct SegmentGroup: Codable, Sendable, Equatable {
    public var match: SegmentDefinition.Match
    public var conditions: [SegmentCondition]
    public init(match: SegmentDefinition.Match = .all, conditions: [SegmentCondition] = []) {
        self.match = match
        self.conditions = conditions
    }
}

/// What a condition looks at.
public enum SegmentField: String, Codable, Sendable, CaseIterable {
    case tier, store, postcode, age, consent, rfm, category, sku, spend, visits, balance, registeredSince, lastSeenBefore

    public var label: String {
        switch self {
        case .tier: "Tier is"
        case .store: "Home store is"
        case .postcode: "Postcode starts with"
        case .age: "Age between"
        case .consent: "Agreed to marketing"
        case .rfm: "RFM cell is"
        case .category: "Bought in category, last N days"
        case .sku: "Bought SKU, last N days"
        case .spend: "Spend in the last 12 months between"
        case .visits: "Visits in the last 12 months between"
        case .balance: "Points balance between"
        case .registeredSince: "Registered on or after"
        case .lastSeenBefore: "Last purchase before"
        }
    }
}

/// One condition. `text` is the tier code, store, postcode prefix, RFM cell, category or SKU;
/// `min`/`max` bound ages (years), spend (minor units), visits and points; `days` is how far
/// back "bought" looks; `date` (YYYY-MM-DD) is for registered on or after and last purchase
/// before; `flag` is yes or no for consent.
public struct SegmentCondition: Codable, Sendable, Equatable {
    public var field: SegmentField
    public var text: String?
    public var min: Int64?
    public var max: Int64?
    public var days: Int64?
    public var date: String?
    public var flag: Bool?

    public init(_ field: SegmentField, text: String? = nil, min: Int64? = nil, max: Int64? = nil, days: Int64? = nil, date: String? = nil, flag: Bool? = nil) {
        self.field = field
        self.text = text
        self.min = min
        self.max = max
        self.days = days
        self.date = date
        self.flag = flag
    }

    static let maxAmount: Int64 = 1_000_000_000_000

    func validate() throws {
        func need(_ ok: Bool, _ message: @autoclosure () -> String) throws { if !ok { throw SegmentProblem(message()) } }
        switch field {
        case .tier, .store, .category, .sku:
            let t = text ?? ""
            try need(!t.isEmpty && t.count <= 64 && !t.contains(where: \.isNewline), "\(field.label): give a value of 1 to 64 characters (got '\(t.prefix(64))')")
        case .postcode:
            let t = text ?? ""
            try need(!t.isEmpty && t.count <= 10 && t.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " ") },
                     "Postcode starts with: give 1 to 10 letters or digits (got '\(t.prefix(20))')")
        case .rfm:
            try need(RFMCell(rawValue: text ?? "") != nil, "RFM cell: '\((text ?? "").prefix(30))' is not a cell; choose one of \(RFMCell.allCases.map(\.rawValue).joined(separator: ", "))")
        case .consent:
            try need(flag != nil, "Agreed to marketing: choose yes or no")
        case .registeredSince, .lastSeenBefore:
            try need(date.map(Self.isDate) == true, "\(field.label): '\((date ?? "").prefix(20))' is not a date; key it as YYYY-MM-DD")
        case .age, .spend, .visits, .balance:
            let top: Int64 = field == .age ? 150 : Self.maxAmount
            try need(min != nil || max != nil, "\(field.label): give a lowest, a highest or both")
            for v in [min, max].compactMap({ $0 }) { try need(v >= 0 && v <= top, "\(field.label): \(v) is outside 0 to \(top)") }
            if let lo = min, let hi = max { try need(lo <= hi, "\(field.label): the lowest (\(lo)) is above the highest (\(hi))") }
        }
        if field == .category || field == .sku {
            try need((1...3_660).contains(days ?? 0), "\(field.label): the days to look back must be 1 to 3660 (got \(days.map(String.init) ?? "none"))")
        }
    }

    static func isDate(_ s: String) -> Bool {
        s.count == 10 && ProtocolTime.parse(s + "T00:00:00Z") != nil
    }

    /// How the condition reads, for the builder and the segment's page.
    public func describe(money: (Int64) -> String) -> String {
        func range(_ f: (Int64) -> String) -> String {
            switch (min, max) {
            case let (lo?, hi?): "\(f(lo)) to \(f(hi))"
            case let (lo?, nil): "at least \(f(lo))"
            case let (nil, hi?): "at most \(f(hi))"
            default: "any"
            }
        }
        switch field {
        case .tier: return "tier is \(text ?? "")"
        case .store: return "home store is \(text ?? "")"
        case .postcode: return "postcode starts with \(text ?? "")"
        case .age: return "age \(range { "\($0)" })"
        case .consent: return flag == true ? "agreed to marketing" : "did not agree to marketing"
        case .rfm: return "RFM cell is \(text ?? "")"
        case .category: return "bought in category \(text ?? "") in the last \(days ?? 0) days"
        case .sku: return "bought SKU \(text ?? "") in the last \(days ?? 0) days"
        case .spend: return "spent \(range(money)) in the last 12 months"
        case .visits: return "visited \(range { "\($0)" }) times in the last 12 months"
        case .balance: return "points balance \(range { "\($0)" })"
        case .registeredSince: return "registered on or after \(date ?? "")"
        case .lastSeenBefore: return "last purchase before \(date ?? "") (or none)"
        }
    }

    /// The condition as SQL over `customers c` and `member_rfm r`, and its arguments. `fence`
    /// ends each member-set subquery: on PostgreSQL " OFFSET 0", which keeps the set computed
    /// once and hashed (not probed once per member, as its planner otherwise may).
    func sql(today: Int64, fence: String = "") -> (String, [SQLValue]) {
        let lo = min ?? 0, hi = max ?? Int64.max
        switch field {
        case .tier:
            return ("c.id IN (SELECT customer_id FROM cards WHERE tier_code = ? AND status = 'active' AND customer_id IS NOT NULL\(fence))", [.text(text ?? "")])
        case .store: return ("c.store_id = ?", [.text(text ?? "")])
        case .postcode:
            return ("UPPER(REPLACE(COALESCE(c.postcode, ''), ' ', '')) LIKE ?", [.text((text ?? "").uppercased().replacingOccurrences(of: " ", with: "") + "%")])
        case .age:
            // Born on or before today less `min` years, and after today less `max + 1` years.
            let (y, mo, d) = ProtocolTime.civil(fromDays: today)
            func back(_ years: Int64) -> String { String(format: "%04d-%02d-%02d", Swift.max(0, Int(y) - Int(years)), Int(mo), Int(d)) }
            return ("(c.birth_date IS NOT NULL AND c.birth_date <> '' AND c.birth_date <= ? AND c.birth_date > ?)", [.text(back(lo)), .text(back(Swift.min(hi, 150) + 1))])
        case .consent: return ("c.marketing_consent = ?", [.int(flag == true ? 1 : 0)])
        case .rfm: return ("r.cell = ?", [.text(text ?? "")])
        case .category, .sku:
            // One seek per day (the table is keyed by day, then item): the days are numbers
            // head office computed, written into the statement; the item is an argument.
            let item = (field == .category ? "c:" : "s:") + (text ?? "")
            let n = Swift.min(Swift.max(days ?? 1, 1), 3_660)
            let dayList = ((today - n + 1)...today).map(String.init).joined(separator: ",")
            return ("""
                c.id IN (SELECT k.customer_id FROM card_items i JOIN cards k ON k.number = i.card_number WHERE i.day IN (\(dayList)) AND i.item = ? AND k.customer_id IS NOT NULL\(fence))
                """, [.text(item)])
        case .spend: return ("COALESCE(r.spend, 0) BETWEEN ? AND ?", [.int(lo), .int(hi)])
        case .visits: return ("COALESCE(r.visits, 0) BETWEEN ? AND ?", [.int(lo), .int(hi)])
        case .balance:
            // The members' balances summed once (a member without an active card has 0).
            let sums = "SELECT customer_id FROM cards WHERE status = 'active' AND customer_id IS NOT NULL GROUP BY customer_id"
            if lo <= 0 { return ("c.id NOT IN (\(sums) HAVING SUM(balance) > ?\(fence))", [.int(hi)]) }
            return ("c.id IN (\(sums) HAVING SUM(balance) BETWEEN ? AND ?\(fence))", [.int(lo), .int(hi)])
        case .registeredSince: return ("COALESCE(c.registered_at, '') >= ?", [.text(date ?? "")])
        case .lastSeenBefore:
            let day = (ProtocolTime.parse((date ?? "") + "T00:00:00Z") ?? 0) / 86_400_000
            return ("(r.last_day IS NULL OR r.last_day < ?)", [.int(day)])
        }
    }
}

/// A segment that cannot be built as asked, said so the marketer can put it right.
public struct SegmentProblem: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// A saved segment's version.
public struct Segment: Sendable, Equatable {
    public var id: String, version: Int64, name: String, definition: SegmentDefinition, members: Int64, createdBy: String, createdAt: Int64
}

/// A member of a segment, for its CSV.
public struct SegmentMember: Sendable, Equatable {
    public var id: String, firstName: String, lastName: String, email: String?, postcode: String?, store: String?, consent: Bool, cell: String?
}

extension SegmentDefinition {
    /// How the segment reads ("every member" when it has no condition).
    public func describe(money: (Int64) -> String) -> String {
        let groups = self.groups.filter { !$0.conditions.isEmpty }
        guard !groups.isEmpty else { return "every member" }
        return groups.map { g in
            "(" + g.conditions.map { $0.describe(money: money) }.joined(separator: g.match == .all ? " and " : " or ") + ")"
        }.joined(separator: match == .all ? " and " : " or ")
    }

    /// The WHERE clause of the members it holds (live members only), and its arguments.
    func sql(today: Int64, fence: String = "") -> (String, [SQLValue]) {
        var args: [SQLValue] = []
        let groups = self.groups.filter { !$0.conditions.isEmpty }.map { g -> String in
            let parts = g.conditions.map { c -> String in
                let (s, a) = c.sql(today: today, fence: fence)
                args += a
                return "(" + s + ")"
            }
            return "(" + parts.joined(separator: g.match == .all ? " AND " : " OR ") + ")"
        }
        let live = "c.erased_at IS NULL AND c.merged_into IS NULL"
        return (groups.isEmpty ? live : live + " AND (" + groups.joined(separator: match == .all ? " AND " : " OR ") + ")", args)
    }
}

extension HeadOfficeStore {
    static let segmentFrom = "FROM customers c LEFT JOIN member_rfm r ON r.customer_id = c.id"
    var segmentFence: String { database.kind == .postgres ? " OFFSET 0" : "" }

    /// How many members the segment holds now (the sales not yet rolled up are first).
    public func segmentCount(_ definition: SegmentDefinition, at time: Int64 = HeadOfficeStore.now()) throws -> Int64 {
        try definition.validate()
        try rollUpReports()
        let (whereSQL, args) = definition.sql(today: time / 86_400_000, fence: segmentFence)
        return try database.read { c in try c.queryOne("SELECT COUNT(*) AS n \(Self.segmentFrom) WHERE \(whereSQL)", args)?.int("n") ?? 0 }
    }

    /// The members the segment holds now, by id (`limit` of them, or all).
    public func segmentMembers(_ definition: SegmentDefinition, limit: Int? = nil, at time: Int64 = HeadOfficeStore.now()) throws -> [SegmentMember] {
        try definition.validate()
        try rollUpReports()
        let (whereSQL, args) = definition.sql(today: time / 86_400_000, fence: segmentFence)
        let tail = limit.map { " LIMIT \(Swift.max(0, $0))" } ?? ""
        return try database.read { c in
            try c.query("""
                SELECT c.id, c.first_name, c.last_name, c.email, c.postcode, c.store_id, c.marketing_consent, r.cell \(Self.segmentFrom)
                WHERE \(whereSQL) ORDER BY c.id\(tail)
                """, args).map {
                SegmentMember(id: $0.text("id"), firstName: $0.text("first_name"), lastName: $0.text("last_name"), email: $0["email"].text,
                              postcode: $0["postcode"].text, store: $0["store_id"].text, consent: $0.int("marketing_consent") != 0, cell: $0["cell"].text)
            }
        }
    }

    /// The segment's members as CSV (one row each, with a header), for a mailing house or a sheet.
    public func segmentCSV(_ definition: SegmentDefinition) throws -> String {
        var out = "member,first_name,last_name,email,postcode,home_store,marketing_consent,rfm_cell\r\n"
        for m in try segmentMembers(definition) {
            out += [m.id, m.firstName, m.lastName, m.email ?? "", m.postcode ?? "", m.store ?? "", m.consent ? "yes" : "no", m.cell ?? ""]
                .map(Self.csvField).joined(separator: ",") + "\r\n"
        }
        return out
    }

    /// The id a segment's or a campaign's name gives (lower case letters, digits and dashes), of
    /// at most `max` characters.
    public static func slug(_ name: String, max: Int = 48) -> String {
        var id = ""
        for ch in name.lowercased() {
            if ch.isASCII && (ch.isLetter || ch.isNumber) { id.append(ch) } else if !id.isEmpty && id.last != "-" { id.append("-") }
        }
        id = String(id.prefix(max))
        while id.hasSuffix("-") { id.removeLast() }
        return id
    }

    /// Saves a segment: a new one (`id` nil; its name must be new), or a new version of `id`.
    /// The version keeps the definition and how many members it held when saved.
    @discardableResult
    public func saveSegment(id: String?, name: String, definition: SegmentDefinition, by user: String, at time: Int64 = HeadOfficeStore.now()) throws -> Segment {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 80 else { throw SegmentProblem("Give the segment a name of 1 to 80 characters") }
        guard !definition.isEmpty else { throw SegmentProblem("Add at least one condition before saving: a segment of every member needs none") }
        let members = try segmentCount(definition, at: time)
        return try database.write { c in
            let key: String
            if let id {
                guard try c.queryOne("SELECT id FROM segments WHERE id = ? LIMIT 1", [.text(id)]) != nil else { throw SegmentProblem("There is no segment '\(id.prefix(48))'") }
                key = id
            } else {
                key = Self.slug(name)
                guard !key.isEmpty else { throw SegmentProblem("The name '\(name.prefix(80))' needs at least one letter or digit") }
                guard try c.queryOne("SELECT id FROM segments WHERE id = ? LIMIT 1", [.text(key)]) == nil else {
                    throw SegmentProblem("A segment named '\(name.prefix(80))' exists already: open it to save a new version, or choose another name")
                }
            }
            let version = (try c.queryOne("SELECT MAX(version) AS v FROM segments WHERE id = ?", [.text(key)])?["v"].int ?? 0) + 1
            try c.execute("INSERT INTO segments (id, version, name, definition, members, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                          [.text(key), .int(version), .text(name), .text(definition.json), .int(members), .text(user), .int(time)])
            return Segment(id: key, version: version, name: name, definition: definition, members: members, createdBy: user, createdAt: time)
        }
    }

    /// Every saved segment's latest version, by name.
    public func segments() throws -> [Segment] {
        try database.read { c in
            try c.query("""
                SELECT s.* FROM segments s WHERE s.version = (SELECT MAX(version) FROM segments t WHERE t.id = s.id) ORDER BY s.name
                """, []).compactMap(Self.segment)
        }
    }

    /// A segment's versions, newest first (empty: no such segment).
    public func segmentVersions(_ id: String) throws -> [Segment] {
        try database.read { c in try c.query("SELECT * FROM segments WHERE id = ? ORDER BY version DESC", [.text(id)]).compactMap(Self.segment) }
    }

    static func segment(_ r: SQLRow) -> Segment? {
        guard let d = try? SegmentDefinition.decode(r.text("definition")) else { return nil }
        return Segment(id: r.text("id"), version: r.int("version"), name: r.text("name"), definition: d, members: r.int("members"),
                       createdBy: r.text("created_by"), createdAt: r.int("created_at"))
    }
}

/// What the builder's lists offer: the programme's tiers, the stores, the catalog's categories.
public struct SegmentChoices: Sendable {
    public var tiers: [(String, String)], stores: [String], categories: [String]
}

extension HeadOfficeStore {
    public func segmentChoices() throws -> SegmentChoices {
        let tiers = (try latestProgramme()?.tiers ?? []).map { ($0.code, $0.name) }
        return try database.read { c in
            let stores = try c.query("SELECT store_id FROM stores UNION SELECT DISTINCT store_id FROM tills ORDER BY store_id", []).map { $0.text("store_id") }
            let categories = try c.query("SELECT DISTINCT category FROM products WHERE category <> '' ORDER BY category LIMIT 500", []).map { $0.text("category") }
            return SegmentChoices(tiers: tiers, stores: stores, categories: categories)
        }
    }
}

