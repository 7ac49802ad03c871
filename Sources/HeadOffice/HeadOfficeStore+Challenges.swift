import Foundation
import TillCore
import TillDocuments
import TillProtocol

/// A member's challenge as their page and customer service show it.
public struct MemberChallenge: Sendable, Equatable {
    public var id: String, name: String
    public var value: Int64, goal: Int64, unit: String
    public var completions: Int64, maxCompletions: Int64
    public var optIn: Bool, joined: Bool
    public var rewardPoints: Int64, badge: String?
    public var ends: String
}

/// A badge a member earned.
public struct MemberBadge: Sendable, Equatable {
    public var name: String, challenge: String, at: Int64
}

/// Challenges (issue 18), head office's side: it counts every member sale it applies towards the
/// challenges running at the sale's time (from the sale's lines, by its own programme), replays
/// the member's sales in each (whichever till sent them, however late) and confirms each
/// completion once, paying its reward to the sale's card.
extension HeadOfficeStore {
    /// Counts a member's sale in the challenges; true when a reward moved the card.
    func applyChallenges(_ doc: SaleDocument, programme: LoyaltyProgramme, card: String, till: TillCredential, at received: Int64,
                         _ c: any SQLConnection) throws -> Bool {
        guard let l = doc.loyalty else { return false }
        let time = LocalDateTime(minutes: l.localMinutes)
        let running = programme.challenges.filter { $0.isActive(at: time) }
        guard !running.isEmpty, let customer = try c.queryOne("SELECT customer_id FROM cards WHERE number = ?", [.text(card)])?["customer_id"].text else {
            return false
        }
        let lines = doc.lines.filter { !$0.voided }.map {
            ChallengeLine(sku: $0.sku, category: $0.category, net: $0.net, units: $0.soldByWeight ? 1 : $0.quantityMilli / 1000)
        }
        var moved = false
        for ch in running {
            let amount = ch.contribution(lines)
            guard amount > 0 else { continue }
            if ch.optIn, try c.queryOne("SELECT joined_at FROM challenge_members WHERE customer_id = ? AND challenge_id = ?", [.text(customer), .text(ch.id)]) == nil {
                continue
            }
            try c.execute("INSERT INTO challenge_events (customer_id, challenge_id, sale_id, at, amount) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                          [.text(customer), .text(ch.id), .text(doc.saleID), .int(time.minutes), .int(amount)])
            let state = try challengeState(ch, customer: customer, c)
            let replay = ch.replay(state.events.map { ChallengeEvent(sale: $0.sale, at: $0.at, amount: $0.amount) }, after: state.lastCompletedAt,
                                   completed: state.completions)
            for (i, at) in replay.completions.enumerated() {
                let seq = state.completions + Int64(i) + 1
                var points = ch.rewardPoints.count
                if points > 0 {
                    do {
                        try Self.moveByChannel(card, points: points, c, at: received)
                        try c.execute("""
                            INSERT INTO ledger (card_number, sale_id, kind, points, rule, label, store_id, till_id, created_at) VALUES (?, ?, 'earn', ?, ?, ?, ?, ?, ?)
                            """, [.text(card), .text(doc.saleID), .int(points), .text("challenge:" + ch.id), .text("\(ch.name) complete"), .text(till.storeID),
                                  .text(till.tillID), .int(received)])
                        try Self.emitMovement(card, delta: points, kind: "earn", source: "challenge", reference: doc.saleID, c, at: received)
                        moved = true
                    } catch let e as ChannelRefusal {
                        points = 0
                        try c.execute("""
                            INSERT INTO exceptions (kind, card_number, sale_id, store_id, till_id, detail, created_at) VALUES ('out-of-bounds', ?, ?, ?, ?, ?, ?)
                            """, [.text(card), .text(doc.saleID), .text(till.storeID), .text(till.tillID),
                                  .text("Challenge \(ch.id) completed by sale \(doc.receiptNumber): its reward was not paid. \(e.message)"), .int(received)])
                    }
                }
                try c.execute("""
                    INSERT INTO challenge_completions (customer_id, challenge_id, seq, sale_id, at, card_number, points, badge, name, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [.text(customer), .text(ch.id), .int(seq), .text(doc.saleID), .int(at), .text(card), .int(points), SQLValue(ch.badge),
                          .text(ch.name), .int(received)])
            }
        }
        return moved
    }

    /// A member in a challenge: the completions confirmed, the last one's time, the sales after it.
    func challengeState(_ ch: Challenge, customer: String, _ c: any SQLConnection) throws -> ChallengeState {
        let done = try c.queryOne("SELECT COUNT(*) AS n, MAX(at) AS last FROM challenge_completions WHERE customer_id = ? AND challenge_id = ?",
                                  [.text(customer), .text(ch.id)])
        let completions = done?.int("n") ?? 0, last = completions > 0 ? done?["last"].int : nil
        // The newest 1,000 (a member's sales since the last completion, within any window there is).
        let events = try c.query("""
            SELECT sale_id, at, amount FROM challenge_events WHERE customer_id = ? AND challenge_id = ? AND at > ? ORDER BY at DESC, sale_id DESC LIMIT 1000
            """, [.text(customer), .text(ch.id), .int(last ?? Int64.min)]).reversed()
            .map { ChallengeState.Event(sale: $0.text("sale_id"), at: $0.int("at"), amount: $0.int("amount")) }
        let joined = try c.queryOne("SELECT joined_at FROM challenge_members WHERE customer_id = ? AND challenge_id = ?", [.text(customer), .text(ch.id)]) != nil
        return ChallengeState(id: ch.id, completions: completions, lastCompletedAt: last, events: events, joined: joined)
    }

    /// The member's state in the challenges running now (for a till's card lookup; nil: none run).
    func challengeStates(card: String, programme: LoyaltyProgramme?, at time: Int64, _ c: any SQLConnection) throws -> [ChallengeState]? {
        guard let programme, !programme.challenges.isEmpty,
              let customer = try c.queryOne("SELECT customer_id FROM cards WHERE number = ?", [.text(card)])?["customer_id"].text else { return nil }
        let now = LocalDateTime(epochMillis: time, utcOffsetSeconds: 0)
        let running = programme.challenges.filter { $0.isActive(at: now) || $0.isActive(at: LocalDateTime(minutes: now.minutes + 1440)) }
        guard !running.isEmpty else { return nil }
        return try running.map { try challengeState($0, customer: customer, c) }
    }

    /// The member's challenges running now with their progress, and the badges they earned.
    public func memberChallenges(_ customer: String, at time: Int64 = HeadOfficeStore.now()) throws -> (challenges: [MemberChallenge], badges: [MemberBadge]) {
        let programme = try latestProgramme()
        return try database.read { c in
            let now = LocalDateTime(epochMillis: time, utcOffsetSeconds: 0)
            var out: [MemberChallenge] = []
            for ch in programme?.challenges ?? [] where ch.isActive(at: now) {
                let s = try challengeState(ch, customer: customer, c)
                let value = ch.replay(s.events.map { ChallengeEvent(sale: $0.sale, at: $0.at, amount: $0.amount) }, after: s.lastCompletedAt,
                                      completed: s.completions).value
                out.append(MemberChallenge(id: ch.id, name: ch.name, value: value, goal: ch.goal,
                                           unit: ch.window == .streak ? "weeks" : ch.measure.rawValue, completions: s.completions,
                                           maxCompletions: ch.maxCompletions, optIn: ch.optIn, joined: s.joined, rewardPoints: ch.rewardPoints.count,
                                           badge: ch.badge, ends: ch.ends))
            }
            let badges = try c.query("""
                SELECT badge, name, MIN(created_at) AS at FROM challenge_completions WHERE customer_id = ? AND badge IS NOT NULL GROUP BY badge, name ORDER BY at
                """, [.text(customer)]).map { MemberBadge(name: $0.text("badge"), challenge: $0.text("name"), at: $0.int("at")) }
            return (out, badges)
        }
    }

    /// A member joins a challenge members opt in to (from now on their sales count).
    public func joinChallenge(_ id: String, customer: String, at time: Int64 = HeadOfficeStore.now()) throws {
        guard let ch = try latestProgramme()?.challenges.first(where: { $0.id == id }), ch.optIn,
              ch.isActive(at: LocalDateTime(epochMillis: time, utcOffsetSeconds: 0)) else {
            throw ChannelRefusal(404, "There is no challenge '\(id.prefix(40))' to join now")
        }
        _ = try database.write { c in
            try c.execute("INSERT INTO challenge_members (customer_id, challenge_id, joined_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                          [.text(customer), .text(id), .int(time)])
        }
    }

    /// The completions confirmed of a challenge (or all), for the reports and the tests.
    public func challengeCompletions(_ id: String? = nil) throws -> [(customer: String, challenge: String, seq: Int64, sale: String, points: Int64)] {
        try database.read { c in
            try c.query("SELECT customer_id, challenge_id, seq, sale_id, points FROM challenge_completions\(id == nil ? "" : " WHERE challenge_id = ?") ORDER BY created_at, seq",
                        id.map { [SQLValue.text($0)] } ?? []).map {
                ($0.text("customer_id"), $0.text("challenge_id"), $0.int("seq"), $0.text("sale_id"), $0.int("points"))
            }
        }
    }
}
