import Foundation
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillTestSupport

/// Generated trading days: random baskets with voids, discounts, cards, points, split tenders,
/// cancelled sales, refunds (partial, in cash, of multi-line sales), pickups, paid in/out and
/// overrides. The test keeps its own tally from the values the till returned, and the Z report
/// must equal it to the minor unit and the point.
@Suite("Trading days: the Z report balances")
struct TradingDayTests {
    struct Tally {
        var sales: Int64 = 0, items: Int64 = 0, value: Int64 = 0, lineDiscounts: Int64 = 0, saleDiscounts: Int64 = 0
        var refunds: Int64 = 0, refundsValue: Int64 = 0, withoutReceipt: Int64 = 0
        var tenderSales: [String: Int64] = [:], tenderCounts: [String: Int64] = [:], tenderRefunds: [String: Int64] = [:]
        var vatGross: [String: Int64] = [:], vat: [String: Int64] = [:]
        var voided: Int64 = 0, voidedValue: Int64 = 0, cancelled: Int64 = 0, cancelledValue: Int64 = 0
        var overrides: Int64 = 0, refused: Int64 = 0
        var issued: Points = 0, redeemed: Points = 0, takenBack: Points = 0, restored: Points = 0
        var float: Int64 = 0, pickups: Int64 = 0, paidIn: Int64 = 0, paidOut: Int64 = 0, noSales: Int64 = 0
        var cashierSales: [String: Int64] = [:], cashierVoids: [String: Int64] = [:]
    }

    let till = TillIdentity(storeID: "0001", storeName: "Demo Store", tillID: "01", currency: .eur)
    let staff = [DemoCatalog.cashier, DemoCatalog.supervisor]

    /// One day of trading; returns the tally and the sales rung (for refunds on later days).
    func trade(_ db: TillDatabase, rng: inout SplitMix64, clock: inout Int64, sales count: Int, earlier: [CompletedSale]) throws -> (Tally, [CompletedSale]) {
        var t = Tally()
        var rung: [CompletedSale] = []
        let programme = DemoCatalog.programme
        let products = DemoCatalog.featured.filter { !$0.soldByWeight }
        func r(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        func movement(_ kind: CashMovementKind, _ amount: Int64) throws {
            clock += 1_000
            try db.recordCash(CashMovement(kind: kind, amount: amount, reason: kind.needsReason ? "test" : nil, cashier: "1", supervisor: nil, at: clock),
                              detail: kind.rawValue, slip: nil)
        }
        try movement(.float, 15_000)
        t.float += 15_000
        for i in 0..<count {
            clock += 45_000
            let cashier = staff[r(2)]
            var sale = OpenSale(id: UUID().uuidString.lowercased(), startedAt: clock, cashier: cashier, currency: .eur)
            for _ in 0..<(1 + r(5)) {
                let p = products[r(products.count)]
                sale = try sale.trying(.addLine(item: LineItem(
                    sku: p.sku, description: p.description, category: p.category, taxCode: p.taxCode,
                    taxBasisPoints: standardTaxRates[p.taxCode]!.basisPoints, unitPrice: p.unitPrice, quantity: .units(1 + Int64(r(3))))))
            }
            if sale.basket.lines.count > 1, r(4) == 0 { sale = try sale.trying(.voidLine(number: 1 + r(sale.basket.lines.count))) }
            if r(4) == 0, let line = sale.basket.lines.first(where: { !$0.voided }) {
                sale = try sale.trying(.discountLine(number: line.number, discount: .percent(basisPoints: Int64(500 + r(1000)))))
            }
            if r(6) == 0, let discounted = try? sale.trying(.discountSale(discount: .amount(minor: Int64(1 + r(50))))) { sale = discounted }
            if r(15) == 0 {
                // Cancelled (voided) sale: never journalled.
                clock += 5_000
                try db.cancel(sale, at: clock)
                t.cancelled += 1
                t.cancelledValue += sale.basket.totals.total
                continue
            }
            var customer: SaleCustomer?
            if r(3) != 0 {
                var n = 1 + r(10)
                if n == 3 || n == 4 { n = 1 }
                if case .member(let c) = try db.lookupCard(DemoCatalog.cardNumber(n), programme: programme, now: clock) {
                    customer = c
                    sale = try sale.trying(.identifyCustomer(customer: c))
                }
            }
            if let c = customer, r(3) == 0 {
                let tt = sale.basket.totals
                let limit = programme.redemptionLimit(available: c.balance, total: tt.total, due: tt.due)
                if limit > 0, let points = programme.points(forAmount: limit), points >= programme.redemption.minimumPoints, points <= c.balance {
                    sale = try sale.trying(.addTender(tender: Tender(kind: .points, amount: limit, points: points)))
                }
            }
            let due = sale.basket.totals.due
            switch r(3) {
            case 0: sale = try sale.trying(.addTender(tender: Tender(kind: .card, amount: due, reference: "R\(i)")))
            case 1 where due > 1:
                sale = try sale.trying(.addTender(tender: Tender(kind: .card, amount: due / 2, reference: "S\(i)")))
                sale = try sale.trying(.addTender(tender: Tender(kind: .cash, amount: due - due / 2 + Int64(r(500)))))
            default: sale = try sale.trying(.addTender(tender: Tender(kind: .cash, amount: due + Int64(r(2000)))))
            }
            let loyalty = customer.map {
                programme.outcome(for: sale.basket, customer: $0, context: EarnContext(
                    time: LocalDateTime(minutes: clock / 60_000), storeID: "0001", tierCode: $0.tierCode, priorPurchases: $0.priorPurchases))
            }
            clock += 30_000
            let done = try db.commit(sale, at: clock, till: till, loyalty: loyalty) { _ in nil }
            rung.append(done)
            let tt = done.totals
            t.sales += 1
            t.items += tt.itemCount
            t.value += tt.total
            t.lineDiscounts += tt.lineDiscounts
            t.saleDiscounts += tt.saleDiscount
            t.cashierSales[cashier.number, default: 0] += 1
            for x in done.basket.tenders {
                t.tenderSales[x.kind.rawValue, default: 0] += x.amount
                t.tenderCounts[x.kind.rawValue, default: 0] += 1
            }
            t.tenderSales["cash", default: 0] -= tt.change
            for v in tt.vat {
                t.vatGross[v.code, default: 0] += v.gross
                t.vat[v.code, default: 0] += v.vat
            }
            for l in done.basket.lines where l.voided {
                t.voided += 1
                t.voidedValue += l.amount
                t.cashierVoids[cashier.number, default: 0] += 1
            }
            if let o = done.loyalty {
                t.issued += o.earned.total + o.welcome.total
                t.redeemed += o.redeemed
            }
            // Now and then: a refund of an earlier sale (some of its lines), an override, cash movements.
            let candidates = earlier + rung
            if r(6) == 0, let original = candidates.randomElement(using: &rng),
               let returnable = try db.returnableSale(receipt: original.receiptNumber, till: till) {
                let open = original.basket.lines.filter { returnable.left(line: $0.number) > 0 }
                if !open.isEmpty {
                    let picked = open.shuffled(using: &rng).prefix(1 + r(open.count))
                    let selections = picked.map { ReturnSelection(line: $0.number, quantity: .units(1 + Int64(r(Int(returnable.left(line: $0.number) / 1000))))) }
                    clock += 20_000
                    let refund = try db.commitRefund(
                        .receipt(saleID: original.id, selections: selections, toCash: r(4) == 0), id: UUID().uuidString, cashier: cashier,
                        supervisor: "9", at: clock, till: till, programme: programme) { _ in nil }
                    // `till receipt` draws a refund's slip again from the journal: the same refund.
                    #expect(try db.completedRefund(receipt: refund.receiptNumber, till: till) == refund)
                    #expect(try db.completedRefund(receipt: "R\(refund.sequence)", till: till)?.id == refund.id)
                    t.refunds += 1
                    t.refundsValue += refund.plan.total
                    for x in refund.plan.tenders { t.tenderRefunds[x.kind.rawValue, default: 0] += x.amount }
                    for v in refund.plan.vat {
                        t.vatGross[v.code, default: 0] -= v.gross
                        t.vat[v.code, default: 0] -= v.vat
                    }
                    t.takenBack += refund.plan.pointsTakenBack
                    t.restored += refund.plan.pointsRestored
                }
            }
            if r(25) == 0 {
                let p = products[r(products.count)]
                clock += 20_000
                let refund = try db.commitRefund(
                    .withoutReceipt(items: [LineItem(sku: p.sku, description: p.description, taxCode: p.taxCode,
                                                     taxBasisPoints: standardTaxRates[p.taxCode]!.basisPoints, unitPrice: p.unitPrice, quantity: .one)]),
                    id: UUID().uuidString, cashier: cashier, supervisor: "9", at: clock, till: till, programme: programme) { _ in nil }
                #expect(try db.completedRefund(receipt: refund.receiptNumber, till: till) == refund)
                t.refunds += 1
                t.withoutReceipt += 1
                t.refundsValue += refund.plan.total
                t.tenderRefunds["cash", default: 0] += refund.plan.total
                for v in refund.plan.vat {
                    t.vatGross[v.code, default: 0] -= v.gross
                    t.vat[v.code, default: 0] -= v.vat
                }
            }
            if r(10) == 0 {
                let granted = r(2) == 0
                try db.audit(AuditEntry(at: clock, action: granted ? "override" : "override-refused", cashier: "1", supervisor: "9", saleID: done.id, detail: "test"))
                if granted { t.overrides += 1 } else { t.refused += 1 }
            }
            switch r(20) {
            case 0: let a = Int64(1_000 + r(5_000)); try movement(.pickup, a); t.pickups += a
            case 1: let a = Int64(100 + r(2_000)); try movement(.paidIn, a); t.paidIn += a
            case 2: let a = Int64(100 + r(2_000)); try movement(.paidOut, a); t.paidOut += a
            case 3: try movement(.noSale, 0); t.noSales += 1
            default: break
            }
        }
        return (t, rung)
    }

    func expectBalances(_ z: PeriodReport, _ t: Tally) {
        #expect(z.salesCount == t.sales)
        #expect(z.itemsSold == t.items)
        #expect(z.salesValue == t.value)
        #expect(z.lineDiscounts == t.lineDiscounts)
        #expect(z.saleDiscounts == t.saleDiscounts)
        #expect(z.refundsCount == t.refunds)
        #expect(z.refundsValue == t.refundsValue)
        #expect(z.refundsWithoutReceipt == t.withoutReceipt)
        #expect(z.netSales == t.value - t.refundsValue)
        for kind in ["cash", "card", "points"] {
            let row = z.tenders.first { $0.kind == kind }
            #expect((row?.sales ?? 0) == (t.tenderSales[kind] ?? 0), "\(kind) sales")
            #expect((row?.count ?? 0) == (t.tenderCounts[kind] ?? 0), "\(kind) count")
            #expect((row?.refunds ?? 0) == (t.tenderRefunds[kind] ?? 0), "\(kind) refunds")
        }
        #expect(Dictionary(uniqueKeysWithValues: z.vat.map { ($0.code, $0.gross) }).filter { $0.value != 0 } == t.vatGross.filter { $0.value != 0 })
        #expect(Dictionary(uniqueKeysWithValues: z.vat.map { ($0.code, $0.vat) }).filter { $0.value != 0 } == t.vat.filter { $0.value != 0 })
        #expect(z.voidedLines == t.voided)
        #expect(z.voidedLinesValue == t.voidedValue)
        #expect(z.cancelledSales == t.cancelled)
        #expect(z.cancelledValue == t.cancelledValue)
        #expect(z.overrides == t.overrides)
        #expect(z.overridesRefused == t.refused)
        #expect(z.pointsIssued == t.issued)
        #expect(z.pointsRedeemed == t.redeemed)
        #expect(z.pointsTakenBack == t.takenBack)
        #expect(z.pointsRestored == t.restored)
        #expect(z.cash.float == t.float)
        #expect(z.cash.pickups == t.pickups)
        #expect(z.cash.paidIn == t.paidIn)
        #expect(z.cash.paidOut == t.paidOut)
        #expect(z.cash.noSales == t.noSales)
        let expected = t.float + (t.tenderSales["cash"] ?? 0) - (t.tenderRefunds["cash"] ?? 0) + t.paidIn - t.paidOut - t.pickups
        #expect(z.cash.expected == expected)
        #expect(Dictionary(uniqueKeysWithValues: z.cashiers.map { ($0.number, $0.sales) }).filter { $0.value > 0 } == t.cashierSales)
        #expect(Dictionary(uniqueKeysWithValues: z.cashiers.map { ($0.number, $0.voidedLines) }).filter { $0.value > 0 } == t.cashierVoids.filter { $0.value > 0 })
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func zReportsEqualTheJournal(seed: UInt64) throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        try db.installProgramme(DemoCatalog.programme, at: 0)
        try db.importCards(DemoCatalog.cards(members: 10, stock: 5))
        var rng = SplitMix64(seed: seed)
        var clock: Int64 = 1_795_000_000_000
        var earlier: [CompletedSale] = []
        for day in 1...3 {
            let (tally, rung) = try trade(db, rng: &rng, clock: &clock, sales: 120, earlier: earlier)
            earlier += rung
            // The day had every kind of record the report sums (else the test would prove little).
            #expect(tally.refunds > 0 && tally.cancelled > 0 && tally.voided > 0 && tally.lineDiscounts > 0 && tally.redeemed > 0)
            #expect(tally.takenBack > 0 && tally.restored > 0 && tally.overrides + tally.refused > 0 && (tally.tenderRefunds["card"] ?? 0) > 0)
            clock += 60_000
            let x = try db.report(z: false, counted: nil, at: clock, till: till) { _ in nil }
            expectBalances(x, tally)
            #expect(x.number == Int64(day))
            #expect(x.cash.counted == nil)
            // An X report resets nothing: a second one says the same.
            let x2 = try db.report(z: false, counted: nil, at: clock, till: till) { _ in nil }
            #expect(x2.salesValue == x.salesValue && x2.netSales == x.netSales)
            clock += 60_000
            let z = try db.report(z: true, counted: x.cash.expected - 35, at: clock, till: till) { _ in nil }
            expectBalances(z, tally)
            #expect(z.kind == "Z")
            #expect(z.number == Int64(day))
            #expect(z.cash.overShort == -35)
            // The Z is kept, and queued for head office with the day's sales.
            #expect(try db.zReports(limit: 1).first == z)
            let queued = try db.outboxPayloads(kind: "zreport")
            #expect(queued.count == day)
            let summary = try JSONDecoder().decode(ZReportSummary.self, from: Data(queued.last!.utf8))
            #expect(summary.number == Int64(day) && summary.netSales == z.netSales && summary.salesCount == z.salesCount)
        }
        // After the last Z the new period is empty.
        let empty = try db.report(z: false, counted: nil, at: clock + 1, till: till) { _ in nil }
        #expect(empty.salesCount == 0 && empty.refundsCount == 0 && empty.cash.expected == 0 && empty.number == 4)
        // Refund outbox rows went with each refund.
        #expect(try db.outboxPayloads(kind: "refund").count == earlierRefunds(db))
    }

    @Test func theXReportIsPrintedAndTheZReportToo() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        let job: (PeriodReport) -> PrintJobDraft? = { PrintJobDraft(kind: .report, receiptNumber: "\($0.kind)\($0.number)", payload: Array("\($0.kind)".utf8)) }
        let x = try db.report(z: false, counted: nil, at: 1_795_000_000_000, till: till, print: job)
        _ = try db.report(z: true, counted: 0, at: 1_795_000_001_000, till: till, print: job)
        #expect(try db.printJobs().filter { $0.kind == .report }.map(\.receiptNumber) == ["X1", "Z1"])
        #expect(x.number == 1)
        #expect(try db.auditTrail().map(\.action) == ["x-report", "z-report"])
    }

    func earlierRefunds(_ db: TillDatabase) throws -> Int {
        try db.outboxPayloads(kind: "refund").map { try JSONDecoder().decode(RefundDocument.self, from: Data($0.utf8)) }.count
    }

    @Test func aLineIsNeverReturnedTwiceAndThePointsMoveWithTheRefund() throws {
        let dir = TemporaryDirectory()
        let db = try makeDemoDatabase(in: dir)
        try db.installProgramme(DemoCatalog.programme, at: 0)
        try db.importCards(DemoCatalog.cards(members: 10, stock: 5))
        let card = DemoCatalog.cardNumber(1)
        guard case .member(let c) = try db.lookupCard(card, programme: DemoCatalog.programme, now: 1_795_000_000_000) else {
            Issue.record("no member"); return
        }
        let p = DemoCatalog.featured.filter { !$0.soldByWeight }[0]
        var sale = OpenSale(id: "sale-1", startedAt: 1_795_000_000_000, cashier: DemoCatalog.cashier, currency: .eur)
        sale = try sale.trying(.addLine(item: LineItem(sku: p.sku, description: p.description, category: p.category, taxCode: p.taxCode,
                                                        taxBasisPoints: 2000, unitPrice: 1000, quantity: .units(2))))
        sale = try sale.trying(.identifyCustomer(customer: c))
        sale = try sale.trying(.addTender(tender: Tender(kind: .cash, amount: 2000)))
        let outcome = DemoCatalog.programme.outcome(for: sale.basket, customer: c, context: EarnContext(
            time: LocalDateTime(minutes: 1_795_000_000_000 / 60_000), storeID: "0001", tierCode: c.tierCode, priorPurchases: c.priorPurchases))
        let done = try db.commit(sale, at: 1_795_000_001_000, till: till, loyalty: outcome) { _ in nil }
        let earned = outcome.earned.total
        #expect(earned > 0)
        let balanceAfterSale = c.balance + earned
        let refund = try db.commitRefund(.receipt(saleID: done.id, selections: [.init(line: 1, quantity: .units(2))], toCash: false),
                                         id: "refund-1", cashier: DemoCatalog.supervisor, supervisor: nil, at: 1_795_000_002_000, till: till,
                                         programme: DemoCatalog.programme) { _ in nil }
        #expect(refund.plan.pointsTakenBack == earned)
        #expect(refund.receiptNumber == "0001-01-R00001")
        guard case .member(let after) = try db.lookupCard(card, programme: DemoCatalog.programme, now: 1_795_000_003_000) else { return }
        #expect(after.balance == balanceAfterSale - earned)
        #expect(throws: ReturnError.alreadyReturned(line: 1, description: p.description)) {
            _ = try db.commitRefund(.receipt(saleID: done.id, selections: [.init(line: 1, quantity: .one)], toCash: false),
                                    id: "refund-2", cashier: DemoCatalog.supervisor, supervisor: nil, at: 1_795_000_004_000, till: till,
                                    programme: DemoCatalog.programme) { _ in nil }
        }
        // Nothing of the refused refund was written.
        #expect(try db.outboxPayloads(kind: "refund").count == 1)
        // The cash office journal is append-only.
        #expect(try db.auditTrail().contains { $0.action == "refund" && $0.saleID == done.id })
    }
}
