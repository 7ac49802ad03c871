/// Where a publication applies: the whole chain, a store group, one store or one till.
public struct PublicationScope: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case chain, group, store, till
    }

    public var kind: Kind
    /// The group's name, the store's id, or "STORE/TILL"; nil for the chain.
    public var value: String?

    public init(kind: Kind, value: String?) {
        self.kind = kind
        self.value = kind == .chain ? nil : value
    }

    public static let chain = PublicationScope(kind: .chain, value: nil)
    public static func store(_ id: String) -> PublicationScope { PublicationScope(kind: .store, value: id) }

    /// Reads "chain", "group:NAME", "store:0001" or "till:0001/01".
    public static func parse(_ text: String) -> PublicationScope? {
        if text == "chain" { return .chain }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let kind = Kind(rawValue: parts[0]), kind != .chain, !parts[1].isEmpty else { return nil }
        if kind == .till {
            let t = parts[1].split(separator: "/")
            guard t.count == 2 else { return nil }
        }
        return PublicationScope(kind: kind, value: parts[1])
    }

    public var description: String { kind == .chain ? "chain" : "\(kind.rawValue):\(value ?? "")" }
}

/// What a publication carries.
public enum PublicationKind: String, Codable, Sendable, CaseIterable {
    /// The loyalty programme (the whole programme JSON, as the tills have it).
    case programme
    /// Price changes: `prices` (sku → new price), in force from the publication's effective time.
    case prices
    /// Terminal settings (`settings`).
    case settings
    /// Cards customer service changed (`cards`): blocked, reported lost, replaced by a new card,
    /// moved to another member, or their member's details erased. Never rolled back.
    case cards
    /// Members' personal offers (a campaign's, `offers`): new ones, or a member's uses of one
    /// set to none left. Never rolled back.
    case offers
    /// Cross-sell suggestions mined from the chain's baskets (`suggestions`): the whole set for
    /// the chain or a store group, replacing the one before.
    case suggestions
    /// A kind this software does not know (a newer head office's): a till keeps it and skips it
    /// with its reason, instead of failing to read the whole batch and hearing nothing more.
    case unknown

    public init(from decoder: any Decoder) throws {
        self = PublicationKind(rawValue: try decoder.singleValueContainer().decode(String.self)) ?? .unknown
    }
}

/// What the tills suggest after an item is rung: for each item, the items bought with it most
/// often beyond chance, best first (head office's nightly mining of the baskets).
public struct SuggestionSet: Codable, Sendable, Equatable {
    public struct Item: Codable, Sendable, Equatable {
        public var sku: String
        /// At most three items, best first.
        public var also: [String]
        public init(sku: String, also: [String]) {
            self.sku = sku
            self.also = also
        }
    }
    /// When they were mined (epoch milliseconds), and from how many baskets.
    public var minedAt: Int64
    public var baskets: Int64
    public var items: [Item]
    public init(minedAt: Int64, baskets: Int64, items: [Item]) {
        self.minedAt = minedAt
        self.baskets = baskets
        self.items = items
    }
}

/// A campaign's offer as the tills apply it (TillCore's `PersonalOffer` in protocol form).
public struct OfferDefinition: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var multiplierBP: Int64?
    public var bonusPoints: Int64?
    public var skus: [String]
    public var categories: [String]
    public var minSpend: Int64
    public var validFrom: Int64
    public var validTo: Int64
    public var stores: [String]
    /// A percent off its lines (basis points), an amount off them (minor units), or one of its items free.
    public var percentOffBP: Int64?
    public var amountOff: Int64?
    public var freeItem: Bool?
    public init(id: String, name: String, multiplierBP: Int64?, bonusPoints: Int64?, skus: [String], categories: [String], minSpend: Int64,
                validFrom: Int64, validTo: Int64, stores: [String], percentOffBP: Int64? = nil, amountOff: Int64? = nil, freeItem: Bool? = nil) {
        self.percentOffBP = percentOffBP
        self.amountOff = amountOff
        self.freeItem = freeItem
        self.id = id
        self.name = name
        self.multiplierBP = multiplierBP
        self.bonusPoints = bonusPoints
        self.skus = skus
        self.categories = categories
        self.minSpend = minSpend
        self.validFrom = validFrom
        self.validTo = validTo
        self.stores = stores
    }
}

/// Offers for members: the definitions, and each member's uses of one (head office's figure).
public struct OfferChanges: Codable, Sendable, Equatable {
    public struct Member: Codable, Sendable, Equatable {
        public var customerID: String
        public var offer: String
        public var uses: Int64
        public init(customerID: String, offer: String, uses: Int64) {
            self.customerID = customerID
            self.offer = offer
            self.uses = uses
        }
    }
    public var definitions: [OfferDefinition]
    public var members: [Member]
    public init(definitions: [OfferDefinition], members: [Member]) {
        self.definitions = definitions
        self.members = members
    }
}

/// One card as customer service left it, for the tills' card caches. Absent fields: unchanged.
public struct CardChange: Codable, Sendable, Equatable {
    public var number: String
    /// active, blocked, lost, replaced or closed (a till refuses all but active).
    public var status: String
    /// For a replaced card: the card that carries its balance, tier and history now.
    public var replacedBy: String?
    /// The member the card belongs to, and the name the till shows for them.
    public var customerID: String?
    public var firstName: String?
    public var lastName: String?
    /// Head office's balance, qualification and tier of the card (a new card given in replacement).
    public var balance: Int64?
    public var qualifying: Int64?
    public var tierCode: String?
    /// The member's personal details were erased: the till forgets them too.
    public var erased: Bool?
    /// The card's points are held (true: no till lets them be spent; the card still earns) or
    /// released (false); nil: unchanged.
    public var redemptionHold: Bool?

    public init(number: String, status: String, replacedBy: String? = nil, customerID: String? = nil, firstName: String? = nil,
                lastName: String? = nil, balance: Int64? = nil, qualifying: Int64? = nil, tierCode: String? = nil, erased: Bool? = nil,
                redemptionHold: Bool? = nil) {
        self.redemptionHold = redemptionHold
        self.number = number
        self.status = status
        self.replacedBy = replacedBy
        self.customerID = customerID
        self.firstName = firstName
        self.lastName = lastName
        self.balance = balance
        self.qualifying = qualifying
        self.tierCode = tierCode
        self.erased = erased
    }

    /// The statuses a card can have.
    public static let statuses: Set<String> = ["active", "blocked", "lost", "replaced", "closed", "stock"]
}

/// A price change for one item.
public struct PriceChange: Codable, Sendable, Equatable {
    public var sku: String
    /// VAT-inclusive, minor units.
    public var unitPrice: Int64
    public init(sku: String, unitPrice: Int64) {
        self.sku = sku
        self.unitPrice = unitPrice
    }
}

/// Terminal settings a manager sets from head office. Absent fields are left as the till has them.
public struct TerminalSettings: Codable, Sendable, Equatable {
    /// At total, ask for the loyalty card.
    public var loyaltyPromptAtTotal: Bool?
    public var receiptHeader: [String]?
    public var receiptFooter: [String]?
    /// A printer profile name (applied when the till next starts).
    public var printerProfile: String?
    /// Action name → key names (applied when the till next starts).
    public var keymap: [String: [String]]?
    /// A discount above this percentage needs a supervisor, e.g. "10%".
    public var discountLimit: String?
    public var autoLockMinutes: Int?

    public init(loyaltyPromptAtTotal: Bool? = nil, receiptHeader: [String]? = nil, receiptFooter: [String]? = nil, printerProfile: String? = nil,
                keymap: [String: [String]]? = nil, discountLimit: String? = nil, autoLockMinutes: Int? = nil) {
        self.loyaltyPromptAtTotal = loyaltyPromptAtTotal
        self.receiptHeader = receiptHeader
        self.receiptFooter = receiptFooter
        self.printerProfile = printerProfile
        self.keymap = keymap
        self.discountLimit = discountLimit
        self.autoLockMinutes = autoLockMinutes
    }
}

/// A versioned publication from head office. Versions are one sequence for the whole chain; a till
/// applies the publications of its scope in version order and reports the highest it runs.
public struct Publication: Codable, Sendable, Equatable {
    public var version: Int64
    public var kind: PublicationKind
    public var scope: PublicationScope
    /// Who published it, and why (shown on the till's "what changed").
    public var createdBy: String
    public var note: String
    /// Epoch milliseconds.
    public var createdAt: Int64
    /// Not sent to tills before this time (epoch milliseconds).
    public var effectiveAt: Int64
    /// The programme JSON, for a programme publication (kept as the manager saved it).
    public var programme: String?
    public var prices: [PriceChange]?
    public var settings: TerminalSettings?
    public var cards: [CardChange]?
    public var offers: OfferChanges?
    public var suggestions: SuggestionSet?

    public init(version: Int64, kind: PublicationKind, scope: PublicationScope, createdBy: String, note: String, createdAt: Int64,
                effectiveAt: Int64, programme: String? = nil, prices: [PriceChange]? = nil, settings: TerminalSettings? = nil,
                cards: [CardChange]? = nil, offers: OfferChanges? = nil, suggestions: SuggestionSet? = nil) {
        self.suggestions = suggestions
        self.offers = offers
        self.version = version
        self.kind = kind
        self.scope = scope
        self.createdBy = createdBy
        self.note = note
        self.createdAt = createdAt
        self.effectiveAt = effectiveAt
        self.programme = programme
        self.prices = prices
        self.settings = settings
        self.cards = cards
    }
}

/// Where a till is in the order publications come into force: by the time each came into force,
/// then by version. A publication scheduled earlier for a later time comes into force after newer
/// ones made for now, so a till's cursor is this pair, never the highest version alone.
public struct ReleaseCursor: Codable, Sendable, Equatable, Hashable, Comparable {
    public var effectiveAt: Int64
    public var version: Int64
    public init(effectiveAt: Int64, version: Int64) {
        self.effectiveAt = effectiveAt
        self.version = version
    }
    public static let start = ReleaseCursor(effectiveAt: 0, version: 0)
    public static func < (a: ReleaseCursor, b: ReleaseCursor) -> Bool {
        (a.effectiveAt, a.version) < (b.effectiveAt, b.version)
    }
}

extension Publication {
    public var cursor: ReleaseCursor { ReleaseCursor(effectiveAt: effectiveAt, version: version) }
}

/// `GET /api/v1/updates?after=N&from=T`: the publications for this till that came into force after
/// the cursor (T, N) — the last one the till received — in the order they came into force.
public struct UpdateBatch: Codable, Sendable, Equatable {
    public var publications: [Publication]
    public init(publications: [Publication]) { self.publications = publications }
}

/// `POST /api/v1/updates/ack`: how far the till has applied publications, in the order they came
/// into force: the version of the last one applied (with nothing before it left), and its time.
public struct UpdateAck: Codable, Sendable, Equatable {
    public var version: Int64
    /// When that publication came into force (absent from tills before 2026-11-28: version order).
    public var effectiveAt: Int64?
    public init(version: Int64, effectiveAt: Int64? = nil) {
        self.version = version
        self.effectiveAt = effectiveAt
    }
}

/// What a till made of a publication when it applied it (not sent on the wire), for the till's
/// screen and its "what changed" view.
public struct AppliedPublication: Sendable, Equatable {
    public var publication: Publication
    /// What changed, in a line (e.g. "Programme 2026-2: 2 pt per 1.00").
    public var summary: String
    /// Set when the publication could not be applied (it is skipped, never half-applied).
    public var problem: String?

    public init(publication: Publication, summary: String, problem: String? = nil) {
        self.publication = publication
        self.summary = summary
        self.problem = problem
    }
}
