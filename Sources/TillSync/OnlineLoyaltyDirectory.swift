import Foundation
public import TillCore
import TillProtocol
public import TillStore

/// The card cache, kept fresh by head office: a card scan is answered from the cache at once, and
/// head office is asked for the card's authoritative balance and tier on a thread of its own
/// (within the link's lookup timeout, 300 ms; not while the forwarder knows head office is down).
/// Its answer is taken into the cache, and `refreshedCards()` names the card, for the till to
/// show the new balance, or take a card off the sale that head office has blocked.
public final class OnlineLoyaltyDirectory: LoyaltyDirectory, Sendable {
    let database: TillDatabase
    let forwarder: Forwarder?
    let link: HeadOfficeLink
    private let refresher: CardRefresher

    /// How many lookups head office answered (for `till sync status`).
    public var answered: Int { refresher.answered }

    public init(database: TillDatabase, link: HeadOfficeLink, forwarder: Forwarder?) {
        self.database = database
        self.forwarder = forwarder
        self.link = link
        refresher = CardRefresher(database: database, link: link)
    }

    deinit { refresher.stop() }

    public func programme() throws -> LoyaltyProgramme? { try database.programme() }

    /// The cache's answer, at once; head office is asked in the background.
    public func lookupCard(_ number: String, programme: LoyaltyProgramme, now: Timestamp) throws -> CardLookup {
        let answer = try database.lookupCard(number, programme: programme, now: now)
        let connection = forwarder?.snapshot.connection
        if connection != .offline && connection != .revoked { refresher.ask(number, at: now) }
        return answer
    }

    public func refreshedCards() -> [String] { refresher.takeDone() }

    public func cachedCard(_ number: String, programme: LoyaltyProgramme, now: Timestamp) throws -> CardLookup {
        try database.lookupCard(number, programme: programme, now: now)
    }

    public func redemptionsHeld(card: String) throws -> Bool { try database.redemptionsHeld(card: card) }

    /// Waits until every card asked about so far has been asked of head office; false if that
    /// took longer than `timeoutMilliseconds`.
    public func settle(timeoutMilliseconds: Int = 5_000) -> Bool { refresher.settle(timeoutMilliseconds: timeoutMilliseconds) }

    public func searchCustomers(_ query: String, limit: Int, offset: Int) throws -> CustomerMatches {
        try database.searchCustomers(query, limit: limit, offset: offset)
    }

    public func purchases(card: String, limit: Int) throws -> [PurchaseSummary] {
        try database.purchases(card: card, limit: limit)
    }

    /// Head office's chain-wide history of the card's member when it answers within the lookup
    /// timeout (300 ms) and is not known to be down; this till's own purchases otherwise.
    public func history(card: String, limit: Int) throws -> PurchaseHistory {
        let connection = forwarder?.snapshot.connection
        if connection != .offline && connection != .revoked && link.lookupTimeoutMilliseconds > 0,
           let answer = try? HTTPConnection(ca: link.ca).send("GET", link.url + "/api/v1/cards/\(card)/history?limit=\(min(50, max(1, limit)))",
                                                              headers: ["Authorization: Bearer \(link.token)"], timeoutMilliseconds: link.lookupTimeoutMilliseconds),
           answer.status == 200, let h = try? JSONDecoder().decode(CardHistory.self, from: Data(answer.body)) {
            return PurchaseHistory(purchases: h.purchases.map {
                PurchaseSummary(receiptNumber: $0.receiptNumber, completedAt: $0.completedAt, total: $0.total, items: $0.items, storeID: $0.storeID)
            }, chainWide: true, offers: h.offers)
        }
        return PurchaseHistory(purchases: try database.purchases(card: card, limit: limit), chainWide: false)
    }
}

/// Asks head office about the cards scanned, one at a time on a thread of its own (its HTTP
/// connection is used there only); a newer request for a card replaces an older one.
private final class CardRefresher: @unchecked Sendable { // state behind `lock`; `http` on the worker only
    let database: TillDatabase
    let link: HeadOfficeLink
    private let http: HTTPConnection
    private let lock = NSCondition()
    private var asked: [(number: String, at: Timestamp)] = []
    private var done: [String] = []
    private var answeredCount = 0
    private var working = false
    private var stopped = false
    private var ended = false

    init(database: TillDatabase, link: HeadOfficeLink) {
        self.database = database
        self.link = link
        http = HTTPConnection(ca: link.ca)
        let worker = Thread { self.work() }
        worker.name = "card lookups"
        worker.start()
    }

    var answered: Int { lock.withLock { answeredCount } }

    func ask(_ number: String, at now: Timestamp) {
        lock.withLock {
            asked.removeAll { $0.number == number }
            asked.append((number, now))
            lock.broadcast()
        }
    }

    func takeDone() -> [String] {
        lock.withLock {
            defer { done.removeAll() }
            return done
        }
    }

    func settle(timeoutMilliseconds: Int) -> Bool {
        let deadline = Date().addingTimeInterval(Double(timeoutMilliseconds) / 1000)
        lock.lock()
        defer { lock.unlock() }
        while !asked.isEmpty || working {
            if !lock.wait(until: deadline) { return false }
        }
        return true
    }

    /// Ends the worker (after the lookup in hand: at most the lookup timeout) and waits for it.
    func stop() {
        lock.lock()
        stopped = true
        lock.broadcast()
        while !ended { lock.wait() }
        lock.unlock()
    }

    private func work() {
        while true {
            lock.lock()
            while asked.isEmpty && !stopped { lock.wait() }
            if stopped {
                ended = true
                lock.broadcast()
                lock.unlock()
                return
            }
            let next = asked.removeFirst()
            working = true
            lock.unlock()
            let changed = refresh(next.number, at: next.at)
            lock.withLock {
                working = false
                if changed {
                    answeredCount += 1
                    if !done.contains(next.number) { done.append(next.number) }
                }
                lock.broadcast()
            }
        }
    }

    /// Takes head office's state of the card into the cache, if it answers in time.
    private func refresh(_ number: String, at now: Timestamp) -> Bool {
        guard let pending = try? database.unacknowledgedSales(card: number) else { return false }
        var url = link.url + "/api/v1/cards/" + number
        if !pending.isEmpty { url += "?pending=" + pending.prefix(100).joined(separator: ",") }
        guard let answer = try? http.send("GET", url, headers: ["Authorization: Bearer \(link.token)"], timeoutMilliseconds: link.lookupTimeoutMilliseconds),
              answer.status == 200,
              let status = try? JSONDecoder().decode(CardStatus.self, from: Data(answer.body)) else { return false }
        return (try? database.confirmCard(status, at: now)) != nil
    }
}
