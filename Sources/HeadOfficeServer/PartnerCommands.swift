import ArgumentParser
import Foundation
import HeadOffice
import TillCore
import TillProtocol

/// `headoffice partner`: the coalition's partners (the chain, the bank, partner retailers).
struct PartnerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partner",
        abstract: "The coalition's partners: their earn rule and rates, and the bank's daily transaction file.",
        subcommands: [Save.self, List.self, Feed.self])

    struct Save: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "save",
            abstract: "Add a partner or change one. A new partner gets its channel key (printed once, or written to --output with mode 0600).",
            discussion: """
                Rates are minor units per 100 points: --issue-rate 100 means the partner pays 1.00 for every 100 points it issues; \
                --redeem-rate 90 that it is paid 0.90 for every 100 points redeemed with it. The chain's partner is 'chain' (its tills \
                and its own channels earn by the programme's rules).
                """)
        @OptionGroup var db: DatabaseOption
        @Argument(help: "The partner's id, e.g. bank (its channel has the same name).") var id: String
        @Option(help: "The name on its statements.") var name: String?
        @Option(help: "chain, bank or retailer.") var kind: String = "retailer"
        @Option(help: ArgumentHelp("The earn rule: N/UNIT points per UNIT minor units of spend, e.g. 1/1000 (1 point per 10.00).", valueName: "N/UNIT")) var earn: String = "0/100"
        @Option(help: ArgumentHelp("Categories that earn a multiple, e.g. coffee=2,fuel=3.", valueName: "list")) var multipliers: String = ""
        @Option(help: "Minor units per 100 points the partner pays for the points it issues.") var issueRate: Int64 = 0
        @Option(help: "Minor units per 100 points the partner is paid for the points redeemed with it.") var redeemRate: Int64 = 0
        @Flag(help: "This partner receives the cashback payout file (it credits the members' cards).") var cashbackPayer = false
        @Option(help: ArgumentHelp("Write a new partner's key to this file (mode 0600) instead of printing it.", valueName: "file")) var output: String?

        func run() throws {
            guard let k = PartnerKind(rawValue: kind) else { throw CLIFailure("--kind '\(kind)' must be chain, bank or retailer") }
            let parts = earn.split(separator: "/").map(String.init)
            guard parts.count == 2, let points = Int64(parts[0]), let unit = Int64(parts[1]) else {
                throw CLIFailure("--earn '\(earn)' must be N/UNIT, e.g. 1/1000 for 1 point per 10.00")
            }
            let store = try db.open()
            let key: String?
            do {
                let existing = try store.partner(id)
                key = try store.savePartner(Partner(id: id, name: name ?? existing?.name ?? id, kind: existing?.kind ?? k, earnPoints: points, earnUnit: unit,
                                                    multipliers: try Partner.parseMultipliers(multipliers), issueRate: issueRate, redeemRate: redeemRate,
                                                    cashbackPayer: cashbackPayer))
            } catch let e as ChannelRefusal { throw CLIFailure(e.message) }
            guard let key else { print("Partner \(id) saved."); return }
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: Data((key + "\n").utf8), attributes: [.posixPermissions: 0o600])
                else { throw CLIFailure("Cannot write \(output)") }
                print("Partner \(id) added; its channel key is in \(output) (mode 0600).")
            } else {
                print("Partner \(id) added. Its channel key (shown once):")
                print(key)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the partners with their earn rule and rates.")
        @OptionGroup var db: DatabaseOption
        func run() throws {
            let store = try db.open()
            let money = CashbackCommand.currency(store)
            for p in try store.partners() {
                let rule = p.kind == .chain ? "the programme's rules" : "\(p.earnPoints) per \(money.format(p.earnUnit))" + (p.multipliers.isEmpty ? "" : " (\(p.multipliersText))")
                print("\(p.id)  \(p.kind.rawValue)  \(p.name)  earns \(rule)  issues at \(money.format(p.issueRate))/100 pts  redeems at \(money.format(p.redeemRate))/100 pts\(p.cashbackPayer ? "  cashback payer" : "")")
            }
        }
    }

    struct Feed: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply a partner's daily transaction file: all of it or nothing (each wrong row named); rows applied before count once.",
            discussion: "CSV with the header \(HeadOfficeStore.partnerFileHeader); amount_minor in minor units (12.34 is 1234); a reversal names the id it reverses.")
        @OptionGroup var db: DatabaseOption
        @Argument(help: "The partner's id.") var partner: String
        @Option(help: ArgumentHelp("The file.", valueName: "file")) var file: String
        func run() throws {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw CLIFailure("Cannot read \(file) as UTF-8 text")
            }
            do {
                let r = try db.open().applyPartnerFile(text, partner: partner)
                print("\(file): \(r.rows) rows; \(r.accepted) applied (\(r.points) points), \(r.duplicates) applied before.")
            } catch let e as PartnerFileRefusal { throw CLIFailure(e.description) } catch let e as ChannelRefusal { throw CLIFailure(e.message) }
        }
    }
}

/// `headoffice settlement`: what the partners owe and are owed, per period.
struct SettlementCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settlement",
        abstract: "The partners' statements per period: show them, close a period, correct a closed one, export a statement as CSV.",
        subcommands: [Show.self, Close.self, Correct.self, Export.self])

    static func period(_ text: String) throws -> CashbackPeriod {
        guard let p = CashbackPeriod.parse(text) else { throw CLIFailure("--period '\(text)' must be YYYY-MM, YYYY-Qn or YYYY, e.g. 2026-11") }
        return p
    }

    static func print(_ s: Settlement, _ money: Currency) {
        Swift.print("Settlement \(s.period.id)\(s.closed ? " (closed)" : " (open: worked out from the ledger now)")")
        for st in s.statements {
            Swift.print("  \(st.partner.name) [\(st.partner.id)]\(st.closedAt.map { " closed \(ProtocolTime.format($0)) by \(st.closedBy ?? "")" } ?? "")")
            for l in st.lines { Swift.print("    \(l.label): \(l.points) points → \(money.format(l.amount))") }
            Swift.print("    Net: \(st.net >= 0 ? "owed by" : "owed to") \(st.partner.name) \(money.format(abs(st.net)))")
        }
        for m in s.programme { Swift.print("  Programme: \(m.label): \(m.points) points") }
        Swift.print("  Ledger check: statements \(s.statementPoints) points, ledger \(s.ledgerPoints) points: \(s.reconciled ? "equal" : "NOT EQUAL")")
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a period's statements and the check against the ledger.")
        @OptionGroup var db: DatabaseOption
        @Option(help: "YYYY-MM, YYYY-Qn or YYYY.") var period: String
        func run() throws {
            let store = try db.open()
            SettlementCommand.print(try store.settlement(try SettlementCommand.period(period)), CashbackCommand.currency(store))
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a period that has ended: its statements never change again (closing twice does nothing).")
        @OptionGroup var db: DatabaseOption
        @Option(help: "YYYY-MM, YYYY-Qn or YYYY.") var period: String
        @Option(help: "Who closes it (recorded).") var by: String = NSUserName()
        func run() throws {
            let store = try db.open()
            do {
                SettlementCommand.print(try store.closeSettlement(try SettlementCommand.period(period), by: by), CashbackCommand.currency(store))
            } catch let e as ServiceError { throw CLIFailure(e.description) }
        }
    }

    struct Correct: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Correct a closed statement: the amount goes on the partner's next statement closed.")
        @OptionGroup var db: DatabaseOption
        @Argument(help: "The partner's id.") var partner: String
        @Option(help: "The closed period corrected.") var period: String
        @Option(help: "Minor units the partner owes (negative: is owed).") var amount: Int64
        @Option(help: "What it is for.") var note: String
        @Option(help: "Who corrects it (recorded).") var by: String = NSUserName()
        func run() throws {
            do {
                try db.open().addSettlementCorrection(partner: partner, corrects: try SettlementCommand.period(period), amount: amount, note: note, by: by)
            } catch let e as ServiceError { throw CLIFailure(e.description) }
            Swift.print("Correction to \(partner)'s \(period) recorded: it goes on their next statement closed.")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "csv", abstract: "Write a partner's statement for a period as CSV.")
        @OptionGroup var db: DatabaseOption
        @Argument(help: "The partner's id.") var partner: String
        @Option(help: "YYYY-MM, YYYY-Qn or YYYY.") var period: String
        @Option(help: ArgumentHelp("The file (default: standard output).", valueName: "file")) var output: String?
        func run() throws {
            let store = try db.open()
            guard let s = try store.settlement(try SettlementCommand.period(period)).statements.first(where: { $0.partner.id == partner }) else {
                throw CLIFailure("There is no partner \(partner): headoffice partner list")
            }
            let csv = HeadOfficeStore.settlementCSV(s, currency: CashbackCommand.currency(store))
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: Data(csv.utf8)) else { throw CLIFailure("Cannot write \(output)") }
            } else {
                Swift.print(csv, terminator: "")
            }
        }
    }
}
