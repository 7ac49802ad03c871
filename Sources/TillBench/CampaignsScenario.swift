import ArgumentParser
import Foundation
import Glibc
import HeadOffice
import PrivateServers
import TillCore
import TillDemo
import TillProtocol

/// `till-bench campaigns`: what a marketer waits for among 400,000 members and 10,000,000 sales,
/// on SQLite and PostgreSQL: every member's RFM scores, and the live count of a segment as its
/// conditions change (the slowest of four typical segments, median of the samples), and a
/// campaign's e-mails a second to a loopback SMTP server (aiosmtpd). The history
/// goes straight into the tables (as `crm` loads it) and is rolled up by the reports' roll-up.
struct CampaignsScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaigns",
        abstract: "RFM scores for every member and a segment's live count among 400,000 members and 10,000,000 sales (SQLite and PostgreSQL).")

    @Option(help: "Backends to measure, comma-separated.") var backends = "sqlite,postgres"
    @Option(help: "Members loaded at head office.") var members = 400_000
    @Option(help: "Sales of the chain's history (one a second from 2026-01-01, store 9999).") var history = 10_000_000
    @Option(help: "Times each count is run (the median is reported).") var samples = 5
    @Option(help: "A PostgreSQL database to use (default: a private cluster this run starts).") var postgres: String?
    @Option(help: "Python with aiosmtpd (the loopback SMTP server the e-mails go to).") var python = ".venv-st/bin/python"
    @Option(help: "Seconds of sending measured.") var sendSeconds = 20.0
    @Option(help: "Connections to the SMTP server at once.") var connections = 16

    /// Segments a marketer builds: a category bought lately with a spend band; a cell or loyal
    /// and agreeing; lapsed big spenders by postcode; a tier with a points balance.
    static let segments: [(String, SegmentDefinition)] = [
        ("category in 30 days and spend band", SegmentDefinition(groups: [SegmentGroup(conditions: [
            SegmentCondition(.category, text: "cat3", days: 30), SegmentCondition(.spend, min: 20_000, max: 80_000)])])),
        ("champions or (agreed and 10+ visits)", SegmentDefinition(match: .any, groups: [
            SegmentGroup(conditions: [SegmentCondition(.rfm, text: "champions")]),
            SegmentGroup(conditions: [SegmentCondition(.consent, flag: true), SegmentCondition(.visits, min: 10)])])),
        ("SKU in 60 days, not seen for a week", SegmentDefinition(groups: [SegmentGroup(conditions: [
            SegmentCondition(.sku, text: "SKU17", days: 60), SegmentCondition(.lastSeenBefore, date: "2026-04-20")])])),
        ("points balance and agreed", SegmentDefinition(groups: [SegmentGroup(conditions: [
            SegmentCondition(.balance, min: 100, max: 300), SegmentCondition(.consent, flag: true)])])),
    ]

    func run() throws {
        let start = ProtocolTime.parse("2026-01-01T00:00:00Z")!
        // "Now" is the day after the history's last sale.
        let now = start + Int64(history) * 1_000 + 86_400_000
        for backend in backends.split(separator: ",").map(String.init) {
            let scratch = ScratchDirectory()
            let (store, loaded) = try loadedHeadOffice(backend, cards: members, items: 2_000, postgres: postgres, scratch: scratch)
            var t0 = Date()
            try store.loadSyntheticSales(history, members: members, startingAt: start) { done in
                FileHandle.standardError.write(Data("\r  \(backend): \(done) of \(history) sales loaded".utf8))
            }
            FileHandle.standardError.write(Data("\n  \(backend): rolling up…\n".utf8))
            let loadTime = Date().timeIntervalSince(t0)
            t0 = Date()
            let rolled = try store.rollUpReports(chunk: 20_000)
            let rollupTime = Date().timeIntervalSince(t0)
            // The planner's statistics of the rolled-up tables, as autovacuum (PostgreSQL) keeps
            // them on a head office that filled them day by day.
            _ = try store.database.write { c in try c.execute("ANALYZE", []) }
            FileHandle.standardError.write(Data("  \(backend): scoring every member…\n".utf8))
            t0 = Date()
            let rfm = try store.computeRFM(at: now)
            let rfmTime = Date().timeIntervalSince(t0)
            var slowest = 0.0
            var lines: [String] = []
            for (name, definition) in Self.segments {
                var times: [Double] = [], n: Int64 = 0
                for _ in 0..<max(1, samples) {
                    let t = Date()
                    n = try store.segmentCount(definition, at: now)
                    times.append(Date().timeIntervalSince(t))
                }
                let median = times.sorted()[times.count / 2]
                slowest = max(slowest, median)
                lines.append("    \(name): \(n) members in \(fixed(median * 1000, 1)) ms")
            }
            // A campaign to every member who agreed, e-mailed to aiosmtpd (discarding what it takes)
            // on loopback for `sendSeconds`.
            FileHandle.standardError.write(Data("  \(backend): drawing the campaign's members…\n".utf8))
            let agreed = try store.saveSegment(id: nil, name: "Agreed", definition: SegmentDefinition(groups: [SegmentGroup(conditions: [
                SegmentCondition(.consent, flag: true)])]), by: "bench", at: now)
            try store.createCampaign(CampaignDraft(name: "Bench", segmentID: agreed.id, subject: "{{firstName}}, double points this week",
                                                   body: "Hello {{firstName}},\n\nYou have {{points}} points on card {{card}}: {{link}}\n\nNo more e-mails: {{unsubscribe}}\n",
                                                   link: "https://shop.example.com/week", ratePerSecond: 100_000, startsAt: 0, endsAt: 86_400_000), by: "bench")
            t0 = Date()
            _ = try store.launchDueCampaigns(at: now)
            let drawTime = Date().timeIntervalSince(t0)
            let port = PrivatePostgres.freePort()
            let smtp = try spawn(python, ["-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Sink"],
                                 environment: ProcessInfo.processInfo.environment, stdout: scratch.path + "/smtp.out", stderr: scratch.path + "/smtp.err")
            defer { kill(smtp, SIGTERM); _ = waitForExit(smtp) }
            Thread.sleep(forTimeInterval: 1.5)
            let mailer = try CampaignMailer(MailSettings(relay: "smtp://127.0.0.1:\(port)", from: "Rewards <rewards@example.com>"), connections: connections,
                                        journal: scratch.path + "/mail-journal")
            FileHandle.standardError.write(Data("  \(backend): sending for \(Int(sendSeconds)) s…\n".utf8))
            t0 = Date()
            let sent = try store.sendCampaign("bench", mailer: mailer, publicURL: "https://rewards.example.com", until: Date() + sendSeconds)
            let sendTime = Date().timeIntervalSince(t0)
            let emailsPerSecond = Double(sent) / max(sendTime, 0.001)
            let progress = try store.campaignProgress("bench")
            print("""
                campaigns on \(backend): \(loaded); \(history) sales loaded in \(fixed(loadTime)) s
                  roll-up: \(rolled) sales in \(fixed(rollupTime)) s (\(Int(Double(rolled) / max(rollupTime, 0.001))) a second)
                  RFM: \(rfm.members) members scored in \(fixed(rfmTime)) s
                  segment counts (median of \(samples)):
                \(lines.joined(separator: "\n"))
                  campaign to the \(agreed.members) members who agreed: drawn in \(fixed(drawTime)) s (\(progress.byState["holdout"] ?? 0) held out)
                  e-mails: \(sent) sent in \(fixed(sendTime)) s on \(connections) connections to aiosmtpd on loopback (\(Int(emailsPerSecond)) a second); failed \(progress.byState["failed"] ?? 0), bounced \(progress.byState["bounced"] ?? 0)
                """)
            print(#"{"scenario":"campaigns","backend":"\#(backend)","members":\#(members),"sales":\#(history),"rfm_s":\#(fixed(rfmTime)),"segment_count_ms":\#(fixed(slowest * 1000, 1)),"emails_per_s":\#(Int(emailsPerSecond)),"rollup_per_s":\#(Int(Double(rolled) / max(rollupTime, 0.001)))}"#)
        }
    }
}
