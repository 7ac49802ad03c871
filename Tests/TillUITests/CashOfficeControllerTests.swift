import Foundation
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillTestSupport
@testable import TillUI

@Suite("Cash office at the till")
struct CashOfficeControllerTests {
    @Test func anOverrideWithAWrongPINOrACashiersPINIsRefusedAndRecorded() throws {
        let h = try Harness()
        h.scan("5012345678900")
        h.key(.function(10)); h.key(.enter)
        guard case .override(let r) = h.controller.mode else { Issue.record("no override prompt"); return }
        #expect(r.action == .voidSale)
        h.supervise("9", "0000")
        #expect(h.error == "Supervisor 9 and that PIN do not match: void sale not done")
        #expect(h.controller.sale != nil)
        h.key(.function(10)); h.key(.enter)
        h.supervise("1", "1234")                           // the cashier's own number and PIN
        #expect(h.error == "Demo Cashier (1) is a cashier, not a supervisor: void sale not done")
        #expect(h.controller.sale != nil)
        h.key(.function(10)); h.key(.enter)
        h.supervise()
        #expect(h.controller.sale == nil)
        let trail = try h.db.auditTrail()
        let refused = trail.filter { $0.action == "override-refused" }
        #expect(refused.count == 2)
        #expect(refused.allSatisfy { $0.cashier == "1" && $0.saleID == "00000000-0000-4000-8000-000000000001" })
        #expect(refused.map(\.supervisor) == ["9", "1"])
        let granted = trail.filter { $0.action == "override" }
        #expect(granted.count == 1 && granted[0].cashier == "1" && granted[0].supervisor == "9")
        #expect(trail.contains { $0.action == "void-sale" && $0.supervisor == "9" && $0.cashier == "1" })
        // The Z report counts them.
        let z = try h.db.report(z: true, counted: 0, at: h.clock.now(), till: h.controller.settings.identity) { _ in nil }
        #expect(z.overrides == 1 && z.overridesRefused == 2 && z.cancelledSales == 1)
    }

    @Test func aDiscountAboveTheLimitNeedsASupervisorAndAPriceOverrideToo() throws {
        let h = try Harness()
        h.scan("4006381333931")                           // pens 1.49
        h.keyed("25%", .function(3))
        #expect(h.controller.mode == .reason(.discount(isSale: false, line: 1, discount: .percent(basisPoints: 2_500))))
        h.key(.char("4"))                                 // Manager's decision
        guard case .override(let r) = h.controller.mode else { Issue.record("no override prompt"); return }
        #expect(r.detail.hasSuffix("(Manager's decision)"), "\(r.detail)")
        #expect(r.action == .discountAboveLimit)
        h.key(.escape)
        #expect(h.controller.basket?.totals.lineDiscounts == 0)
        h.keyed("25%", .function(3))
        h.key(.char("4"))
        h.supervise()
        #expect(h.controller.basket?.totals.lineDiscounts == 37)
        #expect(try h.db.auditTrail().contains { $0.action == "line-discount" && $0.detail == "line 1: 25% (Manager's decision)" && $0.supervisor == "9" })
        h.keyed("10%", .function(3))                      // within the limit: no supervisor
        h.key(.char("2"))
        #expect(h.controller.mode == .selling)
        #expect(h.controller.basket?.totals.lineDiscounts == 15)
        h.keyed("0.99", .ctrl("k"))
        #expect(h.controller.mode == .reason(.priceOverride(line: 1, unitPrice: 99)))
        h.type("1")                                       // Price match
        h.supervise()
        #expect(h.controller.basket?.lines[0].item.unitPrice == 99)
        #expect(try h.db.auditTrail().contains { $0.action == "price-override" && $0.supervisor == "9" })
    }

    /// A price override is given a reason from the till's list; the line keeps the price it had
    /// ("was") and the reason, on the receipt, in the document head office gets and in the audit
    /// trail. Esc at the reason changes nothing.
    @Test func aPriceOverrideHasAReasonAndTheReceiptSaysWhatItWas() throws {
        let h = try Harness()
        h.scan("4006381333931")                           // 1.49
        h.keyed("1.00", .ctrl("k"))
        #expect(h.controller.message?.text == "Why change line 1's price to 1.00? Key the reason's number")
        h.type("7")
        #expect(h.error == "Key the reason's number, 1 to 4; Esc goes back")
        h.key(.escape)
        #expect(h.controller.message?.text == "Price override not done")
        #expect(h.controller.basket?.lines[0].item.unitPrice == 149)
        h.keyed("1.00", .ctrl("k"))
        h.type("3")                                       // Wrong shelf label
        h.supervise()
        #expect(h.controller.message?.text == "Line 1: price 1.00 (Wrong shelf label)")
        // Twice: "was" stays the catalog's price.
        h.keyed("0.90", .ctrl("k")); h.type("1"); h.supervise()
        let item = try #require(h.controller.basket?.lines[0].item)
        #expect(item.unitPrice == 90 && item.listPrice == 149 && item.overrideReason == "Price match")
        h.key(.function(6))
        guard case .receipt(let r) = h.controller.mode else { Issue.record("no sale: \(h.error ?? "")"); return }
        let doc = try #require(try h.db.saleDocuments().first { $0.saleID == r.sale.id })
        #expect(doc.lines[0].priceOverride == SaleDocument.PriceOverrideInfo(listPrice: 149, reason: "Price match"))
        let again = try h.db.completedSale(receipt: r.sale.receiptNumber, till: h.controller.settings.identity)
        #expect(again?.basket.lines[0].item.listPrice == 149, "kept through the document")
        #expect(try h.db.auditTrail().filter { $0.action == "price-override" }.map(\.detail)
                == ["line 1: 1.00 (was 1.49; Wrong shelf label)", "line 1: 0.90 (was 1.00; Price match)"])
    }

    @Test func aReturnByReceiptTakesBackThePointsAndCannotBeRepeated() throws {
        let h = try Harness(loyalty: true, prompt: false)
        h.scan("5012345678900")                          // milk 1.19, dairy double points
        h.scan("4000000000013")                          // coffee 6.99, 10 points a pack
        h.scan(DemoCatalog.cardNumber(1))
        let before = h.customer!.balance
        h.key(.function(5)); h.key(.function(6))
        guard case .receipt(let r) = h.controller.mode, let outcome = r.sale.loyalty else { Issue.record("no sale"); return }
        let earned = outcome.earned.total
        // The return: scan the receipt's barcode, choose the coffee (line 2), refund.
        h.key(.ctrl("u"))
        h.scan(r.sale.receiptNumber)
        guard case .returnLines = h.controller.mode else { Issue.record("no return screen: \(h.error ?? "")"); return }
        h.keyed("2", .enter)
        h.key(.function(5))
        h.key(.char("1"))                                 // Faulty
        h.supervise()
        guard case .document(let slip) = h.controller.mode else { Issue.record("no refund: \(h.error ?? "")"); return }
        #expect(slip.title == "REFUND 0001-01-R00001")
        let refunds = try h.db.outboxPayloads(kind: "refund").map { try JSONDecoder().decode(RefundDocument.self, from: Data($0.utf8)) }
        #expect(refunds.count == 1)
        #expect(refunds[0].total == 699)
        #expect(refunds[0].supervisor == "9")
        // Coffee earned 6 base points (of 8.18 -> 8) and its 10 a pack: kept milk 1.19 earns 1 + 1 (double dairy) = 2.
        let kept = DemoCatalog.programme.award(for: try {
            var b = Basket(currency: .eur)
            try b.apply(.addLine(item: r.sale.basket.lines[0].item))
            return b
        }(), context: outcome.context).total
        #expect(refunds[0].loyalty?.pointsTakenBack == (earned - kept).count)
        #expect(h.controller.message?.text == "Refund 0001-01-R00001: give 6.99 cash; \(earned - kept) points taken back")
        guard case .member(let after) = try h.db.lookupCard(DemoCatalog.cardNumber(1), programme: DemoCatalog.programme, now: h.clock.now()) else { return }
        #expect(after.balance == before + kept)
        // Again: refused, nothing written.
        h.key(.escape)
        h.key(.ctrl("u"))
        h.scan(r.sale.receiptNumber)
        h.keyed("2", .enter)
        #expect(h.error == "Line 2 (\(r.sale.basket.lines[1].item.description)) has already been returned in full: it cannot be returned twice")
        #expect(try h.db.outboxPayloads(kind: "refund").count == 1)
        // An unknown receipt says so.
        h.key(.escape); h.key(.ctrl("u"))
        h.scan("0001-01-999999")
        #expect(h.error?.hasPrefix("No sale with receipt 0001-01-999999") == true)
    }

    /// Money going back to a card is done on the card terminal: the till asks for the terminal's
    /// reference before it makes the refund, and the refund (slip, document) carries it.
    @Test func aCardRefundAsksForTheTerminalsReferenceAndKeepsIt() throws {
        let h = try Harness()
        h.scan("4000000000013")                          // coffee 6.99
        h.key(.function(5))
        h.key(.function(7))                              // card, all due
        h.keyed("PAY1", .enter)
        guard case .receipt(let r) = h.controller.mode else { Issue.record("no sale: \(h.error ?? "")"); return }
        h.key(.ctrl("u"))
        h.scan(r.sale.receiptNumber)
        h.keyed("1", .enter)
        h.key(.function(5))
        // The reason before anything is done on the card terminal; Esc there goes back with nothing done.
        guard case .reason(.refund) = h.controller.mode else { Issue.record("no reason prompt: \(String(describing: h.controller.mode))"); return }
        h.key(.escape)
        guard case .returnLines = h.controller.mode else { Issue.record("not back at the lines"); return }
        h.key(.function(5))
        h.key(.char("2"))                                 // Wrong size or colour
        h.supervise()
        guard case .refundCardReference(let step) = h.controller.mode else { Issue.record("no reference prompt: \(String(describing: h.controller.mode))"); return }
        #expect(step.amount == 699)
        #expect(h.controller.message?.text == "Refund 6.99 to the customer's card on the card terminal, then key its reference and Enter")
        #expect(try h.db.outboxPayloads(kind: "refund").isEmpty, "nothing is refunded before the terminal has done it")
        // Going back makes no refund; a bad reference is refused.
        h.key(.escape)
        guard case .returnLines = h.controller.mode else { Issue.record("Esc did not go back to the return"); return }
        #expect(try h.db.outboxPayloads(kind: "refund").isEmpty)
        h.key(.function(5))
        h.supervise()
        h.key(.enter)
        #expect(h.error != nil)
        h.keyed("RF-778", .enter)
        guard case .document = h.controller.mode else { Issue.record("no refund: \(h.error ?? "")"); return }
        #expect(h.controller.message?.text == "Refund 0001-01-R00001: 6.99 back to the card (ref RF-778)")
        let refunds = try h.db.outboxPayloads(kind: "refund").map { try JSONDecoder().decode(RefundDocument.self, from: Data($0.utf8)) }
        #expect(refunds.map(\.tenders) == [[RefundDocument.Tender(kind: "card", amount: 699, reference: "RF-778", points: nil)]])
        #expect(try h.db.completedRefund(receipt: "R1", till: h.controller.settings.identity)?.plan.tenders.first?.reference == "RF-778")
    }

    @Test func aRefundWithoutAReceiptNeedsASupervisorAndPaysCash() throws {
        let h = try Harness()
        h.key(.ctrl("u")); h.key(.ctrl("u"))
        guard case .override(let r) = h.controller.mode else { Issue.record("no override prompt"); return }
        #expect(r.action == .refundWithoutReceipt)
        h.supervise()
        h.scan("4006381333931")
        h.key(.function(5))
        h.key(.char("9"))                                 // not a reason: said so, nothing refunded
        #expect(h.error == "Key the reason's number, 1 to 4; Esc goes back")
        h.key(.char("3"))                                 // Changed mind
        guard case .document(let slip) = h.controller.mode else { Issue.record("no refund: \(h.error ?? "")"); return }
        #expect(h.controller.message?.text == "Refund 0001-01-R00001: give 1.49 cash")
        _ = slip
        let doc = try #require(try h.db.outboxPayloads(kind: "refund").map { try JSONDecoder().decode(RefundDocument.self, from: Data($0.utf8)) }.first)
        #expect(doc.reason == "Changed mind")
        #expect(try h.db.completedRefund(receipt: "0001-01-R00001", till: h.controller.settings.identity)?.reason == "Changed mind")
        let x = try h.db.report(z: false, counted: nil, at: h.clock.now(), till: h.controller.settings.identity) { _ in nil }
        #expect(x.refundsWithoutReceipt == 1 && x.refundsValue == 149 && x.cash.expected == -149)
    }

    /// A till set to take the total only (no denominations) keys it; a count past what a drawer
    /// holds is refused, not wrapped.
    @Test func withoutDenominationsTheTotalIsKeyedAndAHugeCountIsRefused() throws {
        let h = try Harness()
        h.controller.settings.denominations = []
        h.key(.ctrl("o")); h.type("7")
        #expect(h.controller.mode == .closeCount)
        h.keyed("4649", .enter)
        #expect(h.controller.mode == .confirmClose(counted: 4649, parked: 0))
        h.key(.escape)
        #expect(h.controller.mode == .closeCount)
        h.key(.escape)
        #expect(h.controller.mode == .cashOffice)
        h.key(.escape)
        h.controller.settings.denominations = [Money.maximumMinor, 1]
        h.key(.ctrl("o")); h.type("7")
        h.keyed("2", .enter)
        h.key(.function(5))
        #expect(h.error == "The count comes to more than a drawer can hold: check the numbers keyed")
        guard case .denominationCount = h.controller.mode else { Issue.record("count lost"); return }
    }

    @Test func floatPickupAndABlindCountCloseTheDay() throws {
        let h = try Harness()
        h.key(.ctrl("o")); h.type("1"); h.keyed("15000", .enter)   // float 150.00
        #expect(h.controller.message?.text == "Opening float 150.00 recorded")
        h.scan("4006381333931"); h.key(.function(5)); h.keyed("2000", .function(6))   // 1.49 cash
        h.key(.escape)
        h.key(.ctrl("o")); h.type("2"); h.keyed("10000", .enter)   // pickup 100.00
        h.key(.ctrl("o")); h.type("4"); h.keyed("500", .enter); h.keyed("window cleaner", .enter)
        #expect(h.controller.message?.text == "Paid out 5.00 recorded")
        h.key(.ctrl("o")); h.type("5"); h.keyed("change for the market", .enter)
        h.supervise()
        #expect(h.controller.message?.text == "Drawer open (no sale)")
        h.key(.ctrl("o")); h.type("7")
        guard case .denominationCount(let start) = h.controller.mode else { Issue.record("no count: \(h.controller.mode)"); return }
        #expect(start.denominations.first == 10_000 && start.counts.allSatisfy { $0 == 0 })
        #expect(h.controller.message?.text.hasPrefix("How many of 100.00?") == true)
        // 150 + 1.49 - 100 - 5 = 46.49: two 20s, a 5, a 1, two 0.20s, a 0.05 and two 0.02s.
        for count in ["", "", "2", "", "1", "", "1", "", "2", "", "1"] { h.keyed(count, .enter) }
        h.type("999999"); h.key(.enter)                            // not a number of coins: said so, not taken
        #expect(h.error == "'999999' is not a number of notes or coins: key 0 to 100000, then Enter")
        h.keyed("2", .enter)                                        // 0.02 x 2
        h.key(.up); h.key(.up)
        guard case .denominationCount(let counted) = h.controller.mode else { Issue.record("count lost"); return }
        #expect(counted.selected == 10 && counted.total == 4649)
        h.key(.function(5))
        // Closing the day asks first; Esc goes back to the count as it was and closes nothing.
        #expect(h.controller.mode == .confirmClose(counted: 4649, parked: 0))
        #expect(h.controller.message?.text == "Close the day with 46.49 counted? Enter closes it; Esc counts again")
        #expect(try h.db.auditTrail().contains {
            $0.action == "cash-count" && $0.detail == "20.00 x 2, 5.00 x 1, 1.00 x 1, 0.20 x 2, 0.05 x 1, 0.02 x 2; total 46.49"
        })
        h.key(.escape)
        guard case .denominationCount(let again) = h.controller.mode else { Issue.record("not back at the count"); return }
        #expect(again.total == 4649)
        #expect(try h.db.zReports().isEmpty)
        h.key(.function(5))
        h.key(.enter)
        guard case .document(let v) = h.controller.mode else { Issue.record("no Z: \(h.error ?? "")"); return }
        #expect(v.title == "Z REPORT 1")
        #expect(h.controller.message?.text == "Z report 1: 1 sales, net 1.49; the drawer balances")
        h.key(.escape)
        // A parked sale: the till says so before the day is closed, and it stays parked.
        h.scan("5012345678900"); h.key(.function(9))
        h.key(.ctrl("o")); h.type("7"); h.key(.function(5))
        #expect(h.controller.mode == .confirmClose(counted: 0, parked: 1))
        #expect(h.controller.message?.text.hasPrefix("1 parked sale is waiting: finish or cancel it first, or it goes into tomorrow's report.") == true)
        #expect(h.controller.message?.isError == true)
        h.key(.enter)
        #expect(h.controller.message?.text == "Z report 2: 0 sales, net 0.00; the drawer balances")
        #expect(try h.db.suspendedSales().count == 1)
    }

    @Test func theTillLocksWhenIdleAndOnlyThePINUnlocksIt() throws {
        let h = try Harness(autoLockMilliseconds: 60_000)
        h.scan("4006381333931")
        for _ in 0..<100 { h.controller.tick() }                  // the clock steps 1 s a call
        #expect(h.controller.isLocked)
        h.scan("4006381333931")
        #expect(h.error?.hasPrefix("The till is locked") == true)
        h.keyed("9999", .enter)
        #expect(h.controller.isLocked)
        h.keyed("1234", .enter)
        #expect(h.controller.mode == .selling)
        #expect(h.controller.basket?.lines.count == 1)
        #expect(try h.db.auditTrail().map(\.action).suffix(3) == ["lock", "unlock-refused", "unlock"])
    }

    /// Three wrong PINs in a row lock a cashier number, across a restart, until a supervisor
    /// unlocks it; the supervisor prompt's PIN is counted the same way.
    @Test func wrongPINsLockTheNumberUntilASupervisorUnlocksIt() throws {
        let h = try Harness(signedOn: false)
        h.signOn("1", "0000")
        #expect(h.error == "Cashier 1 and that PIN do not match (2 more wrong PINs lock it): key your cashier number again")
        h.signOn("1", "1111")
        #expect(h.error == "Cashier 1 and that PIN do not match (one more wrong PIN locks it): key your cashier number again")
        h.signOn("1", "2222")
        guard case .override(let r) = h.controller.mode else { Issue.record("not locked: \(h.error ?? "")"); return }
        #expect(r.action == .unlockCashier)
        #expect(h.error?.hasPrefix("Cashier 1 is locked after 3 wrong PINs: a supervisor unlocks it") == true)
        // Esc goes back; the right PIN is refused while locked, also after a restart.
        h.key(.escape)
        h.signOn("1", "1234")
        guard case .override = h.controller.mode else { Issue.record("the right PIN signed a locked number on"); return }
        h.key(.escape)
        let restarted = Harness.makeController(db: h.db, receipts: h.receipts, ids: h.ids, clock: h.clock)
        for c in "1" { restarted.handle(.key(.char(c))) }
        restarted.handle(.key(.enter))
        for c in "1234" { restarted.handle(.key(.char(c))) }
        restarted.handle(.key(.enter))
        guard case .override = restarted.mode else { Issue.record("a restart unlocked the number"); return }
        restarted.handle(.key(.escape))
        // The locked supervisor cannot unlock another with a guessed PIN: those count too.
        h.signOn("1", "1234")
        h.supervise("9", "0000"); h.signOn("1", "1234")
        h.supervise("9", "0001"); h.signOn("1", "1234")
        h.supervise("9", "0002")
        h.signOn("1", "1234")
        h.supervise("9", "9999")
        #expect(h.error == "Supervisor 9 is locked after wrong PINs: another supervisor unlocks it at sign-on")
        // Unlocked by hand here (as another supervisor would): 9 unlocks 1; 1 signs on.
        try h.db.unlock(number: "9")
        h.signOn("1", "1234")
        h.supervise()
        #expect(h.controller.message?.text == "Cashier 1 unlocked: key your cashier number and PIN")
        h.signOn("1", "1234")
        #expect(h.controller.mode == .selling)
        let trail = try h.db.auditTrail().map { "\($0.action) \($0.supervisor ?? "-") \($0.detail)" }
        #expect(trail.contains("sign-on-locked - cashier 1: locked after 3 wrong PINs"))
        #expect(trail.contains("cashier-unlocked 9 cashier 1"))
    }

    /// A locked supervisor's number authorises nothing, its own unlocking included.
    @Test func aLockedSupervisorCannotUnlockTheirOwnNumber() throws {
        let h = try Harness(signedOn: false)
        for pin in ["0000", "1111", "2222"] { h.signOn("9", pin) }
        guard case .override = h.controller.mode else { Issue.record("not locked"); return }
        h.supervise("9", "9999")
        #expect(h.error == "Supervisor 9 is locked after wrong PINs: another supervisor unlocks it at sign-on")
        guard case .signOn = h.controller.mode else { Issue.record("not back at sign-on"); return }
    }
}
