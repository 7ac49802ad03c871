import ESCPOS
import Foundation
import GRDB
import PrivateServers
import Testing
import TillCore
import TillStore
import TillTestSupport

private let fixtures: String = {
    var url = URL(fileURLWithPath: #filePath)
    url.deleteLastPathComponent()
    return url.appendingPathComponent("Fixtures/umockdev").path
}()

private let statusRequests: [UInt8] = [0x10, 0x04, 1, 0x10, 0x04, 2, 0x10, 0x04, 4]
/// Before a job: one question, the offline cause (cover, paper end, error).
private let readinessRequest: [UInt8] = [0x10, 0x04, 2]

/// What the fake USB printer saw.
private struct USBReport: Decodable {
    var rc: Int32
    var written: String
    var detached: Bool
    var log: [String]
    /// Each OUT transfer: [wall time (s), bytes, 1 if a status request].
    var writes: [[Double]]?
    var bytes: [UInt8] {
        var out: [UInt8] = []
        var i = written.startIndex
        while i < written.endIndex {
            let j = written.index(i, offsetBy: 2)
            out.append(UInt8(written[i..<j], radix: 16)!)
            i = j
        }
        return out
    }
}

/// Runs `till ARGS` against a umockdev-emulated USB printer (Fixtures/umockdev/fakeprinter.py).
private func underFakeUSBPrinter(_ f: TillFixture, _ args: [String], status: String = "online", device: Bool = true) throws
    -> (report: USBReport, stdout: String, stderr: String) {
    let report = f.dir.file("usb-report-\(UUID().uuidString.prefix(6)).json")
    var fake = ["/usr/bin/python3", fixtures + "/fakeprinter.py", "--report", report, "--status", status]
    if !device { fake.append("--no-device") }
    let r = try spawnAndWait("/usr/bin/umockdev-wrapper", fake + ["--", f.till] + args + ["--config", f.config],
                             environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": f.dir.path])
    guard let data = FileManager.default.contents(atPath: report) else {
        throw FixtureError("the fake printer wrote no report (umockdev-wrapper status \(r.status)): \(r.stderr)")
    }
    return (try JSONDecoder().decode(USBReport.self, from: data), r.stdout, r.stderr)
}

/// A receipt-like job put straight into the print queue.
private func queueJob(_ f: TillFixture, _ payload: [UInt8]) throws -> Int64 {
    let db = try TillDatabase(path: f.databasePath)
    return try db.enqueuePrintJob(PrintJobDraft(kind: .receipt, receiptNumber: "0001-01-000009", payload: payload), saleID: nil, at: 1)
}

private func jobState(_ f: TillFixture, _ id: Int64) throws -> (String, String?) {
    try f.database().read { d in
        let row = try Row.fetchOne(d, sql: "SELECT state, last_error FROM print_job WHERE id = ?", arguments: [id])!
        return (row["state"], row["last_error"])
    }
}

private let usbConfig = "[printer]\nconnection = \"usb:04b8:0202\"\nprofile = \"epson-tm-t88\"\n"

@Suite("Printing end to end", .serialized)
struct PrintingEndToEndTests {
    @Test func theTestPagePrintsOverUSBThroughLibusbAfterDetachingUsblp() throws {
        let f = try TillFixture(items: 100, extraConfig: usbConfig)
        let (report, stdout, stderr) = try underFakeUSBPrinter(f, ["print-test"])
        #expect(report.rc == 0, "\(stderr)")
        #expect(report.detached, "the usblp detach path did not run: \(report.log)")
        #expect(stdout.contains("Test page printed on USB printer 04b8:0202 (epson-tm-t88, 80 mm)."))
        let bytes = report.bytes
        #expect(Array(bytes.prefix(3)) == readinessRequest)
        var v = try VirtualPrinter(profile: try PrinterProfile.named("epson-tm-t88"), paperWidthMM: 80)
        v.feed(Array(bytes.dropFirst(3)))
        #expect(v.text.contains { $0.contains("P R I N T E R   T E S T") })
        #expect(v.text.contains("Connection           USB printer 04b8:0202"))
        #expect(v.text.contains("Cyrillic: Итого к оплате: 100,00 ? Ёё"))
        #expect(v.elements.last == .cut(partial: false))
    }

    @Test func aQueuedReceiptGoesOutOverUSBByteForByte() throws {
        let f = try TillFixture(items: 100, extraConfig: usbConfig)
        let payload: [UInt8] = [0x1B, 0x40] + Array("Receipt 0001-01-000009".utf8) + [0x0A, 0x1B, 0x74, 19, 0xD5, 0x0A, 0x1D, 0x56, 0x42, 3]
        let id = try queueJob(f, payload)
        let (report, stdout, stderr) = try underFakeUSBPrinter(f, ["print-queue", "--retry"])
        #expect(report.rc == 0, "\(stderr)")
        #expect(stdout.contains("Printed receipt 0001-01-000009."))
        #expect(report.bytes == readinessRequest + payload)    // the whole transcript, exactly
        #expect(try jobState(f, id).0 == "printed")
    }

    @Test func paperOutIsReadOverUSBAndTheJobStaysQueued() throws {
        let f = try TillFixture(items: 100, extraConfig: usbConfig)
        let id = try queueJob(f, [0x1B, 0x40, 0x41, 0x0A])
        let (report, _, stderr) = try underFakeUSBPrinter(f, ["print-queue", "--retry"], status: "paperout")
        #expect(report.rc == 1)
        #expect(stderr.contains("Not printed: receipt 0001-01-000009: USB printer 04b8:0202: paper out. Load a new roll; the receipt prints then."))
        #expect(report.bytes == readinessRequest)               // asked, did not send
        let (state, error) = try jobState(f, id)
        #expect(state == "pending")
        #expect(error?.contains("paper out") == true)

        let doctor = try underFakeUSBPrinter(f, ["doctor"], status: "paperout")
        #expect(doctor.report.rc == 1)
        #expect(doctor.stdout.contains("[!!] USB printer 04b8:0202 answers: paper out"))
        #expect(doctor.stdout.contains("fix: load a new paper roll"))
    }

    @Test func anUnpluggedPrinterIsAClearErrorAndTheJobStaysQueued() throws {
        let f = try TillFixture(items: 100, extraConfig: usbConfig)
        let id = try queueJob(f, [0x1B, 0x40, 0x41, 0x0A])
        let (report, _, stderr) = try underFakeUSBPrinter(f, ["print-queue", "--retry"], device: false)
        #expect(report.rc == 1)
        #expect(stderr.contains("USB printer 04b8:0202 is not there: is it plugged in and switched on?"))
        #expect(try jobState(f, id).0 == "pending")
    }

    @Test func theKernelUsblpDeviceFileIsAnotherWayIn() throws {
        let f = try TillFixture(items: 100, extraConfig: "[printer]\nconnection = \"device:/dev/usb/lp0\"\n")
        let payload: [UInt8] = [0x1B, 0x40] + Array("Hello".utf8) + [0x0A, 0x1D, 0x56, 0x41, 3]
        let id = try queueJob(f, payload)
        // The script fails the run on any byte that differs from it (umockdev's strict replay).
        func script(_ job: [UInt8]) -> String {
            func esc(_ b: [UInt8]) -> String {
                String(decoding: b.flatMap { $0 < 32 ? [UInt8(ascii: "^"), $0 + 64] : $0 == UInt8(ascii: "^") ? Array("^`".utf8) : [$0] }, as: UTF8.self)
            }
            return "w 0 \(esc([0x10, 0x04, 1]))\nr 0 \(esc([0x16]))\nw 0 \(esc([0x10, 0x04, 2]))\nr 0 \(esc([0x12]))\n"
                + "w 0 \(esc([0x10, 0x04, 4]))\nr 0 \(esc([0x12]))\nw 0 \(esc(job))\n"
        }
        let good = f.dir.write("lp.script", script(payload))
        let run = try spawnAndWait("/usr/bin/umockdev-run", ["-d", fixtures + "/lp.umockdev", "-s", "/dev/usb/lp0=" + good, "--",
                                                             f.till, "print-queue", "--retry", "--config", f.config],
                                   environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"])
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        #expect(try jobState(f, id).0 == "printed")

        // The replay is strict: a script expecting other bytes makes umockdev fail the run.
        _ = try queueJob(f, payload)
        let bad = f.dir.write("lp-bad.script", script(payload.map { $0 == 0x48 ? 0x4A : $0 }))
        let mismatch = try spawnAndWait("/usr/bin/umockdev-run", ["-d", fixtures + "/lp.umockdev", "-s", "/dev/usb/lp0=" + bad, "--",
                                                                  f.till, "print-queue", "--retry", "--config", f.config],
                                        environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"])
        #expect(mismatch.status != 0)
        #expect(mismatch.stderr.contains("data mismatch"))
    }
}

@Suite("Receipts from the till in tmux", .serialized)
struct ReceiptTmuxTests {
    /// From the tender key to the receipt reaching the printer's device through a real cupsd (a
    /// private one, raw queue): the job was handed over before that. Measured and reported.
    @Test func aReceiptIsHandedToCUPSSoonAfterTheTenderKey() throws {
        let cups = try PrivateCUPS()
        defer { cups.stop() }
        let out = try cups.addRawQueue("receipts")
        let f = try TillFixture(extraConfig: "[printer]\nconnection = \"cups:receipts\"\ncups_server = \"\(cups.socket)\"\n")
        let t = try Tmux(command: f.command, width: 100, height: 30, environment: ["LANG": "C.UTF-8", "TZ": "UTC"])
        try t.waitFor("SIGN ON")
        try f.signOn(t)
        var latencies: [Double] = []
        for (i, code) in ["5012345678900", "4006381333931", "96385074"].enumerated() {
            try t.send(code, "Enter")
            try t.waitUntil("the item on the sale") { $0.contains("Total") || $0.contains("TOTAL") }
            try t.waitFor("Printer: ready")
            let t0 = Date().timeIntervalSince1970
            try t.send("F6")
            try t.waitFor("Sale 0001-01-00000\(i + 1) complete")
            let deadline = Date().addingTimeInterval(15)
            var started: [Double] = []
            while Date() < deadline {
                started = ((try? String(contentsOfFile: out + ".started", encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Double($0) }
                if started.count > i { break }
                usleep(10_000)
            }
            guard started.count > i else { Issue.record("cupsd never started the job of sale \(i + 1)"); return }
            latencies.append((started[i] - t0) * 1000)
            try t.waitUntil("the receipt printed") { $0.contains("Printer: ready") && !$0.contains("waiting") }
            try t.send("Escape")
        }
        let figures = latencies.map { String(format: "%.1f", $0) }.joined(separator: ", ")
        print("RECEIPT-LATENCY cups: tender key to cupsd starting the device \(figures) ms (the job was handed over before)")
        // The capture backend replaces the file when a job is all written, some time after the job
        // started: until then it holds the second receipt. Read it until the third is there.
        func third(_ v: VirtualPrinter) -> Bool { v.text.contains { $0.contains("0001-01-000003") || $0.contains("[CODE128 0001-01-000003]") } }
        var v = try VirtualPrinter(profile: try PrinterProfile.named("generic-80"), paperWidthMM: 80)
        let written = Date().addingTimeInterval(15)
        repeat {
            v = try VirtualPrinter(profile: try PrinterProfile.named("generic-80"), paperWidthMM: 80)
            v.feed(Array((try? Data(contentsOf: URL(fileURLWithPath: out))) ?? Data()))
            if third(v) { break }
            usleep(50_000)
        } while Date() < written
        #expect(third(v))
        #expect(latencies.count == 3 && latencies.allSatisfy { $0 < 5_000 }, "\(figures) ms")
    }

    /// From the tender key to the receipt's first bytes on a USB printer (umockdev, libusb),
    /// with the till running in tmux as a cashier uses it; measured, reported, and bounded loosely
    /// (the figure for the note is the printed one; a loaded machine must not fail the suite).
    @Test func aReceiptStartsPrintingOverUSBSoonAfterTheTenderKey() throws {
        let f = try TillFixture(extraConfig: usbConfig)
        let report = f.dir.file("usb-report.json")
        let command = "/usr/bin/umockdev-wrapper /usr/bin/python3 \(fixtures)/fakeprinter.py --report \(report) -- \(f.command)"
        let t = try Tmux(command: command, width: 100, height: 30, environment: ["LANG": "C.UTF-8", "TZ": "UTC"])
        try t.waitFor("SIGN ON", timeout: 30)
        try f.signOn(t)
        var latencies: [Double] = []
        var statusBefore: [Int] = []
        var marks: [Double] = []
        for (i, code) in ["5012345678900", "4006381333931", "96385074"].enumerated() {
            try t.send(code, "Enter")
            try t.waitUntil("the item on the sale") { $0.contains("Total") || $0.contains("TOTAL") }
            try t.waitFor("Printer: ready")
            let t0 = Date().timeIntervalSince1970
            marks.append(t0)
            try t.send("F6")
            try t.waitFor("Sale 0001-01-00000\(i + 1) complete")
            try t.waitUntil("the receipt printed") { $0.contains("Printer: ready") && !$0.contains("waiting") }
            try t.send("Escape")
        }
        try t.send("F12")
        try t.waitFor("SIGN ON")
        try t.send("C-q")
        let deadline = Date().addingTimeInterval(15)
        while try !t.paneDead() && Date() < deadline { usleep(50_000) }
        let data = try #require(FileManager.default.contents(atPath: report), "the fake printer wrote no report")
        let writes = try #require(try JSONDecoder().decode(USBReport.self, from: data).writes)
        for t0 in marks {
            let after = writes.filter { $0[0] >= t0 }
            guard let first = after.first(where: { $0[2] == 0 }) else { Issue.record("no receipt bytes after the tender key"); continue }
            latencies.append((first[0] - t0) * 1000)
            statusBefore.append(after.prefix { $0[2] != 0 }.count)
        }
        let figures = latencies.map { String(format: "%.1f", $0) }.joined(separator: ", ")
        print("RECEIPT-LATENCY usb: tender key to first receipt byte \(figures) ms; status requests before it: \(statusBefore)")
        #expect(latencies.count == 3)
        #expect(latencies.allSatisfy { $0 < 2_000 }, "\(figures) ms")
    }

    @Test func aCompletedSalePrintsAReceiptWhoseBytesShowTheLinesTotalsAndChange() throws {
        let printer = try FakeNetworkPrinter()
        defer { printer.stop() }
        let f = try TillFixture(extraConfig: "[printer]\nconnection = \"tcp:127.0.0.1:\(printer.port)\"\nprofile = \"generic-80\"\n")
        let t = try f.startTill()
        try f.signOn(t)
        try t.send("5012345678900", "Enter")
        try t.waitFor("Milk 1L")
        try t.send("3", "*")
        try t.waitFor("3 x  Item / PLU:")
        try t.send("4006381333931", "Enter")
        try t.waitFor("Highlighter pen")
        try t.send("1000", "F6")
        try t.waitFor("CHANGE 4.34")
        let deadline = Date().addingTimeInterval(10)
        while printer.received.isEmpty && Date() < deadline { usleep(20_000) }
        var v = try VirtualPrinter(profile: try PrinterProfile.named("generic-80"), paperWidthMM: 80)
        v.feed(printer.received)
        #expect(v.elements.first == .drawerPulse(pin: 2))       // cash: the drawer opens
        #expect(v.text.contains("Milk 1L B                                   1.19"))
        #expect(v.text.contains("  3 x 1.49                                  4.47"))
        #expect(v.text.contains("TOTAL EUR                                   5.66"))
        #expect(v.text.contains("Cash                                       10.00"))
        #expect(v.text.contains("Change                                      4.34"))
        #expect(v.text.contains { $0.contains("[CODE128 0001-01-000001]") })
        try t.waitForAll(["Printer: ready", "Milk 1L"])
    }

    @Test func aFailingPrinterNeverBlocksTheNextSaleAndTheReceiptPrintsWhenItIsBack() throws {
        let printer = try FakeNetworkPrinter(.answering(paperOut: true))
        defer { printer.stop() }
        let f = try TillFixture(extraConfig: "[printer]\nconnection = \"tcp:127.0.0.1:\(printer.port)\"\n")
        let t = try f.startTill()
        try f.signOn(t)
        try t.send("5012345678900", "Enter")
        try t.waitFor("Milk 1L")
        try t.send("F6")
        try t.waitFor("Sale 0001-01-000001 complete")
        try t.waitUntil("the paper-out message") {
            screenWords($0).contains("Receipt 0001-01-000001 not printed yet: network printer 127.0.0.1:\(printer.port): paper out. Load a new roll")
        }
        try t.waitFor("Printer: paper out (1 waiting)")
        // The next sale goes on as usual.
        try t.send("96385074", "Enter")
        try t.waitFor("Chewing gum")
        try t.send("F6")
        try t.waitFor("Sale 0001-01-000002 complete")
        #expect(printer.received.isEmpty)
        // A new roll: both receipts print, oldest first, without anyone pressing a key.
        printer.setBehaviour(.answering(paperOut: false))
        try t.waitUntil(timeout: 45, "both receipts to print") { _ in
            var v = try! VirtualPrinter(profile: try! PrinterProfile.named("generic-80"), paperWidthMM: 80)
            v.feed(printer.received)
            return v.elements.filter { $0 == .cut(partial: true) }.count == 2
        }
        var v = try VirtualPrinter(profile: try PrinterProfile.named("generic-80"), paperWidthMM: 80)
        v.feed(printer.received)
        let numbers = v.text.filter { $0.hasPrefix("Receipt ") }.map { String($0.prefix(22)) }
        #expect(numbers == ["Receipt 0001-01-000001", "Receipt 0001-01-000002"])
        try t.waitFor("Printer: ready")
    }
}
