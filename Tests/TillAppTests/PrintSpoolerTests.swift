import Foundation
import GRDB
import Printers
import Testing
import TillApp
import TillCore
import TillStore
import TillTestSupport

@Suite("Print retry policy")
struct PrintRetryPolicyTests {
    @Test func failuresBackOffFromOneToThirtySeconds() {
        var p = PrintRetryPolicy()
        #expect(p.due(at: 0))
        var delays: [Int64] = []
        var t: Int64 = 0
        for _ in 0..<7 {
            p.failed(at: t)
            delays.append(p.nextAttemptAt - t)
            #expect(!p.due(at: t + 1))
            t = p.nextAttemptAt
        }
        #expect(delays == [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000])
        p.succeeded(at: t)
        #expect(p.due(at: t))
        #expect(p.delay == 0)
    }

    @Test func aNewReceiptIsTriedAtOnceEvenWhileBackingOff() {
        var p = PrintRetryPolicy()
        p.failed(at: 0); p.failed(at: 1_000); p.failed(at: 3_000) // next at 7 s
        #expect(!p.due(at: 4_000))
        p.jobQueued(at: 4_000)
        #expect(p.due(at: 4_000))
    }

    @Test func idleLooksAtThePrinterEveryTenSeconds() {
        var p = PrintRetryPolicy()
        p.looking()
        p.idle(at: 5_000)
        #expect(p.nextAttemptAt == 15_000)
    }

    /// A receipt queued while the spooler was asking an empty queue's printer for its status
    /// prints at once: the idle wait of 10 s used to overwrite "due now" (a receipt 100 ms late
    /// in the USB latency test, up to a second in the spooler's loop).
    @Test func aJobQueuedDuringTheIdlePollIsNotPutOff() {
        var p = PrintRetryPolicy()
        p.looking()                      // the queue was empty when looked at...
        p.jobQueued(at: 5_000)           // ...a receipt came while the printer was asked
        p.idle(at: 5_010)
        #expect(p.due(at: 5_010))
        p.looking()
        p.idle(at: 5_020)                // nothing new since: the usual wait
        #expect(p.nextAttemptAt == 15_020)
    }
}

@Suite("Print spooler")
struct PrintSpoolerTests {
    func queue(_ db: TillDatabase, _ bytes: [UInt8]) throws -> Int64 {
        try db.enqueuePrintJob(PrintJobDraft(kind: .receipt, receiptNumber: "0001-01-000001", payload: bytes), saleID: nil, at: 0)
    }

    @Test func aPrinterThatNeverAnswersKeepsTheJobQueuedWithTheReason() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        let printer = try FakeNetworkPrinter(.silent)
        defer { printer.stop() }
        let clock = SteppingClock(start: 1_000, step: 0)
        let spooler = PrintSpooler(
            database: db, transport: TCPPrinterTransport(host: "127.0.0.1", port: printer.port, timeoutMilliseconds: 200),
            askStatus: true, giveUpAfterSeconds: 900, now: { clock.now() })
        let id = try queue(db, [0x1B, 0x40, 0x41, 0x0A])
        spooler.step()
        let jobs = try db.printJobs()
        #expect(jobs.map(\.id) == [id])
        #expect(jobs.first?.state == .pending)
        #expect(jobs.first?.attempts == 1)
        #expect(jobs.first?.lastError?.contains("did not answer in time") == true)
        #expect(spooler.snapshot.printer == "not answering")
        #expect(spooler.snapshot.waiting == 1)
        #expect(spooler.snapshot.problem?.hasPrefix("Receipt 0001-01-000001 not printed yet: network printer 127.0.0.1:\(printer.port) did not answer in time") == true)
    }

    @Test func aJobOlderThanTheGiveUpTimeIsLeftForReprint() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        let printer = try FakeNetworkPrinter(.answering(paperOut: true))
        defer { printer.stop() }
        let clock = SteppingClock(start: 901_000, step: 0) // the job was queued at 0
        let spooler = PrintSpooler(
            database: db, transport: TCPPrinterTransport(host: "127.0.0.1", port: printer.port, timeoutMilliseconds: 500),
            askStatus: true, giveUpAfterSeconds: 900, now: { clock.now() })
        _ = try queue(db, [0x1B, 0x40])
        spooler.step()
        #expect(try db.printJobs().map(\.state) == [.failed])
        #expect(spooler.snapshot.problem?.contains("it is no longer retried: reprint it with the reprint key") == true)
        #expect(try db.nextPendingPrintJob() == nil)
    }

    @Test func aWorkingPrinterPrintsTheQueueOldestFirst() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        let printer = try FakeNetworkPrinter()
        defer { printer.stop() }
        let clock = SteppingClock(start: 1_000, step: 0)
        let spooler = PrintSpooler(
            database: db, transport: TCPPrinterTransport(host: "127.0.0.1", port: printer.port, timeoutMilliseconds: 2_000),
            askStatus: true, giveUpAfterSeconds: 900, now: { clock.now() })
        _ = try queue(db, Array("first\n".utf8))
        _ = try queue(db, Array("second\n".utf8))
        spooler.step()
        spooler.step()
        usleep(100_000)
        #expect(printer.received == Array("first\nsecond\n".utf8))
        #expect(try db.pendingPrintJobCount() == 0)
        #expect(spooler.snapshot.printer == "ready")
    }
}

/// Issue 13, defect 11: a printed receipt the database could not mark printed is never printed
/// again; the mark is retried first, and nothing else prints until it is recorded.
@Suite("Print spooler: a failed record never prints twice")
struct PrintSpoolerRecordTests {
    @Test func aJobPrintedButNotRecordedIsNotPrintedAgain() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        let printer = try FakeNetworkPrinter(.answering(paperOut: false))
        defer { printer.stop() }
        let clock = SteppingClock(start: 1_000, step: 60_000)   // each step a minute on: never waiting for the backoff
        let spooler = PrintSpooler(
            database: db, transport: TCPPrinterTransport(host: "127.0.0.1", port: printer.port, timeoutMilliseconds: 500),
            askStatus: false, giveUpAfterSeconds: 900, now: { clock.now() })
        let raw = try DatabaseQueue(path: dir.file("till.sqlite"))
        try raw.write {
            try $0.execute(sql: """
                CREATE TRIGGER refuse_printed BEFORE UPDATE ON print_job WHEN NEW.state = 'printed'
                BEGIN SELECT RAISE(ABORT, 'the disk is full'); END
                """)
        }
        _ = try db.enqueuePrintJob(PrintJobDraft(kind: .receipt, receiptNumber: "0001-01-000001", payload: Array("FIRST\n".utf8)), saleID: nil, at: 0)
        _ = try db.enqueuePrintJob(PrintJobDraft(kind: .receipt, receiptNumber: "0001-01-000002", payload: Array("SECOND\n".utf8)), saleID: nil, at: 0)
        for _ in 0..<5 { spooler.step() }
        #expect(String(decoding: printer.received, as: UTF8.self) == "FIRST\n", "printed: \(String(decoding: printer.received, as: UTF8.self))")
        #expect(spooler.snapshot.problem?.contains("Receipt 0001-01-000001 printed, but the till could not record it") == true,
                "\(spooler.snapshot.problem ?? "no problem shown")")
        try raw.write { try $0.execute(sql: "DROP TRIGGER refuse_printed") }
        for _ in 0..<3 { spooler.step() }
        #expect(String(decoding: printer.received, as: UTF8.self) == "FIRST\nSECOND\n")
        let states = try db.printJobs(states: [.pending, .failed, .printed]).map(\.state)
        #expect(states == [.printed, .printed], "\(states)")
    }
}
