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

/// One member's page (the `customer` template), with customer service's actions.
struct CustomerPage: Sendable {
    struct Card: Sendable { var number: String, status: String, tier: String, balance: Int64 }
    struct Purchase: Sendable { var at: String, receipt: String, receiptQuery: String, storeID: String, card: String, total: String }
    struct Movement: Sendable { var at: String, card: String, kind: String, rule: String?, receipt: String?, receiptQuery: String, points: Int64 }
    struct Store: Sendable { var store: String, sales: Int }
    struct Consent: Sendable { var givenAt: String, what: String, version: String, consentText: String, channel: String, recordedBy: String }
    struct Audit: Sendable { var at: String, user: String, action: String, card: String, reasonLabel: String, note: String, detail: String }
    struct Waiting: Sendable { var adjustmentID: Int64, card: String, points: Int64, reasonLabel: String, note: String, requestedBy: String, at: String, mine: Bool }
    struct Reason: Sendable { var value: String, label: String }
    var frame: Frame
    var id: String, idQuery: String, name: String
    var phone: String?, email: String?, postcode: String?, birthDate: String?, consent: String, registeredAt: String?, registeredStore: String?
    var balance: Int64, cardCount: Int
    var cards: [Card]
    var anyPurchases: Bool
    var purchases: [Purchase]
    var stores: [Store]
    var ledgerNote: String
    var ledger: [Movement]
    var consents: [Consent]
    var audit: [Audit]
    var anyAudit: Bool
    var waiting: [Waiting]
    var anyWaiting: Bool
    /// Customer service and administrators act; marketing reads.
    var canAct: Bool
    /// Merged into another member, or erased: nothing more is done here.
    var closedNote: String?
    var mergedInto: String?
    var reasons: [Reason]
    var detailFields: [FieldView]
    var usableCards: [String]
    var consentGranted: Bool
    var approvalPoints: Int64
    /// The tier of the member's active card and what the next one needs.
    var tierLine: String?
}

/// The fields of customer service's forms (each form sends those it has).
struct ServiceForm: Decodable, Sendable {
    var id: String?
    var reason: String?
    var note: String?
    var card: String?
    var status: String?
    var newCard: String?
    var points: String?
    var other: String?
    var granted: String?
    var forfeit: String?
    var confirm: String?
    var decision: String?
    var adjustment: String?
    var firstName: String?, lastName: String?, phone: String?, email: String?, postcode: String?, birthDate: String?
}

extension HeadOfficeServer {
    static func queryParameter(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }

    /// Who acts on members (the others with a customer page only read it).
    static let serviceActors: Set<BackOfficeRole> = [.admin, .service]

    /// What a successful action says on the member's page it returns to.
    static let doneNotices: [String: String] = [
        "details": "The details were corrected.", "adjusted": "The points were adjusted.",
        "waiting": "The adjustment is above the approval threshold: it waits for another user to approve it.",
        "approved": "The adjustment was approved and is on the ledger.", "refused": "The adjustment was refused: nothing changed.",
        "blocked": "The card is blocked: the tills refuse it within seconds.", "active": "The card is active again.",
        "lost": "The card is reported lost: the tills refuse it within seconds.",
        "hold": "The card's points are held: no till lets them be spent from within seconds; the card still earns.",
        "release": "The card's points can be spent again.",
        "replaced": "The new card carries the balance and tier: the old card is refused at every till within seconds.",
        "merged": "The other member was merged into this one.", "consent": "The consent was recorded.",
        "erased": "The member's personal details were erased; the ledger keeps its movements.",
    ]

    /// Customer service's pages: find a member, a member's page and its actions, the adjustments
    /// waiting for approval. For administrators, marketing (reading) and customer service; a
    /// store manager is refused (members are the chain's).
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
                let done = Self.doneNotices[formField(request, "done")]
                return try await customerPage(session, id: id, notice: done.map { ($0, false) })
            }
        }
        router.get("/customer/export") { request, context -> Response in
            try await page(context, roles: Self.serviceActors) { session in
                let id = String(formField(request, "id").prefix(64))
                do {
                    let json = try await work.run { [store] in
                        let data = try store.exportMember(id)
                        try store.noteExport(id, by: session.user.username)
                        return data
                    }
                    let name = "member-" + id.filter { $0.isLetter || $0.isNumber || $0 == "-" } + ".json"
                    return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store",
                                                           .contentDisposition: "attachment; filename=\"\(name)\""],
                                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: json)))
                } catch let e as ServiceError {
                    return message(.notFound, "Export", session, active: "/customers", notice: (e.description, true), back: "/customers")
                }
            }
        }
        router.get("/approvals") { _, context -> Response in
            try await page(context, roles: Self.serviceActors) { session in
                let (waiting, threshold) = try await work.run { [store] in (try store.pendingAdjustments(), try store.approvalPoints()) }
                return render(.ok, "approvals", ApprovalsPage(
                    frame: Frame("Approvals", session: session, active: "/approvals"), threshold: threshold,
                    waiting: waiting.map { Self.waitingRow($0, me: session.user.username) }, anyWaiting: !waiting.isEmpty))
            }
        }
        for action in ["details", "adjust", "adjustment", "card", "replace", "merge", "consent", "erase"] {
            router.post("/customer/\(action)") { _, context -> Response in
                try await post(context, roles: Self.serviceActors) { session, form in
                    let f = try form.decode(ServiceForm.self)
                    let id = String((f.id ?? "").prefix(64))
                    do {
                        let done = try await work.run { [store] in try Self.act(action, f, id: id, by: session.user.username, store) }
                        if action == "adjustment" && f.other == "approvals" { return redirect("/approvals") }
                        return redirect("/customer?id=\(Self.queryParameter(done.id))&done=\(done.notice)")
                    } catch let e as ServiceError {
                        if action == "adjustment" && f.other == "approvals" {
                            return message(.unprocessableContent, "Approvals", session, active: "/approvals", notice: (e.description, true), back: "/approvals")
                        }
                        return try await customerPage(session, id: id, notice: (e.description, true), status: .unprocessableContent)
                    }
                }
            }
        }
    }

    static func waitingRow(_ a: PendingAdjustment, me: String) -> CustomerPage.Waiting {
        CustomerPage.Waiting(adjustmentID: a.id, card: a.card, points: a.points, reasonLabel: ServiceReason(rawValue: a.reason)?.label ?? a.reason,
                             note: a.note, requestedBy: a.requestedBy, at: ProtocolTime.format(a.requestedAt, timeZone: TimeZone(identifier: "UTC")!),
                             mine: a.requestedBy == me)
    }

    /// One of customer service's actions, from its form: the member's page to go back to, and what to say there.
    static func act(_ action: String, _ f: ServiceForm, id: String, by user: String, _ store: HeadOfficeStore) throws -> (id: String, notice: String) {
        func reason() throws -> ServiceReason {
            guard let r = ServiceReason(rawValue: f.reason ?? "") else { throw ServiceError("Choose the reason for this from the list") }
            return r
        }
        let note = f.note ?? "", card = (f.card ?? "").filter { !$0.isWhitespace }
        switch action {
        case "details":
            try store.correctDetails(id, MemberDetails(firstName: f.firstName ?? "", lastName: f.lastName ?? "", phone: f.phone ?? "", email: f.email ?? "",
                                                       postcode: f.postcode ?? "", birthDate: f.birthDate ?? ""), by: user, reason: try reason(), note: note)
            return (id, "details")
        case "adjust":
            let text = (f.points ?? "").trimmingCharacters(in: .whitespaces)
            guard let points = Int64(text.hasPrefix("+") ? String(text.dropFirst()) : text) else {
                throw ServiceError("Points '\(text.prefix(40))' is not a whole number: key e.g. 250 to add or -250 to take")
            }
            switch try store.adjustPoints(card: card, points: points, by: user, reason: try reason(), note: note) {
            case .applied: return (id, "adjusted")
            case .awaitingApproval: return (id, "waiting")
            }
        case "adjustment":
            guard let n = Int64(f.adjustment ?? ""), ["approve", "refuse"].contains(f.decision ?? "") else {
                throw ServiceError("Choose approve or refuse for an adjustment")
            }
            let member = try store.pendingAdjustments().first { $0.id == n }?.customerID ?? id
            _ = try store.decideAdjustment(n, approve: f.decision == "approve", by: user)
            return (member, f.decision == "approve" ? "approved" : "refused")
        case "card":
            let status = f.status ?? ""
            if status == "hold" || status == "release" {
                try store.setRedemptionHold(card, held: status == "hold", by: user, reason: try reason(), note: note)
                return (id, status)
            }
            try store.setCardStatus(card, to: status, by: user, reason: try reason(), note: note)
            return (id, status)
        case "replace":
            try store.replaceCard(card, with: (f.newCard ?? "").filter { !$0.isWhitespace }, by: user, reason: try reason(), note: note)
            return (id, "replaced")
        case "merge":
            let other = (f.other ?? "").trimmingCharacters(in: .whitespaces)
            guard !other.isEmpty else { throw ServiceError("Key the member number of the other member (from their page) to merge into this one") }
            try store.mergeMembers(other, into: id, by: user, reason: try reason(), note: note)
            return (id, "merged")
        case "consent":
            try store.recordConsent(id, granted: f.granted == "yes", channel: "customer service", by: user, reason: try reason(), note: note)
            return (id, "consent")
        case "erase":
            guard (f.confirm ?? "").trimmingCharacters(in: .whitespaces) == id else {
                throw ServiceError("To erase, key the member number \(id) in the confirmation box: nothing was erased")
            }
            try store.eraseMember(id, by: user, reason: try reason(), note: note, forfeit: f.forfeit == "yes")
            return (id, "erased")
        default:
            throw ServiceError("There is no action '\(action)'")
        }
    }

    /// A member's page, with a notice (an action's outcome).
    func customerPage(_ session: BackOfficeSession, id: String, notice: (String, Bool)?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let loaded = try await work.run { [store] in
            try store.customerProfile(id).map { p in
                (p, try store.consentHistory(customer: id), try store.auditTrail(customer: id), try store.pendingAdjustments(customer: id), try store.approvalPoints(),
                 try Self.tierLine(p, store))
            }
        }
        guard let (p, consents, audit, waiting, threshold, tierLine) = loaded else {
            return message(.notFound, "Customer", session, active: "/customers", notice: ("Head office has no member '\(id)'.", true), back: "/customers")
        }
        let utc = TimeZone(identifier: "UTC")!
        func time(_ ms: Int64) -> String { ProtocolTime.format(ms, timeZone: utc) }
        let s = p.summary
        let currency = { (code: String) in Currency(code: code) ?? .eur }
        let closedNote: String? = p.mergedInto.map { "This member was merged into member \($0): act on that member." }
            ?? (p.erased ? "This member's personal details were erased: only the ledger's movements are kept." : nil)
        let usable = p.cards.filter { $0.status != "replaced" && $0.status != "closed" }
        let canAct = Self.serviceActors.contains(session.user.role) && closedNote == nil
        return render(status, "customer", CustomerPage(
            frame: Frame("\(s.firstName) \(s.lastName)", session: session, active: "/customers", notice: notice), id: s.id,
            idQuery: Self.queryParameter(s.id), name: "\(s.firstName) \(s.lastName)",
            phone: s.phone, email: s.email, postcode: s.postcode, birthDate: p.birthDate, consent: p.marketingConsent ? "agreed" : "not agreed",
            registeredAt: p.registeredAt, registeredStore: p.registeredStore, balance: s.balance, cardCount: p.cards.count,
            cards: p.cards.map {
                .init(number: $0.number, status: $0.status + ($0.pointsHeld ? ", points held" : ""), tier: $0.tierCode ?? "", balance: $0.balance)
            },
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
            },
            consents: consents.reversed().map {
                .init(givenAt: $0.givenAt, what: "\($0.purpose): \($0.granted ? "agreed" : "withdrawn")", version: $0.textVersion ?? "",
                      consentText: $0.text ?? "", channel: $0.channel, recordedBy: $0.recordedBy ?? "the member")
            },
            audit: audit.map {
                .init(at: time($0.at), user: $0.user, action: $0.action, card: $0.card.map(LoyaltyCardNumber.masked) ?? "",
                      reasonLabel: ServiceReason(rawValue: $0.reason)?.label ?? $0.reason, note: $0.note, detail: $0.detail)
            },
            anyAudit: !audit.isEmpty,
            waiting: waiting.map { Self.waitingRow($0, me: session.user.username) }, anyWaiting: !waiting.isEmpty,
            canAct: canAct, closedNote: closedNote, mergedInto: p.mergedInto,
            reasons: ServiceReason.allCases.map { .init(value: $0.rawValue, label: $0.label) },
            detailFields: [
                FieldView("firstName", "First name", s.firstName), FieldView("lastName", "Last name", s.lastName),
                FieldView("phone", "Phone", s.phone ?? ""), FieldView("email", "E-mail", s.email ?? ""),
                FieldView("postcode", "Postcode", s.postcode ?? ""), FieldView("birthDate", "Born (YYYY-MM-DD)", p.birthDate ?? ""),
            ],
            usableCards: usable.map(\.number), consentGranted: p.marketingConsent, approvalPoints: threshold, tierLine: tierLine))
    }

    /// "Silver · 900.00 more spend to reach Gold" for the member's active card.
    static func tierLine(_ p: CustomerProfile, _ store: HeadOfficeStore) throws -> String? {
        guard let active = p.cards.first(where: { $0.status == "active" }), let card = try store.cardStatus(active.number, pending: []) else { return nil }
        let t = try store.tierProgress(qualifying: card.card.qualifying, tierCode: card.card.tierCode)
        var parts = [t.tierName ?? "No tier yet"]
        if let next = t.nextTierName, let needed = t.needed {
            parts.append(t.basis == "spend" ? "\((Currency(code: t.currency) ?? .eur).format(needed)) more spend to reach \(next)" : "\(needed) more points to reach \(next)")
        }
        return parts.joined(separator: " · ")
    }
}

/// The adjustments waiting for a second person (the `approvals` template).
struct ApprovalsPage: Sendable {
    var frame: Frame
    var threshold: Int64
    var waiting: [CustomerPage.Waiting]
    var anyWaiting: Bool
    /// The decide partial's forms come back here.
    var fromApprovals = true
}
