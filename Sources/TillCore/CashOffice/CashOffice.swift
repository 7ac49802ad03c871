/// Actions a cashier may not do alone: a supervisor or manager authorises each with their
/// number and PIN (or does it while signed on themselves).
public enum GuardedAction: String, Hashable, Sendable, Codable, CaseIterable {
    case voidSale = "void-sale"
    case priceOverride = "price-override"
    case discountAboveLimit = "discount-above-limit"
    case refund
    case refundWithoutReceipt = "refund-without-receipt"
    case refundToCash = "refund-to-cash"
    case noSale = "no-sale"
    case cashAboveLimit = "cash-above-limit"
    case unlockCashier = "unlock-cashier"

    public var label: String {
        switch self {
        case .cashAboveLimit: "Cash above the till's limit"
        case .voidSale: "Void sale"
        case .priceOverride: "Price override"
        case .discountAboveLimit: "Discount above the limit"
        case .refund: "Refund"
        case .refundWithoutReceipt: "Refund without a receipt"
        case .refundToCash: "Refund in cash"
        case .noSale: "No sale (open the drawer)"
        case .unlockCashier: "Unlocking a cashier"
        }
    }
}

/// How much cash a cashier may take, give or move alone (minor units); above, a supervisor's
/// number and PIN (`[cash_office]` in the configuration).
public struct CashLimits: Sendable, Hashable {
    /// Cash tendered for one sale.
    public var tendered: Int64 = 100_000
    /// Change given for one sale.
    public var change: Int64 = 20_000
    public var pickup: Int64 = 500_000
    public var paidIn: Int64 = 100_000
    public var paidOut: Int64 = 20_000
    /// The opening float.
    public var float: Int64 = 100_000

    public init() {}

    /// The limit for a cash movement (nil: no money moves).
    public func limit(for kind: CashMovementKind) -> Int64? {
        switch kind {
        case .float: float
        case .pickup: pickup
        case .paidIn: paidIn
        case .paidOut: paidOut
        case .noSale: nil
        }
    }
}

extension Cashier.Role {
    /// Supervisors and managers authorise guarded actions.
    public var maySupervise: Bool { self != .cashier }
}

extension Discount {
    /// True when this discount on `value` is above `limitBasisPoints` of it (a discount that
    /// needs a supervisor). A limit of 10_000 or more never needs one.
    public func exceeds(limitBasisPoints limit: Int64, of value: Int64) -> Bool {
        guard limit < 10_000 else { return false }
        // A percentage is judged as keyed, not after rounding (10% of 1.49 is 0.15, still 10%).
        if case .percent(let bp) = self { return bp > limit }
        guard let off = amount(of: value), off > 0 else { return false }
        // off / value > limit / 10000, without division.
        return off.multipliedReportingOverflow(by: 10_000).partialValue > value.multipliedReportingOverflow(by: limit).partialValue
    }
}

/// Cash into or out of the drawer outside a sale.
public enum CashMovementKind: String, Hashable, Sendable, Codable, CaseIterable {
    /// The opening float put in the drawer.
    case float
    /// A cash lift: notes taken from the drawer to the safe.
    case pickup
    case paidIn = "paid-in"
    case paidOut = "paid-out"
    /// The drawer opened without a sale (no money moves).
    case noSale = "no-sale"

    public var label: String {
        switch self {
        case .float: "Opening float"
        case .pickup: "Pickup"
        case .paidIn: "Paid in"
        case .paidOut: "Paid out"
        case .noSale: "No sale"
        }
    }

    /// +1 into the drawer, −1 out, 0 for a no sale.
    public var sign: Int64 {
        switch self {
        case .float, .paidIn: 1
        case .pickup, .paidOut: -1
        case .noSale: 0
        }
    }

    public var needsReason: Bool { self == .paidIn || self == .paidOut || self == .noSale }
}

public struct CashMovement: Hashable, Sendable, Codable {
    public var kind: CashMovementKind
    /// Always ≥ 0; `kind.sign` says which way it goes.
    public var amount: Int64
    public var reason: String?
    public var cashier: String
    public var supervisor: String?
    public var at: Timestamp

    public init(kind: CashMovementKind, amount: Int64, reason: String?, cashier: String, supervisor: String?, at: Timestamp) {
        self.kind = kind
        self.amount = amount
        self.reason = reason
        self.cashier = cashier
        self.supervisor = supervisor
        self.at = at
    }
}

/// One line of the audit trail: who did what, when, to which sale.
public struct AuditEntry: Hashable, Sendable, Codable {
    public var at: Timestamp
    /// e.g. "sign-on", "override", "override-refused", "void-line", "refund", "pickup", "z-report".
    public var action: String
    public var cashier: String?
    public var supervisor: String?
    public var saleID: String?
    public var detail: String

    public init(at: Timestamp, action: String, cashier: String?, supervisor: String? = nil, saleID: String? = nil, detail: String) {
        self.at = at
        self.action = action
        self.cashier = cashier
        self.supervisor = supervisor
        self.saleID = saleID
        self.detail = detail
    }
}

/// An X report (the period so far, resets nothing) or a Z report (closes the period, numbered).
/// Every figure is a sum over the journal of the period, in minor units or points.
public struct PeriodReport: Hashable, Sendable, Codable {
    public struct TenderTotal: Hashable, Sendable, Codable {
        public var kind: String
        public var count: Int64
        /// Taken in sales (cash net of change).
        public var sales: Int64
        public var refunds: Int64
        public var net: Int64 { sales - refunds }
        public init(kind: String, count: Int64, sales: Int64, refunds: Int64) {
            self.kind = kind
            self.count = count
            self.sales = sales
            self.refunds = refunds
        }
    }

    public struct VATTotal: Hashable, Sendable, Codable {
        public var code: String
        public var rateBasisPoints: Int64
        public var gross: Int64
        public var vat: Int64
        public var net: Int64
        public init(code: String, rateBasisPoints: Int64, gross: Int64, vat: Int64, net: Int64) {
            self.code = code
            self.rateBasisPoints = rateBasisPoints
            self.gross = gross
            self.vat = vat
            self.net = net
        }
    }

    public struct CashierTotal: Hashable, Sendable, Codable {
        public var number: String
        public var name: String
        public var sales: Int64
        public var value: Int64
        public var items: Int64
        /// Items a minute while ringing sales, in tenths (123 is 12.3).
        public var itemsPerMinuteTenths: Int64
        public var voidedLines: Int64
        public var cancelledSales: Int64
        public var refunds: Int64
        public init(number: String, name: String, sales: Int64, value: Int64, items: Int64, itemsPerMinuteTenths: Int64,
                    voidedLines: Int64, cancelledSales: Int64, refunds: Int64) {
            self.number = number
            self.name = name
            self.sales = sales
            self.value = value
            self.items = items
            self.itemsPerMinuteTenths = itemsPerMinuteTenths
            self.voidedLines = voidedLines
            self.cancelledSales = cancelledSales
            self.refunds = refunds
        }
    }

    public struct CashUp: Hashable, Sendable, Codable {
        public var float: Int64
        public var cashSales: Int64
        public var cashRefunds: Int64
        public var paidIn: Int64
        public var paidOut: Int64
        public var pickups: Int64
        public var noSales: Int64
        /// What the drawer should hold: float + cash sales − cash refunds + paid in − paid out − pickups.
        public var expected: Int64
        /// The blind count at close (Z only).
        public var counted: Int64?
        /// counted − expected: positive over, negative short.
        public var overShort: Int64?
        public init(float: Int64, cashSales: Int64, cashRefunds: Int64, paidIn: Int64, paidOut: Int64, pickups: Int64, noSales: Int64,
                    counted: Int64?) {
            self.float = float
            self.cashSales = cashSales
            self.cashRefunds = cashRefunds
            self.paidIn = paidIn
            self.paidOut = paidOut
            self.pickups = pickups
            self.noSales = noSales
            self.expected = float + cashSales - cashRefunds + paidIn - paidOut - pickups
            self.counted = counted
            self.overShort = counted.map { $0 - expected }
        }
    }

    /// "X" or "Z".
    public var kind: String
    /// The Z number (the X report shows the number the next Z will have).
    public var number: Int64
    public var storeID: String
    public var tillID: String
    public var currency: String
    /// The period: from the previous Z (or the first record) to now.
    public var from: Timestamp
    public var to: Timestamp
    public var firstSequence: Int64?
    public var lastSequence: Int64?
    public var salesCount: Int64
    public var itemsSold: Int64
    /// Sum of sale totals (after discounts).
    public var salesValue: Int64
    public var lineDiscounts: Int64
    public var saleDiscounts: Int64
    /// What members' offers took off (nil: nothing, and in reports from before offers).
    public var offerDiscounts: Int64?
    public var discountedLines: Int64
    public var refundsCount: Int64
    public var refundsValue: Int64
    public var refundsWithoutReceipt: Int64
    /// salesValue − refundsValue.
    public var netSales: Int64
    /// The sales before their discounts: salesValue + lineDiscounts + offerDiscounts +
    /// saleDiscounts (nil if that does not fit in Int64). The report reads down from it: gross,
    /// less the discounts, is the sales value; less the refunds, the net sales.
    public var grossSales: Int64? { MinorUnits.sum([salesValue, lineDiscounts, offerDiscounts ?? 0, saleDiscounts]) }
    public var tenders: [TenderTotal]
    /// VAT of sales less VAT of refunds, by rate.
    public var vat: [VATTotal]
    public var voidedLines: Int64
    public var voidedLinesValue: Int64
    public var cancelledSales: Int64
    public var cancelledValue: Int64
    public var overrides: Int64
    public var overridesRefused: Int64
    public var pointsIssued: Points
    public var pointsRedeemed: Points
    public var pointsTakenBack: Points
    public var pointsRestored: Points
    public var cash: CashUp
    public var cashiers: [CashierTotal]

    public init(
        kind: String, number: Int64, storeID: String, tillID: String, currency: String, from: Timestamp, to: Timestamp,
        firstSequence: Int64?, lastSequence: Int64?, salesCount: Int64, itemsSold: Int64, salesValue: Int64, lineDiscounts: Int64,
        saleDiscounts: Int64, discountedLines: Int64, refundsCount: Int64, refundsValue: Int64, refundsWithoutReceipt: Int64,
        tenders: [TenderTotal], vat: [VATTotal], voidedLines: Int64, voidedLinesValue: Int64, cancelledSales: Int64,
        cancelledValue: Int64, overrides: Int64, overridesRefused: Int64, pointsIssued: Points, pointsRedeemed: Points,
        pointsTakenBack: Points, pointsRestored: Points, cash: CashUp, cashiers: [CashierTotal]
    ) {
        self.kind = kind
        self.number = number
        self.storeID = storeID
        self.tillID = tillID
        self.currency = currency
        self.from = from
        self.to = to
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.salesCount = salesCount
        self.itemsSold = itemsSold
        self.salesValue = salesValue
        self.lineDiscounts = lineDiscounts
        self.saleDiscounts = saleDiscounts
        self.discountedLines = discountedLines
        self.refundsCount = refundsCount
        self.refundsValue = refundsValue
        self.refundsWithoutReceipt = refundsWithoutReceipt
        self.netSales = salesValue - refundsValue
        self.tenders = tenders
        self.vat = vat
        self.voidedLines = voidedLines
        self.voidedLinesValue = voidedLinesValue
        self.cancelledSales = cancelledSales
        self.cancelledValue = cancelledValue
        self.overrides = overrides
        self.overridesRefused = overridesRefused
        self.pointsIssued = pointsIssued
        self.pointsRedeemed = pointsRedeemed
        self.pointsTakenBack = pointsTakenBack
        self.pointsRestored = pointsRestored
        self.cash = cash
        self.cashiers = cashiers
    }
}
