import ArgumentParser
import Foundation
import HeadOffice
import TillDemo
import TillProtocol

/// `headoffice fraud`: the fraud rules, their alerts, and evaluating the rules on a generated month
/// (the back office's Fraud page does the same, and sets the rules).
struct FraudCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fraud",
        abstract: "Fraud rules: list them and their alerts; evaluate them on a generated month with known fraud.",
        discussion: "The rules are checked as head office applies the tills' documents. Set them on the back office's Fraud page.",
        subcommands: [Rules.self, Alerts.self, Evaluate.self])

    struct Rules: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The rules and their settings.")
        @OptionGroup var db: DatabaseOption
        func run() throws {
            for r in try db.open().fraudRules() {
                let extra = r.measure.isEmpty ? "" : " \(r.measure)"
                let percent = r.kind == .cardOneCashier || r.kind == .cashierNorm ? ", \(r.percent)%" : ""
                print("\(r.id)\t\(r.enabled ? "on" : "off")\t\(r.kind.rawValue)\(extra)\tthreshold \(r.threshold)\(percent), window \(r.windowSeconds) s\t\(r.action.rawValue)")
            }
        }
    }

    struct Alerts: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The alerts, newest first.")
        @OptionGroup var db: DatabaseOption
        @Option(help: "open, investigating, confirmed or dismissed (default: all).") var status: String?
        @Option(help: "One rule's alerts only.") var rule: String?
        @Option(help: "How many.") var limit = 100
        func run() throws {
            if let status, !FraudAlert.statuses.contains(status) {
                throw CLIFailure("A case is \(FraudAlert.statuses.joined(separator: ", ")), not '\(status)'")
            }
            let alerts = try db.open().fraudAlerts(status: status, rule: rule, limit: max(1, min(limit, 1_000)))
            if alerts.isEmpty { print("No alerts.") }
            for a in alerts {
                print("#\(a.id)\t\(ProtocolTime.format(a.happenedAt, timeZone: .gmt))\t\(a.ruleID)\t\(a.subject)\t\(a.status)\t\(a.figures)")
            }
        }
    }

    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate the rules as set on a generated month with every pattern injected; keep the figures for the Fraud page.",
            discussion: "The month is played in a scratch database of its own: nothing of this head office's data is touched.")
        @OptionGroup var db: DatabaseOption
        @Option(help: "Members in the generated month (100 to 100000).") var members = 2_000
        func run() throws {
            guard (100...100_000).contains(members) else { throw CLIFailure("--members \(members): give 100 to 100000") }
            let store = try db.open()
            FileHandle.standardError.write(Data("Generating and playing a month of \(members) members…\n".utf8))
            let e = try store.evaluateFraudRules(members: members, directory: NSTemporaryDirectory(), by: "cli")
            print("\(e.sales) sales; \(e.caught) of \(e.injected) injected cases caught; \(e.flaggedMembers) of \(e.normalMembers) normal members and "
                  + "\(e.flaggedCashiers) of \(e.normalCashiers) normal cashiers flagged")
            for r in e.rules { print("\(r.ruleID)\tcaught \(r.caught) of \(r.injected)\tflagged \(r.flagged) of \(r.normal)") }
            for m in e.missed { print("missed: \(m.pattern) \(m.subject)") }
        }
    }
}
