import Foundation
public import TillCore
public import TillDocuments
public import TillProtocol

/// A month of a chain's traffic with known fraud injected (issue 19): members shopping mostly at
/// their home store, sometimes redeeming, new members registering, cashiers voiding, overriding
/// and refunding at a normal rate, customer service changing details, replacing cards and merging
/// members now and then; and, `cases` times each, every pattern the fraud rules look for. The
/// ground truth is kept: each injected case's pattern and subject, the normal members and cashiers.
/// Deterministic for a seed.
public struct FraudMonth: Sendable {
    /// The patterns injected, named after the default rule that should find each.
    public static let patterns = ["card-sales-hour", "card-redemptions-day", "card-stores-day", "card-one-cashier", "redeem-after-change",
                                  "merge-then-redeem", "bonus-redeemed", "shared-details", "shared-device", "cashier-refunds", "cashier-no-receipt", "cashier-voids",
                                  "cashier-overrides"]

    public struct Case: Sendable, Equatable {
        public var pattern: String
        /// A card number, "store/cashier", "phone:…" or "till:store/till".
        public var subject: String
    }

    /// What happens, in time order: a till's documents reaching head office, or customer service acting.
    public enum Step: Sendable {
        case documents(storeID: String, tillID: String, [OutboxDocument], at: Int64)
        case correctDetails(customerID: String, phone: String, at: Int64)
        case replaceCard(old: String, new: String, at: Int64)
        case merge(source: String, target: String, at: Int64)
    }

    public let members: Int
    public let stockCards: Int
    public let stores: [String]
    public private(set) var steps: [Step] = []
    public private(set) var cases: [Case] = []
    /// Normal subjects: member cards and "store/cashier" not in any injected case.
    public private(set) var normalCards: Set<String> = []
    public private(set) var normalCashiers: Set<String> = []
    /// Normal tills ("till:store/till") none of the injected sign-ups in a row was made on.
    public private(set) var normalDevices: Set<String> = []
    public private(set) var sales = 0
    public let programme: LoyaltyProgramme

    /// The head office cards to load first (members 1…members, then the stock the month issues from).
    public var cardRecords: [CardRecord] { DemoCatalog.cards(members: members, stock: stockCards) }

    struct Intent {
        var time: Int64, store: Int, cashier: Int
        var card: String?
        var redeem = false, forceBalance = false
        var voids = 0, overrides = 0
        var registration: Registration?
        var refund: Bool = false, withReceipt = true
        /// The till (0 or 1) when it matters; any of the store's two otherwise.
        var till: Int?
    }

    /// `batchHours`: how long a till gathers documents before it sends them (a batch is also sent
    /// at 150 documents, and before customer service acts).
    public init(members: Int = 2_000, stores: Int = 8, days: Int = 30, cases: Int = 10, seed: UInt64 = 19, batchHours: Int64 = 1,
                end: Int64? = nil) {
        // Ending at the start of yesterday (UTC) unless told: head office refuses sales from the future.
        let end = end ?? (Int64(Date().timeIntervalSince1970) / 86_400 - 1) * 86_400_000
        precondition(members >= 100 && stores >= 4 && days >= 8 && cases >= 1, "a month needs 100 members, 4 stores, 8 days, 1 case")
        let caseCount = cases
        self.members = members
        self.programme = DemoCatalog.programme
        var rng = SplitMix64(seed: seed)
        func r(_ n: Int) -> Int { Int(rng.next() % UInt64(max(1, n))) }
        let start = end - Int64(days) * 86_400_000
        let storeIDs = (1...stores).map { String(format: "%04d", $0) }
        self.stores = storeIDs
        let cashiersPerStore = 4
        // An opening-hours time on a day (8:00 to 20:00).
        func at(_ day: Int, _ minute: Int) -> Int64 { start + Int64(day) * 86_400_000 + Int64(8 * 60 + minute) * 60_000 + Int64(r(60_000)) }
        let firstMember = 5   // the demo's 1…4 are its known cards (two not active)
        var memberCards = (firstMember...members).map { DemoCatalog.cardNumber($0) }
        var stock = (0..<(members / 10 + caseCount * 17)).map { DemoCatalog.cardNumber(DemoCatalog.firstStockCard + $0) }
        stockCards = stock.count
        let customerOf = Dictionary(uniqueKeysWithValues: (1...members).map { (DemoCatalog.cardNumber($0), "M\($0)") })
        func customer(_ card: String) -> String { customerOf[card] ?? "M0" }
        var replaced: [String: String] = [:]
        var intents: [Intent] = []
        // Normal members: about 2.5 visits a week, 90% at their home store, one in ten redeeming.
        var injected = Set<String>()
        func take() -> String {
            var c = memberCards.remove(at: r(memberCards.count))
            while replaced[c] != nil { c = memberCards.remove(at: r(memberCards.count)) }
            injected.insert(c)
            return c
        }
        var newMembers: [String] = []
        for (i, card) in memberCards.enumerated() {
            let home = i % stores
            // On different days: nobody shops three times a day.
            var visited = Set<Int>()
            for _ in 0..<(days * 5 / 14 + r(3)) {
                let day = r(days)
                guard visited.insert(day).inserted else { continue }
                intents.append(Intent(time: at(day, r(720)), store: r(10) == 0 ? r(stores) : home, cashier: r(cashiersPerStore), card: card, redeem: r(10) == 0))
            }
        }
        // Shoppers without a card (a fifth of the sales), and the stores' refunds (about 2 a day, one in ten without a receipt).
        for _ in 0..<(intents.count / 4) { intents.append(Intent(time: at(r(days), r(720)), store: r(stores), cashier: r(cashiersPerStore))) }
        for day in 0..<days { for s in 0..<stores { for _ in 0..<r(4) {
            intents.append(Intent(time: at(day, r(720)), store: s, cashier: r(cashiersPerStore), refund: true, withReceipt: r(10) != 0))
        } } }
        // New members (3%), their later visits days apart.
        var service: [Step] = []
        for n in 0..<(members * 3 / 100) {
            let card = stock.removeFirst(), day = r(days - 3), s = r(stores)
            newMembers.append(card)
            intents.append(Intent(time: at(day, r(720)), store: s, cashier: r(cashiersPerStore), card: card,
                                  registration: Registration(cardNumber: card, firstName: "New", lastName: "Member \(n)", phone: "+49 151 \(5_000_000 + n)",
                                                             email: "new.member\(n)@example.com", postcode: nil, birthDate: nil, marketingConsent: false,
                                                             registeredAt: 0)))
            for v in 0..<r(4) { intents.append(Intent(time: at(day + 2 + v, r(720)), store: s, cashier: r(cashiersPerStore), card: card)) }
        }
        // Customer service's normal work: details corrected (0.5%), cards replaced (0.3%), members merged (0.1%).
        for _ in 0..<max(1, members / 200) { let c = memberCards[r(memberCards.count)]; service.append(.correctDetails(customerID: customer(c), phone: "+49 160 \(r(9_000_000) + 1_000_000)", at: at(r(days), r(720)))) }
        for _ in 0..<max(1, members * 3 / 1_000) {
            let c = memberCards[r(memberCards.count)]
            guard replaced[c] == nil else { continue }
            replaced[c] = stock.removeFirst()
        }
        // Each replacement at a time before which the old card is used and after which the new one is.
        var replacedAt: [String: Int64] = [:]
        for (old, new) in replaced { let t = at(r(days), r(720)); replacedAt[old] = t; service.append(.replaceCard(old: old, new: new, at: t)) }
        for _ in 0..<max(1, members / 1_000) {
            let a = memberCards[r(memberCards.count)], b = memberCards[r(memberCards.count)]
            guard a != b, replaced[a] == nil, replaced[b] == nil else { continue }
            service.append(.merge(source: customer(a), target: customer(b), at: at(r(days), r(720))))
        }
        for i in intents.indices { if let c = intents[i].card, let t = replacedAt[c], intents[i].time > t { intents[i].card = replaced[c] } }

        // The injected cases.
        var cases: [Case] = []
        let d0 = 7   // after the first week, so that a week's window is whole
        for k in 0..<caseCount {
            let day = d0 + k % (days - d0 - 1), s = k % stores
            // A card used 6 times in 50 minutes at one store.
            var card = take()
            for m in 0..<6 { intents.append(Intent(time: at(day, 300 + m * 9), store: s, cashier: m % cashiersPerStore, card: card)) }
            cases.append(Case(pattern: "card-sales-hour", subject: card))
            // A card redeeming 4 times in a day, hours apart.
            card = take()
            for m in 0..<4 { intents.append(Intent(time: at(day, 60 + m * 150), store: s, cashier: r(cashiersPerStore), card: card, redeem: true, forceBalance: true)) }
            cases.append(Case(pattern: "card-redemptions-day", subject: card))
            // A card at 4 stores in a day.
            card = take()
            for m in 0..<4 { intents.append(Intent(time: at(day, 30 + m * 170), store: (s + m) % stores, cashier: r(cashiersPerStore), card: card)) }
            cases.append(Case(pattern: "card-stores-day", subject: card))
            // A cashier's own card on 20 other customers' sales over a week.
            card = take()
            let cashier = k % cashiersPerStore
            for m in 0..<20 { intents.append(Intent(time: at(day - 6 + m / 3, r(700)), store: s, cashier: cashier, card: card)) }
            cases.append(Case(pattern: "card-one-cashier", subject: card))
            // Details changed (or the card replaced), then points redeemed two hours later.
            card = take()
            let t = at(day, 120)
            if k % 2 == 0 {
                service.append(.correctDetails(customerID: customer(card), phone: "+44 7700 \(900_000 + k)", at: t))
            } else {
                let new = stock.removeFirst()
                service.append(.replaceCard(old: card, new: new, at: t))
                card = new
            }
            intents.append(Intent(time: t + 7_200_000, store: s, cashier: r(cashiersPerStore), card: card, redeem: true, forceBalance: true))
            cases.append(Case(pattern: "redeem-after-change", subject: card))
            // Two members merged, then the moved card redeemed three hours later.
            let source = take(), target = take()
            service.append(.merge(source: customer(source), target: customer(target), at: t))
            intents.append(Intent(time: t + 10_800_000, store: s, cashier: r(cashiersPerStore), card: source, redeem: true, forceBalance: true))
            cases.append(Case(pattern: "merge-then-redeem", subject: source))
            // A new card's welcome bonus redeemed within the hour.
            card = stock.removeFirst()
            injected.insert(card)
            intents.append(Intent(time: t, store: s, cashier: r(cashiersPerStore), card: card,
                                  registration: Registration(cardNumber: card, firstName: "Quick", lastName: "Bonus \(k)", phone: "+49 152 \(7_000_000 + k)",
                                                             email: "quick.bonus\(k)@example.com", postcode: nil, birthDate: nil, marketingConsent: false, registeredAt: 0)))
            intents.append(Intent(time: t + 2_400_000, store: s, cashier: r(cashiersPerStore), card: card, redeem: true, forceBalance: true))
            cases.append(Case(pattern: "bonus-redeemed", subject: card))
            // Three sign-ups with one phone number in three days.
            let phone = "+49 170 \(8_000_000 + k)"
            for m in 0..<3 {
                let c = stock.removeFirst()
                injected.insert(c)
                intents.append(Intent(time: at(day - m, r(700)), store: (s + m) % stores, cashier: r(cashiersPerStore), card: c,
                                      registration: Registration(cardNumber: c, firstName: "Fake", lastName: "Signup \(k)-\(m)", phone: phone,
                                                                 email: "fake\(k)x\(m)@example.com", postcode: nil, birthDate: nil, marketingConsent: false,
                                                                 registeredAt: 0)))
            }
            cases.append(Case(pattern: "shared-details", subject: "phone:\(phone)"))
            // Five sign-ups in 40 minutes on one till, each with details of its own.
            let signUpStore = (s + 2) % stores, signUpTill = k % 2
            for m in 0..<5 {
                let c = stock.removeFirst()
                injected.insert(c)
                intents.append(Intent(time: at(day, 400 + m * 9), store: signUpStore, cashier: k % cashiersPerStore, card: c,
                                      registration: Registration(cardNumber: c, firstName: "Burst", lastName: "Signup \(k)-\(m)", phone: "+49 171 \(k * 10 + m + 1_000_000)",
                                                                 email: "burst\(k)x\(m)@example.com", postcode: nil, birthDate: nil, marketingConsent: false,
                                                                 registeredAt: 0),
                                      till: signUpTill))
            }
            cases.append(Case(pattern: "shared-device", subject: "till:\(storeIDs[signUpStore])/\(String(format: "%02d", 1 + signUpTill))"))
            // Cashiers: 9 refunds in a day; 5 refunds without a receipt; voids and overrides on most lines for a day.
            let c1 = (k + 1) % cashiersPerStore, c2 = (k + 2) % cashiersPerStore, c3 = (k + 3) % cashiersPerStore
            let cashierDay = day + 1
            for m in 0..<9 { intents.append(Intent(time: at(cashierDay, 30 + m * 70), store: s, cashier: c1, refund: true, withReceipt: true)) }
            for m in 0..<5 { intents.append(Intent(time: at(cashierDay + 1, 40 + m * 110), store: s, cashier: c2, refund: true, withReceipt: false)) }
            cases.append(Case(pattern: "cashier-refunds", subject: "\(storeIDs[s])/\(Self.cashierNumber(s, c1))"))
            cases.append(Case(pattern: "cashier-no-receipt", subject: "\(storeIDs[s])/\(Self.cashierNumber(s, c2))"))
            let sweet = (s + 1) % stores
            for m in 0..<30 { intents.append(Intent(time: at(cashierDay, m * 23), store: sweet, cashier: c3, voids: 2)) }
            for m in 0..<30 { intents.append(Intent(time: at(cashierDay + 2, m * 23), store: sweet, cashier: c1, overrides: 2)) }
            cases.append(Case(pattern: "cashier-voids", subject: "\(storeIDs[sweet])/\(Self.cashierNumber(sweet, c3))"))
            cases.append(Case(pattern: "cashier-overrides", subject: "\(storeIDs[sweet])/\(Self.cashierNumber(sweet, c1))"))
        }
        self.cases = cases
        normalCards = Set(memberCards + newMembers).subtracting(injected).subtracting(replaced.keys)
        let cashierSubjects = Set(cases.filter { $0.pattern.hasPrefix("cashier-") }.map(\.subject))
        normalCashiers = Set(storeIDs.enumerated().flatMap { s, id in (0..<cashiersPerStore).map { "\(id)/\(Self.cashierNumber(s, $0))" } }).subtracting(cashierSubjects)
        normalDevices = Set(storeIDs.flatMap { id in ["01", "02"].map { "till:\(id)/\($0)" } }).subtracting(cases.filter { $0.pattern == "shared-device" }.map(\.subject))

        // The documents, in time order, a sequence per till; batched by till and hour.
        intents.sort { $0.time < $1.time }
        service.sort { Self.time($0) < Self.time($1) }
        var balances: [String: Int64] = [:]
        for c in DemoCatalog.cards(members: members, stock: 0) { balances[c.number] = c.balance }
        var sequence: [String: Int64] = [:]
        var pending: [String: [OutboxDocument]] = [:]
        var lastSale: [Int: String] = [:]
        var steps: [Step] = []
        let span = max(1, batchHours) * 3_600_000
        var hour = intents.first.map { $0.time / span } ?? 0
        var nextService = 0
        func flush(at t: Int64) {
            for key in pending.keys.sorted() where !(pending[key] ?? []).isEmpty {
                let parts = key.split(separator: "/").map(String.init)
                steps.append(.documents(storeID: parts[0], tillID: parts[1], pending[key] ?? [], at: t))
            }
            pending = [:]
        }
        let products = DemoCatalog.featured.filter { !$0.soldByWeight }
        for intent in intents {
            while nextService < service.count, Self.time(service[nextService]) <= intent.time {
                flush(at: Self.time(service[nextService]))
                steps.append(service[nextService])
                nextService += 1
            }
            if intent.time / span != hour { flush(at: (hour + 1) * span); hour = intent.time / span }
            let storeID = storeIDs[intent.store], drawn = r(2), tillID = String(format: "%02d", 1 + (intent.till ?? drawn))
            let till = TillIdentity(storeID: storeID, storeName: "Store \(storeID)", tillID: tillID, currency: .eur)
            let key = "\(storeID)/\(tillID)"
            // A till numbers its sales and its refunds each in a sequence of its own.
            let counter = intent.refund ? "refund " + key : key
            let seq = (sequence[counter] ?? 0) + 1
            sequence[counter] = seq
            let cashier = Cashier(number: Self.cashierNumber(intent.store, intent.cashier), name: "Cashier \(intent.cashier + 1)", role: .cashier)
            if intent.refund {
                let amount = Int64(199 + r(3_000))
                let doc = RefundDocument(refundID: UUID(uuid: Self.uuid(&rng)).uuidString.lowercased(), storeID: storeID, tillID: tillID, sequence: seq,
                                         receiptNumber: "R\(storeID)\(tillID)-\(seq)", originalSaleID: intent.withReceipt ? lastSale[intent.store] : nil,
                                         originalReceipt: nil, cashier: cashier.number, supervisor: nil,
                                         createdAt: ProtocolTime.format(intent.time, timeZone: .gmt), currency: "EUR", total: amount,
                                         lines: [RefundDocument.Line(lineNumber: 1, sku: products[0].sku, description: products[0].description, quantityMilli: 1_000,
                                                                     amount: amount, taxCode: products[0].taxCode)],
                                         tenders: [RefundDocument.Tender(kind: "cash", amount: amount, reference: nil, points: nil)], loyalty: nil,
                                         reason: "changed mind")
                pending[key, default: []].append(OutboxDocument(refund: doc))
                continue
            }
            guard let doc = try? Self.sale(intent, till: till, cashier: cashier, sequence: seq, products: products, programme: programme,
                                           balances: &balances, rng: &rng) else { continue }
            lastSale[intent.store] = doc.saleID
            sales += 1
            pending[key, default: []].append(OutboxDocument(sale: doc))
            if pending[key]?.count ?? 0 >= 150 {
                steps.append(.documents(storeID: storeID, tillID: tillID, pending[key] ?? [], at: intent.time))
                pending[key] = []
            }
        }
        flush(at: (hour + 1) * span)
        while nextService < service.count { steps.append(service[nextService]); nextService += 1 }
        self.steps = steps
    }

    public static func cashierNumber(_ store: Int, _ cashier: Int) -> String { String(format: "%02d%02d", store + 1, cashier + 1) }

    public static func time(_ step: Step) -> Int64 {
        switch step {
        case .documents(_, _, _, let t), .correctDetails(_, _, let t), .replaceCard(_, _, let t), .merge(_, _, let t): t
        }
    }

    static func uuid(_ rng: inout SplitMix64) -> uuid_t {
        let a = rng.next(), b = rng.next()
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: a >> (8 * UInt64(i))); bytes[8 + i] = UInt8(truncatingIfNeeded: b >> (8 * UInt64(i))) }
        bytes[6] = bytes[6] & 0x0f | 0x40
        bytes[8] = bytes[8] & 0x3f | 0x80
        return (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10], bytes[11], bytes[12],
                bytes[13], bytes[14], bytes[15])
    }

    /// One sale as the till would make it: 2 to 5 lines, the intent's voids and overrides, the
    /// card (and registration), points redeemed as the programme allows, the rest in cash.
    static func sale(_ intent: Intent, till: TillIdentity, cashier: Cashier, sequence: Int64, products: [Product], programme: LoyaltyProgramme,
                     balances: inout [String: Int64], rng: inout SplitMix64) throws -> SaleDocument {
        var sale = OpenSale(id: SaleID.make(at: intent.time), startedAt: intent.time - 60_000, cashier: cashier, currency: till.currency)
        for _ in 0..<(2 + Int(rng.next() % 4) + intent.voids) {
            let p = products[Int(rng.next() % UInt64(products.count))]
            sale = try sale.trying(.addLine(item: LineItem(
                sku: p.sku, description: p.description, category: p.category, taxCode: p.taxCode,
                taxBasisPoints: standardTaxRates[p.taxCode]?.basisPoints ?? 0, unitPrice: p.unitPrice, quantity: .units(1), code: p.barcodes.first ?? p.plu)))
        }
        let voids = intent.voids > 0 ? intent.voids : (rng.next() % 6 == 0 ? 1 : 0)
        for v in 0..<voids where sale.basket.lines.count > v + 1 { sale = try sale.trying(.voidLine(number: v + 1)) }
        let overrides = intent.overrides > 0 ? intent.overrides : (rng.next() % 8 == 0 ? 1 : 0)
        for line in sale.basket.lines.filter({ !$0.voided }).suffix(overrides) {
            sale = try sale.trying(.overridePrice(number: line.number, unitPrice: max(1, line.item.unitPrice * 8 / 10), reason: "damaged"))
        }
        var customer: SaleCustomer?
        if let card = intent.card {
            var balance = balances[card] ?? 0
            if intent.forceBalance { balance = max(balance, 3_000) }
            let first = programme.tier(for: 0)
            customer = SaleCustomer(cardNumber: card, customerID: card, name: "Member", tierCode: first?.code, tierName: first?.name, balance: Points(balance),
                                    qualifying: 0, offlineLeft: nil, provisional: intent.registration != nil,
                                    registration: intent.registration.map { var r = $0; r.registeredAt = intent.time; return r })
            sale = try sale.trying(.identifyCustomer(customer: customer!))
        }
        if let c = customer, intent.redeem, intent.registration == nil {
            let t = sale.basket.totals
            let limit = programme.redemptionLimit(available: c.balance, total: t.total, due: t.due)
            if limit > 0, let points = programme.points(forAmount: limit), points >= programme.redemption.minimumPoints, points <= c.balance {
                sale = try sale.trying(.addTender(tender: Tender(kind: .points, amount: limit, points: points)))
            }
        }
        sale = try sale.trying(.addTender(tender: Tender(kind: .cash, amount: sale.basket.totals.due)))
        let loyalty = customer.map {
            programme.outcome(for: sale.basket, customer: $0, context: EarnContext(
                time: LocalDateTime(minutes: intent.time / 60_000), storeID: till.storeID, tierCode: $0.tierCode, priorPurchases: $0.priorPurchases,
                offers: []), saleID: sale.id)
        }
        if let l = loyalty, let card = intent.card {
            balances[card] = (balances[card] ?? 0) + (l.earned.total + l.welcome.total - l.redeemed).count
        }
        let completed = try sale.complete(sequence: sequence, at: intent.time, till: till, loyalty: loyalty)
        return SaleDocument(completed, timeZone: .gmt)
    }
}
