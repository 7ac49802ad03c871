import Foundation
import Testing
import TillApp
import TillCore
import Printers
import TillTestSupport
import TillUI

@Suite("Configuration")
struct TillConfigTests {
    @Test func noFileMeansEmbeddedDefaults() throws {
        let dir = TemporaryDirectory()
        let c = try TillConfig.load(path: nil, environment: ["HOME": dir.path], currentDirectory: dir.path)
        #expect(c.source == "embedded defaults")
        #expect(c.tillID == "01")
        #expect(c.currency == .eur)
        #expect(c.taxRates["A"]?.basisPoints == 2000)
    }

    @Test func theExampleFileParsesToTheDefaults() throws {
        let c = try TillConfig.parse(TillConfig.exampleFile, file: "till.toml")
        let d = TillConfig()
        #expect(c.tillID == d.tillID)
        #expect(c.storeAddress == d.storeAddress)
        #expect(c.taxRates == d.taxRates)
        #expect(c.barcodeRules == d.barcodeRules)
        #expect(c.keymap == d.keymap)
        #expect(c.dataDirectory.hasSuffix("/.local/share/till"))
    }

    /// Issue 13, defect 6: the cash limits are read, with the decimals, and a bad one is named.
    @Test func cashLimitsAreReadAndABadOneIsNamed() throws {
        let c = try TillConfig.parse("[cash_office]\nmax_pickup = \"250.00\"\nmax_change = \"50.00\"\n", file: "t.toml")
        #expect(c.cashLimits.pickup == 25_000 && c.cashLimits.change == 5_000 && c.cashLimits.tendered == CashLimits().tendered)
        #expect(c.settings.cashLimits == c.cashLimits)
        for bad in ["250", "-1.00", "0.00", "lots"] {
            let e = #expect(throws: ConfigError.self) { try TillConfig.parse("[cash_office]\nmax_pickup = \"\(bad)\"\n", file: "t.toml") }
            #expect(e?.description.contains("[cash_office] max_pickup: '\(bad)' must be an amount above 0 with its decimals") == true,
                    "\(e?.description ?? "no error")")
        }
    }

    /// The survey's address on members' receipts: none by default; an address without a scheme
    /// or host, or ending in /, is named.
    @Test func theSurveyAddressIsReadAndABadOneIsNamed() throws {
        #expect(try TillConfig.parse(TillConfig.exampleFile, file: "till.toml").surveyURL == nil)
        let c = try TillConfig.parse("[loyalty]\nsurvey_url = \"https://rewards.example.com/s\"\n", file: "t.toml")
        #expect(c.surveyURL == "https://rewards.example.com/s")
        for bad in ["rewards.example.com/s", "https://rewards.example.com/s/", "ftp://x/s"] {
            let e = #expect(throws: ConfigError.self) { try TillConfig.parse("[loyalty]\nsurvey_url = \"\(bad)\"\n", file: "t.toml") }
            #expect("\(e.map { "\($0)" } ?? "")".contains("survey_url"), "\(bad)")
        }
    }

    @Test func settingsAreRead() throws {
        let c = try TillConfig.parse("""
            [till]
            id = "07"
            data_dir = "/srv/till7"
            [store]
            id = "0042"
            name = "Riverside"
            currency = "gbp"
            [tax]
            S = "20%"
            R = "5.5"
            [barcodes]
            price_prefixes = ["20"]
            weight_prefixes = ["29"]
            [keymap]
            total = "F13"
            """, file: "t.toml")
        #expect(c.tillID == "07")
        #expect(c.dataDirectory == "/srv/till7")
        #expect(c.databasePath == "/srv/till7/till.sqlite")
        #expect(c.currency == .gbp)
        #expect(c.taxRates == ["S": TaxRate(code: "S", basisPoints: 2000), "R": TaxRate(code: "R", basisPoints: 550)])
        #expect(c.barcodeRules == BarcodeRules(pricePrefixes: ["20"], weightPrefixes: ["29"]))
        #expect(c.keymap.action(for: .function(13)) == .total)
    }

    @Test("bad files get a message naming the file, place and fix", arguments: [
        ("[store]\nname = \n", "t.toml line 2, column 8:"),
        ("[store]\nnmae = \"x\"\n", "t.toml: [store] has an unknown key 'nmae': the keys are id, name, address, currency"),
        ("[stor]\n", "t.toml: unknown section [stor]: the sections are till, store, tax, barcodes, receipt, printer, keymap"),
        ("[store]\ncurrency = 12\n", "t.toml: [store] currency: 12 must be text in quotes, e.g. currency = \"…\""),
        ("[store]\ncurrency = \"XYZ\"\n", "t.toml: [store] currency: 'XYZ' is not a currency this till knows: use an ISO code such as EUR, GBP, USD, RUB"),
        ("[tax]\nA = \"120%\"\n", "t.toml: [tax] A: '120%' is not a percentage from 0 to 100, e.g. \"20%\" or \"5.5%\""),
        ("[till]\nscan_gap_ms = 1000\n", "t.toml: [till] scan_gap_ms: 1000 must be 5 to 200 milliseconds"),
        ("[barcodes]\nprice_prefixes = [\"21\"]\nweight_prefixes = [\"21\"]\n", "t.toml: [barcodes] weight_prefixes: prefix \"21\" is also a price prefix: a prefix is one or the other"),
        ("[keymap]\ncash = \"F7\"\n", "t.toml: [keymap] key F7 is bound to both cash and card: give each action its own key"),
        ("[till]\nid = \"till one\"\n", "t.toml: [till] id: 'till one' must be 1 to 8 letters or digits, e.g. \"01\""),
    ])
    func badFiles(text: String, message: String) {
        let error = #expect(throws: ConfigError.self) { try TillConfig.parse(text, file: "t.toml") }
        #expect(error?.description.hasPrefix(message) == true, "got: \(error?.description ?? "nil")")
    }

    @Test func printerSettings() throws {
        let c = try TillConfig.parse("""
            [printer]
            connection = "usb:04b8:0e15:X1"
            profile = "Epson-TM-T20"
            paper_mm = 58
            status = false
            [receipt]
            header = ["VAT no. 123"]
            templates = "/etc/till/receipts"
            """, file: "t.toml")
        #expect(c.printerConnection == .usb(vendor: 0x04B8, product: 0x0E15, serial: "X1"))
        #expect(c.printerProfile == "epson-tm-t20")
        #expect(c.paperWidthMM == 58)
        #expect(!c.printerStatus)
        #expect(c.receiptHeader == ["VAT no. 123"])
        #expect(c.templatesDirectory == "/etc/till/receipts")
        #expect(TillConfig().printerConnection == .none)
    }

    @Test("bad printer settings name the key", arguments: [
        ("[printer]\nconnection = \"lpt1\"\n", "t.toml: [printer] connection: Printer connection 'lpt1' is not a kind of connection: write one of usb:04b8:0202"),
        ("[printer]\nprofile = \"star\"\n", "t.toml: [printer] profile: Unknown printer profile 'star'. Try one that does exist"),
        ("[printer]\nprofile = \"generic-58\"\n", "t.toml: [printer] paper_mm: Printer profile generic-58 has no 80 mm paper: it takes 58 mm"),
        ("[printer]\npaper_mm = 76\n", "t.toml: [printer] paper_mm: 76 must be 58 or 80"),
        ("[printer]\nstatus = \"yes\"\n", "t.toml: [printer] status: \"yes\" must be true or false"),
    ])
    func badPrinterSettings(text: String, message: String) {
        let e = #expect(throws: ConfigError.self) { try TillConfig.parse(text, file: "t.toml") }
        #expect(e?.description.hasPrefix(message) == true, "got: \(e?.description ?? "nil")")
    }

    @Test func aMissingConfigFileIsAnErrorNotASilentDefault() {
        let error = #expect(throws: ConfigError.self) {
            try TillConfig.load(path: "/nonexistent/till.toml", environment: [:], currentDirectory: "/")
        }
        #expect(error?.description.hasPrefix("Configuration file /nonexistent/till.toml (from --config) does not exist") == true)
        let fromEnv = #expect(throws: ConfigError.self) {
            try TillConfig.load(path: nil, environment: ["TILL_CONFIG": "/nope.toml"], currentDirectory: "/")
        }
        #expect(fromEnv?.description.contains("(from $TILL_CONFIG)") == true)
    }

    @Test func tillTomlInTheCurrentDirectoryIsUsed() throws {
        let dir = TemporaryDirectory()
        dir.write("till.toml", "[till]\nid = \"05\"\n")
        let c = try TillConfig.load(path: nil, environment: [:], currentDirectory: dir.path)
        #expect(c.tillID == "05")
        #expect(c.source == dir.file("till.toml"))
    }
}
