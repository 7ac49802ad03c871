import TillCore
public import TillProtocol

/// The bounds every document from a till is checked against before any arithmetic is done with it
/// (docs/headoffice-api.yaml declares the same). They are generous for any real shop and keep every
/// sum head office forms far inside Int64: 1,000 lines × 10,000 units × 10,000,000.00 is 10^16.
public enum DocumentBounds {
    /// A unit price, a line or tender amount, a total (minor units): 0 to 10,000,000.00 for a
    /// price, 100,000,000,000.00 for amounts that are sums.
    public static let unitPrice: ClosedRange<Int64> = 0...1_000_000_000
    public static let amount: ClosedRange<Int64> = 0...10_000_000_000_000
    /// A quantity in thousandths: 0.001 to 10,000 units or kg.
    public static let quantityMilli: ClosedRange<Int64> = 1...10_000_000
    /// Points in one movement, one award part, one tender.
    public static let points: ClosedRange<Int64> = 0...1_000_000_000_000
    /// A balance or a qualification total as the till saw it.
    public static let balance: ClosedRange<Int64> = -1_000_000_000_000_000...1_000_000_000_000_000
    /// Per-till sequence numbers, Z report numbers.
    public static let sequence: ClosedRange<Int64> = 1...1_000_000_000_000_000
    /// A publication version a till names (0: none yet).
    public static let version: ClosedRange<Int64> = 0...1_000_000_000_000_000
    /// A tax rate in basis points: 0% to 100%.
    public static let taxBasisPoints: ClosedRange<Int64> = 0...10_000
    /// Local minutes since 1970 (promotion windows): up to the year 3800.
    public static let localMinutes: ClosedRange<Int64> = 0...1_000_000_000
    /// A count of prior purchases (Nth-purchase rules).
    public static let count: ClosedRange<Int64> = 0...1_000_000_000
    /// Epoch milliseconds: 2000-01-01 to 2200-01-01.
    public static let epochMillis: ClosedRange<Int64> = 946_684_800_000...7_258_118_400_000

    public static let maxLines = 1_000
    public static let maxTenders = 50
    public static let maxAwardParts = 200
    public static let maxPriorPurchases = 1_000
    /// Characters: descriptions, names and references.
    public static let maxText = 200
    public static let maxShortText = 40
}

/// Collects the first problem with a document, naming the field, the value and the bound.
public struct DocumentGate {
    public private(set) var problem: String?

    public init() {}

    public var ok: Bool { problem == nil }

    public mutating func fail(_ message: String) {
        if problem == nil { problem = message }
    }

    public mutating func within(_ value: Int64, _ range: ClosedRange<Int64>, _ field: @autoclosure () -> String) {
        guard problem == nil, !range.contains(value) else { return }
        problem = "\(field()) \(value) is out of bounds: it must be \(range.lowerBound) to \(range.upperBound)"
    }

    public mutating func within(_ value: Int, _ range: ClosedRange<Int>, _ field: @autoclosure () -> String) {
        within(Int64(value), Int64(range.lowerBound)...Int64(range.upperBound), field())
    }

    public mutating func count(_ n: Int, atMost max: Int, _ field: String, atLeast min: Int = 0) {
        guard problem == nil, n < min || n > max else { return }
        problem = "\(field) has \(n) entries: it must have \(min) to \(max)"
    }

    /// Text of at most `max` characters, without control characters.
    public mutating func text(_ s: String, _ field: @autoclosure () -> String, max: Int = DocumentBounds.maxText, nonEmpty: Bool = false) {
        guard problem == nil else { return }
        let bytes = s.utf8.count
        if nonEmpty && bytes == 0 {
            problem = "\(field()) must not be empty"
        } else if bytes > max, bytes > max * 4 || s.count > max {   // characters are counted only when the bytes are many
            problem = "\(field()) is \(bytes > max * 4 ? "over \(max * 4) bytes" : "\(s.count) characters") long: at most \(max) characters are allowed"
        } else if Self.hasControlCharacters(s) {
            problem = "\(field()) '\(Self.quoted(s))' contains control characters"
        }
    }

    /// Whether `s` holds a C0 control or DEL (single bytes in UTF-8), read from the string's own
    /// storage where it has one: every text of every document goes through this.
    static func hasControlCharacters(_ s: String) -> Bool {
        func control(_ b: UInt8) -> Bool { b < 0x20 || b == 0x7F }
        return s.utf8.withContiguousStorageIfAvailable { bytes in bytes.contains(where: control) } ?? s.utf8.contains(where: control)
    }

    /// Whether `s` is a UUID: 36 characters, hexadecimal digits (either case) in groups of 8, 4,
    /// 4, 4 and 12, joined by '-'. `UUID(uuidString:)` parses with `sscanf`, which every sale paid
    /// for at head office, and which also takes a '-' among the digits ("-6" as a negative number).
    public static func isUUID(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { bytes in
            guard bytes.count == 36 else { return false }
            for (i, b) in bytes.enumerated() {
                if i == 8 || i == 13 || i == 18 || i == 23 {
                    if b != 0x2D { return false }
                } else if !((0x30...0x39).contains(b) || (0x41...0x46).contains(b) || (0x61...0x66).contains(b)) {
                    return false
                }
            }
            return true
        }
    }

    public mutating func text(_ s: String?, _ field: @autoclosure () -> String, max: Int = DocumentBounds.maxText) {
        if let s { text(s, field(), max: max) }
    }

    /// Digits only, `length` long.
    public mutating func digits(_ s: String, _ field: String, length: ClosedRange<Int>) {
        guard problem == nil else { return }
        if !length.contains(s.utf8.count) || !s.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
            problem = "\(field) '\(Self.quoted(s))' must be \(length.lowerBound) to \(length.upperBound) digits"
        }
    }

    /// An identifier such as a store or till number or a SKU: letters, digits, '-', '_', '.'.
    public mutating func identifier(_ s: String, _ field: String, max: Int = DocumentBounds.maxShortText) {
        guard problem == nil else { return }
        if s.isEmpty || s.utf8.count > max || !s.utf8.allSatisfy({ Self.identifierByte($0) }) {
            problem = "\(field) '\(Self.quoted(s))' must be 1 to \(max) letters, digits, '-', '_' or '.'"
        }
    }

    static func identifierByte(_ b: UInt8) -> Bool {
        (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || b == 0x2D || b == 0x5F || b == 0x2E
    }

    /// A value quoted in a message: at most 40 characters, control characters escaped.
    public static func quoted(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars.prefix(40) {
            if u.value < 0x20 || u.value == 0x7F { out += "\\u{\(String(u.value, radix: 16))}" } else { out.unicodeScalars.append(u) }
        }
        return s.unicodeScalars.count > 40 ? out + "…" : out
    }
}

extension SaleDocument {
    /// Every number and string of the document within `DocumentBounds`; nil when it is.
    public func boundsProblem() -> String? {
        var g = DocumentGate()
        g.identifier(saleID, "saleID", max: 36)
        g.identifier(storeID, "storeID")
        g.identifier(tillID, "tillID")
        g.within(sequence, DocumentBounds.sequence, "sequence")
        g.text(receiptNumber, "receiptNumber", max: DocumentBounds.maxShortText, nonEmpty: true)
        g.text(cashier.number, "cashier.number", max: DocumentBounds.maxShortText)
        g.text(cashier.name, "cashier.name")
        g.text(startedAt, "startedAt", max: DocumentBounds.maxShortText)
        g.text(completedAt, "completedAt", max: DocumentBounds.maxShortText)
        g.text(currency, "currency", max: 3)
        g.count(lines.count, atMost: DocumentBounds.maxLines, "lines", atLeast: 1)
        for (i, l) in lines.enumerated() where g.ok {
            // Field names are made only for a message (autoclosures): nothing is allocated for a good line.
            g.within(l.lineNumber, 1...DocumentBounds.maxLines, "lines[\(i)].lineNumber")
            g.text(l.sku, "lines[\(i)].sku", max: DocumentBounds.maxShortText, nonEmpty: true)
            g.text(l.description, "lines[\(i)].description")
            g.text(l.category, "lines[\(i)].category", max: 80)
            g.text(l.code, "lines[\(i)].code", max: DocumentBounds.maxShortText)
            g.within(l.quantityMilli, DocumentBounds.quantityMilli, "lines[\(i)].quantityMilli")
            g.within(l.unitPrice, DocumentBounds.unitPrice, "lines[\(i)].unitPrice")
            if let o = l.priceOverride {
                g.within(o.listPrice, DocumentBounds.unitPrice, "lines[\(i)].priceOverride.listPrice")
                g.text(o.reason, "lines[\(i)].priceOverride.reason", max: DocumentBounds.maxShortText)
            }
            g.within(l.amount, DocumentBounds.amount, "lines[\(i)].amount")
            g.within(l.lineDiscount, DocumentBounds.amount, "lines[\(i)].lineDiscount")
            g.within(l.saleDiscountShare, DocumentBounds.amount, "lines[\(i)].saleDiscountShare")
            if let o = l.offerDiscount { g.within(o, DocumentBounds.amount, "lines[\(i)].offerDiscount") }
            g.within(l.net, DocumentBounds.amount, "lines[\(i)].net")
            if let d = l.discount { d.check(&g, "lines[\(i)].discount") }
            g.text(l.taxCode, "lines[\(i)].taxCode", max: 8, nonEmpty: true)
            g.within(l.taxRateBasisPoints, DocumentBounds.taxBasisPoints, "lines[\(i)].taxRateBasisPoints")
        }
        if let d = saleDiscount { d.check(&g, "saleDiscount") }
        g.count(vat.count, atMost: DocumentBounds.maxLines, "vat")
        for (i, v) in vat.enumerated() where g.ok {
            g.text(v.code, "vat[\(i)].code", max: 8)
            g.within(v.rateBasisPoints, DocumentBounds.taxBasisPoints, "vat[\(i)].rateBasisPoints")
            g.within(v.gross, DocumentBounds.amount, "vat[\(i)].gross")
            g.within(v.vat, DocumentBounds.amount, "vat[\(i)].vat")
            g.within(v.net, DocumentBounds.amount, "vat[\(i)].net")
        }
        g.count(tenders.count, atMost: DocumentBounds.maxTenders, "tenders")
        for (i, t) in tenders.enumerated() where g.ok {
            g.text(t.kind, "tenders[\(i)].kind", max: 10)
            g.within(t.amount, DocumentBounds.amount, "tenders[\(i)].amount")
            g.text(t.reference, "tenders[\(i)].reference", max: 80)
            if let p = t.points { g.within(p, DocumentBounds.points, "tenders[\(i)].points") }
        }
        g.within(totals.subtotal, DocumentBounds.amount, "totals.subtotal")
        g.within(totals.lineDiscounts, DocumentBounds.amount, "totals.lineDiscounts")
        g.within(totals.saleDiscount, DocumentBounds.amount, "totals.saleDiscount")
        if let o = totals.offerDiscounts { g.within(o, DocumentBounds.amount, "totals.offerDiscounts") }
        g.within(totals.total, DocumentBounds.amount, "totals.total")
        g.within(totals.paid, DocumentBounds.amount, "totals.paid")
        g.within(totals.change, DocumentBounds.amount, "totals.change")
        g.within(totals.itemCount, 0...DocumentBounds.quantityMilli.upperBound * Int64(DocumentBounds.maxLines), "totals.itemCount")
        if let l = loyalty { l.check(&g) }
        return g.problem
    }
}

extension SaleDocument.DiscountInfo {
    func check(_ g: inout DocumentGate, _ field: String) {
        switch kind {
        case "percent": g.within(value, 0...10_000, field + ".value")
        case "amount": g.within(value, DocumentBounds.amount, field + ".value")
        default: g.fail("\(field).kind '\(DocumentGate.quoted(kind))' must be percent or amount")
        }
        g.text(reason, field + ".reason", max: DocumentBounds.maxShortText)
    }
}

extension SaleDocument.LoyaltyInfo {
    func check(_ g: inout DocumentGate) {
        g.digits(cardNumber, "loyalty.cardNumber", length: 8...19)
        g.text(customerID, "loyalty.customerID", max: DocumentBounds.maxShortText)
        g.text(customerName, "loyalty.customerName")
        g.text(programmeVersion, "loyalty.programmeVersion", max: DocumentBounds.maxShortText, nonEmpty: true)
        g.within(localMinutes, DocumentBounds.localMinutes, "loyalty.localMinutes")
        g.text(tierCode, "loyalty.tierCode", max: DocumentBounds.maxShortText)
        g.text(tierName, "loyalty.tierName", max: 80)
        g.count(priorPurchases.count, atMost: DocumentBounds.maxPriorPurchases, "loyalty.priorPurchases")
        for (rule, n) in priorPurchases where g.ok {
            g.text(rule, "loyalty.priorPurchases key", max: DocumentBounds.maxShortText)
            g.within(n, DocumentBounds.count, "loyalty.priorPurchases[\(DocumentGate.quoted(rule))]")
        }
        g.within(qualifying, DocumentBounds.balance, "loyalty.qualifying")
        g.count(earned.count, atMost: DocumentBounds.maxAwardParts, "loyalty.earned")
        for (i, p) in earned.enumerated() where g.ok { p.check(&g, "loyalty.earned[\(i)]") }
        g.count(welcome.count, atMost: DocumentBounds.maxAwardParts, "loyalty.welcome")
        for (i, p) in welcome.enumerated() where g.ok { p.check(&g, "loyalty.welcome[\(i)]") }
        g.within(redeemed, DocumentBounds.points, "loyalty.redeemed")
        g.within(redeemedValue, DocumentBounds.amount, "loyalty.redeemedValue")
        g.within(balanceBefore, DocumentBounds.balance, "loyalty.balanceBefore")
        g.within(balanceAfter, DocumentBounds.balance, "loyalty.balanceAfter")
        if let o = offlineLeft { g.within(o, DocumentBounds.balance, "loyalty.offlineLeft") }
        g.text(nextTierName, "loyalty.nextTierName", max: 80)
        if let t = toNextTier { g.within(t, DocumentBounds.balance, "loyalty.toNextTier") }
        if let r = registration { r.check(&g, "loyalty.registration") }
        if let e = expiringSoon { g.within(e, DocumentBounds.balance, "loyalty.expiringSoon") }
        if let e = expiringBy { g.within(e, DocumentBounds.epochMillis, "loyalty.expiringBy") }
        if let offers = openOffers {
            g.count(offers.count, atMost: 20, "loyalty.openOffers")
            for (i, o) in offers.enumerated() where g.ok {
                g.text(o.id, "loyalty.openOffers[\(i)].id", max: DocumentBounds.maxShortText, nonEmpty: true)
                g.text(o.name, "loyalty.openOffers[\(i)].name", max: 80)
                g.within(o.validTo, DocumentBounds.epochMillis, "loyalty.openOffers[\(i)].validTo")
                g.within(o.usesLeft, DocumentBounds.count, "loyalty.openOffers[\(i)].usesLeft")
            }
        }
        if let offers = offerDiscounts {
            g.count(offers.count, atMost: 20, "loyalty.offerDiscounts")
            for (i, o) in offers.enumerated() where g.ok { o.check(&g, "loyalty.offerDiscounts[\(i)]") }
        }
        if let list = challenges {
            g.count(list.count, atMost: 20, "loyalty.challenges")
            for (i, ch) in list.enumerated() where g.ok {
                let f = "loyalty.challenges[\(i)]"
                g.text(ch.id, f + ".id", max: DocumentBounds.maxShortText, nonEmpty: true)
                g.text(ch.name, f + ".name", max: 80)
                g.within(ch.value, DocumentBounds.balance, f + ".value")
                g.within(ch.goal, DocumentBounds.balance, f + ".goal")
                g.text(ch.unit, f + ".unit", max: 10)
                g.within(ch.rewardPoints, DocumentBounds.balance, f + ".rewardPoints")
                g.text(ch.badge, f + ".badge", max: 80)
            }
        }
    }
}

extension SaleDocument.OfferDiscountInfo {
    func check(_ g: inout DocumentGate, _ field: String) {
        g.text(id, field + ".id", max: DocumentBounds.maxShortText, nonEmpty: true)
        g.text(name, field + ".name", max: 80)
        switch kind {
        case "percent": g.within(value, 1...10_000, field + ".value")
        case "amount": g.within(value, 1...DocumentBounds.unitPrice.upperBound, field + ".value")
        case "free-item": g.within(value, 1...1, field + ".value")
        default: g.fail("\(field).kind '\(DocumentGate.quoted(kind))' must be percent, amount or free-item")
        }
        g.count(skus.count, atMost: 50, field + ".skus")
        g.count(categories.count, atMost: 50, field + ".categories")
        for (j, t) in skus.enumerated() where g.ok { g.text(t, field + ".skus[\(j)]", max: 64, nonEmpty: true) }
        for (j, t) in categories.enumerated() where g.ok { g.text(t, field + ".categories[\(j)]", max: 80, nonEmpty: true) }
        g.within(minSpend, DocumentBounds.unitPrice, field + ".minSpend")
        g.within(amount, DocumentBounds.amount, field + ".amount")
    }
}

extension SaleDocument.AwardPart {
    func check(_ g: inout DocumentGate, _ field: @autoclosure () -> String) {
        g.text(rule, field() + ".rule", max: DocumentBounds.maxShortText, nonEmpty: true)
        g.text(label, field() + ".label")
        g.within(points, DocumentBounds.points, field() + ".points")
    }
}

extension SaleDocument.RegistrationInfo {
    /// Bounds only; `Registration.make` then checks it as the till's form does.
    public func check(_ g: inout DocumentGate, _ field: String = "registration") {
        g.digits(cardNumber, field + ".cardNumber", length: 8...19)
        g.text(firstName, field + ".firstName", max: 80)
        g.text(lastName, field + ".lastName", max: 80)
        g.text(phone, field + ".phone", max: 32)
        g.text(email, field + ".email", max: 254)
        g.text(postcode, field + ".postcode", max: 10)
        g.text(birthDate, field + ".birthDate", max: 10)
        g.text(registeredAt, field + ".registeredAt", max: DocumentBounds.maxShortText)
        g.text(referralCode, field + ".referralCode", max: 12)
    }
}

extension RegistrationDocument {
    public func boundsProblem() -> String? {
        var g = DocumentGate()
        if schemaVersion != RegistrationDocument.currentSchemaVersion {
            g.fail("schemaVersion \(schemaVersion) is not one this head office reads (\(RegistrationDocument.currentSchemaVersion))")
        }
        g.identifier(storeID, "storeID")
        g.identifier(tillID, "tillID")
        g.text(programmeVersion, "programmeVersion", max: DocumentBounds.maxShortText, nonEmpty: true)
        registration.check(&g, "registration")
        g.count(welcome.count, atMost: DocumentBounds.maxAwardParts, "welcome")
        for (i, p) in welcome.enumerated() where g.ok { p.check(&g, "welcome[\(i)]") }
        if let c = cancelledSaleID { g.identifier(c, "cancelledSaleID", max: 36) }
        return g.problem
    }
}

extension RefundDocument {
    public func boundsProblem() -> String? {
        var g = DocumentGate()
        if schemaVersion != 1 { g.fail("schemaVersion \(schemaVersion) is not one this head office reads (1)") }
        g.identifier(refundID, "refundID", max: 64)
        g.identifier(storeID, "storeID")
        g.identifier(tillID, "tillID")
        g.within(sequence, DocumentBounds.sequence, "sequence")
        g.text(receiptNumber, "receiptNumber", max: DocumentBounds.maxShortText, nonEmpty: true)
        if let o = originalSaleID { g.identifier(o, "originalSaleID", max: 36) }
        g.text(originalReceipt, "originalReceipt", max: DocumentBounds.maxShortText)
        g.text(cashier, "cashier", max: DocumentBounds.maxShortText)
        g.text(supervisor, "supervisor", max: DocumentBounds.maxShortText)
        g.text(reason, "reason", max: DocumentBounds.maxShortText)
        g.text(createdAt, "createdAt", max: DocumentBounds.maxShortText)
        if ProtocolTime.parse(createdAt) == nil { g.fail("createdAt '\(DocumentGate.quoted(createdAt))' is not an ISO 8601 time") }
        g.text(currency, "currency", max: 3)
        g.within(total, DocumentBounds.amount, "total")
        g.count(lines.count, atMost: DocumentBounds.maxLines, "lines", atLeast: 1)
        for (i, l) in lines.enumerated() where g.ok {
            g.within(l.lineNumber, 1...DocumentBounds.maxLines, "lines[\(i)].lineNumber")
            g.text(l.sku, "lines[\(i)].sku", max: DocumentBounds.maxShortText)
            g.text(l.description, "lines[\(i)].description")
            g.within(l.quantityMilli, DocumentBounds.quantityMilli, "lines[\(i)].quantityMilli")
            g.within(l.amount, DocumentBounds.amount, "lines[\(i)].amount")
            g.text(l.taxCode, "lines[\(i)].taxCode", max: 8)
        }
        g.count(tenders.count, atMost: DocumentBounds.maxTenders, "tenders")
        for (i, t) in tenders.enumerated() where g.ok {
            if TenderKind(rawValue: t.kind) == nil { g.fail("tenders[\(i)].kind '\(DocumentGate.quoted(t.kind))' must be cash, card or points") }
            g.within(t.amount, DocumentBounds.amount, "tenders[\(i)].amount")
            g.text(t.reference, "tenders[\(i)].reference", max: 80)
            if let p = t.points { g.within(p, DocumentBounds.points, "tenders[\(i)].points") }
        }
        if g.ok {
            // Bounded above, so these sums cannot overflow.
            let lineSum = lines.reduce(Int64(0)) { $0 + $1.amount }
            let tenderSum = tenders.reduce(Int64(0)) { $0 + $1.amount }
            if lineSum != total { g.fail("total \(total) is not the sum of its lines' amounts \(lineSum)") }
            if tenderSum != total { g.fail("tenders come to \(tenderSum), not the refund's total \(total)") }
        }
        if let l = loyalty {
            g.digits(l.cardNumber, "loyalty.cardNumber", length: 8...19)
            g.within(l.pointsTakenBack, DocumentBounds.points, "loyalty.pointsTakenBack")
            g.within(l.pointsRestored, DocumentBounds.points, "loyalty.pointsRestored")
        }
        return g.problem
    }
}

extension ZReportSummary {
    public func boundsProblem() -> String? {
        var g = DocumentGate()
        g.within(number, DocumentBounds.sequence, "number")
        g.identifier(storeID, "storeID")
        g.identifier(tillID, "tillID")
        g.text(currency, "currency", max: 3)
        g.within(from, 0...DocumentBounds.epochMillis.upperBound, "from")
        g.within(to, DocumentBounds.epochMillis, "to")
        if g.ok && to < from { g.fail("to \(to) is before from \(from)") }
        g.within(salesCount, DocumentBounds.count, "salesCount")
        g.within(salesValue, DocumentBounds.amount, "salesValue")
        g.within(refundsValue, DocumentBounds.amount, "refundsValue")
        g.within(netSales, -DocumentBounds.amount.upperBound...DocumentBounds.amount.upperBound, "netSales")
        return g.problem
    }
}
