/// What a till posts to head office (`POST /api/v1/ingest`, docs/headoffice-api.yaml): documents
/// from its outbox, in the order they were written. Each is applied atomically and idempotently
/// by its id: a sale by its UUID, a registration by its card number.
public struct IngestBatch: Codable, Sendable, Equatable {
    public var storeID: String
    public var tillID: String
    public var documents: [OutboxDocument]

    public init(storeID: String, tillID: String, documents: [OutboxDocument]) {
        self.storeID = storeID
        self.tillID = tillID
        self.documents = documents
    }
}

public struct OutboxDocument: Codable, Sendable, Equatable {
    /// "sale", "registration", "refund" or "zreport".
    public var kind: String
    /// The sale's UUID, the registered card's number, the refund's UUID or the Z report's id.
    public var id: String
    public var sale: SaleDocument?
    public var registration: RegistrationDocument?
    public var refund: RefundDocument?
    public var zreport: ZReportSummary?

    public init(sale: SaleDocument) {
        kind = "sale"
        id = sale.saleID
        self.sale = sale
    }

    public init(registration: RegistrationDocument) {
        kind = "registration"
        id = registration.registration.cardNumber
        self.registration = registration
    }

    public init(refund: RefundDocument) {
        kind = "refund"
        id = refund.refundID
        self.refund = refund
    }

    public init(zreport: ZReportSummary) {
        kind = "zreport"
        id = ZReportSummary.documentID(storeID: zreport.storeID, tillID: zreport.tillID, number: zreport.number)
        self.zreport = zreport
    }
}

/// Head office's answer to a batch: one result per document, in order, and the sequence
/// numbers of this till it has not received.
public struct IngestResponse: Codable, Sendable, Equatable {
    public var results: [IngestResult]
    public var gaps: [SequenceGap]

    public init(results: [IngestResult], gaps: [SequenceGap]) {
        self.results = results
        self.gaps = gaps
    }
}

public struct IngestResult: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// Applied now.
        case accepted
        /// Applied before: this is the original result.
        case duplicate
        /// Not applied, for `reason`; the till keeps it and shows it to the manager.
        case rejected
    }

    public var kind: String
    public var id: String
    public var status: Status
    public var reason: String?
    /// The balances head office confirms after applying the document.
    public var cards: [CardBalance]

    public init(kind: String, id: String, status: Status, reason: String? = nil, cards: [CardBalance] = []) {
        self.kind = kind
        self.id = id
        self.status = status
        self.reason = reason
        self.cards = cards
    }
}

/// A card as head office knows it: the authoritative balance and tier.
public struct CardBalance: Codable, Sendable, Equatable {
    public var number: String
    public var balance: Int64
    public var tierCode: String?
    /// Qualifying spend (minor units) or points for the tier.
    public var qualifying: Int64

    public init(number: String, balance: Int64, tierCode: String?, qualifying: Int64) {
        self.number = number
        self.balance = balance
        self.tierCode = tierCode
        self.qualifying = qualifying
    }
}

/// Sequence numbers `from`…`to` of a till that head office has not received.
public struct SequenceGap: Codable, Sendable, Equatable {
    public var from: Int64
    public var to: Int64
    public init(from: Int64, to: Int64) {
        self.from = from
        self.to = to
    }
}

/// `GET /api/v1/cards/{number}?pending=ID,ID`: the card's authoritative state, and which of the
/// till's pending sales (not yet acknowledged to it) head office has already applied.
public struct CardStatus: Codable, Sendable, Equatable {
    public var card: CardBalance
    /// active, blocked, lost or stock.
    public var status: String
    public var customerName: String?
    public var applied: [String]
    /// For a replaced card: the card that carries its points now.
    public var replacedBy: String?
    /// Points of the balance that expire within the programme's notice days, oldest first, and
    /// when (the till takes them off its offline view once that time has passed).
    public var expiring: [ExpiringLot]?
    /// The member's challenges running now, as head office counts them (the till adds its own
    /// sales since).
    public var challenges: [ChallengeState]?

    public init(card: CardBalance, status: String, customerName: String?, applied: [String], replacedBy: String? = nil, expiring: [ExpiringLot]? = nil,
                challenges: [ChallengeState]? = nil) {
        self.challenges = challenges
        self.card = card
        self.status = status
        self.customerName = customerName
        self.applied = applied
        self.replacedBy = replacedBy
        self.expiring = expiring
    }
}

/// A member in a challenge as head office counts it: the completions it confirmed (the last
/// one's local time, minutes), the sales that count after it (local minutes, what each gave), and
/// whether they joined (a challenge members opt in to).
public struct ChallengeState: Codable, Sendable, Equatable {
    public struct Event: Codable, Sendable, Equatable {
        public var sale: String
        public var at: Int64
        public var amount: Int64
        public init(sale: String, at: Int64, amount: Int64) {
            self.sale = sale
            self.at = at
            self.amount = amount
        }
    }
    public var id: String
    public var completions: Int64
    public var lastCompletedAt: Int64?
    public var events: [Event]
    public var joined: Bool
    public init(id: String, completions: Int64, lastCompletedAt: Int64?, events: [Event], joined: Bool) {
        self.id = id
        self.completions = completions
        self.lastCompletedAt = lastCompletedAt
        self.events = events
        self.joined = joined
    }
}

/// Points that expire at an instant (epoch ms, UTC).
public struct ExpiringLot: Codable, Sendable, Equatable {
    public var points: Int64
    public var at: Int64
    public init(points: Int64, at: Int64) {
        self.points = points
        self.at = at
    }
}

/// `GET /api/v1/cards/{number}/history`: the member's purchases in every store (all their cards),
/// newest first, for the till's customer view (Ctrl-F), and the offers they have.
public struct CardHistory: Codable, Sendable, Equatable {
    public struct Purchase: Codable, Sendable, Equatable {
        public var receiptNumber: String
        public var storeID: String
        /// Epoch milliseconds.
        public var completedAt: Int64
        public var total: Int64
        public var items: Int64
        public init(receiptNumber: String, storeID: String, completedAt: Int64, total: Int64, items: Int64) {
            self.receiptNumber = receiptNumber
            self.storeID = storeID
            self.completedAt = completedAt
            self.total = total
            self.items = items
        }
    }
    public var purchases: [Purchase]
    /// Offers the member has (filled by campaigns).
    public var offers: [String]
    public init(purchases: [Purchase], offers: [String]) {
        self.purchases = purchases
        self.offers = offers
    }
}

/// The body of every 4xx and 5xx answer.
public struct APIError: Codable, Sendable, Equatable, Error {
    public var error: String
    /// The document the error is about, when it is about one.
    public var documentID: String?

    public init(error: String, documentID: String? = nil) {
        self.error = error
        self.documentID = documentID
    }
}
