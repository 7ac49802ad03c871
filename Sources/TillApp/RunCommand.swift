import ArgumentParser
import Foundation
import Receipts
import TillCore
import TillProtocol
public import TillStore
public import TillUI

extension TillCommand {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Start the till in this terminal (the default).")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
                throw CLIError("till runs in a terminal: start it from a console or terminal window (stdin and stdout must be a terminal)")
            }
            let config = try global.loadConfig()
            let db = try config.openDatabase()
            do { try db.checkIdentity(storeID: config.storeID, tillID: config.tillID) } catch {
                throw CLIError(error.description)
            }
            guard try db.cashierCount() > 0 else {
                throw CLIError("No cashiers are set up in \(config.databasePath). Run `till demo` for a demo store, or `till import cashiers FILE.csv`.")
            }
            if try db.productCount() == 0 {
                printError("Warning: the catalog in \(config.databasePath) is empty: run `till demo` or `till import catalog FILE.csv`.")
            }
            let controller = makeTillController(config: config, database: db)
            let app = TerminalApp(controller: controller, scanGapMilliseconds: config.scanGapMilliseconds) {
                let unsent = (try? db.pendingOutboxCount()) ?? 0
                return ["Printer: text file", "Unsent: \(unsent)", "Programme: -"]
            }
            app.run()
        }
    }
}

/// The till's controller as `till run` builds it: the database, the system clock, random UUIDs
/// and receipts written as text files. `till-bench` measures this same assembly.
public func makeTillController(config: TillConfig, database db: TillDatabase) -> TillController {
    var settings = config.settings
    if (try? db.isDemo()) == true {
        settings.signOnHint = "Demo store: cashier \(DemoCatalog.cashier.number), PIN \(DemoCatalog.cashierPIN)"
            + " (supervisor \(DemoCatalog.supervisor.number), PIN \(DemoCatalog.supervisorPIN))"
    }
    return TillController(settings: settings, environment: config.environment(db))
}

extension TillConfig {
    func environment(_ db: TillDatabase) -> TillEnvironment {
        TillEnvironment(
            catalog: db, cashiers: db, journal: db,
            receipts: FileReceiptSink(
                directory: receiptsDirectory,
                layout: PlainTextReceipt(width: receiptWidth, header: storeAddress, footer: receiptFooter)),
            now: { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) },
            makeSaleID: { UUID().uuidString.lowercased() })
    }
}

/// Writes each completed sale's receipt as a text file `<receipt number>.txt` (atomically:
/// a temporary file renamed into place) and returns its lines for the screen.
struct FileReceiptSink: ReceiptSink {
    let directory: String
    let layout: PlainTextReceipt
    var timeZone: TimeZone = .current

    func saleCompleted(_ sale: CompletedSale) throws -> [String] {
        let lines = layout.render(sale, date: ProtocolTime.display(sale.completedAt, timeZone: timeZone))
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let url = URL(fileURLWithPath: directory).appendingPathComponent(sale.receiptNumber + ".txt")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url, options: .atomic)
        return lines
    }
}
