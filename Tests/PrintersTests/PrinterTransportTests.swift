import Foundation
import Printers
import Testing
import TillTestSupport

@Suite("Printer status and connections")
struct PrinterStatusTests {
    @Test func statusBytesAreReadAsEpsonDocumentsThem() {
        #expect(PrinterStatus.parse(printer: 0x16, offlineCause: 0x12, paper: 0x12) == PrinterStatus())
        #expect(PrinterStatus.parse(printer: 0x1E, offlineCause: 0x32, paper: 0x72)?.description == "paper out")
        #expect(PrinterStatus.parse(printer: 0x1E, offlineCause: 0x16, paper: 0x12)?.description == "cover open")
        #expect(PrinterStatus.parse(printer: 0x16, offlineCause: 0x12, paper: 0x1E)?.description == "ready, paper near end")
        #expect(PrinterStatus.parse(printer: 0x16, offlineCause: 0x12, paper: 0x1E)?.ready == true)
        #expect(PrinterStatus.parse(printer: 0x00, offlineCause: 0x12, paper: 0x12) == nil) // not a status byte
    }

    @Test func connections() throws {
        #expect(try PrinterConnection.parse("usb:04b8:0202") == .usb(vendor: 0x04B8, product: 0x0202, serial: nil))
        #expect(try PrinterConnection.parse("usb:04b8:0e15:ABC123") == .usb(vendor: 0x04B8, product: 0x0E15, serial: "ABC123"))
        #expect(try PrinterConnection.parse("cups:receipt") == .cups(queue: "receipt"))
        #expect(try PrinterConnection.parse("device:/dev/usb/lp0") == .device(path: "/dev/usb/lp0"))
        #expect(try PrinterConnection.parse("tcp:10.0.0.5") == .tcp(host: "10.0.0.5", port: 9100))
        #expect(try PrinterConnection.parse("tcp:[::1]:9101") == .tcp(host: "::1", port: 9101))
        #expect(try PrinterConnection.parse("none") == PrinterConnection.none)
        #expect(PrinterConnection.usb(vendor: 0x04B8, product: 0x0202, serial: nil).description == "usb:04b8:0202")
        #expect(throws: PrinterError.badAddress("Printer connection 'usb:4b8:202' needs the vendor and product IDs in hex: write one of usb:04b8:0202, usb:04b8:0202:SERIAL, cups:receipt, device:/dev/usb/lp0, tcp:192.168.1.50:9100 or none")) {
            try PrinterConnection.parse("usb:4b8:202")
        }
        #expect(throws: PrinterError.self) { try PrinterConnection.parse("serial:/dev/ttyS0") }
        #expect(throws: PrinterError.self) { try PrinterConnection.parse("tcp:host:99999") }
    }
}

@Suite("TCP 9100 transport against a local listener")
struct TCPTransportTests {
    let job: [UInt8] = [0x1B, 0x40] + Array("Hello".utf8) + [0x0A, 0x1D, 0x56, 0x41, 3]

    @Test func bytesArriveAndTheStatusIsRead() throws {
        let printer = try FakeNetworkPrinter()
        defer { printer.stop() }
        let t = TCPPrinterTransport(host: "127.0.0.1", port: printer.port, timeoutMilliseconds: 2_000)
        #expect(try t.status() == PrinterStatus())
        try t.send(job)
        #expect(printer.received == job)
        #expect(printer.statusRequests == 6) // three for status(), three to confirm the job (counted before each answer)
    }

    @Test func paperOutIsReported() throws {
        let printer = try FakeNetworkPrinter(.answering(paperOut: true))
        defer { printer.stop() }
        // Generous: on a loaded 2-core CI machine the fake's thread has been seen to wait > 2 s.
        let t = TCPPrinterTransport(host: "127.0.0.1", port: printer.port, timeoutMilliseconds: 10_000)
        #expect(try t.status()?.paperOut == true)
        #expect(throws: PrinterError.notReady(t.description, PrinterStatus(online: false, coverOpen: false, paperNearEnd: false, paperOut: true))) {
            try t.send(job)
        }
    }

    @Test func aPrinterThatNeverAnswersTimesOut() throws {
        let printer = try FakeNetworkPrinter(.silent)
        defer { printer.stop() }
        let t = TCPPrinterTransport(host: "127.0.0.1", port: printer.port, timeoutMilliseconds: 300)
        let start = Date()
        let error = #expect(throws: PrinterError.self) { try t.send(job) }
        #expect(Date().timeIntervalSince(start) < 5)
        guard case .timedOut(_, let hint)? = error else { Issue.record("expected a timeout, got \(String(describing: error))"); return }
        #expect(hint.contains("did not answer the status request"))
    }

    @Test func aStoppedPrinterNeverServesTheNextOnesConnections() throws {
        // A printer started and stopped at once used to leave its accept thread behind; it could
        // then accept on the next printer's listener (the same descriptor number) and count that
        // printer's status requests as its own.
        for _ in 0..<40 {
            let gone = try FakeNetworkPrinter()
            gone.stop()
            let printer = try FakeNetworkPrinter()
            defer { printer.stop() }
            let t = TCPPrinterTransport(host: "127.0.0.1", port: printer.port, timeoutMilliseconds: 2_000)
            #expect(try t.status() == PrinterStatus())
            #expect(printer.statusRequests == 3)
            #expect(printer.connections == 1)
            #expect(gone.connections == 0)
        }
    }

    @Test func nothingListeningIsNotFound() throws {
        let port: UInt16
        do {
            let p = try FakeNetworkPrinter()
            port = p.port
            p.stop()
        }
        let t = TCPPrinterTransport(host: "127.0.0.1", port: port, timeoutMilliseconds: 300)
        let error = #expect(throws: PrinterError.self) { try t.send(job) }
        #expect(error?.description.contains("nothing listens on port \(port)") == true)
    }
}

@Suite("CUPS transport against a private cupsd", .serialized)
struct CUPSTransportTests {
    let job: [UInt8] = [0x1B, 0x40, 0x1B, 0x74, 19, 0xD5] + Array(" 9.99".utf8) + [0x0A, 0x00, 0xFF, 0x1D, 0x56, 0x41, 3]

    @Test func aRawQueueDeliversTheBytesUnchanged() throws {
        let cups = try PrivateCUPS()
        let capture = try cups.addRawQueue("receipt")
        let t = CUPSPrinterTransport(queue: "receipt", server: cups.socket)
        try t.send(job)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: capture))) == job)
        #expect(try t.status()?.ready == true)
    }

    @Test func missingRejectingStoppedAndDownEachSayWhat() throws {
        let cups = try PrivateCUPS()
        try cups.addRawQueue("receipt")
        let missing = CUPSPrinterTransport(queue: "nosuch", server: cups.socket)
        #expect(throws: PrinterError.queueMissing("nosuch")) { try missing.send(job) }

        try cups.admin("/usr/sbin/cupsreject", ["-r", "closed for stock-take", "receipt"])
        let t = CUPSPrinterTransport(queue: "receipt", server: cups.socket)
        let rejecting = #expect(throws: PrinterError.self) { try t.send(job) }
        #expect(rejecting?.description == "CUPS queue 'receipt' is not accepting jobs (closed for stock-take): run cupsaccept receipt")

        try cups.admin("/usr/sbin/cupsaccept", ["receipt"])
        try cups.admin("/usr/sbin/cupsdisable", ["-r", "paper jam", "receipt"])
        let stopped = #expect(throws: PrinterError.self) { try t.send(job) }
        #expect(stopped?.description == "CUPS queue 'receipt' is stopped (paper jam): run cupsenable receipt")
        #expect(try t.status()?.online == false)

        cups.stop()
        #expect(throws: PrinterError.schedulerDown(cups.socket)) { try t.send(job) }
        #expect(PrinterError.schedulerDown(cups.socket).description.hasPrefix("The CUPS scheduler at \(cups.socket) is not running"))
    }
}
