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
            // The file mapped, its rows read and written one at a time in one transaction: memory
            // stays bounded for a national chain's millions of cards. A bad row anywhere leaves
            // the cache as it was, and every bad row is listed (the first 100).
            guard FileManager.default.fileExists(atPath: file) else { throw CLIError("\(file) does not exist: check the path") }
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: file), options: .alwaysMapped) } catch {
                throw CLIError("Cannot read \(file): check its permissions (\(error.localizedDescription))")
            }
            let loader = CardFileLoader(programme: programme, now: Int64(Date().timeIntervalSince1970 * 1000))
            let expected = data.withUnsafeBytes { $0.count(where: { $0 == 10 }) }
            do {
                try db.importCards(expected: expected) { insert in
                    try data.withUnsafeBytes { bytes in try loader.feed(bytes, insert) }
                }
            } catch {
                if let f = loader.malformed { throw CLIError("\(file) line \(f.line): \(f.message). Nothing was imported.") }
                if loader.issueCount > 0 {
                    throw CLIError(TillStoreError.importRejected(file: file, issues: loader.issues, totalIssues: loader.issueCount).description)
                }
                throw error
            }
            let loaded = loader.loaded
            print("Loaded \(loaded) cards from \(file); the card cache holds \(try db.cardCount()).")
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

/// Reads a cards file row by row into an import: checks every row, writes the good ones until
/// the first bad one, and keeps the first 100 bad rows to report (then the import throws, and
/// the transaction leaves the cache as it was).
final class CardFileLoader {
    let programme: LoyaltyProgramme
    let now: Int64
    private var reader: CardsCSV.Reader?
    private(set) var issues: [ImportIssue] = []
    private(set) var issueCount = 0
    private(set) var loaded = 0
    private(set) var malformed: CSVReader.Failure?

    struct Rejected: Error {}

    init(programme: LoyaltyProgramme, now: Int64) {
        self.programme = programme
        self.now = now
    }

    func feed(_ bytes: UnsafeRawBufferPointer, _ insert: (CardRecord) throws -> Void) throws {
        do {
            try CSVReader.forEachRecord(bytes) { record in try self.take(record, insert) }
        } catch let f as CSVReader.Failure {
            malformed = f
            throw f
        }
        if reader == nil, issueCount == 0 { reject(ImportIssue(line: 1, message: "the file is empty: it needs a header row")) }
        if issueCount > 0 { throw Rejected() }
    }

    private func take(_ record: CSVRecord, _ insert: (CardRecord) throws -> Void) throws {
        // Taken out while it reads the row: a copy left behind would make every row copy the
        // set of card numbers seen (millions).
        guard var r = reader else {
            switch CardsCSV.Reader.make(header: record, programme: programme, now: now) {
            case .success(let made): reader = made
            case .failure(let problems):
                for issue in problems.issues { reject(issue) }
                throw Rejected()
            }
            return
        }
        reader = nil
        let result = r.card(record)
        reader = r
        switch result {
        case .success(let card):
            // After the first bad row nothing more is written: the rest is only checked.
            if issueCount == 0 { try insert(card) }
            loaded += 1
        case .failure(let issue):
            reject(issue)
        }
    }

    private func reject(_ issue: ImportIssue) {
        issueCount += 1
        if issues.count < 100 { issues.append(issue) }
    }
}
