import ESCPOS
import Receipts
import TillCore
import TillDemo
import TillStore

/// A completed sale with € and Cyrillic text, a weighed line, discounts, split tender and change.
func sampleSale() throws -> CompletedSale {
    let till = TillIdentity(storeID: "0001", storeName: "Магазин Demo", tillID: "01", currency: .eur)
    var s = OpenSale(id: "00000000-0000-4000-8000-000000000042", startedAt: 0, cashier: Cashier(number: "1", name: "Anna"), currency: .eur)
    func add(_ d: String, _ p: Int64, _ q: Int64, _ tax: String, _ bp: Int64, weighed: Bool = false) throws {
        s = try s.trying(.addLine(item: LineItem(sku: d, description: d, taxCode: tax, taxBasisPoints: bp, unitPrice: p,
                                                 quantity: Quantity(milli: q), soldByWeight: weighed)))
    }
    try add("Кефир 1л", 119, 3000, "B", 500)
    try add("Café crème", 250, 1000, "A", 2000)
    try add("Сыр российский", 1290, 1250, "B", 500, weighed: true)
    try add("Gift card 日本", 2500, 1000, "Z", 0)
    s = try s.trying(.discountLine(number: 2, discount: .percent(basisPoints: 1000)))
    s = try s.trying(.discountSale(discount: .amount(minor: 100)))
    s = try s.trying(.addTender(tender: Tender(kind: .card, amount: 2000, reference: "A1B2C3")))
    s = try s.trying(.addTender(tender: Tender(kind: .cash, amount: 5000)))
    return try s.complete(sequence: 42, at: 1_795_000_000_000, till: till)
}

func sampleData(copy: Bool = false) throws -> TemplateValue {
    SaleReceipt.data(try sampleSale(), date: "2026-11-18 11:06", copy: copy, address: ["ул. Тверская 1", "Москва"],
                     footer: ["Prices in € include VAT", "Спасибо за покупку!"])
}

/// A member's sale: milk and coffee (8.18), part paid with 818 points, by the demo programme; the
/// member's balance was not yet confirmed by head office.
func loyaltySale(registered: Bool = false, expiring: (Points, Int64)? = nil) throws -> CompletedSale {
    let till = TillIdentity(storeID: "0001", storeName: "Demo Store", tillID: "01", currency: .eur)
    let programme = DemoCatalog.programme
    var s = OpenSale(id: "00000000-0000-4000-8000-000000000043", startedAt: 0, cashier: Cashier(number: "1", name: "Anna"), currency: .eur)
    for p in [DemoCatalog.featured[1], DemoCatalog.featured[14]] {
        s = try s.trying(.addLine(item: LineItem(sku: p.sku, description: p.description, category: p.category, taxCode: p.taxCode,
                                                 taxBasisPoints: 500, unitPrice: p.unitPrice, quantity: .one)))
    }
    let registration = registered
        ? Registration(cardNumber: "6034000009000008", firstName: "Olga", lastName: "Smirnova", phone: "+7 912 345 6789",
                       email: "olga@example.com", postcode: "10115", birthDate: nil, marketingConsent: true, registeredAt: 0)
        : nil
    let member = SaleCustomer(
        cardNumber: registered ? "6034000009000008" : "6034000000000015", customerID: "M1", name: registered ? "Olga Smirnova" : "Anna Ivanova",
        tierCode: registered ? "MEM" : "SLV", tierName: registered ? "Member" : "Silver", balance: registered ? 0 : 1500,
        qualifying: registered ? 0 : 60_000, offlineLeft: 2000, provisional: true, registration: registration)
    var customer = member
    customer.expiringSoon = expiring?.0
    customer.expiringBy = expiring?.1
    s = try s.trying(.identifyCustomer(customer: customer))
    if !registered { s = try s.trying(.addTender(tender: Tender(kind: .points, amount: 409, points: 818))) }
    s = try s.trying(.addTender(tender: Tender(kind: .cash, amount: 1000)))
    let outcome = programme.outcome(
        for: s.basket, customer: customer,
        context: EarnContext(time: LocalDateTime(minutes: 1_795_000_000_000 / 60_000), storeID: "0001", tierCode: customer.tierCode))
    return try s.complete(sequence: 43, at: 1_795_000_000_000, till: till, loyalty: outcome)
}
