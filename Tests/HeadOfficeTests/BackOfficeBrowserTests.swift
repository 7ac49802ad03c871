import Foundation
import HeadOffice
import PrivateServers
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillTestSupport

/// The back office served by a real `headoffice serve`, driven in real headless Chromium
/// (Selenium and chromedriver), with real tills in tmux.
@Suite("The back office in headless Chromium", .serialized)
struct BackOfficeBrowserTests {
    static let script = PackagePaths.root + "/Tests/HeadOfficeTests/Browser/backoffice.py"
    static let screenshots = PackagePaths.root + "/docs/screenshots"

    static func drive(_ args: [String]) throws -> [String: Any] {
        let r = try runProcess("/usr/bin/python3", [script] + args, environment: ["HOME": NSTemporaryDirectory(), "LANG": "C.UTF-8"])
        guard r.status == 0, let line = r.stdout.split(separator: "\n").last,
              let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw SpawnError(message: "backoffice.py \(args.first ?? "") failed (\(r.status)): \(r.stderr.prefix(1800))")
        }
        return json
    }

    /// Head office with the demo, three accounts and tills 0001/01 and 0002/01, serving.
    static func headOffice(_ dir: TemporaryDirectory) throws -> HeadOfficeProcess {
        let ho = try HeadOfficeProcess(.sqlite, dir: dir)
        for (name, role, store, password) in [("anna", "marketing", nil, "anna-secret-1"), ("sam", "store", "0001", "sam-secret-12"),
                                              ("lock-me", "store", "0001", "lock-me-secret")] as [(String, String, String?, String)] {
            let file = dir.write("\(name).pw", password)
            try ho.admin(["user", "add", name, "--role", role, "--password-file", file] + (store.map { ["--store", $0] } ?? []))
        }
        return ho
    }

    @Test func signInChangeTheEarnRatePreviewPublishToOneStoreAndItsTillEarnsByIt() throws {
        let dir = TemporaryDirectory("bo-browser")
        let ho = try Self.headOffice(dir)
        try ho.start()
        let mine = try TillProcess(headOffice: ho, storeID: "0001")
        let other = try TillProcess(headOffice: ho, storeID: "0002")
        let env = ["LANG": "C.UTF-8", "TZ": "UTC"]
        let a = try Tmux(command: mine.command, width: 100, height: 30, environment: env)
        let b = try Tmux(command: other.command, width: 100, height: 30, environment: env)
        try PublicationTmuxTests.signOn(a)
        try PublicationTmuxTests.signOn(b)
        try ho.store().waitForPoll(of: mine.credential)
        try ho.store().waitForPoll(of: other.credential)

        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        let r = try Self.drive(["publish", ho.url, Self.screenshots])
        #expect((r["unsigned"] as? String)?.hasSuffix("/login") == true)
        #expect(r["before"] as? String == "1")
        #expect((r["saved"] as? String)?.hasPrefix("Draft saved") == true)
        // The preview is the tills' engine on the draft: milk 1.19 and 2 pens 2.98 at 3 points per 1.00.
        var triple = DemoCatalog.programme
        triple.version = "bo-triple"
        triple.earn.pointsPerUnit = 3
        var basket = Basket(currency: .eur)
        for (p, q) in [(DemoCatalog.featured[1], Int64(1)), (DemoCatalog.featured[0], 2)] {
            try basket.apply(.addLine(item: LineItem(sku: p.sku, description: p.description, category: p.category, taxCode: p.taxCode,
                                                     taxBasisPoints: 0, unitPrice: p.unitPrice, quantity: .units(q))))
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let expected = triple.award(for: basket, context: EarnContext(time: LocalDateTime(minutes: now / 60_000), storeID: "", tierCode: triple.tiers.first?.code))
        #expect(r["preview_total"] as? String == expected.total.description)
        let diff = r["diff"] as? [String] ?? []
        #expect(diff.contains("earn.pointsPerUnit 1 3"))
        #expect(diff.contains("challenges[0].name — Coffee challenge"), "\(diff)")
        #expect(diff.contains { $0.hasPrefix("version ") && $0.hasSuffix(" bo-triple") })
        #expect((r["after_publish"] as? String)?.contains("/rollout?published=1") == true)
        #expect((r["overflow"] as? [String: Bool])?.isEmpty == true, "pages wider than the window: \(r["overflow"] ?? "")")
        // Customer service's search, typed in the browser (the space reaches head office as "+").
        #expect((r["customers_count"] as? String)?.hasPrefix("1 member for name") == true, "\(r["customers_count"] ?? "")")
        #expect(r["customers_rows"] as? [String] == ["M1"])
        #expect(r["customer_balance"] as? String == "1500")
        #expect(r["customer_cards"] as? [String] == [DemoCatalog.cardNumber(1)])
        let rollout = r["rollout"] as? [String: String] ?? [:]
        #expect(rollout["0001/01"]?.hasPrefix("0001/01 v1 v1 0") == true, "\(rollout)")
        #expect(rollout["0002/01"]?.hasPrefix("0002/01 v0 v0 0") == true, "\(rollout)")

        // The till of store 0001 took it between sales; its next sale earns by the new rate.
        try a.waitUntil(timeout: 15, "config version 1 on the status bar") { $0.contains("Config v1") || $0.contains("Cfg v1") }
        try a.send("5012345678900", "Enter")
        try a.waitFor("Milk 1L")
        try a.send("F5")
        try a.waitFor("LOYALTY CARD")
        try a.send(DemoCatalog.cardNumber(1), "Enter")
        try a.waitFor("this sale")
        try a.send("F6")
        try a.waitFor("0001-01-000001 complete")
        let sales = try JSONDecoder().decode([SaleDocument].self, from: Data(try mine.run(["export", "sales", "--format", "json"]).utf8))
        #expect(sales.first?.loyalty?.programmeVersion == "bo-triple")
        #expect(sales.first?.loyalty?.earned.first { $0.rule == "base" }?.points == 3)
        // The challenge came with the programme: coffee counts, on the customer line and the receipt.
        try a.send("4000000000013", "Enter")
        try a.waitFor("Coffee beans 500g")
        try a.send("F5")
        try a.waitFor("LOYALTY CARD")
        try a.send(DemoCatalog.cardNumber(1), "Enter")
        try a.waitFor("Coffee challenge 1 of 3")
        try a.send("F6")
        try a.waitFor("0001-01-000002 complete")
        #expect(try mine.run(["receipt", "0001-01-000002"]).contains("Coffee challenge 1 of 3"))
        try a.send("Escape")
        // The other store's till did not change.
        let otherScreen = try b.screen()
        #expect((otherScreen.contains("Config v0") || otherScreen.contains("Cfg v0")) && !otherScreen.contains("bo-triple"))
        // README's picture of the till, from this run.
        let shot = dir.write("till.txt", try a.screen())
        _ = try Self.drive(["till-shot", shot, Self.screenshots + "/till.png"])
        #expect(FileManager.default.fileExists(atPath: Self.screenshots + "/till.png"))
        #expect(FileManager.default.fileExists(atPath: Self.screenshots + "/backoffice-rollout.png"))
        try a.send("F12"); try a.send("C-q")
        try b.send("F12"); try b.send("C-q")
    }

    /// Customer service in the browser: every action on a member, each on the audit trail; a large
    /// adjustment approved by a second user; a lost card replaced; a duplicate merged; an export
    /// and an erasure; marketing reads the page without the forms.
    @Test func customerServiceActsOnAMemberAndEveryActionIsAudited() throws {
        let dir = TemporaryDirectory("bo-service")
        let ho = try Self.headOffice(dir)
        for (name, password) in [("cora", "cora-secret-12"), ("mia", "mia-secret-123")] {
            try ho.admin(["user", "add", name, "--role", "service", "--password-file", dir.write("\(name).pw", password)])
        }
        try ho.start()
        let stock = DemoCatalog.cardNumber(DemoCatalog.firstStockCard)
        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        let r = try Self.drive(["service", ho.url, stock, Self.screenshots])
        func page(_ key: String) -> [String: Any] { r[key] as? [String: Any] ?? [:] }
        #expect((r["landing"] as? String)?.hasSuffix("/customers") == true)
        #expect(page("start")["balance"] as? String == "1500")
        #expect(r["adjust_small"] as? String == "The points were adjusted.")
        #expect(page("after_small")["balance"] as? String == "1620")
        #expect((r["adjust_large"] as? String)?.hasPrefix("The adjustment is above the approval threshold") == true)
        #expect(page("after_large")["balance"] as? String == "1620")
        #expect((page("after_large")["waiting"] as? [String])?.first?.contains("another user approves") == true)
        #expect((r["details_bad"] as? String)?.contains("'not-an-email'") == true, "\(r["details_bad"] ?? "")")
        #expect(r["details"] as? String == "The details were corrected." && r["name"] as? String == "Anna Ivanova-Smith")
        #expect(page("after_opt_out")["consent"] as? String == "not agreed" && page("after_opt_out")["consents"] as? Int == 2)
        let card = DemoCatalog.cardNumber(1)
        #expect((page("after_block")["cards"] as? [String: String])?[card] == "blocked")
        #expect((r["replace"] as? String)?.hasPrefix("The new card carries the balance") == true, "\(r["replace"] ?? "")")
        #expect(page("after_replace")["cards"] as? [String: String] == [card: "replaced", stock: "active"])
        #expect(page("after_replace")["balance"] as? String == "1620")
        #expect(r["export_type"] as? String == "application/json" && (r["export_disposition"] as? String)?.contains("member-M1.json") == true)
        #expect(r["export_member"] as? String == "Ivanova-Smith")
        #expect(r["export_sections"] as? [String] == ["audit", "cards", "consents", "exported_at", "ledger", "member", "refunds", "sales"])
        #expect((r["approvals"] as? [String])?.first?.contains("900") == true)
        #expect(r["after_approve"] as? String == "No adjustment is waiting.")
        #expect(page("after_approval")["balance"] as? String == "2520")
        #expect(r["merge"] as? String == "The other member was merged into this one.")
        #expect((page("after_merge")["cards"] as? [String: String])?.count == 3 && page("after_merge")["balance"] as? String == "5020")
        #expect((r["erase_refused"] as? String)?.contains("holds 300 points") == true, "\(r["erase_refused"] ?? "")")
        #expect((r["erase"] as? String)?.hasPrefix("The member's personal details were erased") == true)
        #expect(r["erased_name"] as? String == "Erased member" && r["erased_forms"] as? Int == 0)
        let audit = page("after_merge")["audit"] as? [String] ?? []
        #expect(audit == ["merge", "adjust-approved", "export", "replace-card", "unblock", "block", "opt-out", "correct-details", "adjust-requested", "adjust"],
                "\(audit)")
        #expect(r["marketing_forms"] as? Int == 0 && r["marketing_balance"] as? String == "5020")
        #expect((r["overflow"] as? [String: Any])?.isEmpty == true, "\(r["overflow"] ?? "")")
        // Head office's ledger agrees with the balances after all of it.
        let store = try ho.store()
        let bad = try store.database.read { c in
            try c.queryOne("SELECT COUNT(*) AS n FROM cards c WHERE c.balance <> COALESCE((SELECT SUM(points) FROM ledger l WHERE l.card_number = c.number), 0)", [])?.int("n")
        }
        #expect(bad == 0)
        // The adjustment asked for on the old card was approved after the replacement: it is on the new card.
        #expect(try store.cardStatus(stock, pending: [])?.card.balance == 2_520 && (try store.cardStatus(card, pending: [])?.card.balance) == 0)
    }

    /// The coalition's pages with a mouse: a partner added (a wrong rate refused first) and one
    /// renamed; October's settlement read, closed and corrected; a statement as CSV. Every figure
    /// on the page is checked against the test's own SQL over the ledger.
    @Test func marketingAddsAPartnerAndClosesAMonthWhoseFiguresAreTheLedgers() throws {
        let dir = TemporaryDirectory("bo-coalition")
        let ho = try Self.headOffice(dir)
        let store = try ho.store()
        _ = try CoalitionTests.generateMonth(store)
        try ho.start()
        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        let r = try Self.drive(["coalition", ho.url, Self.screenshots])
        let money = Currency.eur
        #expect((r["nav"] as? [String])?.contains("Settlement") == true)
        #expect(r["partners"] as? [String] == ["chain", "bank", "books", "cafe", "fuel"])
        #expect((r["bad_rate"] as? String)?.contains("'abc'") == true && r["kept"] as? String == "Farmers Market", "\(r["bad_rate"] ?? "")")
        #expect((r["added"] as? String)?.hasPrefix("Partner market added.") == true)
        let key = try #require(r["key"] as? String)
        #expect(key.hasPrefix("ch.market."), "\(r)")
        #expect(try store.authenticateChannel("Bearer " + key).name == "market")
        #expect(try store.partner("market") == Partner(id: "market", name: "Farmers Market", kind: .retailer, earnPoints: 2, earnUnit: 500,
                                                       multipliers: ["organic": 3], issueRate: 110, redeemRate: 95))
        #expect(r["editing_id_readonly"] as? Bool == true && r["renamed"] as? String == "Partner books saved.")
        #expect((r["partners_after"] as? [String: String])?["books"]?.contains("Book Nook and Co") == true)
        // The test's own SQL over October's ledger.
        let october = CoalitionTests.october
        func sum(_ condition: String) throws -> Int64 { try CoalitionTests.ledgerSum(store, october, where: condition) }
        let issuedKinds = "kind IN ('earn', 'welcome', 'return-earn', 'reversal')"
        let redeemedKinds = "kind IN ('redeem', 'return-redeem', 'reserve', 'release', 'channel-refund')"
        let open = try #require(r["open"] as? [String: [String: Any]])
        #expect(Set(open.keys) == ["chain", "bank", "books", "cafe", "fuel", "market"])
        for p in try store.partners() {
            let source = p.kind == .chain ? "till_id IS NOT NULL" : "store_id = '\(p.id)' AND till_id IS NULL"
            let issued = try sum("\(source) AND \(issuedKinds)"), redeemed = try sum("\(source) AND \(redeemedKinds)")
            let lines = open[p.id]?["lines"] as? [String: [String]]
            #expect(lines?["issued"] == [String(issued), money.format((issued * p.issueRate + 50) / 100)], "\(p.id) issued")
            #expect(lines?["redeemed"] == [String(redeemed), money.format(-((-redeemed * p.redeemRate + 50) / 100))], "\(p.id) redeemed")
            #expect(p.id == "market" ? issued == 0 : issued > 0)
        }
        let payouts = try store.database.read { c in
            try c.queryOne("SELECT SUM(points) AS p, SUM(amount) AS a FROM cashback_payouts WHERE created_at >= ? AND created_at < ?",
                           [.int(october.start), .int(october.end)])!
        }
        #expect((open["bank"]?["lines"] as? [String: [String]])?["cashback"] == [String(-payouts.int("p")), money.format(-payouts.int("a"))])
        let ledger = try sum("1 = 1")
        #expect(r["ledger_points"] as? String == String(ledger) && r["statement_points"] as? String == String(ledger))
        #expect((r["check"] as? String)?.hasSuffix("equal.") == true && (r["state_open"] as? String)?.hasPrefix("Open") == true)
        // Closed as shown; a correction to it goes on November's statement.
        #expect(r["closed_notice"] as? String == "The period is closed: its statements will not change.")
        let closed = try #require(r["closed"] as? [String: [String: Any]])
        for (id, s) in open { #expect(closed[id]?["lines"] as? [String: [String]] == s["lines"] as? [String: [String]] && closed[id]?["closed"] as? Bool == true) }
        #expect((r["state_closed"] as? String)?.hasPrefix("Closed") == true && r["close_form_after"] as? Int == 0)
        #expect(r["corrected"] as? String == "The correction is recorded: it goes on the partner's next statement closed.")
        #expect(r["november_period"] as? String == "2026-11")
        let novemberCafe = (r["november"] as? [String: [String: Any]])?["cafe"]?["lines"] as? [String: [String]]
        #expect(novemberCafe?["correction"]?.last == money.format(-1_250), "\(novemberCafe ?? [:])")
        let cafeIssued = try sum("store_id = 'cafe' AND till_id IS NULL AND \(issuedKinds)")
        #expect((r["csv"] as? String)?.contains("cafe,2026-10,1,issued,Points issued by Corner Cafe,\(cafeIssued),1.00,") == true, "\(r["csv"] ?? "")")
        #expect((r["csv_type"] as? String)?.hasPrefix("text/csv") == true)
        #expect((r["store_manager"] as? String)?.contains("cannot open this page") == true, "\(r["store_manager"] ?? "")")
        let closedBy = try store.database.read { c in
            try c.queryOne("SELECT closed_by FROM settlements WHERE partner = 'cafe' AND period = '2026-10'", [])?.text("closed_by")
        }
        #expect(closedBy == "anna")
    }

    /// Every report in Chromium for October 2026 (two stores' tills with varied sales and
    /// refunds, a partner's orders): each table equal to the test's own SQL over the sales,
    /// refunds, orders and cards; the chart drawn; the CSV; a store manager kept to their store.
    @Test func everyReportShowsWhatTheTestsOwnSQLSays() throws {
        let dir = TemporaryDirectory("bo-reports")
        let ho = try Self.headOffice(dir)
        let store = try ho.store()
        _ = try ReportsTests.generate(store)
        let cafe = try store.authenticateChannel("Bearer " + (try #require(try store.savePartner(CoalitionTests.retailers[0]))))
        for i in 0..<12 {
            _ = try store.channelEarn(EarnRequest(cardNumber: DemoCatalog.cardNumber(5 + i % 6), orderID: "o\(i)", amount: Int64(300 + 70 * i),
                                                  category: i % 3 == 0 ? "coffee" : "cake"), channel: cafe, at: CoalitionTests.day(3 + i))
        }
        try ho.start()
        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        let r = try Self.drive(["reports", ho.url, Self.screenshots])
        let money = Currency.eur
        let october = ReportsTests.october
        func table(_ kind: String, _ id: String) -> [[String]] { (r[kind] as? [String: [[String]]])?[id] ?? [] }
        func rows(_ sql: String, _ args: [SQLValue] = []) throws -> [SQLRow] { try store.database.read { c in try c.query(sql, args) } }
        let range: [SQLValue] = [.int(october.start), .int(october.end)]
        // Sales and tenders by store, by day, by hour.
        let refunds = Dictionary(uniqueKeysWithValues: try rows("SELECT store_id, COUNT(*) AS n, SUM(total) AS t FROM refunds WHERE created_ms >= ? AND created_ms < ? GROUP BY store_id", range)
            .map { ($0.text("store_id"), ($0.int("n"), $0.int("t"))) })
        let stores = try rows("""
            SELECT store_id, COUNT(*) AS n, SUM(total) AS t, SUM(paid_cash) AS cash, SUM(paid_card) AS card, SUM(paid_points) AS points, SUM(discounts) AS d,
                SUM(voids) AS v, SUM(overrides) AS o FROM sales WHERE completed_ms >= ? AND completed_ms < ? GROUP BY store_id ORDER BY store_id
            """, range).map {
            [$0.text("store_id"), String($0.int("n")), money.format($0.int("t")), money.format($0.int("cash")), money.format($0.int("card")),
             money.format($0.int("points")), money.format($0.int("d")), String($0.int("v")), String($0.int("o")),
             String(refunds[$0.text("store_id")]?.0 ?? 0), money.format(refunds[$0.text("store_id")]?.1 ?? 0)]
        }
        #expect(stores.count == 2 && table("sales", "stores") == stores, "\(table("sales", "stores"))")
        let days = try rows("""
            SELECT store_id, completed_ms / 86400000 AS d, COUNT(*) AS n, SUM(total) AS t, SUM(items) AS i FROM sales WHERE completed_ms >= ? AND completed_ms < ?
            GROUP BY store_id, completed_ms / 86400000 ORDER BY store_id, d
            """, range).map { [$0.text("store_id"), String(ProtocolTime.format($0.int("d") * 86_400_000, timeZone: TimeZone(identifier: "UTC")!).prefix(10)), String($0.int("n")), money.format($0.int("t")), String($0.int("i"))] }
        #expect(days.count >= 3 && table("sales", "days") == days)
        var hours = (0..<24).map { ["\($0 < 10 ? "0" : "")\($0):00", "0", money.format(0)] }
        for h in try rows("SELECT completed_ms / 3600000 % 24 AS h, COUNT(*) AS n, SUM(total) AS t FROM sales WHERE completed_ms >= ? AND completed_ms < ? GROUP BY completed_ms / 3600000 % 24", range) {
            hours[Int(h.int("h"))] = [hours[Int(h.int("h"))][0], String(h.int("n")), money.format(h.int("t"))]
        }
        #expect(table("sales", "hours") == hours)
        #expect(r["sales_chart"] as? Bool == true && r["cashiers_chart"] as? Bool == true && r["baskets_chart"] as? Bool == true)
        // The sales assistants.
        let refundsByCashier = Dictionary(uniqueKeysWithValues: try rows("""
            SELECT store_id || '/' || cashier AS k, COUNT(*) AS n FROM refunds WHERE created_ms >= ? AND created_ms < ? GROUP BY store_id || '/' || cashier
            """, range).map { ($0.text("k"), $0.int("n")) })
        func hundredths(_ v: Int64) -> String { "\(v / 100).\(v % 100 < 10 ? "0" : "")\(v % 100)" }
        let cashiers = try rows("""
            SELECT store_id, cashier, COUNT(*) AS n, SUM(total) AS t, SUM(items) AS i, SUM(duration_ms) AS ms, SUM(CASE WHEN card_number IS NULL THEN 0 ELSE 1 END) AS carded,
                SUM(voids) AS v, SUM(overrides) AS o, SUM(CASE WHEN EXISTS (SELECT 1 FROM registrations r WHERE r.sale_id = sales.sale_id) THEN 1 ELSE 0 END) AS e
            FROM sales WHERE completed_ms >= ? AND completed_ms < ? GROUP BY store_id, cashier ORDER BY store_id, cashier
            """, range).map {
            let n = $0.int("n"), t = $0.int("t")
            return [$0.text("store_id"), $0.text("cashier"), String(n), money.format(t), money.format(t / n), hundredths($0.int("i") * 6_000_000 / $0.int("ms")),
                    hundredths($0.int("carded") * 10_000 / n), String($0.int("e")), String($0.int("v")), String(refundsByCashier[$0.text("store_id") + "/" + $0.text("cashier")] ?? 0),
                    String($0.int("o"))]
        }
        #expect(cashiers.count == 5 && table("cashiers", "cashiers") == cashiers, "\(table("cashiers", "cashiers"))")
        #expect(cashiers.reduce(0) { $0 + Int($1[7])! } >= 3, "new members enrolled at the tills")
        // The baskets: the chain's sales by category (the test reads each sale's categories itself) and the cafe's orders.
        var cells: [String: [Int64]] = [:]
        for s in try rows("SELECT categories, card_number FROM sales WHERE completed_ms >= ? AND completed_ms < ?", range) {
            for part in s.text("categories").split(separator: ";") {
                let kv = part.split(separator: "=")
                let key = "chain|\(kv[0])", member = s["card_number"].text != nil
                var v = cells[key] ?? [0, 0, 0, 0]
                v[member ? 0 : 2] += Int64(kv[1])!
                v[member ? 1 : 3] += 1
                cells[key] = v
            }
        }
        for o in try rows("SELECT category, SUM(amount) AS a, COUNT(*) AS n FROM channel_orders WHERE channel = 'cafe' AND occurred_at >= ? AND occurred_at < ? GROUP BY category", range) {
            cells["cafe|\(o.text("category"))"] = [o.int("a"), o.int("n"), 0, 0]
        }
        let baskets = cells.keys.sorted().map { k -> [String] in
            let p = k.split(separator: "|").map(String.init), v = cells[k]!
            return [p[0], p[1], money.format(v[0]), String(v[1]), money.format(v[2]), String(v[3])]
        }
        #expect(table("baskets", "baskets") == baskets, "\(table("baskets", "baskets"))")
        // The liability, and no Z report sent.
        let outstanding = try rows("SELECT SUM(balance) AS n FROM cards WHERE balance > 0 AND status IN ('active', 'blocked', 'lost')")[0].int("n")
        #expect(table("liability", "liability").first?.first == String(outstanding))
        #expect(!table("liability", "liability-months").isEmpty && table("zreports", "zreports").isEmpty)
        // One store chosen with the mouse; the CSV; a store manager's scope.
        #expect(table("one_store", "stores") == stores.filter { $0[0] == "0002" })
        #expect((r["csv"] as? String)?.hasPrefix("cashiers,Store,Cashier,Sales,Total,Average check,") == true && (r["csv_type"] as? String)?.hasPrefix("text/csv") == true)
        #expect((r["csv"] as? String)?.contains("cashiers,0002,21,\(cashiers.last![2]),") == true)
        #expect(table("manager", "stores") == stores.filter { $0[0] == "0001" }, "\(r["manager"] ?? "")")
        #expect((r["manager_kinds"] as? [String]).map(Set.init) == ["Sales and tenders", "Sales assistants", "Cashier risk", "Z reports"])
        // Cashier risk: the same figures, each cashier against their store's norm.
        let risk = CashierRisk.rank(try store.cashierReport(october))
        #expect(table("risk", "risk").map { [$0[0], $0[1], $0[2]] } == risk.map { [$0.store, $0.cashier, String($0.sales)] }, "\(table("risk", "risk"))")
        #expect((r["manager_baskets"] as? String)?.contains("whole chain") == true)
    }

    /// The segments pages with a mouse: the members scored, a segment built of a category
    /// bought OR an RFM cell, the count after each change equal to the store's own count of the
    /// same conditions, a wrong postcode refused with what to do, the segment saved, listed and
    /// its members downloaded.
    @Test func marketingBuildsASegmentWithTheMouseAndSeesItsCount() throws {
        let dir = TemporaryDirectory("bo-segments")
        let ho = try Self.headOffice(dir)
        let store = try ho.store()
        _ = try SegmentTests.history(store)
        try ho.start()
        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        let r = try Self.drive(["segments", ho.url, Self.screenshots])
        let members = try store.segmentCount(SegmentDefinition())
        #expect(r["never_scored"] as? Bool == true)
        #expect(r["scored"] as? String == "\(members) members scored: the cells below are up to date.", "\(r["scored"] ?? "")")
        let cells = try store.rfmCells().cells
        #expect(r["cells"] as? [String: String] == Dictionary(uniqueKeysWithValues: cells.map { ($0.0.rawValue, String($0.1)) }))
        #expect(r["all"] as? String == String(members))
        let dairy = SegmentCondition(.category, text: "Dairy", days: 400), champions = SegmentCondition(.rfm, text: "champions")
        let dairyCount = try store.segmentCount(SegmentDefinition(groups: [SegmentGroup(conditions: [dairy])]))
        let either = SegmentDefinition(match: .any, groups: [SegmentGroup(conditions: [dairy]), SegmentGroup(conditions: [champions])])
        let eitherCount = try store.segmentCount(either)
        #expect(dairyCount > 0 && dairyCount < members && eitherCount > dairyCount, "the conditions each change the count")
        #expect(r["dairy"] as? String == String(dairyCount))
        #expect(r["conditions_1"] as? [String] == ["bought in category Dairy in the last 400 days"])
        #expect(r["joiner"] as? String == "or")
        #expect(r["either"] as? String == String(eitherCount))
        #expect(r["conditions_2"] as? [String] == ["RFM cell is champions"])
        #expect((r["bad_postcode"] as? String)?.contains("'75%'") == true, "\(r["bad_postcode"] ?? "")")
        #expect(r["after_bad"] as? String == String(eitherCount), "a refused condition changes nothing")
        #expect(r["saved"] as? String == "Saved 'Dairy or champions' as version 1: \(eitherCount) members now.", "\(r["saved"] ?? "")")
        #expect(r["removed"] as? String == String(dairyCount))
        #expect(r["listed"] as? [[String]] == [["Dairy or champions", "1", String(eitherCount)]])
        let saved = try #require(try store.segmentVersions("dairy-or-champions").first)
        #expect(saved.definition == either)
        let csv = (r["csv"] as? String ?? "").split(separator: "\r\n")
        #expect(csv.count == Int(eitherCount) + 1 && csv.first?.hasPrefix("member,first_name") == true)
    }

    /// The campaign pages with a mouse: a wrong holdout refused (the form kept), a campaign
    /// with a 20% holdout created for a saved segment, sent through a real SMTP server and seen
    /// to the end with its figures equal to what the database holds; a second one scheduled for
    /// later, paused and resumed.
    @Test func marketingCreatesACampaignWithAHoldoutAndWatchsItSend() throws {
        let dir = TemporaryDirectory("bo-campaigns")
        let smtp = try SMTPSink(dir: dir)
        let ho = try HeadOfficeProcess(.sqlite, dir: dir, cards: 200)
        for (name, role, password) in [("anna", "marketing", "anna-secret-1")] {
            try ho.admin(["user", "add", name, "--role", role, "--password-file", dir.write("\(name).pw", password)])
        }
        ho.serveArguments = ["--config", dir.write("headoffice.toml", """
            [mail]
            relay = "\(smtp.relay)"
            from = "Demo Rewards <rewards@example.com>"
            public_url = "\(ho.url)"
            """)]
        let store = try ho.store()
        _ = try CampaignTests.everyone(store)
        // A month of baskets from the demo range, pairs planted, for the Suggestions page.
        try store.importProducts(DemoCatalog.products(count: 300))
        var baskets = DemoBaskets(items: 200, seed: 5)
        let today = HeadOfficeStore.now() / 86_400_000
        try store.loadSyntheticBaskets((0..<6_000).map { (today - 29 + Int64($0 / 200), "0001", baskets.next()) })
        try ho.start()
        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        let r = try Self.drive(["campaigns", ho.url, Self.screenshots])
        #expect(r["empty"] as? Bool == true && r["mail_note"] as? Bool == false)
        #expect((r["refused"] as? String)?.contains("0% to 50%") == true, "\(r["refused"] ?? "")")
        #expect(r["kept_name"] as? String == "Coffee week")
        #expect((r["created"] as? String)?.hasPrefix("The campaign is created") == true)
        let c = try #require(try store.campaign("coffee-week"))
        #expect(c.holdoutBP == 2_000 && c.state == .sent && c.targeted + c.heldOut == 200)
        #expect(r["state"] as? String == "sent" && r["targeted"] as? String == String(c.targeted) && r["held_out"] as? String == String(c.heldOut))
        let p = try store.campaignProgress("coffee-week")
        #expect(r["states"] as? [String: String] == p.byState.mapValues(String.init), "\(r["states"] ?? "")")
        #expect(smtp.messages().count == Int(p.byState["sent"] ?? -1) && (p.byState["sent"] ?? 0) > 30)
        #expect(r["scheduled"] as? String == "scheduled" && r["paused"] as? String == "paused" && r["resumed"] as? String == "scheduled")
        #expect((r["paused_notice"] as? String)?.hasPrefix("Paused") == true)
        #expect(r["listed"] as? [String: String] == ["coffee-week": "sent", "next-month": "scheduled"])
        #expect(r["channels"] as? String == "both")
        #expect((r["one_thing"] as? String)?.contains("An offer gives one thing") == true && r["kept_percent"] as? String == "10", "\(r["one_thing"] ?? "")")
        #expect(r["offer"] as? String == "10% off dairy: 10% off on Dairy when you spend 5.00, 3 times per member", "\(r["offer"] ?? "")")
        let next = try #require(try store.campaign("next-month")?.offer)
        #expect(next.percentOffBP == 1_000 && next.multiplierBP == nil && next.categories == ["Dairy"] && next.minSpend == 500 && next.uses == 3
                && next.id == "next-month")
        #expect((r["months"] as? [String])?.count == 12)
        // Custom events with the mouse.
        #expect(r["events_empty"] as? Bool == true && (r["events_refused"] as? String)?.contains("Points 'lots' must be a whole number") == true,
                "\(r["events_refused"] ?? "")")
        #expect(r["events_kept"] as? String == "review-posted" && (r["events_saved"] as? String)?.hasPrefix("Event review-posted saved") == true)
        #expect(r["events_rows"] as? [String: [String]] == ["review-posted": ["50", "at most 1 a day, at most 3 a month", "off"]], "\(r["events_rows"] ?? "")")
        #expect(try store.eventTypes().map(\.type) == [EventType(code: "review-posted", name: "Review posted", points: 50, perDay: 1, perMonth: 3, active: false)])
        #expect((r["feedback_refused"] as? String)?.contains("within 1 to 365 days") == true, "\(r["feedback_refused"] ?? "")")
        #expect((r["feedback_saved"] as? String)?.hasPrefix("Surveys now earn 25 points") == true && r["feedback_empty"] as? Bool == true)
        #expect(try r["feedback_query"] as? String == "bread" && store.feedbackSettings() == FeedbackSettings(points: 25, days: 10))
        #expect((r["referral_refused"] as? String)?.contains("'lots'") == true && r["referral_kept"] as? String == "lots", "\(r["referral_refused"] ?? "")")
        #expect((r["referral_saved"] as? String)?.hasPrefix("Referrals now give 250 and 100 points at a first purchase of 15.00") == true, "\(r["referral_saved"] ?? "")")
        #expect(try store.referralSettings() == ReferralSettings(referrerPoints: 250, referredPoints: 100, minSpend: 1_500, days: 30, monthlyCap: 5))
        #expect(r["referral_counts"] as? String == "0 registered, 0 rewarded, 0 refused, 0 expired, 0 reversed")
        // Cross-sell suggestions with the mouse (head office may have made tonight's run by itself already, at its start).
        #expect((r["suggest_refused"] as? String)?.contains("8 to 730 days") == true && r["suggest_kept"] as? String == "5", "\(r["suggest_refused"] ?? "")")
        #expect((r["suggest_saved"] as? String)?.hasPrefix("Suggestions are now mined from 30 days") == true)
        let run = try #require(try store.suggestionRuns().first)
        #expect(run.baskets == 6_000 && run.minedBy == "anna" && run.queries > 1_000, "\(run)")
        #expect(try store.suggestionRuns().contains { $0.version != nil })
        #expect((r["suggest_mined"] as? String)?.hasPrefix("Mined. chain: 6000 baskets, ") == true, "\(r["suggest_mined"] ?? "")")
        #expect((r["suggest_runs"] as? [[String]])?.first == ["chain", HeadOfficeStore.percent(run.hitBP), HeadOfficeStore.percent(run.baselineBP)],
                "\(r["suggest_runs"] ?? "")")
        // The planted pair (item 10 brings item 77) is among its suggestions.
        #expect((r["suggest_pairs"] as? [String])?.contains("D0000000010 D0000000077") == true, "\(r["suggest_pairs"] ?? "")")
    }

    /// The cashback page with a mouse: wrong periods refused, a period run and watched to its
    /// end, its figures and payout file equal to the test's own SQL, and a second run converting
    /// nothing more.
    @Test func marketingRunsACashbackPeriodFromThePage() throws {
        let dir = TemporaryDirectory("bo-cashback")
        let ho = try Self.headOffice(dir)
        let store = try ho.store()
        let eligible = try store.database.read { c in
            try c.queryOne("SELECT COUNT(*) AS n FROM cards WHERE customer_id IS NOT NULL AND status = 'active' AND balance >= 2000", [])!.int("n")
        }
        try ho.start()
        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        let r = try Self.drive(["cashback", ho.url, Self.screenshots])
        #expect(r["empty"] as? Bool == true && (r["suggested"] as? String)?.isEmpty == false)
        #expect((r["refused_2026-13"] as? String)?.contains("'2026-13' is not a period") == true)
        #expect((r["refused_2099-01"] as? String)?.contains("has not ended yet") == true)
        #expect((r["started"] as? String)?.hasPrefix("The cashback run for 2026-Q3 has started") == true)
        let totals = try store.database.read { c in
            try c.queryOne("SELECT COUNT(*) AS n, SUM(points) AS p, SUM(amount) AS a FROM cashback_payouts WHERE period = '2026-Q3'", [])!
        }
        let ledger = try store.database.read { c in try c.queryOne("SELECT -SUM(points) AS p FROM ledger WHERE kind = 'cashback'", [])!.int("p") }
        #expect(totals.int("n") == eligible && eligible > 0 && ledger == totals.int("p"))
        let row = ["done", String(eligible), String(totals.int("p")), Currency.eur.format(totals.int("a"))]
        #expect((r["done"] as? [String: [String]])?["2026-Q3"] == row, "\(r["done"] ?? "")")
        let csv = (r["csv"] as? String ?? "").split(separator: "\n").dropFirst()
        #expect(csv.count == eligible && csv.reduce(Int64(0)) { $0 + Currency.eur.parse(String($1.split(separator: ",")[1]))! } == totals.int("a"))
        #expect((r["again"] as? [String: [String]])?["2026-Q3"] == row)
    }

    /// The member's own page on a phone-sized screen: sign-in with the code from the e-mail the
    /// SMTP server received, the balance, tier and digital card; the card's barcode and QR code
    /// read back by zbarimg from the page's picture and scanned at a till in tmux.
    @Test func aMemberSignsInByCodeAndTheirDigitalCardScansAtTheTill() throws {
        let dir = TemporaryDirectory("bo-member")
        let smtp = try SMTPSink(dir: dir)
        let ho = try Self.headOffice(dir)
        ho.serveArguments = ["--config", dir.write("headoffice.toml", """
            [mail]
            relay = "\(smtp.relay)"
            from = "Demo Rewards <rewards@example.com>"
            """)]
        try ho.start()
        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        let r = try Self.drive(["member", ho.url, smtp.maildir, Self.screenshots])
        let card = DemoCatalog.cardNumber(1)
        #expect(r["code_found"] as? Bool == true && (r["code_notice"] as? String)?.contains("a 6-digit code is on its way") == true)
        #expect(r["balance"] as? String == "1500" && r["tier"] as? String == "Silver", "\(r)")
        #expect((r["next_tier"] as? String)?.contains("more spend to reach Gold") == true)
        #expect(r["card_number"] as? String == LoyaltyCardNumber.grouped(card))
        #expect(r["images_loaded"] as? Bool == true && r["overflow"] as? Bool == false)
        #expect(r["details_notice"] as? String == "Your details are saved." && r["phone"] as? String == "+7 900 123 4567")
        #expect(r["consent"] as? String == "You do not receive our news and offers." && r["after_signout"] as? Bool == true)
        let store = try ho.store()
        #expect(try store.customerProfile("M1")?.summary.phone == "+7 900 123 4567")
        #expect(try store.consentHistory(customer: "M1").last?.channel == "member page")
        // The digital card's picture, read as a till's scanner reads it.
        let png = try #require(r["png"] as? String)
        let zbar = try runProcess("/usr/bin/zbarimg", ["--quiet", png])
        #expect(zbar.stdout.contains("CODE-128:\(card)") && zbar.stdout.contains("QR-Code:\(card)"), "zbarimg: \(zbar.stdout) \(zbar.stderr)")
        let scanned = zbar.stdout.split(separator: "\n").first { $0.hasPrefix("CODE-128:") }.map { String($0.dropFirst(9)) } ?? ""
        let till = try TillProcess(headOffice: ho, storeID: "0001")
        let t = try Tmux(command: till.command, width: 100, height: 30, environment: ["LANG": "C.UTF-8", "TZ": "UTC"])
        try PublicationTmuxTests.signOn(t)
        try t.send("5012345678900", "Enter")
        try t.waitFor("Milk 1L")
        try t.send("F5")
        try t.waitFor("LOYALTY CARD")
        try t.send(scanned, "Enter")
        let screen = try t.waitFor("this sale")
        #expect(screen.contains("Anna Ivanova"), "\(screen)")
        try t.send("F12"); try t.send("C-q")
    }

    @Test func anInvalidProgrammeAndACatalogWithBadRowsAreRefusedFieldByFieldRowByRow() throws {
        let dir = TemporaryDirectory("bo-bad")
        let ho = try Self.headOffice(dir)
        _ = try ho.register(store: "0001", till: "01")
        try ho.start()
        let csv = dir.write("catalog.csv", """
            sku,barcodes,plu,description,unit_price,tax_code,category,sold_by_weight
            NEW1,,,Good item,1.99,A,Test,0
            NEW2,,,,2.50,A,Test,0
            NEW3,,,Bad price,-1.00,A,Test,0
            NEW4,,,Bad tax,1.00,Q,Test,0

            """)
        let r = try Self.drive(["bad-input", ho.url, csv])
        #expect((r["programme_notice"] as? String)?.hasPrefix("Nothing was saved: ") == true)
        let errors = r["programme_errors"] as? [String: String] ?? [:]
        #expect(errors["earn.pointsPerUnit"] == "-2 must not be negative")
        #expect(errors["tiers[1].threshold"]?.contains("overlaps tiers[0]") == true, "\(errors)")
        #expect(errors["redemption.bands[1].minorPer100Points"]?.contains("must not decrease") == true, "\(errors)")
        let issues = r["csv_issues"] as? String ?? ""
        #expect(issues.hasPrefix("Nothing was loaded."))
        #expect(issues.contains("line 3:") && issues.contains("line 4:") && issues.contains("line 5:") && !issues.contains("line 2:"), "\(issues)")
        let store = try ho.store()
        #expect(try store.product(sku: "NEW1") == nil)          // the good row was not applied either
        #expect(try store.draft("programme") == nil)
        #expect(try store.publications().isEmpty)
    }

    @Test func everyPageNeedsSignInFormsNeedTheTokenAStoreManagerStaysInTheirStoreAndNamesAreEscaped() throws {
        let dir = TemporaryDirectory("bo-sec")
        let ho = try Self.headOffice(dir)
        _ = try ho.register(store: "0001", till: "01")
        _ = try ho.register(store: "0002", till: "01")
        try ho.store().importProducts([Product(sku: "EVIL", description: "Evil <script>alert(1)</script>", unitPrice: 100, taxCode: "A")])
        try ho.start()
        let r = try Self.drive(["security", ho.url])
        for (page, answer) in r["pages"] as? [String: [Any]] ?? [:] {
            #expect(answer.first as? Int == 303 && (answer.last as? String)?.hasSuffix("/login") == true, "\(page) answered \(answer) without a session")
        }
        #expect((r["pages"] as? [String: Any])?.count == 14)
        #expect((r["no_csrf"] as? [Any])?.first as? Int == 403)
        #expect((r["no_csrf"] as? [Any])?.last as? Bool == true)
        #expect(r["wrong_csrf"] as? Int == 403)
        #expect(r["store_options"] as? [String] == ["store:0001", "till:0001/01"])
        #expect((r["other_store"] as? [Any])?.first as? Int == 403)
        #expect((r["other_store"] as? [Any])?.last as? Bool == true)
        #expect((r["own_store"] as? [Any])?.first as? Int == 303)
        #expect(r["store_programme"] as? Int == 403)
        #expect(r["escaped"] as? Bool == true)
        #expect(r["raw_script"] as? Bool == false)
        let lockout = r["lockout"] as? [Any] ?? []
        #expect(lockout.first as? [Int] == [401, 401, 401, 401, 401])
        #expect(lockout.dropFirst().first as? Int == 401)
        #expect(lockout.last as? Bool == true)
        // Only the store manager's own-store publication was made.
        let pubs = try ho.store().publications()
        #expect(pubs.map(\.scope) == [.store("0001")])
    }

    @Test func eachRoleSeesOnlyItsScopeOfReceiptsTillsAndPublications() throws {
        let dir = TemporaryDirectory("bo-scope")
        let ho = try Self.headOffice(dir)
        let adminPassword = dir.write("ada.pw", "ada-secret-123")
        _ = try ho.admin(["user", "add", "ada", "--role", "admin", "--password-file", adminPassword])
        _ = try ho.register(store: "0001", till: "01")
        _ = try ho.register(store: "0002", till: "01")
        let store = try ho.store()
        var receipts: [String] = []
        for till in [till1, TillCredential(storeID: "0002", tillID: "01")] {
            let side = try TillSide(till: till)
            try side.generator.ring(1)
            _ = try store.ingest(try side.batch(), from: till)
            receipts.append(try #require(try store.sales(of: till).first?.receiptNumber))
        }
        try store.publish(.settings, scope: .store("0002"), by: "ada", note: "0002 only", settings: TerminalSettings(autoLockMinutes: 7))
        try ho.start()
        let r = try Self.drive(["scoping", ho.url, receipts[0], receipts[1]])
        for chainWide in ["ada", "anna"] {
            let seen = try #require(r[chainWide] as? [String: Any])
            #expect((seen["svg_mine"] as? [Any])?.first as? Int == 200)
            #expect((seen["svg_theirs"] as? [Any])?.first as? Int == 200, "\(chainWide): \(seen)")
            #expect(seen["page_theirs"] as? Bool == true)
            #expect(seen["rollout_tills"] as? [String] == ["0001/01", "0002/01"])
        }
        let sam = try #require(r["sam"] as? [String: Any])
        #expect((sam["svg_mine"] as? [Any])?.first as? Int == 200)
        #expect((sam["svg_theirs"] as? [Any])?.first as? Int == 404, "\(sam)")  // another store's receipt: as if it did not exist
        #expect(sam["page_mine"] as? Bool == true)
        #expect(sam["page_theirs"] as? Bool == false)
        #expect(sam["rollout_tills"] as? [String] == ["0001/01"])
        #expect(sam["overview"] as? String == "1 of 1")
    }

    @Test func aCatalogFileForOneStoreChangesOnlyThatStoresPrices() throws {
        let dir = TemporaryDirectory("bo-catalog-scope")
        let ho = try Self.headOffice(dir)
        _ = try ho.register(store: "0001", till: "01")
        _ = try ho.register(store: "0002", till: "01")
        let milk = try #require(try ho.store().product(sku: "F0001"))
        let csv = dir.write("prices.csv", """
            sku,barcodes,plu,description,unit_price,tax_code,category,sold_by_weight
            F0001,\(milk.barcodes.joined(separator: "|")),\(milk.plu ?? ""),\(milk.description),0.99,\(milk.taxCode),\(milk.category),0

            """)
        try ho.start()
        let r = try Self.drive(["catalog-scope", ho.url, csv])
        #expect((r["store:0001"] as? String)?.contains("1 price changes published") == true, "\(r)")
        #expect((r["chain"] as? String)?.contains("1 price changes published") == true, "\(r)")
        let store = try ho.store()
        let pubs = try store.publications().filter { $0.kind == .prices }
        #expect(pubs.map(\.scope) == [.chain, .store("0001")])
        #expect(try store.product(sku: "F0001")?.unitPrice == 99)
    }
}
