import Foundation
public import TillCore
public import TillDocuments

/// The demo store: a handful of featured products (listed in README "Try it"), a generated range
/// up to the requested size (80,000 by default, the seed retailer's range), and demo staff.
public enum DemoCatalog {
    public static let defaultSize = 80_000

    public static let cashier = Cashier(number: "1", name: "Demo Cashier", role: .cashier)
    public static let cashierPIN = "1234"
    public static let supervisor = Cashier(number: "9", name: "Demo Supervisor", role: .supervisor)
    public static let supervisorPIN = "9999"
    /// The demo staff with their PINs, as `TillDatabase.installDemo` takes them.
    public static let staff: [(cashier: Cashier, pin: String)] = [(cashier, cashierPIN), (supervisor, supervisorPIN)]

    /// Products with codes worth knowing by heart when trying the till.
    public static let featured: [Product] = [
        Product(sku: "F0001", barcodes: ["4006381333931"], description: "Highlighter pen", unitPrice: 149, taxCode: "A", category: "Stationery"),
        Product(sku: "F0002", barcodes: ["5012345678900"], description: "Milk 1L", unitPrice: 119, taxCode: "B", category: "Dairy"),
        Product(sku: "F0003", barcodes: ["96385074"], description: "Chewing gum", unitPrice: 89, taxCode: "A", category: "Confectionery"),
        Product(sku: "F0004", barcodes: ["0036000291452"], description: "Paper towels 2 rolls", unitPrice: 349, taxCode: "A", category: "Household"),
        Product(sku: "F0005", barcodes: ["8711327518223"], description: "Orange juice 1L", unitPrice: 229, taxCode: "A", category: "Beverages"),
        Product(sku: "F0006", plu: "1", description: "Bananas", unitPrice: 199, taxCode: "B", category: "Produce", soldByWeight: true),
        Product(sku: "F0007", plu: "2", description: "Apples Gala", unitPrice: 249, taxCode: "B", category: "Produce", soldByWeight: true),
        Product(sku: "F0008", plu: "5", description: "Carrier bag", unitPrice: 10, taxCode: "A", category: "Household"),
        Product(sku: "F0009", plu: "10", description: "Baguette", unitPrice: 120, taxCode: "B", category: "Bakery"),
        Product(sku: "F0010", plu: "11", description: "Croissant", unitPrice: 95, taxCode: "B", category: "Bakery"),
        Product(sku: "F0011", plu: "12", description: "Deli salad", unitPrice: 1490, taxCode: "B", category: "Deli", soldByWeight: true),
        Product(sku: "F0012", plu: "20", description: "Cigarettes 20", unitPrice: 950, taxCode: "A", category: "Tobacco"),
        Product(sku: "F0013", plu: "30", description: "Gift card 25.00", unitPrice: 2500, taxCode: "Z", category: "Gift cards"),
        Product(sku: "F0014", plu: "42", description: "Cheddar cheese", unitPrice: 1290, taxCode: "B", category: "Deli", soldByWeight: true),
        Product(sku: "F0015", barcodes: ["4000000000013"], description: "Coffee beans 500g", unitPrice: 699, taxCode: "B", category: "Grocery"),
    ]

    private static let categories: [(name: String, tax: String, weighed: Bool, nouns: [String])] = [
        ("Grocery", "B", false, ["Pasta", "Rice", "Flour", "Olive oil", "Tomato sauce", "Cereal", "Lentils", "Honey", "Jam", "Tea"]),
        ("Dairy", "B", false, ["Yoghurt", "Butter", "Cream", "Kefir", "Cottage cheese", "Feta", "Mozzarella", "Sour cream"]),
        ("Bakery", "B", false, ["Rye bread", "Bagels", "Muffins", "Pretzel", "Sourdough", "Buns", "Crackers"]),
        ("Produce", "B", true, ["Tomatoes", "Potatoes", "Onions", "Carrots", "Pears", "Grapes", "Plums", "Peppers", "Cucumbers"]),
        ("Deli", "B", true, ["Ham", "Salami", "Olives", "Smoked salmon", "Brie", "Gouda", "Roast beef"]),
        ("Frozen", "B", false, ["Peas", "Pizza", "Ice cream", "Fish fingers", "Berries", "Dumplings"]),
        ("Beverages", "A", false, ["Sparkling water", "Cola", "Lemonade", "Apple juice", "Iced tea", "Beer", "Red wine"]),
        ("Household", "A", false, ["Dish soap", "Bin bags", "Sponges", "Light bulb", "Batteries AA", "Detergent", "Foil"]),
        ("Personal care", "A", false, ["Shampoo", "Toothpaste", "Soap", "Deodorant", "Razor", "Hand cream", "Tissues"]),
        ("Stationery", "A", false, ["Notebook", "Ballpoint pens", "Envelopes", "Glue stick", "Sticky notes", "Stapler"]),
        ("Confectionery", "A", false, ["Dark chocolate", "Milk chocolate", "Toffees", "Biscuits", "Wafers", "Marshmallows"]),
    ]
    private static let brands = ["Acme", "Nordic", "Golden", "Village", "Sunny", "Alpine", "Harvest", "Urban", "Coastal", "Royal",
                                 "Meadow", "Riverside", "Oak", "Silver", "Green Leaf", "Blue Bay"]
    private static let sizes = ["", "small", "large", "family pack", "250g", "500g", "1kg", "6 pack", "2 pack", "750ml"]

    /// `count` products: the featured ones, then a generated range (deterministic for a seed).
    /// Generated barcodes are EAN-13 "50" + ten digits; weighed items get PLUs from 1000.
    public static func products(count: Int = defaultSize, seed: UInt64 = 2026) -> [Product] {
        var out = Array(featured.prefix(count))
        var rng = SplitMix64(seed: seed)
        var plu = 1000
        func pad10(_ n: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: 10 - s.count) + s
        }
        for i in 0..<max(0, count - featured.count) {
            let c = categories[Int(rng.next() % UInt64(categories.count))]
            let name = [brands[Int(rng.next() % UInt64(brands.count))], c.nouns[Int(rng.next() % UInt64(c.nouns.count))],
                        c.weighed ? "" : sizes[Int(rng.next() % UInt64(sizes.count))]]
                .filter { !$0.isEmpty }.joined(separator: " ")
            let price = Int64(29 + rng.next() % 4970)
            let sku = "D" + pad10(i + 1)
            if c.weighed {
                out.append(Product(sku: sku, plu: String(plu), description: name, unitPrice: price, taxCode: c.tax,
                                   category: c.name, soldByWeight: true))
                plu += 1
            } else {
                out.append(Product(sku: sku, barcodes: [GTIN.withCheckDigit("50" + pad10(i + 1))], description: name,
                                   unitPrice: price, taxCode: c.tax, category: c.name))
            }
        }
        return out
    }
}

/// The tax rates of the default configuration (`till` with no `[tax]` section), which the
/// demo's products use.
public let standardTaxRates: [String: TaxRate] = [
    "A": TaxRate(code: "A", basisPoints: 2000),
    "B": TaxRate(code: "B", basisPoints: 500),
    "Z": TaxRate(code: "Z", basisPoints: 0),
]

/// A small, fast, seedable generator (SplitMix64) for demo data and benchmarks.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension DemoCatalog {
    /// The demo loyalty programme (Sources/TillDemo/Resources/demo-programme.json).
    public static var programme: LoyaltyProgramme {
        try! JSONDecoder().decode(LoyaltyProgramme.self, from: Data(PackageResources.demo_programme_json))
    }

    /// Demo card numbers: 6034, ten digits, the Luhn digit: index 1… are members', from 900000 the
    /// store's stock of unissued cards.
    public static func cardNumber(_ index: Int) -> String {
        // "60340", the index in 10 digits, the Luhn digit: built in one buffer (millions at a load).
        var bytes: [UInt8] = [54, 48, 51, 52, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48]
        var n = index
        var i = 14
        while n > 0 && i >= 5 {
            bytes[i] = UInt8(48 + n % 10)
            n /= 10
            i -= 1
        }
        var sum = 0
        var double = true
        for j in stride(from: 14, through: 0, by: -1) {
            var d = Int(bytes[j]) - 48
            if double { d *= 2; if d > 9 { d -= 9 } }
            double.toggle()
            sum += d
        }
        bytes[15] = UInt8(48 + (10 - sum % 10) % 10)
        return String(decoding: bytes, as: UTF8.self)
    }

    public static let firstStockCard = 900_000
    public static let demoMembers = 2_000
    public static let demoStockCards = 500

    private static let firstNames = ["Anna", "Boris", "Clara", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Irina", "Jonas", "Katya",
                                     "Lukas", "Maria", "Nikolai", "Olga", "Pavel", "Rosa", "Sergei", "Tanya", "Viktor"]
    private static let lastNames = ["Ivanova", "Brown", "Schmidt", "Petrov", "Martin", "Novak", "Kowalski", "Smirnova", "Dubois",
                                     "Rossi", "Jansen", "Horvat", "Popescu", "Nielsen", "Silva", "Kuznetsova", "Moreau", "Wagner"]

    /// `members` registered cards (deterministic names, balances, spend) and `stock` unissued ones.
    /// Card 1 is Anna Ivanova (Silver, 1500 points), 2 Boris Petrov (Gold, 2500), 3 is blocked, 4 lost.
    public static func cards(members: Int, stock: Int, seed: UInt64 = 7) -> [CardRecord] {
        var out: [CardRecord] = []
        out.reserveCapacity(members + stock)
        forEachCard(members: members, stock: stock, seed: seed) { out.append($0) }
        return out
    }

    /// The same cards one at a time, none kept (a national chain's millions in bounded memory).
    public static func forEachCard(members: Int, stock: Int, seed: UInt64 = 7, _ body: (CardRecord) throws -> Void) rethrows {
        var rng = SplitMix64(seed: seed)
        // Cards worth knowing by heart (README "Loyalty"): a Silver and a Gold member, a blocked
        // and a lost card.
        let known: [(String, String, String, Int64, Int64)] = [
            ("Anna", "Ivanova", "active", 1_500, 60_000), ("Boris", "Petrov", "active", 2_500, 160_000),
            ("Clara", "Schmidt", "blocked", 300, 0), ("Dmitri", "Novak", "lost", 800, 0),
        ]
        for (i, k) in known.enumerated() where i < members {
            let n = i + 1
            try body(CardRecord(
                number: cardNumber(n), status: k.2,
                member: Registration(cardNumber: cardNumber(n), firstName: k.0, lastName: k.1, phone: "+7 900 000 000\(n)",
                                     email: "\(k.0.lowercased()).\(k.1.lowercased())@example.com", postcode: "10115", birthDate: nil,
                                     marketingConsent: n == 1, registeredAt: 1_700_000_000_000),
                customerID: "M\(n)", balance: k.3, confirmedAt: 1_790_000_000_000, tierCode: nil, qualifying: k.4))
        }
        let firstLower = firstNames.map { $0.lowercased() }, lastLower = lastNames.map { $0.lowercased() }
        for i in (known.count + 1)...max(known.count + 1, members) where i <= members {
            let f = Int(rng.next() % UInt64(firstNames.count)), l = Int(rng.next() % UInt64(lastNames.count))
            let first = firstNames[f], last = lastNames[l]
            let number = cardNumber(i)
            let n = 100_000_000 + Int(rng.next() % 899_999_999)   // 9 digits: "+7 9" 2, 3, 4 of them
            let mid = n / 10_000 % 1_000, end = n % 10_000
            let phone = "+7 9\(n / 10_000_000) " + (mid < 100 ? (mid < 10 ? "00" : "0") : "") + "\(mid) "
                + (end < 1_000 ? (end < 100 ? (end < 10 ? "000" : "00") : "0") : "") + "\(end)"
            try body(CardRecord(
                number: number, status: "active",
                member: Registration(cardNumber: number, firstName: first, lastName: last, phone: phone,
                                     email: "\(firstLower[f]).\(lastLower[l])\(i)@example.com", postcode: nil, birthDate: nil,
                                     marketingConsent: i % 3 == 0, registeredAt: 1_700_000_000_000),
                customerID: "M\(i)", balance: Int64(rng.next() % 5_000), confirmedAt: 1_790_000_000_000, tierCode: nil,
                qualifying: Int64(rng.next() % 200_000)))
        }
        for i in 0..<stock {
            try body(CardRecord(number: cardNumber(firstStockCard + i), status: "stock", member: nil, balance: 0,
                                confirmedAt: nil, tierCode: nil, qualifying: 0))
        }
    }
}
