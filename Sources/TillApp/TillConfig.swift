import Foundation
public import Scales
public import TillCore
import TillDemo
import TOMLKit
import TillProtocol
public import TillUI
public import Printers
import ESCPOS
public import CardReaders

/// The till's configuration: `--config FILE`, else `$TILL_CONFIG`, else `./till.toml`, else the
/// embedded defaults. Every setting has a default, so an empty file is a valid configuration.
/// The file format is documented in README "Configuration" and printed by `till config example`.
public struct TillConfig: Sendable {
    /// Where the configuration came from: a path, or "embedded defaults".
    public var source: String = "embedded defaults"

    public var tillID = "01"
    public var dataDirectory: String = TillConfig.defaultDataDirectory
    /// Keys closer together than this are one scanner burst.
    public var scanGapMilliseconds: Int64 = 30

    public var storeID = "0001"
    public var storeName = "Demo Store"
    public var storeAddress = ["1 High Street", "Springfield"]
    public var currency = Currency.eur

    public var taxRates: [String: TaxRate] = standardTaxRates
    public var barcodeRules = BarcodeRules()

    public var receiptHeader: [String] = []
    public var receiptFooter = ["Thank you for shopping with us"]
    /// A directory with the store's own templates (header.receipt, footer.receipt, logo.png…);
    /// files not in it come from the built-in set.
    public var templatesDirectory: String?

    /// How the till reaches its printer (`none`: receipts are kept as files only).
    public var printerConnection = PrinterConnection.none
    public var printerProfile = "generic-80"
    public var paperWidthMM = 80
    public var cupsServer: String?
    /// Ask the printer for its status (paper, cover) before each receipt.
    public var printerStatus = true
    public var printerTimeoutMilliseconds = 5_000
    /// A receipt not printed after this long is no longer retried (it can still be reprinted).
    public var printGiveUpSeconds = 900

    public var keymap = Keymap.standard

    /// At total, ask for the customer's loyalty card.
    public var loyaltyPromptAtTotal = true
    /// Where a member's receipt's survey QR code leads: this, "/", and the sale's id (head
    /// office's `/s` page as members reach it); nil: no survey on receipts.
    public var surveyURL: String?
    /// A discount above this percentage of the value needs a supervisor (basis points).
    public var discountLimitBasisPoints: Int64 = 1000
    /// Lock the till after this many minutes without a key (0: never).
    public var autoLockMinutes = 5
    /// Wrong PINs in a row that lock a cashier number (`[cash_office] max_pin_attempts`; 0: never).
    public var maxPINAttempts = 3
    /// `[cash_office] price_override_reasons`: what a price override's reason is chosen from.
    public var priceOverrideReasons = TillSettings.defaultPriceOverrideReasons
    /// `[cash_office] discount_reasons` and `return_reasons`: the same for discounts and returns.
    public var discountReasons = TillSettings.defaultDiscountReasons
    /// `[cash_office] denominations`: the notes and coins the drawer is counted by at the Z report.
    public var denominations = TillSettings.defaultDenominations
    /// `[scale]`: the weighing scale on a serial line; nil: weights are keyed.
    public var scale: ScaleSettings?

    public struct ScaleSettings: Equatable, Sendable {
        public var device: String
        public var baud = 9600
        public var frame = SerialScale.Frame.sevenEven1
    }
    public var returnReasons = TillSettings.defaultReturnReasons
    /// Cash a cashier may take, give or move alone (`[cash_office] max_…`).
    public var cashLimits = CashLimits()
    /// Card readers read directly (evdev, USB HID). Keyboard-wedge readers need no setting.
    public var cardReaders: [CardReaderSource] = []

    /// Head office, e.g. https://headoffice.example:8470 (nil: the till keeps its outbox).
    public var headOfficeURL: String?
    /// The CA head office's certificate must be signed by (nil: the system's authorities).
    public var headOfficeCA: String?
    public var syncBatchSize = 200
    public var cardLookupTimeoutMilliseconds = 300

    public init() {}

    /// `$XDG_DATA_HOME/till`, else `~/.local/share/till`.
    public static var defaultDataDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let xdg = env["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/till" }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.local/share/till"
    }

    public var databasePath: String { dataDirectory + "/till.sqlite" }
    public var receiptsDirectory: String { dataDirectory + "/receipts" }
    /// The till's head office credential (`till sync enrol`), mode 0600.
    public var tokenPath: String { dataDirectory + "/headoffice.token" }

    public var identity: TillIdentity {
        TillIdentity(storeID: storeID, storeName: storeName, tillID: tillID, currency: currency)
    }

    public var settings: TillSettings {
        var s = TillSettings(identity: identity, taxRates: taxRates, barcodeRules: barcodeRules, keymap: keymap,
                             loyaltyPromptAtTotal: loyaltyPromptAtTotal)
        s.discountLimitBasisPoints = discountLimitBasisPoints
        s.autoLockMilliseconds = Int64(autoLockMinutes) * 60_000
        s.cashLimits = cashLimits
        s.maxPINAttempts = maxPINAttempts
        s.priceOverrideReasons = priceOverrideReasons
        s.discountReasons = discountReasons
        s.denominations = denominations
        s.returnReasons = returnReasons
        return s
    }
}

extension TillConfig {
    /// `[cash_office]` keys for the cash limits.
    static let cashLimitKeys = ["max_tendered", "max_change", "max_pickup", "max_paid_in", "max_paid_out", "max_float"]

    static func setCashLimit(_ key: String, _ minor: Int64, in limits: inout CashLimits) {
        switch key {
        case "max_tendered": limits.tendered = minor
        case "max_change": limits.change = minor
        case "max_pickup": limits.pickup = minor
        case "max_paid_in": limits.paidIn = minor
        case "max_paid_out": limits.paidOut = minor
        default: limits.float = minor
        }
    }

    /// Takes terminal settings published by head office over the file's. A value the till cannot
    /// use (an unknown printer profile, a bad keymap) is left as the file has it.
    mutating func adopt(_ t: TerminalSettings) {
        if let v = t.loyaltyPromptAtTotal { loyaltyPromptAtTotal = v }
        if let v = t.receiptHeader { receiptHeader = v }
        if let v = t.receiptFooter { receiptFooter = v }
        if let v = t.printerProfile, (try? PrinterProfile.named(v).paper(widthMM: paperWidthMM)) != nil { printerProfile = v }
        if let v = t.keymap, let k = try? Keymap(overrides: v) { keymap = k }
        if let v = t.discountLimit, v.hasSuffix("%"), let bp = TaxRate.parsePercent(v), (0...10_000).contains(bp) { discountLimitBasisPoints = bp }
        if let v = t.autoLockMinutes, (0...240).contains(v) { autoLockMinutes = v }
    }
}

/// A configuration problem: names the file, the place and the fix.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var description: String
}
