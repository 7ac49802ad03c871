import Foundation
@testable import HeadOffice
import PrivateServers
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillTestSupport

/// The scheduled cashback (README "Loyalty programme": "run by head office on its schedule"):
/// every eligible card converted once per period by the programme's table, a run stopped midway
/// finished by running it again, a sale made during the run counted before the conversion.
@Suite("Scheduled cashback", .serialized)
struct CashbackTests {
    @Test func periodsAreNamedAndTheLastEndedOneIsDue() throws {
        let nov28 = ProtocolTime.parse("2026-11-28T10:00:00Z")!
        #expect(CashbackPeriod.lastEnded(.monthly, before: nov28).id == "2026-10")
        #expect(CashbackPeriod.lastEnded(.quarterly, before: nov28).id == "2026-Q3")
        #expect(CashbackPeriod.lastEnded(.yearly, before: nov28).id == "2025")
        let jan = ProtocolTime.parse("2027-01-02T00:00:00Z")!
        #expect(CashbackPeriod.lastEnded(.monthly, before: jan).id == "2026-12")
        #expect(CashbackPeriod.lastEnded(.quarterly, before: jan).id == "2026-Q4")
        let q4 = try #require(CashbackPeriod.parse("2026-Q4"))
        #expect(q4.start == ProtocolTime.parse("2026-10-01T00:00:00Z")! && q4.end == ProtocolTime.parse("2027-01-01T00:00:00Z")!)
        #expect(CashbackPeriod.parse("2026-13") == nil && CashbackPeriod.parse("2026-Q5") == nil && CashbackPeriod.parse("26") == nil)
        // A new installation does not pay out for the period that ended before its programme came.
        let dir = TemporaryDirectory("cashback-due")
        let store = try makeHeadOffice(.sqlite, dir)
        #expect(try store.dueCashbackPeriod() == nil)
        let nextQuarterEnd = CashbackPeriod.lastEnded(.quarterly, before: HeadOfficeStore.now() + 100 * 86_400_000)
        #expect(try store.dueCashbackPeriod(at: nextQuarterEnd.end + 1) == nextQuarterEnd)
    }

    /// Each eligible card (active, a member's, at or above the minimum) and the points it holds.
    static func eligible(_ store: HeadOfficeStore) throws -> [String: Int64] {
        try store.database.read { c in
            try c.query("SELECT number, balance FROM cards WHERE customer_id IS NOT NULL AND status = 'active' AND balance >= 2000", [])
                .reduce(into: [String: Int64]()) { $0[$1.text("number")] = $1.int("balance") }
        }
    }

    @Test(arguments: Backend.allCases)
    func everyEligibleCardIsConvertedOnceAndAStoppedRunIsFinished(backend: Backend) throws {
        let dir = TemporaryDirectory("cashback")
        let store = try makeHeadOffice(backend, dir)
        _ = try store.registerTill(till1)
        let before = try Self.eligible(store)
        #expect(before.count >= 5 && before[DemoCatalog.cardNumber(1)] == nil && before[DemoCatalog.cardNumber(2)] == 2_500)
        let period = try #require(CashbackPeriod.parse("2026-Q3"))
        // Stopped after the first chunk of 3 cards.
        struct Stop: Error {}
        #expect(throws: Stop.self) { try store.runCashback(period: period, chunk: 3) { _ in throw Stop() } }
        #expect(try store.cashbackPayouts("2026-Q3").count == 3)
        // A sale on a card not yet converted, made while the run is stopped: converted with it.
        let late = try #require(before.keys.sorted().last)
        let t = try TillSide()
        var generator = SaleGenerator(database: t.db, till: t.identity, cards: 20, seed: 3)
        var moved = try store.cardStatus(late, pending: [])!.card.balance
        while moved == before[late] {
            try generator.ring(1)
            _ = try store.ingest(try t.batch(), from: till1)
            moved = try store.cardStatus(late, pending: [])!.card.balance
        }
        let afterSales = try Self.eligible(store)
        // The rest, once.
        let run = try store.runCashback(period: period, chunk: 3)
        let payouts = try store.cashbackPayouts("2026-Q3")
        let converted = Dictionary(uniqueKeysWithValues: payouts.map { ($0.card, $0.points) })
        #expect(run.state == "done" && run.cards == Int64(payouts.count) && !run.alreadyDone)
        // Every card eligible when it was converted, once; the late one with its sale's points.
        #expect(Set(converted.keys).isSuperset(of: Set(afterSales.keys).intersection(before.keys)))
        #expect(converted[late] == moved, "the card was converted with \(converted[late] ?? -1) points; after its sale it held \(moved)")
        for p in payouts {
            #expect(p.amount == DemoCatalog.programme.cashback(balance: Points(p.points))?.amount)
            #expect(p.reference == "CB-2026-Q3-\(p.card)")
        }
        // Nothing moved the late card after its conversion: all its points went.
        #expect(try store.cardStatus(late, pending: [])?.card.balance == 0)
        #expect(run.points == payouts.reduce(0) { $0 + $1.points } && run.amount == payouts.reduce(0) { $0 + $1.amount })
        let movements = try store.database.read { c in
            try c.query("SELECT card_number, COUNT(*) AS n, SUM(points) AS p FROM ledger WHERE kind = 'cashback' GROUP BY card_number", [])
                .map { ($0.text("card_number"), $0.int("n"), $0.int("p")) }
        }
        #expect(movements.count == payouts.count && movements.allSatisfy { $0.1 == 1 && -$0.2 == converted[$0.0] })
        #expect(try CustomerServiceActionsTests.ledgerAgrees(store))
        // Again: nothing.
        let again = try store.runCashback(period: period)
        #expect(again.alreadyDone && again.cards == run.cards)
        #expect(try store.cashbackPayouts("2026-Q3").count == payouts.count)
    }

    /// `headoffice cashback run` SIGKILLed three times midway, then run to the end: every
    /// eligible card converted exactly once, the payout file's sum the ledger's movements.
    @Test(arguments: Backend.allCases)
    func aRunKilledThreeTimesPaysNobodyTwiceAndNobodyNothing(backend: Backend) throws {
        let dir = TemporaryDirectory("cashback-kill")
        let ho = try HeadOfficeProcess(backend, dir: dir, cards: 60_000)
        let store = try ho.store()
        let eligible = try Self.eligible(store)
        var killedAt: [Int] = []
        // Killed once a tenth, four tenths and seven tenths of the cards are converted, however
        // fast this machine is.
        for share in [10, 40, 70] {
            let pid = try spawn(ho.binary, ["cashback", "run", "--period", "2026-Q3", "--database", ho.database], environment: ProcessInfo.processInfo.environment,
                                stdout: dir.file("run.out"), stderr: dir.file("run.err"))
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline, try store.database.read({ c in
                try c.queryOne("SELECT COUNT(*) AS n FROM cashback_payouts WHERE period = '2026-Q3'", [])?.int("n") ?? 0
            }) < Int64(eligible.count * share / 100) {
                usleep(2_000)
            }
            kill(pid, SIGKILL)
            _ = waitForExit(pid)
            killedAt.append(try store.cashbackPayouts("2026-Q3").count)
        }
        let out = try ho.admin(["cashback", "run", "--period", "2026-Q3", "--output", dir.file("payouts.csv")])
        print("cashback-kill \(backend): killed with \(killedAt) of \(eligible.count) cards converted; then: \(out)")
        #expect(killedAt.last! < eligible.count, "the run finished before it was killed: \(killedAt)")
        let payouts = try store.cashbackPayouts("2026-Q3")
        #expect(Set(payouts.map(\.card)) == Set(eligible.keys))
        #expect(payouts.allSatisfy { eligible[$0.card] == $0.points })
        let ledger = try store.database.read { c in
            try c.queryOne("SELECT COUNT(*) AS n, COUNT(DISTINCT card_number) AS cards, COALESCE(SUM(points), 0) AS p FROM ledger WHERE kind = 'cashback'", [])!
        }
        #expect(ledger.int("n") == Int64(eligible.count) && ledger.int("cards") == Int64(eligible.count))
        #expect(-ledger.int("p") == payouts.reduce(0) { $0 + $1.points })
        // The payout file: a line per card, its amounts summing to the run's.
        let csv = try String(contentsOfFile: dir.file("payouts.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.first == "card,amount,reference" && csv.count == eligible.count + 1)
        let fileSum = csv.dropFirst().compactMap { Currency.eur.parse(String($0.split(separator: ",")[1])) }.reduce(0, +)
        #expect(fileSum == payouts.reduce(0) { $0 + $1.amount })
        #expect(try store.cashbackRun("2026-Q3")?.state == "done")
    }

    /// After a run, each converted member who agreed to hear from us gets a statement e-mail,
    /// once (through a real SMTP server on loopback).
    @Test func consentingMembersGetTheirStatementOnce() throws {
        let dir = TemporaryDirectory("cashback-mail")
        let smtp = try SMTPSink(dir: dir)
        let store = try makeHeadOffice(.sqlite, dir)
        let run = try store.runCashback(period: try #require(CashbackPeriod.parse("2026-10")))
        let expected = try store.cashbackStatementsToSend(limit: 1_000)
        #expect(!expected.isEmpty && expected.count < Int(run.cards), "only those who agreed: \(expected.count) of \(run.cards)")
        let mail = MailSettings(relay: smtp.relay, from: "Rewards <rewards@example.com>")
        #expect(try CashbackScheduler.sendStatements(store, mail: mail) == expected.count)
        #expect(try CashbackScheduler.sendStatements(store, mail: mail) == 0)
        let first = try #require(expected.first)
        let message = try smtp.waitForMessage(to: first.email, containing: first.reference)
        #expect(message.contains("Subject: Your cashback for 2026-10") && message.contains("\(first.points) points"), "\(message)")
        #expect(smtp.messages().count == expected.count)
    }
}
