import ArgumentParser
import Dispatch
import Foundation
import HeadOffice
import Synchronization
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillStore

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
    @Flag(help: "Skip the ingest runs over HTTP (recall, false positives and the hold only).") var noHTTP = false
    @Flag(help: "Only the ingest runs over HTTP (no recall, false positives or hold).") var onlyIngest = false

    func validate() throws {
        if onlyIngest && noHTTP { throw ValidationError("--only-ingest measures the ingest runs over HTTP that --no-http skips: give one of them") }
    }

    func run() throws {
        raiseFileLimit(to: tills * 3 + 256)
        let made = Date()
        let month = FraudMonth(members: members, cases: cases, batchHours: batchHours)
        printError("month generated: \(month.sales) sales, \(month.cases.count) injected cases, \(month.steps.count) steps in \(fixed(Date().timeIntervalSince(made))) s")

        // Ingest's rate as `till-bench ingest` measures it: the month's sales and refunds posted
        // by its 16 tills at once over loopback HTTP, 150 a batch, every rule on (and off, to compare).
        let perTill = try Self.outboxEntries(month)
        var rates: [Bool: (Double, Double)] = [:]
        for rulesOn in noHTTP ? [] : noBaseline ? [true] : [true, false] {
            let scratch = ScratchDirectory()
            let store = try HeadOfficeStore(database: try SQLiteDatabase(path: scratch.path + "/headoffice.sqlite"))
            try store.importProgramme(month.programme)
            try store.importCards(month.cardRecords)
            if !rulesOn { for var r in try store.fraudRules() { r.enabled = false; try store.saveFraudRule(r, by: "bench") } }
            let (rate, _, p99, _, _) = try IngestScenario.post(perTill, to: store, batch: 150)
            guard try store.saleCount() == month.sales else { throw ValidationError("head office holds \(try store.saleCount()) sales of \(month.sales)") }
            rates[rulesOn] = (rate, p99)
            printError("ingest over HTTP, rules \(rulesOn ? "on" : "off"): \(Int(rate)) sales/s, p99 \(fixed(p99)) ms")
        }
        if onlyIngest {
            print(jsonLine([("scenario", "fraud"), ("sales", month.sales), ("ingest_sales_per_s", (rates[true]?.0 ?? 0).rounded()),
                            ("ingest_sales_per_s_rules_off", (rates[false]?.0 ?? 0).rounded())]))
            return
        }

        let scratch = ScratchDirectory()
        let store = try HeadOfficeStore(database: try SQLiteDatabase(path: scratch.path + "/headoffice.sqlite"))
        let rules = try store.fraudRules()
        // The month in time order, customer service's actions between the tills' batches: what the rules find.
        let seconds = try store.play(month) { done, all in if done % 2_000 == 0 { printError("played \(done) of \(all) steps") } }
        let e = try store.score(month, rules: rules, ingestSeconds: seconds)

        // Head office as it runs from day to day: the month rolled up for the reports and
        // tonight's scheduled work done (a head office started on a month it has not rolled up
        // works through it first, and a hold made meanwhile waits its turn for the database).
        let settled = try settleScheduledWork(store)
        printError("the month rolled up and tonight's scheduled work done in \(fixed(settled)) s")
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
        let marked = Date()
        let (fetched0, empty0) = (polling.fetched.load(ordering: .relaxed), polling.empty.load(ordering: .relaxed))
        polling.mark()
        _ = try store.ingest(batch, from: TillCredential(storeID: batch.storeID, tillID: batch.tillID))
        let ingestTook = Date().timeIntervalSince(marked)
        let after = try store.latestPublicationVersion()
        guard after > before else { throw ValidationError("the rule raised no hold: no publication after the six sales") }
        let holdSeconds = try polling.waitAll(version: after)
        var samples = Samples()
        for v in polling.heardTimes() { samples.add(v) }
        let oneTill = "one till p50 \(fixed(ms(samples.percentile(50)))) ms, p99 \(fixed(ms(samples.percentile(99)))) ms; the batch itself \(fixed(ingestTook * 1000)) ms"
        printError("hold: \(oneTill); polls since: \(polling.fetched.load(ordering: .relaxed) - fetched0) with news, \(polling.empty.load(ordering: .relaxed) - empty0) empty, \(polling.failures.load(ordering: .relaxed)) failed")

        let perRule = e.rules.map { "\($0.ruleID): caught \($0.caught)/\($0.injected), flagged \($0.flagged)/\($0.normal)" }
        printTable("till-bench fraud (\(members) members, a month, \(cases) cases of each of \(FraudMonth.patterns.count) patterns)", [
            ("sales applied", "\(e.sales)"),
            ("recall", "\(fixed(e.recall, 3))  (\(e.caught) of \(e.injected) injected cases; target >= 0.9)"),
            ("false positives", "\(fixed(e.falsePositiveRate * 100, 3))% of normal members (\(e.flaggedMembers) of \(e.normalMembers); target <= 0.5%); cashiers \(e.flaggedCashiers) of \(e.normalCashiers)"),
            ("ingest, every rule on", "\(Int(rates[true]?.0 ?? 0)) sales/s, p99 \(fixed(rates[true]?.1 ?? 0)) ms (16 tills over HTTP, 150 a batch; target >= 10000)"),
            ("ingest, every rule off", rates[false].map { "\(Int($0.0)) sales/s, p99 \(fixed($0.1)) ms" } ?? "not measured"),
            ("the month in time order", "\(Int(e.salesPerSecond)) sales/s (one batch at a time, customer service between)"),
            ("hold to \(tills) tills", "\(fixed(holdSeconds, 2)) s from the batch's arrival to every till's acknowledgement (target < 10 s)"),
        ] + perRule.map { ("  rule", $0) })
        if !e.missed.isEmpty { printError("missed: \(e.missed.map { "\($0.pattern) \($0.subject)" }.joined(separator: ", "))") }
        print(jsonLine([
            ("scenario", "fraud"), ("sales", e.sales), ("recall", (e.recall * 1000).rounded() / 1000),
            ("false_positive_rate", RawNumber(text: String(format: "%.5f", e.falsePositiveRate))), ("ingest_sales_per_s", (rates[true]?.0 ?? 0).rounded()),
            ("ingest_sales_per_s_rules_off", (rates[false]?.0 ?? 0).rounded()), ("hold_to_till_s", (holdSeconds * 1000).rounded() / 1000),
        ]))
    }

    /// The month's sales and refunds, till by till, in the order each till sent them.
    static func outboxEntries(_ month: FraudMonth) throws -> [[OutboxEntry]] {
        let encoder = JSONEncoder()
        var byTill: [String: [OutboxEntry]] = [:]
        for step in month.steps {
            guard case .documents(let storeID, let tillID, let documents, _) = step else { continue }
            for d in documents {
                let payload: Data
                if let sale = d.sale { payload = try encoder.encode(sale) } else if let refund = d.refund { payload = try encoder.encode(refund) } else { continue }
                let key = storeID + "/" + tillID
                byTill[key, default: []].append(OutboxEntry(id: Int64(byTill[key]?.count ?? 0) + 1, kind: d.kind, refID: d.id, sequence: d.sale?.sequence,
                                                            payload: String(decoding: payload, as: UTF8.self), createdAt: 0))
            }
        }
        // `post` reads each till's name from its first sale.
        return byTill.keys.sorted().compactMap { key in
            guard var entries = byTill[key], let first = entries.firstIndex(where: { $0.kind == "sale" }) else { return nil }
            entries.insert(entries.remove(at: first), at: 0)
            return entries
        }
    }

    /// Six sales on one card within the hour, at till 0001/01, after the month.
    static func sixSalesWithinTheHour(card: String, programme: LoyaltyProgramme) throws -> IngestBatch {
        try DemoSales.spree(card: card, customerID: card, till: TillIdentity(storeID: "0001", storeName: "Store 0001", tillID: "01", currency: .eur),
                            programme: programme, count: 6, start: HeadOfficeStore.now() - 3_600_000, firstSequence: 10_000_000, seed: 3)
    }
}
