public import Foundation
import Scales
import TillCore
import TillDemo
import TOMLKit
import TillProtocol
import TillUI
import Printers
import ESCPOS
import CardReaders

extension TillConfig {
    /// Resolves and loads the configuration as the `till` command does.
    public static func load(
        path explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) throws(ConfigError) -> TillConfig {
        if let explicit {
            return try load(file: explicit, mustExist: true, how: "--config")
        }
        if let fromEnv = environment["TILL_CONFIG"], !fromEnv.isEmpty {
            return try load(file: fromEnv, mustExist: true, how: "$TILL_CONFIG")
        }
        let local = currentDirectory + "/till.toml"
        if FileManager.default.fileExists(atPath: local) {
            return try load(file: local, mustExist: true, how: "./till.toml")
        }
        return TillConfig()
    }

    private static func load(file: String, mustExist: Bool, how: String) throws(ConfigError) -> TillConfig {
        guard FileManager.default.fileExists(atPath: file) else {
            throw ConfigError(description: "Configuration file \(file) (from \(how)) does not exist: check the path, or run `till config example > \(file)` to create one")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigError(description: "Configuration file \(file) cannot be read: check its permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(description: "Configuration file \(file) is not UTF-8 text: save it as UTF-8")
        }
        var config = try parse(text, file: file)
        config.source = file
        return config
    }

    /// Parses TOML text (see README "Configuration"). Unknown sections and keys are errors, so a
    /// typo never silently falls back to a default.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> TillConfig {
        let root: TOMLTable
        do { root = try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw ConfigError(description: "\(file) line \(e.source.begin.line), column \(e.source.begin.column): \(e.description). Fix the file, or move it aside to run on the embedded defaults.")
        } catch {
            throw ConfigError(description: "\(file): \(error)")
        }
        var c = TillConfig()
        let reader = TableReader(file: file)
        try reader.only(root, keys: ["till", "store", "tax", "barcodes", "receipt", "printer", "keymap", "loyalty", "readers", "scale", "headoffice", "cash_office"], section: nil)

        if let till = try reader.table(root, "till") {
            try reader.only(till, keys: ["id", "data_dir", "scan_gap_ms"], section: "till")
            if let v = try reader.string(till, "id", section: "till") {
                guard (1...8).contains(v.count), v.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                    throw reader.bad("till", "id", "'\(v)' must be 1 to 8 letters or digits, e.g. \"01\"")
                }
                c.tillID = v
            }
            if let v = try reader.string(till, "data_dir", section: "till") {
                guard !v.isEmpty else { throw reader.bad("till", "data_dir", "must not be empty") }
                c.dataDirectory = (v as NSString).expandingTildeInPath
            }
            if let v = try reader.int(till, "scan_gap_ms", section: "till") {
                guard (5...200).contains(v) else { throw reader.bad("till", "scan_gap_ms", "\(v) must be 5 to 200 milliseconds") }
                c.scanGapMilliseconds = Int64(v)
            }
        }
        if let store = try reader.table(root, "store") {
            try reader.only(store, keys: ["id", "name", "address", "currency"], section: "store")
            if let v = try reader.string(store, "id", section: "store") {
                guard (1...8).contains(v.count), v.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                    throw reader.bad("store", "id", "'\(v)' must be 1 to 8 letters or digits, e.g. \"0001\"")
                }
                c.storeID = v
            }
            if let v = try reader.string(store, "name", section: "store") { c.storeName = v }
            if let v = try reader.strings(store, "address", section: "store") { c.storeAddress = v }
            if let v = try reader.string(store, "currency", section: "store") {
                guard let cur = Currency(code: v) else {
                    throw reader.bad("store", "currency", "'\(v)' is not a currency this till knows: use an ISO code such as EUR, GBP, USD, RUB")
                }
                c.currency = cur
            }
        }
        if let tax = try reader.table(root, "tax") {
            var rates: [String: TaxRate] = [:]
            for code in tax.keys {
                guard let text = try reader.string(tax, code, section: "tax") else { continue }
                guard (1...2).contains(code.count), code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                    throw reader.bad("tax", code, "tax codes are 1 or 2 letters or digits, e.g. A")
                }
                guard let bp = TaxRate.parsePercent(text) else {
                    throw reader.bad("tax", code, "'\(text)' is not a percentage from 0 to 100, e.g. \"20%\" or \"5.5%\"")
                }
                rates[code] = TaxRate(code: code, basisPoints: bp)
            }
            guard !rates.isEmpty else { throw ConfigError(description: "\(file): [tax] needs at least one rate, e.g. A = \"20%\"") }
            c.taxRates = rates
        }
        if let bc = try reader.table(root, "barcodes") {
            try reader.only(bc, keys: ["price_prefixes", "weight_prefixes"], section: "barcodes")
            for (key, keyPath) in [("price_prefixes", \BarcodeRules.pricePrefixes), ("weight_prefixes", \BarcodeRules.weightPrefixes)] {
                guard let list = try reader.strings(bc, key, section: "barcodes") else { continue }
                for p in list where !(p.count == 2 && p.allSatisfy(\.isNumber)) {
                    throw reader.bad("barcodes", key, "'\(p)' must be two digits, e.g. \"21\"")
                }
                c.barcodeRules[keyPath: keyPath] = Set(list)
            }
            let both = c.barcodeRules.pricePrefixes.intersection(c.barcodeRules.weightPrefixes)
            if let p = both.sorted().first {
                throw reader.bad("barcodes", "weight_prefixes", "prefix \"\(p)\" is also a price prefix: a prefix is one or the other")
            }
        }
        if let r = try reader.table(root, "receipt") {
            try reader.only(r, keys: ["header", "footer", "templates"], section: "receipt")
            if let h = try reader.strings(r, "header", section: "receipt") { c.receiptHeader = h }
            if let f = try reader.strings(r, "footer", section: "receipt") { c.receiptFooter = f }
            if let d = try reader.string(r, "templates", section: "receipt"), !d.isEmpty {
                c.templatesDirectory = (d as NSString).expandingTildeInPath
            }
        }
        if let p = try reader.table(root, "printer") {
            try reader.only(p, keys: ["connection", "profile", "paper_mm", "cups_server", "status", "timeout_ms", "give_up_after_s"], section: "printer")
            if let v = try reader.string(p, "connection", section: "printer") {
                do { c.printerConnection = try PrinterConnection.parse(v) } catch {
                    throw reader.bad("printer", "connection", error.description)
                }
            }
            if let v = try reader.string(p, "profile", section: "printer") {
                do { _ = try PrinterProfile.named(v) } catch { throw reader.bad("printer", "profile", error.message) }
                c.printerProfile = v.lowercased()
            }
            if let v = try reader.int(p, "paper_mm", section: "printer") {
                guard v == 58 || v == 80 else { throw reader.bad("printer", "paper_mm", "\(v) must be 58 or 80") }
                c.paperWidthMM = v
            }
            if let v = try reader.string(p, "cups_server", section: "printer"), !v.isEmpty { c.cupsServer = v }
            if let v = try reader.bool(p, "status", section: "printer") { c.printerStatus = v }
            if let v = try reader.int(p, "timeout_ms", section: "printer") {
                guard (500...60_000).contains(v) else { throw reader.bad("printer", "timeout_ms", "\(v) must be 500 to 60000") }
                c.printerTimeoutMilliseconds = v
            }
            if let v = try reader.int(p, "give_up_after_s", section: "printer") {
                guard (60...86_400).contains(v) else { throw reader.bad("printer", "give_up_after_s", "\(v) must be 60 to 86400") }
                c.printGiveUpSeconds = v
            }
            do { _ = try PrinterProfile.named(c.printerProfile).paper(widthMM: c.paperWidthMM) } catch {
                throw reader.bad("printer", "paper_mm", error.message)
            }
        }
        if let l = try reader.table(root, "loyalty") {
            try reader.only(l, keys: ["prompt_at_total", "survey_url"], section: "loyalty")
            if let v = try reader.bool(l, "prompt_at_total", section: "loyalty") { c.loyaltyPromptAtTotal = v }
            if let v = try reader.string(l, "survey_url", section: "loyalty"), !v.isEmpty {
                guard v.hasPrefix("http://") || v.hasPrefix("https://"), URL(string: v)?.host != nil, v.count <= 200, !v.hasSuffix("/") else {
                    throw reader.bad("loyalty", "survey_url", "'\(v.prefix(60))' must be head office's survey address as members reach it, without a final /, e.g. \"https://rewards.example.com/s\"")
                }
                c.surveyURL = v
            }
        }
        if let o = try reader.table(root, "cash_office") {
            try reader.only(o, keys: ["discount_limit", "auto_lock_minutes", "max_pin_attempts", "price_override_reasons", "discount_reasons",
                                      "return_reasons", "denominations"] + Self.cashLimitKeys,
                            section: "cash_office")
            for (key, path) in [("price_override_reasons", \TillConfig.priceOverrideReasons), ("discount_reasons", \TillConfig.discountReasons),
                                ("return_reasons", \TillConfig.returnReasons)] {
                guard let v = try reader.strings(o, key, section: "cash_office") else { continue }
                guard v.count <= 9, v.allSatisfy({ (1...40).contains($0.count) }) else {
                    throw reader.bad("cash_office", key, "up to 9 reasons of 1 to 40 characters each (an empty list: no reason asked)")
                }
                c[keyPath: path] = v
            }
            if let v = try reader.strings(o, "denominations", section: "cash_office") {
                var values: [Int64] = []
                for text in v {
                    guard text.contains(".") || c.currency.minorDigits == 0, let minor = c.currency.parseKeyed(text), minor > 0,
                          minor <= Money.maximumMinor, !values.contains(minor) else {
                        throw reader.bad("cash_office", "denominations", "'\(text)' must be a note or coin above 0 with its decimals, each once, e.g. \"50.00\"")
                    }
                    values.append(minor)
                }
                guard values.count <= 20 else { throw reader.bad("cash_office", "denominations", "up to 20 notes and coins (an empty list: the total is keyed)") }
                c.denominations = values.sorted(by: >)
            }
            if let v = try reader.int(o, "max_pin_attempts", section: "cash_office") {
                guard (0...20).contains(v) else { throw reader.bad("cash_office", "max_pin_attempts", "\(v) must be 0 (never lock) to 20") }
                c.maxPINAttempts = v
            }
            for key in Self.cashLimitKeys {
                guard let v = try reader.string(o, key, section: "cash_office") else { continue }
                guard v.contains("."), let minor = c.currency.parseKeyed(v), minor > 0, minor <= Money.maximumMinor else {
                    throw reader.bad("cash_office", key, "'\(v)' must be an amount above 0 with its decimals, e.g. \"1000.00\"")
                }
                Self.setCashLimit(key, minor, in: &c.cashLimits)
            }
            if let v = try reader.string(o, "discount_limit", section: "cash_office") {
                guard v.hasSuffix("%"), let bp = TaxRate.parsePercent(v), (0...10_000).contains(bp) else {
                    throw reader.bad("cash_office", "discount_limit", "'\(v)' must be a percentage from 0% to 100%, e.g. \"10%\"")
                }
                c.discountLimitBasisPoints = bp
            }
            if let v = try reader.int(o, "auto_lock_minutes", section: "cash_office") {
                guard (0...240).contains(v) else { throw reader.bad("cash_office", "auto_lock_minutes", "\(v) must be 0 (never) to 240") }
                c.autoLockMinutes = v
            }
        }
        if let sc = try reader.table(root, "scale") {
            try reader.only(sc, keys: ["device", "baud", "frame", "protocol"], section: "scale")
            guard let device = try reader.string(sc, "device", section: "scale"), device.hasPrefix("/dev/") else {
                throw reader.bad("scale", "device", "the scale's serial port is needed, e.g. device = \"/dev/ttyUSB0\"")
            }
            var settings = ScaleSettings(device: device)
            if let v = try reader.int(sc, "baud", section: "scale") {
                guard [1200, 2400, 4800, 9600, 19200].contains(v) else { throw reader.bad("scale", "baud", "\(v) must be 1200, 2400, 4800, 9600 or 19200") }
                settings.baud = v
            }
            if let v = try reader.string(sc, "frame", section: "scale") {
                guard let f = SerialScale.Frame(rawValue: v) else { throw reader.bad("scale", "frame", "'\(v)' must be \"7E1\" or \"8N1\"") }
                settings.frame = f
            }
            if let v = try reader.string(sc, "protocol", section: "scale"), v != "toledo-8213" {
                throw reader.bad("scale", "protocol", "'\(v)' is not one this till speaks: \"toledo-8213\"")
            }
            c.scale = settings
        }
        if let r = try reader.table(root, "readers") {
            try reader.only(r, keys: ["evdev", "hid"], section: "readers")
            for path in try reader.strings(r, "evdev", section: "readers") ?? [] {
                guard path.hasPrefix("/dev/") else {
                    throw reader.bad("readers", "evdev", "'\(path)' must be a device path, e.g. \"/dev/input/by-id/usb-MagTek_USB_Swipe_Reader-event-kbd\"")
                }
                c.cardReaders.append(.evdev(path: path))
            }
            for text in try reader.strings(r, "hid", section: "readers") ?? [] {
                guard let source = CardReaderSource.parseHID(text) else {
                    throw reader.bad("readers", "hid", "'\(text)' must be the reader's USB vendor:product ID in hex, as `lsusb` shows it, e.g. \"0801:0002\"")
                }
                c.cardReaders.append(source)
            }
        }
        if let h = try reader.table(root, "headoffice") {
            try reader.only(h, keys: ["url", "ca", "batch_size", "lookup_timeout_ms"], section: "headoffice")
            if let v = try reader.string(h, "url", section: "headoffice"), !v.isEmpty {
                guard v.hasPrefix("http://") || v.hasPrefix("https://"), v.count > 8 else {
                    throw reader.bad("headoffice", "url", "'\(v)' must start with https:// (or http:// on a trusted network), e.g. \"https://headoffice.example:8470\"")
                }
                c.headOfficeURL = v
            }
            if let v = try reader.string(h, "ca", section: "headoffice"), !v.isEmpty {
                let path = (v as NSString).expandingTildeInPath
                guard FileManager.default.isReadableFile(atPath: path) else {
                    throw reader.bad("headoffice", "ca", "'\(v)' cannot be read: give the PEM file of the CA that signed head office's certificate")
                }
                c.headOfficeCA = path
            }
            if let v = try reader.int(h, "batch_size", section: "headoffice") {
                guard (1...5000).contains(v) else { throw reader.bad("headoffice", "batch_size", "\(v) must be 1 to 5000") }
                c.syncBatchSize = v
            }
            if let v = try reader.int(h, "lookup_timeout_ms", section: "headoffice") {
                guard (0...5000).contains(v) else { throw reader.bad("headoffice", "lookup_timeout_ms", "\(v) must be 0 to 5000 (0: never ask head office at a card scan)") }
                c.cardLookupTimeoutMilliseconds = v
            }
        }
        if let km = try reader.table(root, "keymap") {
            var overrides: [String: [String]] = [:]
            for action in km.keys {
                if km[action]?.array != nil {
                    overrides[action] = try reader.strings(km, action, section: "keymap")
                } else if let one = try reader.string(km, action, section: "keymap") {
                    overrides[action] = [one]
                }
            }
            do { c.keymap = try Keymap(overrides: overrides) } catch {
                throw ConfigError(description: "\(file): \(error.message)")
            }
        }
        return c
    }

    /// A complete, commented configuration file with every default (for `till config example`).
    public static var exampleFile: String {
        let d = TillConfig()
        func list(_ a: [String]) -> String { "[" + a.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
        var keymapLines: [String] = []
        for action in TillAction.allCases {
            keymapLines.append("\(action.rawValue) = \(list(Keymap.defaultKeys[action] ?? []))")
        }
        return """
            # till.toml: configuration of one till. Every setting is optional; these are the defaults.

            [till]
            id = "\(d.tillID)"                       # this till's number within the store (1-8 letters or digits)
            data_dir = "~/.local/share/till"  # database, receipts; one directory per till
            scan_gap_ms = \(d.scanGapMilliseconds)                # keys closer than this are one scanner burst

            [store]
            id = "\(d.storeID)"
            name = "\(d.storeName)"
            address = \(list(d.storeAddress))
            currency = "\(d.currency.code)"                # ISO 4217 code

            [tax]                             # VAT rates by code; catalog prices include VAT
            A = "20%"
            B = "5%"
            Z = "0%"

            [barcodes]                        # in-store labels: PP IIIII VVVVV C (item code = PLU)
            price_prefixes = \(list(d.barcodeRules.pricePrefixes.sorted()))    # VVVVV is the price in minor units
            weight_prefixes = \(list(d.barcodeRules.weightPrefixes.sorted()))   # VVVVV is the weight in grams

            [receipt]
            header = []                       # extra lines under the store's address
            footer = \(list(d.receiptFooter))
            templates = ""                    # a directory with the store's own header.receipt, footer.receipt, logo.png…

            [printer]
            connection = "none"               # usb:04b8:0202, cups:receipt, device:/dev/usb/lp0, tcp:192.168.1.50:9100 or none
            profile = "\(d.printerProfile)"          # \(PrinterProfile.builtIn.map(\.name).joined(separator: ", "))
            paper_mm = \(d.paperWidthMM)                     # 80 or 58
            cups_server = ""                  # for cups: a host or socket path; empty uses CUPS's default
            status = true                     # ask the printer about paper and cover before each receipt
            timeout_ms = \(d.printerTimeoutMilliseconds)
            give_up_after_s = \(d.printGiveUpSeconds)            # a receipt not printed after this long is left for reprint

            [loyalty]
            prompt_at_total = true            # at total, ask for the customer's loyalty card
            survey_url = ""                   # e.g. "https://rewards.example.com/s": a member's receipt gets a QR code to a survey there

            [cash_office]
            discount_limit = "10%"            # a bigger discount needs a supervisor's number and PIN
            max_tendered = "1000.00"          # cash tendered for one sale; above: a supervisor
            max_change = "200.00"             # change given for one sale
            max_pickup = "5000.00"            # one pickup (cash lift)
            max_paid_in = "1000.00"
            max_paid_out = "200.00"
            max_float = "1000.00"
            auto_lock_minutes = 5             # lock the till after this long without a key (0: never); the cashier's PIN unlocks

            [readers]                         # card readers read directly; keyboard-wedge readers need nothing here
            evdev = []                        # e.g. ["/dev/input/by-id/usb-MagTek_USB_Swipe_Reader-event-kbd"]: grabbed, keys never reach the till's input line
            hid = []                          # e.g. ["0801:0002"]: USB HID (boot keyboard) readers through libusb

            [headoffice]                      # store-and-forward; without a url the till keeps its sales for later
            url = ""                          # e.g. "https://headoffice.example:8470"; then: till sync enrol --token-file FILE
            ca = ""                           # PEM of the CA that signed head office's certificate (empty: the system's)
            batch_size = \(d.syncBatchSize)                 # documents per request
            lookup_timeout_ms = \(d.cardLookupTimeoutMilliseconds)           # head office's answer about a scanned card is given up after this (the scan never waits)

            [keymap]                          # action = key names: F1-F24, Enter, Esc, Up, Down, PgUp, PgDn, Ctrl-X, or one character
            \(keymapLines.joined(separator: "\n"))

            """
    }
}

/// Typed access to TOML tables with messages that name the file, section and key.
private struct TableReader {
    let file: String

    func bad(_ section: String, _ key: String, _ message: String) -> ConfigError {
        ConfigError(description: "\(file): [\(section)] \(key): \(message)")
    }

    func only(_ table: TOMLTable, keys: [String], section: String?) throws(ConfigError) {
        for k in table.keys where !keys.contains(k) {
            let place = section.map { "[\($0)] has an unknown key '\(k)'" } ?? "unknown section [\(k)]"
            throw ConfigError(description: "\(file): \(place): the \(section == nil ? "sections" : "keys") are \(keys.joined(separator: ", "))")
        }
    }

    func table(_ t: TOMLTable, _ key: String) throws(ConfigError) -> TOMLTable? {
        guard let v = t[key] else { return nil }
        guard let table = v.table else { throw ConfigError(description: "\(file): '\(key)' must be a section: write [\(key)]") }
        return table
    }

    func string(_ t: TOMLTable, _ key: String, section: String) throws(ConfigError) -> String? {
        guard let v = t[key] else { return nil }
        guard let s = v.string else { throw bad(section, key, "\(v.debugDescription) must be text in quotes, e.g. \(key) = \"…\"") }
        return s
    }

    func bool(_ t: TOMLTable, _ key: String, section: String) throws(ConfigError) -> Bool? {
        guard let v = t[key] else { return nil }
        guard let b = v.bool else { throw bad(section, key, "\(v.debugDescription) must be true or false") }
        return b
    }

    func int(_ t: TOMLTable, _ key: String, section: String) throws(ConfigError) -> Int? {
        guard let v = t[key] else { return nil }
        guard let i = v.int else { throw bad(section, key, "\(v.debugDescription) must be a whole number") }
        return i
    }

    func strings(_ t: TOMLTable, _ key: String, section: String) throws(ConfigError) -> [String]? {
        guard let v = t[key] else { return nil }
        guard let a = v.array else { throw bad(section, key, "\(v.debugDescription) must be a list, e.g. [\"a\", \"b\"]") }
        var out: [String] = []
        for item in a {
            guard let s = item.string else { throw bad(section, key, "every item must be text in quotes") }
            out.append(s)
        }
        return out
    }
}
