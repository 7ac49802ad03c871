import Foundation
import Synchronization
import TillCore
import TillDocuments
import TillProtocol

/// Fraud rules evaluated as each till's documents are applied (issue 19): the per-sale rules in
/// memory (`FraudMonitor`), the rules about redemptions and registrations with a query each when
/// one happens (rare). An alert is written once per rule, subject and day, with its evidence; a
/// rule set to hold or block does so at once, published to every till like a person's hold.
extension HeadOfficeStore {
    /// The rules, the defaults written the first time.
    public func fraudRules() throws -> [FraudRule] {
        let rows = try database.read { c in try c.query("SELECT * FROM fraud_rules ORDER BY id", []) }
        if rows.isEmpty {
            try database.write { c in
                for r in FraudRule.defaults { try Self.upsertRule(r, by: "head office", at: Self.now(), c) }
            }
            return FraudRule.defaults.sorted { $0.id < $1.id }
        }
        return rows.compactMap { r in
            guard let kind = FraudRuleKind(rawValue: r.text("kind")), let action = FraudAction(rawValue: r.text("action")) else { return nil }
            return FraudRule(id: r.text("id"), kind: kind, measure: r.text("measure"), windowSeconds: r.int("window_s"), threshold: r.int("threshold"),
                             percent: r.int("percent"), action: action, enabled: r.int("enabled") != 0)
        }
    }

    static func upsertRule(_ r: FraudRule, by user: String, at time: Int64, _ c: any SQLConnection) throws {
        try c.execute("""
            INSERT INTO fraud_rules (id, kind, measure, window_s, threshold, percent, action, enabled, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, measure = excluded.measure, window_s = excluded.window_s, threshold = excluded.threshold,
                percent = excluded.percent, action = excluded.action, enabled = excluded.enabled, updated_by = excluded.updated_by, updated_at = excluded.updated_at
            """, [.text(r.id), .text(r.kind.rawValue), .text(r.measure), .int(r.windowSeconds), .int(r.threshold), .int(r.percent), .text(r.action.rawValue),
                  .int(r.enabled ? 1 : 0), .text(user), .int(time)])
    }

    /// Saves a rule (new or changed), checked within its bounds; in force for the next document.
    public func saveFraudRule(_ rule: FraudRule, by user: String, at time: Int64 = HeadOfficeStore.now()) throws {
        let rule = try rule.validated()
        _ = try fraudRules()
        try database.write { c in try Self.upsertRule(rule, by: user, at: time, c) }
        fraudRuleCache.withLock { $0 = nil }
    }

    /// The enabled rules, read again at most every 30 seconds (another head office process may change them).
    func activeFraudRules() throws -> [FraudRule] {
        let now = Self.now()
        if let cached = fraudRuleCache.withLock({ $0 }), now - cached.at < 30_000 { return cached.rules }
        let rules = try fraudRules().filter(\.enabled)
        fraudRuleCache.withLock { $0 = (rules, now) }
        return rules
    }

    /// The facts of a sale for the per-sale rules.
    static func fraudFact(_ s: PreparedSale, storeID: String) -> FraudFact {
        // Read through `s`, not from copies of its document and sale: a copy retains and releases
        // each of their strings and arrays, for every sale.
        var f = FraudFact(id: s.doc.saleID, card: s.doc.loyalty?.cardNumber, cashier: s.doc.cashier.number, storeID: storeID, time: s.sale.completedAt,
                          redeemed: (s.doc.loyalty?.redeemed ?? 0) > 0)
        for l in s.doc.lines {
            f.lines += 1
            if l.voided { f.voids += 1; continue }
            f.items += 1
            if l.priceOverride != nil { f.overrides += 1 }
        }
        return f
    }

    /// The longest window of the per-card rules (ms).
    static func longestCardWindow(_ rules: [FraudRule]) -> Int64 {
        rules.filter { $0.kind == .cardVelocity || $0.kind == .cardOneCashier }.map { $0.windowSeconds * 1_000 }.max() ?? 0
    }

    /// Fills the per-sale rules' memory from the sales and refunds of their windows, once per
    /// process, before the first batch is applied (batches arriving meanwhile wait for it): every
    /// document committed after it is observed by its own batch, none twice.
    func readyFraudMonitor() throws {
        let rules = try activeFraudRules().filter(\.kind.isPerSale)
        guard !rules.isEmpty else { return }
        try fraudMonitorReady.withLock { ready in
            guard !ready else { return }
            try warmFraudMonitor(rules, longest: Self.longestCardWindow(rules))
            ready = true
        }
    }

    /// The sales the rules' memory is filled from at start: those made since `?`, read through
    /// their index by time (schema 31), not by a scan of every sale head office holds.
    static let recentSalesForFraud = """
        SELECT sale_id, card_number, cashier, store_id, completed_ms, paid_points, items, voids, overrides FROM sales
        WHERE completed_ms >= ? ORDER BY completed_ms LIMIT 2000000
        """
    /// The refunds it is filled from: those made since `?`, through their index by time (schema 32).
    static let recentRefundsForFraud = """
        SELECT refund_id, cashier, store_id, created_ms, original_sale_id FROM refunds WHERE created_ms >= ? ORDER BY created_ms LIMIT 200000
        """

    func warmFraudMonitor(_ rules: [FraudRule], longest: Int64) throws {
        let since = Self.now() - max(longest, 2 * 86_400_000)
        let (sales, refunds) = try database.read { c in
            (try c.query(Self.recentSalesForFraud, [.int(since)]),
             try c.query(Self.recentRefundsForFraud, [.int(since)]))
        }
        // All of them in one call: the monitor's lock taken once, not for each of up to 400,000.
        var facts: [FraudFact] = []
        facts.reserveCapacity(sales.count + refunds.count)
        for r in sales {
            let items = r.int("items"), voids = r.int("voids")
            facts.append(FraudFact(id: r.text("sale_id"), card: r["card_number"].text, cashier: r["cashier"].text ?? "", storeID: r.text("store_id"),
                                   time: r.int("completed_ms"), redeemed: r.int("paid_points") > 0, lines: items.addingClamped(voids), voids: voids,
                                   items: items, overrides: r.int("overrides")))
        }
        for r in refunds {
            facts.append(FraudFact(id: r.text("refund_id"), card: nil, cashier: r["cashier"].text ?? "", storeID: r.text("store_id"),
                                   time: r.int("created_ms"), redeemed: false, refund: true, withoutReceipt: r["original_sale_id"].text == nil))
        }
        _ = fraudMonitor.observe(facts, rules: rules, longestCardWindowMs: longest, record: false)
    }

    /// After a batch is committed: every rule on what it applied (accepted documents only, so a
    /// batch sent again counts once). Alerts are written in their own transaction.
    func observeFraud(_ prepared: [Prepared], _ results: [IngestResult], till: TillCredential) throws {
        let rules = try activeFraudRules()
        guard !rules.isEmpty else { return }
        let longest = Self.longestCardWindow(rules)
        let perSale = rules.filter(\.kind.isPerSale)
        let onRedemption = rules.filter(\.kind.isOnRedemption)
        let shared = rules.filter { $0.kind == .sharedDetails }, devices = rules.filter { $0.kind == .sharedDevice }
        var drafts: [FraudAlertDraft] = []
        var redemptions: [(saleID: String, card: String, points: Int64, time: Int64)] = []
        var registered: [(card: String, time: Int64)] = []
        var facts: [FraudFact] = []
        for (p, r) in zip(prepared, results) where r.status == .accepted {
            switch p {
            case .sale(let s):
                if !perSale.isEmpty { facts.append(Self.fraudFact(s, storeID: till.storeID)) }
                if let card = s.doc.loyalty?.cardNumber {
                    if let redeemed = s.doc.loyalty?.redeemed, redeemed > 0 { redemptions.append((s.doc.saleID, card, redeemed, s.sale.completedAt)) }
                    if s.doc.loyalty?.registration != nil { registered.append((card, s.sale.completedAt)) }
                }
            case .refund(let doc, _):
                guard !perSale.isEmpty else { continue }
                facts.append(FraudFact(id: doc.refundID, card: nil, cashier: doc.cashier, storeID: till.storeID,
                                       time: ProtocolTime.parse(doc.createdAt) ?? Self.now(), redeemed: false, refund: true,
                                       withoutReceipt: doc.originalSaleID == nil))
            case .registration(let doc):
                registered.append((doc.registration.cardNumber, ProtocolTime.parse(doc.registration.registeredAt) ?? Self.now()))
            case .zreport: continue
            }
        }
        if !facts.isEmpty { drafts += fraudMonitor.observe(facts, rules: perSale, longestCardWindowMs: longest) }
        do {
            if !onRedemption.isEmpty && !redemptions.isEmpty {
                drafts += try database.read { c in
                    try redemptions.flatMap { try redemptionAlerts($0.saleID, card: $0.card, points: $0.points, time: $0.time, onRedemption, storeID: till.storeID, c) }
                }
            }
            // A registration applied after the sale that spent its bonus (two tills' batches in either order).
            if let bonus = onRedemption.first(where: { $0.kind == .bonusRedeemed }), !registered.isEmpty {
                drafts += try database.read { c in
                    try registered.flatMap { r in
                        // The card's redeeming sales, found through the ledger's card index (the
                        // sales have none by card: a scan of every sale for each registration).
                        try c.query("""
                            SELECT s.sale_id, s.completed_ms, -SUM(l.points) AS points
                            FROM ledger l JOIN sales s ON s.sale_id = l.sale_id
                            WHERE l.card_number = ? AND l.kind = 'redeem' GROUP BY s.sale_id, s.completed_ms LIMIT 20
                            """, [.text(r.card)]).flatMap {
                            try redemptionAlerts($0.text("sale_id"), card: r.card, points: $0["points"].int ?? 0, time: $0.int("completed_ms"), [bonus],
                                                 storeID: till.storeID, c)
                        }
                    }
                }
            }
            if !shared.isEmpty && !registered.isEmpty {
                drafts += try database.read { c in try registered.flatMap { try sharedDetailAlerts($0.card, time: $0.time, shared, storeID: till.storeID, c) } }
            }
            if !devices.isEmpty && !registered.isEmpty {
                drafts += try database.read { c in try deviceAlerts(till, times: registered.map(\.time), devices, c) }
            }
        } catch {
            // What the per-sale rules found is marked raised in their memory: it waits for the next batch.
            keepPendingFraudAlerts(drafts, older: false)
            throw error
        }
        try raiseAlertsKeepingFailures(drafts)
    }

    /// The most alerts kept waiting for a write that failed (the oldest are dropped past it).
    static let maxPendingFraudAlerts = 10_000

    /// Writes the alerts with any still waiting from an earlier batch. The rules' memory has
    /// marked them raised, and the till's resend of the batch comes back as duplicates, which the
    /// rules do not see again: so when the write fails they wait here for the next batch.
    func raiseAlertsKeepingFailures(_ drafts: [FraudAlertDraft]) throws {
        let all = pendingFraudAlerts.withLock { p in defer { p = [] }; return p } + drafts
        guard !all.isEmpty else { return }
        do {
            try raiseAlerts(all)
        } catch {
            keepPendingFraudAlerts(all, older: true)
            throw error
        }
    }

    /// Writes the alerts still waiting for a write that failed (at a stop); how many there were.
    func writeWaitingFraudAlerts() throws -> Int {
        let n = pendingFraudAlerts.withLock { $0.count }
        if n > 0 { try raiseAlertsKeepingFailures([]) }
        return n
    }

    /// Keeps alerts waiting, oldest first: `older` when they were taken from those waiting before
    /// any that came since (a write of them all failed), else they are the newest. Past the bound
    /// the oldest are dropped.
    func keepPendingFraudAlerts(_ drafts: [FraudAlertDraft], older: Bool) {
        guard !drafts.isEmpty else { return }
        pendingFraudAlerts.withLock { p in
            p = older ? drafts + p : p + drafts
            if p.count > Self.maxPendingFraudAlerts { p.removeFirst(p.count - Self.maxPendingFraudAlerts) }
        }
    }

    /// The rules about a redemption: was the card replaced, the member's details changed, the
    /// member merged, or a bonus given, within the rule's window before it?
    func redemptionAlerts(_ saleID: String, card: String, points: Int64, time: Int64, _ rules: [FraudRule], storeID: String,
                          _ c: any SQLConnection) throws -> [FraudAlertDraft] {
        var out: [FraudAlertDraft] = []
        let longest = rules.map { $0.windowSeconds * 1_000 }.max() ?? 0
        let day = FraudMonitor.day(time)
        func draft(_ rule: FraudRule, _ figures: String, _ evidence: [String]) {
            out.append(FraudAlertDraft(rule: rule, key: "\(rule.id)|\(card)|\(day)", subjectKind: "card", subject: card, card: card, cashier: nil,
                                       storeID: storeID, figures: figures, evidence: evidence, at: time))
        }
        let changes = rules.contains { $0.kind == .redeemAfterChange || $0.kind == .mergeThenRedeem }
        if changes, let customer = try c.queryOne("SELECT customer_id FROM cards WHERE number = ?", [.text(card)])?["customer_id"].text {
            let rows = try c.query("""
                SELECT action, created_at, detail FROM audit WHERE customer_id = ? AND created_at > ? AND created_at <= ?
                    AND action IN ('replace-card', 'correct-details', 'merge') ORDER BY created_at DESC LIMIT 20
                """, [.text(customer), .int(time - longest), .int(time)])
            for rule in rules where rule.kind == .redeemAfterChange || rule.kind == .mergeThenRedeem {
                let wanted: Set<String> = rule.kind == .mergeThenRedeem ? ["merge"] : ["replace-card", "correct-details"]
                guard let hit = rows.first(where: { wanted.contains($0.text("action")) && $0.int("created_at") > time - rule.windowSeconds * 1_000 }) else { continue }
                let what = ["merge": "a merge", "replace-card": "a card replacement", "correct-details": "a change of details"][hit.text("action")] ?? hit.text("action")
                draft(rule, "\(points) points redeemed \(Self.elapsed(time - hit.int("created_at"))) after \(what) (\(hit.text("detail").prefix(200))); window \(FraudMonitor.window(rule.windowSeconds))",
                      [saleID])
            }
        }
        if let rule = rules.first(where: { $0.kind == .bonusRedeemed }) {
            let rows = try c.query("""
                SELECT l.kind, l.rule, l.points, l.sale_id, COALESCE(s.completed_ms, l.created_at) AS at FROM ledger l LEFT JOIN sales s ON s.sale_id = l.sale_id
                WHERE l.card_number = ? AND (l.kind = 'welcome' OR l.rule = 'referral') AND l.points > 0 LIMIT 20
                """, [.text(card)])
            if let hit = rows.first(where: { $0.int("at") <= time && $0.int("at") > time - rule.windowSeconds * 1_000 && $0["sale_id"].text != saleID }) {
                let what = hit.text("kind") == "welcome" ? "welcome bonus" : "referral bonus"
                draft(rule, "\(points) points redeemed \(Self.elapsed(time - hit.int("at"))) after a \(what) of \(hit.int("points")); window \(FraudMonitor.window(rule.windowSeconds))",
                      [hit["sale_id"].text, saleID].compactMap { $0 })
            }
        }
        return out
    }

    /// The rule about registrations: the new member's phone or e-mail shared by `threshold` or more members.
    func sharedDetailAlerts(_ card: String, time: Int64, _ rules: [FraudRule], storeID: String, _ c: any SQLConnection) throws -> [FraudAlertDraft] {
        guard let member = try c.queryOne("""
            SELECT m.id, m.phone, m.email FROM customers m JOIN registrations r ON r.customer_id = m.id WHERE r.card_number = ?
            """, [.text(card)]) else { return [] }
        var out: [FraudAlertDraft] = []
        for (column, value) in [("phone", member["phone"].text), ("email", member["email"].text)] {
            guard let value, !value.isEmpty else { continue }
            let ids = try c.query("SELECT id FROM customers WHERE \(column) = ? AND merged_into IS NULL AND erased_at IS NULL ORDER BY id LIMIT 50",
                                  [.text(value)]).map { $0.text("id") }
            for rule in rules where Int64(ids.count) >= rule.threshold {
                let label = column == "phone" ? "phone" : "e-mail"
                out.append(FraudAlertDraft(rule: rule, key: "\(rule.id)|\(column):\(value)|\(FraudMonitor.day(time))", subjectKind: "details",
                                           subject: "\(column):\(value)", card: card, cashier: nil, storeID: storeID,
                                           figures: "\(ids.count) members registered with the \(label) \(value) (threshold \(rule.threshold))", evidence: ids, at: time))
            }
        }
        return out
    }

    /// The members registered on `till` within each rule's window up to each of `times` (the
    /// registrations of the batch just applied): a run of sign-ups is found at its last, even when
    /// the batch holds later ones too. One query per rule over the batch's span; one alert per rule,
    /// till and day.
    func deviceAlerts(_ till: TillCredential, times: [Int64], _ rules: [FraudRule], _ c: any SQLConnection) throws -> [FraudAlertDraft] {
        let times = times.sorted()
        guard let first = times.first, let last = times.last else { return [] }
        let subject = "till:\(till.storeID)/\(till.tillID)"
        var out: [FraudAlertDraft] = []
        for rule in rules {
            let window = rule.windowSeconds.multipliedClamped(1_000)
            let rows = try c.query("""
                SELECT customer_id, registered_ms FROM registrations WHERE store_id = ? AND till_id = ? AND registered_ms BETWEEN ? AND ?
                ORDER BY registered_ms LIMIT 10000
                """, [.text(till.storeID), .text(till.tillID), .int(first.addingClamped(-window)), .int(last)])
            let at = rows.map { $0.int("registered_ms") }
            var start = 0, end = 0, days: Set<Int64> = []
            for t in times {
                // The registrations within [t - window, t], by two indexes moving forward only.
                while end < at.count && at[end] <= t { end += 1 }
                while start < end && at[start] < t.addingClamped(-window) { start += 1 }
                let n = end - start
                guard Int64(n) >= rule.threshold, days.insert(FraudMonitor.day(t)).inserted else { continue }
                out.append(FraudAlertDraft(rule: rule, key: "\(rule.id)|\(subject)|\(FraudMonitor.day(t))", subjectKind: "device", subject: subject, card: nil,
                                           cashier: nil, storeID: till.storeID,
                                           figures: "\(n) members registered on till \(till.tillID) of store \(till.storeID) within \(Self.elapsed(window)) (threshold \(rule.threshold))",
                                           evidence: rows[start..<min(end, start + 200)].map { $0.text("customer_id") }, at: t))
            }
        }
        return out
    }

    static func elapsed(_ ms: Int64) -> String {
        let minutes = max(0, ms) / 60_000
        return minutes < 120 ? "\(minutes) minutes" : "\(minutes / 60) hours"
    }

    /// Writes the alerts not written before (one per rule, subject and day), then holds or blocks
    /// the cards of those whose rule says so (`enforceAlerts`).
    func raiseAlerts(_ drafts: [FraudAlertDraft], at time: Int64 = HeadOfficeStore.now()) throws {
        try database.write { c in
            for d in drafts {
                let customer = try d.card.flatMap { try c.queryOne("SELECT customer_id FROM cards WHERE number = ?", [.text($0)])?["customer_id"].text }
                let evidence = String(decoding: try JSONEncoder().encode(d.evidence), as: UTF8.self)
                // A rule that only alerts has nothing to enforce: enforced as written.
                try c.execute("""
                    INSERT INTO fraud_alerts (dedup, rule_id, kind, subject_kind, subject, card_number, customer_id, cashier, store_id, figures, evidence,
                        action, status, happened_at, created_at, updated_at, enforced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)
                    ON CONFLICT (dedup) DO NOTHING
                    """, [.text(d.key), .text(d.rule.id), .text(d.rule.kind.rawValue), .text(d.subjectKind), .text(d.subject), SQLValue(d.card),
                          SQLValue(customer), SQLValue(d.cashier), SQLValue(d.storeID), .text(d.figures), .text(evidence), .text(d.rule.action.rawValue),
                          .int(d.at), .int(time), .int(time), d.rule.action == .alert || d.card == nil ? .int(time) : .null])
            }
        }
        try enforceAlerts(at: time)
    }

    /// Holds or blocks the card of every alert whose rule says so and whose card is not yet held
    /// or blocked for it: those just written, and any whose hold failed before (the alert was
    /// written, the hold not), which are found here when the next alert is raised.
    func enforceAlerts(at time: Int64) throws {
        let waiting = try database.read { c in
            try c.query("""
                SELECT id, rule_id, action, card_number, figures FROM fraud_alerts WHERE enforced_at IS NULL AND action <> 'alert' ORDER BY id LIMIT 1000
                """, [])
        }
        for a in waiting {
            let rule = a.text("rule_id")
            let note = String("Fraud alert #\(a.int("id")), rule \(rule): \(a.text("figures"))".prefix(Self.maxServiceNote))
            // The hold (or block) and the alert marked enforced in one write: both or neither.
            _ = try database.write { c in
                if let card = a["card_number"].text {
                    do {
                        if a.text("action") == FraudAction.hold.rawValue {
                            try setRedemptionHold(card, held: true, by: "rule \(rule)", reason: .fraudSuspected, note: note, at: time, c)
                        } else {
                            _ = try setCardStatus(card, to: "blocked", by: "rule \(rule)", reason: .fraudSuspected, note: note, at: time, c)
                        }
                    } catch is ServiceError {
                        // Held or blocked already, or no member's card (refused before writing
                        // anything): the alert says what the rule found.
                    }
                }
                return try c.execute("UPDATE fraud_alerts SET enforced_at = ? WHERE id = ?", [.int(time), .int(a.int("id"))])
            }
        }
    }
}

/// An alert and its case, as the fraud pages show it.
public struct FraudAlert: Sendable, Equatable {
    public var id: Int64, ruleID: String, kind: String, subjectKind: String, subject: String
    public var card: String?, customerID: String?, cashier: String?, storeID: String?
    public var figures: String, evidence: [String], action: String, status: String
    public var happenedAt: Int64, createdAt: Int64, updatedAt: Int64

    /// The statuses of a case, in the order it moves through them.
    public static let statuses = ["open", "investigating", "confirmed", "dismissed"]
}

/// A note on a case (and the status it was moved to, if it was).
public struct FraudNote: Sendable, Equatable {
    public var at: Int64, user: String, status: String?, note: String
}

/// A sale or refund in an alert's evidence.
public struct FraudEvidence: Sendable, Equatable {
    public var id: String, kind: String, receipt: String, storeID: String, tillID: String, cashier: String, card: String?
    public var at: Int64, total: Int64, pointsPaid: Int64, voids: Int64, overrides: Int64, withoutReceipt: Bool
}

/// A rule's figures: its alerts by status, and the newest evaluation on a generated month.
public struct FraudRuleFigures: Sendable, Equatable {
    public var ruleID: String, alerts: Int64, open: Int64, confirmed: Int64, dismissed: Int64
    public var evaluatedAt: Int64?, injected: Int64, caught: Int64, normal: Int64, flagged: Int64
}

extension HeadOfficeStore {
    static func fraudAlert(_ r: SQLRow) -> FraudAlert {
        FraudAlert(id: r.int("id"), ruleID: r.text("rule_id"), kind: r.text("kind"), subjectKind: r.text("subject_kind"), subject: r.text("subject"),
                   card: r["card_number"].text, customerID: r["customer_id"].text, cashier: r["cashier"].text, storeID: r["store_id"].text,
                   figures: r.text("figures"), evidence: (try? JSONDecoder().decode([String].self, from: Data(r.text("evidence").utf8))) ?? [],
                   action: r.text("action"), status: r.text("status"), happenedAt: r.int("happened_at"), createdAt: r.int("created_at"),
                   updatedAt: r.int("updated_at"))
    }

    /// The alerts, newest first: of one status and/or rule (nil: all), at most `limit`.
    public func fraudAlerts(status: String? = nil, rule: String? = nil, limit: Int = 200) throws -> [FraudAlert] {
        var conditions: [String] = [], arguments: [SQLValue] = []
        if let status { conditions.append("status = ?"); arguments.append(.text(status)) }
        if let rule { conditions.append("rule_id = ?"); arguments.append(.text(rule)) }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try database.read { c in
            try c.query("SELECT * FROM fraud_alerts \(whereClause) ORDER BY id DESC LIMIT \(max(1, min(limit, 1_000)))", arguments).map(Self.fraudAlert)
        }
    }

    /// One alert with its notes and the sales or refunds of its evidence.
    public func fraudCase(_ id: Int64) throws -> (FraudAlert, [FraudNote], [FraudEvidence])? {
        try database.read { c in
            guard let row = try c.queryOne("SELECT * FROM fraud_alerts WHERE id = ?", [.int(id)]) else { return nil }
            let alert = Self.fraudAlert(row)
            let notes = try c.query("SELECT * FROM fraud_notes WHERE alert_id = ? ORDER BY id", [.int(id)]).map {
                FraudNote(at: $0.int("created_at"), user: $0.text("username"), status: $0["status"].text, note: $0.text("note"))
            }
            var evidence: [FraudEvidence] = []
            let ids = Array(alert.evidence.prefix(50))
            if !ids.isEmpty && alert.subjectKind != "details" {
                let marks = Array(repeating: "?", count: ids.count).joined(separator: ", ")
                for r in try c.query("""
                    SELECT sale_id, receipt_number, store_id, till_id, cashier, card_number, completed_ms, total, paid_points, voids, overrides FROM sales
                    WHERE sale_id IN (\(marks))
                    """, ids.map { .text($0) }) {
                    evidence.append(FraudEvidence(id: r.text("sale_id"), kind: "sale", receipt: r.text("receipt_number"), storeID: r.text("store_id"),
                                                  tillID: r.text("till_id"), cashier: r["cashier"].text ?? "", card: r["card_number"].text, at: r.int("completed_ms"),
                                                  total: r.int("total"), pointsPaid: r.int("paid_points"), voids: r.int("voids"), overrides: r.int("overrides"),
                                                  withoutReceipt: false))
                }
                for r in try c.query("""
                    SELECT refund_id, receipt_number, store_id, till_id, cashier, card_number, created_ms, total, original_sale_id FROM refunds
                    WHERE refund_id IN (\(marks))
                    """, ids.map { .text($0) }) {
                    evidence.append(FraudEvidence(id: r.text("refund_id"), kind: "refund", receipt: r.text("receipt_number"), storeID: r.text("store_id"),
                                                  tillID: r.text("till_id"), cashier: r["cashier"].text ?? "", card: r["card_number"].text, at: r.int("created_ms"),
                                                  total: r.int("total"), pointsPaid: 0, voids: 0, overrides: 0, withoutReceipt: r["original_sale_id"].text == nil))
                }
            }
            return (alert, notes, evidence.sorted { $0.at < $1.at })
        }
    }

    /// Moves a case on (open, investigating, confirmed, dismissed) and/or adds a note; one of them is needed.
    public func updateFraudCase(_ id: Int64, status: String?, note: String, by user: String, at time: Int64 = HeadOfficeStore.now()) throws {
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard note.count <= Self.maxServiceNote else { throw ServiceError("The note is \(note.count) characters long: keep it to \(Self.maxServiceNote)") }
        if let status, !FraudAlert.statuses.contains(status) {
            throw ServiceError("A case can be \(FraudAlert.statuses.joined(separator: ", ")), not '\(status.prefix(30))'")
        }
        try database.write { c in
            guard let row = try c.queryOne("SELECT status FROM fraud_alerts WHERE id = ?", [.int(id)]) else { throw ServiceError("There is no alert #\(id)") }
            let moved = status.flatMap { $0 == row.text("status") ? nil : $0 }
            guard moved != nil || !note.isEmpty else { throw ServiceError("Nothing to save: write a note or choose another status") }
            if let moved { try c.execute("UPDATE fraud_alerts SET status = ?, updated_at = ? WHERE id = ?", [.text(moved), .int(time), .int(id)]) }
            try c.execute("INSERT INTO fraud_notes (alert_id, username, status, note, created_at) VALUES (?, ?, ?, ?, ?)",
                          [.int(id), .text(user), SQLValue(moved), .text(note), .int(time)])
        }
    }

    /// Each rule's alerts by status and its newest evaluation on a generated month.
    public func fraudRuleFigures() throws -> [FraudRuleFigures] {
        let rules = try fraudRules()
        return try database.read { c in
            var counts: [String: [String: Int64]] = [:]
            for r in try c.query("SELECT rule_id, status, COUNT(*) AS n FROM fraud_alerts GROUP BY rule_id, status", []) {
                counts[r.text("rule_id"), default: [:]][r.text("status")] = r.int("n")
            }
            let newest = try c.queryOne("SELECT MAX(run_at) AS t FROM fraud_evaluations", [])?["t"].int
            var evaluated: [String: SQLRow] = [:]
            if let newest {
                for r in try c.query("SELECT * FROM fraud_evaluations WHERE run_at = ?", [.int(newest)]) { evaluated[r.text("rule_id")] = r }
            }
            return rules.map { rule in
                let n = counts[rule.id] ?? [:], e = evaluated[rule.id]
                return FraudRuleFigures(ruleID: rule.id, alerts: n.values.reduce(0, +), open: (n["open"] ?? 0) + (n["investigating"] ?? 0),
                                        confirmed: n["confirmed"] ?? 0, dismissed: n["dismissed"] ?? 0, evaluatedAt: e == nil ? nil : newest,
                                        injected: e?.int("injected") ?? 0, caught: e?.int("caught") ?? 0, normal: e?.int("normal") ?? 0,
                                        flagged: e?.int("flagged") ?? 0)
            }
        }
    }
}
