import Foundation
import Printers
import Testing
@testable import TillApp
import TillCore
import TillStore
import TillSync
import TillSync
import TillTestSupport

/// The till's background parts as one service group (as `till run` runs them): a graceful
/// shutdown while a receipt goes to a printer that never answers and sales go to a head office
/// that is down loses nothing and stops every part. (How fast `till run` stops on SIGTERM is
/// measured on the real process, in ShutdownEndToEndTests: this suite shares its process's
/// concurrency pool with every other suite.)
@Suite("The till's services")
struct TillServicesTests {
    @Test func aGracefulShutdownMidPrintAndMidSendLosesNothingAndStopsEveryPart() async throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        var sales = SaleGenerator(database: db, seed: 9)
        _ = try sales.ring(4)
        let printer = try FakeNetworkPrinter(.silent)
        defer { printer.stop() }
        let spooler = PrintSpooler(
            database: db, transport: TCPPrinterTransport(host: "127.0.0.1", port: printer.port, timeoutMilliseconds: 500),
            askStatus: true, giveUpAfterSeconds: 900, now: { Int64(Date().timeIntervalSince1970 * 1000) })
        let job = try db.enqueuePrintJob(PrintJobDraft(kind: .receipt, receiptNumber: "0001-01-000001", payload: Array("receipt\n".utf8)),
                                         saleID: nil, at: Int64(Date().timeIntervalSince1970 * 1000))
        let link = HeadOfficeLink(url: "http://127.0.0.1:9", ca: nil, token: "t", batchSize: 2, lookupTimeoutMilliseconds: 300)
        let forwarder = Forwarder(link: link, database: db, storeID: "0001", tillID: "01")
        let updates = UpdateService(link: link, database: db, waitSeconds: 1)
        let pendingBefore = try db.outboxSummary().pending
        #expect(pendingBefore >= 4)

        let services = TillServices([spooler, forwarder, updates])
        // The spooler is now waiting on the silent printer, the forwarder backing off.
        let end = Date().addingTimeInterval(5)
        while forwarder.snapshot.connection != .offline && Date() < end { try await Task.sleep(for: .milliseconds(20)) }
        #expect(forwarder.snapshot.connection == .offline)
        try await Task.sleep(for: .milliseconds(300))
        await services.shutDown()
        // Nothing lost: the receipt is still queued, every sale still in the outbox.
        #expect(try db.printJobs().map(\.id) == [job])
        #expect(try db.printJobs().first?.state == .pending)
        #expect(try db.outboxSummary().pending == pendingBefore)
        // And stopped: a receipt queued now is not tried.
        let attempts = try db.printJobs().first?.attempts
        spooler.jobQueued()
        try await Task.sleep(for: .milliseconds(500))
        #expect(try db.printJobs().first?.attempts == attempts)
    }
}
