import Foundation
import TillCore
public import TillProtocol

/// One member in a list of search results.
public struct MemberSummary: Sendable, Equatable {
    public var id: String
    public var firstName: String
    public var lastName: String
    public var phone: String?
    public var email: String?
    public var postcode: String?
    /// The member's cards, active first.
    public var cards: [String]
    /// The sum of the member's cards' balances (points).
    public var balance: Int64
}

/// A page of search results and how many there are in all.
public struct CustomerSearchResult: Sendable, Equatable {
    public var query: String
    /// What the query was taken for (shown to the operator).
    public var kind: CustomerQuery.Kind
    public var total: Int
    public var page: Int
    public var pageSize: Int
    public var customers: [MemberSummary]
    public var pages: Int { max(1, (total + pageSize - 1) / pageSize) }
}

/// What customer service types into the search box, as head office reads it.
public struct CustomerQuery: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// A card number or a phone number (digits with any punctuation).
        case cardOrPhone = "card or phone"
        case email = "e-mail"
        case postcode
        case name
        case nothing
    }

    public var kind: Kind
    /// Digits (card, phone), the lower-cased e-mail, the postcode's key, or the names' keys.
    public var terms: [String]

    /// The last digits of a phone number compared: enough to tell members apart, and the same
    /// whether the number was written with its country code (+44 7700 900123) or without it
    /// (07700 900123).
    public static let phoneDigits = 9

    public init(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        let digits = t.filter(\.isASCIIDigit)
        let letters = t.contains { $0.isLetter }
        if t.isEmpty {
            self.init(kind: .nothing, terms: [])
        } else if t.contains("@") {
            self.init(kind: .email, terms: [t.lowercased()])
        } else if !letters && digits.count >= 4 && t.allSatisfy({ $0.isASCIIDigit || " +-()./".contains($0) }) {
            self.init(kind: .cardOrPhone, terms: [String(digits)])
        } else if letters && !digits.isEmpty {
            self.init(kind: .postcode, terms: [Self.postcodeKey(t)])
        } else {
            let words = t.split(whereSeparator: { $0 == " " || $0 == "," }).map { Self.nameKey(String($0)) }.filter { !$0.isEmpty }
            self.init(kind: words.isEmpty ? .nothing : .name, terms: Array(words.prefix(4)))
        }
    }

    init(kind: Kind, terms: [String]) {
        self.kind = kind
        self.terms = terms
    }

    /// A name as it is compared: lower-cased, accents and punctuation kept (Ö is not O).
    static func nameKey(_ s: String) -> String { s.trimmingCharacters(in: .whitespaces).lowercased() }
    /// A postcode as it is compared: upper-cased, without spaces.
    static func postcodeKey(_ s: String) -> String { s.uppercased().filter { $0 != " " } }
    /// A phone's digits, last first (so "ends with" is "starts with", a range on the index).
    static func phoneKey(_ s: String) -> String { String(s.filter(\.isASCIIDigit).reversed()) }
}

/// Everything the customer page shows of one member.
public struct CustomerProfile: Sendable {
    public struct Card: Sendable, Equatable {
        public var number: String, status: String, balance: Int64, tierCode: String?
        /// Head office holds its points (no till lets them be spent).
        public var pointsHeld = false
    }
    public struct Movement: Sendable, Equatable {
        public var at: Int64, card: String, kind: String, points: Int64, rule: String?, label: String?, saleID: String?, receipt: String?, storeID: String?
    }
    public struct Purchase: Sendable, Equatable {
        public var at: Int64, receipt: String, storeID: String, total: Int64, currency: String, card: String
    }
    public var summary: MemberSummary
    public var birthDate: String?
    public var marketingConsent: Bool
    public var registeredAt: String?
    public var registeredStore: String?
    public var cards: [Card]
    /// The newest movements first (at most `limit` of them), and how many there are in all.
    public var ledger: [Movement]
    public var ledgerCount: Int
    /// The member's last sales that moved points on one of their cards (a sale that earned and
    /// redeemed nothing is not on a card's ledger), newest first.
    public var purchases: [Purchase]
    /// Stores the member bought in, with how many sales.
    public var stores: [(store: String, sales: Int)]
    /// The member this one was merged into (it is kept, no longer found).
    public var mergedInto: String?
    /// The member's personal details were erased.
    public var erased: Bool
}

extension HeadOfficeStore {
    /// The most results a page shows, and the deepest page (beyond it, narrow the search).
    public static let customerPageSize = 25
    public static let maxCustomerPage = 400

    /// Writes the search keys of `ids` (all members when nil, a chunk at a time so that an
    /// upgrade of millions of members holds a few thousand rows at once) from `customers`.
    static func indexCustomers(_ ids: [String]?, _ c: any SQLConnection) throws {
        let columns = "SELECT id, first_name, last_name, phone, email, postcode FROM customers"
        if let ids {
            for start in stride(from: 0, to: ids.count, by: rowsPerStatement) {
                let chunk = ids[start..<min(ids.count, start + rowsPerStatement)]
                try writeSearchKeys(try c.query("\(columns) WHERE id IN (\(placeholders(chunk.count)))", chunk.map { .text($0) }), c)
            }
            return
        }
        var after = ""
        while true {
            let rows = try c.query("\(columns) WHERE id > ? ORDER BY id LIMIT 5000", [.text(after)])
            guard let last = rows.last else { return }
            try writeSearchKeys(rows, c)
            after = last.text("id")
        }
    }

    private static func writeSearchKeys(_ rows: [SQLRow], _ c: any SQLConnection) throws {
        let keys: [[SQLValue]] = rows.map { r in
            [.text(r.text("id")), .text(CustomerQuery.nameKey(r.text("first_name"))), .text(CustomerQuery.nameKey(r.text("last_name"))),
             SQLValue(r["phone"].text.map(CustomerQuery.phoneKey).flatMap { $0.isEmpty ? nil : $0 }),
             SQLValue(r["email"].text.map { $0.lowercased() }), SQLValue(r["postcode"].text.map(CustomerQuery.postcodeKey))]
        }
        try insertRows(c, "INSERT INTO customer_search (customer_id, first_key, last_key, phone_rev, email_key, postcode_key)", keys, suffix: """
            ON CONFLICT (customer_id) DO UPDATE SET first_key = excluded.first_key, last_key = excluded.last_key, phone_rev = excluded.phone_rev,
                email_key = excluded.email_key, postcode_key = excluded.postcode_key
            """)
    }

    /// Lists cards under their members, for the customer pages (a card's row names its member;
    /// this is the other way round, without an index on `cards` that every sale would write).
    static func linkCards(_ pairs: [(customer: String, card: String)], _ c: any SQLConnection) throws {
        try insertRows(c, "INSERT INTO member_cards (customer_id, number)", pairs.map { [.text($0.customer), .text($0.card)] }, suffix: "ON CONFLICT DO NOTHING")
    }

    /// The end of the range of keys that start with `prefix` (keys compare byte by byte).
    static func prefixEnd(_ prefix: String) -> String { prefix + "\u{10FFFF}" }

    /// Members matching what customer service typed: a card number (exact) or a phone's last
    /// digits, an e-mail (exact, any case), a postcode's start, or names (each word the start of
    /// the first or last name, in any order). Ordered by last name, first name; `page` from 1.
    public func searchCustomers(_ text: String, page: Int = 1) throws -> CustomerSearchResult {
        let q = CustomerQuery(String(text.prefix(200)))
        let size = Self.customerPageSize
        let page = min(max(1, page), Self.maxCustomerPage)
        var result = CustomerSearchResult(query: text, kind: q.kind, total: 0, page: page, pageSize: size, customers: [])
        var conditions: [String] = []
        var arguments: [SQLValue] = []
        switch q.kind {
        case .nothing:
            return result
        case .cardOrPhone:
            let digits = q.terms[0]
            let tail = CustomerQuery.phoneKey(String(digits.suffix(CustomerQuery.phoneDigits)))
            conditions.append("""
                s.customer_id IN (SELECT customer_id FROM cards WHERE number = ? AND customer_id IS NOT NULL
                                  UNION SELECT customer_id FROM customer_search WHERE phone_rev >= ? AND phone_rev < ?)
                """)
            arguments += [.text(digits), .text(tail), .text(Self.prefixEnd(tail))]
        case .email:
            conditions.append("s.email_key = ?")
            arguments.append(.text(q.terms[0]))
        case .postcode:
            conditions.append("s.postcode_key >= ? AND s.postcode_key < ?")
            arguments += [.text(q.terms[0]), .text(Self.prefixEnd(q.terms[0]))]
        case .name:
            for term in q.terms {
                conditions.append("((s.last_key >= ? AND s.last_key < ?) OR (s.first_key >= ? AND s.first_key < ?))")
                arguments += [.text(term), .text(Self.prefixEnd(term)), .text(term), .text(Self.prefixEnd(term))]
            }
        }
        let whereClause = conditions.joined(separator: " AND ")
        return try database.read { c in
            result.total = Int(try c.queryOne("SELECT COUNT(*) AS n FROM customer_search s WHERE \(whereClause)", arguments)?.int("n") ?? 0)
            // The matches first (on the key's index), then their order: walking the name index in
            // order and filtering each row would read every member for an e-mail or a phone.
            let rows = try c.query("""
                WITH found AS MATERIALIZED (SELECT s.customer_id, s.last_key, s.first_key FROM customer_search s WHERE \(whereClause))
                SELECT cu.id, cu.first_name, cu.last_name, cu.phone, cu.email, cu.postcode
                FROM found f JOIN customers cu ON cu.id = f.customer_id
                ORDER BY f.last_key, f.first_key, f.customer_id LIMIT ? OFFSET ?
                """, arguments + [.int(Int64(size)), .int(Int64((page - 1) * size))])
            let ids = rows.map { $0.text("id") }
            var cards: [String: [(String, String, Int64)]] = [:]
            if !ids.isEmpty {
                for r in try c.query("""
                    SELECT c.number, c.customer_id, c.status, c.balance FROM member_cards m JOIN cards c ON c.number = m.number AND c.customer_id = m.customer_id
                    WHERE m.customer_id IN (\(Self.placeholders(ids.count)))
                    """, ids.map { .text($0) }) {
                    cards[r.text("customer_id"), default: []].append((r.text("number"), r.text("status"), r.int("balance")))
                }
            }
            result.customers = rows.map { r in
                let mine = (cards[r.text("id")] ?? []).sorted { ($0.1 == "active" ? 0 : 1, $0.0) < ($1.1 == "active" ? 0 : 1, $1.0) }
                return MemberSummary(id: r.text("id"), firstName: r.text("first_name"), lastName: r.text("last_name"), phone: r["phone"].text,
                                       email: r["email"].text, postcode: r["postcode"].text, cards: mine.map(\.0),
                                       balance: mine.reduce(0) { $0 + $1.2 })
            }
            return result
        }
    }

    /// One member's page: details, cards, the ledger (newest first, at most `ledgerLimit`), the
    /// last purchases and the stores visited. Nil when head office has no such member.
    public func customerProfile(_ id: String, ledgerLimit: Int = 200, purchaseLimit: Int = 20) throws -> CustomerProfile? {
        try database.read { c in
            guard let r = try c.queryOne("SELECT * FROM customers WHERE id = ?", [.text(id)]) else { return nil }
            let cards = try c.query("""
                SELECT c.number, c.status, c.balance, c.tier_code, c.redemption_hold FROM member_cards m
                JOIN cards c ON c.number = m.number AND c.customer_id = m.customer_id
                WHERE m.customer_id = ? ORDER BY c.number
                """, [.text(id)]).map {
                CustomerProfile.Card(number: $0.text("number"), status: $0.text("status"), balance: $0.int("balance"), tierCode: $0["tier_code"].text,
                                     pointsHeld: $0["redemption_hold"].int != nil)
            }
            let numbers = cards.map { SQLValue.text($0.number) }
            var ledger: [CustomerProfile.Movement] = [], count = 0, purchases: [CustomerProfile.Purchase] = [], stores: [(String, Int)] = []
            if !numbers.isEmpty {
                let inCards = Self.placeholders(numbers.count)
                count = Int(try c.queryOne("SELECT COUNT(*) AS n FROM ledger WHERE card_number IN (\(inCards))", numbers)?.int("n") ?? 0)
                ledger = try c.query("""
                    SELECT l.created_at, l.card_number, l.kind, l.points, l.rule, l.label, l.sale_id, l.store_id,
                           COALESCE(s.receipt_number, r.receipt_number) AS receipt
                    FROM ledger l LEFT JOIN sales s ON s.sale_id = l.sale_id LEFT JOIN refunds r ON r.refund_id = l.sale_id
                    WHERE l.card_number IN (\(inCards)) ORDER BY l.created_at DESC, l.id DESC LIMIT ?
                    """, numbers + [.int(Int64(max(1, ledgerLimit)))]).map {
                    CustomerProfile.Movement(at: $0.int("created_at"), card: $0.text("card_number"), kind: $0.text("kind"), points: $0.int("points"),
                                             rule: $0["rule"].text, label: $0["label"].text, saleID: $0["sale_id"].text, receipt: $0["receipt"].text,
                                             storeID: $0["store_id"].text)
                }
                // A member's sales are found through their cards' ledger (indexed by card): an
                // index of sales by card would slow every sale head office takes in.
                let salesOfCards = "SELECT sale_id FROM ledger WHERE card_number IN (\(inCards)) AND sale_id IS NOT NULL"
                purchases = try c.query("""
                    SELECT completed_ms, receipt_number, store_id, total, currency, card_number FROM sales
                    WHERE sale_id IN (\(salesOfCards)) ORDER BY completed_ms DESC LIMIT ?
                    """, numbers + [.int(Int64(max(1, purchaseLimit)))]).map {
                    CustomerProfile.Purchase(at: $0.int("completed_ms"), receipt: $0.text("receipt_number"), storeID: $0.text("store_id"),
                                             total: $0.int("total"), currency: $0.text("currency"), card: $0.text("card_number"))
                }
                stores = try c.query("""
                    SELECT store_id, COUNT(*) AS n FROM sales WHERE sale_id IN (\(salesOfCards)) GROUP BY store_id ORDER BY n DESC, store_id
                    """, numbers).map { ($0.text("store_id"), Int($0.int("n"))) }
            }
            let summary = MemberSummary(id: id, firstName: r.text("first_name"), lastName: r.text("last_name"), phone: r["phone"].text,
                                          email: r["email"].text, postcode: r["postcode"].text, cards: cards.map(\.number),
                                          balance: cards.reduce(0) { $0 + $1.balance })
            return CustomerProfile(summary: summary, birthDate: r["birth_date"].text, marketingConsent: r.int("marketing_consent") != 0,
                                   registeredAt: r["registered_at"].text, registeredStore: r["store_id"].text, cards: cards, ledger: ledger,
                                   ledgerCount: count, purchases: purchases, stores: stores, mergedInto: r["merged_into"].text,
                                   erased: r["erased_at"].int != nil)
        }
    }

    /// A card's member's purchases in every store (all their cards), newest first, with each
    /// sale's item count; nil when the card is no member's.
    public func cardHistory(_ number: String, limit: Int = 10) throws -> CardHistory? {
        try database.read { c in
            guard let customer = try c.queryOne("SELECT customer_id FROM cards WHERE number = ?", [.text(number)])?["customer_id"].text else { return nil }
            let numbers = try c.query("SELECT number FROM member_cards WHERE customer_id = ?", [.text(customer)]).map { SQLValue.text($0.text("number")) }
            guard !numbers.isEmpty else { return CardHistory(purchases: [], offers: []) }
            let rows = try c.query("""
                SELECT receipt_number, store_id, completed_ms, total, document FROM sales
                WHERE sale_id IN (SELECT sale_id FROM ledger WHERE card_number IN (\(Self.placeholders(numbers.count))) AND sale_id IS NOT NULL)
                ORDER BY completed_ms DESC LIMIT ?
                """, numbers + [.int(Int64(limit))])
            return CardHistory(purchases: rows.map { r in
                let lines = (try? JSONDecoder().decode(SaleDocument.self, from: Data(r.text("document").utf8)))?.lines.filter { !$0.voided }.count ?? 0
                return CardHistory.Purchase(receiptNumber: r.text("receipt_number"), storeID: r.text("store_id"), completedAt: r.int("completed_ms"),
                                            total: r.int("total"), items: Int64(lines))
            }, offers: [])
        }
    }
}
