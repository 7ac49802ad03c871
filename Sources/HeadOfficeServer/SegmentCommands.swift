import ArgumentParser
import Foundation
import HeadOffice
import TillCore

/// `headoffice segment`: the members' RFM scores and the marketers' saved segments.
struct SegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Members' RFM scores and saved segments: score now, list, count, export a segment's members as CSV.",
        discussion: "headoffice serve scores every member once a day (UTC); the back office's Segments page builds and saves segments with the mouse.",
        subcommands: [RFM.self, List.self, Count.self, CSV.self])

    struct RFM: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rfm", abstract: "Score every member now (recency, frequency, monetary) and print the members in each cell.")
        @OptionGroup var db: DatabaseOption
        func run() throws {
            let store = try db.open()
            let started = Date()
            let result = try store.computeRFM()
            print("\(result.members) members scored in \(String(format: "%.1f", Date().timeIntervalSince(started))) s.")
            for cell in RFMCell.allCases { print("  \(cell.rawValue): \(result.byCell[cell] ?? 0)  (\(cell.meaning))") }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The saved segments: id, version, members when saved, name and conditions.")
        @OptionGroup var db: DatabaseOption
        func run() throws {
            let store = try db.open()
            let money = CashbackCommand.currency(store)
            let all = try store.segments()
            if all.isEmpty { print("No segment saved yet: build one on the back office's Segments page.") }
            for s in all {
                print("\(s.id)  v\(s.version)  \(s.members) members  \(s.name)")
                print("    " + s.definition.describe(money: money.format))
            }
        }
    }

    static func definition(_ store: HeadOfficeStore, id: String?, json: String?) throws -> SegmentDefinition {
        do {
            if let json { return try SegmentDefinition.decode(json) }
            guard let id else { throw CLIFailure("Name a saved segment (--segment ID, see headoffice segment list) or give --conditions JSON") }
            guard let s = try store.segmentVersions(id).first else { throw CLIFailure("There is no segment '\(id)': see headoffice segment list") }
            return s.definition
        } catch let p as SegmentProblem { throw CLIFailure(p.description) }
    }

    struct Count: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "How many members a saved segment, or conditions given as JSON, hold now.")
        @OptionGroup var db: DatabaseOption
        @Option(help: "A saved segment's id.") var segment: String?
        @Option(help: #"Conditions as JSON, e.g. {"match":"all","groups":[{"match":"all","conditions":[{"field":"rfm","text":"champions"}]}]}"#) var conditions: String?
        func run() throws {
            let store = try db.open()
            let d = try SegmentCommand.definition(store, id: segment, json: conditions)
            let started = Date()
            let n: Int64
            do { n = try store.segmentCount(d) } catch let p as SegmentProblem { throw CLIFailure(p.description) }
            print("\(n) members (counted in \(String(format: "%.0f", Date().timeIntervalSince(started) * 1000)) ms).")
        }
    }

    struct CSV: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "csv", abstract: "Write a segment's members as CSV (member, name, e-mail, postcode, home store, consent, RFM cell; mode 0600).")
        @OptionGroup var db: DatabaseOption
        @Option(help: "A saved segment's id.") var segment: String?
        @Option(help: "Conditions as JSON instead of a saved segment.") var conditions: String?
        @Option(help: ArgumentHelp("The file.", valueName: "file")) var output: String
        func run() throws {
            let store = try db.open()
            let csv = try store.segmentCSV(try SegmentCommand.definition(store, id: segment, json: conditions))
            guard FileManager.default.createFile(atPath: output, contents: Data(csv.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CLIFailure("Cannot write \(output)")
            }
            print("\(output): \(csv.split(separator: "\r\n").count - 1) members.")
        }
    }
}
