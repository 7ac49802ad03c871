public import TillCore
public import TillDemo
public import TillStore

extension DemoSales {
    /// Rings up `count` demo sales on a till database: each card looked up in its card cache, each
    /// sale committed with its outbox row as `till run` commits one (no receipt printed).
    @discardableResult
    public mutating func ring(into database: TillDatabase, _ count: Int, redeemEvery: Int = 5) throws -> [CompletedSale] {
        let programme = programme, till = till
        return try ring(count, redeemEvery: redeemEvery) { number, now in
            if case .member(let customer) = try database.lookupCard(number, programme: programme, now: now) { return customer }
            return nil
        } commit: { sale, loyalty, time in
            try database.commit(sale, at: time, till: till, loyalty: loyalty) { _ in nil }
        }
    }
}
