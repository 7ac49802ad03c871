public import TillCore

/// A search with one page of its results on screen (customers at Ctrl-F, products at Ctrl-T):
/// what was keyed, the page, the selected result, and where the page starts in how many.
public struct PagedSearch<Item: Equatable & Sendable>: Equatable, Sendable {
    public var query = ""
    public var results: [Item] = []
    public var selected = 0
    /// The query the results are for (Enter on unchanged results takes the selected one).
    public var searchedFor: String?
    /// How many match in all, and where this page starts.
    public var total = 0
    public var offset = 0
    static var pageSize: Int { 20 }

    public init() {}

    /// What a key does to the search.
    enum Step {
        /// Typed, deleted or moved: the search as it is now.
        case changed(PagedSearch)
        /// Another page to fetch from `offset` (`last`: select its last result).
        case page(offset: Int, last: Bool)
        case refused(String)
    }

    /// Characters, Backspace, Up/Down (across pages), PgUp/PgDn; nil for any other key.
    func step(_ key: Key, maxLength: Int) -> Step? {
        var s = self
        var line = EntryLine(s.query)
        if line.edit(key, .text, limit: maxLength) != .notAnEdit {
            s.query = line.text
            return .changed(s)
        }
        switch key {
        case .up:
            if s.selected == 0 && s.offset > 0 { return .page(offset: s.offset - Self.pageSize, last: true) }
            s.selected = max(0, s.selected - 1)
            return .changed(s)
        case .down:
            if s.selected == s.results.count - 1 && s.offset + s.results.count < s.total { return .page(offset: s.offset + s.results.count, last: false) }
            s.selected = min(max(0, s.results.count - 1), s.selected + 1)
            return .changed(s)
        case .pageDown:
            guard s.offset + s.results.count < s.total else { return .refused("This is the last page") }
            return .page(offset: s.offset + Self.pageSize, last: false)
        case .pageUp:
            guard s.offset > 0 else { return .refused("This is the first page") }
            return .page(offset: s.offset - Self.pageSize, last: false)
        default:
            return nil
        }
    }

    /// The selected result, when Enter is on the results of what is keyed now.
    var chosen: Item? { searchedFor == query && results.indices.contains(selected) ? results[selected] : nil }

    /// A fetched page in place.
    func showing(_ page: [Item], total: Int, offset: Int, last: Bool) -> PagedSearch {
        var s = self
        s.results = page
        s.total = total
        s.offset = max(0, offset)
        s.selected = last ? max(0, page.count - 1) : 0
        s.searchedFor = s.query
        return s
    }

    /// "1-20 of 125 found" or "3 found".
    var foundText: String {
        total <= results.count ? "\(total) found" : "\(offset + 1)-\(offset + results.count) of \(total) found"
    }
}

/// The customer search (CRM at the till).
public typealias CustomerSearch = PagedSearch<CustomerSummary>

/// One customer, as the till knows them.
public struct CustomerDetail: Equatable, Sendable {
    public var summary: CustomerSummary
    public var customer: SaleCustomer
    public var purchases: [PurchaseSummary]
    /// The purchases are every store's (head office answered), not only this till's.
    public var chainWide: Bool = false
    public var offers: [String] = []
    public var nextTier: String?
    /// Where Esc goes back to.
    public var search: CustomerSearch?
}

extension TillController {
    // MARK: - Customer lookup

    func startCustomerSearch() {
        guard env.loyalty != nil, programme != nil else { return fail(Self.noProgramme) }
        entry.clear()
        mode = .customerSearch(CustomerSearch())
        message = Message(text: "Find a customer: key a card number, phone, e-mail or surname and Enter (or scan the card)", isError: false)
    }

    func customerSearchKey(_ key: Key, _ action: TillAction?, search: CustomerSearch) {
        switch search.step(key, maxLength: 60) {
        case .changed(let s):
            mode = .customerSearch(s)
            return
        case .page(let offset, let last): return searchPage(search, offset: offset, last: last)
        case .refused(let why): return fail(why)
        case nil: break
        }
        if key == .enter {
            if let chosen = search.chosen { return showCustomer(card: chosen.cardNumber, from: search) }
            guard !search.query.trimmedForCard.isEmpty else { return fail("Key a card number, phone, e-mail or name first") }
            return searchPage(search, offset: 0)
        }
        if action == .clear {
            mode = .selling
            message = nil
        } else {
            fail("Key what to search for and Enter; \(keymap.label(.clear)) goes back")
        }
    }

    /// Runs the search for one page of results and says how many match in all.
    func searchPage(_ search: CustomerSearch, offset: Int, last: Bool = false) {
        let q = search.query.trimmedForCard
        do {
            let found = try env.loyalty?.searchCustomers(q, limit: CustomerSearch.pageSize, offset: max(0, offset))
                ?? CustomerMatches(results: [], total: 0)
            let search = search.showing(found.results, total: found.total, offset: offset, last: last)
            mode = .customerSearch(search)
            if found.results.isEmpty {
                fail("No customer matches '\(q)': check the spelling, add the first name, or try the phone number or e-mail")
            } else if found.total <= found.results.count {
                message = Message(text: "\(found.total) found: Up/Down to choose, Enter to open", isError: false)
            } else {
                message = Message(
                    text: "\(search.offset + 1)-\(search.offset + found.results.count) of \(found.total) found: PgDn/PgUp for more, or add the first name; Enter opens",
                    isError: false)
            }
        } catch {
            fail("\(error)")
        }
    }

    /// Opens a customer by card number (scanned, keyed or chosen from the search).
    func showCustomer(card raw: String, from search: CustomerSearch? = nil) {
        guard let programme, let directory = env.loyalty else { return fail(Self.noProgramme) }
        do {
            let number = try cardNumber(from: raw, programme)
            guard case .member(let c) = try directory.lookupCard(number, programme: programme, now: env.now()) else {
                return fail(CardError.unknown(number).description)
            }
            let summary = try directory.searchCustomers(number, limit: 1).first
                ?? CustomerSummary(cardNumber: number, name: c.name, phone: nil, email: nil, status: "active")
            let history = try directory.history(card: number, limit: 10)
            var next: String?
            if let n = programme.nextTier(after: c.qualifying) {
                next = "\(programme.tierQualification.basis == .spend ? currency.format(n.needed) : "\(n.needed) points") more to reach \(n.tier.name)"
            }
            mode = .customerDetail(CustomerDetail(summary: summary, customer: c, purchases: history.purchases, chainWide: history.chainWide,
                                                  offers: history.offers, nextTier: next, search: search))
            message = Message(text: "Enter: this customer for the sale; \(keymap.label(.clear)): back", isError: false)
        } catch {
            fail("\(error)")
        }
    }

    func customerDetailKey(_ key: Key, _ action: TillAction?, detail: CustomerDetail) {
        if key == .enter {
            mode = .selling
            identifyCard(detail.customer.cardNumber)
            return
        }
        if action == .clear {
            if let s = detail.search {
                mode = .customerSearch(s)
                message = nil
            } else {
                mode = .selling
                message = nil
            }
            return
        }
        fail("Enter uses this customer for the sale; \(keymap.label(.clear)) goes back")
    }

    /// The customer line on the sale screen, e.g. "Anna Ivanova | Gold | 1234 pts | this sale +45".
    public var customerLine: String? {
        guard let c = displayedBasket?.customer else { return nil }
        var parts = ["Card \(LoyaltyCardNumber.masked(c.cardNumber).suffix(9))", c.name]
        if let t = c.tierName { parts.append(t) }
        parts.append("\(c.balance) pts\(c.provisional ? "*" : "")")
        if c.registration != nil { parts.append("NEW") }
        let offers = c.offers.filter { $0.uses > 0 && $0.isValid(at: env.now(), store: settings.identity.storeID) }.count
        if offers > 0 { parts.append("\(offers) offer\(offers == 1 ? "" : "s")") }
        if let a = projectedAward(), displayedBasket?.activeLines.isEmpty == false { parts.append("this sale +\(a.total)") }
        parts += challengeProgress().map { $0.line(currency: currency) }
        return parts.joined(separator: " | ")
    }

    /// The member's progress in the challenges this sale counts in, with the sale as it is now
    /// (after it: as it was completed).
    public func challengeProgress() -> [ChallengeProgress] {
        if case .receipt(let r) = mode, sale == nil { return r.sale.loyalty?.challenges ?? [] }
        guard let b = displayedBasket, let c = b.customer, let programme, !programme.challenges.isEmpty else { return [] }
        return programme.challengeProgress(lines: b.challengeLines, saleID: sale?.id ?? "", customer: c, time: env.localTime(env.now()))
    }
}
