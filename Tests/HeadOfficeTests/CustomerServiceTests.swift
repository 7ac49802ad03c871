import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillStore
import TillSync
import TillTestSupport

/// Customer service finds members in head office (issue 15, its first part): by card, phone,
/// e-mail, name and postcode, paged with the true count, on both databases; a member's page.
@Suite("Customer service: finding members")
struct CustomerServiceTests {
    static func member(_ card: String, _ first: String, _ last: String, phone: String? = nil, email: String? = nil, postcode: String? = nil,
                       balance: Int64 = 0) -> CardRecord {
        CardRecord(number: card, status: "active",
                   member: Registration(cardNumber: card, firstName: first, lastName: last, phone: phone, email: email, postcode: postcode,
                                        birthDate: nil, marketingConsent: true, registeredAt: 1_795_000_000_000),
                   balance: balance, confirmedAt: nil, tierCode: nil, qualifying: 0)
    }

    static let members: [CardRecord] = [
        member("6006000000000001", "Anna", "Smirnova", phone: "+44 7700 900123", email: "Anna.S@Example.com", postcode: "SW1A 1AA", balance: 1_500),
        member("6006000000000002", "Boris", "Smith", phone: "07700 900456", email: "boris@example.com", postcode: "SW1A 2BB", balance: 20),
        member("6006000000000003", "Clara", "Jones", phone: "(0161) 496-0000", email: "clara@example.org", postcode: "M1 1AE"),
        member("6006000000000004", "Anna", "Jones", phone: "0161 496 0999", postcode: "M1 2AB"),
        member("6006000000000005", "Zoë", "Ölander", email: "zoe@example.org"),
    ] + (0..<30).map { i in member(String(format: "60060000000001%02d", i), "Sam \(i)", "Smithers", postcode: "EH1 \(i)AA") }

    static func store(_ backend: Backend, _ dir: TemporaryDirectory) throws -> HeadOfficeStore {
        let store = try HeadOfficeStore(database: try backend.makeDatabase(in: dir))
        try store.importProgramme(DemoCatalog.programme)
        try store.importCards(members)
        return store
    }

    static func names(_ r: CustomerSearchResult) -> [String] { r.customers.map { "\($0.firstName) \($0.lastName)" } }

    @Test(arguments: Backend.allCases)
    func membersAreFoundByEveryDetailCustomerServiceIsGiven(backend: Backend) throws {
        let dir = TemporaryDirectory("crm")
        let store = try Self.store(backend, dir)
        // A card number: exact.
        #expect(Self.names(try store.searchCustomers("6006000000000003")) == ["Clara Jones"])
        #expect(try store.searchCustomers("6006 0000 0000 0003").kind == .cardOrPhone)
        // A phone: any punctuation, with or without the country code.
        #expect(Self.names(try store.searchCustomers("07700 900123")) == ["Anna Smirnova"])
        #expect(Self.names(try store.searchCustomers("+44 (0)7700-900-123")) == ["Anna Smirnova"])
        #expect(Self.names(try store.searchCustomers("447700900456")) == ["Boris Smith"])
        #expect(Self.names(try store.searchCustomers("0161 4960000")) == ["Clara Jones"])
        // Fewer digits match the end of a number: both 0161 numbers end in ...0.
        #expect(Set(Self.names(try store.searchCustomers("4960999"))) == ["Anna Jones"])
        // An e-mail, any case.
        #expect(Self.names(try store.searchCustomers("anna.s@EXAMPLE.com")) == ["Anna Smirnova"])
        #expect(try store.searchCustomers("anna@example.com").total == 0)
        // Names: full, partial, in any order; accents kept.
        #expect(Self.names(try store.searchCustomers("Anna")) == ["Anna Jones", "Anna Smirnova"])
        #expect(Self.names(try store.searchCustomers("jones anna")) == ["Anna Jones"])
        #expect(Self.names(try store.searchCustomers("Smirnova, Anna")) == ["Anna Smirnova"])
        #expect(Self.names(try store.searchCustomers("an smi")) == ["Anna Smirnova"])
        #expect(Self.names(try store.searchCustomers("Zoë ölander")) == ["Zoë Ölander"])
        #expect(Self.names(try store.searchCustomers("smith")).first == "Boris Smith")
        // A postcode or its start, any spacing and case.
        #expect(Self.names(try store.searchCustomers("sw1a1aa")) == ["Anna Smirnova"])
        #expect(Self.names(try store.searchCustomers("SW1A")) == ["Anna Smirnova", "Boris Smith"])
        // The balance and cards come with each member.
        let anna = try #require(try store.searchCustomers("Smirnova").customers.first)
        #expect(anna.cards == ["6006000000000001"] && anna.balance == 1_500 && anna.phone == "+44 7700 900123")
        // Nothing, and text that is none of these.
        #expect(try store.searchCustomers("   ").total == 0)
        #expect(try store.searchCustomers("Nobody").total == 0)
    }

    @Test(arguments: Backend.allCases)
    func resultsArePagedWithTheTrueCount(backend: Backend) throws {
        let dir = TemporaryDirectory("crm-pages")
        let store = try Self.store(backend, dir)
        let first = try store.searchCustomers("smith")          // Smith and the 30 Smithers
        #expect(first.total == 31 && first.pages == 2 && first.customers.count == 25)
        let second = try store.searchCustomers("smith", page: 2)
        #expect(second.total == 31 && second.customers.count == 6)
        #expect(Set(first.customers.map(\.id)).isDisjoint(with: second.customers.map(\.id)))
        // A page past the end is empty but still says how many there are; a wild page is bounded.
        #expect(try store.searchCustomers("smith", page: 9).customers.isEmpty)
        #expect(try store.searchCustomers("smith", page: Int.max).page == HeadOfficeStore.maxCustomerPage)
        #expect(try store.searchCustomers("smith", page: -4).page == 1)
    }

    @Test(arguments: Backend.allCases)
    func aMembersPageHasTheirCardsLedgerPurchasesAndStores(backend: Backend) throws {
        let dir = TemporaryDirectory("crm-profile")
        let store = try makeHeadOffice(backend, dir)
        _ = try store.registerTill(till1)
        let t = try TillSide()
        t.generator = SaleGenerator(database: t.db, till: t.identity, cards: 1, seed: 21)
        try t.generator.ring(6)
        _ = try store.ingest(try t.batch(), from: till1)
        let card = DemoCatalog.cardNumber(1)
        let id = try #require(try store.searchCustomers(card).customers.first?.id)
        let p = try #require(try store.customerProfile(id))
        #expect(p.cards.map(\.number) == [card])
        #expect(p.summary.balance == (try store.balance(of: card)))
        // The ledger is every movement of the card, each with its rule and receipt, and sums to the balance.
        #expect(p.ledgerCount == p.ledger.count && p.ledger.reduce(0) { $0 + $1.points } == p.summary.balance)
        #expect(p.ledger.filter { $0.kind == "earn" }.allSatisfy { $0.rule != nil && $0.receipt?.hasPrefix("0001-01-") == true })
        // The purchases are the sales that moved the card's points, newest first.
        let moved = Set(p.ledger.compactMap(\.receipt))
        #expect(!moved.isEmpty && Set(p.purchases.map(\.receipt)) == moved)
        #expect(p.purchases.map(\.at) == p.purchases.map(\.at).sorted(by: >))
        #expect(p.stores.map(\.store) == ["0001"] && p.stores.first?.sales == moved.count)
        #expect(try store.customerProfile("no-such-member") == nil)
    }

    /// Members loaded before the search keys existed are found after the upgrade.
    @Test func membersOfAnOlderDatabaseAreIndexedWhenItIsUpgraded() throws {
        let dir = TemporaryDirectory("crm-upgrade")
        let database = try Backend.sqlite.makeDatabase(in: dir)
        let store = try HeadOfficeStore(database: database)
        try store.importCards(Self.members)
        try database.write { c in
            try c.execute("DROP TABLE customer_search", [])
            try c.execute("DROP TABLE member_cards", [])
            // Schemas 10 to 34 undone too (they come after, and run again).
            try c.execute("DROP INDEX ledger_bonus", [])
            try c.execute("DROP INDEX sales_completed", [])
            try c.execute("DROP INDEX refunds_created", [])
            try c.execute("DROP INDEX registrations_till_time", [])
            try c.execute("ALTER TABLE registrations DROP COLUMN registered_ms", [])
            try c.execute("DROP TABLE sales_to_roll", [])
            try c.execute("CREATE INDEX sales_unrolled ON sales (rolled) WHERE rolled = 0", [])
            for index in ["customers_phone", "customers_email"] { try c.execute("DROP INDEX \(index)", []) }
            for table in ["fraud_rules", "fraud_alerts", "fraud_notes", "fraud_evaluations", "baskets", "suggestion_runs", "suggestion_pairs", "challenge_events", "challenge_completions", "challenge_members", "referrals"] {
                try c.execute("DROP TABLE \(table)", [])
            }
            try c.execute("DROP INDEX customers_referral_code", [])
            try c.execute("ALTER TABLE customers DROP COLUMN referral_code", [])
            for index in ["ledger_created", "sales_unrolled", "refunds_store_time", "registrations_sale", "cards_customer"] { try c.execute("DROP INDEX \(index)", []) }
            for table in ["cashier_days", "store_hours", "basket_days", "expiry_notices", "card_days", "card_items", "member_rfm", "segments", "campaigns",
                          "campaign_members", "member_offers", "programme_months", "event_types", "member_events", "feedback"] { try c.execute("DROP TABLE \(table)", []) }
            for column in ["cashier", "items", "voids", "overrides", "discounts", "duration_ms", "paid_cash", "paid_card", "paid_points", "categories", "rolled",
                           "skus"] {
                try c.execute("ALTER TABLE sales DROP COLUMN \(column)", [])
            }
            for column in ["cashier", "created_ms"] { try c.execute("ALTER TABLE refunds DROP COLUMN \(column)", []) }
            for table in ["audit", "adjustments", "consent_texts", "consents", "options", "channels", "channel_orders", "reservations", "channel_requests",
                          "member_codes", "member_sessions", "webhooks", "webhook_deliveries",
                          "cashback_runs", "cashback_payouts", "partners", "settlements", "settlement_lines", "settlement_corrections"] {
                try c.execute("DROP TABLE \(table)", [])
            }
            try c.execute("ALTER TABLE cards DROP COLUMN replaced_by", [])
            try c.execute("ALTER TABLE cards DROP COLUMN redemption_hold", [])
            try c.execute("ALTER TABLE customers DROP COLUMN merged_into", [])
            try c.execute("ALTER TABLE customers DROP COLUMN erased_at", [])
            try c.execute("DELETE FROM schema_version WHERE version >= 9", [])
        }
        let reopened = try HeadOfficeStore(database: database)
        #expect(Self.names(try reopened.searchCustomers("jones anna")) == ["Anna Jones"])
        #expect(try reopened.searchCustomers("smith").total == 31)
    }

    /// Over HTTP: customer service and marketing find members; a store manager does not; customer
    /// service publishes nothing and does not open the tills' pages.
    @Test func customerServicePagesAreForTheirRolesOnly() async throws {
        let dir = TemporaryDirectory("crm-http")
        let store = try Self.store(.sqlite, dir)
        try store.saveUser("cora", role: .service, storeID: nil, password: "cora-secret-12")
        try store.saveUser("sam", role: .store, storeID: "0001", password: "sam-secret-12")
        let server = try await RunningServer(store)
        defer { Task { await server.stop() } }
        func get(_ path: String, as user: String, _ password: String) async throws -> HTTPAnswer {
            let (token, _) = try store.signIn(user, password: password)
            return try await onThread { try HTTPConnection().send("GET", server.url + path, headers: ["Cookie: bo_session=\(token)"], timeoutMilliseconds: 30_000) }
        }
        let found = try await get("/customers?q=jones+anna", as: "cora", "cora-secret-12")
        #expect(found.status == 200)
        #expect(found.text.contains("<strong>1</strong> member for name <q>jones anna</q>: page 1 of 1."), "\(found.text.suffix(1500))")
        #expect(found.text.contains("<a href=\"/customer?id=6006000000000004\">Jones, Anna</a>"))
        #expect(found.text.contains("<a href=\"/customers\" class=\"on\">Customers</a>") && !found.text.contains("href=\"/settings\""))
        let paged = try await get("/customers?q=smith&page=2", as: "cora", "cora-secret-12")
        #expect(paged.text.contains("<strong>31</strong> members for name <q>smith</q>: page 2 of 2.") && paged.text.contains("id=\"previous\""))
        let page = try await get("/customer?id=6006000000000001", as: "cora", "cora-secret-12")
        #expect(page.status == 200 && page.text.contains("<strong id=\"balance\">1500</strong>") && page.text.contains("Anna.S@Example.com"))
        #expect(try await get("/customer?id=nobody", as: "cora", "cora-secret-12").status == 404)
        #expect(try await get("/settings", as: "cora", "cora-secret-12").status == 403)
        #expect(try await get("/", as: "cora", "cora-secret-12").status == 303)   // to the customers' page
        #expect(try await get("/customers?q=anna", as: "sam", "sam-secret-12").status == 403)
        #expect(try await get("/customer?id=6006000000000001", as: "sam", "sam-secret-12").status == 403)
        // Customer service cannot publish, even with a good form.
        let (token, csrf) = try store.signIn("cora", password: "cora-secret-12")
        let post = try await onThread {
            try HTTPConnection().send("POST", server.url + "/settings", headers: ["Cookie: bo_session=\(token)", "Content-Type: application/x-www-form-urlencoded"],
                                      body: Array("csrf=\(csrf)&scope=chain&autoLockMinutes=3".utf8), timeoutMilliseconds: 30_000)
        }
        #expect(post.status == 403)
        #expect(try store.publications().isEmpty)
    }
}
