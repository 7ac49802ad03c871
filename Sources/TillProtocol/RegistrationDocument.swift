/// A loyalty member registered at a till outside a completed sale (their card was issued with no
/// sale, or the sale was cancelled): in the outbox for head office, which applies it once per
/// card. A card issued during a completed sale travels in that sale's `SaleDocument.loyalty`.
public struct RegistrationDocument: Codable, Sendable, Equatable {
    public var schemaVersion: Int
    /// "registration".
    public var type: String
    public var storeID: String
    public var tillID: String
    public var programmeVersion: String
    public var registration: SaleDocument.RegistrationInfo
    /// The welcome bonus awarded, rule by rule.
    public var welcome: [SaleDocument.AwardPart]
    /// The sale the card was issued in, when that sale was cancelled.
    public var cancelledSaleID: String?

    public static let currentSchemaVersion = 1

    public init(
        storeID: String, tillID: String, programmeVersion: String, registration: SaleDocument.RegistrationInfo,
        welcome: [SaleDocument.AwardPart], cancelledSaleID: String?
    ) {
        self.schemaVersion = Self.currentSchemaVersion
        self.type = "registration"
        self.storeID = storeID
        self.tillID = tillID
        self.programmeVersion = programmeVersion
        self.registration = registration
        self.welcome = welcome
        self.cancelledSaleID = cancelledSaleID
    }
}
