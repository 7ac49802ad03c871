import Foundation
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillTestSupport
@testable import TillUI

/// Records receipts instead of rendering and printing them.
final class CapturingReceipts: ReceiptPrinting, @unchecked Sendable { // only touched from the test's thread
    var sales: [CompletedSale] = []
    var reprints: [String] = []
    var problem: String?
    var slips: [Registration] = []
    var queuedCount = 0
    func registrationSlip(for registration: Registration, welcome: Points, programmeName: String) -> PrintJobDraft? {
        slips.append(registration)
        return PrintJobDraft(kind: .registration, receiptNumber: nil, payload: Array("SLIP \(registration.cardNumber) +\(welcome)".utf8))
    }
    func queued() { queuedCount += 1 }
    func receiptJob(for sale: CompletedSale) -> PrintJobDraft? {
        PrintJobDraft(kind: .receipt, receiptNumber: sale.receiptNumber, payload: Array(sale.receiptNumber.utf8))
    }
    func saleCompleted(_ sale: CompletedSale) -> [String] {
        sales.append(sale)
        return ["RECEIPT \(sale.receiptNumber)"]
    }
    func reprint(_ sale: CompletedSale) throws { reprints.append(sale.receiptNumber) }
    var statusLine: String { "test" }
    func takeProblem() -> String? {
        defer { problem = nil }
        return problem
    }
}

/// A controller over a real database in a temporary directory.
final class Harness {
    let dir = TemporaryDirectory()
    let db: TillDatabase
    let receipts = CapturingReceipts()
    let controller: TillController
    let ids = SequentialIDs()
    let clock = SteppingClock()

    /// `loyalty`: the demo programme and cards (10 members, 5 stock cards) and the prompt at total.
    /// `directory`: the loyalty directory in the database's place.
    init(signedOn: Bool = true, loyalty: Bool = false, prompt: Bool = true, autoLockMilliseconds: Int64 = 0,
         directory: ((TillDatabase) -> any LoyaltyDirectory)? = nil) throws {
        db = try makeDemoDatabase(in: dir)
        if loyalty {
            try db.installProgramme(DemoCatalog.programme, at: clock.now())
            try db.importCards(DemoCatalog.cards(members: 10, stock: 5))
        }
        controller = Self.makeController(db: db, receipts: receipts, ids: ids, clock: clock, loyalty: loyalty, prompt: prompt,
                                         autoLockMilliseconds: autoLockMilliseconds, directory: directory?(db))
        if signedOn { signOn() }
    }

    static func makeController(
        db: TillDatabase, receipts: CapturingReceipts, ids: SequentialIDs, clock: SteppingClock, loyalty: Bool = false, prompt: Bool = true,
        autoLockMilliseconds: Int64 = 0, directory: (any LoyaltyDirectory)? = nil
    ) -> TillController {
        var settings = TillSettings(
            identity: TillIdentity(storeID: "0001", storeName: "Demo Store", tillID: "01", currency: .eur),
            taxRates: standardTaxRates, barcodeRules: BarcodeRules(), keymap: .standard, loyaltyPromptAtTotal: prompt)
        settings.autoLockMilliseconds = autoLockMilliseconds
        return TillController(
            settings: settings,
            environment: TillEnvironment(
                catalog: db, cashiers: db, journal: db, printer: receipts,
                now: { clock.now() }, makeSaleID: { ids.next() }, loyalty: loyalty ? directory ?? db : nil, cashOffice: db, updates: db))
    }

    func signOn(_ number: String = "1", _ pin: String = "1234") {
        type(number)
        key(.enter)
        type(pin)
        key(.enter)
    }

    func type(_ s: String) { for c in s { controller.handle(.key(.char(c))) } }
    /// A supervisor keys their number and PIN at the override prompt.
    func supervise(_ number: String = "9", _ pin: String = "9999") {
        type(number)
        key(.enter)
        type(pin)
        key(.enter)
    }
    func key(_ k: Key) { controller.handle(.key(k)) }
    func scan(_ code: String) { controller.handle(.scan(code)) }
    /// Keys `text` then presses `k`.
    func keyed(_ text: String, _ k: Key) {
        type(text)
        key(k)
    }

    var error: String? { controller.message?.isError == true ? controller.message?.text : nil }
    var total: Int64 { controller.basket?.totals.total ?? 0 }
    var events: Int { controller.sale?.events.count ?? 0 }
}

@Suite("Till controller")
struct TillControllerTests {
    @Test func signOnNeedsTheRightPIN() throws {
        let h = try Harness(signedOn: false)
        h.signOn("1", "0000")
        #expect(h.controller.mode == .signOn(cashierNumber: nil))
        #expect(h.error == "Cashier 1 and that PIN do not match (2 more wrong PINs lock it): key your cashier number again")
        h.scan("5012345678900")
        #expect(h.error == "Sign on before scanning items")
        h.signOn()
        #expect(h.controller.mode == .selling)
        #expect(h.controller.cashier == DemoCatalog.cashier)
    }

    @Test func aWholeSaleWithQuantityWeightLabelsVoidDiscountAndCash() throws {
        let h = try Harness()
        h.scan("5012345678900")                          // milk 1.19
        h.keyed("3", .char("*")); h.scan("4006381333931") // 3 pens 4.47
        h.keyed("0.750", .char("*")); h.keyed("1", .enter) // bananas 0.750 kg 1.49
        h.scan("2100042012509")                          // cheese label 1.250 kg 16.13
        h.scan("2300012009953")                          // salad label 9.95
        #expect(h.total == 119 + 447 + 149 + 1613 + 995)
        h.keyed("1", .function(2))                       // void the milk
        h.key(.up)                                       // select the cheese (line 4)
        h.keyed("10%", .function(3))                     // -1.61
        h.key(.char("1"))                                // reason: Damaged item
        #expect(h.controller.basket?.totals.lineDiscounts == 161)
        #expect(h.controller.basket?.lines[3].discountReason == "Damaged item")
        #expect(h.controller.message?.text == "Line 4: discount 10% (Damaged item)")
        #expect(h.total == 447 + 149 + 1452 + 995)
        h.key(.function(5))
        #expect(h.controller.totalled)
        h.keyed("5000", .function(6))
        #expect(h.controller.sale == nil)
        guard case .receipt(let r) = h.controller.mode else { Issue.record("no receipt"); return }
        #expect(r.sale.totals.change == 5000 - 3043)
        #expect(h.controller.message?.text == "Change 19.57. Sale 0001-01-000001 complete.")
        let docs = try h.db.saleDocuments()
        #expect(docs.count == 1)
        #expect(docs[0].totals.total == 3043)
        #expect(docs[0].lines.map(\.voided) == [true, false, false, false, false])
        #expect(h.controller.nextSaleNumber == 2)
        // The receipt job went into the journal with the sale.
        #expect(try h.db.receiptJob(saleID: docs[0].saleID)?.payload == Array("0001-01-000001".utf8))
    }

    @Test func reprintQueuesACopyOfTheLastReceiptEvenAfterARestart() throws {
        let h = try Harness()
        h.key(.ctrl("r"))
        #expect(h.error == "There is no receipt to reprint yet")
        h.scan("5012345678900"); h.key(.function(6))
        h.key(.ctrl("r"))
        #expect(h.receipts.reprints == ["0001-01-000001"])
        #expect(h.controller.message?.text == "Copy of receipt 0001-01-000001 sent to the printer")
        let again = Harness.makeController(db: try TillDatabase(path: h.db.path), receipts: h.receipts, ids: h.ids, clock: h.clock)
        for c in "1" { again.handle(.key(.char(c))) }
        again.handle(.key(.enter))
        for c in "1234" { again.handle(.key(.char(c))) }
        again.handle(.key(.enter))
        again.handle(.key(.function(11)))
        #expect(h.receipts.reprints == ["0001-01-000001", "0001-01-000001"])
    }

    @Test("bad input leaves the sale as it was and quotes the value", arguments: [
        ("9999999999999", "Barcode 9999999999999 failed its check digit (expected 4): scan again or key the PLU"),
        ("5000000000005", "No product has barcode 5000000000005: check the item, or key its PLU"),
        ("777777", "No product has PLU 777777: check the number, or scan the item"),
        ("1234567", "'1234567' is not a PLU (1-6 digits) or a barcode (8, 12, 13 or 14 digits): key it again"),
    ])
    func badCodes(code: String, message: String) throws {
        let h = try Harness()
        h.scan("5012345678900")
        let before = h.controller.sale
        h.keyed(code, .enter)
        #expect(h.error == message)
        #expect(h.controller.sale == before)
        #expect(h.controller.bell)
    }

    @Test("quantities out of range are refused", arguments: [("0", "Quantity 0 is out of range: key 1 to 9999, then *"),
                                                             ("10000", "Quantity 10000 is out of range: key 1 to 9999, then *"),
                                                             ("1..2", "Quantity '1..2' is not a number: key e.g. 3 * (or 0.750 * for a weight)")])
    func quantityRange(text: String, message: String) throws {
        let h = try Harness()
        h.keyed(text, .char("*"))
        #expect(h.error == message)
        #expect(h.controller.pendingQuantity == nil)
    }

    @Test func aWeighedItemNeedsAWeightAndAUnitItemAWholeQuantity() throws {
        let h = try Harness()
        h.keyed("42", .enter)
        #expect(h.error == "Cheddar cheese is sold by weight: key the weight in kg first, e.g. 0.350 * then the item")
        h.keyed("1.5", .char("*")); h.scan("5012345678900")
        #expect(h.error == "Milk 1L is sold by unit: quantity 1.500 must be whole")
        #expect(h.controller.sale == nil)
        #expect(h.controller.pendingQuantity == nil)
    }

    /// "N * Enter" changes the selected line's quantity (the last line's when none is selected);
    /// weighed and label-priced lines keep theirs; the change survives a restart and is audited.
    @Test func aLineAlreadyRungChangesQuantity() throws {
        let h = try Harness()
        h.scan("5012345678900")                               // milk 1.19
        h.scan("4006381333931")                               // 1.49
        h.keyed("3", .char("*")); h.key(.enter)
        #expect(h.controller.sale?.basket.lines.map(\.item.quantity) == [.one, .units(3)])
        #expect(h.controller.message?.text == "Line 2: 3 x \(h.controller.sale!.basket.lines[1].item.description) 4.47")
        h.key(.up); h.key(.up)                               // line 1
        h.keyed("2", .char("*")); h.key(.enter)
        #expect(h.controller.sale?.basket.lines.map(\.amount) == [238, 447])
        #expect(h.controller.sale?.basket.totals.total == 685)
        h.keyed("1.5", .char("*")); h.key(.enter)
        #expect(h.error == "Milk 1L is sold by unit: quantity 1.500 must be whole")
        h.keyed("0.750", .char("*")); h.keyed("1", .enter)   // bananas by weight
        h.keyed("2", .char("*")); h.key(.enter)
        #expect(h.error?.hasPrefix("Line 3 (") == true && h.error?.hasSuffix("is weighed or priced by its label: its quantity cannot change; void it and ring it again") == true)
        #expect(h.controller.sale?.basket.lines.count == 3)
        // Kept across a restart (the events are replayed).
        let before = h.controller.sale?.basket
        let again = Harness.makeController(db: try TillDatabase(path: h.db.path), receipts: h.receipts, ids: h.ids, clock: h.clock)
        for c in "1" { again.handle(.key(.char(c))) }
        again.handle(.key(.enter))
        for c in "1234" { again.handle(.key(.char(c))) }
        again.handle(.key(.enter))
        #expect(again.sale?.basket == before)
        #expect(try h.db.auditTrail().filter { $0.action == "quantity-change" }.map(\.detail)
                == ["line 2 \(before!.lines[1].item.description): 1 -> 3", "line 1 Milk 1L: 1 -> 2"])
        // Once payment has started, no more.
        h.keyed("500", .function(8)); h.key(.function(6))
        h.keyed("5", .char("*")); h.key(.enter)
        #expect(h.error == "Payment has started: finish the payment, or cancel the sale")
    }

    /// With payment started, the void key takes the last tender off (not the sale): the
    /// cashier is told what to give back, the rest is paid another way, and only what stayed is
    /// on the sale.
    @Test func theLastTenderComesOffWithoutCancellingTheSale() throws {
        let h = try Harness()
        h.scan("5012345678900"); h.scan("4006381333931")      // 1.19 + 1.49 = 2.68
        h.key(.function(5))
        h.key(.function(8))                                   // split
        h.keyed("100", .function(7)); h.keyed("AUTH9", .enter) // card 1.00
        #expect(h.controller.sale?.basket.totals.due == 168)
        h.key(.function(2))
        #expect(h.controller.message?.text == "Card 1.00 taken off: reverse it on the card terminal (ref AUTH9). 2.68 due")
        #expect(h.controller.sale?.basket.tenders.isEmpty == true)
        #expect(h.controller.sale?.basket.lines.allSatisfy { !$0.voided } == true, "the void key took no line off")
        // Taken off for good: a restart replays it.
        let again = Harness.makeController(db: try TillDatabase(path: h.db.path), receipts: h.receipts, ids: h.ids, clock: h.clock)
        for c in "1" { again.handle(.key(.char(c))) }
        again.handle(.key(.enter))
        for c in "1234" { again.handle(.key(.char(c))) }
        again.handle(.key(.enter))
        #expect(again.sale?.basket.tenders.isEmpty == true)
        h.key(.function(6))                                   // all in cash
        guard case .receipt(let r) = h.controller.mode else { Issue.record("not completed: \(h.error ?? "")"); return }
        #expect(r.sale.basket.tenders == [Tender(kind: .cash, amount: 268)])
        #expect(try h.db.auditTrail().contains { $0.action == "tender-removed" && $0.detail == "Card 1.00 ref AUTH9" })
    }

    /// Ctrl-T finds a product by words of its name or category in any order and adds it with
    /// Enter; a scan there is a price check that adds nothing.
    @Test func aProductIsFoundByNameAndAScanThereOnlyChecksItsPrice() throws {
        let h = try Harness()
        h.key(.ctrl("t"))
        guard case .productLookup = h.controller.mode else { Issue.record("no lookup"); return }
        h.scan("4000000000013")
        #expect(h.controller.message?.text == "Price check: Coffee beans 500g 6.99 (not added)")
        #expect(h.controller.sale == nil)
        h.type("BEANS cof"); h.key(.enter)
        guard case .productLookup(let found) = h.controller.mode else { Issue.record("no results"); return }
        #expect(found.results.map(\.description).contains("Coffee beans 500g"))
        #expect(found.results.allSatisfy { $0.description.lowercased().contains("bean") })
        let coffee = try #require(found.results.firstIndex { $0.description == "Coffee beans 500g" })
        for _ in 0..<coffee { h.key(.down) }
        h.key(.enter)
        #expect(h.controller.mode == .selling)
        #expect(h.controller.sale?.basket.lines.map(\.item.sku) == ["F0015"])
        // By category; a weighed product needs its weight first; nothing found says so.
        h.key(.ctrl("t")); h.type("bakery croiss"); h.key(.enter)
        guard case .productLookup(let bakery) = h.controller.mode else { Issue.record("no results"); return }
        #expect(bakery.results.map(\.description) == ["Croissant"])
        h.key(.escape)
        h.key(.ctrl("t")); h.type("banana"); h.key(.enter); h.key(.enter)
        #expect(h.error == "Bananas is sold by weight: key the weight in kg first, e.g. 0.350 * then the item")
        h.keyed("0.500", .char("*")); h.key(.ctrl("t")); h.type("banana"); h.key(.enter); h.key(.enter)
        #expect(h.controller.sale?.basket.lines.last?.item.quantity == Quantity(milli: 500))
        h.key(.ctrl("t")); h.type("100% zzz"); h.key(.enter)
        #expect(h.error == "No product matches '100% zzz': try fewer or shorter words, or the category")
        #expect(h.controller.sale?.basket.lines.count == 2)
    }

    @Test func discountAboveTheLineValueIsRefused() throws {
        let h = try Harness()
        h.scan("5012345678900")
        h.keyed("2.00", .function(3))
        #expect(h.error == "Discount 2.00 is more than line 1's value 1.19: key a smaller discount")
        #expect(h.events == 1)
    }

    @Test func tenderLessThanDueNeedsSplit() throws {
        let h = try Harness()
        h.scan("5012345678900"); h.scan("4006381333931")   // 2.68
        h.keyed("200", .function(6))
        #expect(h.error == "Cash 2.00 is less than the 2.68 due: key at least 2.68, or press Split to pay part")
        #expect(h.controller.basket?.tenders.isEmpty == true)
        h.key(.function(8))
        h.keyed("200", .function(6))
        #expect(h.controller.basket?.totals.due == 68)
        h.key(.function(7))                                  // card for the rest
        #expect(h.controller.mode == .cardReference(amount: 68))
        h.type("ref!")
        #expect(h.error == "Key the card terminal's reference and Enter, or Esc to go back")
        #expect(h.controller.input == "ref")
        h.key(.escape)
        #expect(h.controller.mode == .selling)
        h.key(.function(7))
        h.key(.enter)
        #expect(h.error == "Card reference '' is not valid: key the reference the card terminal printed (letters and digits)")
        #expect(h.controller.mode == .cardReference(amount: 68)) // still asking
        #expect(h.controller.basket?.totals.due == 68)
        h.keyed("AUTH-0042", .enter)
        guard case .receipt(let r) = h.controller.mode else { Issue.record("not completed: \(String(describing: h.error))"); return }
        #expect(r.sale.basket.tenders == [Tender(kind: .cash, amount: 200), Tender(kind: .card, amount: 68, reference: "AUTH-0042")])
    }

    @Test func cardCannotExceedWhatIsDue() throws {
        let h = try Harness()
        h.scan("5012345678900")
        h.keyed("500", .function(7))
        #expect(h.error == "Card 5.00 is more than the 1.19 due: only cash can give change")
        #expect(h.controller.mode == .selling)
    }

    @Test func suspendAndResume() throws {
        let h = try Harness()
        h.scan("5012345678900"); h.scan("96385074")
        let open = h.controller.sale
        h.key(.function(9))
        #expect(h.controller.sale == nil)
        h.scan("4006381333931")
        h.key(.function(6))                                   // another customer pays exact cash
        h.key(.escape)
        h.key(.function(9))                                   // resume list
        guard case .resumeList(let list, _) = h.controller.mode else { Issue.record("no list"); return }
        #expect(list.count == 1)
        h.key(.enter)
        #expect(h.controller.sale?.basket == open?.basket)
        #expect(h.controller.sale?.id == open?.id)
    }

    @Test func cancellingAsksFirst() throws {
        let h = try Harness()
        h.scan("5012345678900")
        h.key(.function(10))
        #expect(h.controller.mode == .confirmCancel)
        h.key(.escape)
        #expect(h.controller.sale != nil)
        h.key(.function(10)); h.key(.enter)
        // Voiding a sale needs a supervisor.
        #expect(h.controller.sale != nil)
        h.supervise()
        #expect(h.controller.sale == nil)
        #expect(try h.db.saleDocuments().isEmpty)
    }

    @Test func signingOffNeedsTheSaleFinished() throws {
        let h = try Harness()
        h.scan("5012345678900")
        h.key(.function(12))
        #expect(h.error == "Finish, suspend (F9) or cancel (F10) the sale before signing off")
        h.key(.function(6))
        h.key(.function(12))
        #expect(h.controller.mode == .signOn(cashierNumber: nil))
    }

    @Test func theOpenSaleIsBackAfterARestart() throws {
        let h = try Harness()
        h.scan("5012345678900"); h.keyed("2", .char("*")); h.scan("96385074")
        let before = try #require(h.controller.sale)
        // A new controller on the same database, as after a crash and restart.
        let db = try TillDatabase(path: h.db.path)
        let again = Harness.makeController(db: db, receipts: h.receipts, ids: h.ids, clock: h.clock)
        for c in "1" { again.handle(.key(.char(c))) }
        again.handle(.key(.enter))
        for c in "1234" { again.handle(.key(.char(c))) }
        again.handle(.key(.enter))
        #expect(again.sale == before)
        #expect(again.message?.text.hasPrefix("The sale in progress when the till stopped is back") == true)
    }

    @Test func helpOpensOnF1AndAnyKeyClosesItWithoutActing() throws {
        let h = try Harness()
        h.key(.function(1))
        #expect(h.controller.showingHelp)
        h.key(.function(6))
        #expect(!h.controller.showingHelp)
        #expect(h.error == nil)
    }

    @Test func aScanWhileTheReceiptShowsStartsTheNextSale() throws {
        let h = try Harness()
        h.scan("5012345678900"); h.key(.function(6))
        h.scan("96385074")
        #expect(h.controller.mode == .selling)
        #expect(h.controller.sale?.basket.lines.count == 1)
        #expect(h.controller.sale?.id == "00000000-0000-4000-8000-000000000002")
    }
}

/// The sale's flow state is one value (`SellingState`), reset as a whole when the sale is over.
@Suite("Till controller: state by flow")
struct FlowStateTests {
    @Test func aPaidSaleLeavesNothingOfItsFlowToTheNext() throws {
        let h = try Harness()
        h.scan("5012345678900"); h.scan("4006381333931")   // 2.68
        h.key(.up)                                          // a line picked
        h.key(.function(5))                                 // total
        h.key(.function(8))                                 // split
        h.keyed("200", .function(6))
        #expect(h.controller.totalled && h.controller.split && h.controller.selectedLine != nil)
        h.keyed("68", .function(6))
        guard case .receipt = h.controller.mode else { Issue.record("not paid: \(String(describing: h.error))"); return }
        #expect(h.controller.selling == SellingState())
        #expect(!h.controller.totalled && !h.controller.split && h.controller.selectedLine == nil && h.controller.pendingQuantity == nil)
        #expect(h.controller.input.isEmpty)
        // The next sale starts clean: a scan rings one item.
        h.scan("5012345678900")
        #expect(h.controller.basket?.lines.map(\.item.quantity) == [.one])
    }

    @Test func anOverlayIsOneAtATimeAndAnyKeyClosesIt() throws {
        let h = try Harness()
        h.key(.function(1))                                 // help
        #expect(h.controller.showingHelp && !h.controller.showingMessages && !h.controller.showingPoints)
        h.key(.char("x"))
        #expect(h.controller.overlay == nil)
        #expect(h.controller.input.isEmpty)                 // the closing key is not typed
    }
}
