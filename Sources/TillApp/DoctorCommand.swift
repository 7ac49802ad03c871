import ArgumentParser
import ESCPOS
import Foundation
import Printers
import Receipts
import TillStore

extension TillCommand {
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the till's configuration, database, templates and printer, and say how to fix what is wrong.")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            var problems = 0
            func ok(_ s: String) { print("[ok] " + s) }
            func problem(_ s: String, fix: String? = nil) {
                problems += 1
                print("[!!] " + s)
                if let fix { print("     fix: " + fix) }
            }
            func info(_ s: String) { print("     " + s) }

            let config: TillConfig
            do { config = try TillConfig.load(path: global.config) } catch {
                problem("Configuration: \(error)")
                throw ExitCode(1)
            }
            ok("Configuration: \(config.source); store \(config.storeID), till \(config.tillID)")

            var db: TillDatabase?
            do {
                let d = try TillDatabase(path: config.databasePath)
                db = d
                ok("Database \(config.databasePath): \(try d.productCount()) products, \(try d.lastSequence(tillID: config.tillID)) sales, \(try d.pendingOutboxCount()) not yet sent to head office")
            } catch {
                problem("Database: \(error)")
            }

            do {
                let layout = try ReceiptLayout(config: config)
                ok("Receipt templates (\(layout.source.description)): sale.receipt loads for \(layout.profile.name) at \(config.paperWidthMM) mm, \(layout.columns) characters per line")
            } catch {
                problem("Receipt templates: \(error)", fix: "correct the template at that line; the till will not start until it loads")
            }

            print("Printer: \(config.printerConnection) (profile \(config.printerProfile), \(config.paperWidthMM) mm)")
            if let transport = config.printerConnection.makeTransport(
                cupsServer: config.cupsServer, askStatus: true, timeoutMilliseconds: config.printerTimeoutMilliseconds) {
                do {
                    if let s = try transport.status() {
                        if s.ready { ok("\(transport.description) answers: \(s)") } else {
                            problem("\(transport.description) answers: \(s)", fix: s.paperOut ? "load a new paper roll" : s.coverOpen ? "close the printer's cover" : "check the printer's lights and switch it off and on")
                        }
                    } else {
                        ok("\(transport.description) is reachable (it does not report paper or cover status)")
                    }
                } catch {
                    problem("\(error)", fix: fix(for: error, config))
                    if case .usb = config.printerConnection {
                        let printers = USBPrinterTransport.connectedPrinters()
                        info(printers.isEmpty ? "No USB printers are connected." : "USB printers connected: " + printers.joined(separator: "; "))
                        let lp = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/usb"))?.filter { $0.hasPrefix("lp") } ?? []
                        if !lp.isEmpty { info("The kernel's usblp driver has \(lp.map { "/dev/usb/" + $0 }.joined(separator: ", ")); the till detaches it when it prints.") }
                    }
                }
            } else {
                info("No printer configured: receipts are kept as text in \(config.receiptsDirectory). Set [printer] connection (\(PrinterConnection.examples)).")
            }

            if let db {
                let jobs = (try? db.printJobs()) ?? []
                if jobs.isEmpty { ok("Print queue: nothing waiting") } else {
                    problem("Print queue: \(jobs.count) job(s) not printed; last error: \(jobs.last?.lastError ?? "none yet")",
                            fix: "fix the printer, then `till print-queue --retry` (the till also retries by itself)")
                }
            }
            print(problems == 0 ? "All checks passed." : "\(problems) problem\(problems == 1 ? "" : "s") found.")
            if problems > 0 { throw ExitCode(1) }
        }

        func fix(for e: PrinterError, _ c: TillConfig) -> String {
            switch e {
            case .permissionDenied:
                return "sudo cp Drivers/udev/60-till.rules /etc/udev/rules.d/ && sudo udevadm control --reload && sudo udevadm trigger; add the till's user to group lp (sudo usermod -aG lp USER) and log in again"
            case .busy:
                return "stop the other program using the printer (a CUPS queue on the same printer?), or print through it: connection = \"cups:QUEUE\""
            case .notFound:
                if case .cups = c.printerConnection { return "create the raw queue: see Drivers/cups/README.md" }
                return "plug the printer in and switch it on; check [printer] connection"
            case .queueMissing: return "create the raw queue: see Drivers/cups/README.md"
            case .queueNotAccepting(let q, _): return "sudo cupsaccept \(q)"
            case .queueStopped(let q, _): return "sudo cupsenable \(q)"
            case .schedulerDown: return "sudo systemctl start cups (or set [printer] cups_server)"
            case .timedOut: return "check paper and cover; switch the printer off and on"
            default: return "check the printer and its cable"
            }
        }
    }
}
