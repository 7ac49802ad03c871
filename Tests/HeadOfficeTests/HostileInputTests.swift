import Foundation
import Synchronization
import HeadOffice
import Testing
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillStore
import TillTestSupport

/// What an enrolled till that is broken, or an attacker holding its token, can send: every number
/// at its extreme, figures that do not describe a real sale, registrations of other people's cards.
/// Head office must refuse or correct each, name the field, keep serving, and keep its ledger the
/// sum of its movements.
@Suite("Hostile input: nothing a till sends crashes head office or corrupts the ledger")
struct HostileInputTests {
    /// A head office with the demo cards, and a till's first loyalty sales as documents.
    struct Setup {
        let dir = TemporaryDirectory("ho-hostile")
        let store: HeadOfficeStore
        let till: TillSide
        let docs: [OutboxDocument]

        init(_ backend: Backend, sales: Int = 6) throws {
            store = try makeHeadOffice(backend, dir)
            _ = try store.registerTill(till1)
            till = try TillSide(seed: 11)
            try till.generator.ring(sales, redeemEvery: 2)
            docs = try till.batch().documents
        }

        /// The first sale with a card (and points redeemed, if `redeemed`).
        func loyaltySale(redeemed: Bool = false) throws -> SaleDocument {
            try #require(docs.compactMap(\.sale).first { $0.loyalty != nil && (!redeemed || $0.loyalty!.redeemed > 0) })
        }

        func ingest(_ docs: [OutboxDocument]) throws -> IngestResponse {
            try store.ingest(IngestBatch(storeID: "0001", tillID: "01", documents: docs), from: till1)
        }

        /// The refusal of one document, which must name `field`; nothing of it stored.
        func expectRefused(_ doc: OutboxDocument, naming field: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let before = try store.saleCount()
            let refusal = #expect(throws: IngestRefusal.self, sourceLocation: sourceLocation) { try ingest([doc]) }
            #expect(refusal?.status == 422, sourceLocation: sourceLocation)
            #expect(refusal?.message.contains(field) == true, "\(refusal?.message ?? "no refusal") does not name \(field)", sourceLocation: sourceLocation)
            #expect(try store.saleCount() == before, sourceLocation: sourceLocation)
        }

        /// Head office still works: gaps, reports, the ledger consistent, a good sale applied.
        func expectStillServing(sourceLocation: SourceLocation = #_sourceLocation) throws {
            _ = try store.gaps(of: till1)
            _ = try store.exceptions()
            _ = try store.discrepancies()
            #expect(try store.ledgerMismatches().isEmpty, sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: Backend.allCases)
    func numbersAtTheirExtremesAreRefusedNamingTheField(backend: Backend) throws {
        let s = try Setup(backend)
        let sale = try s.loyaltySale()
        let redeeming = try s.loyaltySale(redeemed: true)
        func mutated(_ base: SaleDocument, _ change: (inout SaleDocument) -> Void) -> OutboxDocument {
            var d = base
            change(&d)
            return OutboxDocument(sale: d)
        }
        try s.expectRefused(mutated(sale) { $0.sequence = .max }, naming: "sequence")
        try s.expectRefused(mutated(sale) { $0.loyalty!.redeemedValue = .min + 1 }, naming: "loyalty.redeemedValue")
        try s.expectRefused(mutated(redeeming) { d in
            let cash = d.tenders.filter { $0.kind != "points" }
            d.tenders = [.init(kind: "points", amount: 1, reference: nil, points: .max), .init(kind: "points", amount: 1, reference: nil, points: .max)] + cash
            d.loyalty!.redeemed = .max
        }, naming: "tenders[0].points")
        try s.expectRefused(mutated(sale) { d in
            d.loyalty!.earned = [.init(rule: "base", label: "x", points: .max), .init(rule: "bonus", label: "y", points: .max)]
        }, naming: "loyalty.earned[0].points")
        try s.expectRefused(mutated(sale) { $0.loyalty!.welcome = [.init(rule: "welcome", label: "w", points: .max - 1)] }, naming: "loyalty.welcome[0].points")
        try s.expectRefused(mutated(sale) { $0.loyalty!.priorPurchases = ["nth-coffee": .max] }, naming: "loyalty.priorPurchases")
        try s.expectRefused(mutated(sale) { d in
            let line = d.lines[0]
            d.lines = (1...1_100).map { n in
                var l = line
                l.lineNumber = n
                l.quantityMilli = .max
                return l
            }
        }, naming: "lines")
        try s.expectRefused(mutated(sale) { $0.lines[0].quantityMilli = .max }, naming: "lines[0].quantityMilli")
        try s.expectRefused(mutated(sale) { $0.lines[0].unitPrice = .max / 2 }, naming: "lines[0].unitPrice")
        try s.expectRefused(mutated(sale) { $0.lines[0].description = String(repeating: "x", count: 10_000_000) }, naming: "lines[0].description")
        try s.expectRefused(mutated(sale) { $0.loyalty!.registration = nil; $0.receiptNumber = "0001\u{1B}[2J" }, naming: "receiptNumber")
        // A kind and an id of 100,000 characters: the refusal quotes the start of them, not all.
        var huge = OutboxDocument(sale: sale)
        huge.kind = String(repeating: "k", count: 100_000)
        huge.id = String(repeating: "i", count: 100_000)
        let refusal = #expect(throws: IngestRefusal.self) { try s.ingest([huge]) }
        #expect((refusal?.message.count ?? 0) < 500, "\(refusal?.message.count ?? 0) characters")
        try s.expectStillServing()
        // And the good sales still go in.
        #expect(try s.ingest(s.docs).results.allSatisfy { $0.status == .accepted })
        try expectConsistent(s.store, [s.till])
    }

    @Test(arguments: Backend.allCases)
    func refundsAndZReportsWithNumbersAtTheirExtremesAreRefused(backend: Backend) throws {
        let s = try Setup(backend)
        _ = try s.ingest(s.docs)
        let original = try s.loyaltySale()
        let line = original.lines[0]
        func refund(_ change: (inout RefundDocument) -> Void) -> OutboxDocument {
            var r = RefundDocument(
                refundID: UUID().uuidString.lowercased(), storeID: "0001", tillID: "01", sequence: 1_000, receiptNumber: "0001-01-R00001",
                originalSaleID: original.saleID, originalReceipt: original.receiptNumber, cashier: "1", supervisor: nil,
                createdAt: "2026-11-20T10:00:00.000Z", currency: "EUR", total: line.net,
                lines: [.init(lineNumber: 1, sku: line.sku, description: line.description, quantityMilli: 1_000, amount: line.net, taxCode: line.taxCode)],
                tenders: [.init(kind: "cash", amount: line.net, reference: nil, points: nil)],
                loyalty: .init(cardNumber: original.loyalty!.cardNumber, pointsTakenBack: 1, pointsRestored: 0))
            change(&r)
            return OutboxDocument(refund: r)
        }
        try s.expectRefused(refund { $0.lines[0].quantityMilli = .max }, naming: "lines[0].quantityMilli")
        try s.expectRefused(refund { $0.loyalty!.pointsRestored = .max }, naming: "loyalty.pointsRestored")
        try s.expectRefused(refund { $0.loyalty!.pointsTakenBack = .max }, naming: "loyalty.pointsTakenBack")
        try s.expectRefused(refund { $0.total = .max }, naming: "total")
        try s.expectRefused(refund { $0.tenders[0].amount += 1 }, naming: "tenders come to")
        var z = ZReportSummary(kind: "Z", number: .max, storeID: "0001", tillID: "01", currency: "EUR", from: 0, to: 1_795_000_000_000,
                               salesCount: 1, salesValue: 100, refundsValue: 0, netSales: 100)
        try s.expectRefused(OutboxDocument(zreport: z), naming: "number")
        z.number = 1
        z.salesValue = .max
        try s.expectRefused(OutboxDocument(zreport: z), naming: "salesValue")
        try s.expectStillServing()
    }

    @Test(arguments: Backend.allCases)
    func aRefundMovesTheOriginalSalesCardByHeadOfficesFigures(backend: Backend) throws {
        let s = try Setup(backend)
        _ = try s.ingest(s.docs)
        let sale = try s.loyaltySale(redeemed: true)
        let card = sale.loyalty!.cardNumber
        let other = DemoCatalog.cardNumber(2) == card ? DemoCatalog.cardNumber(5) : DemoCatalog.cardNumber(2)
        // Everything back from the whole sale (the line plan the till would make), but the document
        // claims a million points given back, to another card.
        let lines = sale.lines.filter { !$0.voided }.map {
            RefundDocument.Line(lineNumber: $0.lineNumber, sku: $0.sku, description: $0.description, quantityMilli: $0.quantityMilli, amount: $0.net, taxCode: $0.taxCode)
        }
        let total = lines.reduce(Int64(0)) { $0 + $1.amount }
        let refund = RefundDocument(
            refundID: UUID().uuidString.lowercased(), storeID: "0001", tillID: "01", sequence: 1, receiptNumber: "0001-01-R00001",
            originalSaleID: sale.saleID, originalReceipt: sale.receiptNumber, cashier: "1", supervisor: nil,
            createdAt: "2026-11-20T10:00:00.000Z", currency: "EUR", total: total, lines: lines,
            tenders: [.init(kind: "cash", amount: total, reference: nil, points: nil)],
            loyalty: .init(cardNumber: other, pointsTakenBack: 0, pointsRestored: 1_000_000))
        let before = try #require(try s.store.balance(of: card))
        let otherBefore = try #require(try s.store.balance(of: other))
        #expect(try s.ingest([OutboxDocument(refund: refund)]).results.map(\.status) == [.accepted])
        // Head office's figures: all the sale's earned points taken back, all its redeemed points
        // given back, on the sale's own card; the other card untouched.
        let earned = sale.loyalty!.earned.reduce(Int64(0)) { $0 + $1.points }
        #expect(try s.store.balance(of: card) == before - earned + sale.loyalty!.redeemed)
        #expect(try s.store.balance(of: other) == otherBefore)
        #expect(try s.store.discrepancies().contains { $0.kind == "refund-points" && $0.document == refund.refundID })
        #expect(try s.store.ledgerMismatches().isEmpty)
        // The same refund again changes nothing.
        #expect(try s.ingest([OutboxDocument(refund: refund)]).results.map(\.status) == [.duplicate])
        #expect(try s.store.balance(of: card) == before - earned + sale.loyalty!.redeemed)
    }

    @Test(arguments: Backend.allCases)
    func aBalanceIsNeverMovedPastItsBound(backend: Backend) throws {
        let s = try Setup(backend)
        let sale = try #require(s.docs.compactMap(\.sale).first { $0.loyalty != nil && $0.loyalty!.redeemed == 0 && $0.loyalty!.earned.contains { $0.points > 0 } })
        // A card loaded one point short of the bound: the sale is applied, the card is not moved
        // past it (SQLite would have stored an overflowing sum as REAL), and it is reported.
        var near = try #require(demoCards.first { $0.number == sale.loyalty!.cardNumber })
        near.balance = DocumentBounds.balance.upperBound - 1
        try s.store.importCards([near])
        let r = try s.ingest([OutboxDocument(sale: sale)])
        #expect(r.results.map(\.status) == [.accepted])
        #expect(try s.store.balance(of: near.number) == DocumentBounds.balance.upperBound - 1)
        #expect(try s.store.exceptions().contains { $0.kind == "out-of-bounds" && $0.card == near.number })
        try s.expectStillServing()
    }

    @Test(arguments: Backend.allCases)
    func salesThatCannotHaveHappenedAreRefused(backend: Backend) throws {
        let s = try Setup(backend)
        // A sale without points, paid exactly in cash.
        var plain = try #require(s.docs.compactMap(\.sale).first { !$0.tenders.contains { $0.kind == "points" } })
        plain.loyalty = nil
        plain.tenders = [.init(kind: "cash", amount: plain.totals.total, reference: nil)]
        plain.totals.paid = plain.totals.total
        plain.totals.change = 0
        func mutated(_ change: (inout SaleDocument) -> Void) -> OutboxDocument {
            var d = plain
            change(&d)
            return OutboxDocument(sale: d)
        }
        try s.expectRefused(mutated { d in
            d.tenders = []
            d.totals.paid = 0
        }, naming: "tenders")
        try s.expectRefused(mutated { d in
            d.tenders[0].amount -= 1
            d.totals.paid -= 1
        }, naming: "totals.paid")
        try s.expectRefused(mutated { $0.currency = "USD" }, naming: "currency")
        try s.expectRefused(mutated { $0.startedAt = "2027-01-01T10:00:00.000Z" }, naming: "completedAt")
        try s.expectRefused(mutated { $0.completedAt = "2126-01-01T10:00:00.000Z" }, naming: "completedAt")
        try s.expectRefused(mutated { $0.startedAt = "1970-01-01T00:00:00.001Z" }, naming: "startedAt")
        try s.expectStillServing()
    }

    @Test(arguments: Backend.allCases)
    func tillFiguresThatDifferAreKeptAsDiscrepanciesAndTheLedgerMovesByHeadOffices(backend: Backend) throws {
        let s = try Setup(backend)
        let redeeming = try s.loyaltySale(redeemed: true)
        var lying = redeeming
        // The line and VAT figures do not match the lines; one point "paid" 5.01; redeemedValue
        // says the points paid nothing (which would lift the tier qualification).
        lying.lines[0].amount += 7
        lying.vat = []
        let points = try #require(lying.tenders.firstIndex { $0.kind == "points" })
        let paid = lying.tenders[points].amount
        lying.tenders[points].points = 1
        lying.loyalty!.redeemed = 1
        lying.loyalty!.redeemedValue = 0
        lying.loyalty!.earned = lying.loyalty!.earned.map { var p = $0; p.points *= 100; return p }
        let card = lying.loyalty!.cardNumber
        let before = try #require(try s.store.cardStatus(card, pending: []))
        let r = try s.ingest([OutboxDocument(sale: lying)])
        #expect(r.results.map(\.status) == [.accepted])
        let kinds = try s.store.discrepancies().filter { $0.document == lying.saleID }.map(\.kind)
        #expect(kinds.contains("figures"))
        #expect(kinds.contains("points"))
        #expect(kinds.filter { $0 == "redemption" }.count == 2)
        let figures = try #require(try s.store.discrepancies().first { $0.kind == "figures" })
        #expect(figures.detail.contains("line 1 amount"))
        #expect(figures.detail.contains("VAT none"))
        // Head office's points, not the till's hundredfold ones; the qualification counts only the
        // money paid (total less what the points tender paid).
        let sale = try CompletedSale(document: redeeming, storeName: nil)
        let ownEarned = DemoCatalog.programme.award(for: sale.basket, context: sale.loyalty!.context).total
        let after = try #require(try s.store.cardStatus(card, pending: []))
        #expect(after.card.balance == before.card.balance + ownEarned.count - 1)
        #expect(after.card.qualifying == before.card.qualifying + redeeming.totals.total - paid)
        try s.expectStillServing()
    }

    /// A registration document of `card`, as a till sends it.
    static func registration(_ card: String, first: String = "Olga", last: String = "Orlova", email: String? = nil,
                             postcode: String? = nil, welcome: Int64 = 100) -> OutboxDocument {
        let info = SaleDocument.RegistrationInfo(cardNumber: card, firstName: first, lastName: last, phone: "+7 912 345 6789", email: email,
                                                 postcode: postcode, birthDate: nil, marketingConsent: false, registeredAt: "2026-11-20T10:00:00.000Z")
        return OutboxDocument(registration: RegistrationDocument(
            storeID: "0001", tillID: "01", programmeVersion: DemoCatalog.programme.version, registration: info,
            welcome: [.init(rule: "welcome", label: "Welcome bonus", points: welcome)], cancelledSaleID: nil))
    }

    @Test(arguments: Backend.allCases)
    func onlyAStockCardOrANewCardInTheRangesCanBeRegistered(backend: Backend) throws {
        let s = try Setup(backend)
        let anna = DemoCatalog.cardNumber(1), blocked = DemoCatalog.cardNumber(3), lost = DemoCatalog.cardNumber(4)
        for card in [anna, blocked, lost] {
            let before = try #require(try s.store.cardStatus(card, pending: []))
            let r = try s.ingest([Self.registration(card, welcome: 1_000_000)])
            #expect(r.results.map(\.status) == [.rejected], "card \(card)")
            let after = try #require(try s.store.cardStatus(card, pending: []))
            #expect(after == before, "card \(card) changed")
        }
        #expect(try s.store.exceptions().filter { $0.kind == "registration" }.count == 3)
        // A number outside the programme's card ranges (or failing its check digit).
        let r = try s.ingest([Self.registration("1234567890123452")])
        #expect(r.results.first?.status == .rejected)
        #expect(try s.store.cardStatus("1234567890123452", pending: []) == nil)
        // A stock card: registered, with the programme's welcome bonus, not the document's.
        let stock = DemoCatalog.cardNumber(DemoCatalog.firstStockCard)
        let ok = try s.ingest([Self.registration(stock, welcome: 1_000_000)])
        #expect(ok.results.map(\.status) == [.accepted])
        #expect(try s.store.balance(of: stock) == DemoCatalog.programme.welcomeBonus.count)
        // Validated as the till's form is: empty names, a bad e-mail, a 16 KB postcode.
        let other = DemoCatalog.cardNumber(DemoCatalog.firstStockCard + 1)
        try s.expectRefused(Self.registration(other, first: "", last: ""), naming: "registration")
        try s.expectRefused(Self.registration(other, email: "not-an-address"), naming: "registration")
        try s.expectRefused(Self.registration(other, postcode: String(repeating: "9", count: 16_384)), naming: "registration.postcode")
        try s.expectStillServing()
    }

    @Test(arguments: Backend.allCases)
    func aRegistrationInASaleIsValidatedAndNamesTheSalesCard(backend: Backend) throws {
        let s = try Setup(backend)
        let sale = try s.loyaltySale()
        let stock = DemoCatalog.cardNumber(DemoCatalog.firstStockCard + 2)
        let info = SaleDocument.RegistrationInfo(cardNumber: stock, firstName: "Olga", lastName: "Orlova", phone: "+7 912 345 6789", email: nil,
                                                 postcode: nil, birthDate: nil, marketingConsent: false, registeredAt: "2026-11-20T10:00:00.000Z")
        var other = sale
        other.loyalty!.registration = info   // the sale's card is a member's; the registration names a stock card
        try s.expectRefused(OutboxDocument(sale: other), naming: "loyalty.registration.cardNumber")
        var empty = sale
        var blank = info
        blank.cardNumber = sale.loyalty!.cardNumber
        blank.firstName = ""
        blank.lastName = ""
        empty.loyalty!.registration = blank
        try s.expectRefused(OutboxDocument(sale: empty), naming: "loyalty.registration")
        // A registration inside a sale of an already registered card: the sale stands (the money was
        // taken), the registration is refused, no welcome bonus, an exception recorded.
        var takeover = sale
        var anna = info
        anna.cardNumber = sale.loyalty!.cardNumber
        takeover.loyalty!.registration = anna
        takeover.loyalty!.welcome = [.init(rule: "welcome", label: "Welcome bonus", points: 100)]
        let before = try #require(try s.store.cardStatus(anna.cardNumber, pending: []))
        #expect(try s.ingest([OutboxDocument(sale: takeover)]).results.map(\.status) == [.accepted])
        let after = try #require(try s.store.cardStatus(anna.cardNumber, pending: []))
        #expect(after.customerName == before.customerName)
        #expect(try s.store.exceptions().contains { $0.kind == "registration" && $0.card == anna.cardNumber })
        #expect(try s.store.ledgerMismatches().isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func oneRegistrationSentToTwoHeadOfficesAtOnceIsAppliedOnce(backend: Backend) throws {
        // Two stores over one database: on PostgreSQL two pools, as two `headoffice serve`
        // processes have; on SQLite two connections to one file.
        let dir = TemporaryDirectory("ho-twice")
        let url = try backend.databaseArgument(in: dir)
        func open() throws -> HeadOfficeStore {
            try HeadOfficeStore(database: backend == .sqlite ? try SQLiteDatabase(path: url) : try PostgresDatabase(url: url))
        }
        let first = try open()
        try first.importProgramme(DemoCatalog.programme)
        try first.importCards(demoCards)
        _ = try first.registerTill(till1)
        let second = try open()
        for round in 0..<5 {
            let card = DemoCatalog.cardNumber(DemoCatalog.firstStockCard + round)
            let doc = IngestBatch(storeID: "0001", tillID: "01", documents: [Self.registration(card)])
            let statuses = Mutex<[IngestResult.Status]>([])
            let threads = [first, second, first, second].map { store in
                JoinableThread(name: "register") {
                    if let r = try? store.ingest(doc, from: till1) { statuses.withLock { $0 += r.results.map(\.status) } }
                }
            }
            threads.forEach { $0.join() }
            let all = statuses.withLock { $0 }
            #expect(all.filter { $0 == .accepted }.count == 1, "round \(round): \(all)")
            #expect(try first.balance(of: card) == DemoCatalog.programme.welcomeBonus.count)
        }
        #expect(try first.ledgerMismatches().isEmpty)
    }

    /// A sale's ID is checked as Foundation reads a UUID, without the `sscanf` it parses with: of
    /// strings of 36 UUID characters, each mutated from a real ID, the two take the same ones,
    /// except that `sscanf` also takes a '-' among the digits ("-6" read as a negative number),
    /// which no UUID has. Anything else (a space, a sign, another letter) is no UUID either.
    @Test func saleIDsAreReadAsFoundationReadsUUIDs() {
        var random = SplitMix64(seed: 19)
        let alphabet = Array("0123456789abcdefABCDEF-")
        let real = UUID().uuidString
        var taken = 0
        for _ in 0..<20_000 {
            var s = Array(real)
            for _ in 0..<Int.random(in: 0...2, using: &random) { s[Int.random(in: 0..<36, using: &random)] = alphabet.randomElement(using: &random)! }
            let id = String(s)
            let dashInDigits = s.enumerated().contains { ![8, 13, 18, 23].contains($0.offset) && $0.element == "-" }
            #expect(DocumentGate.isUUID(id) == (UUID(uuidString: id) != nil && !dashInDigits), "\(id)")
            if DocumentGate.isUUID(id) { taken += 1 }
        }
        #expect(taken > 1_000 && taken < 20_000)
        for id in ["", real.lowercased(), real + "0", String(real.dropLast()), " " + real.dropFirst(), "+" + real.dropFirst(), real.replacingOccurrences(of: "-", with: "_"),
                   "g" + real.dropFirst(), "é" + real.dropFirst(2), real.replacingOccurrences(of: "-", with: "")] {
            #expect(DocumentGate.isUUID(id) == (id == real.lowercased()), "\(id)")
        }
    }
}
