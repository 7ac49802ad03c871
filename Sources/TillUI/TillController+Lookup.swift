public import TillCore

/// Finding a product by name or category (Ctrl-T), with its price: Enter adds the chosen one to
/// the sale; an item scanned here only shows its price (a price check adds nothing).
public typealias ProductLookup = PagedSearch<Product>

extension TillController {
    func startLookup() {
        entry.clear()
        mode = .productLookup(ProductLookup())
        message = Message(text: "Find a product: key words of its name or category and Enter; scan an item (or key its code) to check its price",
                          isError: false)
    }

    func lookupKey(_ key: Key, _ action: TillAction?, lookup: ProductLookup) {
        switch lookup.step(key, maxLength: 40) {
        case .changed(let l):
            mode = .productLookup(l)
            return
        case .page(let offset, let last): return lookupPage(lookup, offset: offset, last: last)
        case .refused(let why): return fail(why)
        case nil: break
        }
        if key == .enter {
            if let chosen = lookup.chosen { return addLookedUp(chosen) }
            guard !lookup.query.trimmingSpaces.isEmpty else { return fail("Key a word of the product's name or category first") }
            // Digits only: a barcode or PLU keyed (or a scanner typing): a price check.
            if lookup.query.allSatisfy(\.isASCIIDigit) {
                let code = lookup.query
                mode = .productLookup(ProductLookup())
                return priceCheck(code)
            }
            return lookupPage(lookup, offset: 0)
        }
        if action == .clear || action == .lookup {
            mode = .selling
            message = nil
        } else {
            fail("Key words of the name and Enter; Up/Down choose, Enter adds; \(keymap.label(.clear)) goes back")
        }
    }

    func lookupPage(_ lookup: ProductLookup, offset: Int, last: Bool = false) {
        let q = lookup.query.trimmingSpaces
        do {
            let found = try env.catalog.searchProducts(q, limit: ProductLookup.pageSize, offset: max(0, offset))
            let lookup = lookup.showing(found.products, total: found.total, offset: offset, last: last)
            mode = .productLookup(lookup)
            if found.products.isEmpty {
                fail("No product matches '\(q)': try fewer or shorter words, or the category")
            } else {
                message = Message(text: "\(lookup.foundText): Up/Down to choose, Enter adds it to the sale", isError: false)
            }
        } catch {
            fail("\(error)")
        }
    }

    /// The chosen product goes on the sale as if its code were keyed (its PLU, or its first barcode).
    func addLookedUp(_ p: Product) {
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
