import ArgumentParser
import Foundation
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillStore

extension TillCommand {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set up a demo store: a generated catalog and a demo cashier (whose number and PIN it prints).",
            discussion: "Does nothing to a till that already has a catalog, unless --reset is given.")

        @OptionGroup var global: GlobalOptions

        @Option(help: "Number of products to generate.")
        var items: Int = DemoCatalog.defaultSize

        @Flag(help: "Replace the catalog even if the till already has one.")
        var reset = false

        @Option(help: "Number of loyalty members to generate.")
        var cards: Int = DemoCatalog.demoMembers

        func validate() throws {
            guard (DemoCatalog.featured.count...1_000_000).contains(items) else {
                throw ValidationError("--items \(items) must be \(DemoCatalog.featured.count) to 1000000")
            }
            guard (4...1_000_000).contains(cards) else {
                throw ValidationError("--cards \(cards) must be 4 to 1000000")
            }
        }

        func run() throws {
            let config = try global.loadConfig()
            let db = try config.openDatabase()
            let existing = try db.productCount()
            if existing > 0 && !reset {
                print("The till in \(config.dataDirectory) already has \(existing) products; keeping them (--reset replaces them).")
            } else {
                FileHandle.standardOutput.write(Data("Generating \(items) demo products…".utf8))
                let start = Date()
                try db.installDemo(products: DemoCatalog.products(count: items), staff: DemoCatalog.staff)
                print(" done in \(String(format: "%.1f", Date().timeIntervalSince(start))) s.")
            }
            if try db.cashierCount() == 0 || reset {
                try db.saveCashier(DemoCatalog.cashier, pin: DemoCatalog.cashierPIN)
                try db.saveCashier(DemoCatalog.supervisor, pin: DemoCatalog.supervisorPIN)
            }
            if try db.programme() == nil || reset {
                try db.installProgramme(DemoCatalog.programme, at: Int64(Date().timeIntervalSince1970 * 1000))
                try db.importCards(DemoCatalog.cards(members: cards, stock: DemoCatalog.demoStockCards))
            }
            print("""

                Demo store "\(config.storeName)" (store \(config.storeID), till \(config.tillID)) is ready in \(config.dataDirectory).
                  Sign on as cashier \(DemoCatalog.cashier.number), PIN \(DemoCatalog.cashierPIN)   (supervisor: \(DemoCatalog.supervisor.number), PIN \(DemoCatalog.supervisorPIN))
                  Try: 5012345678900 Enter (milk), 3 * 4006381333931 Enter (3 pens), 0.750 * 1 Enter (bananas),
                       2100042012509 Enter (cheese label, 1.250 kg), 2300012009953 Enter (salad label, 9.95)
                  Loyalty: at total key \(DemoCatalog.cardNumber(1)) Enter (Anna Ivanova, Silver), \(DemoCatalog.cardNumber(2)) (Boris Petrov, Gold);
                       Ctrl-N issues stock card \(DemoCatalog.cardNumber(DemoCatalog.firstStockCard)); Ctrl-P pays with points
                Start the till with: till
                """)
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import the catalog, the cashiers, the loyalty programme or loyalty cards.",
            subcommands: [Catalog.self, Cashiers.self, Programme.self, Cards.self])

        struct Catalog: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Import products from CSV: all rows or, if any row is bad, none.",
                discussion: """
                    Header row, columns in any order: sku, description, unit_price, tax_code (required); \
                    barcodes (separated by |), plu, category, sold_by_weight (optional). See README "Catalog file".
                    """)

            @OptionGroup var global: GlobalOptions

            @Argument(help: ArgumentHelp("The CSV file.", valueName: "file.csv"))
            var file: String

            @Flag(help: "Remove every product that is not in the file.")
            var replace = false

            func run() throws {
                let config = try global.loadConfig()
                let text = try readText(file)
                let parsed = CatalogCSV.parse(
                    text, currency: config.currency, taxCodes: Set(config.taxRates.keys), rules: config.barcodeRules)
                if !parsed.issues.isEmpty {
                    throw CLIError(TillStoreError.importRejected(
                        file: file, issues: Array(parsed.issues.prefix(100)), totalIssues: parsed.issues.count).description)
                }
                let db = try config.openDatabase()
                do { try db.importCatalog(parsed.rows, replace: replace, file: file) } catch { throw CLIError(error.description) }
                print("Imported \(parsed.rows.count) products from \(file)\(replace ? " (catalog replaced)" : ""); the catalog has \(try db.productCount()).")
            }
        }

        struct Cashiers: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Import cashiers from CSV (number, name, role, pin): all rows or none.",
                discussion: "role is cashier, supervisor or manager; pin is 4 to 8 digits and is stored hashed.")

            @OptionGroup var global: GlobalOptions

            @Argument(help: ArgumentHelp("The CSV file.", valueName: "file.csv"))
            var file: String

            func run() throws {
                let config = try global.loadConfig()
                let (rows, issues) = StaffCSV.parse(try readText(file), storeColumn: false)
                if !issues.isEmpty {
                    throw CLIError(TillStoreError.importRejected(file: file, issues: issues, totalIssues: issues.count).description)
                }
                let staff = rows.map { ($0.cashier, $0.pin) }
                let db = try config.openDatabase()
                do { try db.saveCashiers(staff) } catch { throw CLIError(error.description) }
                print("Imported \(staff.count) cashiers from \(file).")
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export journalled data for accounting.",
            subcommands: [Sales.self])

        struct Sales: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Export completed sales: one object per sale with lines, VAT breakdown, tenders and totals.",
                discussion: """
                    Dates are local days (YYYY-MM-DD, both ends included) or ISO 8601 times. \
                    Amounts are integers in minor units; quantities in thousandths. CSV has one row per \
                    sale, line, VAT rate and tender, told apart by the 'record' column (README "Exporting sales").
                    """)

            enum Format: String, ExpressibleByArgument, CaseIterable { case json, csv }

            @OptionGroup var global: GlobalOptions

            @Option(help: ArgumentHelp("First day (or time) to include.", valueName: "date"))
            var from: String?

            @Option(help: ArgumentHelp("Last day to include (or time to stop before).", valueName: "date"))
            var to: String?

            @Option(help: "json or csv.")
            var format: Format = .json

            @Option(name: [.short, .long], help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
            var output: String?

            func validate() throws {
                if let from, ExportRange.start(of: from) == nil {
                    throw ValidationError("--from '\(from)' is not a date: use YYYY-MM-DD, e.g. 2026-11-23")
                }
                if let to, ExportRange.end(of: to) == nil {
                    throw ValidationError("--to '\(to)' is not a date: use YYYY-MM-DD, e.g. 2026-11-23")
                }
            }

            func run() throws {
                let config = try global.loadConfig()
                let db = try config.openDatabase()
                let docs = try db.saleDocuments(
                    from: from.flatMap { ExportRange.start(of: $0) }, to: to.flatMap { ExportRange.end(of: $0) })
                let data: Data
                switch format {
                case .json: data = try SaleDocument.makeEncoder(pretty: true).encode(docs) + Data("\n".utf8)
                case .csv: data = Data(SalesCSV.render(docs).utf8)
                }
                if let output {
                    do { try data.write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
                        throw CLIError("Cannot write \(output): \(error.localizedDescription)")
                    }
                    printError("Exported \(docs.count) sales to \(output).")
                } else {
                    FileHandle.standardOutput.write(data)
                }
            }
        }
    }

    struct ConfigCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "config",
            abstract: "Show the configuration.",
            subcommands: [Example.self, Check.self])

        struct Example: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Print a complete till.toml with every default.")
            func run() { print(TillConfig.exampleFile, terminator: "") }
        }

        struct Check: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Check the configuration and say where it comes from.")
            @OptionGroup var global: GlobalOptions
            func run() throws {
                let c = try global.loadConfig()
                print("Configuration: \(c.source)")
                print("Store \(c.storeID) \"\(c.storeName)\", till \(c.tillID), currency \(c.currency.code)")
                print("Data directory: \(c.dataDirectory)")
                print("Tax: " + c.taxRates.values.sorted { $0.code < $1.code }.map { "\($0.code) \($0.percentText)" }.joined(separator: ", "))
                print("OK")
            }
        }
    }
}

/// Reads a whole text file, or fails with a message naming it.
func readText(_ path: String) throws -> String {
    guard FileManager.default.fileExists(atPath: path) else { throw CLIError("\(path) does not exist: check the path") }
    guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("Cannot read \(path): check its permissions") }
    guard let text = String(data: data, encoding: .utf8) else {
        throw CLIError("\(path) is not UTF-8 text: save it as CSV UTF-8")
    }
    return text
}

/// The time range of `till export sales`.
enum ExportRange {
    /// Start of a local day, or an ISO time; epoch ms.
    static func start(of text: String, timeZone: TimeZone = .current) -> Int64? {
        if let ms = ProtocolTime.parse(text) { return ms }
        return localMidnight(text, timeZone: timeZone, plusDays: 0)
    }

    /// End (exclusive) of a local day — so the day is included — or an ISO time; epoch ms.
    static func end(of text: String, timeZone: TimeZone = .current) -> Int64? {
        if let ms = ProtocolTime.parse(text) { return ms }
        return localMidnight(text, timeZone: timeZone, plusDays: 1)
    }

    private static func localMidnight(_ text: String, timeZone: TimeZone, plusDays: Int) -> Int64? {
        let parts = text.split(separator: "-")
        guard text.count == 10, parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = timeZone
        guard let day = cal.date(from: DateComponents(year: y, month: m, day: d)),
              cal.component(.day, from: day) == d,
              let date = cal.date(byAdding: .day, value: plusDays, to: day) else { return nil }
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }
}

/// CSV form of the sales export: one row per sale, line, VAT rate and tender.
enum SalesCSV {
    static let header = [
        "record", "sale_id", "sequence", "receipt_number", "store_id", "till_id", "completed_at", "cashier", "currency",
        "line_number", "sku", "description", "quantity_milli", "unit_price", "amount", "line_discount",
        "sale_discount_share", "net", "tax_code", "tax_rate_bp", "voided", "tender", "reference",
        "vat", "subtotal", "sale_discount", "total", "paid", "change", "offer_discount",
    ]

    static func render(_ docs: [SaleDocument]) -> String {
        var rows = [header.joined(separator: ",")]
        for d in docs {
            func row(_ record: String, _ values: [String: String]) -> String {
                let common = ["record": record, "sale_id": d.saleID, "sequence": String(d.sequence),
                              "receipt_number": d.receiptNumber, "store_id": d.storeID, "till_id": d.tillID,
                              "completed_at": d.completedAt, "cashier": d.cashier.number, "currency": d.currency]
                let all = common.merging(values) { $1 }
                return header.map { quote(all[$0] ?? "") }.joined(separator: ",")
            }
            let t = d.totals
            rows.append(row("sale", ["subtotal": String(t.subtotal), "sale_discount": String(t.saleDiscount),
                                     "total": String(t.total), "paid": String(t.paid), "change": String(t.change),
                                     "offer_discount": String(t.offerDiscounts ?? 0)]))
            for l in d.lines {
                rows.append(row("line", [
                    "line_number": String(l.lineNumber), "sku": l.sku, "description": l.description,
                    "quantity_milli": String(l.quantityMilli), "unit_price": String(l.unitPrice), "amount": String(l.amount),
                    "line_discount": String(l.lineDiscount), "sale_discount_share": String(l.saleDiscountShare),
                    "net": String(l.net), "tax_code": l.taxCode, "tax_rate_bp": String(l.taxRateBasisPoints),
                    "voided": l.voided ? "1" : "0", "offer_discount": String(l.offerDiscount ?? 0),
                ]))
            }
            for v in d.vat {
                rows.append(row("vat", ["tax_code": v.code, "tax_rate_bp": String(v.rateBasisPoints),
                                        "amount": String(v.gross), "vat": String(v.vat), "net": String(v.net)]))
            }
            for x in d.tenders {
                rows.append(row("tender", ["tender": x.kind, "amount": String(x.amount), "reference": x.reference ?? ""]))
            }
        }
        return rows.joined(separator: "\n") + "\n"
    }

    static func quote(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// `till unlock NUMBER`: from the shell, when no supervisor can (all of them locked, or none on shift).
struct Unlock: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Unlock a cashier number locked after wrong PINs (at the till a supervisor does it); without NUMBER, list the locked ones.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The cashier number.") var number: String?

    func run() throws {
        let config = try global.loadConfig()
        let db = try config.openDatabase()
        let locked = try db.lockedNumbers()
        guard let number else {
            print(locked.isEmpty ? "No cashier number is locked." : "Locked after wrong PINs: " + locked.joined(separator: ", "))
            return
        }
        guard locked.contains(number) else {
            print("Cashier \(number) is not locked.")
            return
        }
        try db.unlock(number: number)
        try db.audit(AuditEntry(at: Int64(Date().timeIntervalSince1970 * 1000), action: "cashier-unlocked", cashier: nil,
                                detail: "cashier \(number) (from the command line)"))
        print("Cashier \(number) unlocked: they can sign on again.")
    }
}
