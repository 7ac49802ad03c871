import Foundation
public import TillDemo
import TillDocuments
import TillProtocol

/// How the fraud rules did on a generated month with known fraud (`FraudMonth`): per rule, the
/// injected cases of its pattern it caught and the normal members (or cashiers) it flagged.
public struct FraudEvaluation: Sendable {
    public struct RuleFigures: Sendable, Equatable {
        public var ruleID: String
        public var injected: Int, caught: Int, normal: Int, flagged: Int
    }
    public var sales: Int
    public var ingestSeconds: Double
    public var rules: [RuleFigures]
    /// Injected cases caught by a rule of their pattern, of all injected.
    public var caught: Int, injected: Int
    /// Normal members flagged by any rule, of all normal members; the same for cashiers.
    public var flaggedMembers: Int, normalMembers: Int, flaggedCashiers: Int, normalCashiers: Int
    /// The injected cases no rule of their pattern caught.
    public var missed: [FraudMonth.Case]

    public var recall: Double { injected == 0 ? 0 : Double(caught) / Double(injected) }
    public var falsePositiveRate: Double { normalMembers == 0 ? 0 : Double(flaggedMembers) / Double(normalMembers) }
    public var cashierFalsePositiveRate: Double { normalCashiers == 0 ? 0 : Double(flaggedCashiers) / Double(normalCashiers) }
    public var salesPerSecond: Double { ingestSeconds > 0 ? Double(sales) / ingestSeconds : 0 }
}

extension HeadOfficeStore {
    /// Plays a generated month into this head office (meant to be empty): its programme and cards
    /// loaded, each till's documents through `ingest` as the tills would send them, customer
    /// service's actions in between, in time order. Returns the seconds spent in ingest.
    public func play(_ month: FraudMonth, progress: ((Int, Int) -> Void)? = nil) throws -> Double {
        try importProgramme(month.programme)
        try importCards(month.cardRecords)
        for store in month.stores { for till in ["01", "02"] { _ = try registerTill(TillCredential(storeID: store, tillID: till)) } }
        var ingestNanos: UInt64 = 0
        for (i, step) in month.steps.enumerated() {
            switch step {
            case .documents(let storeID, let tillID, let documents, let at):
                let t0 = DispatchTime.now().uptimeNanoseconds
                let response = try ingest(IngestBatch(storeID: storeID, tillID: tillID, documents: documents), from: TillCredential(storeID: storeID, tillID: tillID),
                                          at: at)
                ingestNanos += DispatchTime.now().uptimeNanoseconds - t0
                if let refused = response.results.first(where: { $0.status == .rejected }) {
                    throw SQLError("the generated month's \(refused.kind) \(refused.id) was rejected: \(refused.reason ?? "")")
                }
            case .correctDetails(let id, let phone, let at):
                let m = try database.read { c in try c.queryOne("SELECT * FROM customers WHERE id = ?", [.text(id)]) }
                guard let m, m["merged_into"].text == nil else { continue }
                try? correctDetails(id, MemberDetails(firstName: m.text("first_name"), lastName: m.text("last_name"), phone: phone, email: m["email"].text ?? "",
                                                      postcode: m["postcode"].text ?? "", birthDate: m["birth_date"].text ?? ""),
                                    by: "generated", reason: .customerRequest, note: "", at: at)
            case .replaceCard(let old, let new, let at):
                try? replaceCard(old, with: new, by: "generated", reason: .lostOrStolen, note: "", at: at)
            case .merge(let source, let target, let at):
                try? mergeMembers(source, into: target, by: "generated", reason: .duplicateMember, note: "", at: at)
            }
            if i % 500 == 0 { progress?(i, month.steps.count) }
        }
        return Double(ingestNanos) / 1e9
    }

    /// Compares the alerts raised with the month's ground truth.
    public func score(_ month: FraudMonth, rules: [FraudRule], ingestSeconds: Double) throws -> FraudEvaluation {
        let alerts = try database.read { c in try c.query("SELECT rule_id, subject, card_number FROM fraud_alerts", []) }
        let patternOf = Dictionary(uniqueKeysWithValues: FraudRule.defaults.map { ($0.id, "\($0.kind.rawValue)/\($0.measure)") })
        func covers(_ rule: FraudRule, _ pattern: String) -> Bool { patternOf[pattern] == "\(rule.kind.rawValue)/\(rule.measure)" }
        var bySubject: [String: Set<String>] = [:]
        var memberFlags: [String: Set<String>] = [:]
        for a in alerts {
            bySubject[a.text("subject"), default: []].insert(a.text("rule_id"))
            if let card = a["card_number"].text, month.normalCards.contains(card) { memberFlags[card, default: []].insert(a.text("rule_id")) }
        }
        var figures: [FraudEvaluation.RuleFigures] = []
        for rule in rules {
            let mine = month.cases.filter { covers(rule, $0.pattern) }
            let caught = mine.filter { bySubject[$0.subject]?.contains(rule.id) == true }.count
            // Normal members; for a rule about cashiers or tills, the normal cashiers or tills.
            let others = rule.kind == .sharedDevice ? month.normalDevices : month.normalCashiers
            let normal = rule.kind.isAboutCards ? month.normalCards.count : others.count
            let flagged = rule.kind.isAboutCards ? memberFlags.values.filter { $0.contains(rule.id) }.count
                : others.filter { bySubject[$0]?.contains(rule.id) == true }.count
            figures.append(.init(ruleID: rule.id, injected: mine.count, caught: caught, normal: normal, flagged: flagged))
        }
        let missed = month.cases.filter { c in !rules.contains { covers($0, c.pattern) && bySubject[c.subject]?.contains($0.id) == true } }
        return FraudEvaluation(sales: month.sales, ingestSeconds: ingestSeconds, rules: figures, caught: month.cases.count - missed.count,
                               injected: month.cases.count, flaggedMembers: memberFlags.count, normalMembers: month.normalCards.count,
                               flaggedCashiers: month.normalCashiers.filter { bySubject[$0] != nil }.count, normalCashiers: month.normalCashiers.count,
                               missed: missed)
    }

    /// This head office's rules on a generated month, in a scratch SQLite head office of its own
    /// under `directory` (nothing of this one's data is touched); the figures kept here for the
    /// fraud page.
    public func evaluateFraudRules(members: Int = 2_000, seed: UInt64 = 19, directory: String, by user: String,
                                   at time: Int64 = HeadOfficeStore.now()) throws -> FraudEvaluation {
        let rules = try fraudRules()
        let month = FraudMonth(members: members, seed: seed)
        let path = directory + "/fraud-evaluation-\(UUID().uuidString).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let scratch = try HeadOfficeStore(database: try SQLiteDatabase(path: path))
        try scratch.database.write { c in for r in rules { try Self.upsertRule(r, by: user, at: time, c) } }
        let seconds = try scratch.play(month)
        let result = try scratch.score(month, rules: rules, ingestSeconds: seconds)
        try database.write { c in
            for r in result.rules {
                try c.execute("""
                    INSERT INTO fraud_evaluations (run_at, run_by, rule_id, injected, caught, normal, flagged, sales) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, [.int(time), .text(user), .text(r.ruleID), .int(Int64(r.injected)), .int(Int64(r.caught)), .int(Int64(r.normal)), .int(Int64(r.flagged)),
                          .int(Int64(result.sales))])
            }
        }
        return result
    }
}
