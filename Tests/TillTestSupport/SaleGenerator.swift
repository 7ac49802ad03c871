public import TillCore
public import TillDemo
public import TillStore
import TillApp

/// Rings up the demo's sales (TillDemo's `DemoSales`) straight into a till database, committed as
/// the controller commits them.
public struct SaleGenerator {
    public let database: TillDatabase
    public var sales: DemoSales
    public var till: TillIdentity { sales.till }

    public init(database: TillDatabase, till: TillIdentity = TillIdentity(storeID: "0001", storeName: "Demo Store", tillID: "01", currency: .eur),
                programme: LoyaltyProgramme = DemoCatalog.programme, cards: Int = 20, seed: UInt64 = 1, start: Int64 = 1_795_000_000_000) {
        self.database = database
        sales = DemoSales(till: till, programme: programme, cards: cards, seed: seed, start: start)
    }

    /// Commits `count` sales; returns them.
    @discardableResult
    public mutating func ring(_ count: Int, redeemEvery: Int = 5) throws -> [CompletedSale] {
        try sales.ring(into: database, count, redeemEvery: redeemEvery)
    }
}
