import Foundation
import TillCore
import TillDocuments
import TillProtocol

/// Customer service's card actions: block, report lost, make active again, replace (the balance,
/// tier and history follow the member to the new card), each published to every till at once.
extension HeadOfficeStore {
    /// Blocks a card, marks it lost, or makes it active again; every till refuses a card that is
    /// not active as soon as it has the publication (within seconds when online).
    @discardableResult
    public func setCardStatus(_ number: String, to status: String, by user: String, reason: ServiceReason, note: String,
                              at time: Int64 = HeadOfficeStore.now()) throws -> String {
        let note = try Self.serviceNote(note, reason)
        guard ["active", "blocked", "lost"].contains(status) else { throw ServiceError("A card can be set active, blocked or lost, not '\(status)'") }
        return try database.write { c in try setCardStatus(number, to: status, by: user, reason: reason, note: note, at: time, c) }
    }

    /// `setCardStatus` within a write (`note` already checked): refuses before it writes anything.
    func setCardStatus(_ number: String, to status: String, by user: String, reason: ServiceReason, note: String, at time: Int64,
                       _ c: any SQLConnection) throws -> String {
        let (card, customer) = try Self.memberCard(number, c)
        _ = try Self.liveMember(customer, c)
        let old = card.text("status")
        guard old != status else { throw ServiceError("Card \(LoyaltyCardNumber.masked(number)) is already \(status)") }
        guard old != "replaced" && old != "closed" else {
            throw ServiceError("Card \(LoyaltyCardNumber.masked(number)) is \(old): it cannot be used again")
        }
        try c.execute("UPDATE cards SET status = ?, updated_at = ? WHERE number = ?", [.text(status), .int(time), .text(number)])
        let action = status == "active" ? "unblock" : status == "lost" ? "report-lost" : "block"
        try Self.audit(c, user: user, action: action, customer: customer, card: number, reason: reason, note: note, detail: "\(old) → \(status)", at: time)
        try publishCards([CardChange(number: number, status: status)], by: user,
                         note: "Card \(LoyaltyCardNumber.masked(number)) \(status) (\(reason.rawValue))", c, at: time)
        return status
    }

    /// Holds a card's points (no till lets them be spent; the card still earns and the sale goes
    /// on) or releases them; every till has it within seconds through the cards publication. A
    /// till offline redeems until it hears; those redemptions are recorded as exceptions.
    public func setRedemptionHold(_ number: String, held: Bool, by user: String, reason: ServiceReason, note: String,
                                  at time: Int64 = HeadOfficeStore.now()) throws {
        let note = try Self.serviceNote(note, reason)
        try database.write { c in try setRedemptionHold(number, held: held, by: user, reason: reason, note: note, at: time, c) }
    }

    /// `setRedemptionHold` within a write (`note` already checked): refuses before it writes anything.
    func setRedemptionHold(_ number: String, held: Bool, by user: String, reason: ServiceReason, note: String, at time: Int64,
                           _ c: any SQLConnection) throws {
        let (card, customer) = try Self.memberCard(number, c)
        _ = try Self.liveMember(customer, c)
        guard (card["redemption_hold"].int != nil) != held else {
            throw ServiceError("Card \(LoyaltyCardNumber.masked(number))'s points are \(held ? "already held" : "not held")")
        }
        try c.execute("UPDATE cards SET redemption_hold = ?, updated_at = ? WHERE number = ?", [held ? .int(time) : .null, .int(time), .text(number)])
        try Self.audit(c, user: user, action: held ? "hold-points" : "release-points", customer: customer, card: number, reason: reason, note: note,
                       detail: held ? "points held" : "points released", at: time)
        try publishCards([CardChange(number: number, status: card.text("status"), redemptionHold: held)], by: user,
                         note: "Card \(LoyaltyCardNumber.masked(number)) points \(held ? "held" : "released") (\(reason.rawValue))", c, at: time)
    }

    /// Gives a member a new card in place of one lost, stolen or damaged: the balance, the
    /// qualification and the tier move to the new card (a transfer on both cards' ledgers, so each
    /// card's balance stays the sum of its movements); the old card is refused at every till from
    /// the publication on, and points a till still sends for it follow to the new card.
    public func replaceCard(_ old: String, with new: String, by user: String, reason: ServiceReason, note: String,
                            at time: Int64 = HeadOfficeStore.now()) throws {
        let note = try Self.serviceNote(note, reason)
        guard new != old else { throw ServiceError("The new card is the old card: scan or key the new card's number") }
        let ranges = try latestProgramme()?.cardRanges ?? []
        do { _ = try LoyaltyCardNumber.validate(new, ranges: ranges) } catch { throw ServiceError("\(error)") }
        try database.write { c in
            let (card, customer) = try Self.memberCard(old, c)
            let member = try Self.liveMember(customer, c)
            guard card.text("status") != "replaced" && card.text("status") != "closed" else {
                throw ServiceError("Card \(LoyaltyCardNumber.masked(old)) is already \(card.text("status"))")
            }
            if let existing = try c.queryOne("SELECT status, customer_id FROM cards WHERE number = ?", [.text(new)]),
               existing.text("status") != "stock" || existing["customer_id"].text != nil {
                throw ServiceError("Card \(LoyaltyCardNumber.masked(new)) is already \(existing["customer_id"].text == nil ? existing.text("status") : "a member's card"): take another card from stock")
            }
            if try c.queryOne("SELECT card_number FROM registrations WHERE card_number = ?", [.text(new)]) != nil {
                throw ServiceError("Card \(LoyaltyCardNumber.masked(new)) was registered at a till: take another card from stock")
            }
            let balance = card.int("balance"), qualifying = card.int("qualifying"), tier = card["tier_code"].text
            try c.execute("""
                INSERT INTO cards (number, customer_id, status, balance, qualifying, tier_code, updated_at) VALUES (?, ?, 'active', ?, ?, ?, ?)
                ON CONFLICT (number) DO UPDATE SET customer_id = excluded.customer_id, status = 'active', balance = excluded.balance,
                    qualifying = excluded.qualifying, tier_code = excluded.tier_code, updated_at = excluded.updated_at
                """, [.text(new), .text(customer), .int(balance), .int(qualifying), SQLValue(tier), .int(time)])
            // The old card keeps its history; its balance and qualification are the new card's now.
            guard try c.execute("UPDATE cards SET status = 'replaced', replaced_by = ?, balance = 0, qualifying = 0, updated_at = ? WHERE number = ? AND balance = ?",
                                [.text(new), .int(time), .text(old), .int(balance)]) == 1 else {
                throw ServiceError("Card \(LoyaltyCardNumber.masked(old)) changed while it was replaced: try again")
            }
            if balance != 0 {
                try c.execute("""
                    INSERT INTO ledger (card_number, kind, points, rule, label, created_at) VALUES (?, 'transfer', ?, 'replacement', ?, ?), (?, 'transfer', ?, 'replacement', ?, ?)
                    """, [.text(old), .int(-balance), .text("Moved to card \(LoyaltyCardNumber.masked(new))"), .int(time),
                          .text(new), .int(balance), .text("Moved from card \(LoyaltyCardNumber.masked(old))"), .int(time)])
            }
            try Self.linkCards([(customer: customer, card: new)], c)
            try Self.emit(.cardReplaced, ["old": old, "new": new, "customerID": customer, "balance": balance, "qualifying": qualifying,
                                          "tierCode": tier ?? NSNull(), "reason": reason.rawValue], c, at: time)
            try Self.audit(c, user: user, action: "replace-card", customer: customer, card: old, reason: reason, note: note,
                           detail: "\(LoyaltyCardNumber.masked(old)) → \(LoyaltyCardNumber.masked(new)): \(balance) points, qualifying \(qualifying), tier \(tier ?? "none")",
                           at: time)
            try publishCards([
                CardChange(number: old, status: "replaced", replacedBy: new),
                CardChange(number: new, status: "active", customerID: customer, firstName: member.text("first_name"), lastName: member.text("last_name"),
                           balance: balance, qualifying: qualifying, tierCode: tier),
            ], by: user, note: "Card \(LoyaltyCardNumber.masked(old)) replaced by \(LoyaltyCardNumber.masked(new)) (\(reason.rawValue))", c, at: time)
        }
    }

    /// Points a till sent for a card already replaced (it did not know yet) follow to the card
    /// that replaced it: a transfer out of the old card and into the new (and on, if that one was
    /// replaced too). The sale stays on the card it was made with.
    func forwardReplaced(_ number: String, delta: Int64, qualifying: Int64, saleID: String?, programme: LoyaltyProgramme?, at time: Int64,
                         _ c: any SQLConnection) throws {
        guard delta != 0 || qualifying != 0 else { return }
        var from = number
        var seen: Set<String> = [number]
        while let row = try c.queryOne("SELECT replaced_by FROM cards WHERE number = ? AND status = 'replaced'", [.text(from)]),
              let to = row["replaced_by"].text, seen.insert(to).inserted {
            let limit = DocumentBounds.balance.upperBound
            guard let moved = try c.queryOne("""
                UPDATE cards SET balance = balance + ?, qualifying = qualifying + ?, updated_at = ?
                WHERE number = ? AND balance BETWEEN ? AND ? AND qualifying BETWEEN ? AND ?
                RETURNING qualifying, tier_code
                """, [.int(delta), .int(qualifying), .int(time), .text(to), .int(-limit - min(0, delta)), .int(limit - max(0, delta)),
                      .int(-limit - min(0, qualifying)), .int(limit - max(0, qualifying))]) else { return }
            if let tier = programme?.tier(for: moved.int("qualifying"))?.code, tier != moved["tier_code"].text {
                try c.execute("UPDATE cards SET tier_code = ? WHERE number = ?", [.text(tier), .text(to)])
            }
            try c.execute("UPDATE cards SET balance = balance - ?, qualifying = qualifying - ? WHERE number = ?",
                          [.int(delta), .int(qualifying), .text(from)])
            if delta != 0 {
                try c.execute("""
                    INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, created_at)
                    VALUES (?, ?, 'transfer', ?, 'replacement', ?, ?), (?, ?, 'transfer', ?, 'replacement', ?, ?)
                    """, [.text(from), SQLValue(saleID), .int(-delta), .text("Moved to card \(LoyaltyCardNumber.masked(to))"), .int(time),
                          .text(to), SQLValue(saleID), .int(delta), .text("Moved from card \(LoyaltyCardNumber.masked(from))"), .int(time)])
            }
            from = to
        }
    }
}
