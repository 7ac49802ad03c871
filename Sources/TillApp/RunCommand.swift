import ArgumentParser
import Foundation
import Receipts
import Printers
import CardReaders
import Scales
import ServiceLifecycle
import TillDemo
public import TillSync
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
            let parts = try makeTill(config: config, database: db)
            let readers = config.cardReaders.isEmpty ? nil : CardReaderHub(sources: config.cardReaders)
            // The background parts run as one service group beside the terminal's loop; when the
            // loop ends (the cashier quits, or SIGTERM/SIGHUP) they shut down gracefully, the
            // update service first and the card readers last.
            let services: [(any Service)?] = [readers, parts.spooler, parts.forwarder, parts.updates]
            let background = TillServices(services.compactMap { $0 })
            defer { background.shutDown() }
            let readerState = ReaderStatus()
            let app = TerminalApp(
                controller: parts.controller, scanGapMilliseconds: config.scanGapMilliseconds,
                external: readers.map { hub in { readerState.absorb(hub.take()) } }
            ) {
                var items = ["Printer: \(parts.receipts.statusLine)"] + SyncStatusLine.items(db: db, forwarder: parts.forwarder)
                if parts.updates != nil, let v = try? db.appliedPublicationVersion() { items.append("Config v\(v)") }
                items.append("Programme: \(parts.controller.programme?.version ?? "none")")
                if readers != nil { items.append("Readers: \(readerState.summary)") }
                return items
            }
            app.run()
        }
    }
}

/// The parts of a running till.
public struct TillParts {
    public let controller: TillController
    let receipts: ReceiptService
    public let spooler: PrintSpooler?
    /// Sends the outbox to head office, when one is configured and the till is enrolled.
    public let forwarder: Forwarder?
    /// Takes head office's publications, likewise.
    public let updates: UpdateService?
}

/// Builds the till as `till run` does: the database, the system clock, time-ordered UUIDs (version 7), receipts
/// from the templates for the configured printer, and a print spooler when there is a printer.
/// `till-bench` measures this same assembly. Template and printer-profile errors are reported
/// here, at start, never mid-sale.
public func makeTill(config configured: TillConfig, database db: TillDatabase) throws -> TillParts {
    // Terminal settings head office published count over the file's (the printer profile and
    // keymap take effect here, at start).
    var config = configured
    if let t = try? db.terminalSettings() { config.adopt(t) }
    let now: @Sendable () -> Timestamp = { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
    let spooler = config.printerConnection.makeTransport(
        cupsServer: config.cupsServer, askStatus: config.printerStatus, timeoutMilliseconds: config.printerTimeoutMilliseconds
    ).map { PrintSpooler(database: db, transport: $0, askStatus: config.printerStatus, giveUpAfterSeconds: config.printGiveUpSeconds, now: now) }
    let receipts: ReceiptService
    do { receipts = try ReceiptService(config: config, database: db, spooler: spooler) } catch let e as TemplateError {
        throw CLIError("Receipt template error in \(config.templatesDirectory ?? "the built-in templates"): \(e). Fix the template; the till starts once it loads.")
    } catch {
        throw CLIError("\(error)")
    }
    var settings = config.settings
    if (try? db.isDemo()) == true {
        settings.signOnHint = "Demo store: cashier \(DemoCatalog.cashier.number), PIN \(DemoCatalog.cashierPIN)"
            + " (supervisor \(DemoCatalog.supervisor.number), PIN \(DemoCatalog.supervisorPIN))"
    }
    let zone = TimeZone.current
    let link = try config.headOfficeLink()
    let forwarder = link.map { Forwarder(link: $0, database: db, storeID: config.storeID, tillID: config.tillID, now: now) }
    let updates = link.map { UpdateService(link: $0, database: db, now: now, contacted: { forwarder?.heardFromHeadOffice(at: $0) }) }
    let loyalty: any LoyaltyDirectory = link.map {
        $0.lookupTimeoutMilliseconds > 0 ? OnlineLoyaltyDirectory(database: db, link: $0, forwarder: forwarder) as any LoyaltyDirectory : db
    } ?? db
    let controller = TillController(settings: settings, environment: TillEnvironment(
        catalog: db, cashiers: db, journal: db, printer: receipts, now: now,
        makeSaleID: { SaleID.make(at: now()) }, loyalty: loyalty,
        localTime: { LocalDateTime(minutes: ($0 / 1000 + Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double($0) / 1000)))) / 60) },
        outboxWritten: { forwarder?.nudge() },
        cashOffice: link.map { OnlineCashOffice(database: db, link: $0, forwarder: forwarder) as any CashOfficeStore } ?? db,
        updates: db, publicationsApplied: { updates?.applied() },
        scale: config.scale.map { ScaleOnSerialLine(SerialScale(device: $0.device, baud: $0.baud, frame: $0.frame)) }))
    return TillParts(controller: controller, receipts: receipts, spooler: spooler, forwarder: forwarder, updates: updates)
}

/// What the directly-read card readers last said, for the status bar; their reads and problems go
/// to the controller.
final class ReaderStatus {
    private var ready = 0
    private var problems: [String: String] = [:]
    private(set) var summary = "starting"

    func absorb(_ events: [CardReaderEvent]) -> [ExternalInput] {
        var out: [ExternalInput] = []
        for e in events {
            switch e {
            case .read(let text, _): out.append(.scan(text))
            case .ready(_, let source):
                ready += 1
                problems[source] = nil
                summary = problems.isEmpty ? "ready" : "\(problems.count) not ready"
            case .problem(let text, let source):
                problems[source] = text
                summary = "\(problems.count) not ready"
                out.append(.problem(text))
            }
        }
        return out
    }
}

/// The till's scale on its serial line, waiting up to 2 s for a steady weight.
struct ScaleOnSerialLine: WeighingScale {
    let scale: SerialScale
    init(_ scale: SerialScale) { self.scale = scale }

    func weigh() -> ScaleReading {
        switch scale.steadyWeight() {
        case .grams(let g): .weight(Quantity(milli: g))
        case .motion: .motion
        case .zero: .zero
        case .underZero: .underZero
        case .overCapacity: .overCapacity
        case .noAnswer(let why): .noAnswer(why)
        }
    }
}
