import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillTestSupport

/// The coalition (issue 17): partners with their own earn rule and rates, the bank's transaction
/// feed (a file all or nothing, idempotent, with reversals), partner retailers through the channel
/// API, and the settlement statements per period, which must equal the ledger to the point.
@Suite("Coalition partners and settlement", .serialized)
struct CoalitionTests {
    static let october = CashbackPeriod.parse("2026-10")!
    static func day(_ d: Int, hour: Int = 9) -> Int64 { october.start + Int64(d - 1) * 86_400_000 + Int64(hour) * 3_600_000 }

    static let bank = Partner(id: "bank", name: "North Bank", kind: .bank, earnPoints: 1, earnUnit: 1_000, multipliers: ["travel": 3],
                              issueRate: 100, redeemRate: 0, cashbackPayer: true)
    static let retailers = [
        Partner(id: "cafe", name: "Corner Cafe", kind: .retailer, earnPoints: 1, earnUnit: 100, multipliers: ["coffee": 2], issueRate: 100, redeemRate: 90),
        Partner(id: "fuel", name: "Fuel Stop", kind: .retailer, earnPoints: 1, earnUnit: 200, issueRate: 50, redeemRate: 80),
        Partner(id: "books", name: "Book Nook", kind: .retailer, earnPoints: 3, earnUnit: 1_000, multipliers: ["kids": 2], issueRate: 120, redeemRate: 100),
    ]

    /// The ledger's points of the period by the test's own query: a partner's channel, kinds.
    static func ledgerSum(_ store: HeadOfficeStore, _ period: CashbackPeriod, where condition: String) throws -> Int64 {
        try store.database.read { c in
            try c.queryOne("SELECT COALESCE(SUM(points), 0) AS n FROM ledger WHERE created_at >= ? AND created_at < ? AND \(condition)",
                           [.int(period.start), .int(period.end)])?.int("n") ?? -1
        }
    }

    @Test func partnersAreCheckedAndEarnByTheirRule() throws {
        let dir = TemporaryDirectory("partners")
        let store = try makeHeadOffice(.sqlite, dir)
        #expect(try store.partners().map(\.id) == ["chain"])
        let key = try #require(try store.savePartner(Self.bank))
        #expect(key.hasPrefix("ch.bank."))
        #expect(try store.savePartner(Self.bank) == nil, "a changed partner keeps its key")
        #expect(Self.bank.award(amount: 12_345, category: nil) == 12 && Self.bank.award(amount: 12_345, category: "travel") == 36)
        #expect(Partner(id: "x", name: "x", kind: .retailer, earnPoints: 1_000, earnUnit: 1).award(amount: 10_000_000_000, category: nil) == 10_000_000_000_000)
        for bad in [Partner(id: "bad id", name: "x", kind: .retailer), Partner(id: "x", name: "", kind: .retailer),
                    Partner(id: "x", name: "x", kind: .retailer, earnPoints: 1_001), Partner(id: "x", name: "x", kind: .retailer, earnUnit: 0),
                    Partner(id: "x", name: "x", kind: .retailer, issueRate: -1), Partner(id: "x", name: "x", kind: .retailer, multipliers: ["a": 101]),
                    Partner(id: "chain2", name: "x", kind: .chain)] {
            #expect(throws: ChannelRefusal.self) { try store.savePartner(bad) }
        }
        #expect(throws: ChannelRefusal.self) { try Partner.parseMultipliers("coffee=2,fuel") }
        #expect(try Partner.parseMultipliers("coffee=2, fuel=3") == ["coffee": 2, "fuel": 3])
        // One cashback payer at a time.
        try store.savePartner(Self.retailers[0])
        var cafe = Self.retailers[0]
        cafe.cashbackPayer = true
        try store.savePartner(cafe)
        #expect(try store.partners().filter(\.cashbackPayer).map(\.id) == ["cafe"])
    }

    @Test func aDailyFileIsAppliedWholeOrNotAtAllAndOnce() throws {
        let dir = TemporaryDirectory("partner-file")
        let store = try makeHeadOffice(.sqlite, dir)
        try store.savePartner(Self.bank)
        let a = DemoCatalog.cardNumber(1), b = DemoCatalog.cardNumber(2)
        let before = try store.balance(of: a)!
        let good = HeadOfficeStore.partnerFileHeader + "\nT1,\(a),12000,,2026-10-01,\nT2,\(b),5000,travel,,\nT3,\(a),6000,,,T1\n"
        let r = try store.applyPartnerFile(good, partner: "bank")
        #expect(r == PartnerFileResult(rows: 3, accepted: 3, duplicates: 0, points: 12 + 15 - 6))
        #expect(try store.balance(of: a) == before + 6)
        // The same file again: nothing moves.
        #expect(try store.applyPartnerFile(good, partner: "bank") == PartnerFileResult(rows: 3, accepted: 0, duplicates: 3, points: 0))
        // Rows 3 and 5 wrong: nothing of the file is kept, and each wrong row is named.
        let ledgerRows = try store.database.read { c in try c.queryOne("SELECT COUNT(*) AS n FROM ledger", [])!.int("n") }
        let bad = HeadOfficeStore.partnerFileHeader + "\nT4,\(a),1000,,,\nT5,\(a),12.50,,,\nT6,\(b),1000,,,\nT7,6034000000099999,1000,,,\nT8,\(a),7000,,,T1\n"
        do {
            _ = try store.applyPartnerFile(bad, partner: "bank")
            Issue.record("a file with wrong rows was applied")
        } catch let e as PartnerFileRefusal {
            #expect(e.errors.count == 3, "\(e.errors)")
            #expect(e.errors[0].hasPrefix("row 3: amount_minor '12.50'"))
            #expect(e.errors[1].hasPrefix("row 5: Head office has no card"))
            #expect(e.errors[2].hasPrefix("row 6: Transaction T8 reverses 7000 of T1, which has 6000 left"))
            #expect(e.description.contains("nothing of it is kept"))
        }
        #expect(try store.database.read { c in try c.queryOne("SELECT COUNT(*) AS n FROM ledger", [])!.int("n") } == ledgerRows)
        #expect(try store.balance(of: a) == before + 6)
        // A wrong header, and a transaction id used for another amount.
        #expect(throws: PartnerFileRefusal.self) { try store.applyPartnerFile("card,amount\n\(a),100\n", partner: "bank") }
        #expect(throws: PartnerFileRefusal.self) {
            try store.applyPartnerFile(HeadOfficeStore.partnerFileHeader + "\nT2,\(b),5001,travel,,\n", partner: "bank")
        }
        // The rest of T1 reversed: exactly the points it earned, whatever the rounding.
        _ = try store.applyPartnerFile(HeadOfficeStore.partnerFileHeader + "\nT9,\(a),6000,,,T1\n", partner: "bank")
        #expect(try store.balance(of: a) == before)
        #expect(try CustomerServiceActionsTests.ledgerAgrees(store))
    }

    /// The commands a store's IT person runs: a partner saved, its daily file refused with the
    /// rows named then applied, the statements shown, a period not yet over refused closing.
    @Test func thePartnerAndSettlementCommands() throws {
        let dir = TemporaryDirectory("coalition-cli")
        let ho = try HeadOfficeProcess(.sqlite, dir: dir)
        let saved = try ho.admin(["partner", "save", "bank", "--kind", "bank", "--name", "North Bank", "--earn", "1/1000", "--issue-rate", "100",
                                  "--cashback-payer", "--output", dir.file("bank.key")])
        #expect(saved.contains("Partner bank added; its channel key is in"))
        #expect(try String(contentsOfFile: dir.file("bank.key"), encoding: .utf8).hasPrefix("ch.bank."))
        let list = try ho.admin(["partner", "list"])
        #expect(list.contains("bank  bank  North Bank  earns 1 per 10.00") && list.contains("cashback payer") && list.hasPrefix("chain  chain"))
        let card = DemoCatalog.cardNumber(5)
        let bad = dir.write("bad.csv", HeadOfficeStore.partnerFileHeader + "\nT1,\(card),12.00,,,\nT2,\(card),1000,,,\n")
        let r = try runProcess(ho.binary, ["partner", "feed", "bank", "--file", bad, "--database", ho.database])
        #expect(r.status != 0 && r.stderr.contains("row 2: amount_minor '12.00' is not a whole number") && r.stderr.contains("nothing of it is kept"), "\(r.stderr)")
        let good = dir.write("good.csv", HeadOfficeStore.partnerFileHeader + "\nT1,\(card),12000,,,\nT2,\(card),1000,,,\n")
        #expect(try ho.admin(["partner", "feed", "bank", "--file", good]).contains("2 rows; 2 applied (13 points), 0 applied before."))
        #expect(try ho.admin(["partner", "feed", "bank", "--file", good]).contains("0 applied (0 points), 2 applied before."))
        let month = CashbackPeriod.lastEnded(.monthly, before: HeadOfficeStore.now() + 32 * 86_400_000).id
        let shown = try ho.admin(["settlement", "show", "--period", month])
        #expect(shown.contains("Points issued by North Bank: 13 points → 0.13") && shown.contains("equal"), "\(shown)")
        let close = try runProcess(ho.binary, ["settlement", "close", "--period", month, "--database", ho.database])
        #expect(close.status != 0 && close.stderr.contains("has not ended yet"), "\(close.stderr)")
        #expect(try ho.admin(["settlement", "csv", "bank", "--period", month]).contains("bank,\(month),1,issued,Points issued by North Bank,13,1.00,0.13"))
    }

    /// What a generated month should come to, by the generator's own arithmetic.
    struct Month {
        var issued: [String: Int64]
        var redeemed: [String: Int64]
        var till: TillSide
    }

    /// A month (October 2026) of coalition traffic on `store` (the demo programme and its first 20
    /// cards): till 0001/01's sales, the bank's daily files (one refused whole and sent again, one
    /// sent twice, reversals) and API, three partner retailers earning and redeeming, a cashback
    /// run on the last evening; and one bank transaction in November.
    static func generateMonth(_ store: HeadOfficeStore) throws -> Month {
        try store.importCards(Array(DemoCatalog.cards(members: 60, stock: 0).dropFirst(20)))
        _ = try store.registerTill(till1)
        try store.savePartner(Self.bank)
        var channels: [String: SalesChannel] = [:]
        for p in Self.retailers {
            try store.savePartner(p)
            channels[p.id] = SalesChannel(name: p.id, scopes: [.earn, .redeem, .read], createdAt: 0, revokedAt: nil)
        }
        let bankChannel = SalesChannel(name: "bank", scopes: [.earn, .read], createdAt: 0, revokedAt: nil)
        let t = try TillSide()
        t.generator = SaleGenerator(database: t.db, till: t.identity, seed: 1, start: Self.day(1, hour: 8))
        var rng = SplitMix64(seed: 17)
        func pick(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(rng.next() % UInt64(range.count)) }
        var expectIssued: [String: Int64] = [:], expectRedeemed: [String: Int64] = [:]
        var bankTxns: [(id: String, card: String, amount: Int64, points: Int64, reversed: Int64, reversedPoints: Int64)] = []
        let categories = ["grocery", "travel", "fuel-station"]
        var refusedFiles = 0
        for d in 1...31 {
            // The tills.
            try t.generator.ring(6)
            _ = try store.ingest(try t.batch(), from: till1, at: Self.day(d, hour: 18))
            // The bank's daily file: spend on cards 21–60, and reversals of earlier spend on cards 41–60 (never redeemed elsewhere).
            var rows: [String] = []
            for i in 0..<25 {
                let card = DemoCatalog.cardNumber(pick(21...60)), amount = Int64(pick(100...400_000))
                let category = rng.next() % 4 == 0 ? "" : categories[pick(0...2)]
                let id = "D\(d)-\(i)"
                rows.append("\(id),\(card),\(amount),\(category),2026-10-\(d < 10 ? "0" : "")\(d),")
                let points = amount / 1_000 * (category == "travel" ? 3 : 1)
                bankTxns.append((id, card, amount, points, 0, 0))
                expectIssued["bank", default: 0] += points
            }
            for r in 0..<2 {
                guard let i = bankTxns.indices.filter({ bankTxns[$0].card >= DemoCatalog.cardNumber(41) && bankTxns[$0].reversed < bankTxns[$0].amount
                                                         && !bankTxns[$0].id.hasPrefix("D\(d)-") }).randomElement(using: &rng) else { continue }
                let o = bankTxns[i], left = o.amount - o.reversed
                let amount = rng.next() % 2 == 0 ? left : max(1, left / 3)
                let points = amount == left ? o.points - o.reversedPoints : o.points * amount / o.amount
                bankTxns[i].reversed += amount
                bankTxns[i].reversedPoints += points
                rows.append("R\(d)-\(r),\(o.card),\(amount),,,\(o.id)")
                expectIssued["bank", default: 0] -= points
            }
            let file = HeadOfficeStore.partnerFileHeader + "\n" + rows.joined(separator: "\n") + "\n"
            if d == 11 {
                // A file with one wrong row is refused whole; the bank sends it again corrected.
                var broken = rows
                broken[7] = "D11-7,\(DemoCatalog.cardNumber(21)),-5,,,"
                #expect(throws: PartnerFileRefusal.self) {
                    try store.applyPartnerFile(HeadOfficeStore.partnerFileHeader + "\n" + broken.joined(separator: "\n"), partner: "bank", at: Self.day(d, hour: 6))
                }
                refusedFiles += 1
            }
            let applied = try store.applyPartnerFile(file, partner: "bank", at: Self.day(d, hour: 7))
            #expect(applied.accepted == rows.count)
            if d == 12 {
                // Sent twice: the second time applies nothing.
                #expect(try store.applyPartnerFile(file, partner: "bank", at: Self.day(d, hour: 8)).duplicates == rows.count)
            }
            // The bank's API: a few transactions one by one (one refused: an unknown card).
            let api = try store.partnerTransactions(PartnerTransactionsRequest(transactions: [
                PartnerTransaction(id: "A\(d)", cardNumber: DemoCatalog.cardNumber(pick(21...40)), amount: 50_000, category: "travel"),
                PartnerTransaction(id: "A\(d)-x", cardNumber: "6034000000099999", amount: 50_000),
            ]), channel: bankChannel, at: Self.day(d, hour: 12))
            #expect(api.results.map(\.status) == ["accepted", "refused"])
            expectIssued["bank", default: 0] += 150
            // The partner retailers: orders earning, points reserved and captured, one cancelled, a refund.
            for p in Self.retailers {
                let ch = channels[p.id]!
                for i in 0..<4 {
                    let card = DemoCatalog.cardNumber(pick(21...40)), amount = Int64(pick(100...20_000))
                    let category: String? = i == 0 ? (p.multipliers.keys.first ?? "misc") : nil
                    let answer = try store.channelEarn(EarnRequest(cardNumber: card, orderID: "\(p.id)-\(d)-\(i)", amount: amount, category: category),
                                                       channel: ch, at: Self.day(d, hour: 10 + i))
                    #expect(answer.points == p.award(amount: amount, category: category))
                    expectIssued[p.id, default: 0] += answer.points
                }
                var card = DemoCatalog.cardNumber(pick(21...40))
                while try store.balance(of: card)! < 45 { card = DemoCatalog.cardNumber(pick(21...40)) }
                let points = Int64(pick(1...40))
                let kept = try store.reserve(ReserveRequest(cardNumber: card, points: points, orderID: "\(p.id)-r\(d)"), channel: ch,
                                             idempotencyKey: "\(p.id)-r\(d)", at: Self.day(d, hour: 15))
                _ = try store.settleReservation(kept.id, action: "capture", channel: ch, idempotencyKey: nil, at: Self.day(d, hour: 15))
                let dropped = try store.reserve(ReserveRequest(cardNumber: card, points: 5, orderID: "\(p.id)-c\(d)"), channel: ch,
                                                idempotencyKey: "\(p.id)-c\(d)", at: Self.day(d, hour: 16))
                _ = try store.settleReservation(dropped.id, action: "cancel", channel: ch, idempotencyKey: nil, at: Self.day(d, hour: 16))
                var redeemed = points
                if d % 5 == 0 {
                    _ = try store.refundReservation(kept.id, points: 1, channel: ch, idempotencyKey: "\(p.id)-f\(d)", at: Self.day(d, hour: 17))
                    redeemed -= 1
                }
                expectRedeemed[p.id, default: 0] -= redeemed
            }
        }
        // The bank's cashback payouts of the month.
        let cashback = try store.runCashback(period: try #require(CashbackPeriod.parse("2026-Q3")), at: Self.day(31, hour: 22))
        #expect(cashback.cards > 0)
        // A movement in November is not October's.
        _ = try store.partnerTransactions(PartnerTransactionsRequest(transactions: [
            PartnerTransaction(id: "N1", cardNumber: DemoCatalog.cardNumber(41), amount: 90_000)]), channel: bankChannel, at: Self.october.end + 3_600_000)

        #expect(refusedFiles == 1)
        return Month(issued: expectIssued, redeemed: expectRedeemed, till: t)
    }

    /// A month of coalition traffic: the tills, the bank's daily files and API, three partner
    /// retailers earning and redeeming, a cashback run; each statement equals the ledger.
    @Test(arguments: Backend.allCases)
    func aMonthOfCoalitionTrafficSettlesToTheLedger(backend: Backend) throws {
        let dir = TemporaryDirectory("coalition-\(backend)")
        let store = try makeHeadOffice(backend, dir)
        let month = try Self.generateMonth(store)
        let (expectIssued, expectRedeemed, t) = (month.issued, month.redeemed, month.till)
        // The tills' journals say what the chain issued and redeemed.
        var chainIssued: Int64 = 0, chainRedeemed: Int64 = 0
        for s in try t.db.saleDocuments() {
            guard let l = s.loyalty else { continue }
            chainIssued += l.welcome.reduce(0) { $0 + $1.points } + l.earned.reduce(0) { $0 + $1.points }
            chainRedeemed -= l.redeemed
        }
        let settlement = try store.settlement(Self.october)
        let st = Dictionary(uniqueKeysWithValues: settlement.statements.map { ($0.partner.id, $0) })
        func line(_ p: String, _ kind: String) -> SettlementLine? { st[p]?.lines.first { $0.kind == kind } }
        #expect(settlement.reconciled, "statements \(settlement.statementPoints) points, ledger \(settlement.ledgerPoints)")
        #expect(settlement.ledgerPoints == (try Self.ledgerSum(store, Self.october, where: "1 = 1")))
        #expect(line("chain", "issued")?.points == chainIssued && line("chain", "redeemed")?.points == chainRedeemed)
        #expect(line("chain", "issued")?.points == (try Self.ledgerSum(store, Self.october, where: "till_id IS NOT NULL AND kind IN ('earn', 'welcome', 'return-earn')")))
        for p in [Self.bank] + Self.retailers {
            #expect(line(p.id, "issued")?.points == expectIssued[p.id], "\(p.id) issued")
            #expect(line(p.id, "issued")?.points == (try Self.ledgerSum(store, Self.october, where: "store_id = '\(p.id)' AND kind IN ('earn', 'reversal')")))
            #expect(line(p.id, "redeemed")?.points == (expectRedeemed[p.id] ?? 0), "\(p.id) redeemed")
            // Money: the test's own rounding of points × rate / 100.
            let issued = expectIssued[p.id]!, redeemed = expectRedeemed[p.id] ?? 0
            #expect(line(p.id, "issued")?.amount == (issued * p.issueRate + 50) / 100)
            #expect(line(p.id, "redeemed")?.amount == -((-redeemed * p.redeemRate + 50) / 100))
        }
        let payouts = try store.cashbackPayouts("2026-Q3")
        #expect(line("bank", "cashback")?.amount == -payouts.reduce(0) { $0 + $1.amount })
        #expect(line("bank", "cashback")?.points == -payouts.reduce(0) { $0 + $1.points })
        #expect(line("cafe", "cashback") == nil)
        print("coalition \(backend): ledger \(settlement.ledgerPoints) points in October; " + settlement.statements.map {
            "\($0.partner.id) issued \($0.lines[0].points) redeemed \($0.lines[1].points) net \($0.net)" }.joined(separator: "; ")
              + "; programme \(settlement.programme.map { "\($0.kind) \($0.points)" })")

        // Closing: not before the period ends; then kept as it was, and closing again does nothing.
        #expect(throws: ServiceError.self) { try store.closeSettlement(try #require(CashbackPeriod.parse("2099-01")), by: "finance") }
        let closed = try store.closeSettlement(Self.october, by: "finance")
        #expect(closed.closed && closed.statements.map(\.lines) == settlement.statements.map(\.lines))
        #expect(try store.closeSettlement(Self.october, by: "someone else").statements.allSatisfy { $0.closedBy == "finance" })
        // A correction to the closed October goes on November's statement, not October's.
        #expect(throws: ServiceError.self) {
            try store.addSettlementCorrection(partner: "cafe", corrects: try #require(CashbackPeriod.parse("2026-11")), amount: 100, note: "open period", by: "finance")
        }
        try store.addSettlementCorrection(partner: "cafe", corrects: Self.october, amount: -1_234, note: "disputed coffee order", by: "finance")
        #expect(try store.settlement(Self.october).statements.map(\.lines) == settlement.statements.map(\.lines))
        let november = try store.settlement(try #require(CashbackPeriod.parse("2026-11")))
        let correction = november.statements.first { $0.partner.id == "cafe" }?.lines.last
        #expect(correction?.kind == "correction" && correction?.amount == -1_234 && correction?.label.contains("2026-10") == true)
        #expect(november.reconciled)
        _ = try store.closeSettlement(try #require(CashbackPeriod.parse("2026-11")), by: "finance")
        #expect(try store.settlement(try #require(CashbackPeriod.parse("2026-12"))).statements.first { $0.partner.id == "cafe" }?.lines.count == 2)
        // The statement as CSV, with its net line.
        let csv = HeadOfficeStore.settlementCSV(st["cafe"]!, currency: .eur)
        #expect(csv.hasPrefix("partner,period,line,kind,label,points,rate_per_100_points,amount\ncafe,2026-10,1,issued,"))
        #expect(csv.contains(",net,owed by Corner Cafe,") || csv.contains(",net,owed to Corner Cafe,"))
        #expect(try CustomerServiceActionsTests.ledgerAgrees(store))
    }
}
