public import TillCore

/// Finding a product by name or category (Ctrl-T), with its price: Enter adds the chosen one to
/// the sale; an item scanned here only shows its price (a price check adds nothing).
public struct ProductLookup: Equatable, Sendable {
    public var query = ""
    public var results: [Product] = []
    public var selected = 0
    /// The query the results are for (Enter on unchanged results adds the selected product).
    public var searchedFor: String?
    public var total = 0
    public var offset = 0
    static let pageSize = 20
}

extension TillController {
    func startLookup() {
        input = ""
        mode = .productLookup(ProductLookup())
        message = Message(text: "Find a product: key words of its name or category and Enter; scan an item (or key its code) to check its price",
                          isError: false)
    }

    func lookupKey(_ key: Key, _ action: TillAction?, lookup: ProductLookup) {
        var lookup = lookup
        switch key {
        case .char(let c) where !c.isNewline:
            if lookup.query.count < 40 { lookup.query.append(c) }
            mode = .productLookup(lookup)
        case .backspace:
            if !lookup.query.isEmpty { lookup.query.removeLast() }
            mode = .productLookup(lookup)
        case .up:
            if lookup.selected == 0 && lookup.offset > 0 { return lookupPage(lookup, offset: lookup.offset - ProductLookup.pageSize, last: true) }
            lookup.selected = max(0, lookup.selected - 1)
            mode = .productLookup(lookup)
        case .down:
            if lookup.selected == lookup.results.count - 1 && lookup.offset + lookup.results.count < lookup.total {
                return lookupPage(lookup, offset: lookup.offset + lookup.results.count)
            }
            lookup.selected = min(max(0, lookup.results.count - 1), lookup.selected + 1)
            mode = .productLookup(lookup)
        case .pageDown:
            guard lookup.offset + lookup.results.count < lookup.total else { return fail("This is the last page") }
            lookupPage(lookup, offset: lookup.offset + ProductLookup.pageSize)
        case .pageUp:
            guard lookup.offset > 0 else { return fail("This is the first page") }
            lookupPage(lookup, offset: lookup.offset - ProductLookup.pageSize)
        case .enter:
            if lookup.searchedFor == lookup.query, lookup.results.indices.contains(lookup.selected) {
                return addLookedUp(lookup.results[lookup.selected])
            }
            guard !lookup.query.trimmingSpaces.isEmpty else { return fail("Key a word of the product's name or category first") }
            // Digits only: a barcode or PLU keyed (or a scanner typing): a price check.
            if lookup.query.allSatisfy(\.isASCIIDigit) {
                let code = lookup.query
                lookup.query = ""
                lookup.searchedFor = nil
                mode = .productLookup(lookup)
                return priceCheck(code)
            }
            lookupPage(lookup, offset: 0)
        default:
            if action == .clear || action == .lookup {
                mode = .selling
                message = nil
            } else {
                fail("Key words of the name and Enter; Up/Down choose, Enter adds; \(keymap.label(.clear)) goes back")
            }
        }
    }

    private func lookupPage(_ lookup: ProductLookup, offset: Int, last: Bool = false) {
        var lookup = lookup
        let q = lookup.query.trimmingSpaces
        do {
            let found = try env.catalog.searchProducts(q, limit: ProductLookup.pageSize, offset: max(0, offset))
            lookup.results = found.products
            lookup.total = found.total
            lookup.offset = max(0, offset)
            lookup.selected = last ? max(0, found.products.count - 1) : 0
            lookup.searchedFor = lookup.query
            mode = .productLookup(lookup)
            if found.products.isEmpty {
                fail("No product matches '\(q)': try fewer or shorter words, or the category")
            } else {
                let range = found.total <= found.products.count ? "\(found.total) found" : "\(lookup.offset + 1)-\(lookup.offset + found.products.count) of \(found.total) found"
                message = Message(text: "\(range): Up/Down to choose, Enter adds it to the sale", isError: false)
            }
        } catch {
            fail("\(error)")
        }
    }

    /// The chosen product goes on the sale as if its code were keyed (its PLU, or its first barcode).
    private func addLookedUp(_ p: Product) {
        guard let code = p.plu ?? p.barcodes.first else {
            return fail("\(p.description) has no PLU or barcode to ring it by: scan the item")
        }
        mode = .selling
        if p.soldByWeight && pendingQuantity == nil {
            return fail(SaleError.weightRequired(item: p.description).description)
        }
        addItem(code)
    }

    /// A scan in the lookup: the item's price, nothing added.
    func priceCheck(_ code: String) {
        do {
            let product: Product?
            switch try ProductCode.classify(code, rules: settings.barcodeRules) {
            case .gtin(let g): product = try env.catalog.product(gtin: g)
            case .plu(let p), .priceEmbedded(let p, _, _), .weightEmbedded(let p, _, _): product = try env.catalog.product(plu: p)
            }
            guard let product else { return fail(SaleError.unknownBarcode(code).description) }
            let unit = product.soldByWeight ? " a kg" : ""
            message = Message(text: "Price check: \(product.description) \(currency.format(product.unitPrice))\(unit) (not added)", isError: false)
        } catch {
            fail("\(error)")
        }
    }
}
