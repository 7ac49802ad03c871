import ArgumentParser
import Dispatch
import Foundation
import HeadOffice
import TillCore
import TillDemo
import TillDocuments
import TillProtocol

/// `till-bench fraud`: a generated month with every fraud pattern injected (`FraudMonth`) played
/// through head office's ingest on SQLite with every rule on: how many injected cases the rules
/// caught, how many normal members they flagged, ingest's rate with the rules on (and, for
/// comparison, off); then a rule holding a card, timed until 1,000 long-polling tills have it.
struct FraudScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fraud",
        abstract: "A month with injected fraud through ingest with every rule on: recall, false positives, ingest rate; a rule's hold reaching 1,000 long-polling tills.")

    @Option(help: "Members in the generated month.") var members = 20_000
    @Option(help: "Injected cases of each pattern.") var cases = 20
    @Option(help: "Hours a till gathers sales before it sends them (a batch is also sent at 150).") var batchHours: Int64 = 24
    @Option(help: "Simulated tills long-polling for the hold.") var tills = 1_000
    @Flag(help: "Skip the comparison run with every rule off.") var noBaseline = false

    func run() throws {
        raiseFileLimit(to: tills * 3 + 256)
        let made = Date()
        let month = FraudMonth(members: members, cases: cases, batchHours: batchHours)
        printError("month generated: \(month.sales) sales, \(month.cases.count) injected cases, \(month.steps.count) steps in \(fixed(Date().timeIntervalSince(made))) s")

        var baseline: Double?
        if !noBaseline {
            let scratch = ScratchDirectory()
            let off = try HeadOfficeStore(database: try SQLiteDatabase(path: scratch.path + "/headoffice.sqlite"))
            for var r in try off.fraudRules() { r.enabled = false; try off.saveFraudRule(r, by: "bench") }
            let seconds = try off.play(month)
            baseline = Double(month.sales) / seconds
            printError("rules off: \(Int(baseline ?? 0)) sales/s")
        }

        let scratch = ScratchDirectory()
        let store = try HeadOfficeStore(database: try SQLiteDatabase(path: scratch.path + "/headoffice.sqlite"))
        let rules = try store.fraudRules()
        let seconds = try store.play(month) { done, all in printError("played \(done) of \(all) steps") }
        let e = try store.score(month, rules: rules, ingestSeconds: seconds)

        // A rule set to hold: a card used six times within the hour reaches every till.
        guard var rule = rules.first(where: { $0.id == "card-sales-hour" }) else { throw ValidationError("no rule card-sales-hour") }
        rule.action = .hold
        try store.saveFraudRule(rule, by: "bench")
        var tokens: [TillToken] = []
        for i in 0..<tills {
            tokens.append(try store.registerTill(TillCredential(storeID: String(format: "%04d", 1_001 + i / 10), tillID: String(format: "%02d", 1 + i % 10))))
        }
        let server = try BenchServer(store)
        defer { server.stop() }
        let polling = try PollingTills(store: store, server: server, tokens: tokens)
        defer { polling.close() }
        guard let card = month.normalCards.sorted().first else { throw ValidationError("the month has no normal member") }
        let batch = try Self.sixSalesWithinTheHour(card: card, programme: month.programme)
        let before = try store.latestPublicationVersion()
        polling.mark()
        _ = try store.ingest(batch, from: TillCredential(storeID: batch.storeID, tillID: batch.tillID))
        let after = try store.latestPublicationVersion()
        guard after > before else { throw ValidationError("the rule raised no hold: no publication after the six sales") }
        let holdSeconds = try polling.waitAll(version: after)

        let perRule = e.rules.map { "\($0.ruleID): caught \($0.caught)/\($0.injected), flagged \($0.flagged)/\($0.normal)" }
        printTable("till-bench fraud (\(members) members, a month, \(cases) cases of each of \(FraudMonth.patterns.count) patterns)", [
            ("sales applied", "\(e.sales)"),
            ("recall", "\(fixed(e.recall, 3))  (\(e.caught) of \(e.injected) injected cases; target >= 0.9)"),
            ("false positives", "\(fixed(e.falsePositiveRate * 100, 3))% of normal members (\(e.flaggedMembers) of \(e.normalMembers); target <= 0.5%); cashiers \(e.flaggedCashiers) of \(e.normalCashiers)"),
            ("ingest, every rule on", "\(Int(e.salesPerSecond)) sales/s (target >= 10000)"),
            ("ingest, every rule off", baseline.map { "\(Int($0)) sales/s" } ?? "not measured"),
            ("hold to \(tills) tills", "\(fixed(holdSeconds, 2)) s from the batch's arrival to every till's acknowledgement (target < 10 s)"),
        ] + perRule.map { ("  rule", $0) })
        if !e.missed.isEmpty { printError("missed: \(e.missed.map { "\($0.pattern) \($0.subject)" }.joined(separator: ", "))") }
        print(jsonLine([
            ("scenario", "fraud"), ("sales", e.sales), ("recall", (e.recall * 1000).rounded() / 1000),
            ("false_positive_rate", (e.falsePositiveRate * 100_000).rounded() / 100_000), ("ingest_sales_per_s", e.salesPerSecond.rounded()),
            ("ingest_sales_per_s_rules_off", (baseline ?? 0).rounded()), ("hold_to_till_s", (holdSeconds * 1000).rounded() / 1000),
        ]))
    }

    /// Six sales on one card within 50 minutes, at till 0001/01, after the month.
    static func sixSalesWithinTheHour(card: String, programme: LoyaltyProgramme) throws -> IngestBatch {
        let till = TillIdentity(storeID: "0001", storeName: "Store 0001", tillID: "01", currency: .eur)
        var sales = DemoSales(till: till, programme: programme, cards: 1, seed: 3, start: HeadOfficeStore.now() - 3_600_000)
        sales.step = 8 * 60_000
        var documents: [OutboxDocument] = []
        for i in 0..<30 where documents.count < 6 {
            let (sale, loyalty, time) = try sales.next(redeem: false) { _, _ in
                SaleCustomer(cardNumber: card, customerID: card, name: "Member", tierCode: nil, tierName: nil, balance: 0, qualifying: 0, offlineLeft: nil,
                             provisional: false)
            }
            guard loyalty != nil else { continue }
            let completed = try sale.complete(sequence: 10_000_000 + Int64(i), at: time, till: till, loyalty: loyalty)
            documents.append(OutboxDocument(sale: SaleDocument(completed, timeZone: .gmt)))
        }
        return IngestBatch(storeID: till.storeID, tillID: till.tillID, documents: documents)
    }
}
