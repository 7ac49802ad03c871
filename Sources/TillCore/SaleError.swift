/// Why a cashier's action on a sale was refused. Each message quotes the value and says what
/// to do; the sale is unchanged whenever one of these is thrown.
public enum SaleError: Error, Equatable, Sendable, CustomStringConvertible {
    case notAProductCode(String)
    case badCheckDigit(code: String, expected: Character)
    case unknownBarcode(String)
    case unknownPLU(String)
    case invalidQuantity(String)
    case quantityOutOfRange(String)
    case quantityNotWhole(item: String, quantity: Quantity)
    case weightRequired(item: String)
    case weightOnUnitItem(code: String, item: String)
    case quantityWithWeighedLabel(code: String)
    case amountTooLarge(item: String)
    case invalidAmount(String)
    case invalidDiscount(String)
    case discountAboveLineValue(discount: Money, line: Int, value: Money)
    case discountAboveSaleValue(discount: Money, value: Money)
    case noSuchLine(Int, count: Int)
    case lineAlreadyVoided(Int)
    case noLines
    case paymentStarted
    case tenderLessThanDue(kind: TenderKind, amount: Money, due: Money)
    case tenderAboveDue(kind: TenderKind, amount: Money, due: Money)
    case zeroTender(kind: TenderKind)
    case alreadyPaid
    case notFullyPaid(due: Money)
    case invalidReference(String)
    case noCustomer
    case cardIssuedInSale
    case quantityFixed(line: Int, item: String)
    case noTender

    public var description: String {
        switch self {
        case .notAProductCode(let s):
            return "'\(s)' is not a PLU (1-6 digits) or a barcode (8, 12, 13 or 14 digits): key it again"
        case .badCheckDigit(let code, let expected):
            return "Barcode \(code) failed its check digit (expected \(expected)): scan again or key the PLU"
        case .unknownBarcode(let s):
            return "No product has barcode \(s): check the item, or key its PLU"
        case .unknownPLU(let s):
            return "No product has PLU \(s): check the number, or scan the item"
        case .invalidQuantity(let s):
            return "Quantity '\(s)' is not a number: key e.g. 3 * (or 0.750 * for a weight)"
        case .quantityOutOfRange(let s):
            return "Quantity \(s) is out of range: key 1 to 9999, then *"
        case .quantityNotWhole(let item, let q):
            return "\(item) is sold by unit: quantity \(q) must be whole"
        case .weightRequired(let item):
            return "\(item) is sold by weight: key the weight in kg first, e.g. 0.350 * then the item"
        case .weightOnUnitItem(let code, let item):
            return "Barcode \(code) carries a weight but \(item) is sold by unit: check the label"
        case .quantityWithWeighedLabel(let code):
            return "Barcode \(code) carries its own weight: scan it without a quantity"
        case .amountTooLarge(let item):
            return "The amount for \(item) is too large: check the quantity and price"
        case .invalidAmount(let s):
            return "'\(s)' is not an amount: key e.g. 2000 or 20.00"
        case .invalidDiscount(let s):
            return "'\(s)' is not a discount: key e.g. 10% or 1.50, then the discount key"
        case .discountAboveLineValue(let d, let line, let v):
            return "Discount \(d) is more than line \(line)'s value \(v): key a smaller discount"
        case .discountAboveSaleValue(let d, let v):
            return "Sale discount \(d) is more than the sale's value \(v): key a smaller discount, or 0 to remove it"
        case .noSuchLine(let n, let count):
            return count == 0 ? "There is no line \(n): the sale has no lines yet"
                : "There is no line \(n): choose 1 to \(count)"
        case .lineAlreadyVoided(let n):
            return "Line \(n) is already void"
        case .noLines:
            return "The sale has no items yet: scan an item first"
        case .paymentStarted:
            return "Payment has started: finish the payment, or cancel the sale"
        case .tenderLessThanDue(let kind, let amount, let due):
            return "\(kind.label) \(amount) is less than the \(due) due: key at least \(due), or press Split to pay part"
        case .tenderAboveDue(let kind, let amount, let due):
            return "\(kind.label) \(amount) is more than the \(due) due: only cash can give change"
        case .zeroTender(let kind):
            return "\(kind.label) of 0 is not a payment: key the amount"
        case .alreadyPaid:
            return "The sale is already paid"
        case .notFullyPaid(let due):
            return "\(due) is still due: take another tender"
        case .noCustomer:
            return "Scan the customer's loyalty card before paying with points"
        case .noTender:
            return "No payment has been taken on this sale"
        case .quantityFixed(let line, let item):
            return "Line \(line) (\(item)) is weighed or priced by its label: its quantity cannot change; void it and ring it again"
        case .cardIssuedInSale:
            return "The card was issued and registered in this sale, so it stays on it: cancel the sale to sell without it (the card stays registered)"
        case .invalidReference(let s):
            return "Card reference '\(s)' is not valid: key the reference the card terminal printed (letters and digits)"
        }
    }
}
