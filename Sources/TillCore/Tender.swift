/// How a customer pays.
public enum TenderKind: String, Hashable, Sendable, Codable, CaseIterable {
    case cash
    /// A card paid on the store's external card terminal; the till records its reference.
    case card
    /// Loyalty points redeemed at the programme's rate.
    case points

    public var label: String {
        switch self {
        case .cash: "Cash"
        case .card: "Card"
        case .points: "Points"
        }
    }

    /// Whether an overpayment with this tender is given back as change.
    public var givesChange: Bool { self == .cash }
}

/// One payment towards a sale, in the sale's currency (minor units).
public struct Tender: Hashable, Sendable, Codable {
    public var kind: TenderKind
    public var amount: Int64
    /// The external card terminal's reference (authorisation code), for card tenders.
    public var reference: String?
    /// The points redeemed, for a points tender.
    public var points: Points?

    public init(kind: TenderKind, amount: Int64, reference: String? = nil, points: Points? = nil) {
        self.kind = kind
        self.amount = amount
        self.reference = reference
        self.points = points
    }

    /// Validates a card terminal reference: 1–32 letters, digits, '-' or '/'.
    public static func validateReference(_ text: String) throws(SaleError) -> String {
        let allowed = text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "/") }
        guard (1...32).contains(text.count), allowed else { throw .invalidReference(text) }
        return text
    }
}

/// A discount on a line or on the whole sale.
public enum Discount: Hashable, Sendable, Codable {
    /// A percentage in basis points: 1000 is 10%.
    case percent(basisPoints: Int64)
    /// A fixed amount in minor units.
    case amount(minor: Int64)

    /// The discount on a value, rounded half away from zero (see `MinorUnits`).
    public func amount(of value: Int64) -> Int64? {
        switch self {
        case .percent(let bp): MinorUnits.mulDivRounded(value, bp, 10_000)
        case .amount(let minor): minor
        }
    }

    public var isZero: Bool {
        switch self {
        case .percent(let bp): bp == 0
        case .amount(let m): m == 0
        }
    }

    /// Parses what a cashier keys before a discount key: "10%" or "12.5%" is a percentage,
    /// anything else an amount as `Currency.parseKeyed` reads it ("150" or "1.50").
    public static func parseKeyed(_ text: String, currency: Currency) throws(SaleError) -> Discount {
        if text.hasSuffix("%") {
            guard let bp = TaxRate.parsePercent(text) else { throw .invalidDiscount(text) }
            return .percent(basisPoints: bp)
        }
        guard let minor = currency.parseKeyed(text) else { throw .invalidDiscount(text) }
        return .amount(minor: minor)
    }

    public func label(currency: Currency) -> String {
        switch self {
        case .percent(let bp): TaxRate(code: "", basisPoints: bp).percentText
        case .amount(let m): currency.format(m)
        }
    }
}

extension Currency {
    /// Reads an amount as a cashier keys it: with a decimal point it is read as written
    /// ("20.00", "20.5"); without one the digits are minor units, as on a cash register
    /// ("2000" is 20.00). Nil when neither.
    public func parseKeyed(_ text: String) -> Int64? {
        if text.contains(".") { return parse(text) }
        guard let v = Int64(decimalDigits: text), v <= Money.maximumMinor else { return nil }
        return v
    }
}
