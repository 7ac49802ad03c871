import ArgumentParser
import Foundation
import TillCore
import TillProtocol
import TillStore

extension TillCommand {
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export the audit trail: who did what and when (sign-on, overrides, voids, refunds, cash, X/Z).",
            discussion: "The trail is append-only in the till's database; this writes it as CSV (default) or JSON.")

        enum Format: String, ExpressibleByArgument, CaseIterable { case csv, json }

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("First day (or time) to include.", valueName: "date")) var from: String?
        @Option(help: ArgumentHelp("Last day to include (or time to stop before).", valueName: "date")) var to: String?
        @Option(help: "csv or json.") var format: Format = .csv
        @Option(name: [.short, .long], help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file")) var output: String?

        func validate() throws {
            if let from, ExportRange.start(of: from) == nil { throw ValidationError("--from '\(from)' is not a date: use YYYY-MM-DD, e.g. 2026-11-23") }
            if let to, ExportRange.end(of: to) == nil { throw ValidationError("--to '\(to)' is not a date: use YYYY-MM-DD, e.g. 2026-11-23") }
        }

        func run() throws {
            let db = try global.loadConfig().openDatabase()
            let entries = try db.auditTrail(from: from.flatMap { ExportRange.start(of: $0) }, to: to.flatMap { ExportRange.end(of: $0) })
            let data: Data
            switch format {
            case .json:
                struct Row: Encodable { var at: String, action: String, cashier: String?, supervisor: String?, saleID: String?, detail: String }
                let e = JSONEncoder()
                e.outputFormatting = [.prettyPrinted, .sortedKeys]
                data = try e.encode(entries.map {
                    Row(at: ProtocolTime.format($0.at), action: $0.action, cashier: $0.cashier, supervisor: $0.supervisor, saleID: $0.saleID, detail: $0.detail)
                })
            case .csv:
                var rows = ["at,action,cashier,supervisor,sale_id,detail"]
                for a in entries {
                    rows.append([ProtocolTime.format(a.at), a.action, a.cashier ?? "", a.supervisor ?? "", a.saleID ?? "", a.detail]
                        .map(SalesCSV.quote).joined(separator: ","))
                }
                data = Data((rows.joined(separator: "\n") + "\n").utf8)
            }
            if let output {
                do { try data.write(to: URL(fileURLWithPath: output), options: .atomic) } catch { throw CLIError("Cannot write \(output): \(error.localizedDescription)") }
                printError("Wrote \(entries.count) audit entries to \(output).")
            } else {
                FileHandle.standardOutput.write(data)
            }
        }
    }

    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The X report (the period so far; resets nothing) or the kept Z reports, as text or JSON.",
            discussion: "Z reports are made at the till (cash office, after the blind count), never from here.")

        enum Kind: String, ExpressibleByArgument, CaseIterable { case x, z }
        enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

        @OptionGroup var global: GlobalOptions
        @Argument(help: "x: the period so far; z: the Z reports kept on this till.") var kind: Kind
        @Option(help: "For z: which Z report (default: the last).") var number: Int64?
        @Option(help: "text or json.") var format: Format = .text

        func run() throws {
            let config = try global.loadConfig()
            let db = try config.openDatabase()
            let report: PeriodReport
            switch kind {
            case .x:
                report = try db.report(z: false, counted: nil, at: Int64(Date().timeIntervalSince1970 * 1000), till: config.identity) { _ in nil }
            case .z:
                let kept = try db.zReports(limit: 10_000)
                guard let found = number.map({ n in kept.first { $0.number == n } }) ?? kept.first else {
                    throw CLIError(number.map { "There is no Z report \($0) on this till" } ?? "No Z report has been made on this till yet")
                }
                report = found
            }
            switch format {
            case .json:
                let e = JSONEncoder()
                e.outputFormatting = [.prettyPrinted, .sortedKeys]
                FileHandle.standardOutput.write(try e.encode(report) + Data("\n".utf8))
            case .text:
                let receipts = try ReceiptService(config: config, database: db, spooler: nil)
                print(receipts.paperText(receipts.renderReport(report)).joined(separator: "\n"))
            }
        }
    }
}
