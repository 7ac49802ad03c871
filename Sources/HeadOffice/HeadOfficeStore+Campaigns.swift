import Crypto
import Foundation
import Mustache
public import TillCore
import TillProtocol

/// Where a campaign is.
public enum CampaignState: String, Sendable, CaseIterable {
    /// Waiting for its start.
    case scheduled
    /// Started: its members drawn, its e-mails going out.
    case sending
    /// Stopped by a person; resumes where it stopped.
    case paused
    /// Every e-mail dealt with.
    case sent
}

/// A campaign: a saved segment's version, a random holdout that receives nothing (the control
/// group its effect is measured against), and an e-mail to the rest who agreed to hear from us.
public struct Campaign: Sendable, Equatable {
    public var id: String, name: String, segmentID: String, segmentVersion: Int64
    /// The share held out, in basis points (1000 = 10%).
    public var holdoutBP: Int64
    public var subject: String, body: String, link: String
    public var ratePerSecond: Int64
    public var startsAt: Int64, endsAt: Int64
    public var state: CampaignState
    public var targeted: Int64, heldOut: Int64
    public var createdBy: String, createdAt: Int64
    public var launchedAt: Int64?, finishedAt: Int64?
    /// The offer the targeted members get at the tills (its id is the campaign's; valid from its
    /// start to its end), and the channels: e-mail, till, or both.
    public var offer: PersonalOffer? = nil
    public var channels: CampaignChannels = .email
}

/// How a campaign reaches its members.
public enum CampaignChannels: String, Sendable, CaseIterable {
    case email, till, both
    public var emails: Bool { self != .till }
    public var tills: Bool { self != .email }
}

/// What a marketer asks for; checked by `createCampaign`.
public struct CampaignDraft: Sendable {
    public var name: String, segmentID: String
    public var segmentVersion: Int64?
    public var holdoutBP: Int64 = 1_000
    public var subject: String, body: String, link: String
    public var ratePerSecond: Int64 = 1_000
    public var startsAt: Int64, endsAt: Int64
    /// The offer at the tills: its name, what it gives, on what, its minimum and uses per member
    /// (id, validity and stores are set from the campaign).
    public var offer: PersonalOffer?
    public var channels: CampaignChannels
    public init(name: String, segmentID: String, segmentVersion: Int64? = nil, holdoutBP: Int64 = 1_000, subject: String, body: String, link: String,
                ratePerSecond: Int64 = 1_000, startsAt: Int64, endsAt: Int64, offer: PersonalOffer? = nil, channels: CampaignChannels = .email) {
        self.offer = offer
        self.channels = channels
        self.name = name
        self.segmentID = segmentID
        self.segmentVersion = segmentVersion
        self.holdoutBP = holdoutBP
        self.subject = subject
        self.body = body
        self.link = link
        self.ratePerSecond = ratePerSecond
        self.startsAt = startsAt
        self.endsAt = endsAt
    }
}

/// A campaign's e-mail to one member, claimed for sending.
public struct CampaignMail: Sendable, Equatable {
    public var campaign: String, customerID: String, token: String, email: String
    public var firstName: String, lastName: String, card: String?, points: Int64
}

/// How far a campaign's e-mails are, by state (pending, sending, sent, bounced, failed,
/// no-consent, no-email, holdout) and what the members did.
public struct CampaignProgress: Sendable, Equatable {
    public var byState: [String: Int64]
    public var opened: Int64, clicked: Int64, unsubscribed: Int64
}

/// A campaign that cannot be made as asked, said so it can be put right.
public struct CampaignProblem: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension HeadOfficeStore {
    /// The fields a campaign's subject and text may use.
    public static let campaignIDLength = 32

    public static let campaignFields = ["firstName", "lastName", "card", "points", "link", "unsubscribe", "offer"]

    /// Creates a campaign for a saved segment's version (its latest unless named), after checking
    /// every field within its bounds; it starts at `startsAt`.
    @discardableResult
    public func createCampaign(_ d: CampaignDraft, by user: String, at time: Int64 = HeadOfficeStore.now()) throws -> Campaign {
        let name = d.name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 80 else { throw CampaignProblem("Give the campaign a name of 1 to 80 characters") }
        // At most 32 characters: an offer's rule in a sale document, "offer:ID", fits its 40.
        let id = Self.slug(name, max: Self.campaignIDLength)
        guard !id.isEmpty else { throw CampaignProblem("The name '\(name.prefix(80))' needs at least one letter or digit") }
        guard (0...5_000).contains(d.holdoutBP) else { throw CampaignProblem("The holdout must be 0% to 50% (got \(Self.percent(d.holdoutBP)))") }
        let subject = d.subject.trimmingCharacters(in: .whitespaces)
        if d.channels.emails {
            guard !subject.isEmpty, subject.count <= 150, !subject.contains(where: \.isNewline) else {
                throw CampaignProblem("The subject must be one line of 1 to 150 characters")
            }
            guard !d.body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, d.body.utf8.count <= 20_000 else {
                throw CampaignProblem("The e-mail's text must be 1 to 20,000 characters")
            }
        }
        var offer = d.offer
        if d.channels.tills {
            guard var o = offer else { throw CampaignProblem("A campaign at the tills needs an offer: what it gives, on what, how often") }
            o.id = id
            o.name = o.name.trimmingCharacters(in: .whitespaces)
            o.validFrom = d.startsAt
            o.validTo = d.endsAt
            try Self.checkOffer(o)
            offer = o
        }
        if d.body.contains("{{offer}}") && offer == nil { throw CampaignProblem("The text uses {{offer}}, but the campaign has no offer") }
        for (what, text) in [("subject", subject), ("text", d.body)] {
            do { _ = try MustacheTemplate(string: text) } catch {
                throw CampaignProblem("The \(what) is not a template that can be filled in (\(error)); write fields as {{firstName}}")
            }
            for field in Self.templateFields(text) where !Self.campaignFields.contains(field) {
                throw CampaignProblem("The \(what) uses {{\(field)}}, which is not a field: use \(Self.campaignFields.map { "{{\($0)}}" }.joined(separator: ", "))")
            }
        }
        let link = d.link.trimmingCharacters(in: .whitespaces)
        if d.channels.emails || !link.isEmpty {
            guard link.count <= 500, link.hasPrefix("https://") || link.hasPrefix("http://"), URL(string: link)?.host != nil else {
                throw CampaignProblem("The link '\(link.prefix(100))' must be a web address starting https://")
            }
        }
        guard (1...100_000).contains(d.ratePerSecond) else { throw CampaignProblem("The sending rate must be 1 to 100,000 e-mails a second (got \(d.ratePerSecond))") }
        guard d.endsAt > d.startsAt, d.endsAt - d.startsAt <= 366 * 86_400_000 else {
            throw CampaignProblem("The campaign must end after it starts, within a year")
        }
        guard let segment = try segmentVersions(d.segmentID).first(where: { d.segmentVersion == nil || $0.version == d.segmentVersion }) else {
            throw CampaignProblem("There is no segment '\(d.segmentID.prefix(48))'\(d.segmentVersion.map { " version \($0)" } ?? ""): save the segment first")
        }
        let campaign = Campaign(id: id, name: name, segmentID: segment.id, segmentVersion: segment.version, holdoutBP: d.holdoutBP, subject: subject,
                                body: d.body, link: link, ratePerSecond: d.ratePerSecond, startsAt: d.startsAt, endsAt: d.endsAt, state: .scheduled,
                                targeted: 0, heldOut: 0, createdBy: user, createdAt: time, launchedAt: nil, finishedAt: nil, offer: offer, channels: d.channels)
        let offerJSON = try offer.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try database.write { c in
            guard try c.queryOne("SELECT id FROM campaigns WHERE id = ?", [.text(id)]) == nil else {
                throw CampaignProblem("A campaign named '\(name.prefix(80))' exists already: choose another name")
            }
            try c.execute("""
                INSERT INTO campaigns (id, name, segment_id, segment_version, holdout_bp, subject, body, link, rate_per_s, starts_at, ends_at, state,
                    created_by, created_at, offer, channels) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'scheduled', ?, ?, ?, ?)
                """, [.text(id), .text(name), .text(segment.id), .int(segment.version), .int(d.holdoutBP), .text(subject), .text(d.body), .text(link),
                      .int(d.ratePerSecond), .int(d.startsAt), .int(d.endsAt), .text(user), .int(time), SQLValue(offerJSON), .text(d.channels.rawValue)])
        }
        return campaign
    }

    public static func percent(_ bp: Int64) -> String { bp % 100 == 0 ? "\(bp / 100)%" : "\(bp / 100).\(String(format: "%02d", Int(bp % 100)))%" }

    /// The `{{name}}` fields a template names (sections and partials included).
    static func templateFields(_ text: String) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            var name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if let first = name.first, "#^/>&{!".contains(first) {
                if first == "!" { rest = rest[close.upperBound...]; continue }
                name = String(name.dropFirst()).trimmingCharacters(in: .whitespaces)
            }
            if name.hasSuffix("}") { name.removeLast() }
            out.append(name)
            rest = rest[close.upperBound...]
        }
        return out
    }

    public func campaigns() throws -> [Campaign] {
        try database.read { c in try c.query("SELECT * FROM campaigns ORDER BY created_at DESC, id", []).map(Self.campaign) }
    }

    public func campaign(_ id: String) throws -> Campaign? {
        try database.read { c in try c.queryOne("SELECT * FROM campaigns WHERE id = ?", [.text(id)]).map(Self.campaign) }
    }

    static func campaign(_ r: SQLRow) -> Campaign {
        Campaign(id: r.text("id"), name: r.text("name"), segmentID: r.text("segment_id"), segmentVersion: r.int("segment_version"),
                 holdoutBP: r.int("holdout_bp"), subject: r.text("subject"), body: r.text("body"), link: r.text("link"),
                 ratePerSecond: r.int("rate_per_s"), startsAt: r.int("starts_at"), endsAt: r.int("ends_at"),
                 state: CampaignState(rawValue: r.text("state")) ?? .paused, targeted: r.int("targeted"), heldOut: r.int("held_out"),
                 createdBy: r.text("created_by"), createdAt: r.int("created_at"), launchedAt: r["launched_at"].int, finishedAt: r["finished_at"].int,
                 offer: r["offer"].text.flatMap { try? JSONDecoder().decode(PersonalOffer.self, from: Data($0.utf8)) },
                 channels: CampaignChannels(rawValue: r.text("channels")) ?? .email)
    }

    /// Pauses a sending or scheduled campaign, or resumes a paused one (to sending if it had
    /// started, else to scheduled).
    public func setCampaignPaused(_ id: String, _ paused: Bool) throws -> Campaign {
        try database.write { c in
            guard let row = try c.queryOne("SELECT * FROM campaigns WHERE id = ?", [.text(id)]) else { throw CampaignProblem("There is no campaign '\(id.prefix(48))'") }
            let campaign = Self.campaign(row)
            let next: CampaignState
            switch (campaign.state, paused) {
            case (.sending, true), (.scheduled, true): next = .paused
            case (.paused, false): next = campaign.launchedAt == nil ? .scheduled : .sending
            case (.sent, _): throw CampaignProblem("'\(campaign.name)' has sent every e-mail: there is nothing to \(paused ? "pause" : "resume")")
            default: throw CampaignProblem("'\(campaign.name)' is \(campaign.state.rawValue) already")
            }
            try c.execute("UPDATE campaigns SET state = ? WHERE id = ?", [.text(next.rawValue), .text(id)])
            var out = campaign
            out.state = next
            return out
        }
    }

    /// Whether a member is held out of a campaign: a hash of the two, so the draw is random
    /// across members, the same every time it is asked, and needs nothing stored to repeat.
    public static func heldOut(campaign: String, member: String, bp: Int64) -> Bool {
        let digest = Array(SHA256.hash(data: Data("\(campaign)\u{0}\(member)".utf8)))
        let n = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Int64(n % 10_000) < bp
    }

    /// Starts the campaigns whose time has come: draws their segment's members as they are now,
    /// each targeted or held out, and queues an e-mail for each targeted member who agreed to hear
    /// from us and has an address. Returns the campaigns started.
    @discardableResult
    public func launchDueCampaigns(at time: Int64 = HeadOfficeStore.now()) throws -> [String] {
        let due = try database.read { c in
            try c.query("SELECT * FROM campaigns WHERE state = 'scheduled' AND starts_at <= ? ORDER BY starts_at", [.int(time)]).map(Self.campaign)
        }
        var started: [String] = []
        for campaign in due {
            guard let segment = try segmentVersions(campaign.segmentID).first(where: { $0.version == campaign.segmentVersion }) else { continue }
            let members = try segmentMembers(segment.definition, at: time)
            var rows: [[SQLValue]] = []
            var offers: [OfferChanges.Member] = []
            var held: Int64 = 0
            for m in members {
                let out = Self.heldOut(campaign: campaign.id, member: m.id, bp: campaign.holdoutBP)
                if out { held += 1 }
                let email = m.email.flatMap { $0.isEmpty ? nil : $0 }
                let state = out ? "holdout" : !m.consent ? "no-consent" : !campaign.channels.emails ? "till-only" : email == nil ? "no-email" : "pending"
                rows.append([.text(campaign.id), .text(m.id), .int(out ? 1 : 0), SQLValue(email), .text(state), .text(Self.newToken())])
                // The offer: for each targeted member who agreed to hear from us.
                if !out, m.consent, campaign.channels.tills, let o = campaign.offer { offers.append(.init(customerID: m.id, offer: o.id, uses: o.uses)) }
            }
            let begun = try database.write { c -> Bool in
                // Another head office process may have started it first.
                guard try c.execute("UPDATE campaigns SET state = 'sending', launched_at = ?, targeted = ?, held_out = ? WHERE id = ? AND state = 'scheduled'",
                                    [.int(time), .int(Int64(members.count) - held), .int(held), .text(campaign.id)]) == 1 else { return false }
                try Self.insertRows(c, "INSERT INTO campaign_members (campaign_id, customer_id, holdout, email, state, token)", rows)
                if let o = campaign.offer, !offers.isEmpty {
                    try Self.insertRows(c, "INSERT INTO member_offers (campaign_id, customer_id, uses_left)",
                                        offers.map { [.text(campaign.id), .text($0.customerID), .int($0.uses)] })
                    // An offer to activate: the tills hear of each member when they activate it.
                    if o.mustActivate == true { offers = [] }
                    // The tills hear of it in the same transaction: every targeted member's offer.
                    _ = try insertPublication(Publication(version: 0, kind: .offers, scope: .chain, createdBy: campaign.createdBy,
                                                          note: "Campaign \(campaign.name): \(o.name)", createdAt: time, effectiveAt: time,
                                                          offers: OfferChanges(definitions: [OfferDefinition(o)], members: offers)), c)
                }
                return true
            }
            if begun { started.append(campaign.id) }
        }
        return started
    }

    static func newToken() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%016llx", g.next() as UInt64) }.joined().prefix(32).description
    }

    /// Claims up to `limit` of a campaign's e-mails for `leaseMs` (those nobody holds: waiting,
    /// or claimed by a sender that stopped and whose lease ran out).
    public func claimCampaignMail(_ id: String, limit: Int, leaseMs: Int64 = 10_000, at time: Int64 = HeadOfficeStore.now()) throws -> [CampaignMail] {
        try database.write { c in
            let rows = try c.query("""
                UPDATE campaign_members SET state = 'sending', claimed_until = ?, attempts = attempts + 1
                WHERE campaign_id = ? AND customer_id IN (
                    SELECT customer_id FROM campaign_members WHERE campaign_id = ?
                        AND (state = 'pending' OR (state = 'sending' AND claimed_until < ?)) ORDER BY customer_id LIMIT ?)
                RETURNING customer_id, token, email
                """, [.int(time + leaseMs), .text(id), .text(id), .int(time), .int(Int64(limit))])
            guard !rows.isEmpty else { return [] }
            let ids = rows.map { $0.text("customer_id") }
            var details: [String: SQLRow] = [:]
            for r in try c.query("""
                SELECT cu.id, cu.first_name, cu.last_name, (SELECT MIN(k.number) FROM cards k WHERE k.customer_id = cu.id AND k.status = 'active') AS card,
                    (SELECT COALESCE(SUM(k.balance), 0) FROM cards k WHERE k.customer_id = cu.id AND k.status = 'active') AS points
                FROM customers cu WHERE cu.id IN (\(Self.placeholders(ids.count)))
                """, ids.map { .text($0) }) { details[r.text("id")] = r }
            return rows.sorted { $0.text("customer_id") < $1.text("customer_id") }.map { r in
                let d = details[r.text("customer_id")]
                return CampaignMail(campaign: id, customerID: r.text("customer_id"), token: r.text("token"), email: r["email"].text ?? "",
                                    firstName: d?.text("first_name") ?? "", lastName: d?.text("last_name") ?? "", card: d?["card"].text,
                                    points: d?.int("points") ?? 0)
            }
        }
    }

    /// Marks e-mails sent: the relay took them, or their ends went out unrefused.
    public func markCampaignMailSent(_ id: String, members: [String], at time: Int64 = HeadOfficeStore.now()) throws {
        guard !members.isEmpty else { return }
        _ = try database.write { c in
            try c.execute("""
                UPDATE campaign_members SET state = 'sent', sent_at = ?, claimed_until = NULL
                WHERE campaign_id = ? AND state = 'sending' AND customer_id IN (\(Self.placeholders(members.count)))
                """, [.int(time), .text(id)] + members.map { .text($0) })
        }
    }

    /// What the relay said of e-mails not sent: a bounce is final; anything else waits to be
    /// tried again, five times in all. An e-mail marked sent whose end the relay refused bounced.
    public func recordCampaignMailProblems(_ id: String, _ problems: [(member: String, outcome: CampaignMailer.Outcome)]) throws {
        guard !problems.isEmpty else { return }
        try database.write { c in
            for p in problems {
                switch p.outcome {
                case .sent: continue
                case .bounced(let why):
                    try c.execute("UPDATE campaign_members SET state = 'bounced', claimed_until = NULL, detail = ? WHERE campaign_id = ? AND customer_id = ?",
                                  [.text(String(why.prefix(300))), .text(id), .text(p.member)])
                case .failed(let why):
                    try c.execute("""
                        UPDATE campaign_members SET state = CASE WHEN attempts >= 5 THEN 'failed' ELSE 'pending' END, claimed_until = NULL, detail = ?
                        WHERE campaign_id = ? AND customer_id = ? AND state = 'sending'
                        """, [.text(String(why.prefix(300))), .text(id), .text(p.member)])
                }
            }
        }
    }

    /// Ends a sending campaign once none of its e-mails waits; whether it ended.
    @discardableResult
    public func finishCampaignIfDone(_ id: String, at time: Int64 = HeadOfficeStore.now()) throws -> Bool {
        try database.write { c in
            guard try c.queryOne("SELECT 1 AS w FROM campaign_members WHERE campaign_id = ? AND state IN ('pending', 'sending') LIMIT 1", [.text(id)]) == nil else {
                return false
            }
            return try c.execute("UPDATE campaigns SET state = 'sent', finished_at = ? WHERE id = ? AND state = 'sending'", [.int(time), .text(id)]) == 1
        }
    }

    public func campaignProgress(_ id: String) throws -> CampaignProgress {
        try database.read { c in
            var by: [String: Int64] = [:]
            for r in try c.query("SELECT state, COUNT(*) AS n FROM campaign_members WHERE campaign_id = ? GROUP BY state", [.text(id)]) {
                by[r.text("state")] = r.int("n")
            }
            let t = try c.queryOne("""
                SELECT COUNT(opened_at) AS o, COUNT(clicked_at) AS k, COUNT(unsubscribed_at) AS u FROM campaign_members WHERE campaign_id = ?
                """, [.text(id)])
            return CampaignProgress(byState: by, opened: t?.int("o") ?? 0, clicked: t?.int("k") ?? 0, unsubscribed: t?.int("u") ?? 0)
        }
    }

    // MARK: What members do with the e-mail (by the token in its links)

    static func validToken(_ token: String) -> Bool { token.count == 32 && token.allSatisfy { $0.isHexDigit && !$0.isUppercase } }

    /// The e-mail was opened (its image fetched): the first time is kept.
    public func campaignOpened(token: String, at time: Int64 = HeadOfficeStore.now()) throws {
        guard Self.validToken(token) else { return }
        _ = try database.write { c in
            try c.execute("UPDATE campaign_members SET opened_at = ? WHERE token = ? AND opened_at IS NULL", [.int(time), .text(token)])
        }
    }

    /// The e-mail's link was followed: the first time is kept (an open too); where it leads.
    public func campaignClicked(token: String, at time: Int64 = HeadOfficeStore.now()) throws -> String? {
        guard Self.validToken(token) else { return nil }
        return try database.write { c in
            guard let row = try c.queryOne("""
                SELECT c.id, c.link, c.offer, m.customer_id FROM campaign_members m JOIN campaigns c ON c.id = m.campaign_id WHERE m.token = ?
                """, [.text(token)]) else { return nil }
            try c.execute("UPDATE campaign_members SET clicked_at = COALESCE(clicked_at, ?), opened_at = COALESCE(opened_at, ?) WHERE token = ?",
                          [.int(time), .int(time), .text(token)])
            // Following the e-mail's link activates its offer (when it is one to activate).
            let offer = row["offer"].text.flatMap { try? JSONDecoder().decode(PersonalOffer.self, from: Data($0.utf8)) }
            if offer?.mustActivate == true {
                try c.execute("UPDATE member_offers SET activated_at = ? WHERE campaign_id = ? AND customer_id = ? AND activated_at IS NULL",
                              [.int(time), .text(row.text("id")), .text(row.text("customer_id"))])
            }
            return row.text("link")
        }
    }

    /// One-click unsubscribe (RFC 8058): the member's marketing consent is withdrawn, recorded
    /// as any opt-out is (channel "e-mail unsubscribe"). False: no such token. Twice is fine.
    public func campaignUnsubscribe(token: String, at time: Int64 = HeadOfficeStore.now()) throws -> Bool {
        guard Self.validToken(token) else { return false }
        return try database.write { c in
            guard let row = try c.queryOne("SELECT campaign_id, customer_id FROM campaign_members WHERE token = ?", [.text(token)]) else { return false }
            let id = row.text("customer_id")
            try c.execute("UPDATE campaign_members SET unsubscribed_at = COALESCE(unsubscribed_at, ?) WHERE token = ?", [.int(time), .text(token)])
            if let member = try c.queryOne("SELECT marketing_consent FROM customers WHERE id = ? AND erased_at IS NULL", [.text(id)]),
               member.int("marketing_consent") != 0 {
                try Self.recordConsent(id, granted: false, channel: "e-mail unsubscribe (campaign \(row.text("campaign_id")))", by: nil,
                                       givenAt: ProtocolTime.format(time, timeZone: .gmt), at: time, c)
            }
            return true
        }
    }
}
