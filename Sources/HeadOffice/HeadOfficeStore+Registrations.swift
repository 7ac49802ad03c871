import Foundation
import Synchronization
import TillCore
import TillDocuments
public import TillProtocol

extension HeadOfficeStore {
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

    /// Moves the till's "received everything up to" mark over sales that arrived.
    func advanceContiguous(_ till: TillCredential, _ c: any SQLConnection) throws {
        guard let row = try c.queryOne("SELECT contiguous_through, max_sequence FROM tills WHERE store_id = ? AND till_id = ?",
                                       [.text(till.storeID), .text(till.tillID)]) else { return }
        var through = row.int("contiguous_through")
        let max = row.int("max_sequence")
        guard through < max else { return }
        let next = try c.query("""
            SELECT sequence FROM sales WHERE store_id = ? AND till_id = ? AND sequence > ? ORDER BY sequence LIMIT 100000
            """, [.text(till.storeID), .text(till.tillID), .int(through)])
        for r in next {
            if r.int("sequence") == through + 1 { through += 1 } else { break }
        }
        try c.execute("UPDATE tills SET contiguous_through = ? WHERE store_id = ? AND till_id = ?",
                      [.int(through), .text(till.storeID), .text(till.tillID)])
    }

    /// The sequence numbers of a till head office has not received (below the highest it has).
    public func gaps(of till: TillCredential, limit: Int = 100) throws -> [SequenceGap] {
        try database.read { c in
            guard let row = try c.queryOne("SELECT contiguous_through, max_sequence FROM tills WHERE store_id = ? AND till_id = ?",
                                           [.text(till.storeID), .text(till.tillID)]) else { return [] }
            var expected = row.int("contiguous_through") + 1
            let max = row.int("max_sequence")
            guard expected <= max else { return [] }
            var gaps: [SequenceGap] = []
            for r in try c.query("SELECT sequence FROM sales WHERE store_id = ? AND till_id = ? AND sequence >= ? ORDER BY sequence",
                                 [.text(till.storeID), .text(till.tillID), .int(expected)]) {
                let s = r.int("sequence")
                if s > expected {
                    gaps.append(SequenceGap(from: expected, to: s - 1))
                    if gaps.count >= limit { break }
                }
                expected = s + 1
            }
            return gaps
        }
    }
}
