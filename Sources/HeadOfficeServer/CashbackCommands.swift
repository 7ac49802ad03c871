import ArgumentParser
import Foundation
import HeadOffice
import TillCore
import TillProtocol

/// `headoffice cashback`: the programme's scheduled conversion of points to money, on demand.
struct CashbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cashback",
        abstract: "The programme's cashback: run a period now, see the runs, write a period's payout file for the bank.",
        discussion: "headoffice serve runs each period on the programme's schedule (the last one that ended, once); this runs one on demand.",
        subcommands: [Run.self, Status.self, Payouts.self])

    static func period(_ text: String?, _ store: HeadOfficeStore) throws -> CashbackPeriod {
        if let text {
            guard let p = CashbackPeriod.parse(text) else { throw CLIFailure("--period '\(text)' must be YYYY-MM, YYYY-Qn or YYYY, e.g. 2026-Q3") }
            return p
        }
        guard let cashback = try store.latestProgramme()?.cashback else { throw CLIFailure("The programme in force has no cashback section") }
        return CashbackPeriod.lastEnded(cashback.schedule, before: HeadOfficeStore.now())
    }

    static func currency(_ store: HeadOfficeStore) -> Currency { Currency(code: (try? store.latestProgramme())??.currency ?? "EUR") ?? .eur }

    static func writePayouts(_ store: HeadOfficeStore, _ period: String, to file: String) throws -> Int {
        let (csv, lines) = try store.cashbackPayoutCSV(period, currency: currency(store))
        guard FileManager.default.createFile(atPath: file, contents: Data(csv.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CLIFailure("Cannot write \(file)")
        }
        return lines
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Convert every eligible card's points for a period (once; a run stopped midway is finished by running it again).")
        @OptionGroup var db: DatabaseOption
        @Option(help: "YYYY-MM, YYYY-Qn or YYYY (default: the last period of the programme's schedule that ended).") var period: String?
        @Option(help: ArgumentHelp("Write the period's payout file for the bank (CSV: card, amount, reference; mode 0600).", valueName: "file")) var output: String?
        func run() throws {
            let store = try db.open()
            let p = try CashbackCommand.period(period, store)
            let started = Date()
            let money = CashbackCommand.currency(store)
            let run: CashbackRun
            do {
                run = try store.runCashback(period: p) { done in
                    FileHandle.standardError.write(Data("\r\(done) cards converted for \(p.id)".utf8))
                }
            } catch let e as ServiceError { throw CLIFailure(e.description) }
            FileHandle.standardError.write(Data("\n".utf8))
            print(run.alreadyDone
                  ? "Cashback \(p.id) was already done: \(run.cards) cards, \(run.points) points, \(money.format(run.amount)) paid; nothing converted again."
                  : "Cashback \(p.id) done: \(run.cards) cards in all, \(run.points) points converted to \(money.format(run.amount)) (this run took \(String(format: "%.1f", Date().timeIntervalSince(started))) s).")
            if let output { print("Payout file \(output): \(try CashbackCommand.writePayouts(store, p.id, to: output)) lines.") }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The cashback runs, newest first.")
        @OptionGroup var db: DatabaseOption
        func run() throws {
            let store = try db.open()
            let money = CashbackCommand.currency(store)
            let runs = try store.cashbackRuns()
            if runs.isEmpty { print("No cashback run yet.") }
            for r in runs { print("\(r.period)  \(r.state)  \(r.cards) cards  \(r.points) points  \(money.format(r.amount))") }
        }
    }

    struct Payouts: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a period's payout file for the bank again (CSV: card, amount, reference; mode 0600).")
        @OptionGroup var db: DatabaseOption
        @Option(help: "YYYY-MM, YYYY-Qn or YYYY.") var period: String
        @Option(help: ArgumentHelp("The file.", valueName: "file")) var output: String
        func run() throws {
            print("Payout file \(output): \(try CashbackCommand.writePayouts(try db.open(), period, to: output)) lines.")
        }
    }
}

/// `headoffice expiry`: the programme's point expiry, on demand (serve runs it once a day).
struct ExpiryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expiry",
        abstract: "Point expiry: expire the points past the programme's age now, or see what a card has expiring soon.",
        discussion: "headoffice serve runs it once a day (UTC). Running it again expires nothing more: the expiry itself counts as a use of the oldest points.",
        subcommands: [Run.self, Show.self])

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Expire every card's points older than the programme allows, oldest first.")
        @OptionGroup var db: DatabaseOption
        func run() throws {
            let r: ExpiryRun
            do { r = try db.open().runExpiry() } catch let e as ServiceError { throw CLIFailure(e.description) }
            print("Points earned before \(ProtocolTime.format(r.cutoff)) expired: \(r.points) points on \(r.cards) cards.")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A card's points that expire within the programme's notice days.")
        @OptionGroup var db: DatabaseOption
        @Argument(help: "The card number.") var card: String
        func run() throws {
            guard let soon = try db.open().expiringPoints(card) else { print("No points of card \(LoyaltyCardNumber.masked(card)) expire soon."); return }
            print("\(soon.points) points of card \(LoyaltyCardNumber.masked(card)) expire by \(ProtocolTime.format(soon.by)).")
        }
    }
}
