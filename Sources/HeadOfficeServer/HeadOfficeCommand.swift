import ArgumentParser
import Foundation
import HeadOffice
import Logging
import TillCore
import TillDocuments
import TillProtocol
import TillStore

/// `headoffice`: the server all tills of a chain report to, and its administration.
@main
struct HeadOfficeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "headoffice",
        abstract: "Head office: takes every till's sales and points exactly once; registers tills; reports.",
        discussion: """
            The database is a SQLite file (default ./headoffice.sqlite, or $HEADOFFICE_DATABASE) or a \
            postgres://user@host:port/database URL shared by several head office processes.
            """,
        subcommands: [Serve.self, TillCommand.self, User.self, Staff.self, Publish.self, Rollout.self, Rollback.self, Group.self, Programme.self, Cards.self,
                      Report.self, Demo.self, StoreCommand.self])
}

struct DatabaseOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A SQLite file or a postgres:// URL.", valueName: "database"))
    var database: String = ProcessInfo.processInfo.environment["HEADOFFICE_DATABASE"] ?? "headoffice.sqlite"

    func open() throws -> HeadOfficeStore {
        do {
            let db: any SQLDatabase = database.hasPrefix("postgres://") || database.hasPrefix("postgresql://")
                ? try PostgresDatabase(url: database) : try SQLiteDatabase(path: database)
            return try HeadOfficeStore(database: db)
        } catch {
            throw CLIFailure("\(error)")
        }
    }
}

struct CLIFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the tills' API (ingest, card lookups), /health and /metrics.")

    @OptionGroup var db: DatabaseOption
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port, printed).") var port = 8470
    @Option(help: ArgumentHelp("PEM certificate chain: serve HTTPS.", valueName: "file")) var tlsCert: String?
    @Option(help: ArgumentHelp("PEM private key for --tls-cert.", valueName: "file")) var tlsKey: String?
    @Option(help: "Largest request body accepted, in bytes.") var maxBody = 32 << 20

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
    }

    func run() async throws {
        // Logs carry what tills and browsers sent: control characters are escaped.
        LoggingSystem.bootstrap(EscapingLogHandler.standardError)
        let store = try db.open()
        let options = ServerOptions(host: host, port: port, tlsCertificate: tlsCert, tlsKey: tlsKey, maxBodyBytes: maxBody)
        let server = HeadOfficeServer(store: store, options: options)
        let lastResort = HeadOfficeServer.exitAfterSignal(seconds: 4.5)
        defer { lastResort.forEach { $0.cancel() } }
        let scheme = tlsCert == nil ? "http" : "https"
        let location = store.database.location
        try await server.run { bound in
            // One line, flushed: scripts and tests wait for it.
            FileHandle.standardOutput.write(Data("headoffice listening on \(scheme)://\(host):\(bound) (database \(location))\n".utf8))
        }
    }
}

struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "The stores' names and addresses, as their receipts print them (the back office draws receipts with them).",
        subcommands: [Set.self, List.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a store or change its name and address (as its tills' [store] name and address).")
        @OptionGroup var db: DatabaseOption
        @Option(help: "The store's ID, as its tills have it (e.g. 0001).") var store: String
        @Option(help: "Its name on the receipt.") var name: String
        @Option(help: "An address line (repeat for each, up to 4).") var address: [String] = []

        func validate() throws {
            guard (1...16).contains(store.count), store.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                throw ValidationError("--store '\(store)' must be 1 to 16 letters, digits or '-', as the tills' store_id")
            }
            guard (1...48).contains(name.count) else { throw ValidationError("--name must be 1 to 48 characters (a receipt line)") }
            guard address.count <= 4, address.allSatisfy({ (1...48).contains($0.count) && !$0.contains("\n") }) else {
                throw ValidationError("--address: up to 4 lines of 1 to 48 characters each")
            }
        }

        func run() throws {
            try db.open().saveStore(HeadOfficeStore.StoreDetails(id: store, name: name, address: address))
            print("Store \(store): \(name)" + (address.isEmpty ? "" : ", " + address.joined(separator: ", ")) + ".")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the stores head office knows by name.")
        @OptionGroup var db: DatabaseOption
        func run() throws {
            let stores = try db.open().stores()
            if stores.isEmpty { print("No store is named yet: headoffice store set --store 0001 --name NAME --address LINE") }
            for s in stores { print("\(s.id)  \(s.name)" + (s.address.isEmpty ? "" : "  " + s.address.joined(separator: ", "))) }
        }
    }
}

struct TillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "till", abstract: "Register, revoke and list tills.",
                                                    subcommands: [Register.self, Revoke.self, List.self])

    struct Register: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a till its credential (printed, or written to --output with mode 0600).",
            discussion: "On the till: till sync enrol --url https://headoffice:8470 --token-file FILE")
        @OptionGroup var db: DatabaseOption
        @Option var store: String
        @Option var till: String
        @Flag(help: "Issue a new token to a till already registered (the old one stops working).") var replace = false
        @Option(help: ArgumentHelp("Write the token to this file (mode 0600) instead of printing it.", valueName: "file")) var output: String?

        func run() throws {
            let s = try db.open()
            let token: TillToken
            do { token = try s.registerTill(TillCredential(storeID: store, tillID: till), replace: replace) } catch { throw CLIFailure("\(error)") }
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: Data((token.description + "\n").utf8), attributes: [.posixPermissions: 0o600])
                else { throw CLIFailure("Cannot write \(output)") }
                print("Till \(store)/\(till) registered; its token is in \(output) (mode 0600).")
            } else {
                print(token.description)
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a till's credential: its requests get 401.")
        @OptionGroup var db: DatabaseOption
        @Option var store: String
        @Option var till: String
        func run() throws {
            do { try db.open().revokeTill(TillCredential(storeID: store, tillID: till)) } catch { throw CLIFailure("\(error)") }
            print("Till \(store)/\(till) revoked.")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tills: last contact, highest sale number, missing sales.")
        @OptionGroup var db: DatabaseOption
        func run() throws {
            let tills = try db.open().tills()
            if tills.isEmpty { print("No tills are registered: headoffice till register --store S --till T") }
            for t in tills {
                let seen = t.lastSeen.map { Date(timeIntervalSince1970: Double($0) / 1000).description } ?? "never"
                let state = t.revokedAt == nil ? "" : "  REVOKED"
                print("\(t.till.name)  last contact \(seen)  sales up to \(t.maxSequence), missing \(t.maxSequence - t.contiguousThrough)\(state)")
            }
        }
    }
}

struct Staff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Staff and their roles (cashier, supervisor, manager) for the tills; PINs are kept only as slow hashes.",
        subcommands: [Import.self, List.self, Remove.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add or replace staff from CSV, all or none: number,name,role,pin,store (store empty: every store).",
            discussion: "Tills take the list within 5 minutes (or at once with `till sync staff`).")
        @OptionGroup var db: DatabaseOption
        @Argument(help: ArgumentHelp("The CSV file.", valueName: "staff.csv")) var file: String
        func run() throws {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw CLIFailure("Cannot read \(file) as UTF-8 text")
            }
            let records: [StaffRecord]
            do { records = try StaffRecord.parse(csv: text) } catch { throw CLIFailure("\(file): \(error)") }
            try db.open().importStaff(records)
            print("Imported \(records.count) staff.")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List staff (never their PINs).")
        @OptionGroup var db: DatabaseOption
        @Option(help: "Only the staff a store's tills take.") var store: String?
        func run() throws {
            let list = try db.open().staff(store: store)
            if list.staff.isEmpty { print("No staff yet: headoffice staff import FILE.csv") }
            for m in list.staff { print("\(m.number)  \(m.role.padding(toLength: 10, withPad: " ", startingAt: 0))  \(m.name)") }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a member of staff: the tills refuse them after their next update.")
        @OptionGroup var db: DatabaseOption
        @Argument var number: String
        func run() throws {
            guard try db.open().removeStaff(number: number) else { throw CLIFailure("No staff member has number \(number)") }
            print("Staff member \(number) removed.")
        }
    }
}

struct User: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Back office accounts: admin, marketing (the programme) or store (one store's prices and settings).",
        subcommands: [Add.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add or replace an account; the password is read from a file or standard input (-), kept only as a slow hash.")
        @OptionGroup var db: DatabaseOption
        @Argument var name: String
        @Option(help: "admin, marketing or store.") var role: String
        @Option(help: "The store a store manager acts for.") var store: String?
        @Option(help: ArgumentHelp("A file holding the password (- reads standard input).", valueName: "file")) var passwordFile: String = "-"
        func run() throws {
            guard let r = BackOfficeRole(rawValue: role) else { throw CLIFailure("--role '\(role)' must be admin, marketing or store") }
            let data = passwordFile == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: passwordFile)
            guard let data, let text = String(data: data, encoding: .utf8) else { throw CLIFailure("Cannot read the password from \(passwordFile)") }
            let password = text.trimmingCharacters(in: .newlines)
            do { try db.open().saveUser(name, role: r, storeID: store, password: password) } catch let e as PublicationError { throw CLIFailure(e.description) }
            print("Account \(name) (\(r.label)\(store.map { ", store " + $0 } ?? "")) saved.")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List back office accounts.")
        @OptionGroup var db: DatabaseOption
        func run() throws {
            for u in try db.open().users() { print("\(u.username)  \(u.role.rawValue)\(u.storeID.map { "  store " + $0 } ?? "")") }
        }
    }
}

/// Options every publication takes.
struct PublicationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("chain, group:NAME, store:0001 or till:0001/01.", valueName: "scope")) var scope: String = "chain"
    @Option(help: ArgumentHelp("When it comes into force (ISO time, e.g. 2026-12-01T06:00:00Z); default now.", valueName: "time")) var at: String?
    @Option(help: "Why (the tills show it in \"what changed\").") var note: String = ""
    @Option(help: "Who publishes.") var by: String = ProcessInfo.processInfo.environment["USER"] ?? "admin"

    func resolved() throws -> (PublicationScope, Int64?) {
        guard let s = PublicationScope.parse(scope) else {
            throw CLIFailure("--scope '\(scope)' must be chain, group:NAME, store:0001 or till:0001/01")
        }
        guard let at else { return (s, nil) }
        guard let ms = ProtocolTime.parse(at) else { throw CLIFailure("--at '\(at)' is not a time: write e.g. 2026-12-01T06:00:00Z") }
        return (s, ms)
    }
}

struct Publish: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish the loyalty programme, prices or terminal settings to tills (a new version; tills apply it between sales).",
        subcommands: [ProgrammeFile.self, Prices.self, Settings.self, List.self])

    struct ProgrammeFile: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "programme", abstract: "Publish a programme (JSON, as the tills have it).")
        @OptionGroup var db: DatabaseOption
        @OptionGroup var options: PublicationOptions
        @Argument(help: ArgumentHelp("The programme file.", valueName: "programme.json")) var file: String
        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIFailure("Cannot read \(file)") }
            let p: LoyaltyProgramme
            do { p = try JSONDecoder().decode(LoyaltyProgramme.self, from: data) } catch { throw CLIFailure("\(file) is not a programme: \(error)") }
            let (scope, at) = try options.resolved()
            do {
                let pub = try db.open().publish(.programme, scope: scope, by: options.by, note: options.note, effectiveAt: at, programme: p)
                print("Published version \(pub.version): programme \(p.version) to \(scope).")
            } catch let e as PublicationError { throw CLIFailure(e.description) }
        }
    }

    struct Prices: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Publish price changes from CSV: sku,price (e.g. 1.99), all rows or none.")
        @OptionGroup var db: DatabaseOption
        @OptionGroup var options: PublicationOptions
        @Argument(help: ArgumentHelp("The CSV file.", valueName: "prices.csv")) var file: String
        func run() throws {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw CLIFailure("Cannot read \(file) as UTF-8 text")
            }
            let changes: [PriceChange]
            do { changes = try PriceFile.parse(text) } catch { throw CLIFailure("\(file): \(error)") }
            let (scope, at) = try options.resolved()
            do {
                let pub = try db.open().publish(.prices, scope: scope, by: options.by, note: options.note, effectiveAt: at, prices: changes)
                print("Published version \(pub.version): \(changes.count) prices to \(scope).")
            } catch let e as PublicationError { throw CLIFailure(e.description) }
        }
    }

    struct Settings: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish terminal settings (JSON: loyaltyPromptAtTotal, receiptHeader, receiptFooter, printerProfile, keymap, discountLimit, autoLockMinutes).")
        @OptionGroup var db: DatabaseOption
        @OptionGroup var options: PublicationOptions
        @Argument(help: ArgumentHelp("The settings file.", valueName: "settings.json")) var file: String
        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIFailure("Cannot read \(file)") }
            let t: TerminalSettings
            do { t = try JSONDecoder().decode(TerminalSettings.self, from: data) } catch { throw CLIFailure("\(file) is not terminal settings: \(error)") }
            let (scope, at) = try options.resolved()
            do {
                let pub = try db.open().publish(.settings, scope: scope, by: options.by, note: options.note, effectiveAt: at, settings: t)
                print("Published version \(pub.version): terminal settings to \(scope).")
            } catch let e as PublicationError { throw CLIFailure(e.description) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List publications, newest first.")
        @OptionGroup var db: DatabaseOption
        func run() throws {
            let list = try db.open().publications()
            if list.isEmpty { print("Nothing published yet.") }
            for p in list {
                print("v\(p.version)  \(p.kind.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0))  \(p.scope)  by \(p.createdBy)  in force \(ProtocolTime.format(p.effectiveAt))  \(p.note)")
            }
        }
    }
}

struct Rollout: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Each till: the version it runs, when it last asked, what it has not applied yet.")
    @OptionGroup var db: DatabaseOption
    @Flag(help: "JSON instead of a table.") var json = false
    func run() throws {
        let rows = try db.open().rollout()
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try e.encode(rows), as: UTF8.self))
            return
        }
        if rows.isEmpty { print("No tills are registered.") }
        for r in rows {
            let seen = r.lastPoll.map { ProtocolTime.format($0) } ?? "never"
            print("\(r.till)  runs v\(r.version)  latest v\(r.latest)  pending \(r.pending)  last asked \(seen)")
        }
    }
}

struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Publish again the previous version of a kind for a scope (as a new version).")
    @OptionGroup var db: DatabaseOption
    @Option(help: "programme, prices or settings.") var kind: String
    @Option(help: ArgumentHelp("The scope it was published to.", valueName: "scope")) var scope: String = "chain"
    @Option(help: "Who rolls back.") var by: String = ProcessInfo.processInfo.environment["USER"] ?? "admin"
    func run() throws {
        guard let k = PublicationKind(rawValue: kind) else { throw CLIFailure("--kind '\(kind)' must be programme, prices or settings") }
        guard let s = PublicationScope.parse(scope) else { throw CLIFailure("--scope '\(scope)' must be chain, group:NAME, store:0001 or till:0001/01") }
        do {
            let p = try db.open().rollback(k, scope: s, by: by)
            print("Published version \(p.version): \(p.note).")
        } catch let e as PublicationError { throw CLIFailure(e.description) }
    }
}

struct Group: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Store groups, to publish to several stores at once.", subcommands: [Set.self])
    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make or replace a store group: NAME STORE…")
        @OptionGroup var db: DatabaseOption
        @Argument var name: String
        @Argument var stores: [String]
        func run() throws {
            guard !stores.isEmpty else { throw CLIFailure("Name at least one store") }
            try db.open().setGroup(name, stores: stores)
            print("Group \(name): \(stores.joined(separator: ", ")).")
        }
    }
}

struct Programme: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Keep loyalty programme versions, to check the points of tills' sales.",
                                                    subcommands: [Import.self])
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import a programme version (JSON, as the tills have it).")
        @OptionGroup var db: DatabaseOption
        @Argument(help: ArgumentHelp("The programme file.", valueName: "programme.json")) var file: String
        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIFailure("Cannot read \(file)") }
            let p: LoyaltyProgramme
            do { p = try JSONDecoder().decode(LoyaltyProgramme.self, from: data) } catch { throw CLIFailure("\(file) is not a programme: \(error)") }
            let issues = p.validate()
            guard issues.isEmpty else { throw CLIFailure("\(file) is not valid:\n" + issues.map { "  \($0)" }.joined(separator: "\n")) }
            try db.open().importProgramme(p)
            print("Programme '\(p.name)' version \(p.version) imported.")
        }
    }
}

struct Cards: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load loyalty cards.", subcommands: [Import.self])
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load cards from CSV (the till's cards file format), all or none.")
        @OptionGroup var db: DatabaseOption
        @Argument(help: ArgumentHelp("The CSV file.", valueName: "cards.csv")) var file: String
        func run() throws {
            let store = try db.open()
            guard let programme = try store.latestProgramme() else {
                throw CLIFailure("Import the programme first (headoffice programme import FILE.json): card numbers are checked against its ranges")
            }
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw CLIFailure("Cannot read \(file) as UTF-8 text")
            }
            let records: [CSVRecord]
            do { records = try CSVReader.records(text) } catch { throw CLIFailure("\(file) line \(error.line): \(error.message)") }
            let (cards, issues) = CardsCSV.parse(records, programme: programme, now: Int64(Date().timeIntervalSince1970 * 1000))
            guard issues.isEmpty else {
                throw CLIFailure("\(file): nothing was loaded:\n" + issues.prefix(50).map { "  line \($0.line): \($0.message)" }.joined(separator: "\n"))
            }
            try store.importCards(cards)
            print("Loaded \(cards.count) cards.")
        }
    }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load the demo loyalty programme and the demo cards: the same ones `till demo` gives a till.")
    @OptionGroup var db: DatabaseOption
    @Option(help: "Member cards (as till demo --cards).") var cards = DemoCatalog.demoMembers

    func validate() throws {
        guard (4...1_000_000).contains(cards) else { throw ValidationError("--cards \(cards) must be 4 to 1000000") }
    }

    func run() throws {
        let store = try db.open()
        let p = DemoCatalog.programme
        try store.importProgramme(p)
        let records = DemoCatalog.cards(members: cards, stock: DemoCatalog.demoStockCards)
        try store.importCards(records)
        // The demo's featured items (the till demo's first ones), for the back office's catalog and previews.
        try store.importProducts(DemoCatalog.featured)
        // The demo till's store, as its receipts print it.
        try store.saveStore(HeadOfficeStore.StoreDetails(id: "0001", name: "Demo Store", address: ["1 High Street", "Springfield"]))
        print("Demo programme '\(p.name)' version \(p.version), \(records.count) cards and \(DemoCatalog.featured.count) items loaded into \(store.database.location).")
        print("Next: headoffice till register --store 0001 --till 01 --output till-01.token, then on the till: till sync enrol --token-file till-01.token")
    }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What ingest reports: exceptions (offline overdrafts…), discrepancies, rejects, sequence gaps, ledger check.")

    enum Kind: String, ExpressibleByArgument, CaseIterable { case exceptions, discrepancies, rejects, gaps, ledger, summary }

    @OptionGroup var db: DatabaseOption
    @Argument(help: "exceptions, discrepancies, rejects, gaps, ledger or summary") var kind: Kind = .summary
    @Flag(help: "JSON instead of text.") var json = false

    func run() throws {
        let store = try db.open()
        func show(_ entries: [ReportEntry], _ empty: String) throws {
            if json {
                try printJSON(entries)
            } else if entries.isEmpty {
                print(empty)
            } else {
                for e in entries {
                    print([e.kind, e.till, e.document, e.card.map { LoyaltyCardNumber.masked($0) }, e.detail].compactMap { $0 }.joined(separator: "  "))
                }
            }
        }
        switch kind {
        case .exceptions: try show(store.exceptions(), "No exceptions.")
        case .discrepancies: try show(store.discrepancies(), "No discrepancies.")
        case .rejects: try show(store.rejects(), "No rejected documents.")
        case .gaps:
            var gaps: [TillGaps] = []
            for t in try store.tills() {
                let missing = try store.gaps(of: t.till)
                if !missing.isEmpty { gaps.append(TillGaps(till: t.till.name, storeID: t.till.storeID, tillID: t.till.tillID, missing: missing)) }
            }
            if json { return try printJSON(gaps) }
            for g in gaps {
                for m in g.missing { print("\(g.till)  missing \(m.from == m.to ? "\(m.from)" : "\(m.from)-\(m.to)")") }
            }
            if gaps.isEmpty { print("No till has missing sales.") }
        case .ledger:
            let bad = try store.ledgerMismatches().map { LedgerMismatch(card: $0.card, balance: $0.balance, movements: $0.movements) }
            if json {
                try printJSON(LedgerCheck(consistent: bad.isEmpty, mismatches: bad))
            } else {
                if bad.isEmpty { print("Every card's balance is the sum of its movements.") }
                for b in bad { print("\(LoyaltyCardNumber.masked(b.card))  balance \(b.balance), movements \(b.movements)") }
            }
            if !bad.isEmpty { throw ExitCode(1) }
        case .summary:
            let summary = Summary(sales: try store.saleCount(), tills: try store.tills().count, exceptions: try store.exceptions().count,
                                  discrepancies: try store.discrepancies().count, rejects: try store.rejects().count)
            if json { return try printJSON(summary) }
            print("Sales: \(summary.sales)")
            print("Tills: \(summary.tills)")
            print("Exceptions: \(summary.exceptions), discrepancies: \(summary.discrepancies), rejects: \(summary.rejects)")
        }
    }

    /// `report gaps --json`: each till with missing sequence numbers, and the ranges missing.
    struct TillGaps: Encodable {
        var till: String
        var storeID: String
        var tillID: String
        var missing: [SequenceGap]
    }

    /// `report ledger --json`: whether every card's balance is the sum of its movements, and the
    /// cards where it is not (full numbers: the JSON is for the IT people's scripts).
    struct LedgerCheck: Encodable {
        var consistent: Bool
        var mismatches: [LedgerMismatch]
    }

    struct LedgerMismatch: Encodable {
        var card: String
        var balance: Int64
        var movements: Int64
    }

    /// `report summary --json`.
    struct Summary: Encodable {
        var sales: Int
        var tills: Int
        var exceptions: Int
        var discrepancies: Int
        var rejects: Int
    }

    private func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}


