import Foundation
import Logging
import ServiceLifecycle
import TillCore
import TillProtocol

/// Runs the programme's cashback when its schedule says a period is due (checked a few seconds
/// after start, then every minute): the period that last ended, once; its point expiry, the
/// members' RFM scores and the cross-sell suggestions once a day (UTC).
struct CashbackScheduler: Service {
    let store: HeadOfficeStore
    let work: BlockingWork
    let logger: Logger
    /// Where statement e-mails go (nil: none are sent).
    let mail: MailSettings?
    let mailing: BlockingWork

    /// Sends the statement of every converted card whose member agreed to hear from us and has
    /// an e-mail address, each once (marked when the relay took it); returns how many went.
    static func sendStatements(_ store: HeadOfficeStore, mail: MailSettings) throws -> Int {
        var sent = 0
        let currency = Currency(code: (try? store.latestProgramme())??.currency ?? "EUR") ?? .eur
        while true {
            let batch = try store.cashbackStatementsToSend()
            guard !batch.isEmpty else { return sent }
            for s in batch {
                try Mailer(mail).send(MailMessage(to: s.email, subject: "Your cashback for \(s.period)", text: """
                    Hello \(s.name),

                    Your points for \(s.period) are converted: \(s.points) points on card \(LoyaltyCardNumber.masked(s.card)) became \(currency.format(s.amount)).
                    The payment's reference is \(s.reference).

                    Your rewards page shows your points and every movement.
                    """))
                try store.markStatementSent(period: s.period, card: s.card)
                sent += 1
            }
        }
    }

    /// Sends each queued expiry notice once (marked when the relay took it); returns how many went.
    static func sendExpiryNotices(_ store: HeadOfficeStore, mail: MailSettings) throws -> Int {
        var sent = 0
        while true {
            let batch = try store.expiryNoticesToSend()
            guard !batch.isEmpty else { return sent }
            for n in batch {
                let by = ProtocolTime.format(n.by, timeZone: TimeZone(identifier: "UTC")!).prefix(10)
                try Mailer(mail).send(MailMessage(to: n.email, subject: "\(n.points) of your points expire by \(by)", text: """
                    Hello \(n.name),

                    \(n.points) points on card \(LoyaltyCardNumber.masked(n.card)) expire by \(by): use them before then, at any of our stores or online.

                    Your rewards page shows your points and when they expire.
                    """))
                try store.markExpiryNoticeSent(card: n.card, month: n.month)
                sent += 1
            }
        }
    }

    /// Ends at once on graceful shutdown (a sleep in progress is cancelled), so that head office
    /// stops within its few seconds.
    func run() async throws {
        await cancelWhenGracefulShutdown { await loop() }
    }

    private func loop() async {
        try? await Task.sleep(nanoseconds: 5_000_000_000)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if let due = try await work.run({ [store] in try store.dueCashbackPeriod() }) {
                    logger.info("cashback run starts", metadata: ["period": "\(due.id)"])
                    let run = try await work.run { [store] in try store.runCashback(period: due) }
                    logger.info("cashback run done", metadata: ["period": "\(run.period)", "cards": "\(run.cards)", "points": "\(run.points)", "amount": "\(run.amount)"])
                }
                if let run = try await work.run({ [store] in try store.runDueExpiry() }) {
                    logger.info("expiry run done", metadata: ["cards": "\(run.cards)", "points": "\(run.points)"])
                }
                if let rfm = try await work.run({ [store] in try store.computeDueRFM() }) {
                    logger.info("members' RFM scores computed", metadata: ["members": "\(rfm.members)"])
                }
                if let runs = try await work.run({ [store] in try store.mineDueSuggestions() }) {
                    for r in runs {
                        logger.info("cross-sell suggestions mined", metadata: ["scope": "\(r.scope)", "baskets": "\(r.baskets)", "ms": "\(r.miningMS)",
                                                                             "published": "\(r.version.map(String.init) ?? "unchanged")"])
                    }
                }
                if let mail {
                    let sent = try await mailing.run { [store] in try Self.sendStatements(store, mail: mail) }
                    if sent > 0 { logger.info("cashback statements sent", metadata: ["e-mails": "\(sent)"]) }
                    let told = try await mailing.run { [store] in try Self.sendExpiryNotices(store, mail: mail) }
                    if told > 0 { logger.info("expiry notices sent", metadata: ["e-mails": "\(told)"]) }
                }
            } catch {
                logger.error("the scheduled cashback, expiry or their e-mails stopped; they are tried again in a minute", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(nanoseconds: 60_000_000_000)
        }
    }
}
