import Foundation
import TillCore
import TillDocuments
import TillProtocol

/// Why customer service did something: every action is recorded with one of these.
public enum ServiceReason: String, CaseIterable, Sendable, Codable {
    case customerRequest = "customer-request"
    case dataCorrection = "data-correction"
    case missingPoints = "missing-points"
    case duplicatePoints = "duplicate-points"
    case goodwill
    case lostOrStolen = "lost-or-stolen"
    case damagedCard = "damaged-card"
    case fraudSuspected = "fraud-suspected"
    case duplicateMember = "duplicate-member"
    case gdprRequest = "gdpr-request"
    case other

    /// How the back office names it.
    public var label: String {
        switch self {
        case .customerRequest: "Customer asked"
        case .dataCorrection: "Details were wrong"
        case .missingPoints: "Points missing"
        case .duplicatePoints: "Points given twice"
        case .goodwill: "Goodwill"
        case .lostOrStolen: "Card lost or stolen"
        case .damagedCard: "Card damaged"
        case .fraudSuspected: "Fraud suspected"
        case .duplicateMember: "Same person twice"
        case .gdprRequest: "Data protection request"
        case .other: "Other (say why in the note)"
        }
    }
}

/// A customer service action head office refused, and what to do instead.
public struct ServiceError: Error, CustomStringConvertible, Equatable, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}

/// One line of a member's audit trail.
public struct AuditEntry: Sendable, Equatable, Codable {
    public var at: Int64
    public var user: String
    public var action: String
    public var card: String?
    public var reason: String
    public var note: String
    public var detail: String
}

/// One consent given or withdrawn, with where and which text (GDPR Art. 7: proof of consent).
public struct ConsentRecord: Sendable, Equatable, Codable {
    public var purpose: String
    public var granted: Bool
    public var textVersion: String?
    public var text: String?
    public var channel: String
    public var recordedBy: String?
    /// When the member gave it (ISO 8601, as the till or page recorded it).
    public var givenAt: String
}

/// A points adjustment waiting for a second person's approval.
public struct PendingAdjustment: Sendable, Equatable {
    public var id: Int64
    public var card: String
    public var customerID: String
    public var points: Int64
    public var reason: String
    public var note: String
    public var requestedBy: String
    public var requestedAt: Int64
}

/// What became of an adjustment asked for.
public enum AdjustmentOutcome: Sendable, Equatable {
    /// On the ledger; the card's balance after it.
    case applied(balance: Int64)
    /// Above the approval threshold: waits for another user (the id to approve).
    case awaitingApproval(id: Int64)
}

/// A member's details as customer service corrects them (validated as the till's form validates).
public struct MemberDetails: Sendable, Equatable {
    public var firstName: String, lastName: String, phone: String, email: String, postcode: String, birthDate: String
    public init(firstName: String, lastName: String, phone: String, email: String, postcode: String, birthDate: String) {
        self.firstName = firstName
        self.lastName = lastName
        self.phone = phone
        self.email = email
        self.postcode = postcode
        self.birthDate = birthDate
    }
}

extension HeadOfficeStore {
    /// Adjustments of more points than this (either way) wait for a second person.
    public static let defaultApprovalPoints: Int64 = 500
    /// The longest note an action keeps.
    public static let maxServiceNote = 500

    // MARK: - Settings

    /// Adjustments of more points than this wait for a second person (`options.approval_points`).
    public func approvalPoints() throws -> Int64 {
        try database.read { c in
            try c.queryOne("SELECT value FROM options WHERE name = 'approval_points'", [])?.text("value")
        }.flatMap { Int64($0) } ?? Self.defaultApprovalPoints
    }

    public func setApprovalPoints(_ points: Int64) throws {
        guard (0...1_000_000).contains(points) else {
            throw ServiceError("The approval threshold \(points) must be between 0 and 1000000 points")
        }
        _ = try database.write { c in
            try c.execute("INSERT INTO options (name, value) VALUES ('approval_points', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                          [.text(String(points))])
        }
    }

    /// Adds a version of the marketing consent text; consent recorded from now on names it.
    public func addConsentText(version: String, body: String, at time: Int64 = HeadOfficeStore.now()) throws {
        let v = version.trimmingCharacters(in: .whitespaces), text = body.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...40).contains(v.count), v.allSatisfy({ $0.isLetter || $0.isNumber || "-._".contains($0) }) else {
            throw ServiceError("Version '\(v.prefix(60))' must be 1 to 40 letters, digits, - . or _ (e.g. marketing-2)")
        }
        guard (1...4_000).contains(text.count) else { throw ServiceError("The consent text must be 1 to 4000 characters (it is \(text.count))") }
        try database.write { c in
            guard try c.queryOne("SELECT version FROM consent_texts WHERE version = ?", [.text(v)]) == nil else {
                throw ServiceError("Consent text \(v) exists already: a text is never changed once members agreed to it; add a new version")
            }
            let latest = try c.queryOne("SELECT MAX(created_at) AS t FROM consent_texts", [])?["t"].int ?? 0
            try c.execute("INSERT INTO consent_texts (version, purpose, body, created_at) VALUES (?, 'marketing', ?, ?)",
                          [.text(v), .text(text), .int(max(time, latest + 1))])
        }
    }

    /// The consent texts, newest (the one in force) first.
    public func consentTexts() throws -> [(version: String, body: String, createdAt: Int64)] {
        try database.read { c in
            try c.query("SELECT * FROM consent_texts ORDER BY created_at DESC, version DESC", []).map { ($0.text("version"), $0.text("body"), $0.int("created_at")) }
        }
    }

    // MARK: - Reading

    /// A member's audit trail, newest first.
    public func auditTrail(customer id: String, limit: Int = 100) throws -> [AuditEntry] {
        try database.read { c in
            try c.query("SELECT * FROM audit WHERE customer_id = ? ORDER BY id DESC LIMIT ?", [.text(id), .int(Int64(limit))]).map {
                AuditEntry(at: $0.int("created_at"), user: $0.text("username"), action: $0.text("action"), card: $0["card_number"].text,
                           reason: $0.text("reason"), note: $0.text("note"), detail: $0.text("detail"))
            }
        }
    }

    /// A member's consents, oldest first, each with the text they agreed to.
    public func consentHistory(customer id: String) throws -> [ConsentRecord] {
        try database.read { c in try Self.consents(id, c) }
    }

    static func consents(_ id: String, _ c: any SQLConnection) throws -> [ConsentRecord] {
        try c.query("""
            SELECT k.purpose, k.granted, k.text_version, t.body, k.channel, k.recorded_by, k.given_at
            FROM consents k LEFT JOIN consent_texts t ON t.version = k.text_version WHERE k.customer_id = ? ORDER BY k.id
            """, [.text(id)]).map {
            ConsentRecord(purpose: $0.text("purpose"), granted: $0.int("granted") != 0, textVersion: $0["text_version"].text, text: $0["body"].text,
                          channel: $0.text("channel"), recordedBy: $0["recorded_by"].text, givenAt: $0.text("given_at"))
        }
    }

    /// The adjustments waiting for approval, oldest first.
    public func pendingAdjustments(customer id: String? = nil) throws -> [PendingAdjustment] {
        try database.read { c in
            try c.query("SELECT * FROM adjustments WHERE state = 'pending' AND (CAST(? AS TEXT) IS NULL OR customer_id = ?) ORDER BY id LIMIT 200",
                        [SQLValue(id), SQLValue(id)]).map {
                PendingAdjustment(id: $0.int("id"), card: $0.text("card_number"), customerID: $0.text("customer_id"), points: $0.int("points"),
                                  reason: $0.text("reason"), note: $0.text("note"), requestedBy: $0.text("requested_by"), requestedAt: $0.int("requested_at"))
            }
        }
    }

    // MARK: - Actions

    /// Records an action on the audit trail, in the action's transaction.
    static func audit(_ c: any SQLConnection, user: String, action: String, customer: String?, card: String?, reason: ServiceReason,
                      note: String, detail: String, at time: Int64) throws {
        try c.execute("""
            INSERT INTO audit (created_at, username, action, customer_id, card_number, reason, note, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [.int(time), .text(user), .text(action), SQLValue(customer), SQLValue(card), .text(reason.rawValue), .text(note), .text(detail)])
    }

    /// A note as kept: trimmed, bounded; "other" needs one.
    static func serviceNote(_ note: String, _ reason: ServiceReason) throws -> String {
        let n = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard n.count <= maxServiceNote else { throw ServiceError("The note is \(n.count) characters long: keep it to \(maxServiceNote)") }
        if reason == .other && n.isEmpty { throw ServiceError("The reason is 'other': say why in the note") }
        return n
    }

    /// A member that can be acted on (not merged into another, not erased).
    static func liveMember(_ id: String, _ c: any SQLConnection) throws -> SQLRow {
        guard let row = try c.queryOne("SELECT * FROM customers WHERE id = ?", [.text(id)]) else {
            throw ServiceError("Head office has no member '\(id)'")
        }
        if let target = row["merged_into"].text { throw ServiceError("Member \(id) was merged into member \(target): act on that member") }
        if row["erased_at"].int != nil { throw ServiceError("Member \(id) was erased: nothing more can be done with it") }
        return row
    }

    /// A card and the member it belongs to.
    static func memberCard(_ number: String, _ c: any SQLConnection) throws -> (card: SQLRow, customer: String) {
        guard let card = try c.queryOne("SELECT * FROM cards WHERE number = ?", [.text(number)]) else {
            throw ServiceError("Head office has no card \(LoyaltyCardNumber.masked(number))")
        }
        guard let customer = card["customer_id"].text else {
            throw ServiceError("Card \(LoyaltyCardNumber.masked(number)) belongs to no member")
        }
        return (card, customer)
    }

    /// The card that carries a card's points now: itself, or the card that replaced it (and on).
    static func currentCard(_ number: String, _ c: any SQLConnection) throws -> (card: SQLRow, customer: String) {
        let found = try memberCard(replacementOf(number, c), c)
        guard found.card.text("status") != "closed" else {
            throw ServiceError("Card \(LoyaltyCardNumber.masked(found.card.text("number"))) is closed: its points cannot change")
        }
        return found
    }

    /// Corrects a member's details (checked as the till checks a registration).
    public func correctDetails(_ id: String, _ d: MemberDetails, by user: String, reason: ServiceReason, note: String,
                               at time: Int64 = HeadOfficeStore.now()) throws {
        let note = try Self.serviceNote(note, reason)
        for (name, value) in [("First name", d.firstName), ("Last name", d.lastName)] where value.count > 60 {
            throw ServiceError("\(name) is \(value.count) characters long: keep it to 60")
        }
        let r: Registration
        do {
            r = try Registration.make(cardNumber: id, firstName: d.firstName, lastName: d.lastName, phone: d.phone, email: d.email,
                                      postcode: d.postcode, birthDate: d.birthDate, marketingConsent: false, at: time)
        } catch { throw ServiceError("\(error)") }
        try database.write { c in
            let old = try Self.liveMember(id, c)
            var changed: [String] = []
            for (column, value) in [("first_name", r.firstName as String?), ("last_name", r.lastName), ("phone", r.phone), ("email", r.email),
                                    ("postcode", r.postcode), ("birth_date", r.birthDate)] where old[column].text != value {
                changed.append("\(column): '\(old[column].text ?? "")' → '\(value ?? "")'")
            }
            guard !changed.isEmpty else { throw ServiceError("Nothing changed: the details are as head office has them") }
            try c.execute("""
                UPDATE customers SET first_name = ?, last_name = ?, phone = ?, email = ?, postcode = ?, birth_date = ? WHERE id = ?
                """, [.text(r.firstName), .text(r.lastName), SQLValue(r.phone), SQLValue(r.email), SQLValue(r.postcode), SQLValue(r.birthDate), .text(id)])
            try Self.indexCustomers([id], c)
            try Self.audit(c, user: user, action: "correct-details", customer: id, card: nil, reason: reason, note: note,
                           detail: changed.joined(separator: "; "), at: time)
            // The tills show the new name at the next card scan.
            let cards = try c.query("SELECT c.number, c.status FROM member_cards m JOIN cards c ON c.number = m.number AND c.customer_id = m.customer_id WHERE m.customer_id = ?",
                                    [.text(id)])
            if !cards.isEmpty && (old.text("first_name") != r.firstName || old.text("last_name") != r.lastName) {
                try publishCards(cards.map { CardChange(number: $0.text("number"), status: $0.text("status"), customerID: id, firstName: r.firstName,
                                                       lastName: r.lastName) },
                                 by: user, note: "Member \(id): name corrected", c, at: time)
            }
        }
    }

    /// Adds (or with a negative figure takes) points on a card. More than the approval threshold
    /// either way waits for another user's approval; a balance never goes below zero.
    public func adjustPoints(card number: String, points: Int64, by user: String, reason: ServiceReason, note: String,
                             at time: Int64 = HeadOfficeStore.now()) throws -> AdjustmentOutcome {
        let note = try Self.serviceNote(note, reason)
        guard points != 0 else { throw ServiceError("An adjustment of 0 points changes nothing: key the points to add, or -points to take") }
        // Compared without abs(): abs(Int64.min), keyed into the form, would trap.
        guard (-1_000_000...1_000_000).contains(points) else { throw ServiceError("An adjustment of \(points) points is more than 1000000 either way: check the figure") }
        let threshold = try approvalPoints()
        return try database.write { c in
            let (card, customer) = try Self.currentCard(number, c)
            let number = card.text("number")
            _ = try Self.liveMember(customer, c)
            if card.int("balance") + points < 0 {
                throw ServiceError("Card \(LoyaltyCardNumber.masked(number)) holds \(card.int("balance")) points: taking \(-points) would leave it below zero")
            }
            if abs(points) > threshold {
                try c.execute("""
                    INSERT INTO adjustments (card_number, customer_id, points, reason, note, requested_by, requested_at, state)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')
                    """, [.text(number), .text(customer), .int(points), .text(reason.rawValue), .text(note), .text(user), .int(time)])
                let id = try c.queryOne("SELECT MAX(id) AS id FROM adjustments WHERE requested_by = ?", [.text(user)])?.int("id") ?? 0
                try Self.audit(c, user: user, action: "adjust-requested", customer: customer, card: number, reason: reason, note: note,
                               detail: "\(points) points, above the approval threshold of \(threshold): adjustment \(id) waits for approval", at: time)
                return .awaitingApproval(id: id)
            }
            let balance = try Self.moveByService(number, card: card, points: points, kind: "adjustment", label: "Adjusted by customer service",
                                                 rule: reason.rawValue, c, at: time)
            try Self.audit(c, user: user, action: "adjust", customer: customer, card: number, reason: reason, note: note,
                           detail: "\(points) points; balance now \(balance)", at: time)
            return .applied(balance: balance)
        }
    }

    /// Approves or refuses a waiting adjustment; the one who asked cannot decide.
    public func decideAdjustment(_ id: Int64, approve: Bool, by user: String, at time: Int64 = HeadOfficeStore.now()) throws -> Int64? {
        try database.write { c in
            guard let a = try c.queryOne("SELECT * FROM adjustments WHERE id = ?", [.int(id)]) else { throw ServiceError("There is no adjustment \(id)") }
            guard a.text("state") == "pending" else {
                throw ServiceError("Adjustment \(id) was already \(a.text("state")) by \(a["decided_by"].text ?? "?")")
            }
            guard a.text("requested_by") != user else {
                throw ServiceError("Adjustment \(id) was asked for by you: another user must approve or refuse it")
            }
            let reason = ServiceReason(rawValue: a.text("reason")) ?? .other
            let number = a.text("card_number"), points = a.int("points")
            try c.execute("UPDATE adjustments SET state = ?, decided_by = ?, decided_at = ? WHERE id = ? AND state = 'pending'",
                          [.text(approve ? "approved" : "refused"), .text(user), .int(time), .int(id)])
            var balance: Int64?
            if approve {
                let (card, _) = try Self.currentCard(number, c)
                balance = try Self.moveByService(card.text("number"), card: card, points: points, kind: "adjustment", label: "Adjusted by customer service",
                                                 rule: reason.rawValue, c, at: time)
            }
            try Self.audit(c, user: user, action: approve ? "adjust-approved" : "adjust-refused", customer: a.text("customer_id"), card: number,
                           reason: reason, note: a.text("note"),
                           detail: "adjustment \(id) of \(points) points asked for by \(a.text("requested_by"))" + (balance.map { "; balance now \($0)" } ?? ""),
                           at: time)
            return balance
        }
    }

    /// Moves a card's balance by customer service (one ledger movement); refused past zero or the bounds.
    static func moveByService(_ number: String, card: SQLRow, points: Int64, kind: String, label: String, rule: String,
                              _ c: any SQLConnection, at time: Int64) throws -> Int64 {
        let balance = card.int("balance")
        guard let after = balance.addingReportingOverflow(points).overflow ? nil : balance + points,
              DocumentBounds.balance.contains(after) else {
            throw ServiceError("Card \(LoyaltyCardNumber.masked(number)) holds \(balance) points: \(points) would take it past the bounds")
        }
        guard after >= 0 else {
            throw ServiceError("Card \(LoyaltyCardNumber.masked(number)) holds \(balance) points: taking \(-points) would leave it below zero")
        }
        // Conditional on the balance read: a sale that moved the card meanwhile makes this fail, not overdraw.
        guard try c.execute("UPDATE cards SET balance = ?, updated_at = ? WHERE number = ? AND balance = ?",
                            [.int(after), .int(time), .text(number), .int(balance)]) == 1 else {
            throw ServiceError("Card \(LoyaltyCardNumber.masked(number)) changed while this was done: try again")
        }
        try c.execute("INSERT INTO ledger (card_number, kind, points, rule, label, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                      [.text(number), .text(kind), .int(points), .text(rule), .text(label), .int(time)])
        try emitMovement(number, delta: points, kind: kind, source: "customer service", reference: nil, c, at: time)
        return after
    }

    /// Two members who are the same person become one: the source's cards (with their balances and
    /// history) belong to the target from now on; the source is kept, marked merged, and no longer found.
    public func mergeMembers(_ source: String, into target: String, by user: String, reason: ServiceReason, note: String,
                             at time: Int64 = HeadOfficeStore.now()) throws {
        let note = try Self.serviceNote(note, reason)
        guard source != target else { throw ServiceError("A member cannot be merged into itself: pick the other member") }
        try database.write { c in
            _ = try Self.liveMember(source, c)
            let kept = try Self.liveMember(target, c)
            let cards = try c.query("SELECT c.number, c.status FROM member_cards m JOIN cards c ON c.number = m.number AND c.customer_id = m.customer_id WHERE m.customer_id = ?",
                                    [.text(source)])
            try c.execute("UPDATE cards SET customer_id = ? WHERE customer_id = ?", [.text(target), .text(source)])
            try Self.linkCards(cards.map { (customer: target, card: $0.text("number")) }, c)
            try c.execute("UPDATE customers SET merged_into = ? WHERE id = ?", [.text(target), .text(source)])
            try c.execute("DELETE FROM customer_search WHERE customer_id = ?", [.text(source)])
            let detail = "member \(source) merged into \(target); cards moved: " + cards.map { LoyaltyCardNumber.masked($0.text("number")) }.joined(separator: ", ")
            try Self.audit(c, user: user, action: "merge", customer: target, card: nil, reason: reason, note: note, detail: detail, at: time)
            try Self.audit(c, user: user, action: "merged-away", customer: source, card: nil, reason: reason, note: note, detail: detail, at: time)
            if !cards.isEmpty {
                try publishCards(cards.map { CardChange(number: $0.text("number"), status: $0.text("status"), customerID: target,
                                                        firstName: kept.text("first_name"), lastName: kept.text("last_name")) },
                                 by: user, note: "Member \(source) merged into \(target)", c, at: time)
            }
        }
    }

    /// Records consent given or withdrawn (an opt-out from customer service, the member's page, a till).
    public func recordConsent(_ id: String, granted: Bool, channel: String, by user: String?, reason: ServiceReason = .customerRequest, note: String = "",
                              at time: Int64 = HeadOfficeStore.now()) throws {
        let note = try Self.serviceNote(note, reason)
        try database.write { c in
            let member = try Self.liveMember(id, c)
            if (member.int("marketing_consent") != 0) == granted {
                throw ServiceError("Member \(id) has already \(granted ? "agreed to" : "opted out of") marketing")
            }
            try Self.recordConsent(id, granted: granted, channel: channel, by: user, givenAt: ProtocolTime.format(time, timeZone: .gmt), at: time, c)
            if let user {
                try Self.audit(c, user: user, action: granted ? "opt-in" : "opt-out", customer: id, card: nil, reason: reason, note: note,
                               detail: "marketing consent \(granted ? "given" : "withdrawn") (\(channel))", at: time)
            }
        }
    }

    /// A consent row with the text in force, and the member's current consent set to match.
    static func recordConsent(_ id: String, granted: Bool, channel: String, by user: String?, givenAt: String, at time: Int64, _ c: any SQLConnection) throws {
        try c.execute("""
            INSERT INTO consents (customer_id, purpose, granted, text_version, channel, recorded_by, given_at, created_at)
            VALUES (?, 'marketing', ?, (SELECT version FROM consent_texts WHERE purpose = 'marketing' ORDER BY created_at DESC, version DESC LIMIT 1), ?, ?, ?, ?)
            """, [.text(id), .int(granted ? 1 : 0), .text(channel), SQLValue(user), .text(givenAt), .int(time)])
        try c.execute("UPDATE customers SET marketing_consent = ? WHERE id = ?", [.int(granted ? 1 : 0), .text(id)])
    }
}
