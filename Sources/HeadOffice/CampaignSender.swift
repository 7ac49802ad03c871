public import Foundation
import Logging
public import Mustache
import ServiceLifecycle
public import TillCore
import TillProtocol

/// A campaign's e-mail to one member as RFC 5322 text: the text the marketer wrote with the
/// member's fields filled in, as plain text and as HTML (with the open pixel), and the one-click
/// unsubscribe headers of RFC 8058 (List-Unsubscribe with the member's own https link, and
/// List-Unsubscribe-Post). Links go through head office (`/e/c/TOKEN`) so a click is counted.
public struct CampaignMessage: Sendable {
    public let subject: MustacheTemplate, text: MustacheTemplate
    public let settings: MailSettings
    /// The campaign's offer in words ("Double points on coffee: 2× points on Coffee"), or "".
    public let offer: String
    /// Head office's address as members' mail programs reach it, without a trailing slash.
    public let publicURL: String

    public init(_ campaign: Campaign, settings: MailSettings, publicURL: String, currency: Currency) throws {
        let pragma = "{{% CONTENT_TYPE: TEXT}}"
        subject = try MustacheTemplate(string: pragma + campaign.subject)
        text = try MustacheTemplate(string: pragma + campaign.body)
        self.settings = settings
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        offer = campaign.offer.map { "\($0.name): \($0.summary(currency: currency))" } ?? ""
    }

    public func links(_ token: String) -> (click: String, unsubscribe: String, open: String) {
        (publicURL + "/e/c/" + token, publicURL + "/e/u/" + token, publicURL + "/e/o/" + token + ".gif")
    }

    public func bytes(_ m: CampaignMail, campaign: String, at date: Date = Date()) -> [UInt8] {
        let (click, unsubscribe, open) = links(m.token)
        let fields: [String: Any] = ["firstName": m.firstName, "lastName": m.lastName, "card": m.card.map(LoyaltyCardNumber.masked) ?? "",
                                     "points": String(m.points), "link": click, "unsubscribe": unsubscribe, "offer": offer]
        let subjectText = subject.render(fields).replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        let body = text.render(fields).replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        let encodedSubject = subjectText.allSatisfy(\.isASCII) ? subjectText : "=?UTF-8?B?" + Data(subjectText.utf8).base64EncodedString() + "?="
        var html = body.htmlEscaped
        for url in [click, unsubscribe] { html = html.replacingOccurrences(of: url, with: "<a href=\"\(url)\">\(url)</a>") }
        html = "<!doctype html><html><body><p>" + html.replacingOccurrences(of: "\n", with: "<br>\n")
            + "</p><img src=\"\(open)\" width=\"1\" height=\"1\" alt=\"\"></body></html>"
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let domain = settings.fromAddress.split(separator: "@").last.map(String.init) ?? "headoffice"
        let boundary = "part-" + m.token
        let lines = [
            "From: \(settings.from)", "To: \(m.email)", "Subject: \(encodedSubject)", "Date: \(formatter.string(from: date))",
            "Message-ID: <\(campaign).\(m.token)@\(domain)>", "MIME-Version: 1.0",
            "List-Unsubscribe: <\(unsubscribe)>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"", "",
            "--" + boundary, "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "", body, "",
            "--" + boundary, "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: 8bit", "", html, "",
            "--" + boundary + "--", "",
        ]
        return Array(lines.joined(separator: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
    }
}

extension HeadOfficeStore {
    /// Sends a started campaign's e-mails, a round (one per connection) at a time at no more
    /// than its rate, until none waits, the campaign is paused or `until` passes. Returns how
    /// many were sent. What the mailer's journal holds from a sender that stopped is recorded
    /// first; each round's members are written to it as their messages' ends go out
    /// (`CampaignMailer`), and it is emptied once the round's outcomes are recorded: a sender
    /// killed at any point and started again sends every member their e-mail once.
    @discardableResult
    public func sendCampaign(_ id: String, mailer: CampaignMailer, publicURL: String, until deadline: Date = .distantFuture,
                             progress: (Int) -> Void = { _ in }) throws -> Int {
        guard let campaign = try campaign(id) else { throw CampaignProblem("There is no campaign '\(id.prefix(48))'") }
        let message = try CampaignMessage(campaign, settings: mailer.settings, publicURL: publicURL, currency: currency())
        try settleMailJournal(mailer.journal)
        var sent = 0
        let perRound = mailer.connections
        let roundTime = Double(perRound) / Double(max(1, campaign.ratePerSecond))
        var claimed: [CampaignMail] = []
        while Date() < deadline {
            guard try self.campaign(id)?.state == .sending else { break }
            if claimed.isEmpty {
                claimed = try claimCampaignMail(id, limit: perRound * 20)
                if claimed.isEmpty { break }
            }
            let started = Date()
            let round = Array(claimed.prefix(perRound))
            claimed.removeFirst(round.count)
            let outcomes = mailer.send(round.map { ($0.customerID, $0.email, message.bytes($0, campaign: id)) }, campaign: id)
            var delivered: [String] = [], problems: [(member: String, outcome: CampaignMailer.Outcome)] = []
            for (m, o) in zip(round, outcomes) {
                if o == .sent { delivered.append(m.customerID) } else { problems.append((m.customerID, o)) }
            }
            sent += delivered.count
            try markCampaignMailSent(id, members: delivered)
            // The relay took none and refused none for good (it is down, or the network is):
            // the round's e-mails wait, their tries not counted, and sending stops for now.
            if problems.count == round.count, case .failed(let why)? = problems.first?.outcome,
               problems.allSatisfy({ if case .failed = $0.outcome { true } else { false } }) {
                claimed = round + claimed
                try giveBack(id, claimed)
                throw CampaignProblem("The mail relay took none of campaign \(id)'s e-mails (\(why)); they wait and are sent when it answers")
            }
            try recordCampaignMailProblems(id, problems)
            try mailer.journal.clear()
            progress(sent)
            let spent = Date().timeIntervalSince(started)
            if spent < roundTime { Thread.sleep(forTimeInterval: roundTime - spent) }
        }
        // Claims not used (paused, or out of time) are given back at once.
        try giveBack(id, claimed)
        try finishCampaignIfDone(id)
        return sent
    }

    /// Records as sent the members a stopped sender wrote to `journal` (their messages' ends went
    /// to the relay) and that are still being sent, then empties it. Returns how many.
    @discardableResult
    public func settleMailJournal(_ journal: MailJournal, at time: Int64 = HeadOfficeStore.now()) throws -> Int {
        let entries = try journal.entries()
        guard !entries.isEmpty else { return 0 }
        let settled = try database.write { c in
            var n = 0
            for (campaign, members) in Dictionary(grouping: entries, by: \.campaign) {
                let ids = Array(Set(members.map(\.member)))
                for chunk in stride(from: 0, to: ids.count, by: 500).map({ ids[$0..<min(ids.count, $0 + 500)] }) {
                    n += try c.execute("""
                        UPDATE campaign_members SET state = 'sent', sent_at = ?, claimed_until = NULL,
                            detail = 'sent as head office stopped: recorded from its mail journal when it started sending again'
                        WHERE campaign_id = ? AND state = 'sending' AND customer_id IN (\(Self.placeholders(chunk.count)))
                        """, [.int(time), .text(campaign)] + chunk.map { .text($0) })
                }
            }
            return n
        }
        try journal.clear()
        return settled
    }

    /// Claimed e-mails not tried, back to waiting (their claim not counted as a try).
    func giveBack(_ id: String, _ claimed: [CampaignMail]) throws {
        guard !claimed.isEmpty else { return }
        try database.write { c in
            for chunk in stride(from: 0, to: claimed.count, by: 500).map({ claimed[$0..<min(claimed.count, $0 + 500)] }) {
                try c.execute("""
                    UPDATE campaign_members SET state = 'pending', claimed_until = NULL, attempts = attempts - 1
                    WHERE campaign_id = ? AND state = 'sending' AND customer_id IN (\(Self.placeholders(chunk.count)))
                    """, [.text(id)] + chunk.map { .text($0.customerID) })
            }
        }
    }
}

/// Starts the campaigns whose time has come and sends their e-mails (checked every second),
/// through the `[mail]` relay on `connections` connections at once.
struct CampaignService: Service {
    let store: HeadOfficeStore
    let mailing: BlockingWork
    let logger: Logger
    /// Where e-mail goes, with head office's public address for the links; nil: campaigns start
    /// and their offers reach the tills, their e-mails wait.
    let mail: (settings: MailSettings, publicURL: String)?

    func run() async throws {
        await cancelWhenGracefulShutdown { await loop() }
    }

    private func loop() async {
        var mailer: CampaignMailer?
        if let settings = mail?.settings {
            if let journal = settings.journal ?? (store.database as? SQLiteDatabase).map({ $0.path + "-mail-journal" }) {
                do { mailer = try CampaignMailer(settings, connections: settings.connections, journal: journal) } catch {
                    logger.error("campaign e-mails wait: \(error)")
                }
            } else {
                logger.error("campaign e-mails wait: head office on PostgreSQL needs [mail] journal in headoffice.toml, a file it may write")
            }
        }
        if let journal = mailer?.journal {
            do {
                let n = try await mailing.run { [store] in try store.settleMailJournal(journal) }
                if n > 0 { logger.notice("campaign e-mails whose end went out as head office stopped, recorded as sent", metadata: ["members": "\(n)"]) }
            } catch {
                logger.error("the campaign mail journal waits to be read: \(error)")
            }
        }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                for id in try await mailing.run({ [store] in try store.launchDueCampaigns() }) {
                    logger.info("campaign started", metadata: ["campaign": "\(id)"])
                }
                if let n = try await mailing.run({ [store] in try store.publishActivatedOffers() }), n > 0 {
                    logger.info("offers activated told to the tills", metadata: ["members": "\(n)"])
                }
                if let n = try await mailing.run({ [store] in try store.publishUsedUpOffers() }), n > 0 {
                    logger.info("offers used up told to the tills", metadata: ["members": "\(n)"])
                }
                let sending = try await mailing.run { [store] in try store.campaigns().filter { $0.state == .sending } }
                for c in sending {
                    guard c.channels.emails, let mailer, let publicURL = mail?.publicURL else {
                        _ = try await mailing.run { [store] in try store.finishCampaignIfDone(c.id) }
                        continue
                    }
                    let store = self.store
                    let sent = try await mailing.run { try store.sendCampaign(c.id, mailer: mailer, publicURL: publicURL, until: Date() + 5) }
                    if sent > 0 { logger.info("campaign e-mails sent", metadata: ["campaign": "\(c.id)", "sent": "\(sent)"]) }
                }
            } catch {
                logger.error("campaigns stopped for a moment; they go on where they were", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(nanoseconds: 1_000_000_000)
        }
    }
}
