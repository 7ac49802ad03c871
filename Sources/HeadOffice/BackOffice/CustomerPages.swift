import Foundation
import Hummingbird
import TillCore
import TillProtocol

/// The customers' search page (the `customers` template).
struct CustomersPage: Sendable {
    struct Row: Sendable { var id: String, idQuery: String, name: String, cards: String, phone: String?, email: String?, postcode: String?, balance: Int64 }
    var frame: Frame
    var query: String, queryParam: String
    var searched: Bool
    var kind: String
    var total: Int, totalWord: String
    var page: Int, pages: Int
    var anyResults: Bool
    var customers: [Row]
    var previous: Int?, next: Int?
}

/// One member's page (the `customer` template).
struct CustomerPage: Sendable {
    struct Card: Sendable { var number: String, status: String, tier: String, balance: Int64 }
    struct Purchase: Sendable { var at: String, receipt: String, receiptQuery: String, storeID: String, card: String, total: String }
    struct Movement: Sendable { var at: String, card: String, kind: String, rule: String?, receipt: String?, receiptQuery: String, points: Int64 }
    struct Store: Sendable { var store: String, sales: Int }
    var frame: Frame
    var id: String, name: String
    var phone: String?, email: String?, postcode: String?, birthDate: String?, consent: String, registeredAt: String?, registeredStore: String?
    var balance: Int64, cardCount: Int
    var cards: [Card]
    var anyPurchases: Bool
    var purchases: [Purchase]
    var stores: [Store]
    var ledgerNote: String
    var ledger: [Movement]
}

extension HeadOfficeServer {
    static func queryParameter(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }

    /// Customer service's pages: find a member, and a member's page. For administrators,
    /// marketing and customer service; a store manager is refused (members are the chain's).
    func addCustomerPages(_ router: RouterGroup<HeadOfficeContext>) {
        router.get("/customers") { request, context -> Response in
            try await page(context, roles: BackOfficeRole.customerRoles) { session in
                let query = String(formField(request, "q").prefix(200))
                let wanted = Int(formField(request, "page")) ?? 1
                let frame = Frame("Customers", session: session, active: "/customers")
                guard !query.trimmingCharacters(in: .whitespaces).isEmpty else {
                    return render(.ok, "customers", CustomersPage(frame: frame, query: "", queryParam: "", searched: false, kind: "", total: 0, totalWord: "",
                                                                  page: 1, pages: 1, anyResults: false, customers: [], previous: nil, next: nil))
                }
                let r = try await work.run { [store] in try store.searchCustomers(query, page: wanted) }
                let rows = r.customers.map { c in
                    CustomersPage.Row(id: c.id, idQuery: Self.queryParameter(c.id), name: "\(c.lastName), \(c.firstName)", cards: c.cards.joined(separator: " "),
                                      phone: c.phone, email: c.email, postcode: c.postcode, balance: c.balance)
                }
                let lastPage = min(r.pages, HeadOfficeStore.maxCustomerPage)
                return render(.ok, "customers", CustomersPage(
                    frame: frame, query: query, queryParam: Self.queryParameter(query), searched: true, kind: r.kind.rawValue,
                    total: r.total, totalWord: r.total == 1 ? "member" : "members", page: r.page, pages: r.pages, anyResults: !rows.isEmpty,
                    customers: rows, previous: r.page > 1 ? r.page - 1 : nil, next: r.page < lastPage ? r.page + 1 : nil))
            }
        }
        router.get("/customer") { request, context -> Response in
            try await page(context, roles: BackOfficeRole.customerRoles) { session in
                let id = String(formField(request, "id").prefix(64))
                guard let p = try await work.run({ [store] in try store.customerProfile(id) }) else {
                    return message(.notFound, "Customer", session, active: "/customers", notice: ("Head office has no member '\(id)'.", true), back: "/customers")
                }
                let utc = TimeZone(identifier: "UTC")!
                func time(_ ms: Int64) -> String { ProtocolTime.format(ms, timeZone: utc) }
                let s = p.summary
                let currency = { (code: String) in Currency(code: code) ?? .eur }
                return render(.ok, "customer", CustomerPage(
                    frame: Frame("\(s.firstName) \(s.lastName)", session: session, active: "/customers"), id: s.id, name: "\(s.firstName) \(s.lastName)",
                    phone: s.phone, email: s.email, postcode: s.postcode, birthDate: p.birthDate, consent: p.marketingConsent ? "agreed" : "not agreed",
                    registeredAt: p.registeredAt, registeredStore: p.registeredStore, balance: s.balance, cardCount: p.cards.count,
                    cards: p.cards.map { .init(number: $0.number, status: $0.status, tier: $0.tierCode ?? "", balance: $0.balance) },
                    anyPurchases: !p.purchases.isEmpty,
                    purchases: p.purchases.map {
                        .init(at: time($0.at), receipt: $0.receipt, receiptQuery: Self.queryParameter($0.receipt), storeID: $0.storeID, card: $0.card,
                              total: currency($0.currency).format($0.total))
                    },
                    stores: p.stores.map { .init(store: $0.store, sales: $0.sales) },
                    ledgerNote: p.ledgerCount > p.ledger.count
                        ? "The newest \(p.ledger.count) of \(p.ledgerCount) movements." : "All \(p.ledgerCount) movements, newest first.",
                    ledger: p.ledger.map {
                        .init(at: time($0.at), card: $0.card, kind: $0.label ?? $0.kind, rule: $0.rule, receipt: $0.receipt,
                              receiptQuery: Self.queryParameter($0.receipt ?? ""), points: $0.points)
                    }))
            }
        }
    }
}
