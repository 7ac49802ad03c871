import ESCPOS
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Receipts
import TillCore
import TillDocuments
import TillProtocol

/// The catalog page: a search, its items, and (for editors) the file upload.
struct CatalogPage: Sendable {
    struct Item: Sendable { var sku: String, description: String, category: String, price: String, skuQuery: String }
    var frame: Frame
    var query: String
    var items: [Item]
    var mayUpload: Bool
    var issues: [String], anyIssues: Bool
    var columns: String
    var scopes: [ScopeOption]
}

struct CatalogItemPage: Sendable {
    var frame: Frame
    var sku: String, description: String, price: String
    var priceField: FieldView
    var scopes: [ScopeOption]
}

struct ReceiptsPage: Sendable {
    var frame: Frame
    var number: String, numberQuery: String
    var found: Bool, missing: Bool
}

extension HeadOfficeServer {
    static let catalogEditors: Set<BackOfficeRole> = [.admin, .marketing]

    func catalogPage(_ status: HTTPResponse.Status, _ session: BackOfficeSession, query: String, notice: (String, Bool)?,
                     issues: [String] = []) async throws -> Response {
        let items = try await work.run { [store] in try store.searchProducts(query) }
        let mayUpload = Self.catalogEditors.contains(session.user.role)
        return render(status, "catalog", CatalogPage(
            frame: Frame("Catalog and prices", session: session, active: "/catalog", notice: notice), query: query,
            items: items.map { p in
                .init(sku: p.sku, description: p.description, category: p.category, price: Currency.eur.format(p.unitPrice),
                      skuQuery: p.sku.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            },
            mayUpload: mayUpload, issues: issues, anyIssues: !issues.isEmpty, columns: CatalogCSV.columns.joined(separator: ", "),
            scopes: mayUpload ? try await scopes(for: session.user) : []))
    }

    struct PriceForm: Decodable {
        var sku: String?
        var price: String?
    }

    func addCatalogPages(_ router: RouterGroup<HeadOfficeContext>) {
        router.get("/catalog") { request, context -> Response in
            try await page(context) { session in
                try await catalogPage(.ok, session, query: formField(request, "q"), notice: nil)
            }
        }
        router.post("/catalog/upload") { _, context -> Response in
            try await post(context, roles: Self.catalogEditors) { session, f in
                let user = session.user
                let text = f["file"] ?? ""
                let taxCodes = try await work.run { [store] in try store.taxCodes() }
                let (rows, issues) = CatalogCSV.parse(text, currency: .eur, taxCodes: taxCodes, rules: BarcodeRules())
                guard issues.isEmpty else {
                    return try await catalogPage(.unprocessableContent, session, query: "", notice: nil,
                                                 issues: issues.prefix(50).map { "line \($0.line): \($0.message)" })
                }
                guard !rows.isEmpty else {
                    return try await catalogPage(.unprocessableContent, session, query: "", notice: ("The file has no items.", true))
                }
                do {
                    let fields = PublishFields(f)
                    let (scope, at) = try publication(fields, user: user)
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
                        let pub = try store.publish(.prices, scope: scope, by: user.username, note: fields.note ?? "Catalog file", effectiveAt: at, prices: changes)
                        return (changes.count, pub.version)
                    }
                    let text = "Loaded \(rows.count) items; " + (result.1.map { "\(result.0) price changes published as version \($0)." } ?? "no price changed.")
                    return try await catalogPage(.ok, session, query: "", notice: (text, false))
                } catch let e as ForbiddenScope {
                    return message(.forbidden, "Not allowed", session, notice: (e.message, true))
                } catch let e as PublicationError {
                    return try await catalogPage(.unprocessableContent, session, query: "", notice: (e.description, true))
                }
            }
        }
        router.get("/catalog/item") { request, context -> Response in
            try await page(context) { session in
                let sku = formField(request, "sku")
                guard let p = try await work.run({ [store] in try store.product(sku: sku) }) else {
                    return message(.notFound, "Item", session, active: "/catalog", notice: ("No item has SKU '\(sku)'.", true))
                }
                let price = Currency.eur.format(p.unitPrice)
                return render(.ok, "catalog-item", CatalogItemPage(
                    frame: Frame("Change a price", session: session, active: "/catalog"), sku: p.sku, description: p.description, price: price,
                    priceField: FieldView("price", "New price (EUR)", price), scopes: try await scopes(for: session.user)))
            }
        }
        router.post("/catalog/item") { _, context -> Response in
            try await post(context) { session, posted in
                let f = try posted.decode(PriceForm.self)
                let sku = f.sku ?? ""
                guard let price = Currency.eur.parse(f.price ?? ""), price >= 0 else {
                    return message(.unprocessableContent, "Change a price", session, active: "/catalog",
                                   notice: ("'\(f.price ?? "")' is not a price such as 1.99: nothing was published.", true))
                }
                let fields = try posted.decode(PublishFields.self)
                return try await publishing(session, title: "Change a price", active: "/catalog") {
                    let (scope, at) = try publication(fields, user: session.user)
                    return try await work.run { [store] in
                        try store.publish(.prices, scope: scope, by: session.user.username, note: fields.note ?? "", effectiveAt: at,
                                          prices: [PriceChange(sku: sku, unitPrice: price)])
                    }.version
                }
            }
        }
        router.get("/receipts") { request, context -> Response in
            try await page(context, roles: Set(BackOfficeRole.allCases)) { session in
                let number = formField(request, "number")
                let exists = number.isEmpty ? false
                    : try await work.run { [store] in try store.saleDocument(receipt: number, store: session.user.storeScope) != nil }
                return render(.ok, "receipts", ReceiptsPage(
                    frame: Frame("Receipts", session: session, active: "/receipts"), number: number,
                    numberQuery: number.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-"))) ?? "",
                    found: exists, missing: !number.isEmpty && !exists))
            }
        }
        router.get("/receipts/svg") { request, context -> Response in
            guard let user = context.identity?.user else { return redirect("/login") }
            let number = formField(request, "number")
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
