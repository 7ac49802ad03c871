import Foundation
import Synchronization
import TillCore
import TillDocuments
public import TillProtocol

extension HeadOfficeStore {
    /// Registers a card to a new member, once. Only a stock card, or a card head office does not
    /// have that lies in the programme's card ranges, can be registered: a blocked, lost or already
    /// registered card is refused and the refusal recorded as an exception. The registrations
    /// table's unique card number is the lock, so two registrations of one card arriving at once
    /// (on two head office processes) register it once.
    enum RegistrationOutcome: Equatable {
        case registered, duplicate
        case refused(String)
    }

    func insertRegistration(_ r: SaleDocument.RegistrationInfo, saleID: String?, till: TillCredential, programmeVersion: String,
                                    at received: Int64, _ c: any SQLConnection) throws -> RegistrationOutcome {
        func refused(_ why: String) throws -> RegistrationOutcome {
            try c.execute("""
                INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('registration', ?, ?, ?, ?, ?, ?)
                """, [.text(r.cardNumber), SQLValue(saleID), .text(till.storeID), .text(till.tillID),
                      .text("Card \(LoyaltyCardNumber.masked(r.cardNumber)) was not registered to \(r.firstName) \(r.lastName): \(why)"),
                      .int(received)])
            return .refused(why)
        }
        let existing = try c.queryOne("SELECT status, customer_id FROM cards WHERE number = ?", [.text(r.cardNumber)])
        if let existing {
            let status = existing.text("status")
            if status != "stock" || existing["customer_id"].text != nil {
                return try refused(status == "active" ? "the card is already registered to a member" : "the card is \(status)")
            }
        } else {
            let ranges = try (programme(version: programmeVersion) ?? latestProgramme())?.cardRanges ?? []
            do { _ = try LoyaltyCardNumber.validate(r.cardNumber, ranges: ranges) } catch {
                return try refused("head office does not have the card, and \(error)")
            }
        }
        let inserted = try c.execute("""
            INSERT INTO registrations (card_number, customer_id, store_id, till_id, sale_id, received_at, registered_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (card_number) DO NOTHING
            """, [.text(r.cardNumber), .text(r.cardNumber), .text(till.storeID), .text(till.tillID), SQLValue(saleID), .int(received),
                  .int(ProtocolTime.parse(r.registeredAt) ?? received)])
        // Another transaction registered it first (the same document sent twice at once).
        if inserted == 0 { return .duplicate }
        try c.execute("""
            INSERT INTO customers (id, first_name, last_name, phone, email, postcode, birth_date, marketing_consent, registered_at, store_id, till_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
            """, [.text(r.cardNumber), .text(r.firstName), .text(r.lastName), SQLValue(r.phone), SQLValue(r.email), SQLValue(r.postcode),
                  SQLValue(r.birthDate), SQLValue(r.marketingConsent), .text(r.registeredAt), .text(till.storeID), .text(till.tillID)])
        try Self.recordConsent(r.cardNumber, granted: r.marketingConsent, channel: "till \(till.name)", by: nil, givenAt: r.registeredAt, at: received, c)
        try Self.emit(.memberRegistered, [
            "card": r.cardNumber, "customerID": r.cardNumber, "firstName": r.firstName, "lastName": r.lastName, "email": r.email ?? NSNull(),
            "phone": r.phone ?? NSNull(), "postcode": r.postcode ?? NSNull(), "marketingConsent": r.marketingConsent, "store": till.storeID, "till": till.tillID,
        ], c, at: received)
        try Self.indexCustomers([r.cardNumber], c)
        try Self.linkCards([(customer: r.cardNumber, card: r.cardNumber)], c)
        // Only a stock card (or a new one) changes hands; the conditional update keeps it so even
        // if the card's row changed since it was read.
        try c.execute("""
            INSERT INTO cards (number, customer_id, status, balance, qualifying) VALUES (?, ?, 'active', 0, 0)
            ON CONFLICT (number) DO UPDATE SET customer_id = excluded.customer_id, status = 'active'
            WHERE cards.status = 'stock' AND cards.customer_id IS NULL
            """, [.text(r.cardNumber), .text(r.cardNumber)])
        // A friend's code given on the till's form: the referral, rewarded at the first qualifying purchase.
        if let code = r.referralCode, !code.isEmpty {
            try recordReferral(code: code, referred: r.cardNumber, channel: "till \(till.name)", registeredAt: ProtocolTime.parse(r.registeredAt) ?? received,
                               at: received, c)
        }
        return .registered
    }

    func applyRegistration(_ doc: RegistrationDocument, till: TillCredential, at received: Int64, _ c: any SQLConnection) throws -> IngestResult {
        let card = doc.registration.cardNumber
        if try c.queryOne("SELECT card_number FROM registrations WHERE card_number = ?", [.text(card)]) != nil {
            return IngestResult(kind: "registration", id: card, status: .duplicate, reason: "already registered", cards: try balances([card], c))
        }
        switch try insertRegistration(doc.registration, saleID: nil, till: till, programmeVersion: doc.programmeVersion, at: received, c) {
        case .registered: break
        case .duplicate:
            return IngestResult(kind: "registration", id: card, status: .duplicate, reason: "already registered", cards: try balances([card], c))
        case .refused(let why):
            return IngestResult(kind: "registration", id: card, status: .rejected, reason: why, cards: try balances([card], c))
        }
        // The welcome bonus is the programme's, not what the document says.
        let welcome = try programme(version: doc.programmeVersion)?.welcomeAward.parts.map { SaleDocument.AwardPart(rule: $0.rule, label: $0.label, points: $0.points.count) }
            ?? doc.welcome
        let total = welcome.reduce(Int64(0)) { $0 + $1.points }   // bounded: 200 parts × 10^12
        guard total != 0, try moveCard(card, delta: total, qualifying: 0, saleID: card, receipt: "registration", till: till, at: received, c) != nil else {
            return IngestResult(kind: "registration", id: card, status: .accepted, cards: try balances([card], c))
        }
        for p in welcome where p.points != 0 {
            try c.execute("""
                INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, till_id, created_at)
                VALUES (?, NULL, 'welcome', ?, ?, ?, ?, ?, ?)
                """, [.text(card), .int(p.points), .text(p.rule), .text(p.label), .text(till.storeID), .text(till.tillID), .int(received)])
        }
        return IngestResult(kind: "registration", id: card, status: .accepted, cards: try balances([card], c))
    }

    func balances(_ cards: [String?], _ c: any SQLConnection) throws -> [CardBalance] {
        try cards.compactMap { $0 }.compactMap { number in
            try c.queryOne("SELECT balance, qualifying, tier_code FROM cards WHERE number = ?", [.text(number)]).map {
                CardBalance(number: number, balance: $0.int("balance"), tierCode: $0["tier_code"].text, qualifying: $0.int("qualifying"))
            }
        }
    }

    /// Moves the till's "received everything up to" mark over sales that arrived. On the writer,
    /// once a batch: the work is the run of sales that just became contiguous, never the sales
    /// after a gap that stays (a till that lost a sale reads one row here, not every later sale).
    func advanceContiguous(_ till: TillCredential, _ c: any SQLConnection) throws {
        guard let row = try c.queryOne("SELECT contiguous_through, max_sequence FROM tills WHERE store_id = ? AND till_id = ?",
                                       [.text(till.storeID), .text(till.tillID)]) else { return }
        let start = row.int("contiguous_through")
        guard start < row.int("max_sequence"),
              try c.queryOne(Self.saleOfTillAtSequence, [.text(till.storeID), .text(till.tillID), .int(start + 1)]) != nil else { return }
        let through = try runEnd(till, from: start + 1, max: row.int("max_sequence"), c)
        try c.execute("UPDATE tills SET contiguous_through = ? WHERE store_id = ? AND till_id = ?",
                      [.int(through), .text(till.storeID), .text(till.tillID)])
    }

    static let saleOfTillAtSequence = "SELECT 1 AS one FROM sales WHERE store_id = ? AND till_id = ? AND sequence = ?"

    /// The last sequence number of the run of a till's sales that starts at `first` (which it
    /// has; `max`: its highest). The usual run (a batch's sales) ends within the next 1,000
    /// numbers: the first sale from there whose next number is missing, found in order by the
    /// sales' unique index (store, till, sequence). A longer run (a gap filled long after, the
    /// sales between two gaps) is measured by counting the index over ranges that double, then
    /// halve: a few statements and a count, not a lookup for each of its sales.
    func runEnd(_ till: TillCredential, from first: Int64, max: Int64, walk: Int64 = runWalk, _ c: any SQLConnection) throws -> Int64 {
        let key: [SQLValue] = [.text(till.storeID), .text(till.tillID)]
        let near = first.addingClamped(walk)
        if let end = try c.queryOne(Self.firstRunEnd, key + [.int(first), .int(near.addingClamped(1)), .int(near)])?["sequence"].int {
            return end
        }
        // Every number from `first` to `near` + 1 is there: [first, low] has no gap, (low, high] has one.
        var low = Swift.min(near.addingClamped(1), max), high: Int64?, step = Swift.max(1, walk)
        func full(_ a: Int64, _ b: Int64) throws -> Bool {
            try c.queryOne("SELECT COUNT(*) AS n FROM sales WHERE store_id = ? AND till_id = ? AND sequence BETWEEN ? AND ?",
                           key + [.int(a), .int(b)])?.int("n") == b - a + 1
        }
        while low < max {
            guard let h = high else {
                let end = Swift.min(max, low.addingClamped(step))
                if try full(low + 1, end) { low = end; step = step.addingClamped(step) } else { high = end }
                continue
            }
            if h == low + 1 { break }
            let mid = low + (h - low) / 2
            if try full(low + 1, mid) { low = mid } else { high = mid }
        }
        return low
    }

    /// The first sale of a till (store, till) from a number to another (the last + 1) whose next
    /// number is missing, up to the last: each sale with the one after it in one read of the
    /// index (`LEAD`). A lookup of each sale's next number instead was planned by PostgreSQL, on
    /// a `sales` it had no statistics of yet (a new or freshly loaded head office), as a scan of
    /// the till's every sale for each sale: `till-bench ingest` fell to 940 sales/s.
    static let firstRunEnd = """
        SELECT sequence FROM (SELECT sequence, LEAD(sequence) OVER (ORDER BY sequence) AS next
            FROM sales WHERE store_id = ? AND till_id = ? AND sequence BETWEEN ? AND ?) AS run
        WHERE sequence <= ? AND (next IS NULL OR next <> sequence + 1) ORDER BY sequence LIMIT 1
        """

    /// How far `runEnd` walks sale by sale before it counts (a batch holds at most 5,000 documents).
    static let runWalk: Int64 = 1_000

    /// The sequence numbers of a till head office has not received (below the highest it has),
    /// at most `limit` gaps: each found by the index, from one gap to the next. The till's row
    /// counts its sales, so the search stops once the gaps found hold every number missing,
    /// without walking the sales after the last gap (a gap a till never fills costs a few
    /// lookups a batch, not a read of every sale it sent since).
    public func gaps(of till: TillCredential, limit: Int = 100) throws -> [SequenceGap] {
        try gaps(of: till, limit: limit, walk: Self.runWalk)
    }

    /// `walk`: as `runEnd`'s (tests set it low to count every run).
    func gaps(of till: TillCredential, limit: Int, walk: Int64) throws -> [SequenceGap] {
        try database.read { c in
            guard let row = try c.queryOne("SELECT contiguous_through, max_sequence, sales_count FROM tills WHERE store_id = ? AND till_id = ?",
                                           [.text(till.storeID), .text(till.tillID)]) else { return [] }
            let max = row.int("max_sequence")
            // Numbers 1...max not among the till's sales (sequence numbers are at least 1, and unique;
            // `sales_count` is raised in the transaction that inserts the sales it counts, and head
            // office deletes no sale: a count short of the rows only makes the search walk on).
            let missing = max.subtractingReportingOverflow(row.int("sales_count"))
            var from = row.int("contiguous_through") + 1, found: Int64 = 0
            // The mark may trail a sale committed meanwhile (two batches of one till at once on
            // PostgreSQL): that sale's run is no gap.
            if from <= max, try c.queryOne(Self.saleOfTillAtSequence, [.text(till.storeID), .text(till.tillID), .int(from)]) != nil {
                from = try runEnd(till, from: from, max: max, walk: walk, c) + 1
            }
            var gaps: [SequenceGap] = []
            while from <= max && gaps.count < limit {
                // `from` is missing: the gap runs to the next sale the till has.
                guard let next = try c.queryOne("SELECT MIN(sequence) AS n FROM sales WHERE store_id = ? AND till_id = ? AND sequence > ?",
                                                [.text(till.storeID), .text(till.tillID), .int(from)])?["n"].int else { break }
                gaps.append(SequenceGap(from: from, to: next - 1))
                found = found.addingClamped(next - from)
                if !missing.overflow && missing.partialValue > 0 && found >= missing.partialValue { break }
                from = try runEnd(till, from: next, max: max, walk: walk, c) + 1
            }
            return gaps
        }
    }
}
