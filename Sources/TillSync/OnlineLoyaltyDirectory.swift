import Foundation
public import TillCore
import TillProtocol
public import TillStore

/// The card cache, asking head office first: at a card scan head office's authoritative balance
/// and tier are taken into the cache when it answers within the link's lookup timeout (300 ms);
/// otherwise — or while the forwarder knows head office is down — the cache answers at once.
public final class OnlineLoyaltyDirectory: LoyaltyDirectory, @unchecked Sendable { // used from the UI thread only
    let database: TillDatabase
    let link: HeadOfficeLink
    let forwarder: Forwarder?
    private let http: HTTPConnection
    /// How many lookups head office answered (for `till sync status`).
    public private(set) var answered = 0

    public init(database: TillDatabase, link: HeadOfficeLink, forwarder: Forwarder?) {
        self.database = database
        self.link = link
        self.forwarder = forwarder
        http = HTTPConnection(ca: link.ca)
    }

    public func programme() throws -> LoyaltyProgramme? { try database.programme() }

    public func lookupCard(_ number: String, programme: LoyaltyProgramme, now: Timestamp) throws -> CardLookup {
        let connection = forwarder?.snapshot.connection
        if connection != .offline && connection != .revoked { refresh(number, at: now) }
        return try database.lookupCard(number, programme: programme, now: now)
    }

    /// Takes head office's state of the card into the cache, if it answers in time.
    func refresh(_ number: String, at now: Timestamp) {
        guard let pending = try? database.unacknowledgedSales(card: number) else { return }
        var url = link.url + "/api/v1/cards/" + number
        if !pending.isEmpty { url += "?pending=" + pending.prefix(100).joined(separator: ",") }
        guard let answer = try? http.send("GET", url, headers: ["Authorization: Bearer \(link.token)"], timeoutMilliseconds: link.lookupTimeoutMilliseconds),
              answer.status == 200,
              let status = try? JSONDecoder().decode(CardStatus.self, from: Data(answer.body)) else { return }
        if (try? database.confirmCard(status, at: now)) != nil { answered += 1 }
    }

    public func searchCustomers(_ query: String, limit: Int, offset: Int) throws -> CustomerMatches {
        try database.searchCustomers(query, limit: limit, offset: offset)
    }

    public func purchases(card: String, limit: Int) throws -> [PurchaseSummary] {
        try database.purchases(card: card, limit: limit)
    }
}
