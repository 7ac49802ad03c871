import Foundation
import GRDB
public import TillCore
public import TillDocuments
import TillProtocol

extension TillDatabase: LoyaltyDirectory {
    // MARK: Programme

    /// The programme in force, or nil when none is installed.
    public func programme() throws(TillStoreError) -> LoyaltyProgramme? {
        let json = try run("read the loyalty programme") {
            try pool.read { try String.fetchOne($0, sql: "SELECT json FROM programme WHERE id = 1") }
        }
        guard let json else { return nil }
        return try run("read the loyalty programme") { try JSONDecoder().decode(LoyaltyProgramme.self, from: Data(json.utf8)) }
    }

    /// Puts a programme in force. The caller has validated it.
    public func installProgramme(_ p: LoyaltyProgramme, at time: Timestamp) throws(TillStoreError) {
        let json = try run("store the loyalty programme") {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            return String(decoding: try e.encode(p), as: UTF8.self)
        }
        try run("store the loyalty programme") {
            try pool.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO programme (id, version, json, applied_at) VALUES (1, ?, ?, ?)",
                               arguments: [p.version, json, time])
            }
        }
    }

    // MARK: Cards

    /// The member behind a card, with the balance as this till knows it: the balance head office
    /// last confirmed plus this till's movements it has not confirmed. Blocked and lost cards are
    /// refused; a card of the programme the cache does not hold is a card that can be issued.
    public func lookupCard(_ number: String, programme: LoyaltyProgramme, now: Timestamp) throws -> CardLookup {
        // CROSS JOIN keeps SQLite's join order: the card's sales (index sale_card), then their
        // outbox rows. A plain JOIN let it walk every pending outbox row instead, which made a
        // card scan slow on a till holding a week of unsent sales (till-bench drain found it).
        let (row, offers) = try run("look up card") {
            try pool.read { db -> (Row?, [PersonalOffer]) in
                let row = try Row.fetchOne(db.cachedStatement(sql: """
                    SELECT c.*, cu.first_name, cu.last_name,
                        (SELECT COALESCE(SUM(points), 0) FROM loyalty_movement m WHERE m.card_number = c.number AND m.confirmed = 0) AS pending,
                        (SELECT COALESCE(SUM(-points), 0) FROM loyalty_movement m WHERE m.card_number = c.number AND m.confirmed = 0
                            AND m.kind = 'redeem') AS pending_redeemed,
                        (SELECT COALESCE(SUM(s.loyalty_spend), 0) FROM sale s CROSS JOIN outbox o ON o.kind = 'sale' AND o.ref_id = s.id
                            WHERE s.card_number = c.number AND o.state = 'pending') AS local_spend,
                        (SELECT COUNT(*) FROM loyalty_movement m WHERE m.card_number = c.number AND m.confirmed = 0) AS unconfirmed
                    FROM card c LEFT JOIN customer cu ON cu.id = c.customer_id WHERE c.number = ?
                    """), arguments: [number])
                // The member's offers in the same read.
                let customer: String? = row?["customer_id"]
                return (row, try customer.map { try Self.offers(db, customer: $0, now: now) } ?? [])
            }
        }
        guard let row else { return .notIssued(number) }
        switch row["status"] as String {
        case "blocked": throw CardError.blocked(number)
        case "lost": throw CardError.lost(number)
        case "replaced": throw CardError.replaced(number, by: row["replaced_by"])
        case "closed": throw CardError.closed(number)
        default: break
        }
        guard let customerID: String = row["customer_id"] else { return .notIssued(number) }
        let pending = Points(row["pending"])
        let qualifying: Int64 = row["qualifying"] as Int64 + (programme.tierQualification.basis == .spend ? row["local_spend"] as Int64 : 0)
        let tier = programme.tier(for: qualifying)
        let name = [row["first_name"] as String? ?? "", row["last_name"] as String? ?? ""].filter { !$0.isEmpty }.joined(separator: " ")
        let unconfirmed: Int64 = row["unconfirmed"]
        let confirmedAt: Int64? = row["confirmed_at"]
        let (expired, soon, by) = Self.expiring(row["expiring"], spentSince: Points(row["pending_redeemed"]).count, now: now)
        var customer = SaleCustomer(
            cardNumber: number, customerID: customerID, name: name.isEmpty ? "Member" : name, tierCode: tier?.code,
            tierName: tier?.name, balance: max(0, Points(row["confirmed_balance"]) + pending - Points(expired)), qualifying: qualifying,
            offlineLeft: max(0, programme.redemption.offlineCapPoints - Points(row["pending_redeemed"])),
            provisional: unconfirmed > 0 || confirmedAt == nil || expired > 0,
            priorPurchases: try priorPurchases(card: number, programme: programme, now: now))
        if soon > 0 { customer.expiringSoon = Points(soon); customer.expiringBy = by }
        customer.offers = offers
        customer.redemptionsHeld = (row["redemption_hold"] as Int64? ?? 0) != 0
        if !programme.challenges.isEmpty { customer.challenges = try challenges(customer: customerID, said: row["challenges"], programme: programme) }
        return .member(customer)
    }

    /// The member's challenges: what head office last said (JSON), with this till's own sales
    /// after its last completion that it did not count yet.
    func challenges(customer: String, said json: String?, programme: LoyaltyProgramme) throws -> [ChallengeRecord] {
        let states = json.flatMap { try? JSONDecoder().decode([ChallengeState].self, from: Data($0.utf8)) } ?? []
        let local = try run("read the member's challenges") {
            try pool.read { db in
                try Row.fetchAll(db.cachedStatement(sql: "SELECT challenge_id, sale_id, at, amount FROM challenge_event WHERE customer_id = ?"),
                                 arguments: [customer])
            }
        }
        return programme.challenges.map { ch in
            let s = states.first { $0.id == ch.id }
            var record = ChallengeRecord(id: ch.id, completions: s?.completions ?? 0, lastCompletedAt: s?.lastCompletedAt,
                                         events: (s?.events ?? []).map { ChallengeEvent(sale: $0.sale, at: $0.at, amount: $0.amount) }, joined: s?.joined ?? false)
            let known = Set(record.events.map(\.sale))
            for r in local where r["challenge_id"] as String == ch.id {
                let e = ChallengeEvent(sale: r["sale_id"], at: r["at"], amount: r["amount"])
                if !known.contains(e.sale), record.lastCompletedAt.map({ e.at > $0 }) ?? true { record.events.append(e) }
            }
            return record
        }
    }

    /// The member's personal offers not yet ended, with the uses left: head office's figure less
    /// this till's own uses (its loyalty movements with the offer's rule on the member's cards).
    public func offers(customer id: String, now: Timestamp) throws -> [PersonalOffer] {
        try run("read the member's offers") { try pool.read { try Self.offers($0, customer: id, now: now) } }
    }

    static func offers(_ db: Database, customer id: String, now: Timestamp) throws -> [PersonalOffer] {
        try Row.fetchAll(db.cachedStatement(sql: """
            SELECT o.json, m.uses - (SELECT COUNT(DISTINCT l.sale_id) FROM loyalty_movement l
                WHERE l.rule = 'offer:' || o.id AND l.card_number IN (SELECT number FROM card WHERE customer_id = m.customer_id)) AS left
            FROM member_offer m JOIN offer o ON o.id = m.offer_id WHERE m.customer_id = ? AND o.valid_to > ?
            ORDER BY o.valid_to, o.id
            """), arguments: [id, now]).compactMap { row -> PersonalOffer? in
            guard var offer = try? JSONDecoder().decode(PersonalOffer.self, from: Data((row["json"] as String).utf8)) else { return nil }
            offer.uses = row["left"]
            return offer.uses > 0 ? offer : nil
        }
    }

    /// What head office last said expires soon (JSON [{points, at}]), against this till's
    /// redemptions since (they use the oldest points first): the points whose time has passed
    /// (the offline view takes them off), and those still to expire with the last time.
    static func expiring(_ json: String?, spentSince: Int64, now: Timestamp) -> (expired: Int64, soon: Int64, by: Int64?) {
        guard let json, let lots = try? JSONDecoder().decode([ExpiringLot].self, from: Data(json.utf8)) else { return (0, 0, nil) }
        var spent = max(0, spentSince), expired: Int64 = 0, soon: Int64 = 0, by: Int64?
        for lot in lots.sorted(by: { $0.at < $1.at }) {
            let used = min(spent, max(0, lot.points))
            spent -= used
            let left = max(0, lot.points) - used
            guard left > 0 else { continue }
            if lot.at <= now {
                expired = expired.addingReportingOverflow(left).overflow ? .max : expired + left
            } else {
                soon = soon.addingReportingOverflow(left).overflow ? .max : soon + left
                by = lot.at
            }
        }
        return (expired, soon, by)
    }

    /// For each Nth-purchase rule: the card's qualifying sales at this till within the rule's period.
    func priorPurchases(card: String, programme: LoyaltyProgramme, now: Timestamp) throws -> [String: Int64] {
        guard !programme.nthPurchaseRules.isEmpty else { return [:] }
        return try run("count the card's purchases") {
            try pool.read { db in
                var counts: [String: Int64] = [:]
                for rule in programme.nthPurchaseRules {
                    let since = now - rule.periodDays * 86_400_000
                    var sql = "SELECT COUNT(*) FROM sale s WHERE s.card_number = ? AND s.completed_at >= ?"
                    var args: [any DatabaseValueConvertible] = [card, since]
                    if !rule.skus.isEmpty || !rule.categories.isEmpty {
                        let skus = rule.skus.map { _ in "?" }.joined(separator: ","), cats = rule.categories.map { _ in "?" }.joined(separator: ",")
                        sql += " AND EXISTS (SELECT 1 FROM sale_line l WHERE l.sale_id = s.id AND l.voided = 0 AND (l.sku IN (\(skus.isEmpty ? "NULL" : skus)) OR l.category IN (\(cats.isEmpty ? "NULL" : cats))))"
                        args += rule.skus.map { $0 as any DatabaseValueConvertible } + rule.categories.map { $0 as any DatabaseValueConvertible }
                    }
                    counts[rule.id] = try Int64.fetchOne(db, sql: sql, arguments: StatementArguments(args)) ?? 0
                }
                return counts
            }
        }
    }

    /// Writes a sale's loyalty: the registration (when the card was issued in the sale) and the
    /// movements, rule by rule. Runs inside the sale's commit.
    static func insertLoyalty(_ o: LoyaltyOutcome, saleID: String, at time: Timestamp, db: Database) throws {
        let card = o.customer.cardNumber
        if let r = o.customer.registration { try insertRegistration(r, customerID: o.customer.customerID ?? card, db: db) }
        try insertMovements(card: card, saleID: saleID, welcome: o.welcome, earned: o.earned, redeemed: o.redeemed, at: time, db: db)
        // Its parts in the member's challenges, counted at this till's next sales.
        if let customer = o.customer.customerID {
            for ch in o.challenges where ch.contributed > 0 {
                try db.execute(sql: "INSERT OR IGNORE INTO challenge_event (customer_id, challenge_id, sale_id, at, amount) VALUES (?, ?, ?, ?, ?)",
                               arguments: [customer, ch.id, saleID, o.context.time.minutes, ch.contributed])
            }
        }
        // An offer that took money off is used as one that gave points is: a movement of no points
        // with its rule, which the uses left count.
        for id in o.discountOffers {
            let name = o.customer.offers.first { $0.id == id }?.name ?? id
            try db.execute(sql: "INSERT INTO loyalty_movement (card_number, sale_id, kind, points, rule, label, created_at) VALUES (?, ?, 'offer', 0, ?, ?, ?)",
                           arguments: [card, saleID, "offer:" + id, name, time])
        }
    }

    /// The customer (one per card number) and the card's link to them.
    static func insertRegistration(_ r: Registration, customerID id: String, db: Database) throws {
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO customer (id, first_name, last_name, phone, phone_rev, email, postcode, birth_date,
                    marketing_consent, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [id, r.firstName, r.lastName, r.phone,
                        r.phone.map { Self.phoneKey($0.filter(\.isASCIIDigit)) }, r.email, r.postcode,
                        r.birthDate, r.marketingConsent, r.registeredAt])
        try db.execute(
            sql: """
                INSERT INTO card (number, customer_id, status) VALUES (?, ?, 'active')
                ON CONFLICT(number) DO UPDATE SET customer_id = excluded.customer_id, status = 'active'
                """,
            arguments: [r.cardNumber, id])
    }

    static func insertMovements(
        card: String, saleID: String?, welcome: PointsAward, earned: PointsAward, redeemed: Points, at time: Timestamp, db: Database
    ) throws {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO loyalty_movement (card_number, sale_id, kind, points, rule, label, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        for p in welcome.parts { try insert.execute(arguments: [card, saleID, "welcome", p.points.count, p.rule, p.label, time]) }
        for p in earned.parts where p.points != 0 { try insert.execute(arguments: [card, saleID, "earn", p.points.count, p.rule, p.label, time]) }
        if redeemed > 0 { try insert.execute(arguments: [card, saleID, "redeem", -redeemed.count, "redeem", "Points redeemed", time]) }
    }

    /// A registration outside a completed sale: customer, card, welcome bonus, outbox row and slip.
    func insertStandaloneRegistration(_ m: NewMember, cancelledSaleID: String?, at time: Timestamp, db: Database) throws {
        let r = m.registration
        // A card already linked to a customer is not issued twice.
        if try String.fetchOne(db, sql: "SELECT customer_id FROM card WHERE number = ?", arguments: [r.cardNumber]) != nil {
            throw CardError.alreadyIssued(r.cardNumber)
        }
        try Self.insertRegistration(r, customerID: r.cardNumber, db: db)
        try Self.insertMovements(card: r.cardNumber, saleID: nil, welcome: m.welcome, earned: PointsAward(parts: []), redeemed: 0, at: time, db: db)
        let document = RegistrationDocument(
            storeID: m.till.storeID, tillID: m.till.tillID, programmeVersion: m.programmeVersion,
            registration: SaleDocument.RegistrationInfo(r, timeZone: timeZone),
            welcome: m.welcome.parts.map(SaleDocument.AwardPart.init), cancelledSaleID: cancelledSaleID)
        let json = String(decoding: try SaleDocument.makeEncoder().encode(document), as: UTF8.self)
        try db.execute(sql: "INSERT INTO outbox (kind, ref_id, payload, created_at) VALUES ('registration', ?, ?, ?)",
                       arguments: [r.cardNumber, json, time])
        if let slip = m.slip { try Self.insertPrintJob(slip, saleID: cancelledSaleID, at: time, db: db) }
    }

    /// Registers a member whose card was issued with no sale to carry it.
    public func register(_ member: NewMember, at time: Timestamp) throws {
        try journal("register the customer") {
            try pool.write { db in try insertStandaloneRegistration(member, cancelledSaleID: nil, at: time, db: db) }
        }
    }

    // MARK: Customers

    /// Customers by card number, phone, e-mail or surname (a prefix), at most `limit`.
    public func searchCustomers(_ query: String, limit: Int = 20) throws(TillStoreError) -> [CustomerSummary] {
        try searchCustomers(query, limit: limit, offset: 0).results
    }

    /// Characters a phone number is written with besides its digits.
    static let phonePunctuation: Set<Character> = [" ", "+", "-", "(", ")", "/", "."]

    /// The digits a phone is found by, reversed (indexed as `phone_rev`): the last 8 digits are the
    /// subscriber's, whatever country code or trunk 0 was keyed before them.
    static func phoneKey(_ digits: String) -> String { String(digits.reversed()) }

    public func searchCustomers(_ query: String, limit: Int, offset: Int) throws(TillStoreError) -> CustomerMatches {
        let q = query.trimmingCharacters(in: .whitespaces)
        guard !q.isEmpty else { return CustomerMatches(results: [], total: 0) }
        let digits = q.filter(\.isASCIIDigit)
        var condition: String
        var arguments: [any DatabaseValueConvertible] = []
        if q.contains("@") {
            condition = "cu.email = ?"
            arguments = [q.lowercased()]
        } else if digits.count >= 6, q.allSatisfy({ $0.isASCIIDigit || Self.phonePunctuation.contains($0) }) {
            let key = Self.phoneKey(String(digits.suffix(8)))
            condition = "(c.number = ? OR (cu.phone_rev >= ? AND cu.phone_rev < ?))"
            arguments = [digits, key, key + ":"]
        } else {
            // Each word the start of the first or the last name, in any order.
            let words = q.split(separator: " ").prefix(4).map { String($0) }
            condition = words.map { _ in
                "((cu.last_name >= ? AND cu.last_name < ?) OR (cu.first_name COLLATE NOCASE >= ? AND cu.first_name COLLATE NOCASE < ?))"
            }.joined(separator: " AND ")
            for w in words { arguments += [w, w + "\u{10FFFF}", w, w + "\u{10FFFF}"] }
        }
        let from = " FROM customer cu JOIN card c ON c.customer_id = cu.id WHERE " + condition
        return try run("search customers") {
            try pool.read { db in
                let total = try Int.fetchOne(db, sql: "SELECT COUNT(*)" + from, arguments: StatementArguments(arguments)) ?? 0
                let rows = try Row.fetchAll(
                    db, sql: "SELECT c.number, c.status, cu.first_name, cu.last_name, cu.phone, cu.email" + from
                        + " ORDER BY cu.last_name, cu.first_name, c.number LIMIT ? OFFSET ?",
                    arguments: StatementArguments(arguments + [limit, max(0, offset)]))
                let results = rows.map { r in
                    CustomerSummary(
                        cardNumber: r["number"], name: [r["first_name"] as String, r["last_name"] as String].joined(separator: " "),
                        phone: r["phone"], email: r["email"], status: r["status"])
                }
                return CustomerMatches(results: results, total: total)
            }
        }
    }

    /// The card's purchases this till knows, newest first.
    public func purchases(card: String, limit: Int = 10) throws(TillStoreError) -> [PurchaseSummary] {
        try run("read the card's purchases") {
            try pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT receipt_number, completed_at, total, item_count FROM sale WHERE card_number = ?
                    ORDER BY completed_at DESC LIMIT ?
                    """, arguments: [card, limit]).map {
                    PurchaseSummary(receiptNumber: $0["receipt_number"], completedAt: $0["completed_at"], total: $0["total"], items: $0["item_count"])
                }
            }
        }
    }

    public func cardCount() throws(TillStoreError) -> Int {
        try run("count cards") { try pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM card") ?? 0 } }
    }

    /// Loads cards (with their members, when issued) in one transaction: all or none.
    public func importCards(_ cards: [CardRecord]) throws(TillStoreError) {
        try importCards(expected: cards.count) { insert in for c in cards { try insert(c) } }
    }

    /// The card cache's indexes, dropped before a load that is large against the cache and built
    /// again after it, in the same transaction: building an index from sorted rows is many times
    /// faster than inserting millions of random keys into it one by one.
    static let cardCacheIndexes: [(name: String, create: String)] = [
        ("card_customer", "CREATE INDEX card_customer ON card(customer_id)"),
        ("customer_email", "CREATE INDEX customer_email ON customer(email)"),
        ("customer_last_name", "CREATE INDEX customer_last_name ON customer(last_name)"),
        ("customer_phone_rev", "CREATE INDEX customer_phone_rev ON customer(phone_rev)"),
        ("customer_first_name", "CREATE INDEX customer_first_name ON customer(first_name COLLATE NOCASE)"),
    ]

    /// Foreign keys back on after a bulk load, checked.
    static func restoreForeignKeys(_ db: Database) throws {
        try db.execute(sql: "PRAGMA foreign_keys = ON")
        guard try Bool.fetchOne(db, sql: "PRAGMA foreign_keys") == true else {
            throw TillStoreError.failed(context: "import cards", reason: "SQLite kept foreign keys off after the load")
        }
    }

    /// A load of at least this many cards, and at least half the cache, rebuilds the indexes.
    static let bulkCards = 100_000

    /// Loads the cards `feed` gives, in one transaction: all or none (a `feed` that throws loads
    /// nothing). Memory stays bounded whatever the count: cards are written as they come.
    /// `expected`: about how many (a large load is done as a bulk load).
    public func importCards(expected: Int, _ feed: (_ insert: (CardRecord) throws -> Void) throws -> Void) throws(TillStoreError) {
        try run("import cards") {
            try pool.writeWithoutTransaction { db in
                let existing = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM card") ?? 0
                let bulk = expected >= Self.bulkCards && expected >= existing / 2
                let cache = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000
                if bulk {
                    try db.execute(sql: "PRAGMA cache_size = -65536")   // 64 MiB while loading (256 MiB was no faster)
                    try db.execute(sql: "PRAGMA threads = 4")            // indexes sorted by worker threads
                    // Each replaced customer would look for the cards referring to it without their
                    // index: the references are checked once, at the end, instead.
                    try db.execute(sql: "PRAGMA foreign_keys = OFF")
                }
                defer { if bulk { _ = try? db.execute(sql: "PRAGMA cache_size = \(cache); PRAGMA threads = 0") } }  // speed only: nothing to lose
                do {
                    try load(db, bulk: bulk, feed)
                } catch {
                    if bulk { try? Self.restoreForeignKeys(db) }   // the load failed: that error is the one to tell
                    throw error
                }
                if bulk { try Self.restoreForeignKeys(db) }
            }
        }
    }

    /// A card of a load with the keys the cache stores for it, made before it reaches SQLite.
    private struct CacheRow {
        let card: CardRecord
        let phoneKey: String?

        init(_ card: CardRecord) {
            self.card = card
            // As `phoneKey` of the phone's digits, over the bytes (millions of members).
            phoneKey = card.member?.phone.map { String(decoding: $0.utf8.reversed().filter { $0 >= 48 && $0 <= 57 }, as: UTF8.self) }
        }
    }

    private func load(_ db: Database, bulk: Bool, _ feed: (_ insert: (CardRecord) throws -> Void) throws -> Void) throws {
        try db.inTransaction {
            if bulk { for index in Self.cardCacheIndexes { try db.execute(sql: "DROP INDEX IF EXISTS \(index.name)") } }
            let customer = try BulkInsert(db, """
                INSERT OR REPLACE INTO customer (id, first_name, last_name, phone, phone_rev, email, postcode, birth_date,
                    marketing_consent, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let card = try BulkInsert(db, """
                INSERT OR REPLACE INTO card (number, customer_id, status, confirmed_balance, confirmed_at, tier_code, qualifying)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            let exists = try CustomerLookup(db)
            // The rows are made (the file read, the phone keys built) on a second thread while
            // SQLite writes the ones before them on this one.
            try Handoff<CacheRow>.run(produce: { put in try feed { try put(CacheRow($0)) } }) { rows in
                for row in rows {
                    let c = row.card
                    if let m = c.member, let id = c.customerID {
                        try customer.run(.text(id), .text(m.firstName), .text(m.lastName), .text(m.phone),
                                         .text(row.phoneKey), .text(m.email), .text(m.postcode), .text(m.birthDate),
                                         .int(m.marketingConsent ? 1 : 0), .int(m.registeredAt))
                    }
                    // With foreign keys off, the one reference a bulk load could leave dangling is a
                    // card naming a customer without bringing one: checked here, where it is rare
                    // (a member's card writes its customer just before), not over the whole cache.
                    if bulk, c.member == nil, let id = c.customerID, try !exists.exists(id) {
                        throw TillStoreError.failed(context: "import cards",
                                                    reason: "card \(LoyaltyCardNumber.masked(c.number)) refers to customer \(id), which neither the file nor the cache has")
                    }
                    try card.run(.text(c.number), .text(c.customerID), .text(c.status), .int(c.balance), .int(c.confirmedAt),
                                 .text(c.tierCode), .int(c.qualifying))
                }
            }
            if bulk {
                // Sorted in runs of 1 MiB that the worker threads sort side by side while this thread
                // reads on (with runs as large as the load's cache, one thread sorted nearly all of
                // it: the indexes took twice as long).
                try db.execute(sql: "PRAGMA cache_size = -1024")
                for index in Self.cardCacheIndexes { try db.execute(sql: index.create) }
            }
            return .commit
        }
    }
}

/// Whether a customer is in the cache: a prepared point lookup by id.
private struct CustomerLookup {
    let statement: Statement

    init(_ db: Database) throws { statement = try db.makeStatement(sql: "SELECT 1 FROM customer WHERE id = ?") }

    func exists(_ id: String) throws -> Bool { try Int.fetchOne(statement, arguments: [id]) != nil }
}
