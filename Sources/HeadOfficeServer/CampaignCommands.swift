import ArgumentParser
import Foundation
import HeadOffice
import TillCore
import TillProtocol

/// `headoffice campaign`: e-mail campaigns to a saved segment, with a holdout.
struct CampaignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "E-mail campaigns to a saved segment with a random holdout: create, list, show, pause, resume.",
        discussion: """
            headoffice serve starts each campaign at its time and sends its e-mails through the [mail] relay (headoffice.toml needs \
            public_url, the address members' mail programs reach head office at, for the links and one-click unsubscribe).
            """,
        subcommands: [Create.self, List.self, Show.self, Pause.self, Resume.self])

    static func time(_ text: String, _ what: String) throws -> Int64 {
        if text == "now" { return HeadOfficeStore.now() }
        if let t = ProtocolTime.parse(text) { return t }
        if text.count == 10, let t = ProtocolTime.parse(text + "T00:00:00Z") { return t }
        throw CLIFailure("\(what) '\(text)' must be now, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ")
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a campaign; it starts at --starts (default now).")
        @OptionGroup var db: DatabaseOption
        @Option(help: "The campaign's name (its id is made from it).") var name: String
        @Option(help: "A saved segment's id (headoffice segment list).") var segment: String
        @Option(help: "The segment's version (default: its latest).") var version: Int64?
        @Option(help: "The share held out, in percent (0 to 50; they receive nothing and are the control group).") var holdout: String = "10"
        @Option(help: "The e-mail's subject; may use {{firstName}}.") var subject: String = ""
        @Option(help: ArgumentHelp("The e-mail's text: {{firstName}}, {{lastName}}, {{card}}, {{points}}, {{link}} (the tracked link), {{unsubscribe}}.", valueName: "file"))
        var text: String?
        @Option(help: "Where the e-mail's link leads (https://…).") var link: String = ""
        @Option(help: "E-mails a second at most.") var rate: Int64 = 1_000
        @Option(help: "now, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ.") var starts: String = "now"
        @Option(help: "When its results window ends, and its offer with it (default: 30 days after it starts).") var ends: String?
        @Option(help: "email, till (the offer only) or both.") var channels = "email"
        @Option(help: "The offer at the tills: its name (the till and the receipt show it).") var offerName: String?
        @Option(help: "The offer's multiple of the base points on its lines, e.g. 2 or 1.5.") var offerMultiple: String?
        @Option(help: "The offer's bonus points, once per sale that qualifies.") var offerPoints: Int64?
        @Option(help: "The categories the offer is on, comma-separated (none and no SKUs: the whole basket).") var offerCategories: String?
        @Option(help: "The SKUs the offer is on, comma-separated.") var offerSkus: String?
        @Option(help: "Instead of points: a percentage off the offer's lines, e.g. 10.") var offerPercent: String?
        @Option(help: "Instead of points: an amount off the offer's lines once per sale, e.g. 2.50.") var offerAmount: String?
        @Flag(help: "Instead of points: one of the offer's items free (the cheapest sold by the unit).") var offerFreeItem = false
        @Option(help: "The least the offer's lines (for a free item: the sale) must come to, e.g. 10.00.") var offerMinSpend: String?
        @Option(help: "Sales per member the offer can be used in.") var offerUses: Int64 = 1
        @Flag(help: "Members must activate the offer (on their page, or by following the e-mail's link).") var offerActivate = false
        func run() throws {
            let store = try db.open()
            var body = ""
            if let text {
                guard let b = FileManager.default.contents(atPath: text).flatMap({ String(data: $0, encoding: .utf8) }) else {
                    throw CLIFailure("Cannot read the e-mail's text from \(text)")
                }
                body = b
            }
            guard let channel = CampaignChannels(rawValue: channels) else { throw CLIFailure("--channels '\(channels)' must be email, till or both") }
            let start = try CampaignCommand.time(starts, "--starts")
            let end = try ends.map { try CampaignCommand.time($0, "--ends") } ?? start + 30 * 86_400_000
            do {
                let bp = try HeadOfficeStore.holdout(holdout)
                let offer = try offerName.flatMap { name in
                    try HeadOfficeStore.offer(OfferTerms(name: name, multiple: offerMultiple ?? "", points: offerPoints.map(String.init) ?? "",
                                                         categories: offerCategories ?? "", skus: offerSkus ?? "", minSpend: offerMinSpend ?? "",
                                                         uses: String(offerUses), activate: offerActivate, percentOff: offerPercent ?? "",
                                                         amountOff: offerAmount ?? "", freeItem: offerFreeItem), currency: CashbackCommand.currency(store))
                }
                let c = try store.createCampaign(CampaignDraft(name: name, segmentID: segment, segmentVersion: version, holdoutBP: bp, subject: subject,
                                                               body: body, link: link, ratePerSecond: rate, startsAt: start, endsAt: end,
                                                               offer: offer, channels: channel), by: "cli")
                print("Campaign \(c.id) created for segment \(c.segmentID) v\(c.segmentVersion), \(HeadOfficeStore.percent(bp)) held out; it starts \(ProtocolTime.format(c.startsAt, timeZone: .gmt)).")
            } catch let p as CampaignProblem { throw CLIFailure(p.description) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The campaigns, newest first.")
        @OptionGroup var db: DatabaseOption
        func run() throws {
            let all = try db.open().campaigns()
            if all.isEmpty { print("No campaign yet.") }
            for c in all { print("\(c.id)  \(c.state.rawValue)  segment \(c.segmentID) v\(c.segmentVersion)  targeted \(c.targeted), held out \(c.heldOut)  \(c.name)") }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A campaign's e-mails by state and what members did with them.")
        @OptionGroup var db: DatabaseOption
        @Argument(help: "The campaign's id.") var id: String
        func run() throws {
            let store = try db.open()
            guard let c = try store.campaign(id) else { throw CLIFailure("There is no campaign '\(id)': see headoffice campaign list") }
            let p = try store.campaignProgress(id)
            print("\(c.name) (\(c.id)): \(c.state.rawValue); targeted \(c.targeted), held out \(c.heldOut)")
            for (state, n) in p.byState.sorted(by: { $0.key < $1.key }) { print("  \(state): \(n)") }
            print("  opened (approximate): \(p.opened), clicked: \(p.clicked), unsubscribed: \(p.unsubscribed)")
            if let o = c.offer {
                let r = try store.offerRedemptions(id)
                print("  offer \(o.name) (\(o.summary(currency: try store.currency()))): used \(r.uses) times by \(r.members) members")
            }
        }
    }

    struct Pause: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause a campaign (no more e-mails until it is resumed).")
        @OptionGroup var db: DatabaseOption
        @Argument(help: "The campaign's id.") var id: String
        func run() throws {
            do { print("\(id) is \(try db.open().setCampaignPaused(id, true).state.rawValue).") } catch let p as CampaignProblem { throw CLIFailure(p.description) }
        }
    }

    struct Resume: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a paused campaign where it stopped.")
        @OptionGroup var db: DatabaseOption
        @Argument(help: "The campaign's id.") var id: String
        func run() throws {
            do { print("\(id) is \(try db.open().setCampaignPaused(id, false).state.rawValue).") } catch let p as CampaignProblem { throw CLIFailure(p.description) }
        }
    }
}
