import ArgumentParser
import Foundation
import HeadOffice
import Logging
import TillCore
import TillDemo
import TillDocuments
import TillProtocol

/// Options every publication takes.
struct PublicationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("chain, group:NAME, store:0001 or till:0001/01.", valueName: "scope")) var scope: String = "chain"
    @Option(help: ArgumentHelp("When it comes into force (ISO time, e.g. 2026-12-01T06:00:00Z); default now.", valueName: "time")) var at: String?
    @Option(help: "Why (the tills show it in \"what changed\").") var note: String = ""
    @Option(help: "Who publishes.") var by: String = ProcessInfo.processInfo.environment["USER"] ?? "admin"

    func resolved() throws -> (PublicationScope, Int64?) {
        guard let s = PublicationScope.parse(scope) else {
            throw CLIFailure("--scope '\(scope)' must be chain, group:NAME, store:0001 or till:0001/01")
        }
        guard let at else { return (s, nil) }
        guard let ms = ProtocolTime.parse(at) else { throw CLIFailure("--at '\(at)' is not a time: write e.g. 2026-12-01T06:00:00Z") }
        return (s, ms)
    }
}

struct Publish: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish the loyalty programme, prices or terminal settings to tills (a new version; tills apply it between sales).",
        subcommands: [ProgrammeFile.self, Prices.self, Settings.self, List.self])

    struct ProgrammeFile: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "programme", abstract: "Publish a programme (JSON, as the tills have it).")
        @OptionGroup var db: DatabaseOption
        @OptionGroup var options: PublicationOptions
        @Argument(help: ArgumentHelp("The programme file.", valueName: "programme.json")) var file: String
        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIFailure("Cannot read \(file)") }
            let p: LoyaltyProgramme
            do { p = try JSONDecoder().decode(LoyaltyProgramme.self, from: data) } catch { throw CLIFailure("\(file) is not a programme: \(error)") }
            let (scope, at) = try options.resolved()
            do {
                let pub = try db.open().publish(.programme, scope: scope, by: options.by, note: options.note, effectiveAt: at, programme: p)
                print("Published version \(pub.version): programme \(p.version) to \(scope).")
            } catch let e as PublicationError { throw CLIFailure(e.description) }
        }
    }

    struct Prices: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Publish price changes from CSV: sku,price (e.g. 1.99), all rows or none.")
        @OptionGroup var db: DatabaseOption
        @OptionGroup var options: PublicationOptions
        @Argument(help: ArgumentHelp("The CSV file.", valueName: "prices.csv")) var file: String
        func run() throws {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw CLIFailure("Cannot read \(file) as UTF-8 text")
            }
            let changes: [PriceChange]
            do { changes = try PriceFile.parse(text) } catch { throw CLIFailure("\(file): \(error)") }
            let (scope, at) = try options.resolved()
            do {
                let pub = try db.open().publish(.prices, scope: scope, by: options.by, note: options.note, effectiveAt: at, prices: changes)
                print("Published version \(pub.version): \(changes.count) prices to \(scope).")
            } catch let e as PublicationError { throw CLIFailure(e.description) }
        }
    }

    struct Settings: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish terminal settings (JSON: loyaltyPromptAtTotal, receiptHeader, receiptFooter, printerProfile, keymap, discountLimit, autoLockMinutes).")
        @OptionGroup var db: DatabaseOption
        @OptionGroup var options: PublicationOptions
        @Argument(help: ArgumentHelp("The settings file.", valueName: "settings.json")) var file: String
        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIFailure("Cannot read \(file)") }
            let t: TerminalSettings
            do { t = try JSONDecoder().decode(TerminalSettings.self, from: data) } catch { throw CLIFailure("\(file) is not terminal settings: \(error)") }
            let (scope, at) = try options.resolved()
            do {
                let pub = try db.open().publish(.settings, scope: scope, by: options.by, note: options.note, effectiveAt: at, settings: t)
                print("Published version \(pub.version): terminal settings to \(scope).")
            } catch let e as PublicationError { throw CLIFailure(e.description) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List publications, newest first.")
        @OptionGroup var db: DatabaseOption
        func run() throws {
            let list = try db.open().publications()
            if list.isEmpty { print("Nothing published yet.") }
            for p in list {
                print("v\(p.version)  \(p.kind.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0))  \(p.scope)  by \(p.createdBy)  in force \(ProtocolTime.format(p.effectiveAt))  \(p.note)")
            }
        }
    }
}

struct Rollout: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Each till: the version it runs, when it last asked, what it has not applied yet.")
    @OptionGroup var db: DatabaseOption
    @Flag(help: "JSON instead of a table.") var json = false
    func run() throws {
        let rows = try db.open().rollout()
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try e.encode(rows), as: UTF8.self))
            return
        }
        if rows.isEmpty { print("No tills are registered.") }
        for r in rows {
            let seen = r.lastPoll.map { ProtocolTime.format($0) } ?? "never"
            print("\(r.till)  runs v\(r.version)  latest v\(r.latest)  pending \(r.pending)  last asked \(seen)")
        }
    }
}

struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Publish again the previous version of a kind for a scope (as a new version).")
    @OptionGroup var db: DatabaseOption
    @Option(help: "programme, prices or settings.") var kind: String
    @Option(help: ArgumentHelp("The scope it was published to.", valueName: "scope")) var scope: String = "chain"
    @Option(help: "Who rolls back.") var by: String = ProcessInfo.processInfo.environment["USER"] ?? "admin"
    func run() throws {
        guard let k = PublicationKind(rawValue: kind), [.programme, .prices, .settings].contains(k) else { throw CLIFailure("--kind '\(kind)' must be programme, prices or settings") }
        guard let s = PublicationScope.parse(scope) else { throw CLIFailure("--scope '\(scope)' must be chain, group:NAME, store:0001 or till:0001/01") }
        do {
            let p = try db.open().rollback(k, scope: s, by: by)
            print("Published version \(p.version): \(p.note).")
        } catch let e as PublicationError { throw CLIFailure(e.description) }
    }
}

struct Group: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Store groups, to publish to several stores at once.", subcommands: [Set.self])
    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make or replace a store group: NAME STORE…")
        @OptionGroup var db: DatabaseOption
        @Argument var name: String
        @Argument var stores: [String]
        func run() throws {
            guard !stores.isEmpty else { throw CLIFailure("Name at least one store") }
            try db.open().setGroup(name, stores: stores)
            print("Group \(name): \(stores.joined(separator: ", ")).")
        }
    }
}

struct Programme: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Keep loyalty programme versions, to check the points of tills' sales.",
                                                    subcommands: [Import.self])
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import a programme version (JSON, as the tills have it).")
        @OptionGroup var db: DatabaseOption
        @Argument(help: ArgumentHelp("The programme file.", valueName: "programme.json")) var file: String
        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIFailure("Cannot read \(file)") }
            let p: LoyaltyProgramme
            do { p = try JSONDecoder().decode(LoyaltyProgramme.self, from: data) } catch { throw CLIFailure("\(file) is not a programme: \(error)") }
            let issues = p.validate()
            guard issues.isEmpty else { throw CLIFailure("\(file) is not valid:\n" + issues.map { "  \($0)" }.joined(separator: "\n")) }
            try db.open().importProgramme(p)
            print("Programme '\(p.name)' version \(p.version) imported.")
        }
    }
}
