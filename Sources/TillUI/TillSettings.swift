public import TillCore
import TillProtocol

/// The till's settings that shape selling.
public struct TillSettings: Sendable {
    public var identity: TillIdentity
    public var taxRates: [String: TaxRate]
    public var barcodeRules: BarcodeRules
    public var keymap: Keymap
    /// A line shown on the sign-on screen (the demo store shows its demo PINs).
    public var signOnHint: String?
    /// At total, ask for the customer's loyalty card (terminal setting `[loyalty] prompt_at_total`).
    public var loyaltyPromptAtTotal: Bool
    /// A discount above this share of the value (basis points; 1000 = 10%) needs a supervisor.
    public var discountLimitBasisPoints: Int64 = 1000
    /// Lock the till after this long without a key (milliseconds; 0: never).
    public var autoLockMilliseconds: Int64 = 0
    /// Cash a cashier may take, give or move without a supervisor.
    public var cashLimits = CashLimits()
    /// Wrong PINs in a row that lock a cashier number at sign-on until a supervisor unlocks it (0: never).
    public var maxPINAttempts = 3
    /// The reasons a price override is chosen from (on the receipt and in the audit trail); none: not asked.
    public var priceOverrideReasons = TillSettings.defaultPriceOverrideReasons
    public static let defaultPriceOverrideReasons = ["Price match", "Damaged or soiled", "Wrong shelf label", "Manager's decision"]
    /// The reasons a line or sale discount is chosen from; none: not asked.
    public var discountReasons = TillSettings.defaultDiscountReasons
    public static let defaultDiscountReasons = ["Damaged item", "Customer complaint", "Staff discount", "Manager's decision"]
    /// The reasons a return is chosen from (on the refund slip and in the audit trail); none: not asked.
    public var returnReasons = TillSettings.defaultReturnReasons
    public static let defaultReturnReasons = ["Faulty", "Wrong size or colour", "Changed mind", "Not as described"]
    /// The notes and coins the drawer is counted by at the Z report (minor units, largest first);
    /// none: the total is keyed.
    public var denominations = TillSettings.defaultDenominations
    public static let defaultDenominations: [Int64] = [10_000, 5_000, 2_000, 1_000, 500, 200, 100, 50, 20, 10, 5, 2, 1]

    public init(
        identity: TillIdentity, taxRates: [String: TaxRate], barcodeRules: BarcodeRules, keymap: Keymap,
        signOnHint: String? = nil, loyaltyPromptAtTotal: Bool = true
    ) {
        self.identity = identity
        self.taxRates = taxRates
        self.barcodeRules = barcodeRules
        self.keymap = keymap
        self.signOnHint = signOnHint
        self.loyaltyPromptAtTotal = loyaltyPromptAtTotal
    }
}
