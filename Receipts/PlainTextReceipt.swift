public import TillCore

/// Lays out a sale receipt as plain text lines of a given width (e.g. 42 for 80 mm paper,
/// 32 for 58 mm). Voided lines are left off the customer's receipt.
public struct PlainTextReceipt: Sendable {
    public var width: Int
    public var header: [String]
    public var footer: [String]

    public init(width: Int = 42, header: [String] = [], footer: [String] = ["Thank you for shopping with us"]) {
        self.width = max(24, width)
        self.header = header
        self.footer = footer
    }

    /// The receipt lines. `date` is the sale's local date and time, already formatted.
    public func render(_ sale: CompletedSale, date: String) -> [String] {
        let c = sale.till.currency
        let t = sale.totals
        var out: [String] = []
        out.append(centre(sale.till.storeName))
        out += header.map(centre)
        out.append("")
        out.append(columns("Receipt \(sale.receiptNumber)", ""))
        out.append(columns(date, "Till \(sale.till.tillID)"))
        out.append(columns("Cashier: \(sale.cashier.name)", ""))
        out.append(rule())
        for (line, a) in zip(sale.basket.lines, t.lines) where !line.voided {
            let item = line.item
            let unit = item.soldByWeight ? "\(item.quantity) kg x \(c.format(item.unitPrice))/kg" : "\(item.quantity) x \(c.format(item.unitPrice))"
            if item.quantity == .one && !item.soldByWeight {
                out.append(columns(item.description + " " + item.taxCode, c.format(a.gross)))
            } else {
                out.append(columns(item.description + " " + item.taxCode, ""))
                out.append(columns("  " + unit, c.format(a.gross)))
            }
            if let d = line.discount {
                out.append(columns("  Discount \(d.label(currency: c))", c.format(-a.lineDiscount)))
            }
        }
        out.append(rule())
        if t.saleDiscount > 0 || t.lineDiscounts > 0 {
            out.append(columns("Subtotal", c.format(t.subtotal)))
        }
        if let d = sale.basket.saleDiscount {
            out.append(columns("Sale discount \(d.label(currency: c))", c.format(-t.saleDiscount)))
        }
        out.append(columns("TOTAL \(c.code)", c.format(t.total)))
        for tender in sale.basket.tenders {
            let label = tender.reference.map { "\(tender.kind.label) (ref \($0))" } ?? tender.kind.label
            out.append(columns(label, c.format(tender.amount)))
        }
        if t.change > 0 { out.append(columns("Change", c.format(t.change))) }
        out.append(rule())
        out.append(vatRow("VAT", "Rate", "Net", "VAT", "Gross"))
        for v in t.vat {
            out.append(vatRow(v.code, TaxRate(code: v.code, basisPoints: v.basisPoints).percentText,
                              c.format(v.net), c.format(v.vat), c.format(v.gross)))
        }
        out.append(rule())
        out.append(columns("Items: \(t.itemCount)", ""))
        out.append("")
        out += footer.map(centre)
        return out
    }

    /// Left text and right text on one line; the left is cut, never the amount.
    public func columns(_ left: String, _ right: String) -> String {
        let room = width - right.count - (right.isEmpty ? 0 : 1)
        let l = left.count > room ? String(left.prefix(max(0, room))) : left
        return l + String(repeating: " ", count: max(0, width - l.count - right.count)) + right
    }

    public func centre(_ s: String) -> String {
        let text = s.count > width ? String(s.prefix(width)) : s
        return String(repeating: " ", count: (width - text.count) / 2) + text
    }

    public func rule() -> String { String(repeating: "-", count: width) }

    private func vatRow(_ a: String, _ b: String, _ c: String, _ d: String, _ e: String) -> String {
        let w = (width - 8) / 3
        func r(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
        let first = a + String(repeating: " ", count: max(0, 4 - a.count)) + r(b, 4)
        return first + r(c, w) + r(d, w) + r(e, width - first.count - 2 * w)
    }
}
