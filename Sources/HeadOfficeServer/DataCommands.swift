import ArgumentParser
import Foundation
import HeadOffice
import Logging
import TillCore
import TillDemo
import TillDocuments
import TillProtocol

struct Cards: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load loyalty cards.", subcommands: [Import.self])
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load cards from CSV (the till's cards file format), all or none.")
        @OptionGroup var db: DatabaseOption
        @Argument(help: ArgumentHelp("The CSV file.", valueName: "cards.csv")) var file: String
        func run() throws {
            let store = try db.open()
            guard let programme = try store.latestProgramme() else {
                throw CLIFailure("Import the programme first (headoffice programme import FILE.json): card numbers are checked against its ranges")
            }
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw CLIFailure("Cannot read \(file) as UTF-8 text")
            }
            let records: [CSVRecord]
            do { records = try CSVReader.records(text) } catch { throw CLIFailure("\(file) line \(error.line): \(error.message)") }
            let (cards, issues) = CardsCSV.parse(records, programme: programme, now: Int64(Date().timeIntervalSince1970 * 1000))
            guard issues.isEmpty else {
                throw CLIFailure("\(file): nothing was loaded:\n" + issues.prefix(50).map { "  line \($0.line): \($0.message)" }.joined(separator: "\n"))
            }
            try store.importCards(cards)
            print("Loaded \(cards.count) cards.")
        }
    }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load the demo loyalty programme and the demo cards: the same ones `till demo` gives a till.")
    @OptionGroup var db: DatabaseOption
    @Option(help: "Member cards (as till demo --cards).") var cards = DemoCatalog.demoMembers

    func validate() throws {
        guard (4...1_000_000).contains(cards) else { throw ValidationError("--cards \(cards) must be 4 to 1000000") }
    }

    func run() throws {
        let store = try db.open()
        let p = DemoCatalog.programme
        try store.importProgramme(p)
        let records = DemoCatalog.cards(members: cards, stock: DemoCatalog.demoStockCards)
        try store.importCards(records)
        // The demo's featured items (the till demo's first ones), for the back office's catalog and previews.
        try store.importProducts(DemoCatalog.featured)
        // The demo till's store, as its receipts print it.
        try store.saveStore(HeadOfficeStore.StoreDetails(id: "0001", name: "Demo Store", address: ["1 High Street", "Springfield"]))
        print("Demo programme '\(p.name)' version \(p.version), \(records.count) cards and \(DemoCatalog.featured.count) items loaded into \(store.database.location).")
        print("Next: headoffice till register --store 0001 --till 01 --output till-01.token, then on the till: till sync enrol --token-file till-01.token")
    }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What ingest reports: exceptions (offline overdrafts…), discrepancies, rejects, sequence gaps, ledger check.")

    enum Kind: String, ExpressibleByArgument, CaseIterable { case exceptions, discrepancies, rejects, gaps, ledger, summary }

    @OptionGroup var db: DatabaseOption
    @Argument(help: "exceptions, discrepancies, rejects, gaps, ledger or summary") var kind: Kind = .summary
    @Flag(help: "JSON instead of text.") var json = false

    func run() throws {
        let store = try db.open()
        func show(_ entries: [ReportEntry], _ empty: String) throws {
            if json {
                try printJSON(entries)
            } else if entries.isEmpty {
                print(empty)
            } else {
                for e in entries {
                    print([e.kind, e.till, e.document, e.card.map { LoyaltyCardNumber.masked($0) }, e.detail].compactMap { $0 }.joined(separator: "  "))
                }
            }
        }
        switch kind {
        case .exceptions: try show(store.exceptions(), "No exceptions.")
        case .discrepancies: try show(store.discrepancies(), "No discrepancies.")
        case .rejects: try show(store.rejects(), "No rejected documents.")
        case .gaps:
            var gaps: [TillGaps] = []
            for t in try store.tills() {
                let missing = try store.gaps(of: t.till)
                if !missing.isEmpty { gaps.append(TillGaps(till: t.till.name, storeID: t.till.storeID, tillID: t.till.tillID, missing: missing)) }
            }
            if json { return try printJSON(gaps) }
            for g in gaps {
                for m in g.missing { print("\(g.till)  missing \(m.from == m.to ? "\(m.from)" : "\(m.from)-\(m.to)")") }
            }
            if gaps.isEmpty { print("No till has missing sales.") }
        case .ledger:
            let bad = try store.ledgerMismatches().map { LedgerMismatch(card: $0.card, balance: $0.balance, movements: $0.movements) }
            if json {
                try printJSON(LedgerCheck(consistent: bad.isEmpty, mismatches: bad))
            } else {
                if bad.isEmpty { print("Every card's balance is the sum of its movements.") }
                for b in bad { print("\(LoyaltyCardNumber.masked(b.card))  balance \(b.balance), movements \(b.movements)") }
            }
            if !bad.isEmpty { throw ExitCode(1) }
        case .summary:
            let summary = Summary(sales: try store.saleCount(), tills: try store.tills().count, exceptions: try store.exceptions().count,
                                  discrepancies: try store.discrepancies().count, rejects: try store.rejects().count)
            if json { return try printJSON(summary) }
            print("Sales: \(summary.sales)")
            print("Tills: \(summary.tills)")
            print("Exceptions: \(summary.exceptions), discrepancies: \(summary.discrepancies), rejects: \(summary.rejects)")
        }
    }

    /// `report gaps --json`: each till with missing sequence numbers, and the ranges missing.
    struct TillGaps: Encodable {
        var till: String
        var storeID: String
        var tillID: String
        var missing: [SequenceGap]
    }

    /// `report ledger --json`: whether every card's balance is the sum of its movements, and the
    /// cards where it is not (full numbers: the JSON is for the IT people's scripts).
    struct LedgerCheck: Encodable {
        var consistent: Bool
        var mismatches: [LedgerMismatch]
    }

    struct LedgerMismatch: Encodable {
        var card: String
        var balance: Int64
        var movements: Int64
    }

    /// `report summary --json`.
    struct Summary: Encodable {
        var sales: Int
        var tills: Int
        var exceptions: Int
        var discrepancies: Int
        var rejects: Int
    }

    private func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
