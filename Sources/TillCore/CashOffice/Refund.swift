/// What earlier refunds already took from one sale, read from the journal inside the refund's
/// transaction. All amounts are cumulative over every earlier refund of the sale.
public struct ReturnedSoFar: Hashable, Sendable {
    public struct Line: Hashable, Sendable {
        public var milli: Int64
        public var amount: Int64
        public init(milli: Int64, amount: Int64) {
            self.milli = milli
            self.amount = amount
        }
    }

    /// Line number → quantity (milli) and amount refunded so far.
    public var lines: [Int: Line]
    /// Value of the lines refunded (money and points together).
    public var value: Int64
    /// Part of `value` given back as points.
    public var pointsValue: Int64
    public var pointsRestored: Points
    public var pointsTakenBack: Points
    /// Money refunded to card tenders.
    public var toCard: Int64

    public static let none = ReturnedSoFar(lines: [:], value: 0, pointsValue: 0, pointsRestored: 0, pointsTakenBack: 0, toCard: 0)

    public init(lines: [Int: Line], value: Int64, pointsValue: Int64, pointsRestored: Points, pointsTakenBack: Points, toCard: Int64) {
        self.lines = lines
        self.value = value
        self.pointsValue = pointsValue
        self.pointsRestored = pointsRestored
        self.pointsTakenBack = pointsTakenBack
        self.toCard = toCard
    }
}

/// A line the cashier chose to return: its number on the original receipt and how much of it.
public struct ReturnSelection: Hashable, Sendable, Codable {
    public var line: Int
    public var quantity: Quantity
    public init(line: Int, quantity: Quantity) {
        self.line = line
        self.quantity = quantity
    }
}

/// One returned line as refunded.
public struct RefundLine: Hashable, Sendable, Codable {
    public var lineNumber: Int
    public var sku: String
    public var description: String
    public var quantity: Quantity
    public var soldByWeight: Bool
    /// What the customer gets back for it: its share of what they paid for the line.
    public var amount: Int64
    public var taxCode: String
    public var taxBasisPoints: Int64

    public init(lineNumber: Int, sku: String, description: String, quantity: Quantity, soldByWeight: Bool, amount: Int64,
                taxCode: String, taxBasisPoints: Int64) {
        self.lineNumber = lineNumber
        self.sku = sku
        self.description = description
        self.quantity = quantity
        self.soldByWeight = soldByWeight
        self.amount = amount
        self.taxCode = taxCode
        self.taxBasisPoints = taxBasisPoints
    }
}

/// Where refunded money goes: back to the card, in cash, or back to the points balance.
public struct RefundTender: Hashable, Sendable, Codable {
    public var kind: TenderKind
    public var amount: Int64
    /// For a card refund: the card terminal's reference for the refund the cashier keyed (the
    /// original payment's reference until then).
    public var reference: String?
    /// Points given back, for a points refund.
    public var points: Points?

    public init(kind: TenderKind, amount: Int64, reference: String? = nil, points: Points? = nil) {
        self.kind = kind
        self.amount = amount
        self.reference = reference
        self.points = points
    }
}

/// A refund worked out from the original sale: every figure is exact and computed once, here.
public struct RefundPlan: Hashable, Sendable {
    public var originalSaleID: String
    public var originalReceipt: String
    public var lines: [RefundLine]
    /// The value of the returned lines (money and points together).
    public var total: Int64
    public var tenders: [RefundTender]
    /// Points earned on the returned lines, taken back from the card.
    public var pointsTakenBack: Points
    /// Points that paid for the returned lines, given back to the card.
    public var pointsRestored: Points
    public var cardNumber: String?
    public var vat: [VATLine]
    /// True when no receipt was shown (items refunded at the current price, in cash).
    public var withoutReceipt: Bool

    public init(originalSaleID: String, originalReceipt: String, lines: [RefundLine], total: Int64, tenders: [RefundTender],
                pointsTakenBack: Points, pointsRestored: Points, cardNumber: String?, vat: [VATLine], withoutReceipt: Bool) {
        self.originalSaleID = originalSaleID
        self.originalReceipt = originalReceipt
        self.lines = lines
        self.total = total
        self.tenders = tenders
        self.pointsTakenBack = pointsTakenBack
        self.pointsRestored = pointsRestored
        self.cardNumber = cardNumber
        self.vat = vat
        self.withoutReceipt = withoutReceipt
    }

    /// Cash out of the drawer.
    public var cash: Int64 { tenders.filter { $0.kind == .cash }.reduce(0) { $0 + $1.amount } }
    public var money: Int64 { tenders.filter { $0.kind != .points }.reduce(0) { $0 + $1.amount } }
}

/// Why a return was refused.
public enum ReturnError: Error, Equatable, Sendable, CustomStringConvertible {
    case noSuchReceipt(String)
    case nothingChosen
    case noSuchLine(Int, count: Int)
    case voidedLine(Int)
    case moreThanLeft(line: Int, description: String, asked: Quantity, left: Quantity)
    case alreadyReturned(line: Int, description: String)
    case weighedLinePart(line: Int, description: String)
    case notWhole(line: Int, quantity: Quantity)
    case notThisStore(String)

    public var description: String {
        switch self {
        case .noSuchReceipt(let r):
            "No sale with receipt \(r) is in this till's journal: scan the barcode on the receipt, or key its number (e.g. 0001-01-000042)"
        case .nothingChosen: "Choose the lines to return first: key a line number and Enter"
        case .noSuchLine(let n, let count): "The receipt has no line \(n): choose 1 to \(count)"
        case .voidedLine(let n): "Line \(n) was voided in the sale: there is nothing to return"
        case .moreThanLeft(let n, let d, let asked, let left):
            "Line \(n) (\(d)): \(asked) asked but only \(left) can still be returned"
        case .alreadyReturned(let n, let d): "Line \(n) (\(d)) has already been returned in full: it cannot be returned twice"
        case .weighedLinePart(let n, let d): "Line \(n) (\(d)) was sold by weight: it is returned whole"
        case .notWhole(let n, let q): "Line \(n): '\(q)' is not a whole number of items"
        case .notThisStore(let r): "Receipt \(r) is from another store: return it there"
        }
    }
}

/// Works out refunds so that points follow the money exactly.
///
/// Every figure is computed cumulatively over all refunds of a sale and this refund takes the
/// difference, so partial returns never drift by a rounding unit: once every line has come back,
/// exactly the sale's total has been refunded, exactly its redeemed points restored and exactly
/// the points it earned taken back.
///
/// - A line's refund is its net (after line and sale discounts) × returned ÷ sold.
/// - Points that paid for the sale come back in proportion to the value returned.
/// - Points earned are taken back as the difference between what the sale earned and what the
///   items kept would have earned under the same programme and context (so a multi-buy bonus
///   goes when the customer no longer has the multi-buy). Under another programme version the
///   points come back in proportion to the value returned.
/// - Money goes back to the card first (up to what the card paid), then in cash; `toCash`
///   puts it all in cash (a supervisor's decision).
public enum RefundPlanner {
    public static func plan(
        sale: CompletedSale, prior: ReturnedSoFar, selections: [ReturnSelection], toCash: Bool, programme: LoyaltyProgramme?
    ) throws(ReturnError) -> RefundPlan {
        guard !selections.isEmpty else { throw .nothingChosen }
        let lines = sale.basket.lines, amounts = sale.totals.lines
        var chosen: [Int: Int64] = [:]
        for s in selections { chosen[s.line, default: 0] += s.quantity.milli }
        var refundLines: [RefundLine] = []
        var cumulative: [Int: Int64] = [:]
        for n in chosen.keys.sorted() {
            let milli = chosen[n]!
            guard n >= 1, n <= lines.count else { throw .noSuchLine(n, count: lines.count) }
            let line = lines[n - 1], net = amounts[n - 1].net
            guard !line.voided else { throw .voidedLine(n) }
            let before = prior.lines[n] ?? .init(milli: 0, amount: 0)
            let left = line.item.quantity.milli - before.milli
            guard left > 0 else { throw .alreadyReturned(line: n, description: line.item.description) }
            if line.item.soldByWeight {
                guard milli == left else { throw .weighedLinePart(line: n, description: line.item.description) }
            } else {
                guard milli % 1000 == 0, milli > 0 else { throw .notWhole(line: n, quantity: Quantity(milli: milli)) }
            }
            guard milli <= left else {
                throw .moreThanLeft(line: n, description: line.item.description, asked: Quantity(milli: milli), left: Quantity(milli: left))
            }
            let after = before.milli + milli
            let amountAfter = after == line.item.quantity.milli ? net : share(net, after, line.item.quantity.milli)
            cumulative[n] = after
            refundLines.append(RefundLine(
                lineNumber: n, sku: line.item.sku, description: line.item.description, quantity: Quantity(milli: milli),
                soldByWeight: line.item.soldByWeight, amount: amountAfter - before.amount, taxCode: line.item.taxCode,
                taxBasisPoints: line.item.taxBasisPoints))
        }
        let total = refundLines.reduce(0) { $0 + $1.amount }
        let saleTotal = sale.totals.total
        let valueAfter = prior.value + total

        // Points that paid.
        let pointsTenders = sale.basket.tenders.filter { $0.kind == .points }
        let redeemedValue = pointsTenders.reduce(0) { $0 + $1.amount }
        let redeemedPoints = pointsTenders.sum { $0.points ?? 0 }
        let pointsValueAfter = valueAfter >= saleTotal ? redeemedValue : share(redeemedValue, valueAfter, saleTotal)
        let restoredAfter = valueAfter >= saleTotal ? redeemedPoints : Points(share(redeemedPoints.count, valueAfter, saleTotal))
        let pointsValue = max(0, pointsValueAfter - prior.pointsValue)
        let restored = max(0, restoredAfter - prior.pointsRestored)

        // Points earned.
        var takenBack: Points = 0
        if let o = sale.loyalty {
            let earned = o.earned.total
            var takenAfter: Points
            if let programme, programme.version == o.programmeVersion {
                let kept = keptBasket(sale, returnedAfter: cumulative, prior: prior)
                takenAfter = earned - programme.award(for: kept, context: o.context).total
            } else {
                takenAfter = valueAfter >= saleTotal ? earned : Points(share(earned.count, valueAfter, saleTotal))
            }
            takenAfter = min(max(takenAfter, 0), earned)
            takenBack = max(0, takenAfter - prior.pointsTakenBack)
        }

        // Money: card first, up to what the cards paid, then cash.
        let money = total - pointsValue
        let cardPaid = sale.basket.tenders.filter { $0.kind == .card }.reduce(0) { $0 + $1.amount }
        var toCard: Int64 = 0
        if !toCash {
            let moneyAfter = (prior.value - prior.pointsValue) + money
            toCard = min(money, max(0, min(moneyAfter, cardPaid) - prior.toCard))
        }
        var tenders: [RefundTender] = []
        if toCard > 0 {
            let reference = sale.basket.tenders.first { $0.kind == .card }?.reference
            tenders.append(RefundTender(kind: .card, amount: toCard, reference: reference))
        }
        if money - toCard > 0 { tenders.append(RefundTender(kind: .cash, amount: money - toCard)) }
        if pointsValue > 0 || restored > 0 { tenders.append(RefundTender(kind: .points, amount: pointsValue, points: restored)) }

        return RefundPlan(
            originalSaleID: sale.id, originalReceipt: sale.receiptNumber, lines: refundLines, total: total, tenders: tenders,
            pointsTakenBack: takenBack, pointsRestored: restored, cardNumber: sale.loyalty?.customer.cardNumber,
            vat: vat(of: refundLines), withoutReceipt: false)
    }

    /// A refund with no receipt: the items at their current price, in cash, no points.
    public static func planWithoutReceipt(items: [LineItem]) throws(SaleError) -> RefundPlan {
        guard !items.isEmpty else { throw .noLines }
        var lines: [RefundLine] = []
        for (i, item) in items.enumerated() {
            guard let amount = MinorUnits.mulDivRounded(item.unitPrice, item.quantity.milli, 1000), amount <= Money.maximumMinor else {
                throw .amountTooLarge(item: item.description)
            }
            lines.append(RefundLine(
                lineNumber: i + 1, sku: item.sku, description: item.description, quantity: item.quantity,
                soldByWeight: item.soldByWeight, amount: amount, taxCode: item.taxCode, taxBasisPoints: item.taxBasisPoints))
        }
        let total = lines.reduce(0) { $0 + $1.amount }
        return RefundPlan(
            originalSaleID: "", originalReceipt: "", lines: lines, total: total,
            tenders: total > 0 ? [RefundTender(kind: .cash, amount: total)] : [], pointsTakenBack: 0, pointsRestored: 0,
            cardNumber: nil, vat: vat(of: lines), withoutReceipt: true)
    }

    /// value × part ÷ whole, rounded half away from zero.
    static func share(_ value: Int64, _ part: Int64, _ whole: Int64) -> Int64 {
        guard whole > 0 else { return 0 }
        return MinorUnits.mulDivRounded(value, part, whole) ?? value
    }

    /// The items the customer keeps after every refund so far and this one, each at what they
    /// paid for it, for recomputing what the sale would have earned.
    static func keptBasket(_ sale: CompletedSale, returnedAfter: [Int: Int64], prior: ReturnedSoFar) -> Basket {
        var kept = Basket(currency: sale.basket.currency)
        for (line, a) in zip(sale.basket.lines, sale.totals.lines) where !line.voided {
            let returned = returnedAfter[line.number] ?? prior.lines[line.number]?.milli ?? 0
            let keptMilli = line.item.quantity.milli - returned
            guard keptMilli > 0 else { continue }
            var item = line.item
            item.quantity = Quantity(milli: keptMilli)
            let keptNet = a.net - share(a.net, returned, line.item.quantity.milli)
            guard (try? kept.apply(.addLine(item: item))) != nil else { continue }
            let gross = kept.lines.last!.amount
            if gross > keptNet { try? kept.apply(.discountLine(number: kept.lines.count, discount: .amount(minor: gross - keptNet))) }
        }
        return kept
    }

    static func vat(of lines: [RefundLine]) -> [VATLine] {
        var byRate: [String: VATLine] = [:]
        for l in lines {
            var v = byRate[l.taxCode] ?? VATLine(code: l.taxCode, basisPoints: l.taxBasisPoints, gross: 0, vat: 0, net: 0)
            v.gross += l.amount
            byRate[l.taxCode] = v
        }
        return byRate.keys.sorted().map { code in
            var v = byRate[code]!
            v.vat = MinorUnits.mulDivRounded(v.gross, v.basisPoints, 10_000 + v.basisPoints) ?? 0
            v.net = v.gross - v.vat
            return v
        }
    }
}
