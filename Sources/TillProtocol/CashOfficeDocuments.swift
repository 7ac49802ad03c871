/// A refund, as the till sends it to head office (outbox kind "refund", id = refundID). Head
/// office applies its points (taken back, restored) to the card's ledger exactly once.
public struct RefundDocument: Codable, Sendable, Equatable {
    public struct Line: Codable, Sendable, Equatable {
        public var lineNumber: Int
        public var sku: String
        public var description: String
        public var quantityMilli: Int64
        public var amount: Int64
        public var taxCode: String
        public init(lineNumber: Int, sku: String, description: String, quantityMilli: Int64, amount: Int64, taxCode: String) {
            self.lineNumber = lineNumber
            self.sku = sku
            self.description = description
            self.quantityMilli = quantityMilli
            self.amount = amount
            self.taxCode = taxCode
        }
    }

    public struct Tender: Codable, Sendable, Equatable {
        public var kind: String
        public var amount: Int64
        public var reference: String?
        public var points: Int64?
        public init(kind: String, amount: Int64, reference: String?, points: Int64?) {
            self.kind = kind
            self.amount = amount
            self.reference = reference
            self.points = points
        }
    }

    public struct Loyalty: Codable, Sendable, Equatable {
        public var cardNumber: String
        /// Points the returned items had earned, taken back (≥ 0).
        public var pointsTakenBack: Int64
        /// Points that had paid for the returned items, given back (≥ 0).
        public var pointsRestored: Int64
        public init(cardNumber: String, pointsTakenBack: Int64, pointsRestored: Int64) {
            self.cardNumber = cardNumber
            self.pointsTakenBack = pointsTakenBack
            self.pointsRestored = pointsRestored
        }
    }

    public var schemaVersion: Int
    public var refundID: String
    public var storeID: String
    public var tillID: String
    public var sequence: Int64
    public var receiptNumber: String
    /// The sale refunded; nil for a refund without a receipt.
    public var originalSaleID: String?
    public var originalReceipt: String?
    public var cashier: String
    /// The supervisor who authorised it, when the cashier could not alone.
    public var supervisor: String?
    public var createdAt: String
    public var currency: String
    public var total: Int64
    public var lines: [Line]
    public var tenders: [Tender]
    public var loyalty: Loyalty?
    /// Why the goods came back, chosen from the till's list.
    public var reason: String?

    public init(
        refundID: String, storeID: String, tillID: String, sequence: Int64, receiptNumber: String, originalSaleID: String?,
        originalReceipt: String?, cashier: String, supervisor: String?, createdAt: String, currency: String, total: Int64,
        lines: [Line], tenders: [Tender], loyalty: Loyalty?, reason: String? = nil
    ) {
        self.reason = reason
        self.schemaVersion = 1
        self.refundID = refundID
        self.storeID = storeID
        self.tillID = tillID
        self.sequence = sequence
        self.receiptNumber = receiptNumber
        self.originalSaleID = originalSaleID
        self.originalReceipt = originalReceipt
        self.cashier = cashier
        self.supervisor = supervisor
        self.createdAt = createdAt
        self.currency = currency
        self.total = total
        self.lines = lines
        self.tenders = tenders
        self.loyalty = loyalty
    }
}

/// What head office reads of a till's Z report (outbox kind "zreport", id
/// "STORE-TILL-Z000001"). The till sends the whole report; head office keeps it as sent.
public struct ZReportSummary: Codable, Sendable, Equatable {
    public var kind: String
    public var number: Int64
    public var storeID: String
    public var tillID: String
    public var currency: String
    /// Epoch milliseconds.
    public var from: Int64
    public var to: Int64
    public var salesCount: Int64
    public var salesValue: Int64
    public var refundsValue: Int64
    public var netSales: Int64

    public init(kind: String, number: Int64, storeID: String, tillID: String, currency: String, from: Int64, to: Int64,
                salesCount: Int64, salesValue: Int64, refundsValue: Int64, netSales: Int64) {
        self.kind = kind
        self.number = number
        self.storeID = storeID
        self.tillID = tillID
        self.currency = currency
        self.from = from
        self.to = to
        self.salesCount = salesCount
        self.salesValue = salesValue
        self.refundsValue = refundsValue
        self.netSales = netSales
    }

    /// The outbox id of a till's Z report.
    public static func documentID(storeID: String, tillID: String, number: Int64) -> String {
        let n = String(number)
        return "\(storeID)-\(tillID)-Z" + String(repeating: "0", count: max(0, 6 - n.count)) + n
    }
}

/// A member of staff as head office defines them for a store's tills (`GET /api/v1/staff`).
/// The PIN travels and is stored only as its slow hash (`pbkdf2-sha256$rounds$salt$hash`).
public struct StaffMember: Codable, Sendable, Equatable {
    public var number: String
    public var name: String
    /// cashier, supervisor or manager.
    public var role: String
    public var pinHash: String

    public init(number: String, name: String, role: String, pinHash: String) {
        self.number = number
        self.name = name
        self.role = role
        self.pinHash = pinHash
    }
}

/// The staff of a till's store (the chain's and the store's own).
public struct StaffList: Codable, Sendable, Equatable {
    public var staff: [StaffMember]
    public init(staff: [StaffMember]) { self.staff = staff }
}

/// `GET /api/v1/sales/{receipt}`: a sale of the till's store, for a return at any of its tills,
/// with the refunds head office has of it.
public struct SaleForReturn: Codable, Sendable, Equatable {
    public var sale: SaleDocument
    public var refunds: [RefundDocument]
    public init(sale: SaleDocument, refunds: [RefundDocument]) {
        self.sale = sale
        self.refunds = refunds
    }
}
