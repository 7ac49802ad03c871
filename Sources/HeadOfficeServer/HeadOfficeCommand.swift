import ArgumentParser
import Foundation
import HeadOffice
import Logging
import Metrics
import Prometheus
import TillCore
import TillDemo
import TillDocuments
import TillProtocol

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
                      Report.self, Demo.self, StoreCommand.self, Service.self, ChannelCommand.self, WebhookCommand.self, CashbackCommand.self,
                      PartnerCommand.self, SettlementCommand.self, ExpiryCommand.self, SegmentCommand.self, CampaignCommand.self, EventCommand.self,
                      SuggestionsCommand.self, FraudCommand.self])
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
    @Option(help: ArgumentHelp("headoffice.toml: [mail] relay, from, username, password_file, require_tls, ca, public_url, connections, journal (sign-in codes, campaign e-mails).",
                               valueName: "file")) var config: String?

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
    }

    func run() async throws {
        // Logs carry what tills and browsers sent: control characters are escaped.
        LoggingSystem.bootstrap(EscapingLogHandler.standardError)
        let store = try db.open()
        var mail: MailSettings?
        if let config {
            do { mail = try HeadOfficeConfig.mail(file: config, database: db.database) } catch { throw CLIFailure("\(error)") }
        }
        let options = ServerOptions(host: host, port: port, tlsCertificate: tlsCert, tlsKey: tlsKey, maxBodyBytes: maxBody, mail: mail)
        // One registry for /metrics: head office's own figures and, through swift-metrics,
        // Hummingbird's request figures.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let server = HeadOfficeServer(store: store, options: options, registry: registry)
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
        @Option(help: "admin, marketing, store or service.") var role: String
        @Option(help: "The store a store manager acts for.") var store: String?
        @Option(help: ArgumentHelp("A file holding the password (- reads standard input).", valueName: "file")) var passwordFile: String = "-"
        func run() throws {
            guard let r = BackOfficeRole(rawValue: role) else { throw CLIFailure("--role '\(role)' must be admin, marketing, store or service") }
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

struct Service: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Customer service's settings: the approval threshold for point adjustments, the marketing consent text's versions.",
        subcommands: [ApprovalPoints.self, ConsentText.self])

    struct ApprovalPoints: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "approval-points",
            abstract: "Show, or set, how many points (either way) an adjustment may move before a second person must approve it (default 500).")
        @OptionGroup var db: DatabaseOption
        @Argument(help: "The new threshold, 0 to 1000000 (0: every adjustment is approved by a second person).") var points: Int64?
        func run() throws {
            let store = try db.open()
            if let points {
                do { try store.setApprovalPoints(points) } catch let e as ServiceError { throw CLIFailure(e.description) }
            }
            print("Adjustments of more than \(try store.approvalPoints()) points either way wait for a second person's approval.")
        }
    }

    struct ConsentText: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "consent-text",
            abstract: "List the marketing consent text's versions, or add one (consent recorded from then on names it; a version is never changed).")
        @OptionGroup var db: DatabaseOption
        @Argument(help: "A new version's name, e.g. marketing-2.") var version: String?
        @Option(help: ArgumentHelp("The new version's text, in a UTF-8 file.", valueName: "file")) var file: String?
        func run() throws {
            let store = try db.open()
            if let version {
                guard let file, let data = FileManager.default.contents(atPath: file), let body = String(data: data, encoding: .utf8) else {
                    throw CLIFailure("Give the text of consent version \(version) with --file FILE (a UTF-8 text file)")
                }
                do { try store.addConsentText(version: version, body: body) } catch let e as ServiceError { throw CLIFailure(e.description) }
            }
            for (i, t) in try store.consentTexts().enumerated() {
                print("\(t.version)\(i == 0 ? " (in force)" : ""): \(t.body)")
            }
        }
    }
}
