import Foundation
import HeadOffice
import PrivateServers
import Testing
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillStore
import TillSync
import TillTestSupport

/// The two databases head office runs on; every ingest test runs on both.
enum Backend: String, CaseIterable, CustomStringConvertible, Sendable {
    case sqlite, postgres
    var description: String { rawValue }

    /// A new, empty head office database of this kind.
    func makeDatabase(in dir: TemporaryDirectory) throws -> any SQLDatabase {
        switch self {
        case .sqlite: return try SQLiteDatabase(path: dir.file("headoffice.sqlite"))
        case .postgres: return try PostgresDatabase(url: try Self.postgres().makeDatabase())
        }
    }

    /// The database argument `headoffice --database` takes.
    func databaseArgument(in dir: TemporaryDirectory) throws -> String {
        switch self {
        case .sqlite: return dir.file("headoffice.sqlite")
        case .postgres: return try Self.postgres().makeDatabase()
        }
    }

    static func postgres() throws -> PrivatePostgres {
        switch PrivatePostgres.shared {
        case .success(let p): return p
        case .failure(let e): throw e
        }
    }
}

let till1 = TillCredential(storeID: "0001", tillID: "01")
let till2 = TillCredential(storeID: "0001", tillID: "02")
let demoCards = DemoCatalog.cards(members: 20, stock: 5)

/// Head office with the demo programme and the demo's first 20 cards.
func makeHeadOffice(_ backend: Backend, _ dir: TemporaryDirectory) throws -> HeadOfficeStore {
    let store = try HeadOfficeStore(database: try backend.makeDatabase(in: dir))
    try store.importProgramme(DemoCatalog.programme)
    try store.importCards(demoCards)
    return store
}

/// A till's database with the demo catalog, programme and the same cards as head office.
final class TillSide {
    let dir = TemporaryDirectory("till-side")
    let db: TillDatabase
    let identity: TillIdentity
    var generator: SaleGenerator

    init(till: TillCredential = till1, seed: UInt64 = 1) throws {
        db = try makeDemoDatabase(in: dir)
        try db.installProgramme(DemoCatalog.programme, at: 1)
        try db.importCards(demoCards)
        identity = TillIdentity(storeID: till.storeID, storeName: "Demo Store", tillID: till.tillID, currency: .eur)
        generator = SaleGenerator(database: db, till: identity, seed: seed)
    }

    /// The outbox as a batch (what the forwarder sends).
    func batch(limit: Int = 100_000) throws -> IngestBatch {
        let entries = try db.pendingOutbox(limit: limit)
        let body = Forwarder.batchBody(entries, storeID: identity.storeID, tillID: identity.tillID)
        return try JSONDecoder().decode(IngestBatch.self, from: Data(body))
    }

    var credential: TillCredential { TillCredential(storeID: identity.storeID, tillID: identity.tillID) }
}

/// Each card's balance as the tills' journals say it must be: the loaded balance plus every
/// movement in their sales and registrations.
func expectedBalances(_ journals: [TillDatabase]) throws -> [String: Int64] {
    var balances: [String: Int64] = [:]
    for c in demoCards { balances[c.number] = c.balance }
    for db in journals {
        for d in try db.saleDocuments() {
            guard let l = d.loyalty else { continue }
            let delta = l.welcome.reduce(0) { $0 + $1.points } + l.earned.reduce(0) { $0 + $1.points } - l.redeemed
            balances[l.cardNumber, default: 0] += delta
        }
        for p in try db.outboxPayloads(kind: "refund") {
            let r = try JSONDecoder().decode(RefundDocument.self, from: Data(p.utf8))
            if let l = r.loyalty { balances[l.cardNumber, default: 0] += l.pointsRestored - l.pointsTakenBack }
        }
        for p in try db.outboxPayloads(kind: "registration") {
            let r = try JSONDecoder().decode(RegistrationDocument.self, from: Data(p.utf8))
            balances[r.registration.cardNumber, default: 0] += r.welcome.reduce(0) { $0 + $1.points }
        }
    }
    return balances
}

/// Head office holds exactly each till's journal, once, and every card's expected balance.
func expectConsistent(_ store: HeadOfficeStore, journals: [(TillCredential, TillDatabase)],
                      sourceLocation: SourceLocation = #_sourceLocation) throws {
    var total = 0
    for (till, db) in journals {
        let journal = try db.saleDocuments()
        let held = try store.sales(of: till)
        #expect(held == journal, "head office's sales differ from till \(till.name)'s journal", sourceLocation: sourceLocation)
        total += journal.count
    }
    #expect(try store.saleCount() == total, "duplicates or strays at head office", sourceLocation: sourceLocation)
    #expect(try store.receivedCount() == total, "the tills' running counts differ from the rows", sourceLocation: sourceLocation)
    for (card, balance) in try expectedBalances(journals.map(\.1)) {
        #expect(try store.balance(of: card) == balance, "card \(card)", sourceLocation: sourceLocation)
    }
    #expect(try store.ledgerMismatches().isEmpty, sourceLocation: sourceLocation)
}

func expectConsistent(_ store: HeadOfficeStore, _ tills: [TillSide], sourceLocation: SourceLocation = #_sourceLocation) throws {
    try expectConsistent(store, journals: tills.map { ($0.credential, $0.db) }, sourceLocation: sourceLocation)
}

extension TillSide {
    /// A member's sale of one each of `skus` (featured items) at `time`, rung and committed as the
    /// till does, its loyalty worked out by `programme`; `customer` nil: the card is looked up here.
    func sell(card: String? = nil, customer: SaleCustomer? = nil, skus: [String], at time: Int64,
              programme: LoyaltyProgramme = DemoCatalog.programme) throws -> CompletedSale {
        var found = customer
        if found == nil, let card, case .member(let c) = try db.lookupCard(card, programme: programme, now: time) { found = c }
        guard let member = found else { throw SQLError("no member for card \(card ?? "-")") }
        var sale = OpenSale(id: SaleID.make(at: time), startedAt: time - 20_000, cashier: DemoCatalog.cashier, currency: .eur)
        for sku in skus {
            guard let p = DemoCatalog.featured.first(where: { $0.sku == sku }) else { throw SQLError("no featured item \(sku)") }
            sale = try sale.trying(.addLine(item: LineItem(sku: p.sku, description: p.description, category: p.category, taxCode: p.taxCode,
                                                           taxBasisPoints: standardTaxRates[p.taxCode]?.basisPoints ?? 0, unitPrice: p.unitPrice,
                                                           quantity: .units(1), code: p.barcodes.first ?? p.plu)))
        }
        sale = try sale.trying(.identifyCustomer(customer: member))
        sale = try sale.trying(.addTender(tender: Tender(kind: .cash, amount: sale.basket.totals.due)))
        let outcome = programme.outcome(for: sale.basket, customer: member, context: EarnContext(
            time: LocalDateTime(minutes: time / 60_000), storeID: identity.storeID, tierCode: member.tierCode, priorPurchases: member.priorPurchases),
                                        saleID: sale.id)
        return try db.commit(sale, at: time, till: identity, loyalty: outcome) { _ in nil }
    }
}
