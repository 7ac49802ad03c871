import ArgumentParser
import CardReaders
import Foundation
import TillCore
import TillDocuments
import TillStore

extension TillCommand.Import {
    struct Programme: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put a loyalty programme (JSON) in force at this till, after checking every field.",
            discussion: "The format is in README \"Loyalty programme\". A programme with any problem is refused, each problem naming its field.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The programme file.", valueName: "programme.json"))
        var file: String

        @Flag(help: "Check the file only; change nothing.")
        var check = false

        func run() throws {
            let config = try global.loadConfig()
            let programme = try LoyaltyProgrammeFile.load(file, currency: config.currency)
            let rules = programme.bonuses.count + programme.quantityRules.count + programme.nthPurchaseRules.count + programme.promotions.count
            if check {
                print("\(file): programme '\(programme.name)' version \(programme.version) is valid (\(rules) rules, \(programme.tiers.count) tiers).")
                return
            }
            let db = try config.openDatabase()
            try db.installProgramme(programme, at: Int64(Date().timeIntervalSince1970 * 1000))
            print("Programme '\(programme.name)' version \(programme.version) is in force: \(rules) rules, \(programme.tiers.count) tiers, welcome bonus \(programme.welcomeBonus) points.")
        }
    }

    struct Cards: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load loyalty cards into the till's card cache from CSV: all rows or, if any row is bad, none.",
            discussion: """
                Header row, columns in any order: card_number (required); status (active, blocked, lost or stock), \
                first_name, last_name, phone, email, postcode, birth_date, marketing_consent (yes/no), balance, \
                qualifying (optional). See README "Loyalty cards file". Install the programme first: card numbers \
                are checked against its ranges.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The CSV file.", valueName: "cards.csv"))
        var file: String

        func run() throws {
            let config = try global.loadConfig()
            let db = try config.openDatabase()
            guard let programme = try db.programme() else {
                throw CLIError("No loyalty programme is installed: run `till import programme FILE.json` first (card numbers are checked against its ranges)")
            }
            let records: [CSVRecord]
            do { records = try CSVReader.records(try readText(file)) } catch let e as CSVReader.Failure {
                throw CLIError("\(file) line \(e.line): \(e.message)")
            }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let (cards, issues) = CardsCSV.parse(records, programme: programme, now: now)
            if !issues.isEmpty {
                throw CLIError(TillStoreError.importRejected(file: file, issues: Array(issues.prefix(100)), totalIssues: issues.count).description)
            }
            try db.importCards(cards)
            print("Loaded \(cards.count) cards from \(file); the card cache holds \(try db.cardCount()).")
        }
    }
}

/// Reading and checking a programme file.
enum LoyaltyProgrammeFile {
    static func load(_ file: String, currency: Currency) throws -> LoyaltyProgramme {
        let text = try readText(file)
        let programme: LoyaltyProgramme
        do { programme = try JSONDecoder().decode(LoyaltyProgramme.self, from: Data(text.utf8)) } catch let e as DecodingError {
            throw CLIError("\(file): \(describe(e)). Nothing was changed.")
        }
        var issues = programme.validate()
        if programme.currency != currency.code {
            issues.append(ProgrammeIssue(field: "currency", message: "'\(programme.currency)' is not this till's currency \(currency.code)"))
        }
        guard issues.isEmpty else {
            throw CLIError("\(file) is not a valid programme; nothing was changed:\n" + issues.map { "  \($0.field): \($0.message)" }.joined(separator: "\n"))
        }
        return programme
    }

    /// A decoding error as "field: what is wrong", the field as a JSON path.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            var out = ""
            for k in keys {
                if let i = k.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + k.stringValue }
            }
            return out.isEmpty ? "the file" : out
        }
        switch error {
        case .keyNotFound(let key, let c): return "\(path(c.codingPath + [key])) is missing"
        case .typeMismatch(let type, let c): return "\(path(c.codingPath)) must be \(typeName(type))"
        case .valueNotFound(let type, let c): return "\(path(c.codingPath)) must be \(typeName(type)), not null"
        case .dataCorrupted(let c):
            if c.codingPath.isEmpty { return "not valid JSON (\(c.debugDescription))" }
            return "\(path(c.codingPath)): \(c.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int64.Type, is Int.Type: "a whole number"
        case is String.Type: "text in quotes"
        case is Bool.Type: "true or false"
        default: type is any Collection.Type ? "a list" : "an object"
        }
    }
}

extension TillCommand {
    struct Readers: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Card readers: test the ones in [readers] by reading cards.",
            subcommands: [Test.self])

        struct Test: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Open the configured evdev and USB HID readers and show what each card reads as.",
                discussion: "Keyboard-wedge readers need no test here: they type into the till like a keyboard.")

            @OptionGroup var global: GlobalOptions

            @Option(help: "Stop after this many reads.")
            var count: Int = 1

            @Option(help: "Stop after this many seconds.")
            var seconds: Int = 30

            func run() throws {
                let config = try global.loadConfig()
                guard !config.cardReaders.isEmpty else {
                    throw CLIError("No card readers are configured: add [readers] evdev = [\"/dev/input/by-id/…-event-kbd\"] or hid = [\"VID:PID\"] to \(config.source == "embedded defaults" ? "till.toml" : config.source)")
                }
                let programme = try? config.openDatabase().programme()
                let hub = CardReaderHub(sources: config.cardReaders)
                hub.start()
                defer { hub.stop() }
                print("Reading \(config.cardReaders.map(\.description).joined(separator: ", ")): swipe or scan a card (\(seconds) s).")
                let deadline = Date().addingTimeInterval(Double(seconds))
                var reads = 0
                var failed = false
                while reads < count && Date() < deadline {
                    for e in hub.take() {
                        switch e {
                        case .ready(let text, _): print(text)
                        case .problem(let text, _):
                            printError(text)
                            failed = true
                        case .read(let text, let source):
                            reads += 1
                            print("\(source) read: \(Self.explain(text, programme: programme))")
                        }
                    }
                    usleep(20_000)
                }
                if reads == 0 { throw CLIError(failed ? "No card was read: fix the reader problem above" : "No card was read in \(seconds) s") }
            }

            static func explain(_ raw: String, programme: LoyaltyProgramme?) -> String {
                let isTrack = raw.first == "%" || raw.first == ";"
                let kind = isTrack ? "magnetic stripe (\(raw.first == "%" ? "track 1" : "track 2"))" : "\(raw.count) characters"
                guard let programme else { return "\(kind); no programme installed to check it against" }
                do {
                    let number = isTrack ? try LoyaltyCardNumber.fromTrack(raw) : raw
                    _ = try LoyaltyCardNumber.validate(number, ranges: programme.cardRanges)
                    return "\(kind), card \(LoyaltyCardNumber.masked(number)): a valid card of \(programme.name)"
                } catch {
                    return "\(kind): \(error)"
                }
            }
        }
    }
}
