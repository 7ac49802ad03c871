import Foundation
import TillCore
import TillDocuments
import TillProtocol

extension HeadOfficeStore {
    /// The first statements of the sales at the start of `prepared`, up to the first document
    /// that is not a sale. On PostgreSQL they go as one pipeline: none depends on another's answer
    /// (a card missing or out of bounds is dealt with afterwards, in order, by `applySale`). A sale
    /// that registers its card ends the run: the sales after it may be on that card. SQLite: one.
    func saleRun(_ prepared: ArraySlice<Prepared>, till: TillCredential, at received: Int64) -> [SQLStatement] {
        var statements: [SQLStatement] = []
        for p in prepared {
            guard case .sale(let s) = p else { break }
            statements.append(saleStatement(s, till: till, at: received))
            if database.kind != .postgres || s.doc.loyalty?.registration != nil { break }
        }
        return statements
    }

    /// The columns a sale's row is inserted with: what ingest keys it by, its document, and the
    /// figures the reports add up (`reportFigures`).
    static let saleColumns = """
        sale_id, store_id, till_id, sequence, receipt_number, completed_at, completed_ms, total, currency, card_number, loyalty_spend, document,
        received_at, cashier, items, voids, overrides, discounts, duration_ms, paid_cash, paid_card, paid_points, categories, skus
        """
    static let saleColumnCount = 24
    /// A sale's row inserted unless it (or its till's sequence number) is already there: made once,
    /// not for each sale.
    static let insertSale = """
        INSERT INTO sales (\(saleColumns)) VALUES (\(placeholders(saleColumnCount)))
        ON CONFLICT DO NOTHING
        """

    /// A sale's figures for the reports, from its document (already checked within its bounds;
    /// sums are saturating, never trapping): the cashier, lines sold, lines voided, prices
    /// overridden, discounts given, how long it took, what was tendered by kind, and the net of
    /// its lines by category (`category=net;…`, `%`, `;` and `=` escaped), and the SKUs it sold
    /// (`sku;…`, escaped alike, at most 200) for the segments' "bought" and the baskets mined for
    /// cross-sell suggestions.
    static func reportFigures(_ doc: SaleDocument, _ sale: CompletedSale) -> [SQLValue] {
        var items: Int64 = 0, voids: Int64 = 0, overrides: Int64 = 0, discounts: Int64 = 0
        var categories = ShortListIndex(), nets: [Int64] = []
        var skus = ShortListIndex()
        for l in doc.lines {
            if l.voided { voids += 1; continue }
            items += 1
            if skus.keys.count < 200 { _ = skus.position(of: l.sku) }
            if l.priceOverride != nil { overrides += 1 }
            discounts = discounts.addingClamped(l.lineDiscount.addingClamped(l.saleDiscountShare))
            let (i, added) = categories.position(of: l.category)
            if added { nets.append(l.net) } else { nets[i] = nets[i].addingClamped(l.net) }
        }
        var cash: Int64 = 0, card: Int64 = 0, points: Int64 = 0
        for t in doc.tenders {
            switch t.kind {
            case "cash": cash = cash.addingClamped(t.amount)
            case "points": points = points.addingClamped(t.amount)
            default: card = card.addingClamped(t.amount)
            }
        }
        let byCategory = zip(categories.keys, nets).sorted { $0.0 < $1.0 }.map { "\(escapeCategory($0.0))=\($0.1)" }.joined(separator: ";")
        let duration = sale.completedAt.subtractingReportingOverflow(sale.startedAt)
        return [.text(doc.cashier.number), .int(items), .int(voids), .int(overrides), .int(discounts),
                .int(duration.overflow ? 0 : max(0, min(duration.partialValue, 86_400_000))), .int(cash), .int(card), .int(points), .text(byCategory),
                .text(skus.keys.sorted().map(escapeCategory).joined(separator: ";"))]
    }

    static func escapeCategory(_ c: String) -> String {
        // Nearly every category and SKU has none of the three: no copy, no search.
        guard c.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: "=") }) else { return c }
        return c.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: ";", with: "%3B").replacingOccurrences(of: "=", with: "%3D")
    }

    static func unescapeCategory(_ c: Substring) -> String {
        c.utf8.contains(UInt8(ascii: "%")) ? c.replacingOccurrences(of: "%3B", with: ";").replacingOccurrences(of: "%3D", with: "=").replacingOccurrences(of: "%25", with: "%") : String(c)
    }

    /// Whether a sale's first statement also moves its card and writes its ledger rows.
    func movesInFirstStatement(_ doc: SaleDocument, _ derived: Derived) -> Bool {
        database.kind == .postgres && doc.loyalty != nil && doc.loyalty?.registration == nil && !derived.movements.isEmpty
    }

    /// A sale's first statement: its insert, and on PostgreSQL for a member's sale its card's move
    /// and its ledger rows too (`insertSaleMovingCard`).
    func saleStatement(_ s: PreparedSale, till: TillCredential, at received: Int64) -> SQLStatement {
        let card = s.doc.loyalty?.cardNumber
        let saleRow: [SQLValue] = [.text(s.doc.saleID), .text(till.storeID), .text(till.tillID), .int(s.doc.sequence), .text(s.doc.receiptNumber),
                                   .text(s.doc.completedAt), .int(s.sale.completedAt), .int(s.sale.basket.totals.total), .text(s.doc.currency), SQLValue(card),
                                   .int(card == nil ? 0 : s.derived.spend), .text(s.json), .int(received)] + s.derived.report
        if movesInFirstStatement(s.doc, s.derived), let l = s.doc.loyalty {
            return insertSaleMovingCard(saleRow, card: l.cardNumber, derived: s.derived, saleID: s.doc.saleID, till: till, at: received)
        }
        return SQLStatement(Self.insertSale, saleRow)
    }

    /// A sale applied, its first statement (`saleStatement`) having given `first`.
    func applySale(_ s: PreparedSale, first: SQLOutcome, till: TillCredential,
                           at received: Int64, _ c: any SQLConnection, mark: inout TillMark) throws -> IngestResult {
        let card = s.doc.loyalty?.cardNumber
        // Insert first: the usual case is one statement. Nothing inserted means this sale or its
        // sequence number is already there.
        let inserted: Int
        var movedInStatement: SQLRow?
        if movesInFirstStatement(s.doc, s.derived) {
            guard let r = first.rows.first else { throw SQLError("the sale \(s.doc.saleID) could not be inserted") }
            inserted = Int(r.int("inserted"))
            if inserted > 0, r["balance"].int != nil { movedInStatement = r }
        } else {
            inserted = first.changed
        }
        if inserted == 0 {
            if try c.queryOne("SELECT sale_id FROM sales WHERE sale_id = ?", [.text(s.doc.saleID)]) != nil {
                return IngestResult(kind: "sale", id: s.doc.saleID, status: .duplicate, reason: "already applied", cards: try balances([card], c))
            }
            let other = try c.queryOne("SELECT sale_id FROM sales WHERE store_id = ? AND till_id = ? AND sequence = ?",
                                       [.text(till.storeID), .text(till.tillID), .int(s.doc.sequence)])?.text("sale_id") ?? "?"
            let reason = "sequence \(s.doc.sequence) of till \(till.name) is already sale \(other)"
            try c.execute("INSERT INTO rejects (document_id, kind, store_id, till_id, reason, received_at) VALUES (?, 'sale', ?, ?, ?, ?)",
                          [.text(s.doc.saleID), .text(till.storeID), .text(till.tillID), .text(reason), .int(received)])
            return IngestResult(kind: "sale", id: s.doc.saleID, status: .rejected, reason: reason)
        }
        mark.accepted(sequence: s.doc.sequence, lag: max(0, received - s.sale.completedAt))
        mark.inserted.append(.text(s.doc.saleID))
        for check in s.derived.checks {
            try c.execute("""
                INSERT INTO discrepancies (sale_id, card_number, kind, detail, till_points, head_office_points, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.text(s.doc.saleID), SQLValue(card), .text(check.kind), .text(check.detail), .points(check.tillPoints),
                      SQLValue(check.headOfficePoints?.count), .int(received)])
        }
        guard let l = s.doc.loyalty else {
            return IngestResult(kind: "sale", id: s.doc.saleID, status: .accepted)
        }
        // Read from `s` rather than a copy of its figures (a copy retains and releases each of
        // their arrays and the programme's, for every sale).
        var movements = s.derived.movements, delta = s.derived.delta
        if let r = l.registration,
           try insertRegistration(r, saleID: s.doc.saleID, till: till, programmeVersion: l.programmeVersion, at: received, c) != .registered {
            // The card was not issued here: no welcome bonus for it.
            movements.removeAll { $0.kind == "welcome" }
            delta = movements.sum(\.points)
        }
        let programme = s.derived.programme
        let ledgerWritten = movedInStatement != nil
        var moved: SQLRow? = movedInStatement
        if moved == nil {
            moved = try moveCard(l.cardNumber, delta: delta.count, qualifying: s.derived.qualifyingDelta, saleID: s.doc.saleID,
                                 receipt: s.doc.receiptNumber, till: till, at: received, c)
        }
        guard let row = moved else {
            return IngestResult(kind: "sale", id: s.doc.saleID, status: .accepted)
        }
        // The movements, appended in one statement.
        if !movements.isEmpty && !ledgerWritten {
            let values = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: movements.count).joined(separator: ", ")
            var arguments: [SQLValue] = []
            arguments.reserveCapacity(movements.count * 9)
            for m in movements {
                arguments += [.text(l.cardNumber), .text(s.doc.saleID), .text(m.kind), .points(m.points), .text(m.rule), .text(m.label), .text(till.storeID),
                              .text(till.tillID), .int(received)]
            }
            try c.execute("INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, till_id, created_at) VALUES " + values, arguments)
        }
        if row.text("status") == "replaced" {
            try forwardReplaced(l.cardNumber, delta: delta.count, qualifying: s.derived.qualifyingDelta, saleID: s.doc.saleID, programme: programme,
                                at: received, c)
        }
        let balance = row.int("balance"), qualifying = row.int("qualifying")
        let tier = programme?.tier(for: qualifying)?.code
        if let tier, tier != row["tier_code"].text, row.text("status") != "replaced" {
            try c.execute("UPDATE cards SET tier_code = ? WHERE number = ?", [.text(tier), .text(l.cardNumber)])
            try Self.emit(.tierChanged, ["card": l.cardNumber, "from": row["tier_code"].text ?? NSNull(), "to": tier, "document": s.doc.saleID], c, at: received)
        }
        if l.redeemed > 0 && balance < 0 {
            try c.execute("""
                INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('overdraft', ?, ?, ?, ?, ?, ?)
                """, [.text(l.cardNumber), .text(s.doc.saleID), .text(till.storeID), .text(till.tillID),
                      .text("Sale \(s.doc.receiptNumber) redeemed \(l.redeemed) points; the card's balance is now \(balance): the same points were redeemed elsewhere while offline"),
                      .int(received)])
        }
        // Points redeemed on a card whose points head office holds: a till that had not heard of
        // the hold yet (offline). Recorded for whoever placed it.
        if l.redeemed > 0, let held = try c.queryOne("SELECT redemption_hold FROM cards WHERE number = ?", [.text(l.cardNumber)])?["redemption_hold"].int {
            let since = ProtocolTime.format(held, timeZone: TimeZone(identifier: "UTC")!)
            try c.execute("""
                INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('held-card-redemption', ?, ?, ?, ?, ?, ?)
                """, [.text(l.cardNumber), .text(s.doc.saleID), .text(till.storeID), .text(till.tillID),
                      .text("Sale \(s.doc.receiptNumber) redeemed \(l.redeemed) points on card \(LoyaltyCardNumber.masked(l.cardNumber)), whose points head office has held since \(since): the till had not heard of the hold"),
                      .int(received)])
        }
        // Each personal offer the sale used (by head office's own award, or a discount on the
        // member's own terms): one use of the member's; more than allowed (tills offline each
        // used it) is recorded for someone to look at.
        for (offer, label) in s.derived.offerUses {
            let left = try c.queryOne("""
                UPDATE member_offers SET uses_left = uses_left - 1, used = used + 1
                WHERE campaign_id = ? AND customer_id = (SELECT customer_id FROM cards WHERE number = ?) RETURNING uses_left
                """, [.text(offer), .text(l.cardNumber)])?.int("uses_left")
            if let left, left < 0 {
                try c.execute("""
                    INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('offer-over-redemption', ?, ?, ?, ?, ?, ?)
                    """, [.text(l.cardNumber), .text(s.doc.saleID), .text(till.storeID), .text(till.tillID),
                          .text("Sale \(s.doc.receiptNumber) used offer \(offer) (\(label)) once more than the member may: \(-left) over; tills offline used it too"),
                          .int(received)])
            }
        }
        if row.text("status") != "active" {
            try c.execute("""
                INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('card-status', ?, ?, ?, ?, ?, ?)
                """, [.text(l.cardNumber), .text(s.doc.saleID), .text(till.storeID), .text(till.tillID),
                      .text("Sale \(s.doc.receiptNumber) used card \(LoyaltyCardNumber.masked(l.cardNumber)), which head office has as \(row.text("status"))"),
                      .int(received)])
            if row.text("status") == "closed" { try Self.eraseIfErased(saleID: s.doc.saleID, s.json, card: l.cardNumber, c) }
        }
        // Challenges: the sale counts towards those running; a completion pays its reward once.
        var after = balance
        var rewarded = false
        if let programme, !programme.challenges.isEmpty, row.text("status") == "active",
           try applyChallenges(s.doc, programme: programme, card: l.cardNumber, till: till, at: received, c) {
            rewarded = true
        }
        // A member who was invited: their first qualifying purchase rewards them and their friend.
        if l.registration?.referralCode != nil { mark.referralsOpen = nil }
        if mark.referralsOpen == nil {
            mark.referralsOpen = try c.queryOne("SELECT referred_id FROM referrals WHERE status = 'registered' LIMIT 1", []) != nil
        }
        if mark.referralsOpen == true, row.text("status") == "active", try applyReferral(s.doc, card: l.cardNumber, till: till, at: received, c) {
            rewarded = true
        }
        if rewarded {
            after = try c.queryOne("SELECT balance FROM cards WHERE number = ?", [.text(l.cardNumber)])?.int("balance") ?? balance
        }
        return IngestResult(kind: "sale", id: s.doc.saleID, status: .accepted,
                            cards: [CardBalance(number: l.cardNumber, balance: after, tierCode: tier ?? row["tier_code"].text, qualifying: qualifying)])
    }

    /// PostgreSQL only: a member's sale inserted, its card moved (when it exists, within its
    /// bounds, and the sale was new) and its ledger rows written, in one statement. The row says
    /// `inserted` (0 or 1) and the card's row after the move (null columns: not moved; the caller
    /// then goes through `moveCard`).
    func insertSaleMovingCard(_ saleRow: [SQLValue], card number: String, derived: Derived, saleID: String, till: TillCredential,
                              at received: Int64) -> SQLStatement {
        let limit = DocumentBounds.balance.upperBound
        let delta = derived.delta.count, qualifying = derived.qualifyingDelta
        let values = Array(repeating: "(CAST(? AS BIGINT), ?, ?, ?)", count: derived.movements.count).joined(separator: ", ")
        var arguments = saleRow
        arguments += [.int(delta), .int(qualifying), .int(received), .text(number),
                      .int(-limit - min(0, delta)), .int(limit - max(0, delta)),
                      .int(-limit - min(0, qualifying)), .int(limit - max(0, qualifying)),
                      .text(number), .text(saleID), .text(till.storeID), .text(till.tillID), .int(received)]
        for m in derived.movements { arguments += [.points(m.points), .text(m.kind), .text(m.rule), .text(m.label)] }
        return SQLStatement("""
            WITH inserted AS (
                INSERT INTO sales (\(Self.saleColumns)) VALUES (\(Self.placeholders(Self.saleColumnCount)))
                ON CONFLICT DO NOTHING RETURNING sale_id),
            moved AS (
                UPDATE cards SET balance = balance + ?, qualifying = qualifying + ?, updated_at = ?
                WHERE number = ? AND balance BETWEEN ? AND ? AND qualifying BETWEEN ? AND ? AND EXISTS (SELECT 1 FROM inserted)
                RETURNING balance, qualifying, status, tier_code),
            entry AS (SELECT CAST(? AS TEXT) AS card, CAST(? AS TEXT) AS sale, CAST(? AS TEXT) AS store, CAST(? AS TEXT) AS till, CAST(? AS BIGINT) AS at),
            written AS (
                INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, till_id, created_at)
                SELECT entry.card, entry.sale, v.kind, v.points, v.rule, v.label, entry.store, entry.till, entry.at
                FROM (VALUES \(values)) AS v(points, kind, rule, label), entry
                WHERE EXISTS (SELECT 1 FROM moved))
            SELECT (SELECT COUNT(*) FROM inserted) AS inserted, moved.balance, moved.qualifying, moved.status, moved.tier_code
            FROM (SELECT 1 AS one) AS one LEFT JOIN moved ON TRUE
            """, arguments)
    }

    static let moveCardUpdate = """
        UPDATE cards SET balance = balance + ?, qualifying = qualifying + ?, updated_at = ?
        WHERE number = ? AND balance BETWEEN ? AND ? AND qualifying BETWEEN ? AND ?
        """
    static let moveCardReturning = moveCardUpdate + " RETURNING balance, qualifying, status, tier_code"

    /// Moves a card's balance and qualification by `delta` and `qualifying`, creating the card
    /// (with an `unknown-card` exception) if head office did not have it. A move that would take
    /// either figure outside `DocumentBounds.balance` is refused: the card row is not touched, and
    /// nil comes back after an `out-of-bounds` exception is recorded. Returns the row after the move.
    func moveCard(_ number: String, delta: Int64, qualifying: Int64, saleID: String, receipt: String, till: TillCredential, at received: Int64,
                  _ c: any SQLConnection) throws -> SQLRow? {
        // The bounds are in the WHERE clause: neither database ever computes a figure past them
        // (SQLite would turn an overflowing sum into a REAL).
        let limit = DocumentBounds.balance.upperBound
        let arguments: [SQLValue] = [.int(delta), .int(qualifying), .int(received), .text(number),
                                     .int(-limit - min(0, delta)), .int(limit - max(0, delta)),
                                     .int(-limit - min(0, qualifying)), .int(limit - max(0, qualifying))]
        // SQLite keeps a RETURNING clause's rows in a temporary table it makes for each statement:
        // the update and a read of the row it left cost the writer less.
        func update() throws -> SQLRow? {
            guard database.kind == .sqlite else { return try c.queryOne(Self.moveCardReturning, arguments) }
            guard try c.execute(Self.moveCardUpdate, arguments) > 0 else { return nil }
            return try c.queryOne("SELECT balance, qualifying, status, tier_code FROM cards WHERE number = ?", [.text(number)])
        }
        if let row = try update() { return row }
        if try c.queryOne("SELECT number FROM cards WHERE number = ?", [.text(number)]) == nil {
            try c.execute("INSERT INTO cards (number, status, balance, qualifying) VALUES (?, 'active', 0, 0) ON CONFLICT (number) DO NOTHING",
                          [.text(number)])
            try c.execute("""
                INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('unknown-card', ?, ?, ?, ?, ?, ?)
                """, [.text(number), .text(saleID), .text(till.storeID), .text(till.tillID),
                      .text("Sale \(receipt) used card \(LoyaltyCardNumber.masked(number)), which head office did not have: it starts from 0 here (load the cards with headoffice cards import)"),
                      .int(received)])
            if let row = try update() { return row }
        }
        try c.execute("""
            INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('out-of-bounds', ?, ?, ?, ?, ?, ?)
            """, [.text(number), .text(saleID), .text(till.storeID), .text(till.tillID),
                  .text("Document \(receipt) would move card \(LoyaltyCardNumber.masked(number)) by \(delta) points (qualifying \(qualifying)) past ±\(limit): the card was not changed"),
                  .int(received)])
        return nil
    }

    /// A discrepancy to record if the sale is applied: the till's figure and head office's.
    struct AwardCheck {
        var kind: String
        var detail: String
        var tillPoints: Points
        var headOfficePoints: Points?
    }

    /// What head office itself makes of a sale's loyalty: the movements it puts on the ledger, the
    /// spend that counts towards the tier, and where the till said otherwise.
    struct Derived {
        var movements: [(kind: String, points: Points, rule: String, label: String)] = []
        var delta: Points = 0
        var qualifyingDelta: Int64 = 0
        /// What the customer paid in money (the sale's total less what points paid).
        var spend: Int64 = 0
        var checks: [AwardCheck] = []
        var programme: LoyaltyProgramme?
        /// The member's offers the sale used (gave points by or took money off with), each one use.
        var offerUses: [(id: String, label: String)] = []
        /// The sale's figures for the reports (`reportFigures`), worked out with the rest before
        /// the batch reaches the one writer.
        var report: [SQLValue] = []
    }

    /// A sale that cannot have happened: no tender for what was due, underpaid, impossible times,
    /// another currency than the chain's. Nil when it is a real sale.
    func realSaleProblem(_ doc: SaleDocument, _ sale: CompletedSale, received: Int64, chainCurrency: String?) -> String? {
        let t = sale.basket.totals
        if t.total > 0 && doc.tenders.isEmpty { return "tenders: a sale of \(t.total) needs the tenders that paid it" }
        if t.paid < t.total { return "totals.paid \(t.paid) is less than the total \(t.total): an unpaid sale is not a completed sale" }
        guard let started = ProtocolTime.parse(doc.startedAt) else { return "startedAt '\(DocumentGate.quoted(doc.startedAt))' is not an ISO 8601 time" }
        let completed = sale.completedAt
        for (name, v) in [("startedAt", started), ("completedAt", completed)] where !DocumentBounds.epochMillis.contains(v) {
            return "\(name) \(name == "startedAt" ? doc.startedAt : doc.completedAt) is not a time a sale can have (2000 to 2200)"
        }
        if completed < started { return "completedAt \(doc.completedAt) is before startedAt \(doc.startedAt)" }
        // (A sale suspended one day and completed the next is real: no limit on how long it took.)
        if completed > received + 86_400_000 { return "completedAt \(doc.completedAt) is more than a day after head office's clock" }
        if let chain = chainCurrency, chain != doc.currency {
            return "currency '\(doc.currency)' is not the chain's currency \(chain)"
        }
        return nil
    }

    /// A registration's fields checked exactly as the till's form checks them; nil when valid.
    static func registrationProblem(_ r: SaleDocument.RegistrationInfo) -> String? {
        var g = DocumentGate()
        r.check(&g)
        if let p = g.problem { return p }
        do {
            let made = try Registration.make(
                cardNumber: r.cardNumber, firstName: r.firstName, lastName: r.lastName, phone: r.phone ?? "", email: r.email ?? "",
                postcode: r.postcode ?? "", birthDate: r.birthDate ?? "", marketingConsent: r.marketingConsent, at: 0)
            _ = made
        } catch { return "\(error)" }
        guard ProtocolTime.parse(r.registeredAt) != nil else { return "registeredAt '\(DocumentGate.quoted(r.registeredAt))' is not an ISO 8601 time" }
        return nil
    }

    /// Where the till's line, VAT and total figures differ from what the core computes from the
    /// same lines, discounts and tenders (head office keeps its own and records the difference).
    func figureChecks(_ doc: SaleDocument, _ sale: CompletedSale) -> [AwardCheck] {
        let t = sale.basket.totals
        var differences: [String] = []
        // (Compared one by one, not as a list of named pairs: the list was made for every line.)
        func compare(_ what: @autoclosure () -> String, _ till: Int64, _ mine: Int64) {
            if till != mine { differences.append("\(what()) \(till) (head office: \(mine))") }
        }
        for (l, a) in zip(doc.linesInOrder, t.lines) {
            compare("line \(l.lineNumber) amount", l.amount, a.gross)
            compare("line \(l.lineNumber) lineDiscount", l.lineDiscount, a.lineDiscount)
            compare("line \(l.lineNumber) offerDiscount", l.offerDiscount ?? 0, a.offerDiscount)
            compare("line \(l.lineNumber) saleDiscountShare", l.saleDiscountShare, a.saleDiscountShare)
            compare("line \(l.lineNumber) net", l.net, a.net)
        }
        let sameVAT = doc.vat.count == t.vat.count && zip(doc.vat, t.vat).allSatisfy { a, b in
            a.code == b.code && a.rateBasisPoints == b.basisPoints && a.gross == b.gross && a.vat == b.vat && a.net == b.net
        }
        if !sameVAT {
            let tillVAT = doc.vat.map { "\($0.code) \($0.rateBasisPoints) \($0.gross)/\($0.vat)/\($0.net)" }
            let ownVAT = t.vat.map { "\($0.code) \($0.basisPoints) \($0.gross)/\($0.vat)/\($0.net)" }
            differences.append("VAT \(tillVAT.isEmpty ? "none" : tillVAT.joined(separator: ", ")) (head office: \(ownVAT.joined(separator: ", ")))")
        }
        compare("totals.subtotal", doc.totals.subtotal, t.subtotal)
        compare("totals.lineDiscounts", doc.totals.lineDiscounts, t.lineDiscounts)
        compare("totals.itemCount", doc.totals.itemCount, t.itemCount)
        compare("totals.offerDiscounts", doc.totals.offerDiscounts ?? 0, t.offerDiscount)
        guard !differences.isEmpty else { return [] }
        return [AwardCheck(kind: "figures", detail: "Sale \(doc.receiptNumber): " + differences.prefix(20).joined(separator: "; "),
                           tillPoints: 0, headOfficePoints: nil)]
    }

    /// Head office's own figures for a sale's loyalty (before the write transaction: it is the
    /// costly part). Points earned and the welcome bonus come from the programme version the till
    /// used; the value of redeemed points is what the points tenders paid, never more than the
    /// programme makes those points worth; the tier counts what the customer paid in money.
    func derive(_ doc: SaleDocument, _ sale: CompletedSale) throws -> Derived {
        var d = Derived()
        d.report = Self.reportFigures(doc, sale)
        d.checks = figureChecks(doc, sale)
        guard let l = doc.loyalty, let outcome = sale.loyalty else { return d }
        let tillEarned = l.earned.filter { $0.points != 0 }
        let tillPoints = tillEarned.sum { Points($0.points) }   // bounded: 200 parts × 10^12
        let programme = try programme(version: l.programmeVersion)
        d.programme = programme
        var earned = tillEarned.map { (rule: $0.rule, label: $0.label, points: Points($0.points)) }
        var welcome = l.welcome.filter { $0.points != 0 }.map { (rule: $0.rule, label: $0.label, points: Points($0.points)) }
        // The personal offers the till used, if they are the member's and valid here and then
        // (head office's own terms; their uses are counted when the sale is applied).
        let discounted = l.offerDiscounts ?? []
        let claimed = Set(tillEarned.compactMap { PersonalOffer.id(ofRule: $0.rule) }).union(discounted.map(\.id))
        let own = claimed.isEmpty ? [] : try memberOffers(claimed, card: l.cardNumber, at: sale.completedAt, store: doc.storeID)
        let discounts = offerDiscounts(doc, sale, own: own)
        d.checks += discounts.checks
        d.offerUses = discounts.uses
        if let programme {
            var context = outcome.context
            context.offers = own.filter { !$0.givesDiscount }
            let award = programme.award(for: sale.basket, context: context)
            let mine = award.parts.filter { $0.points != 0 }
            let same = mine.count == tillEarned.count && zip(mine, tillEarned).allSatisfy { $0.rule == $1.rule && $0.points.count == $1.points }
            if !same {
                d.checks.append(AwardCheck(
                    kind: "points",
                    detail: "Sale \(doc.receiptNumber): the till awarded \(tillEarned.map { "\($0.rule)=\($0.points)" }.joined(separator: ", ")); programme \(programme.version) gives \(mine.map { "\($0.rule)=\($0.points)" }.joined(separator: ", ")): the ledger has head office's",
                    tillPoints: tillPoints, headOfficePoints: award.total))
            }
            earned = mine.map { (rule: $0.rule, label: $0.label, points: $0.points) }
            let ownWelcome = l.registration == nil ? [] : programme.welcomeAward.parts
            let tillWelcome = welcome.sum(\.points)
            let ownTotal = ownWelcome.sum(\.points)
            if ownTotal != tillWelcome {
                d.checks.append(AwardCheck(
                    kind: "welcome",
                    detail: "Sale \(doc.receiptNumber): the till gave \(tillWelcome) welcome points; programme \(programme.version) gives \(ownTotal)\(l.registration == nil ? " (no card was issued in this sale)" : "")",
                    tillPoints: tillWelcome, headOfficePoints: ownTotal))
            }
            welcome = ownWelcome.map { (rule: $0.rule, label: $0.label, points: $0.points) }
        } else {
            d.checks.append(AwardCheck(
                kind: "unknown-programme",
                detail: "Programme version \(l.programmeVersion) is not at head office: the points were not checked (import it with headoffice programme import)",
                tillPoints: tillPoints, headOfficePoints: nil))
            if l.registration == nil { welcome = [] }
        }
        // Money paid with points: the points tenders' amounts (bounded), never more than the
        // programme makes those points worth.
        let pointsTenders = doc.tenders.filter { $0.kind == TenderKind.points.rawValue }
        let paidWithPoints = pointsTenders.reduce(Int64(0)) { $0 + $1.amount }
        if let programme {
            for t in pointsTenders {
                let worth = programme.value(ofPoints: Points(t.points ?? 0))
                if t.amount > worth {
                    d.checks.append(AwardCheck(
                        kind: "redemption",
                        detail: "Sale \(doc.receiptNumber): \(t.points ?? 0) points paid \(t.amount); programme \(programme.version) makes them worth \(worth)",
                        tillPoints: Points(t.points ?? 0), headOfficePoints: nil))
                }
            }
        }
        if l.redeemedValue != paidWithPoints {
            d.checks.append(AwardCheck(
                kind: "redemption",
                detail: "Sale \(doc.receiptNumber): loyalty.redeemedValue says \(l.redeemedValue); its points tenders paid \(paidWithPoints)",
                tillPoints: Points(l.redeemed), headOfficePoints: nil))
        }
        for w in welcome { d.movements.append((kind: "welcome", points: w.points, rule: w.rule, label: w.label)) }
        for e in earned { d.movements.append((kind: "earn", points: e.points, rule: e.rule, label: e.label)) }
        for e in earned { if let id = PersonalOffer.id(ofRule: e.rule), !d.offerUses.contains(where: { $0.id == id }) { d.offerUses.append((id, e.label)) } }
        if l.redeemed > 0 { d.movements.append((kind: "redeem", points: -Points(l.redeemed), rule: "redeem", label: "Points redeemed")) }
        // Each movement is within ±10^12 and there are at most 401 of them: no overflow.
        d.delta = d.movements.sum(\.points)
        let total = sale.basket.totals.total
        let spend = max(0, total - min(total, paidWithPoints))
        d.spend = spend
        d.qualifyingDelta = programme?.tierQualification.basis == .points ? earned.sum(\.points).count : spend
        return d
    }
}
