import ArgumentParser
import Foundation
import HeadOffice
import TillProtocol

/// `headoffice suggestions`: the cross-sell suggestions mined from the chain's baskets (nightly by
/// `serve`), now, and what they are.
struct SuggestionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suggestions",
        abstract: "Cross-sell suggestions: mine the baskets now and publish to the tills, list the runs and the suggestions.",
        discussion: "headoffice serve mines them once a day (UTC). The back office's Suggestions page shows the same as these.",
        subcommands: [Mine.self, Runs.self, List.self])

    struct Mine: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mine the baskets now; publish each scope's suggestions that changed.")
        @OptionGroup var db: DatabaseOption
        @Option(help: "Days of baskets to mine (saved for the nightly runs too; default: as saved, else 90).") var days: Int64?
        @Option(help: "Baskets a pair must be in to be suggested (saved too; default: as saved, else 5).") var minSupport: Int64?
        func run() throws {
            let store = try db.open()
            do {
                if days != nil || minSupport != nil {
                    let saved = try store.suggestionSettings()
                    try store.saveSuggestionSettings(SuggestionSettings(days: days ?? saved.days, minSupport: minSupport ?? saved.minSupport))
                }
            } catch let e as ChannelRefusal {
                throw CLIFailure(e.message)
            }
            let runs = try store.mineSuggestions(by: "cli") { FileHandle.standardError.write(Data(("  " + $0 + "\n").utf8)) }
            if runs.isEmpty { print("No scope had baskets to mine.") }
            for r in runs { print(SuggestionsCommand.describe(r)) }
        }
    }

    static func describe(_ r: SuggestionRun) -> String {
        let pct = HeadOfficeStore.percent
        return "\(r.scope): \(r.baskets) baskets, \(r.items) items, \(r.pairs) pairs in \(r.miningMS) ms; held-out week hit rate at 3 "
            + "\(pct(r.hitBP)) (most popular items: \(pct(r.baselineBP)), \(r.queries) tries); "
            + (r.version.map { "published as version \($0)" } ?? "unchanged, not published")
    }

    struct Runs: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The latest mining runs, newest first.")
        @OptionGroup var db: DatabaseOption
        func run() throws {
            let runs = try db.open().suggestionRuns()
            if runs.isEmpty { print("No mining yet: headoffice suggestions mine") }
            for r in runs { print(ProtocolTime.format(r.minedAt, timeZone: .gmt) + "  " + SuggestionsCommand.describe(r)) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The suggestions now in force, pairs found most often first.")
        @OptionGroup var db: DatabaseOption
        @Option(help: "chain, or group:NAME.") var scope = "chain"
        @Option(help: "Only items whose SKU or name holds this.") var item = ""
        @Option(help: "How many.") var limit = 60
        func run() throws {
            let pairs = try db.open().suggestionPairs(scope: scope, query: item, limit: max(1, min(limit, 10_000)))
            if pairs.isEmpty { print("No suggestions for \(scope)\(item.isEmpty ? "" : " and '\(item)'").") }
            for p in pairs {
                print("\(p.sku) \(p.description) -> \(p.rank). \(p.also) \(p.alsoDescription)  (\(p.together) baskets, lift \(HeadOfficeStore.lift(p.liftMilli)))")
            }
        }
    }
}
