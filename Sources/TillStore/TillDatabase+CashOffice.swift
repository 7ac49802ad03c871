import Foundation
import GRDB
public import TillCore
import TillDocuments
public import TillProtocol

extension TillDatabase: CashOfficeStore {
    // MARK: Returns

    public func returnableSale(receipt: String, till: TillIdentity) throws -> ReturnableSale? {
        try journal("read the sale to return") {
            try pool.read { db in try Self.returnable(receipt: receipt, till: till, db: db) }
        }
    }

    static func returnable(receipt: String, till: TillIdentity, db: Database) throws -> ReturnableSale? {
        // This till's journal first; else a sale of another till head office gave for a return here.
        guard let text = try saleDocumentText(receipt: receipt, tillID: till.tillID, db: db)
            ?? String.fetchOne(db, sql: "SELECT document FROM remote_sale WHERE receipt_number = ?", arguments: [receipt])
        else { return nil }
        let sale = try CompletedSale(document: try JSONDecoder().decode(SaleDocument.self, from: Data(text.utf8)), storeName: till.storeName)
        // Every refund of the sale, once: this till's, and those head office told of (other tills').
        var refunds: [String: RefundDocument] = [:]
        if let json = try String.fetchOne(db, sql: "SELECT refunds FROM remote_sale WHERE id = ?", arguments: [sale.id]) {
            for r in try JSONDecoder().decode([RefundDocument].self, from: Data(json.utf8)) { refunds[r.refundID] = r }
        }
        for json in try String.fetchAll(db, sql: "SELECT document FROM refund WHERE original_sale_id = ?", arguments: [sale.id]) {
            let r = try JSONDecoder().decode(RefundDocument.self, from: Data(json.utf8))
            refunds[r.refundID] = r
        }
        return ReturnableSale(sale: sale, returned: ReturnedSoFar(refunds: Array(refunds.values)))
    }

    /// Keeps a sale of another till (from head office) so it can be returned here; the refunds
    /// head office knew of it come with it.
    public func rememberRemoteSale(_ s: SaleForReturn, at time: Timestamp) throws(TillStoreError) {
        let doc = try run("keep the sale from head office") { String(decoding: try JSONEncoder().encode(s.sale), as: UTF8.self) }
        let refunds = try run("keep the sale from head office") { String(decoding: try JSONEncoder().encode(s.refunds), as: UTF8.self) }
        try run("keep the sale from head office") {
            try pool.write { db in
                try db.execute(sql: """
                    INSERT INTO remote_sale (id, receipt_number, document, refunds, fetched_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET refunds = excluded.refunds, fetched_at = excluded.fetched_at
                    """, arguments: [s.sale.saleID, s.sale.receiptNumber, doc, refunds, time])
            }
        }
    }

    public func commitRefund(
        _ request: RefundRequest, id: String, cashier: Cashier, supervisor: String?, at time: Timestamp, till: TillIdentity,
        programme: LoyaltyProgramme?, cardReference: String? = nil, reason: String? = nil, slip: (CompletedRefund) -> PrintJobDraft?
    ) throws -> CompletedRefund {
        let encoder = SaleDocument.makeEncoder()
        return try journal("record the refund") {
            try pool.write { db -> CompletedRefund in
                var plan: RefundPlan
                switch request {
                case .receipt(let saleID, let selections, let toCash):
                    let receipt = try String.fetchOne(db, sql: "SELECT receipt_number FROM sale WHERE id = ?", arguments: [saleID])
                        ?? String.fetchOne(db, sql: "SELECT receipt_number FROM remote_sale WHERE id = ?", arguments: [saleID])
                    guard let receipt, let original = try Self.returnable(receipt: receipt, till: till, db: db) else {
                        throw ReturnError.noSuchReceipt(saleID)
                    }
                    plan = try RefundPlanner.plan(
                        sale: original.sale, prior: original.returned, selections: selections, toCash: toCash, programme: programme)
                case .withoutReceipt(let items):
                    plan = try RefundPlanner.planWithoutReceipt(items: items)
                }
                if let cardReference {
                    for i in plan.tenders.indices where plan.tenders[i].kind == .card { plan.tenders[i].reference = cardReference }
                }
                let last = try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM refund WHERE till_id = ?", arguments: [till.tillID]) ?? 0
                let refund = CompletedRefund(
                    id: id, sequence: last + 1, receiptNumber: CompletedRefund.receiptNumber(till: till, sequence: last + 1), till: till,
                    cashier: cashier, supervisor: supervisor, at: time, plan: plan, reason: reason)
                let json = String(decoding: try encoder.encode(RefundDocument(refund, timeZone: timeZone)), as: UTF8.self)
                let original: String? = plan.withoutReceipt ? nil : plan.originalSaleID
                let toCard = plan.tenders.filter { $0.kind == .card }.reduce(0) { $0 + $1.amount }
                let pointsValue = plan.tenders.filter { $0.kind == .points }.reduce(0) { $0 + $1.amount }
                try db.execute(
                    sql: """
                        INSERT INTO refund (id, store_id, till_id, sequence, receipt_number, original_sale_id, cashier_number,
                            supervisor_number, created_at, total, cash, to_card, points_value, points_restored, points_taken_back,
                            card_number, document, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [id, till.storeID, till.tillID, refund.sequence, refund.receiptNumber, original, cashier.number,
                                supervisor, time, plan.total, plan.cash, toCard, pointsValue, plan.pointsRestored.count,
                                plan.pointsTakenBack.count, plan.cardNumber, json, reason])
                for l in plan.lines {
                    try db.execute(
                        sql: """
                            INSERT INTO refund_line (refund_id, line_number, original_sale_id, sku, description, quantity_milli, amount,
                                tax_code, tax_rate_bp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [id, l.lineNumber, original, l.sku, l.description, l.quantity.milli, l.amount, l.taxCode, l.taxBasisPoints])
                }
                for (i, t) in plan.tenders.enumerated() {
                    try db.execute(
                        sql: "INSERT INTO refund_tender (refund_id, position, kind, amount, reference, points) VALUES (?, ?, ?, ?, ?, ?)",
                        arguments: [id, i + 1, t.kind.rawValue, t.amount, t.reference, t.points?.count])
                }
                for v in plan.vat {
                    try db.execute(
                        sql: "INSERT INTO refund_vat (refund_id, tax_code, rate_bp, gross, vat, net) VALUES (?, ?, ?, ?, ?, ?)",
                        arguments: [id, v.code, v.basisPoints, v.gross, v.vat, v.net])
                }
                if let card = plan.cardNumber {
                    let insert = try db.cachedStatement(sql: """
                        INSERT INTO loyalty_movement (card_number, sale_id, kind, points, rule, label, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                        """)
                    if plan.pointsTakenBack > 0 {
                        try insert.execute(arguments: [card, id, "return-earn", -plan.pointsTakenBack.count, "return", "Points of returned items", time])
                    }
                    if plan.pointsRestored > 0 {
                        try insert.execute(arguments: [card, id, "return-redeem", plan.pointsRestored.count, "return", "Redeemed points given back", time])
                    }
                }
                try db.execute(sql: "INSERT INTO outbox (kind, ref_id, sequence, payload, created_at) VALUES ('refund', ?, NULL, ?, ?)",
                               arguments: [id, json, time])
                var detail = "\(refund.receiptNumber) \(till.currency.format(plan.total))"
                detail += plan.withoutReceipt ? " without receipt" : " of \(plan.originalReceipt)"
                if plan.pointsTakenBack > 0 || plan.pointsRestored > 0 {
                    detail += ", points -\(plan.pointsTakenBack) +\(plan.pointsRestored)"
                }
                try Self.insertAudit(AuditEntry(at: time, action: "refund", cashier: cashier.number, supervisor: supervisor,
                                                saleID: original, detail: detail), db: db)
                if let job = slip(refund) { try Self.insertPrintJob(job, saleID: id, at: time, db: db) }
                return refund
            }
        }
    }

    // MARK: Cash and audit

    public func recordCash(_ m: CashMovement, detail: String, slip: PrintJobDraft?) throws {
        try run("record the \(m.kind.label.lowercased())") {
            try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO cash_movement (kind, amount, reason, cashier_number, supervisor_number, created_at)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [m.kind.rawValue, m.amount, m.reason, m.cashier, m.supervisor, m.at])
                try Self.insertAudit(AuditEntry(at: m.at, action: m.kind.rawValue, cashier: m.cashier, supervisor: m.supervisor, detail: detail), db: db)
                if let slip { try Self.insertPrintJob(slip, saleID: nil, at: m.at, db: db) }
            }
        }
    }

    /// Appends one line. Lines for actions inside a sale (a void, a discount) come with keystrokes,
    /// so, like the open sale's events, they do not wait for the disk: they survive a crash of the
    /// till, not a power cut. Refunds, cash and Z reports write theirs in their own durable commit.
    public func audit(_ entry: AuditEntry) throws {
        try run("write the audit trail") { try withRelaxedSync { try Self.insertAudit(entry, db: $0) } }
    }

    static func insertAudit(_ e: AuditEntry, db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO audit_event (at, action, cashier_number, supervisor_number, sale_id, detail) VALUES (?, ?, ?, ?, ?, ?)
            """).execute(arguments: [e.at, e.action, e.cashier, e.supervisor, e.saleID, e.detail])
    }

    /// The audit trail from `from` (epoch ms, inclusive) to `to` (exclusive), oldest first.
    public func auditTrail(from: Timestamp? = nil, to: Timestamp? = nil) throws(TillStoreError) -> [AuditEntry] {
        try run("read the audit trail") {
            try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM audit_event WHERE at >= ? AND at < ? ORDER BY id",
                                 arguments: [from ?? Int64.min, to ?? Int64.max]).map {
                    AuditEntry(at: $0["at"], action: $0["action"], cashier: $0["cashier_number"], supervisor: $0["supervisor_number"],
                               saleID: $0["sale_id"], detail: $0["detail"])
                }
            }
        }
    }

    /// The Z reports kept on this till, newest first.
    public func zReports(limit: Int = 100) throws(TillStoreError) -> [PeriodReport] {
        let texts = try run("read the Z reports") {
            try pool.read { try String.fetchAll($0, sql: "SELECT document FROM z_report ORDER BY number DESC LIMIT ?", arguments: [limit]) }
        }
        return try run("read the Z reports") { try texts.map { try JSONDecoder().decode(PeriodReport.self, from: Data($0.utf8)) } }
    }

    // MARK: X and Z

    public func report(
        z: Bool, counted: Int64?, at time: Timestamp, till: TillIdentity, cashier: String? = nil, print: (PeriodReport) -> PrintJobDraft?
    ) throws -> PeriodReport {
        let from = cashier == nil ? " (from the command line)" : ""
        return try run(z ? "close the day (Z report)" : "make the X report") {
            if !z {
                // The X report resets nothing: it is printed and noted on the audit trail.
                return try pool.write { db in
                    let report = try Self.periodReport(z: false, counted: nil, at: time, till: till, db: db).report
                    try Self.insertAudit(AuditEntry(at: time, action: "x-report", cashier: cashier,
                                                    detail: "X: \(report.salesCount) sales, net \(till.currency.format(report.netSales))" + from), db: db)
                    if let job = print(report) { try Self.insertPrintJob(job, saleID: nil, at: time, db: db) }
                    return report
                }
            }
            return try pool.write { db in
                let (report, marks) = try Self.periodReport(z: true, counted: counted, at: time, till: till, db: db)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                let json = String(decoding: try encoder.encode(report), as: UTF8.self)
                try db.execute(
                    sql: """
                        INSERT INTO z_report (number, opened_at, closed_at, last_sale_sequence, last_refund_sequence, last_cash_id,
                            last_audit_id, last_cancel_rowid, last_movement_id, counted, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [report.number, report.from, time, marks.sale, marks.refund, marks.cash, marks.audit, marks.cancel,
                                marks.movement, counted, json])
                try db.execute(sql: "INSERT INTO outbox (kind, ref_id, sequence, payload, created_at) VALUES ('zreport', ?, NULL, ?, ?)",
                               arguments: [ZReportSummary.documentID(storeID: till.storeID, tillID: till.tillID, number: report.number), json, time])
                try Self.insertAudit(AuditEntry(
                    at: time, action: "z-report", cashier: cashier,
                    detail: "Z \(report.number): \(report.salesCount) sales, net \(till.currency.format(report.netSales))"
                        + (report.cash.overShort.map { ", over/short \(till.currency.format($0))" } ?? "") + from), db: db)
                if let job = print(report) { try Self.insertPrintJob(job, saleID: nil, at: time, db: db) }
                return report
            }
        }
    }

    struct PeriodMarks {
        var sale: Int64 = 0, refund: Int64 = 0, cash: Int64 = 0, audit: Int64 = 0, cancel: Int64 = 0, movement: Int64 = 0
    }

    /// Sums the journal since the last Z (the marks of the last Z say where the period starts),
    /// and the marks this period ends at.
    static func periodReport(z: Bool, counted: Int64?, at time: Timestamp, till: TillIdentity, db: Database) throws -> (report: PeriodReport, marks: PeriodMarks) {
        var start = PeriodMarks()
        var number: Int64 = 1
        var from: Timestamp?
        if let last = try Row.fetchOne(db, sql: "SELECT * FROM z_report ORDER BY number DESC LIMIT 1") {
            start = PeriodMarks(sale: last["last_sale_sequence"], refund: last["last_refund_sequence"], cash: last["last_cash_id"],
                                audit: last["last_audit_id"], cancel: last["last_cancel_rowid"], movement: last["last_movement_id"])
            number = last["number"] as Int64 + 1
            from = last["closed_at"]
        }
        func one(_ sql: String, _ args: StatementArguments) throws -> Row { try Row.fetchOne(db, sql: sql, arguments: args)! }
        let end = PeriodMarks(
            sale: try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(sequence), 0) FROM sale WHERE till_id = ?", arguments: [till.tillID]) ?? 0,
            refund: try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(sequence), 0) FROM refund WHERE till_id = ?", arguments: [till.tillID]) ?? 0,
            cash: try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM cash_movement") ?? 0,
            audit: try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM audit_event") ?? 0,
            cancel: try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(rowid), 0) FROM cancelled_sale") ?? 0,
            movement: try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM loyalty_movement") ?? 0)
        let saleWhere = "s.till_id = ? AND s.sequence > ? AND s.sequence <= ?"
        let saleArgs: StatementArguments = [till.tillID, start.sale, end.sale]
        let refundWhere = "r.till_id = ? AND r.sequence > ? AND r.sequence <= ?"
        let refundArgs: StatementArguments = [till.tillID, start.refund, end.refund]

        let s = try one("""
            SELECT COUNT(*) AS n, COALESCE(SUM(item_count), 0) AS items, COALESCE(SUM(total), 0) AS total,
                COALESCE(SUM(line_discounts), 0) AS ld, COALESCE(SUM(sale_discount), 0) AS sd, COALESCE(SUM(change), 0) AS change,
                MIN(sequence) AS first, MAX(sequence) AS last, MIN(started_at) AS started
            FROM sale s WHERE \(saleWhere)
            """, saleArgs)
        let lines = try one("""
            SELECT COALESCE(SUM(l.line_discount > 0), 0) AS discounted, COALESCE(SUM(l.voided), 0) AS voided,
                COALESCE(SUM(CASE WHEN l.voided = 0 THEN l.amount - l.line_discount - l.sale_discount_share - l.net ELSE 0 END), 0) AS offers,
                COALESCE(SUM(CASE WHEN l.voided = 1 THEN (l.unit_price * l.quantity_milli + 500) / 1000 ELSE 0 END), 0) AS voided_value
            FROM sale_line l JOIN sale s ON s.id = l.sale_id WHERE \(saleWhere)
            """, saleArgs)
        let r = try one("""
            SELECT COUNT(*) AS n, COALESCE(SUM(total), 0) AS total, COALESCE(SUM(original_sale_id IS NULL), 0) AS without, MIN(created_at) AS first
            FROM refund r WHERE \(refundWhere)
            """, refundArgs)

        // Tenders: sales (cash net of change) and refunds, by kind.
        var tenders: [String: PeriodReport.TenderTotal] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT t.kind, COUNT(*) AS n, SUM(t.amount) AS amount FROM sale_tender t JOIN sale s ON s.id = t.sale_id
            WHERE \(saleWhere) GROUP BY t.kind
            """, arguments: saleArgs) {
            let kind: String = row["kind"]
            tenders[kind] = .init(kind: kind, count: row["n"], sales: row["amount"], refunds: 0)
        }
        tenders["cash", default: .init(kind: "cash", count: 0, sales: 0, refunds: 0)].sales -= s["change"] as Int64
        for row in try Row.fetchAll(db, sql: """
            SELECT t.kind, SUM(t.amount) AS amount FROM refund_tender t JOIN refund r ON r.id = t.refund_id
            WHERE \(refundWhere) GROUP BY t.kind
            """, arguments: refundArgs) {
            let kind: String = row["kind"]
            tenders[kind, default: .init(kind: kind, count: 0, sales: 0, refunds: 0)].refunds += row["amount"] as Int64
        }
        let order = TenderKind.allCases.map(\.rawValue)
        let tenderList = tenders.values.sorted { (order.firstIndex(of: $0.kind) ?? 99, $0.kind) < (order.firstIndex(of: $1.kind) ?? 99, $1.kind) }

        // VAT: sales less refunds, by rate.
        var vat: [String: PeriodReport.VATTotal] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT v.tax_code, v.rate_bp, SUM(v.gross) AS gross, SUM(v.vat) AS vat, SUM(v.net) AS net
            FROM sale_vat v JOIN sale s ON s.id = v.sale_id WHERE \(saleWhere) GROUP BY v.tax_code, v.rate_bp
            """, arguments: saleArgs) {
            let key = "\(row["tax_code"] as String)/\(row["rate_bp"] as Int64)"
            vat[key] = .init(code: row["tax_code"], rateBasisPoints: row["rate_bp"], gross: row["gross"], vat: row["vat"], net: row["net"])
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT v.tax_code, v.rate_bp, SUM(v.gross) AS gross, SUM(v.vat) AS vat, SUM(v.net) AS net
            FROM refund_vat v JOIN refund r ON r.id = v.refund_id WHERE \(refundWhere) GROUP BY v.tax_code, v.rate_bp
            """, arguments: refundArgs) {
            let key = "\(row["tax_code"] as String)/\(row["rate_bp"] as Int64)"
            var v = vat[key] ?? .init(code: row["tax_code"], rateBasisPoints: row["rate_bp"], gross: 0, vat: 0, net: 0)
            v.gross -= row["gross"] as Int64
            v.vat -= row["vat"] as Int64
            v.net -= row["net"] as Int64
            vat[key] = v
        }

        let cancelled = try one("""
            SELECT COUNT(*) AS n, COALESCE(SUM(total), 0) AS total FROM cancelled_sale WHERE rowid > ? AND rowid <= ?
            """, [start.cancel, end.cancel])
        let overrides = try one("""
            SELECT COALESCE(SUM(action = 'override'), 0) AS granted, COALESCE(SUM(action = 'override-refused'), 0) AS refused
            FROM audit_event WHERE id > ? AND id <= ?
            """, [start.audit, end.audit])
        let points = try one("""
            SELECT COALESCE(SUM(CASE WHEN kind IN ('earn', 'welcome') THEN points ELSE 0 END), 0) AS issued,
                COALESCE(SUM(CASE WHEN kind = 'redeem' THEN -points ELSE 0 END), 0) AS redeemed,
                COALESCE(SUM(CASE WHEN kind = 'return-earn' THEN -points ELSE 0 END), 0) AS taken,
                COALESCE(SUM(CASE WHEN kind = 'return-redeem' THEN points ELSE 0 END), 0) AS restored
            FROM loyalty_movement WHERE id > ? AND id <= ?
            """, [start.movement, end.movement])
        var cash: [String: (n: Int64, amount: Int64)] = [:]
        var firstCash: Timestamp?
        for row in try Row.fetchAll(db, sql: """
            SELECT kind, COUNT(*) AS n, SUM(amount) AS amount, MIN(created_at) AS first FROM cash_movement
            WHERE id > ? AND id <= ? GROUP BY kind
            """, arguments: [start.cash, end.cash]) {
            cash[row["kind"]] = (row["n"], row["amount"])
            let t: Timestamp = row["first"]
            firstCash = min(firstCash ?? t, t)
        }
        let cashRefunds = tenders["cash"]?.refunds ?? 0
        let cashUp = PeriodReport.CashUp(
            float: cash["float"]?.amount ?? 0, cashSales: tenders["cash"]?.sales ?? 0, cashRefunds: cashRefunds,
            paidIn: cash["paid-in"]?.amount ?? 0, paidOut: cash["paid-out"]?.amount ?? 0, pickups: cash["pickup"]?.amount ?? 0,
            noSales: cash["no-sale"]?.n ?? 0, counted: z ? counted : nil)

        // Per cashier.
        var cashiers: [String: PeriodReport.CashierTotal] = [:]
        var durations: [String: Int64] = [:]
        func blank(_ n: String) -> PeriodReport.CashierTotal {
            .init(number: n, name: "", sales: 0, value: 0, items: 0, itemsPerMinuteTenths: 0, voidedLines: 0, cancelledSales: 0, refunds: 0)
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT s.cashier_number AS c, COUNT(*) AS n, SUM(s.total) AS value, SUM(s.item_count) AS items,
                SUM(s.completed_at - s.started_at) AS ms
            FROM sale s WHERE \(saleWhere) GROUP BY s.cashier_number
            """, arguments: saleArgs) {
            let c: String = row["c"]
            var t = blank(c)
            t.sales = row["n"]
            t.value = row["value"]
            t.items = row["items"]
            cashiers[c] = t
            durations[c] = row["ms"]
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT s.cashier_number AS c, SUM(l.voided) AS v FROM sale_line l JOIN sale s ON s.id = l.sale_id
            WHERE \(saleWhere) GROUP BY s.cashier_number
            """, arguments: saleArgs) {
            cashiers[row["c"], default: blank(row["c"])].voidedLines += row["v"] as Int64
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT cashier_number AS c, COUNT(*) AS n FROM cancelled_sale WHERE rowid > ? AND rowid <= ? GROUP BY cashier_number
            """, arguments: [start.cancel, end.cancel]) {
            cashiers[row["c"], default: blank(row["c"])].cancelledSales += row["n"] as Int64
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT r.cashier_number AS c, COUNT(*) AS n FROM refund r WHERE \(refundWhere) GROUP BY r.cashier_number
            """, arguments: refundArgs) {
            cashiers[row["c"], default: blank(row["c"])].refunds += row["n"] as Int64
        }
        for (c, var t) in cashiers {
            t.name = try String.fetchOne(db, sql: "SELECT name FROM cashier WHERE number = ?", arguments: [c]) ?? ""
            let ms = durations[c] ?? 0
            t.itemsPerMinuteTenths = ms > 0 ? (t.items * 600_000 + ms / 2) / ms : 0
            cashiers[c] = t
        }

        let starts = [from, s["started"] as Timestamp?, r["first"] as Timestamp?, firstCash].compactMap { $0 }
        var report = PeriodReport(
            kind: z ? "Z" : "X", number: number, storeID: till.storeID, tillID: till.tillID, currency: till.currency.code,
            from: from ?? starts.min() ?? time, to: time, firstSequence: s["first"], lastSequence: s["last"], salesCount: s["n"],
            itemsSold: s["items"], salesValue: s["total"], lineDiscounts: s["ld"], saleDiscounts: s["sd"],
            discountedLines: lines["discounted"], refundsCount: r["n"], refundsValue: r["total"], refundsWithoutReceipt: r["without"],
            tenders: tenderList.filter { $0.count > 0 || $0.refunds > 0 || $0.sales != 0 },
            vat: vat.values.sorted { ($0.code, $0.rateBasisPoints) < ($1.code, $1.rateBasisPoints) },
            voidedLines: lines["voided"], voidedLinesValue: lines["voided_value"], cancelledSales: cancelled["n"],
            cancelledValue: cancelled["total"], overrides: overrides["granted"], overridesRefused: overrides["refused"],
            pointsIssued: Points(points["issued"]), pointsRedeemed: Points(points["redeemed"]), pointsTakenBack: Points(points["taken"]),
            pointsRestored: Points(points["restored"]), cash: cashUp, cashiers: cashiers.values.sorted { $0.number < $1.number })
        let offers: Int64 = lines["offers"]
        report.offerDiscounts = offers > 0 ? offers : nil
        return (report, end)
    }
}
