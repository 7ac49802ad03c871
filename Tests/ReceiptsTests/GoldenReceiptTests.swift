import ESCPOS
import Foundation
import Receipts
import Testing
import TillCore

/// Whole receipts against golden files (`Golden/*.bin`, with the virtual printer's reading in
/// `*.txt` beside them for review). Re-record on purpose with `TILL_RECORD_GOLDEN=1 scripts/test`.
@Suite("Golden receipts")
struct GoldenReceiptTests {
    static let goldenDirectory: URL = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        return url.appendingPathComponent("Golden")
    }()

    /// Renders the sample sale for a printer and compares with the golden file.
    func check(
        _ name: String, profile: String, paper: Int, copy: Bool = false, template: String = "sale.receipt", sale: CompletedSale? = nil
    ) throws -> VirtualPrinter {
        let p = try PrinterProfile.named(profile)
        let dots = try p.paper(widthMM: paper).dots
        let columns = try p.paper(widthMM: paper).columns["A"]!
        let bytes: [UInt8]
        if template == "testpage.receipt" {
            let t = try ReceiptTemplate(named: template, from: BuiltInTemplates(), schema: TestPage.schema, maxImageWidth: dots)
            let data = TestPage.data(storeID: "0001", storeName: "Demo Store", address: ["1 High Street"], tillID: "01",
                                     profile: profile, paperWidthMM: paper, columns: columns, connection: "test", date: "2026-11-18 11:06")
            bytes = try t.render(data, columns: columns).escpos(profile: p, paperWidthMM: paper)
        } else if template == "registration.receipt" {
            let t = try ReceiptTemplate(named: template, from: BuiltInTemplates(), schema: RegistrationSlip.schema, maxImageWidth: dots)
            let r = try #require(try loyaltySale(registered: true).loyalty?.customer.registration)
            let data = RegistrationSlip.data(r, programme: "Demo Rewards", welcome: 100, storeID: "0001", storeName: "Demo Store",
                                             address: ["1 High Street"], tillID: "01", date: "2026-11-18 11:06")
            bytes = try t.render(data, columns: columns).escpos(profile: p, paperWidthMM: paper)
        } else {
            let t = try ReceiptTemplate(named: template, from: BuiltInTemplates(), schema: SaleReceipt.schema, maxImageWidth: dots)
            let data = try sale.map { SaleReceipt.data($0, date: "2026-11-18 11:06") } ?? sampleData(copy: copy)
            bytes = try t.render(data, columns: columns).escpos(profile: p, paperWidthMM: paper)
        }
        var v = try VirtualPrinter(profile: p, paperWidthMM: paper)
        v.feed(bytes)
        let bin = Self.goldenDirectory.appendingPathComponent(name + ".bin")
        let txt = Self.goldenDirectory.appendingPathComponent(name + ".txt")
        if ProcessInfo.processInfo.environment["TILL_RECORD_GOLDEN"] != nil {
            try FileManager.default.createDirectory(at: Self.goldenDirectory, withIntermediateDirectories: true)
            try Data(bytes).write(to: bin)
            try Data((v.text.joined(separator: "\n") + "\n").utf8).write(to: txt)
            return v
        }
        guard let golden = try? [UInt8](Data(contentsOf: bin)) else {
            Issue.record("no golden file \(bin.path): record it with TILL_RECORD_GOLDEN=1")
            return v
        }
        if golden != bytes {
            let first = zip(golden, bytes).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(golden.count, bytes.count)
            let was = (try? String(contentsOf: txt, encoding: .utf8)) ?? "?"
            Issue.record("""
                \(name): bytes differ from the golden file at offset \(first) (golden \(golden.count) bytes, now \(bytes.count)).
                Now reads:
                \(v.text.joined(separator: "\n"))
                Golden read:
                \(was)
                If the change is intended, re-record with TILL_RECORD_GOLDEN=1.
                """)
        }
        return v
    }

    @Test func saleOn80mm() throws {
        let v = try check("sale-generic-80", profile: "generic-80", paper: 80)
        #expect(v.text.contains("Кефир 1л B"))
        #expect(v.text.contains("Gift card ?? Z                             25.00"))
        #expect(v.text.contains("            Prices in € include VAT"))
        #expect(v.text.first == "[drawer opens]")
        #expect(v.text.contains("            [CODE128 0001-01-000042]"))
        #expect(v.elements.last == .cut(partial: true))
    }

    @Test func saleOn58mmHasTheSameContentInThirtyTwoColumns() throws {
        let v = try check("sale-generic-58", profile: "generic-58", paper: 58)
        for line in v.text where !line.hasPrefix("[") && !line.hasPrefix("-------- ") { #expect(line.count <= 32, "too wide: '\(line)'") }
        #expect(v.text.contains("TOTAL EUR                  45.95"))
        #expect(v.text.contains("Сыр российский B"))
    }

    @Test func reprintIsMarkedCopyAndDoesNotOpenTheDrawer() throws {
        let v = try check("reprint-generic-80", profile: "generic-80", paper: 80, copy: true)
        #expect(v.text.contains { $0.contains("C O P Y") })
        #expect(!v.elements.contains(.drawerPulse(pin: 2)))
    }

    @Test func epsonTM88Has42Columns() throws {
        let v = try check("sale-tm-t88-80", profile: "epson-tm-t88", paper: 80)
        #expect(v.text.contains("TOTAL EUR                            45.95"))
    }

    @Test func rasterOnlyPrinterGetsOnlyImagesAndPrinterCommands() throws {
        let v = try check("sale-raster-80", profile: "star-tsp100-raster", paper: 80)
        #expect(v.elements.first == .drawerPulse(pin: 2))
        let images = v.elements.compactMap { if case .image(let b, _) = $0 { return b } else { return nil } }
        #expect(images.count == 1)
        #expect(images.first?.width == 576)
        #expect(!v.elements.contains { if case .text = $0 { return true } else { return false } })
        #expect(v.elements.last == .cut(partial: true))
    }

    /// Points that expire soon print under the new balance, less what the sale itself redeemed
    /// (the oldest points go first); none expiring: no line.
    @Test func pointsExpiringSoonPrintUnderTheBalance() throws {
        let t = try ReceiptTemplate(named: "sale.receipt", from: BuiltInTemplates(), schema: SaleReceipt.schema, maxImageWidth: 576)
        #expect(!t.render(SaleReceipt.data(try loyaltySale(), date: ""), columns: 48).lines.contains { $0.contains("expire") })
        let by: Int64 = 1_798_675_200_000   // 2026-12-31T00:00:00Z
        let lines = t.render(SaleReceipt.data(try loyaltySale(expiring: (1_000, by)), date: ""), columns: 48).lines
        let balance = try #require(lines.firstIndex { $0.hasPrefix("New balance") })
        #expect(lines[balance + 1] == "182 points expire by 2026-12-31", "\(lines)")
        #expect(!t.render(SaleReceipt.data(try loyaltySale(expiring: (800, by)), date: ""), columns: 48).lines.contains { $0.contains("expire") },
                "the sale redeemed 818: none left to expire")
    }

    @Test func pointsBlock() throws {
        let v = try check("loyalty-generic-80", profile: "generic-80", paper: 80, sale: try loyaltySale())
        let block = Array(v.text.drop { !$0.hasPrefix("Loyalty card") }.prefix(14))
        #expect(block == [
            "Loyalty card **** **** **** 0015",
            "Anna Ivanova",
            "Previous balance                            1500",
            "  1 pt per 1.00 on 8.18                       +8",
            "  Double points on dairy                      +1",
            "  Coffee beans: 10 pts a pack                +10",
            "  Silver tier x1.25                           +2",
            "Points earned                                +21",
            "Points redeemed (4.09)                      -818",
            "New balance                                  703",
            "Tier                                      Silver",
            "895.91 more to reach Gold",
            "Balance provisional: not yet confirmed",
            "            [CODE128 0001-01-000043]",
        ])
        #expect(v.text.contains("Points                                      4.09"))
    }

    @Test func registrationSlip() throws {
        let v = try check("registration-generic-80", profile: "generic-80", paper: 80, template: "registration.receipt")
        #expect(v.text.contains("Card                         **** **** **** 0008"))
        #expect(v.text.contains("Name                               Olga Smirnova"))
        #expect(v.text.contains("E-mail                          olga@example.com"))
        #expect(v.text.contains("Offers by e-mail/SMS                         Yes"))
        #expect(v.text.contains("Welcome bonus                         100 points"))
        #expect(v.text.contains { $0.hasPrefix("Signature ___") })
        #expect(v.elements.last == .cut(partial: true))
    }

    @Test func testPage() throws {
        let v = try check("testpage-generic-80", profile: "generic-80", paper: 80, template: "testpage.receipt")
        #expect(v.text.contains("Cyrillic: Итого к оплате: 100,00 ? Ёё"))
        #expect(v.text.contains("123456789012345678901234567890123456789012345678"))
        #expect(v.text.contains { $0.contains("[QR https://example.com/till-test]") })
        #expect(v.text.contains { $0.contains("[EAN-13 4006381333931]") })
    }

    /// An X report reads down: gross sales, less each discount, is the sales after discounts;
    /// less the refunds, the net sales (the discounts were shown as if taken off again).
    @Test func reportReadsDownFromGrossSalesToNetSales() throws {
        let p = try PrinterProfile.named("generic-80")
        let paper = try p.paper(widthMM: 80)
        let t = try ReceiptTemplate(named: "report.receipt", from: BuiltInTemplates(), schema: ReportSlip.schema, maxImageWidth: paper.dots)
        let r = PeriodReport(
            kind: "X", number: 3, storeID: "0001", tillID: "01", currency: "EUR", from: 0, to: 1, firstSequence: 1, lastSequence: 4,
            salesCount: 4, itemsSold: 9, salesValue: 9_000, lineDiscounts: 700, saleDiscounts: 300, discountedLines: 2, refundsCount: 1,
            refundsValue: 1_000, refundsWithoutReceipt: 0, tenders: [], vat: [], voidedLines: 0, voidedLinesValue: 0, cancelledSales: 0,
            cancelledValue: 0, overrides: 0, overridesRefused: 0, pointsIssued: 0, pointsRedeemed: 0, pointsTakenBack: 0, pointsRestored: 0,
            cash: PeriodReport.CashUp(float: 0, cashSales: 0, cashRefunds: 0, paidIn: 0, paidOut: 0, pickups: 0, noSales: 0, counted: nil),
            cashiers: [])
        let data = ReportSlip.data(r, storeName: "Demo Store", from: "2026-11-18 08:00", to: "2026-11-18 12:00")
        var v = try VirtualPrinter(profile: p, paperWidthMM: 80)
        v.feed(try t.render(data, columns: paper.columns["A"]!).escpos(profile: p, paperWidthMM: 80))
        let order = ["Gross sales", "Line discounts (2)", "Sale discounts", "Sales after discounts", "Refunds (1)", "NET SALES EUR"]
        let lines = order.map { label in v.text.firstIndex { $0.hasPrefix(label) } }
        #expect(lines.allSatisfy { $0 != nil }, "\(v.text.joined(separator: "\n"))")
        #expect(lines.compactMap { $0 } == lines.compactMap { $0 }.sorted())
        for (label, value) in [("Gross sales", "100.00"), ("Line discounts (2)", "-7.00"), ("Sale discounts", "-3.00"),
                               ("Sales after discounts", "90.00"), ("Refunds (1)", "-10.00"), ("NET SALES EUR", "80.00")] {
            #expect(v.text.contains { $0.hasPrefix(label) && $0.hasSuffix(" " + value) }, "\(label) \(value)")
        }
        #expect(!v.text.contains { $0.hasPrefix("Members' offers") }, "no offers, no line")
        // Members' offers took 5.00 off too: a line of their own, and in the gross.
        var withOffers = r
        withOffers.offerDiscounts = 500
        var w = try VirtualPrinter(profile: p, paperWidthMM: 80)
        w.feed(try t.render(ReportSlip.data(withOffers, storeName: "Demo Store", from: "2026-11-18 08:00", to: "2026-11-18 12:00"),
                            columns: paper.columns["A"]!).escpos(profile: p, paperWidthMM: 80))
        let offers = try #require(w.text.firstIndex { $0.hasPrefix("Members' offers") }, "\(w.text.joined(separator: "\n"))")
        #expect(w.text[offers].hasSuffix(" -5.00") && w.text[offers - 1].hasPrefix("Line discounts") && w.text[offers + 1].hasPrefix("Sale discounts"))
        #expect(w.text.contains { $0.hasPrefix("Gross sales") && $0.hasSuffix(" 105.00") })
    }

    /// A member's offer that took money off prints under its line, and the subtotal shows.
    @Test func anOfferPrintsUnderItsLine() throws {
        let p = try PrinterProfile.named("generic-80")
        let paper = try p.paper(widthMM: 80)
        let t = try ReceiptTemplate(named: "sale.receipt", from: BuiltInTemplates(), schema: SaleReceipt.schema, maxImageWidth: paper.dots)
        let till = TillIdentity(storeID: "0001", storeName: "Demo Store", tillID: "01", currency: .eur)
        let customer = SaleCustomer(cardNumber: "6034000000000001", customerID: "M1", name: "Anna", tierCode: nil, tierName: nil, balance: 0,
                                    qualifying: 0, offlineLeft: nil, provisional: false)
        var open = OpenSale(id: "s", startedAt: 0, cashier: Cashier(number: "1", name: "Ann"), currency: .eur)
        open = try open.trying(.addLine(item: LineItem(sku: "F2", description: "Milk 1L", category: "Dairy", taxCode: "B", taxBasisPoints: 500,
                                                       unitPrice: 119, quantity: .one)))
        open = try open.trying(.addLine(item: LineItem(sku: "F1", description: "Highlighter pen", taxCode: "A", taxBasisPoints: 2000,
                                                       unitPrice: 149, quantity: .one)))
        open = try open.trying(.identifyCustomer(customer: customer))
        open = try open.trying(.useOffers(offers: [PersonalOffer(id: "dairy-ten", name: "10% off dairy", categories: ["Dairy"], validFrom: 0,
                                                                 validTo: 1, percentOffBP: 1_000)]))
        open = try open.trying(.addTender(tender: Tender(kind: .cash, amount: 300)))
        let sale = try open.complete(sequence: 1, at: 1, till: till, loyalty: nil)
        var v = try VirtualPrinter(profile: p, paperWidthMM: 80)
        v.feed(try t.render(SaleReceipt.data(sale, date: "2026-11-18 11:06"), columns: paper.columns["A"]!).escpos(profile: p, paperWidthMM: 80))
        let line = try #require(v.text.firstIndex { $0.hasPrefix("Milk 1L") }, "\(v.text.joined(separator: "\n"))")
        #expect(v.text[line + 1].hasPrefix("  Offer: 10% off dairy") && v.text[line + 1].hasSuffix(" -0.12"), "\(v.text[line + 1])")
        #expect(v.text.contains { $0.hasPrefix("Subtotal") && $0.hasSuffix(" 2.56") }, "\(v.text.joined(separator: "\n"))")
        #expect(v.text.contains { $0.hasPrefix("TOTAL EUR") && $0.hasSuffix(" 2.56") })
    }

    /// A refund to a card prints the card terminal's reference under the card line.
    @Test func aCardRefundSlipPrintsTheTerminalsReference() throws {
        let p = try PrinterProfile.named("generic-80")
        let paper = try p.paper(widthMM: 80)
        let t = try ReceiptTemplate(named: "refund.receipt", from: BuiltInTemplates(), schema: RefundSlip.schema, maxImageWidth: paper.dots)
        let till = TillIdentity(storeID: "0001", storeName: "Demo Store", tillID: "01", currency: .eur)
        let plan = RefundPlan(
            originalSaleID: "s", originalReceipt: "0001-01-000007",
            lines: [RefundLine(lineNumber: 1, sku: "F0001", description: "Coffee beans", quantity: .one, soldByWeight: false, amount: 699,
                               taxCode: "B", taxBasisPoints: 500)],
            total: 699, tenders: [RefundTender(kind: .card, amount: 699, reference: "RF-778")], pointsTakenBack: 0, pointsRestored: 0,
            cardNumber: nil, vat: [VATLine(code: "B", basisPoints: 500, gross: 699, vat: 33, net: 666)], withoutReceipt: false)
        let refund = CompletedRefund(id: "r", sequence: 1, receiptNumber: "0001-01-R00001", till: till, cashier: Cashier(number: "1", name: "Ann"),
                                     supervisor: "9", at: 0, plan: plan, reason: "Wrong size or colour")
        var v = try VirtualPrinter(profile: p, paperWidthMM: 80)
        v.feed(try t.render(RefundSlip.data(refund, date: "2026-11-18 11:06"), columns: paper.columns["A"]!).escpos(profile: p, paperWidthMM: 80))
        let card = try #require(v.text.firstIndex { $0.hasPrefix("Card back") }, "\(v.text.joined(separator: "\n"))")
        #expect(v.text[card].hasSuffix(" 6.99"))
        #expect(v.text[card + 1].hasPrefix("  Terminal reference") && v.text[card + 1].hasSuffix(" RF-778"), "\(v.text[card + 1])")
        // The return's reason, under who authorised it.
        let reason = try #require(v.text.firstIndex { $0.hasPrefix("Reason") }, "\(v.text.joined(separator: "\n"))")
        #expect(v.text[reason].hasSuffix(" Wrong size or colour"))
        #expect(v.text[reason - 1].hasPrefix("Authorised by supervisor"))
    }

    /// An overridden price prints under its line: what it was and why.
    @Test func aPriceOverridePrintsWhatThePriceWasAndWhy() throws {
        let p = try PrinterProfile.named("generic-80")
        let paper = try p.paper(widthMM: 80)
        let t = try ReceiptTemplate(named: "sale.receipt", from: BuiltInTemplates(), schema: SaleReceipt.schema, maxImageWidth: paper.dots)
        let till = TillIdentity(storeID: "0001", storeName: "Demo Store", tillID: "01", currency: .eur)
        var open = OpenSale(id: "s", startedAt: 0, cashier: Cashier(number: "1", name: "Ann"), currency: .eur)
        open = try open.trying(.addLine(item: LineItem(sku: "F1", description: "Highlighter pen", taxCode: "A", taxBasisPoints: 2000,
                                                       unitPrice: 149, quantity: .one)))
        open = try open.trying(.overridePrice(number: 1, unitPrice: 100, reason: "Wrong shelf label"))
        open = try open.trying(.addTender(tender: Tender(kind: .cash, amount: 100)))
        let sale = try open.complete(sequence: 1, at: 1, till: till, loyalty: nil)
        var v = try VirtualPrinter(profile: p, paperWidthMM: 80)
        v.feed(try t.render(SaleReceipt.data(sale, date: "2026-11-18 11:06"), columns: paper.columns["A"]!).escpos(profile: p, paperWidthMM: 80))
        let line = try #require(v.text.firstIndex { $0.hasPrefix("Highlighter pen") }, "\(v.text.joined(separator: "\n"))")
        #expect(v.text[line].hasSuffix(" 1.00"))
        #expect(v.text[line + 1].hasPrefix("  Price changed, was 1.49") && v.text[line + 1].hasSuffix("Wrong shelf label"), "\(v.text[line + 1])")
    }

    /// A discount prints its reason under it, on a line and on the sale.
    @Test func discountsPrintTheirReasons() throws {
        let p = try PrinterProfile.named("generic-80")
        let paper = try p.paper(widthMM: 80)
        let t = try ReceiptTemplate(named: "sale.receipt", from: BuiltInTemplates(), schema: SaleReceipt.schema, maxImageWidth: paper.dots)
        let till = TillIdentity(storeID: "0001", storeName: "Demo Store", tillID: "01", currency: .eur)
        var open = OpenSale(id: "s", startedAt: 0, cashier: Cashier(number: "1", name: "Ann"), currency: .eur)
        open = try open.trying(.addLine(item: LineItem(sku: "F1", description: "Highlighter pen", taxCode: "A", taxBasisPoints: 2000,
                                                       unitPrice: 149, quantity: .one)))
        open = try open.trying(.discountLine(number: 1, discount: .percent(basisPoints: 1_000), reason: "Damaged item"))
        open = try open.trying(.discountSale(discount: .amount(minor: 10), reason: "Customer complaint"))
        open = try open.trying(.addTender(tender: Tender(kind: .cash, amount: 200)))
        let sale = try open.complete(sequence: 1, at: 1, till: till, loyalty: nil)
        var v = try VirtualPrinter(profile: p, paperWidthMM: 80)
        v.feed(try t.render(SaleReceipt.data(sale, date: "2026-11-18 11:06"), columns: paper.columns["A"]!).escpos(profile: p, paperWidthMM: 80))
        let line = try #require(v.text.firstIndex { $0.hasPrefix("  Discount 10%") }, "\(v.text.joined(separator: "\n"))")
        #expect(v.text[line + 1] == "  Reason: Damaged item", "\(v.text[line + 1])")
        let whole = try #require(v.text.firstIndex { $0.hasPrefix("Sale discount") }, "\(v.text.joined(separator: "\n"))")
        #expect(v.text[whole + 1] == "  Reason: Customer complaint", "\(v.text[whole + 1])")
    }
}
