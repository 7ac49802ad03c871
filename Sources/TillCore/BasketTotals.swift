/// The amounts of one line after discounts.
public struct LineAmounts: Hashable, Sendable {
    /// Price × quantity, before discounts (0 for a voided line).
    public var gross: Int64
    public var lineDiscount: Int64
    /// What the member's offers took off the line (after its line discount).
    public var offerDiscount: Int64 = 0
    /// This line's share of the sale discount (largest-remainder allocation).
    public var saleDiscountShare: Int64
    /// What the customer pays for the line: gross − line discount − offer discount − sale discount share.
    public var net: Int64
}

/// VAT contained in the sale at one rate. Prices are VAT-inclusive.
public struct VATLine: Hashable, Sendable {
    public var code: String
    public var basisPoints: Int64
    /// VAT-inclusive total of the lines at this rate, after all discounts.
    public var gross: Int64
    /// VAT contained in `gross`: gross × rate ÷ (100% + rate), rounded once per rate.
    public var vat: Int64
    public var net: Int64

    public init(code: String, basisPoints: Int64, gross: Int64, vat: Int64, net: Int64) {
        self.code = code
        self.basisPoints = basisPoints
        self.gross = gross
        self.vat = vat
        self.net = net
    }
}

/// What one of the member's offers took off the sale.
public struct OfferDiscount: Hashable, Sendable {
    public var id: String
    public var name: String
    public var amount: Int64
    public init(id: String, name: String, amount: Int64) {
        self.id = id
        self.name = name
        self.amount = amount
    }
}

/// Everything derived from a basket's lines, discounts and tenders.
///
/// Rounding (see README "Money and rounding"): each line amount, each percentage discount and
/// each rate's VAT is rounded half away from zero, once. A sale discount is spread over the
/// lines in proportion to their value by the largest-remainder method, so the shares add up
/// to the discount exactly; VAT is then computed per rate on the discounted totals.
public struct BasketTotals: Hashable, Sendable {
    public var lines: [LineAmounts]
    /// Sum of line nets before the sale discount (after line discounts and offers).
    public var subtotal: Int64
    public var lineDiscounts: Int64
    /// What each of the member's offers took off, in the order they were applied (none: empty).
    public var offerDiscounts: [OfferDiscount] = []
    public var offerDiscount: Int64 { offerDiscounts.reduce(0) { $0 + $1.amount } }
    /// The offer a line's offer discount came from, to show beside it: its name, or "your offers"
    /// when more than one took money off the sale.
    public var offerLabel: String { offerDiscounts.count == 1 ? offerDiscounts[0].name : "your offers" }
    public var saleDiscount: Int64
    public var total: Int64
    public var vat: [VATLine]
    public var paid: Int64
    /// What remains to pay (never negative).
    public var due: Int64
    /// Cash to give back (never negative).
    public var change: Int64
    /// Whole units sold plus one per weighed line, for the item count on screen and receipt.
    public var itemCount: Int64

    public static let empty = BasketTotals(
        lines: [], subtotal: 0, lineDiscounts: 0, saleDiscount: 0, total: 0, vat: [], paid: 0, due: 0,
        change: 0, itemCount: 0)

    static func compute(_ basket: Basket) throws(SaleError) -> BasketTotals {
        var amounts: [LineAmounts] = []
        amounts.reserveCapacity(basket.lines.count)
        var subtotalParts: [Int64] = []
        subtotalParts.reserveCapacity(basket.lines.count)
        var itemCount: Int64 = 0
        for line in basket.lines {
            if line.voided {
                amounts.append(LineAmounts(gross: 0, lineDiscount: 0, saleDiscountShare: 0, net: 0))
                continue
            }
            let off = line.discount.flatMap { $0.amount(of: line.amount) } ?? 0
            amounts.append(LineAmounts(gross: line.amount, lineDiscount: off, saleDiscountShare: 0, net: line.amount - off))
            subtotalParts.append(line.amount - off)
            itemCount += line.item.soldByWeight ? 1 : line.item.quantity.wholeUnits
        }
        // The member's offers, one after another, on what the lines come to after line discounts.
        var offerDiscounts: [OfferDiscount] = []
        if !basket.offers.isEmpty {
            for offer in basket.offers {
                var taken: Int64 = 0
                for (i, off) in offer.discounts(basket.lines, nets: amounts.map(\.net)) {
                    amounts[i].offerDiscount += off
                    amounts[i].net -= off
                    taken += off   // each at most its line's net: the sum stays within the lines' sum
                }
                if taken > 0 { offerDiscounts.append(OfferDiscount(id: offer.id, name: offer.name, amount: taken)) }
            }
            subtotalParts = zip(basket.lines, amounts).filter { !$0.0.voided }.map(\.1.net)
        }
        guard let subtotal = MinorUnits.sum(subtotalParts),
              let lineDiscounts = MinorUnits.sum(amounts.map(\.lineDiscount))
        else { throw .amountTooLarge(item: "this sale") }

        var saleDiscount: Int64 = 0
        if let d = basket.saleDiscount {
            guard let off = d.amount(of: subtotal), off <= subtotal else {
                throw .discountAboveSaleValue(
                    discount: basket.money(d.amount(of: subtotal) ?? Money.maximumMinor), value: basket.money(subtotal))
            }
            saleDiscount = off
            allocate(off, over: &amounts, subtotal: subtotal)
        }
        let total = subtotal - saleDiscount

        // By tax code (a sale has a few), in the codes' order.
        var vat: [VATLine] = []
        var codes = ShortListIndex()
        for (line, a) in zip(basket.lines, amounts) where !line.voided {
            let (i, added) = codes.position(of: line.item.taxCode)
            if added {
                vat.append(VATLine(code: line.item.taxCode, basisPoints: line.item.taxBasisPoints, gross: a.net, vat: 0, net: 0))
            } else {
                vat[i].gross += a.net
            }
        }
        vat.sort { $0.code < $1.code }
        for i in vat.indices {
            vat[i].vat = MinorUnits.mulDivRounded(vat[i].gross, vat[i].basisPoints, 10_000 + vat[i].basisPoints)!
            vat[i].net = vat[i].gross - vat[i].vat
        }

        guard let paid = MinorUnits.sum(basket.tenders.map(\.amount)) else { throw .amountTooLarge(item: "the payment") }
        return BasketTotals(
            lines: amounts, subtotal: subtotal, lineDiscounts: lineDiscounts, offerDiscounts: offerDiscounts, saleDiscount: saleDiscount,
            total: total, vat: vat, paid: paid, due: max(total - paid, 0), change: max(paid - total, 0),
            itemCount: itemCount)
    }

    /// Spreads `discount` over the active lines in proportion to their net, largest remainder
    /// first (ties to the earlier line), so the shares sum to `discount` exactly.
    static func allocate(_ discount: Int64, over amounts: inout [LineAmounts], subtotal: Int64) {
        guard discount > 0, subtotal > 0 else { return }
        let shares = MinorUnits.shares(of: discount, over: amounts.map { max(0, $0.net) })
        for i in amounts.indices { amounts[i].saleDiscountShare = shares[i] }
        for i in amounts.indices { amounts[i].net -= amounts[i].saleDiscountShare }
    }
}

/// Where each key of a list that is usually short sits in it: found by a linear search while the
/// list has at most 8 keys (no hashing, no dictionary made), through a dictionary after, so a
/// document with a thousand distinct keys still takes linear time.
public struct ShortListIndex: Sendable {
    public private(set) var keys: [String] = []
    private var positions: [String: Int] = [:]

    public init() {}

    /// The key's position in `keys`, appending it when it is new (`added`).
    public mutating func position(of key: String) -> (index: Int, added: Bool) {
        if keys.count <= 8 {
            if let i = keys.firstIndex(of: key) { return (i, false) }
        } else if let i = positions[key] {
            return (i, false)
        }
        keys.append(key)
        if keys.count == 9 {
            for (i, k) in keys.enumerated() { positions[k] = i }
        } else if keys.count > 9 {
            positions[key] = keys.count - 1
        }
        return (keys.count - 1, true)
    }
}
