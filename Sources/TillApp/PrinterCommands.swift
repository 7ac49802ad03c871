import ArgumentParser
import ESCPOS
import Foundation
import Printers
import Receipts
import TillCore
import TillDocuments
import TillProtocol
import TillStore

extension TillCommand {
    struct Receipt: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a stored receipt as text, ESC/POS bytes or an SVG image.",
            discussion: "NUMBER is a receipt number (0001-01-000042, or a refund's 0001-01-R00003), this till's sale number (42) or refund number (R3). The receipt is the one printed (or queued); --copy renders a sale's reprint.")

        enum Format: String, ExpressibleByArgument, CaseIterable { case text, escpos, svg }

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Receipt number, sale number or refund number (R3).") var number: String
        @Option(help: "text, escpos or svg.") var format: Format = .text
        @Flag(help: "Render the reprint, marked COPY.") var copy = false
        @Option(name: [.short, .long], help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
        var output: String?

        func run() throws {
            let config = try global.loadConfig()
            let db = try config.openDatabase()
            let service = try ReceiptService(config: config, database: db, spooler: nil)
            let bytes: [UInt8]
            if let sale = try db.completedSale(receipt: number, till: config.identity) {
                bytes = (!copy ? try db.receiptJob(saleID: sale.id)?.payload : nil) ?? service.render(sale, copy: copy)
            } else if let refund = try db.completedRefund(receipt: number, till: config.identity) {
                // The slip as it was printed; drawn again from the journal when none was.
                bytes = try db.refundJob(receipt: refund.receiptNumber)?.payload ?? service.renderRefund(refund)
            } else {
                throw CLIError("There is no sale or refund '\(number)' in this till's journal: give a receipt number such as "
                               + "\(config.identity.receiptNumber(sequence: 1)) or \(CompletedRefund.receiptNumber(till: config.identity, sequence: 1)), "
                               + "a sale number (1) or a refund number (R1)")
            }
            let data: Data
            switch format {
            case .escpos: data = Data(bytes)
            case .text: data = Data((service.paperText(bytes).joined(separator: "\n") + "\n").utf8)
            case .svg:
                var v = try VirtualPrinter(profile: service.profile, paperWidthMM: config.paperWidthMM)
                v.feed(bytes)
                data = Data(v.svg.utf8)
            }
            if let output {
                try data.write(to: URL(fileURLWithPath: output), options: .atomic)
            } else {
                FileHandle.standardOutput.write(data)
            }
        }
    }

    struct PrintTest: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "print-test",
            abstract: "Print the printer test page (styles, code pages, barcodes, QR) on the configured printer.")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let config = try global.loadConfig()
            guard let transport = config.printerConnection.makeTransport(
                cupsServer: config.cupsServer, askStatus: config.printerStatus, timeoutMilliseconds: config.printerTimeoutMilliseconds)
            else {
                throw CLIError("No printer is configured: set [printer] connection in \(config.source) (\(PrinterConnection.examples))")
            }
            let layout: ReceiptLayout
            do { layout = try ReceiptLayout(config: config) } catch { throw CLIError("\(error)") }
            let bytes = try layout.testPage(
                config: config, connection: transport.description,
                date: ProtocolTime.display(Int64(Date().timeIntervalSince1970 * 1000)))
            do {
                try transport.print(bytes, checkStatus: config.printerStatus)
            } catch {
                throw CLIError("The test page was not printed. \(error)")
            }
            print("Test page printed on \(transport.description) (\(layout.profile.name), \(config.paperWidthMM) mm).")
        }
    }

    struct PrintQueue: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "print-queue",
            abstract: "List receipts not printed yet; --retry prints them now.")

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Try to print every waiting or given-up job now.") var retry = false

        func run() throws {
            let config = try global.loadConfig()
            let db = try config.openDatabase()
            var jobs = try db.printJobs()
            if retry && !jobs.isEmpty {
                guard let transport = config.printerConnection.makeTransport(
                    cupsServer: config.cupsServer, askStatus: config.printerStatus, timeoutMilliseconds: config.printerTimeoutMilliseconds)
                else { throw CLIError("No printer is configured: set [printer] connection in \(config.source)") }
                let spooler = PrintSpooler(database: db, transport: transport, askStatus: config.printerStatus,
                                           giveUpAfterSeconds: config.printGiveUpSeconds, now: { Int64(Date().timeIntervalSince1970 * 1000) })
                for job in jobs {
                    let label = job.receiptNumber.map { (job.kind == .reprint ? "copy of receipt " : "receipt ") + $0 } ?? "job \(job.id)"
                    switch spooler.print(job) {
                    case .success: print("Printed \(label).")
                    case .failure(let e):
                        try db.recordPrintFailure(job.id, error: e.description, at: Int64(Date().timeIntervalSince1970 * 1000))
                        printError("Not printed: \(label): \(e)")
                    }
                }
                jobs = try db.printJobs()
            }
            if jobs.isEmpty {
                print("Nothing is waiting to print.")
                return
            }
            print("\(jobs.count) job\(jobs.count == 1 ? "" : "s") not printed:")
            for j in jobs {
                print("  \(j.id)  \(j.kind.rawValue)  \(j.receiptNumber ?? "-")  \(j.state == .failed ? "given up" : "waiting")  attempts \(j.attempts)  \(j.lastError ?? "")")
            }
            if retry { throw ExitCode(1) }
        }
    }
}
