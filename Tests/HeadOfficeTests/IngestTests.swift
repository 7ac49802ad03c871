import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillStore
import TillTestSupport

@Suite("Ingest: exactly once, on SQLite and PostgreSQL")
struct IngestTests {
    @Test(arguments: Backend.allCases)
    func salesAreAppliedOnceAndAReplayAnswersDuplicate(backend: Backend) throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(backend, dir)
        _ = try store.registerTill(till1)
        let t = try TillSide()
        try t.generator.ring(30)
        let batch = try t.batch()
        let first = try store.ingest(batch, from: till1)
        #expect(first.results.count == 30)
        #expect(first.results.allSatisfy { $0.status == .accepted })
        #expect(first.gaps.isEmpty)
        try expectConsistent(store, [t])
        // The same batch again, twice: nothing changes, each answer says duplicate.
        for _ in 0..<2 {
            let again = try store.ingest(batch, from: till1)
            #expect(again.results.map(\.status) == Array(repeating: .duplicate, count: 30))
            try expectConsistent(store, [t])
        }
        // The acks carry each card's confirmed balance.
        let withCard = try #require(first.results.last { !$0.cards.isEmpty })
        let card = withCard.cards[0]
        #expect(try store.balance(of: card.number) ?? 0 >= card.balance - 10_000)
    }

    @Test(arguments: Backend.allCases)
    func refundsPutTheirPointsOnTheLedgerOnceAndZReportsAreKept(backend: Backend) throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(backend, dir)
        _ = try store.registerTill(till1)
        let t = try TillSide(seed: 5)
        let sales = try t.generator.ring(20, redeemEvery: 2)
        // Refund every line of every other sale with a card (some part-paid with points), then close the day.
        var refunds = 0
        for (i, sale) in sales.enumerated() where i % 2 == 0 && sale.loyalty != nil {
            let selections = sale.basket.lines.map { ReturnSelection(line: $0.number, quantity: $0.item.quantity) }
            _ = try t.db.commitRefund(.receipt(saleID: sale.id, selections: selections, toCash: false), id: "refund-\(i)",
                                      cashier: DemoCatalog.supervisor, supervisor: nil, at: sale.completedAt + 1_000, till: t.identity,
                                      programme: DemoCatalog.programme) { _ in nil }
            refunds += 1
        }
        #expect(refunds >= 5)
        let z = try t.db.report(z: true, counted: 0, at: 1_796_000_000_000, till: t.identity) { _ in nil }
        let batch = try t.batch()
        #expect(batch.documents.map(\.kind).filter { $0 == "refund" }.count == refunds)
        let first = try store.ingest(batch, from: till1)
        #expect(first.results.allSatisfy { $0.status == .accepted })
        // Delivered again, shuffled: every refund and the Z answer duplicate; balances do not move.
        var rng = SplitMix64(seed: 9)
        let again = try store.ingest(IngestBatch(storeID: "0001", tillID: "01", documents: batch.documents.shuffled(using: &rng)), from: till1)
        #expect(again.results.allSatisfy { $0.status == .duplicate })
        try expectConsistent(store, [t])
        #expect(try store.refundCount() == refunds)
        #expect(try store.zReports(of: till1).map(\.number) == [1])
        #expect(try store.zReports(of: till1).first?.netSales == z.netSales)
        // A refund of another till is refused.
        let foreign = batch.documents.first { $0.kind == "refund" }!
        #expect(throws: IngestRefusal.self) { try store.ingest(IngestBatch(storeID: "0001", tillID: "02", documents: [foreign]), from: till2) }
    }

    @Test(arguments: Backend.allCases)
    func duplicatedAndReorderedDeliveriesComeOutTheSame(backend: Backend) throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(backend, dir)
        _ = try store.registerTill(till1)
        let t = try TillSide(seed: 7)
        try t.generator.ring(40)
        let all = try t.batch().documents
        var rng = SplitMix64(seed: 3)
        // Deliveries in random order, in random chunks, every document at least twice.
        var deliveries = (all + all + Array(all.prefix(10))).map { $0 }
        deliveries.shuffle(using: &rng)
        var i = 0
        while i < deliveries.count {
            let n = 1 + Int(rng.next() % 9)
            let chunk = Array(deliveries[i..<min(deliveries.count, i + n)])
            _ = try store.ingest(IngestBatch(storeID: "0001", tillID: "01", documents: chunk), from: till1)
            i += n
        }
        try expectConsistent(store, [t])
        #expect(try store.gaps(of: till1).isEmpty)
    }

    /// Gaps reported until the missing sales arrive, found from one to the next by the index:
    /// one at the start (as a till that lost a sale leaves for good), two later ones, a run after
    /// the last; the mark moves as each is filled, and `limit` holds.
    @Test(arguments: Backend.allCases)
    func sequenceGapsAreReportedUntilTheMissingSalesArrive(backend: Backend) throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(backend, dir)
        _ = try store.registerTill(till1)
        let t = try TillSide()
        try t.generator.ring(20)
        let docs = try t.batch().documents
        func send(_ sequences: [Int]) throws -> [SequenceGap] {
            let gaps = try store.ingest(IngestBatch(storeID: "0001", tillID: "01", documents: sequences.map { docs[$0 - 1] }), from: till1).gaps
            // The same when every run is counted over ranges instead of walked.
            #expect(try store.gaps(of: till1, limit: 100, walk: 0) == gaps)
            return gaps
        }
        func gaps(_ g: [ClosedRange<Int64>]) -> [SequenceGap] { g.map { SequenceGap(from: $0.lowerBound, to: $0.upperBound) } }
        let missing = Set([1, 4, 7, 8, 12, 17])
        #expect(try send((1...20).filter { !missing.contains($0) }) == gaps([1...1, 4...4, 7...8, 12...12, 17...17]))
        #expect(try store.tills().first?.contiguousThrough == 0)
        #expect(try store.gaps(of: till1, limit: 2) == gaps([1...1, 4...4]))
        // Runs counted: from each sale to the end of its run, whatever the walk before counting.
        let present: [Int64] = [2, 3, 5, 6, 9, 10, 11, 13, 14, 15, 16, 18, 19, 20]
        for walk: Int64 in [0, 1, 2, 1_000] {
            let ends = try store.database.read { c in try present.map { try store.runEnd(till1, from: $0, max: 20, walk: walk, c) } }
            #expect(ends == [3, 3, 6, 6, 11, 11, 11, 16, 16, 16, 16, 20, 20, 20], "walk \(walk)")
        }
        // A later sale again: the gaps stay as they are.
        #expect(try send([20]) == gaps([1...1, 4...4, 7...8, 12...12, 17...17]))
        #expect(try send([1]) == gaps([4...4, 7...8, 12...12, 17...17]))
        #expect(try store.tills().first?.contiguousThrough == 3)
        #expect(try send([8]) == gaps([4...4, 7...7, 12...12, 17...17]))
        #expect(try send([4]) == gaps([7...7, 12...12, 17...17]))
        #expect(try store.tills().first?.contiguousThrough == 6)
        #expect(try send([7]) == gaps([12...12, 17...17]))
        #expect(try store.tills().first?.contiguousThrough == 11)
        #expect(try send([17, 12]).isEmpty)
        #expect(try store.tills().first?.contiguousThrough == 20)
        // A mark that trails sales already there (a batch committed while another moved it): no gap.
        _ = try store.database.write { c in try c.execute("UPDATE tills SET contiguous_through = 2", []) }
        #expect(try store.gaps(of: till1).isEmpty)
        #expect(try store.gaps(of: till1, limit: 100, walk: 0).isEmpty)
        try expectConsistent(store, [t])
    }

    /// The end of a run of a till's sales is found in one read of the sales' index, whatever the
    /// database knows of the table: PostgreSQL, with no statistics of a `sales` filled since its
    /// last analysis (a new or freshly loaded head office), planned a lookup of each sale's next
    /// number as a scan of the till's every sale, for each sale.
    @Test(arguments: Backend.allCases)
    func aRunsEndIsOneReadOfTheIndexWithoutStatistics(backend: Backend) throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(backend, dir)
        let series = backend == .postgres ? "generate_series(1, 20000) AS g(n)"
            : "(WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20000) SELECT n FROM g) AS g"
        _ = try store.database.write { c in
            try c.execute("""
                INSERT INTO sales (sale_id, store_id, till_id, sequence, receipt_number, completed_at, completed_ms, total, currency, document, received_at)
                SELECT 'sale-' || n, '0001', '01', n, 'R' || n, '2026-12-08T10:00:00Z', 0, 0, 'EUR', '{}', 0 FROM \(series) WHERE n <> 19990
                """, [])
        }
        let arguments: [SQLValue] = [.text("0001"), .text("01"), .int(18_000), .int(19_001), .int(19_000)]
        let plan = try store.database.read { c in
            try c.query((backend == .postgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + HeadOfficeStore.firstRunEnd, arguments)
                .map { $0.columns.values.compactMap(\.text).joined(separator: " ") }.joined(separator: "\n")
        }
        #expect(!plan.localizedCaseInsensitiveContains("join") && !plan.contains("CORRELATED"), "\(plan)")
        #expect(try store.database.read { c in try c.queryOne(HeadOfficeStore.firstRunEnd, arguments) } == nil)
        let ends = try store.database.read { c in
            try [1, 18_000, 19_989, 19_991].map { try store.runEnd(TillCredential(storeID: "0001", tillID: "01"), from: $0, max: 20_000, c) }
        }
        #expect(ends == [19_989, 19_989, 19_989, 20_000])
    }

    @Test(arguments: Backend.allCases)
    func aSequenceNumberUsedByAnotherSaleIsRejectedAndKept(backend: Backend) throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(backend, dir)
        _ = try store.registerTill(till1)
        let t = try TillSide()
        try t.generator.ring(2)
        var docs = try t.batch().documents
        _ = try store.ingest(IngestBatch(storeID: "0001", tillID: "01", documents: [docs[0]]), from: till1)
        // Another sale claiming sequence 1 (a till restored from an old backup, say).
        var impostor = try #require(docs[1].sale)
        impostor.sequence = 1
        docs[1] = OutboxDocument(sale: impostor)
        let r = try store.ingest(IngestBatch(storeID: "0001", tillID: "01", documents: [docs[1]]), from: till1)
        #expect(r.results[0].status == .rejected)
        #expect(r.results[0].reason == "sequence 1 of till 0001/01 is already sale \(docs[0].id)")
        #expect(try store.rejects().map(\.document) == [impostor.saleID])
        #expect(try store.saleCount() == 1)
    }

    @Test(arguments: Backend.allCases)
    func pointsThatDoNotMatchTheProgrammeAreAppliedAndReported(backend: Backend) throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(backend, dir)
        _ = try store.registerTill(till1)
        let t = try TillSide()
        try t.generator.ring(10, redeemEvery: 0)
        var docs = try t.batch().documents
        let index = try #require(docs.firstIndex { $0.sale?.loyalty != nil })
        var sale = try #require(docs[index].sale)
        sale.loyalty!.earned[0].points += 5                      // a till with a bug, or a tampered document
        docs[index] = OutboxDocument(sale: sale)
        var unknown = try #require(docs[(index + 1)...].first { $0.sale?.loyalty != nil }?.sale)
        unknown.loyalty!.programmeVersion = "2099.1"
        let unknownIndex = docs.firstIndex { $0.id == unknown.saleID }!
        docs[unknownIndex] = OutboxDocument(sale: unknown)
        let r = try store.ingest(IngestBatch(storeID: "0001", tillID: "01", documents: docs), from: till1)
        #expect(r.results.allSatisfy { $0.status == .accepted })
        let d = try store.discrepancies()
        #expect(d.map(\.kind) == ["points", "unknown-programme"])
        #expect(d[0].document == sale.saleID)
        #expect(d[0].detail.contains("the till awarded base="))
        // The ledger moves by head office's figures, and stays the sum of its movements.
        #expect(try store.ledgerMismatches().isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func twoTillsRedeemingTheSamePointsOfflineIsAnOverdraftException(backend: Backend) throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(backend, dir)
        _ = try store.registerTill(till1)
        _ = try store.registerTill(till2)
        // Anna has 1500 points; both tills, offline, let her redeem 1,200 of them.
        var docs: [(TillCredential, OutboxDocument)] = []
        for till in [till1, till2] {
            let side = try TillSide(till: till)
            let card = DemoCatalog.cardNumber(1)
            guard case .member(let anna) = try side.db.lookupCard(card, programme: DemoCatalog.programme, now: 0) else { Issue.record("no card"); return }
            var sale = OpenSale(id: UUID().uuidString.lowercased(), startedAt: 1_795_000_000_000, cashier: DemoCatalog.cashier, currency: .eur)
            sale = try sale.trying(.addLine(item: LineItem(sku: "F0013", description: "Gift card", category: "Gift cards", taxCode: "Z",
                                                           taxBasisPoints: 0, unitPrice: 2500, quantity: .units(1))))
            sale = try sale.trying(.identifyCustomer(customer: anna))
            sale = try sale.trying(.addTender(tender: Tender(kind: .points, amount: 720, points: 1_200)))
            sale = try sale.trying(.addTender(tender: Tender(kind: .cash, amount: 1_780)))
            let outcome = DemoCatalog.programme.outcome(for: sale.basket, customer: anna,
                                                        context: EarnContext(time: LocalDateTime(minutes: 0), storeID: "0001", tierCode: anna.tierCode))
            _ = try side.db.commit(sale, at: 1_795_000_060_000, till: side.identity, loyalty: outcome) { _ in nil }
            docs.append((till, try side.batch().documents[0]))
        }
        for (till, d) in docs { _ = try store.ingest(IngestBatch(storeID: till.storeID, tillID: till.tillID, documents: [d]), from: till) }
        #expect(try store.balance(of: DemoCatalog.cardNumber(1)) == 1500 - 2_400)
        let overdrafts = try store.exceptions().filter { $0.kind == "overdraft" }
        #expect(overdrafts.count == 1)
        #expect(overdrafts.first?.till == "0001/02")
        #expect(overdrafts.first?.detail.contains("balance is now -900") == true)
    }

    @Test(arguments: Backend.allCases)
    func registrationsCreateOneCustomerPerCard(backend: Backend) throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(backend, dir)
        _ = try store.registerTill(till1)
        let t = try TillSide()
        let stock = DemoCatalog.cardNumber(DemoCatalog.firstStockCard)
        let r = try Registration.make(cardNumber: stock, firstName: "Olga", lastName: "O'Brien; DROP TABLE sales; --", phone: "+7 912 345 6789",
                                      email: "", postcode: "", birthDate: "", marketingConsent: true, at: 5)
        try t.db.register(NewMember(registration: r, welcome: DemoCatalog.programme.welcomeAward, programmeVersion: DemoCatalog.programme.version,
                                    till: t.identity, slip: nil), at: 5)
        let batch = try t.batch()
        let first = try store.ingest(batch, from: till1)
        #expect(first.results.map(\.status) == [.accepted])
        #expect(first.results[0].cards.first?.balance == 100)
        #expect(try store.ingest(batch, from: till1).results.map(\.status) == [.duplicate])
        #expect(try store.balance(of: stock) == 100)
        let status = try #require(try store.cardStatus(stock, pending: []))
        #expect(status.customerName == "Olga O'Brien; DROP TABLE sales; --")
        #expect(try store.saleCount() == 0)
        try expectConsistent(store, [t])
    }

    @Test(arguments: Backend.allCases)
    func aMalformedDocumentRefusesTheBatchAndNothingIsStored(backend: Backend) throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(backend, dir)
        _ = try store.registerTill(till1)
        let t = try TillSide()
        try t.generator.ring(3)
        var docs = try t.batch().documents
        var bad = try #require(docs[2].sale)
        bad.lines[0].quantityMilli = -1000
        docs[2] = OutboxDocument(sale: bad)
        let refusal = #expect(throws: IngestRefusal.self) {
            try store.ingest(IngestBatch(storeID: "0001", tillID: "01", documents: docs), from: till1)
        }
        #expect(refusal?.status == 422)
        #expect(refusal?.documentID == bad.saleID)
        #expect(refusal?.message == "Document sale \(bad.saleID): lines[0].quantityMilli -1000 must be positive")
        #expect(try store.saleCount() == 0)
        // A total that does not add up is refused the same way.
        var wrong = try #require(docs[0].sale)
        wrong.totals.total += 1
        let e = #expect(throws: IngestRefusal.self) {
            try store.ingest(IngestBatch(storeID: "0001", tillID: "01", documents: [OutboxDocument(sale: wrong)]), from: till1)
        }
        #expect(e?.message.contains("its lines do not add up to its total") == true)
        #expect(try store.saleCount() == 0)
    }

    @Test(arguments: Backend.allCases)
    func aTillSubmitsOnlyAsItself(backend: Backend) throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(backend, dir)
        _ = try store.registerTill(till1)
        _ = try store.registerTill(till2)
        let t = try TillSide(till: till1)
        try t.generator.ring(1)
        let batch = try t.batch()
        let asOther = #expect(throws: IngestRefusal.self) { try store.ingest(batch, from: till2) }
        #expect(asOther?.status == 403)
        var relabelled = batch
        relabelled.storeID = "0001"
        relabelled.tillID = "02"
        let inside = #expect(throws: IngestRefusal.self) { try store.ingest(relabelled, from: till2) }
        #expect(inside?.status == 403)
        #expect(inside?.message.contains("it is a sale of till 0001/01; this credential is till 0001/02") == true)
        #expect(try store.saleCount() == 0)
    }

    @Test(arguments: Backend.allCases)
    func tokensAreCheckedAndRevocable(backend: Backend) throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(backend, dir)
        let token = try store.registerTill(till1)
        #expect(try store.authenticate("Bearer \(token)") == till1)
        #expect(throws: AuthFailure.missing) { try store.authenticate(nil) }
        #expect(throws: AuthFailure.malformed) { try store.authenticate("Basic abc") }
        #expect(throws: AuthFailure.unknown("0001/01")) { try store.authenticate("Bearer 0001.01.deadbeef") }
        #expect(throws: IngestRefusal.self) { try store.registerTill(till1) }
        try store.revokeTill(till1)
        #expect(throws: AuthFailure.revoked("0001/01")) { try store.authenticate("Bearer \(token)") }
        let renewed = try store.registerTill(till1, replace: true)
        #expect(try store.authenticate("Bearer \(renewed)") == till1)
        #expect(throws: AuthFailure.unknown("0001/01")) { try store.authenticate("Bearer \(token)") }
    }
}

/// On PostgreSQL a batch's sales go to the database as pipelines (their first statements sent
/// together, 64 at a time); on SQLite one by one. Both must mean the same on a batch with every
/// awkward case: cards head office does not have (twice each, across pipeline groups), a sale
/// sent twice, a sequence number used twice, runs broken by other documents.
@Suite("Ingest: a pipelined batch means what one statement at a time means")
struct PipelinedIngestTests {
    struct Outcome: Equatable {
        var statuses: [IngestResult.Status]
        var balances: [String: Int64?]
        var exceptions: [String]
        var sales: Int
    }

    static func apply(_ backend: Backend, _ documents: [OutboxDocument], cards: [String]) throws -> Outcome {
        let dir = TemporaryDirectory("ho-pipeline")
        let store = try HeadOfficeStore(database: try backend.makeDatabase(in: dir))
        try store.importProgramme(DemoCatalog.programme)
        // Head office has only the first 8 cards: sales on the others take the slow path.
        try store.importCards(Array(demoCards.prefix(8)))
        _ = try store.registerTill(till1)
        let response = try store.ingest(IngestBatch(storeID: "0001", tillID: "01", documents: documents), from: till1)
        #expect(try store.ledgerMismatches().isEmpty, "\(backend): the ledger is not the sum of its movements")
        return Outcome(statuses: response.results.map(\.status),
                       balances: Dictionary(uniqueKeysWithValues: try cards.map { ($0, try store.balance(of: $0)) }),
                       exceptions: try store.exceptions().map { "\($0.kind) \($0.card ?? "-") \($0.document ?? "-")" },
                       sales: try store.saleCount())
    }

    @Test func bothBackendsAgreeOnABatchWithEveryAwkwardCase() throws {
        let t = try TillSide(seed: 21)
        _ = try t.generator.ring(150, redeemEvery: 3)
        let docs = try t.batch().documents
        let sales = docs.compactMap(\.sale)
        #expect(sales.count == 150)
        var clash = sales[6]
        clash.saleID = UUID().uuidString.lowercased()
        var batch = Array(docs[0..<70])
        batch.append(docs[5])                        // sent twice in one batch
        batch.append(OutboxDocument(sale: clash))    // another sale with sale 7's sequence
        batch += docs[70...]
        let cards = Array(Set(sales.compactMap { $0.loyalty?.cardNumber })).sorted()
        #expect(cards.contains { c in !demoCards.prefix(8).contains { $0.number == c } }, "no sale on a card head office lacks")

        let onSQLite = try Self.apply(.sqlite, batch, cards: cards)
        let onPostgres = try Self.apply(.postgres, batch, cards: cards)
        #expect(onSQLite.statuses.filter { $0 == .accepted }.count == 150)
        #expect(onSQLite.statuses[70] == .duplicate && onSQLite.statuses[71] == .rejected)
        #expect(onSQLite.sales == 150)
        #expect(onSQLite.exceptions.contains { $0.hasPrefix("unknown-card") })
        #expect(onPostgres.statuses == onSQLite.statuses)
        #expect(onPostgres.balances == onSQLite.balances)
        #expect(onPostgres.exceptions.sorted() == onSQLite.exceptions.sorted())
        #expect(onPostgres.sales == onSQLite.sales)
    }

    /// A statement that fails in the middle of a pipeline: the error comes back, the transaction
    /// is rolled back whole, and the connection serves the next write.
    @Test func aFailingStatementInAPipelineRollsBackAndTheConnectionGoesOn() throws {
        let database = try Backend.postgres.makeDatabase(in: TemporaryDirectory("pg-pipeline"))
        try database.write { c in _ = try c.execute("CREATE TABLE t (n BIGINT PRIMARY KEY)", []) }
        let statements = (1...100).map { SQLStatement("INSERT INTO t (n) VALUES (?)", [.int(Int64($0 == 80 ? 3 : $0))]) }
        let error = #expect(throws: SQLError.self) { try database.write { c in try c.batch(statements) } }
        #expect(error?.isUniqueViolation == true, "\(String(describing: error))")
        let outcomes = try database.write { c in
            try c.batch([SQLStatement("INSERT INTO t (n) VALUES (?)", [.int(1)]), SQLStatement("SELECT COUNT(*) AS n FROM t", [])])
        }
        #expect(outcomes.map(\.changed) == [1, 1])
        #expect(outcomes[1].rows.first?.int("n") == 1, "the failed pipeline left rows behind")
    }
}
