import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillTestSupport

extension BackOfficeBrowserTests {
    /// The fraud pages with a mouse (issue 19): a card used six times in an hour raises an alert
    /// as the sales are applied; the analyst (fraud role) refuses a threshold of 0, sets the rule
    /// to 4 and to hold, opens the alert (its five sales as evidence), notes and moves the case
    /// on, holds the card's points from the case, confirms it, and evaluates the rules on a
    /// generated month; each figure on the page is what the database holds. Marketing is refused.
    @Test func theFraudAnalystWorksACaseAndTunesTheRules() throws {
        let dir = TemporaryDirectory("bo-fraud")
        let ho = try HeadOfficeProcess(.sqlite, dir: dir)
        for (name, role, password) in [("anna", "marketing", "anna-secret-1"), ("fiona", "fraud", "fiona-secret-1")] {
            try ho.admin(["user", "add", name, "--role", role, "--password-file", dir.write("\(name).pw", password)])
        }
        let store = try ho.store()
        let card = DemoCatalog.cardNumber(5)
        _ = try store.registerTill(TillCredential(storeID: "0001", tillID: "01"))
        let batch = try FraudRuleTests.memberSales(card: card, customerID: "M5", count: 6, start: HeadOfficeStore.now() - 3_600_000)
        _ = try store.ingest(batch, from: TillCredential(storeID: "0001", tillID: "01"))
        let raised = try #require(try store.fraudAlerts().first)
        #expect(raised.ruleID == "card-sales-hour" && raised.card == card && raised.evidence.count == 5, "\(raised)")
        try ho.start()
        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        let r = try Self.drive(["fraud", ho.url, Self.screenshots])
        #expect(r["marketing_status"] as? Int == 403, "\(r["marketing_status"] ?? "")")
        #expect((r["nav"] as? [String])?.contains("Fraud") == true, "\(r["nav"] ?? "")")
        #expect((r["figures_before"] as? [String: [String]])?["card-sales-hour"] == ["1", "1", "0", "0", "-", "-"], "\(r["figures_before"] ?? "")")
        #expect((r["refused"] as? String)?.contains("the threshold 0 is outside 1 to 100,000") == true, "\(r["refused"] ?? "")")
        #expect((r["saved"] as? String)?.hasPrefix("Rule card-sales-hour saved: on") == true)
        let rule = try #require(try store.fraudRules().first { $0.id == "card-sales-hour" })
        #expect(rule.threshold == 4 && rule.action == .hold && rule.windowSeconds == 3_600 && rule.enabled)
        let listed = try #require((r["alerts"] as? [[String]])?.first)
        #expect(listed.first == String(raised.id) && listed.contains("card-sales-hour") && listed.last == "open", "\(listed)")
        #expect(r["figures"] as? String == raised.figures && r["evidence"] as? Int == 5, "\(r["evidence"] ?? "")")
        #expect(r["case_saved"] as? String == "Case #\(raised.id) saved.")
        #expect((r["held"] as? String)?.contains("points are held at every till") == true, "\(r["held"] ?? "")")
        #expect(r["status"] as? String == "confirmed")
        let (alert, notes, _) = try #require(try store.fraudCase(raised.id))
        #expect(alert.status == "confirmed" && notes.map(\.status) == ["investigating", nil, "confirmed"] && notes.allSatisfy { $0.user == "fiona" })
        #expect((r["notes"] as? [[String]])?.map { $0.last ?? "" } == notes.map(\.note))
        let held = try store.database.read { c in try c.queryOne("SELECT redemption_hold FROM cards WHERE number = ?", [.text(card)])?["redemption_hold"].int }
        #expect(held != nil)
        #expect((r["evaluated"] as? String)?.hasPrefix("Evaluated on a generated month of ") == true, "\(r["evaluated"] ?? "")")
        let figures = try store.fraudRuleFigures()
        #expect(figures.count == FraudRule.defaults.count && figures.count == 13 && figures.allSatisfy { $0.evaluatedAt != nil && $0.injected == 10 })
        let shown = try #require(r["figures_after"] as? [String: [String]])
        for f in figures {
            #expect(shown[f.ruleID] == ["\(f.alerts)", "\(f.open)", "\(f.confirmed)", "\(f.dismissed)", "\(f.caught) of \(f.injected)", "\(f.flagged) of \(f.normal)"],
                    "\(f.ruleID): \(shown[f.ruleID] ?? [])")
        }
        #expect(figures.first { $0.ruleID == "card-sales-hour" }?.confirmed == 1)
    }
}
