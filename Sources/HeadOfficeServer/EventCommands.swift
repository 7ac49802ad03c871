import ArgumentParser
import Foundation
import HeadOffice

/// `headoffice event`: the custom events channels report of members (a review posted, the app
/// installed…), their points and the caps per member.
struct EventCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "event",
        abstract: "Custom events: add or change one (points, caps per member a day and a month), list them.",
        discussion: "Channels report events with POST /api/v1/channel/events (docs/headoffice-api.yaml); the back office's Events page does the same as these.",
        subcommands: [Save.self, List.self])

    struct Save: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an event or change it.")
        @OptionGroup var db: DatabaseOption
        @Argument(help: "The code channels send: lower-case letters, digits, - (e.g. review-posted).") var code: String
        @Option(help: "Its name (members see it in their history).") var name: String
        @Option(help: "The points it earns.") var points: Int64
        @Option(help: "The most a member may earn it a day (0: no cap).") var perDay: Int64 = 1
        @Option(help: "The most a member may earn it a month (0: no cap).") var perMonth: Int64 = 0
        @Flag(help: "Switch it off: it earns nothing until saved again without --off.") var off = false
        func run() throws {
            let store = try db.open()
            do {
                let t = try store.saveEventType(EventType(code: code, name: name, points: points, perDay: perDay, perMonth: perMonth, active: !off), by: "cli")
                print("Event \(t.code) saved: \(t.points) points, \(t.perDay == 0 ? "no cap" : "at most \(t.perDay)") a day, "
                      + "\(t.perMonth == 0 ? "no cap" : "at most \(t.perMonth)") a month\(t.active ? "" : ", off").")
            } catch let e as ChannelRefusal {
                throw CLIFailure(e.message)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every event with its points, caps, and how many earned points in the last 30 days.")
        @OptionGroup var db: DatabaseOption
        func run() throws {
            let store = try db.open()
            let all = try store.eventTypes()
            if all.isEmpty { print("No event yet: headoffice event save CODE --name NAME --points N") }
            for (t, recent) in all {
                print("\(t.code)  \(t.points) points  a day \(t.perDay == 0 ? "-" : String(t.perDay)), a month \(t.perMonth == 0 ? "-" : String(t.perMonth))"
                      + "  \(t.active ? "on" : "off")  \(recent) in 30 days  \(t.name)")
            }
        }
    }
}
