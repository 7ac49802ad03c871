import ESCPOS
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Receipts
import TillCore
import TillDocuments
import TillProtocol

extension HeadOfficeServer {
    static let catalogEditors: Set<BackOfficeRole> = [.admin, .marketing]

    func catalogPage(_ user: BackOfficeUser, _ csrf: String, query: String, notice: (String, Bool)?, issues: [String] = []) async throws -> String {
        let items = try await work.run { [store] in try store.searchProducts(query) }
        let choices = try await scopeChoices()
        var body = "<form method=\"get\" action=\"/catalog\" class=\"card\"><label for=\"q\">Find an item (SKU or description)</label>"
            + "<input type=\"text\" id=\"q\" name=\"q\" value=\"\(HTML.esc(query))\"><button type=\"submit\">Find</button></form>"
        body += "<table id=\"items\"><tr><th>SKU</th><th>Description</th><th>Category</th><th class=\"num\">Price</th><th></th></tr>"
        for p in items {
            body += "<tr><td>\(HTML.esc(p.sku))</td><td>\(HTML.esc(p.description))</td><td>\(HTML.esc(p.category))</td>"
                + "<td class=\"num\">\(Currency.eur.format(p.unitPrice))</td><td><a href=\"/catalog/item?sku=\(HTML.esc(p.sku.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))\">Change price</a></td></tr>"
        }
        body += "</table>"
        if items.isEmpty { body += "<p class=\"muted\">No item matches.</p>" }
        if Self.catalogEditors.contains(user.role) {
            if !issues.isEmpty {
                body += "<div class=\"notice error\" id=\"csv-issues\"><strong>Nothing was loaded.</strong><br>" + issues.map(HTML.esc).joined(separator: "<br>") + "</div>"
            }
            body += """
                <form method="post" action="/catalog/upload" enctype="multipart/form-data" class="card"><h2>Load a catalog file (CSV)</h2>\(HTML.csrfField(csrf))
                <p class="muted">Columns: \(CatalogCSV.columns.joined(separator: ", ")). Every row is checked first: one bad row and nothing is loaded. Changed prices are published to the tills.</p>
                <label for="file">File</label><input type="file" id="file" name="file" accept=".csv,text/csv">
                \(HTML.scopePicker(user: user, stores: choices.stores, groups: choices.groups, tills: choices.tills))
                <button type="submit" id="upload">Load and publish prices</button></form>
                """
        }
        return HTML.page("Catalog and prices", user: user, csrf: csrf, active: "/catalog", notice: notice, body)
    }

    func addCatalogPages(_ router: Router<HeadOfficeContext>) {
        router.get("/catalog") { request, _ -> Response in
            try await page(request) { user, csrf in
                html(.ok, try await catalogPage(user, csrf, query: request.uri.queryParameters["q"].map(String.init) ?? "", notice: nil))
            }
        }
        router.post("/catalog/upload") { request, _ -> Response in
            try await post(request, roles: Self.catalogEditors) { user, csrf, f in
                let text = f["file"] ?? ""
                let taxCodes = try await work.run { [store] in try store.taxCodes() }
                let (rows, issues) = CatalogCSV.parse(text, currency: .eur, taxCodes: taxCodes, rules: BarcodeRules())
                guard issues.isEmpty else {
                    return html(.unprocessableContent, try await catalogPage(user, csrf, query: "", notice: nil,
                                                                      issues: issues.prefix(50).map { "line \($0.line): \($0.message)" }))
                }
                guard !rows.isEmpty else {
                    return html(.unprocessableContent, try await catalogPage(user, csrf, query: "", notice: ("The file has no items.", true)))
                }
                do {
                    let (scope, at) = try publication(f, user: user)
                    let result = try await work.run { [store] () -> (Int, Int64?) in
                        var changes: [PriceChange] = []
                        for r in rows where try store.product(sku: r.product.sku)?.unitPrice != r.product.unitPrice {
                            changes.append(PriceChange(sku: r.product.sku, unitPrice: r.product.unitPrice))
                        }
                        // The chain's catalog changes only with a file for the chain; a file for a
                        // group, store or till publishes its prices there and leaves the chain's as
                        // they are (its items must be in the chain's catalog already).
                        if scope.kind == .chain { try store.importProducts(rows.map(\.product)) }
                        guard !changes.isEmpty else { return (0, nil) }
                        let pub = try store.publish(.prices, scope: scope, by: user.username, note: f["note"] ?? "Catalog file", effectiveAt: at, prices: changes)
                        return (changes.count, pub.version)
                    }
                    let text = "Loaded \(rows.count) items; " + (result.1.map { "\(result.0) price changes published as version \($0)." } ?? "no price changed.")
                    return html(.ok, try await catalogPage(user, csrf, query: "", notice: (text, false)))
                } catch let e as ForbiddenScope {
                    return html(.forbidden, HTML.page("Not allowed", user: user, csrf: csrf, notice: (e.message, true), ""))
                } catch let e as PublicationError {
                    return html(.unprocessableContent, try await catalogPage(user, csrf, query: "", notice: (e.description, true)))
                }
            }
        }
        router.get("/catalog/item") { request, _ -> Response in
            try await page(request) { user, csrf in
                let sku = request.uri.queryParameters["sku"].map(String.init) ?? ""
                guard let p = try await work.run({ [store] in try store.product(sku: sku) }) else {
                    return html(.notFound, HTML.page("Item", user: user, csrf: csrf, active: "/catalog", notice: ("No item has SKU '\(sku)'.", true), ""))
                }
                let choices = try await scopeChoices()
                let body = """
                    <form method="post" action="/catalog/item" class="card">\(HTML.csrfField(csrf))<input type="hidden" name="sku" value="\(HTML.esc(p.sku))">
                    <p><strong>\(HTML.esc(p.description))</strong> · SKU \(HTML.esc(p.sku)) · now \(Currency.eur.format(p.unitPrice))</p>
                    \(HTML.field("price", "New price (EUR)", Currency.eur.format(p.unitPrice), errors: [:]))
                    \(HTML.scopePicker(user: user, stores: choices.stores, groups: choices.groups, tills: choices.tills))
                    <button type="submit" id="change-price">Publish the price</button></form>
                    """
                return html(.ok, HTML.page("Change a price", user: user, csrf: csrf, active: "/catalog", body))
            }
        }
        router.post("/catalog/item") { request, _ -> Response in
            try await post(request) { user, csrf, f in
                let sku = f["sku"] ?? ""
                guard let price = Currency.eur.parse(f["price"] ?? ""), price >= 0 else {
                    return html(.unprocessableContent, HTML.page("Change a price", user: user, csrf: csrf, active: "/catalog",
                                                          notice: ("'\(f["price"] ?? "")' is not a price such as 1.99: nothing was published.", true), ""))
                }
                return try await publishing(user, csrf, title: "Change a price", active: "/catalog") {
                    let (scope, at) = try publication(f, user: user)
                    return try await work.run { [store] in
                        try store.publish(.prices, scope: scope, by: user.username, note: f["note"] ?? "", effectiveAt: at, prices: [PriceChange(sku: sku, unitPrice: price)])
                    }.version
                }
            }
        }
        router.get("/receipts") { request, _ -> Response in
            try await page(request) { user, csrf in
                let number = request.uri.queryParameters["number"].map(String.init) ?? ""
                var body = "<form method=\"get\" action=\"/receipts\" class=\"card\"><label for=\"number\">Receipt number</label>"
                    + "<input type=\"text\" id=\"number\" name=\"number\" value=\"\(HTML.esc(number))\" placeholder=\"0001-01-000042\"><button type=\"submit\">Show</button></form>"
                if !number.isEmpty {
                    let exists = try await work.run { [store] in try store.saleDocument(receipt: number, store: user.storeScope) != nil }
                    body += exists ? "<div class=\"card\"><img alt=\"Receipt \(HTML.esc(number))\" src=\"/receipts/svg?number=\(HTML.esc(number.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-"))) ?? ""))\" style=\"max-width:100%;border:1px solid #ccc;background:#fff\"></div>"
                        : "<div class=\"notice error\">Head office has no sale with receipt \(HTML.esc(number)) (yet: tills send their sales when the network allows).</div>"
                }
                return html(.ok, HTML.page("Receipts", user: user, csrf: csrf, active: "/receipts", body))
            }
        }
        router.get("/receipts/svg") { request, _ -> Response in
            guard let (user, _) = try await signedIn(request) else { return redirect("/login") }
            let number = request.uri.queryParameters["number"].map(String.init) ?? ""
            // The document is read on the database's pool; the drawing is done on the rendering
            // pool, so receipts being drawn never hold up ingest or /health.
            let found = try await work.run { [store] () -> (SaleDocument, HeadOfficeStore.ReceiptHeading)? in
                guard let doc = try store.saleDocument(receipt: number, store: user.storeScope) else { return nil }
                return (doc, try store.receiptHeading(doc))
            }
            guard let (doc, heading) = found else { return Response(status: .notFound) }
            let svg = try await rendering.run { try HeadOfficeStore.receiptSVG(doc, heading: heading) }
            return Response(status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "private, max-age=60"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: svg)))
        }
    }
}
