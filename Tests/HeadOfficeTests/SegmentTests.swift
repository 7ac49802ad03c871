import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillStore
import TillTestSupport

/// Segments (issue 16): members' RFM scores from their sales, and segments built of conditions
/// on what head office knows of them, each count equal to what the tills' journals say.
@Suite("Segments and RFM", .serialized)
struct SegmentTests {
    static let today = ProtocolTime.parse("2026-11-30T12:00:00Z")!
    static let day: Int64 = 86_400_000

    @Test func quintilesShareAScoreForEqualFiguresAndSpreadTheRest() {
        #expect(quintiles([]) == [])
        #expect(quintiles([7]) == [1])
        // Ten distinct figures: two to each quintile, in order of the figure.
        #expect(quintiles([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1])
        // Ties take the score of the first of them: four members with 1 visit all score 1.
        #expect(quintiles([1, 1, 1, 1, 2, 3, 4, 5, 6, 9]) == [1, 1, 1, 1, 3, 3, 4, 4, 5, 5])
    }

    @Test func theCellsOfTheGrid() {
        #expect(RFMCell.of(r: 5, f: 5, m: 4) == .champions)
        #expect(RFMCell.of(r: 3, f: 4, m: 3) == .loyal)
        #expect(RFMCell.of(r: 5, f: 1, m: 1) == .new)
        #expect(RFMCell.of(r: 4, f: 2, m: 2) == .promising)
        #expect(RFMCell.of(r: 3, f: 1, m: 2) == .aboutToSleep)
        #expect(RFMCell.of(r: 1, f: 5, m: 5) == .cannotLose)
        #expect(RFMCell.of(r: 2, f: 3, m: 4) == .atRisk)
        #expect(RFMCell.of(r: 1, f: 1, m: 2) == .hibernating)
    }

    /// Two tills of two stores ring up members' sales on twelve days of the year before "today"
    /// (the last two days ago); head office applies them. Returns the journals' sale documents.
    static func history(_ store: HeadOfficeStore) throws -> ([SaleDocument], [TillSide]) {
        var docs: [SaleDocument] = [], tills: [TillSide] = []
        for (i, credential) in [TillCredential(storeID: "0001", tillID: "01"), TillCredential(storeID: "0002", tillID: "01")].enumerated() {
            _ = try store.registerTill(credential)
            let t = try TillSide(till: credential, seed: UInt64(70 + i))
            for (k, back) in [350, 300, 240, 180, 120, 90, 60, 40, 25, 14, 7, 2].enumerated() {
                t.generator = SaleGenerator(database: t.db, till: t.identity, seed: UInt64(70 + 13 * i + k), start: today - Int64(back + i) * day)
                t.generator.sales.variety = true
                _ = try t.generator.ring(4 + k % 3)
            }
            _ = try store.ingest(try t.batch(), from: credential)
            docs += try t.db.saleDocuments()
            tills.append(t)
        }
        return (docs, tills)
    }

    struct Oracle {
        var last: [String: Int64] = [:], visits: [String: Int64] = [:], spend: [String: Int64] = [:]
        var bought: [String: [(item: String, day: Int64)]] = [:]
    }

    static func oracle(_ docs: [SaleDocument]) -> Oracle {
        var o = Oracle()
        let since = today / day - HeadOfficeStore.rfmWindowDays + 1
        for d in docs {
            guard let card = d.loyalty?.cardNumber, let member = demoCards.first(where: { $0.number == card })?.customerID else { continue }
            let dayOf = ProtocolTime.parse(d.completedAt)! / day
            o.last[member] = max(o.last[member] ?? 0, dayOf)
            if dayOf >= since {
                o.visits[member, default: 0] += 1
                o.spend[member, default: 0] += d.totals.total
            }
            for l in d.lines where !l.voided {
                o.bought[member, default: []].append(("c:" + l.category, dayOf))
                o.bought[member, default: []].append(("s:" + l.sku, dayOf))
            }
        }
        return o
    }

    @Test(arguments: Backend.allCases)
    func membersAreScoredFromTheirSalesAndSegmentsCountAsTheJournalsSay(backend: Backend) throws {
        let dir = TemporaryDirectory("segments-\(backend)")
        let store = try makeHeadOffice(backend, dir)
        let (docs, tills) = try Self.history(store)
        let o = Self.oracle(docs)
        let members = demoCards.compactMap(\.customerID)
        #expect(o.visits.count >= 8, "the history gives several members purchases")

        // RFM: each member's figures are their sales'; the scores follow the figures; the cell is the scores'.
        let result = try store.computeRFM(at: Self.today)
        #expect(result.members == members.count)
        let rows = try store.database.read { c in try c.query("SELECT * FROM member_rfm", []) }
        var byID: [String: SQLRow] = [:]
        for r in rows { byID[r.text("customer_id")] = r }
        for m in members {
            let r = try #require(byID[m])
            #expect(r["last_day"].int == o.last[m], "\(m)'s last purchase")
            #expect(r.int("visits") == o.visits[m] ?? 0, "\(m)'s visits")
            #expect(r.int("spend") == o.spend[m] ?? 0, "\(m)'s spend")
            if (o.visits[m] ?? 0) > 0 {
                #expect(r.text("cell") == RFMCell.of(r: r.int("r"), f: r.int("f"), m: r.int("m")).rawValue)
            } else {
                #expect(r.text("cell") == (o.last[m] == nil ? "no purchase yet" : "lost"))
            }
        }
        let active = rows.filter { $0.int("visits") > 0 }
        for a in active {
            for b in active {
                if a.int("last_day") > b.int("last_day") { #expect(a.int("r") >= b.int("r")) }
                if a.int("visits") > b.int("visits") { #expect(a.int("f") >= b.int("f")) }
                if a.int("spend") > b.int("spend") { #expect(a.int("m") >= b.int("m")) }
                if a.int("visits") == b.int("visits") { #expect(a.int("f") == b.int("f"), "equal visits, equal score") }
            }
        }
        let (cells, at) = try store.rfmCells()
        #expect(at == Self.today)
        #expect(cells.reduce(0) { $0 + $1.1 } == Int64(members.count))

        // Members' details the conditions read.
        let five = members[4], six = members[5]
        try store.database.write { c in
            try c.execute("UPDATE customers SET birth_date = '1996-05-01', postcode = 'SW1A 1AA' WHERE id = ?", [.text(five)])
            try c.execute("UPDATE customers SET birth_date = '1960-01-01' WHERE id = ?", [.text(six)])
            try c.execute("UPDATE cards SET tier_code = 'GOLD' WHERE customer_id = ?", [.text(six)])
        }
        let balances = try expectedBalances(tills.map(\.db))
        let consent = Set(demoCards.filter { $0.member?.marketingConsent == true }.compactMap(\.customerID))
        func balance(_ m: String) -> Int64 { balances[demoCards.first { $0.customerID == m }!.number] ?? 0 }
        func boughtWithin(_ m: String, _ item: String, _ days: Int64) -> Bool {
            (o.bought[m] ?? []).contains { $0.item == item && $0.day > Self.today / Self.day - days }
        }
        func count(_ d: SegmentDefinition) throws -> Int64 { try store.segmentCount(d, at: Self.today) }
        func one(_ c: SegmentCondition) -> SegmentDefinition { SegmentDefinition(groups: [SegmentGroup(conditions: [c])]) }
        func expected(_ p: (String) -> Bool) -> Int64 { Int64(members.filter(p).count) }

        // The history is rich enough for each count below to say something.
        let recentDairy = expected { boughtWithin($0, "c:Dairy", 30) }, anyDairy = expected { boughtWithin($0, "c:Dairy", 400) }
        #expect(recentDairy > 0 && recentDairy < anyDairy)
        #expect(expected { (o.visits[$0] ?? 0) >= 2 } > 0 && expected { (o.visits[$0] ?? 0) == 0 } > 0)
        #expect(expected { (1_000...3_000).contains(balance($0)) } > 0)

        #expect(try count(SegmentDefinition()) == Int64(members.count))
        #expect(try count(one(SegmentCondition(.category, text: "Dairy", days: 30))) == expected { boughtWithin($0, "c:Dairy", 30) })
        #expect(try count(one(SegmentCondition(.category, text: "Dairy", days: 400))) == expected { boughtWithin($0, "c:Dairy", 400) })
        #expect(try count(one(SegmentCondition(.sku, text: "F0005", days: 100))) == expected { boughtWithin($0, "s:F0005", 100) })
        let spends = o.spend.values.sorted()
        let lo = spends[spends.count / 3], hi = spends[spends.count * 2 / 3]
        #expect(try count(one(SegmentCondition(.spend, min: lo, max: hi))) == expected { (lo...hi).contains(o.spend[$0] ?? 0) })
        #expect(try count(one(SegmentCondition(.visits, min: 2))) == expected { (o.visits[$0] ?? 0) >= 2 })
        #expect(try count(one(SegmentCondition(.visits, max: 0))) == expected { (o.visits[$0] ?? 0) == 0 })
        #expect(try count(one(SegmentCondition(.consent, flag: true))) == Int64(consent.count))
        #expect(try count(one(SegmentCondition(.balance, min: 1_000, max: 3_000))) == expected { (1_000...3_000).contains(balance($0)) })
        #expect(try count(one(SegmentCondition(.balance, max: 2_000))) == expected { balance($0) <= 2_000 })
        #expect(try count(one(SegmentCondition(.balance, min: 2_001))) == expected { balance($0) >= 2_001 })
        #expect(try count(one(SegmentCondition(.postcode, text: "101"))) == 4)
        #expect(try count(one(SegmentCondition(.postcode, text: "sw1a"))) == 1)
        #expect(try count(one(SegmentCondition(.age, min: 25, max: 35))) == 1)
        #expect(try count(one(SegmentCondition(.age, min: 60))) == 1)
        #expect(try count(one(SegmentCondition(.tier, text: "GOLD"))) == 1)
        #expect(try count(one(SegmentCondition(.store, text: "0001"))) == 0, "card-import members have no home store")
        #expect(try count(one(SegmentCondition(.registeredSince, date: "2026-01-01"))) == 0)
        let cutoff = Self.today / Self.day - 30
        #expect(try count(one(SegmentCondition(.lastSeenBefore, date: ProtocolTime.format(cutoff * Self.day, timeZone: TimeZone(identifier: "UTC")!).prefix(10).description)))
                == expected { (o.last[$0] ?? 0) < cutoff })
        let champions = Set(rows.filter { $0.text("cell") == "champions" }.map { $0.text("customer_id") })
        #expect(!champions.isEmpty)
        #expect(try count(one(SegmentCondition(.rfm, text: "champions"))) == Int64(champions.count))

        // AND within a group, OR between groups; and the other way round.
        let either = SegmentDefinition(match: .any, groups: [
            SegmentGroup(conditions: [SegmentCondition(.rfm, text: "champions")]),
            SegmentGroup(match: .all, conditions: [SegmentCondition(.consent, flag: true), SegmentCondition(.visits, min: 2)]),
        ])
        #expect(try count(either) == expected { champions.contains($0) || (consent.contains($0) && (o.visits[$0] ?? 0) >= 2) })
        let both = SegmentDefinition(match: .all, groups: [
            SegmentGroup(match: .any, conditions: [SegmentCondition(.category, text: "Dairy", days: 400), SegmentCondition(.category, text: "Beverages", days: 400)]),
            SegmentGroup(conditions: [SegmentCondition(.consent, flag: false)]),
        ])
        #expect(try count(both) == expected { (boughtWithin($0, "c:Dairy", 400) || boughtWithin($0, "c:Beverages", 400)) && !consent.contains($0) })

        // Saved, versioned, exported.
        let v1 = try store.saveSegment(id: nil, name: "Dairy lovers", definition: one(SegmentCondition(.category, text: "Dairy", days: 400)), by: "mia", at: Self.today)
        #expect(v1.id == "dairy-lovers" && v1.version == 1 && v1.members == expected { boughtWithin($0, "c:Dairy", 400) })
        let v2 = try store.saveSegment(id: v1.id, name: v1.name, definition: both, by: "mia", at: Self.today)
        #expect(v2.version == 2)
        #expect(try store.segmentVersions(v1.id).map(\.version) == [2, 1])
        #expect(try store.segments().map(\.version) == [2])
        #expect(throws: SegmentProblem.self) { try store.saveSegment(id: nil, name: "Dairy  lovers!", definition: both, by: "mia") }
        #expect(throws: SegmentProblem.self) { try store.saveSegment(id: nil, name: "Everyone", definition: SegmentDefinition(), by: "mia") }
        let csv = try store.segmentCSV(v2.definition).split(separator: "\r\n")
        #expect(csv.first == "member,first_name,last_name,email,postcode,home_store,marketing_consent,rfm_cell")
        #expect(Int64(csv.count - 1) == (try count(both)))
        #expect(csv.dropFirst().allSatisfy { $0.contains(",no,") }, "the segment is of members who did not agree")

        // An erased member leaves every segment.
        let erased = members.first { champions.contains($0) } ?? members[0]
        _ = try store.database.write { c in try c.execute("UPDATE customers SET erased_at = 1 WHERE id = ?", [.text(erased)]) }
        #expect(try count(SegmentDefinition()) == Int64(members.count - 1))
    }

    /// The programme by month: members who bought, those who came back, their purchases and
    /// spend, and every sale of the month, as the journals say; closed months kept.
    @Test(arguments: Backend.allCases)
    func theProgrammeByMonthIsWhatTheJournalsSay(backend: Backend) throws {
        let dir = TemporaryDirectory("programme-months-\(backend)")
        let store = try makeHeadOffice(backend, dir)
        let (docs, _) = try Self.history(store)
        let months = try store.programmeMonths(12, at: Self.today)
        #expect(months.count == 12 && months.last?.month == "2026-11" && months.first?.month == "2025-12")
        for m in months {
            var visits: [String: Int64] = [:], spend: Int64 = 0, sales: Int64 = 0, total: Int64 = 0
            for d in docs where ProtocolTime.format(ProtocolTime.parse(d.completedAt)!, timeZone: TimeZone(identifier: "UTC")!).hasPrefix(m.month) {
                sales += 1
                total += d.totals.total
                guard let card = d.loyalty?.cardNumber, let member = demoCards.first(where: { $0.number == card })?.customerID else { continue }
                visits[member, default: 0] += 1
                spend += d.totals.total
            }
            #expect(m.members == Int64(visits.count) && m.repeaters == Int64(visits.values.filter { $0 >= 2 }.count), "\(m.month)")
            #expect(m.memberSales == visits.values.reduce(0, +) && m.memberSpend == spend && m.sales == sales && m.total == total, "\(m.month)")
        }
        #expect(months.contains { $0.members > 0 && $0.repeaters > 0 })
        // Months ended more than a month ago are kept as computed.
        let kept = try store.database.read { c in try c.queryOne("SELECT COUNT(*) AS n FROM programme_months", [])!.int("n") }
        #expect(kept == 10)
        #expect(try store.programmeMonths(12, at: Self.today) == months)
    }

    @Test func wrongConditionsAreRefusedWithWhatToDo() throws {
        func problem(_ c: SegmentCondition) -> String {
            do { try c.validate(); return "" } catch { return "\(error)" }
        }
        #expect(problem(SegmentCondition(.postcode, text: "75%")).contains("'75%'"))
        #expect(problem(SegmentCondition(.category, text: "Dairy", days: 0)).contains("1 to 3660"))
        #expect(problem(SegmentCondition(.spend, min: 500, max: 100)).contains("above the highest"))
        #expect(problem(SegmentCondition(.age, min: 200)).contains("outside 0 to 150"))
        #expect(problem(SegmentCondition(.rfm, text: "heroes")).contains("'heroes' is not a cell"))
        #expect(problem(SegmentCondition(.registeredSince, date: "31/12/2026")).contains("YYYY-MM-DD"))
        #expect(problem(SegmentCondition(.visits)).contains("a lowest, a highest or both"))
        #expect(throws: SegmentProblem.self) { try SegmentDefinition.decode("{\"match\":\"all\",\"groups\":[{\"match\":\"sometimes\",\"conditions\":[]}]}") }
        let many = SegmentDefinition(groups: Array(repeating: SegmentGroup(), count: 11))
        #expect(throws: SegmentProblem.self) { try many.validate() }
    }
}
