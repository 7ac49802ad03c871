import Foundation
import GRDB
import Testing
import TillTestSupport

/// `till run` asked to stop (SIGTERM, as systemd or a shutdown does) while its background
/// services are busy: it ends within 5 s, leaves the terminal as it found it, and loses nothing.
@Suite("The till stops on SIGTERM", .serialized)
struct ShutdownEndToEndTests {
    @Test func sigtermEndsTheTillWithinFiveSecondsWithTheReceiptAndTheSaleStillToGo() throws {
        // A printer and a head office that take the till's connection and never answer: a
        // receipt is being printed and a batch is being sent when the signal comes.
        let printer = try FakeNetworkPrinter(.silent)
        defer { printer.stop() }
        let headOffice = try FakeNetworkPrinter(.silent)
        defer { headOffice.stop() }
        let f = try TillFixture(items: 100, extraConfig: """
            [printer]
            connection = "tcp:127.0.0.1:\(printer.port)"
            [headoffice]
            url = "http://127.0.0.1:\(headOffice.port)"
            """)
        let enrolled = try f.runTill(["sync", "enrol", "--token", "0001.01.secret-of-this-test"])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        let t = try f.startTill()
        try f.signOn(t)
        try t.send("5012345678900", "Enter")
        try t.waitFor("Milk 1L")
        try t.send("F6")
        try t.waitFor("Sale 0001-01-000001 complete")
        let deadline = Date().addingTimeInterval(20)
        while (printer.connections == 0 || headOffice.connections == 0) && Date() < deadline { usleep(20_000) }
        #expect(printer.connections > 0, "the receipt never went to the printer")
        #expect(headOffice.connections > 0, "the till never called head office")

        let pid = try t.panePID()
        let sent = Date()
        kill(pid, SIGTERM)
        while try !t.paneDead(), Date().timeIntervalSince(sent) < 15 { usleep(20_000) }
        let took = Date().timeIntervalSince(sent)
        #expect(try t.paneDead(), "the till was still running 15 s after SIGTERM")
        #expect(took < 5, "the till took \(took) s to stop")
        print("SIGTERM: till run ended \(String(format: "%.0f", took * 1000)) ms after the signal, printer and head office busy")

        // Nothing lost: the sale is in the journal, its receipt still waits to print and its
        // document to be sent (each goes at the till's next start; the outbox is resent until
        // head office acknowledges it).
        let (sales, receipts, unsent) = try f.database().read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sale"),
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM print_job WHERE state = 'pending' AND receipt_number = '0001-01-000001'"),
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE kind = 'sale' AND acked_at IS NULL"))
        }
        #expect(sales == 1)
        #expect(receipts == 1, "the receipt was neither printed nor kept to print")
        #expect(unsent == 1, "the sale's document was neither acknowledged nor kept to send")
    }
}
