import Foundation
import TillProtocol

/// Reads an ingest request's body straight into `IngestBatch`, without `Codable`'s containers
/// (Foundation's JSONDecoder took a quarter of head office's CPU at full ingest). It accepts
/// exactly what JSONDecoder accepts for well-formed bodies and gives up — nil — on anything
/// else: a wrong type, a missing field, a repeated key, a number with a fraction. The caller then
/// decodes with JSONDecoder, whose error message names the field. Tests check both decoders
/// agree on generated documents.
///
/// Also returns each sale's JSON exactly as sent (stored as is).
enum FastIngestDecoder {
    static func decode(_ body: UnsafeRawBufferPointer) -> (IngestBatch, [String?])? {
        var r = Reader(bytes: body)
        do {
            var storeID: String?, tillID: String?
            var documents: [OutboxDocument]?
            var raws: [String?] = []
            try r.object { r, key throws(Fail) in
                switch key {
                case "storeID": try once(&storeID, r.string())
                case "tillID": try once(&tillID, r.string())
                case "documents":
                    guard documents == nil else { throw Fail() }
                    var docs: [OutboxDocument] = []
                    try r.array { r throws(Fail) in
                        let (d, raw) = try document(&r)
                        docs.append(d)
                        raws.append(raw)
                    }
                    documents = docs
                default: try r.skipValue()
                }
            }
            try r.end()
            guard let storeID, let tillID, let documents else { return nil }
            return (IngestBatch(storeID: storeID, tillID: tillID, documents: documents), raws)
        } catch {
            return nil
        }
    }

    struct Fail: Error {}

    /// The whole-number fields of ingest documents.
    static let integerFields: Set<String> = [
        "schemaVersion", "sequence", "lineNumber", "quantityMilli", "unitPrice", "amount", "value", "lineDiscount", "saleDiscountShare",
        "net", "taxRateBasisPoints", "rateBasisPoints", "gross", "vat", "points", "subtotal", "lineDiscounts", "saleDiscount", "total",
        "paid", "change", "itemCount", "localMinutes", "qualifying", "redeemed", "redeemedValue", "balanceBefore", "balanceAfter",
        "offlineLeft", "toNextTier", "pointsTakenBack", "pointsRestored", "number", "from", "to", "salesCount", "salesValue",
        "refundsValue", "netSales", "expiringSoon", "expiringBy", "validTo", "usesLeft", "offerDiscount", "offerDiscounts", "minSpend",
    ]

    /// The first whole-number field whose value is a fraction, an exponent or past Int64, named
    /// with its value (JSONDecoder's error for these names no field); nil if there is none.
    static func numberProblem(_ body: UnsafeRawBufferPointer, integerFields: Set<String> = integerFields) -> String? {
        var i = 0, lastString: Range<Int>? = nil, key: String? = nil
        let n = body.count
        while i < n {
            let b = body[i]
            if b == 0x22 {
                let start = i + 1
                i += 1
                while i < n, body[i] != 0x22 { i += body[i] == 0x5C ? 2 : 1 }
                lastString = start..<min(i, n)
                i += 1
                continue
            }
            if b == 0x3A, let r = lastString {
                key = String(decoding: UnsafeRawBufferPointer(rebasing: body[r]), as: UTF8.self)
                lastString = nil
            } else if b == 0x2D || (0x30...0x39).contains(b) {
                let start = i
                while i < n, body[i] == 0x2D || body[i] == 0x2B || body[i] == 0x2E || body[i] == 0x65 || body[i] == 0x45 || (0x30...0x39).contains(body[i]) { i += 1 }
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: body[start..<i]), as: UTF8.self)
                if let k = key, integerFields.contains(k), Int64(text) == nil {
                    return "\(k) \(text.prefix(40)) is not a whole number from \(Int64.min) to \(Int64.max)"
                }
                key = nil
                continue
            } else if b == 0x2C || b == 0x7B || b == 0x5B {
                key = b == 0x5B ? key : nil
                lastString = nil
            }
            i += 1
        }
        return nil
    }

    /// How deeply objects and arrays nest in `body` (strings skipped); checked before a body is
    /// given to JSONDecoder, which would recurse that deep.
    static func nestingDepth(_ body: UnsafeRawBufferPointer) -> Int {
        var depth = 0, deepest = 0, inString = false, escaped = false
        for b in body {
            if inString {
                if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false }
                continue
            }
            switch b {
            case 0x22: inString = true
            case 0x7B, 0x5B:
                depth += 1
                deepest = max(deepest, depth)
            case 0x7D, 0x5D: depth -= 1
            default: break
            }
        }
        return deepest
    }

    static func once<T>(_ slot: inout T?, _ value: T) throws(Fail) {
        guard slot == nil else { throw Fail() }
        slot = value
    }

    static func document(_ r: inout Reader) throws(Fail) -> (OutboxDocument, String?) {
        var kind: String?, id: String?
        var sale: SaleDocument?, raw: String?
        var registration: RegistrationDocument?, refund: RefundDocument?, zreport: ZReportSummary?
        // Each of `sale`, `registration`, `refund` and `zreport` at most once (one bit each).
        var seen: UInt8 = 0
        func present(_ bit: UInt8, _ r: inout Reader) throws(Fail) -> Bool {
            guard seen & bit == 0 else { throw Fail() }
            seen |= bit
            return !r.null()
        }
        try r.object { r, key throws(Fail) in
            switch key {
            case "kind": try once(&kind, r.string())
            case "id": try once(&id, r.string())
            case "sale":
                guard try present(1, &r) else { break }
                let start = r.at
                sale = try saleDocument(&r)
                raw = r.text(start..<r.at)
            // Rarer than sales (a card issued without a sale, a return, a till's day closed):
            // Codable is fine for these, one document at a time. A batch holding one of them
            // is still read here, its sales stored as sent.
            case "registration": if try present(2, &r) { registration = try codable(&r) }
            case "refund": if try present(4, &r) { refund = try codable(&r) }
            case "zreport": if try present(8, &r) { zreport = try codable(&r) }
            default: try r.skipValue()
            }
        }
        guard let kind, let id, var d = sale.map(OutboxDocument.init(sale:)) ?? registration.map(OutboxDocument.init(registration:))
                ?? refund.map(OutboxDocument.init(refund:)) ?? zreport.map(OutboxDocument.init(zreport:)) else {
            throw Fail()
        }
        d.kind = kind
        d.id = id
        d.sale = sale
        d.registration = registration
        d.refund = refund
        d.zreport = zreport
        return (d, raw)
    }

    /// The value at the reader read by JSONDecoder (anything it refuses is left to the whole
    /// body's JSONDecoder, whose message names the field).
    static func codable<T: Decodable>(_ r: inout Reader) throws(Fail) -> T {
        let start = r.at
        try r.skipValue()
        guard let d = try? JSONDecoder().decode(T.self, from: Data(r.bytes[start..<r.at])) else { throw Fail() }
        return d
    }

    static func saleDocument(_ r: inout Reader) throws(Fail) -> SaleDocument {
        var schemaVersion: Int?, saleID: String?, storeID: String?, tillID: String?, sequence: Int64?, receiptNumber: String?
        var cashier: SaleDocument.CashierInfo?, startedAt: String?, completedAt: String?, currency: String?
        var lines: [SaleDocument.Line]?, saleDiscount: SaleDocument.DiscountInfo??, vat: [SaleDocument.VAT]?
        var tenders: [SaleDocument.TenderInfo]?, totals: SaleDocument.Totals?, loyalty: SaleDocument.LoyaltyInfo??
        try r.object { r, key throws(Fail) in
            switch key {
            case "schemaVersion": try once(&schemaVersion, Int(r.int()))
            case "saleID": try once(&saleID, r.string())
            case "storeID": try once(&storeID, r.string())
            case "tillID": try once(&tillID, r.string())
            case "sequence": try once(&sequence, r.int())
            case "receiptNumber": try once(&receiptNumber, r.string())
            case "cashier":
                var number: String?, name: String?
                try r.object { r, k throws(Fail) in
                    switch k {
                    case "number": try once(&number, r.string())
                    case "name": try once(&name, r.string())
                    default: try r.skipValue()
                    }
                }
                guard let number, let name else { throw Fail() }
                try once(&cashier, SaleDocument.CashierInfo(number: number, name: name))
            case "startedAt": try once(&startedAt, r.string())
            case "completedAt": try once(&completedAt, r.string())
            case "currency": try once(&currency, r.string())
            case "lines":
                var out: [SaleDocument.Line] = []
                try r.array { r throws(Fail) in out.append(try line(&r)) }
                try once(&lines, out)
            case "saleDiscount": try once(&saleDiscount, r.null() ? nil : discount(&r))
            case "vat":
                var out: [SaleDocument.VAT] = []
                try r.array { r throws(Fail) in out.append(try vatRow(&r)) }
                try once(&vat, out)
            case "tenders":
                var out: [SaleDocument.TenderInfo] = []
                try r.array { r throws(Fail) in out.append(try tender(&r)) }
                try once(&tenders, out)
            case "totals": try once(&totals, totalsRow(&r))
            case "loyalty": try once(&loyalty, r.null() ? nil : loyaltyInfo(&r))
            default: try r.skipValue()
            }
        }
        guard let schemaVersion, let saleID, let storeID, let tillID, let sequence, let receiptNumber, let cashier, let startedAt,
              let completedAt, let currency, let lines, let vat, let tenders, let totals else { throw Fail() }
        return SaleDocument(schemaVersion: schemaVersion, saleID: saleID, storeID: storeID, tillID: tillID, sequence: sequence,
                            receiptNumber: receiptNumber, cashier: cashier, startedAt: startedAt, completedAt: completedAt,
                            currency: currency, lines: lines, saleDiscount: saleDiscount ?? nil, vat: vat, tenders: tenders,
                            totals: totals, loyalty: loyalty ?? nil)
    }

    static func discount(_ r: inout Reader) throws(Fail) -> SaleDocument.DiscountInfo {
        var kind: String?, value: Int64?, reason: String??
        try r.object { r, k throws(Fail) in
            switch k {
            case "kind": try once(&kind, r.string())
            case "value": try once(&value, r.int())
            case "reason": try once(&reason, r.null() ? nil : r.string())
            default: try r.skipValue()
            }
        }
        guard let kind, let value else { throw Fail() }
        return SaleDocument.DiscountInfo(kind: kind, value: value, reason: reason ?? nil)
    }

    static func line(_ r: inout Reader) throws(Fail) -> SaleDocument.Line {
        var lineNumber: Int64?, sku: String?, description: String?, category: String?, code: String??, quantityMilli: Int64?
        var soldByWeight: Bool?, unitPrice: Int64?, priceFromLabel: Bool?, amount: Int64?, discount: SaleDocument.DiscountInfo??
        var lineDiscount: Int64?, saleDiscountShare: Int64?, net: Int64?, taxCode: String?, taxRate: Int64?, voided: Bool?
        var priceOverride: SaleDocument.PriceOverrideInfo??, offerDiscount: Int64??
        try r.object { r, k throws(Fail) in
            switch k {
            case "priceOverride": try once(&priceOverride, r.null() ? nil : FastIngestDecoder.priceOverride(&r))
            case "offerDiscount": try once(&offerDiscount, r.null() ? nil : r.int())
            case "lineNumber": try once(&lineNumber, r.int())
            case "sku": try once(&sku, r.string())
            case "description": try once(&description, r.string())
            case "category": try once(&category, r.string())
            case "code": try once(&code, r.null() ? nil : r.string())
            case "quantityMilli": try once(&quantityMilli, r.int())
            case "soldByWeight": try once(&soldByWeight, r.bool())
            case "unitPrice": try once(&unitPrice, r.int())
            case "priceFromLabel": try once(&priceFromLabel, r.bool())
            case "amount": try once(&amount, r.int())
            case "discount": try once(&discount, r.null() ? nil : FastIngestDecoder.discount(&r))
            case "lineDiscount": try once(&lineDiscount, r.int())
            case "saleDiscountShare": try once(&saleDiscountShare, r.int())
            case "net": try once(&net, r.int())
            case "taxCode": try once(&taxCode, r.string())
            case "taxRateBasisPoints": try once(&taxRate, r.int())
            case "voided": try once(&voided, r.bool())
            default: try r.skipValue()
            }
        }
        guard let lineNumber, let lineNo = Int(exactly: lineNumber), let sku, let description, let category, let quantityMilli,
              let soldByWeight, let unitPrice, let priceFromLabel, let amount, let lineDiscount, let saleDiscountShare, let net,
              let taxCode, let taxRate, let voided else { throw Fail() }
        return SaleDocument.Line(lineNumber: lineNo, sku: sku, description: description, category: category, code: code ?? nil,
                                 quantityMilli: quantityMilli, soldByWeight: soldByWeight, unitPrice: unitPrice, priceFromLabel: priceFromLabel,
                                 amount: amount, discount: discount ?? nil, lineDiscount: lineDiscount, saleDiscountShare: saleDiscountShare,
                                 net: net, taxCode: taxCode, taxRateBasisPoints: taxRate, voided: voided, priceOverride: priceOverride ?? nil,
                                 offerDiscount: offerDiscount ?? nil)
    }

    static func priceOverride(_ r: inout Reader) throws(Fail) -> SaleDocument.PriceOverrideInfo {
        var listPrice: Int64?, reason: String??
        try r.object { r, k throws(Fail) in
            switch k {
            case "listPrice": try once(&listPrice, r.int())
            case "reason": try once(&reason, r.null() ? nil : r.string())
            default: try r.skipValue()
            }
        }
        guard let listPrice else { throw Fail() }
        return SaleDocument.PriceOverrideInfo(listPrice: listPrice, reason: reason ?? nil)
    }

    static func vatRow(_ r: inout Reader) throws(Fail) -> SaleDocument.VAT {
        var code: String?, rate: Int64?, gross: Int64?, vat: Int64?, net: Int64?
        try r.object { r, k throws(Fail) in
            switch k {
            case "code": try once(&code, r.string())
            case "rateBasisPoints": try once(&rate, r.int())
            case "gross": try once(&gross, r.int())
            case "vat": try once(&vat, r.int())
            case "net": try once(&net, r.int())
            default: try r.skipValue()
            }
        }
        guard let code, let rate, let gross, let vat, let net else { throw Fail() }
        return SaleDocument.VAT(code: code, rateBasisPoints: rate, gross: gross, vat: vat, net: net)
    }

    static func tender(_ r: inout Reader) throws(Fail) -> SaleDocument.TenderInfo {
        var kind: String?, amount: Int64?, reference: String??, points: Int64??
        try r.object { r, k throws(Fail) in
            switch k {
            case "kind": try once(&kind, r.string())
            case "amount": try once(&amount, r.int())
            case "reference": try once(&reference, r.null() ? nil : r.string())
            case "points": try once(&points, r.null() ? nil : r.int())
            default: try r.skipValue()
            }
        }
        guard let kind, let amount else { throw Fail() }
        return SaleDocument.TenderInfo(kind: kind, amount: amount, reference: reference ?? nil, points: points ?? nil)
    }

    static func totalsRow(_ r: inout Reader) throws(Fail) -> SaleDocument.Totals {
        var subtotal: Int64?, lineDiscounts: Int64?, saleDiscount: Int64?, total: Int64?, paid: Int64?, change: Int64?, itemCount: Int64?
        var offerDiscounts: Int64??
        try r.object { r, k throws(Fail) in
            switch k {
            case "offerDiscounts": try once(&offerDiscounts, r.null() ? nil : r.int())
            case "subtotal": try once(&subtotal, r.int())
            case "lineDiscounts": try once(&lineDiscounts, r.int())
            case "saleDiscount": try once(&saleDiscount, r.int())
            case "total": try once(&total, r.int())
            case "paid": try once(&paid, r.int())
            case "change": try once(&change, r.int())
            case "itemCount": try once(&itemCount, r.int())
            default: try r.skipValue()
            }
        }
        guard let subtotal, let lineDiscounts, let saleDiscount, let total, let paid, let change, let itemCount else { throw Fail() }
        return SaleDocument.Totals(subtotal: subtotal, lineDiscounts: lineDiscounts, saleDiscount: saleDiscount, total: total, paid: paid,
                                   change: change, itemCount: itemCount, offerDiscounts: offerDiscounts ?? nil)
    }

    static func awardParts(_ r: inout Reader) throws(Fail) -> [SaleDocument.AwardPart] {
        var out: [SaleDocument.AwardPart] = []
        try r.array { r throws(Fail) in
            var rule: String?, label: String?, points: Int64?
            try r.object { r, k throws(Fail) in
                switch k {
                case "rule": try once(&rule, r.string())
                case "label": try once(&label, r.string())
                case "points": try once(&points, r.int())
                default: try r.skipValue()
                }
            }
            guard let rule, let label, let points else { throw Fail() }
            out.append(SaleDocument.AwardPart(rule: rule, label: label, points: points))
        }
        return out
    }

    static func loyaltyInfo(_ r: inout Reader) throws(Fail) -> SaleDocument.LoyaltyInfo {
        var cardNumber: String?, customerID: String??, customerName: String?, programmeVersion: String?, localMinutes: Int64?
        var tierCode: String??, tierName: String??, priorPurchases: [String: Int64]?, qualifying: Int64?
        var earned: [SaleDocument.AwardPart]?, welcome: [SaleDocument.AwardPart]?, redeemed: Int64?, redeemedValue: Int64?
        var balanceBefore: Int64?, balanceAfter: Int64?, provisional: Bool?, offlineLeft: Int64??, nextTierName: String??
        var toNextTier: Int64??, registration: SaleDocument.RegistrationInfo??, expiringSoon: Int64??, expiringBy: Int64??
        var openOffers: [SaleDocument.OpenOffer]??, offerDiscounts: [SaleDocument.OfferDiscountInfo]??, challenges: [SaleDocument.ChallengeInfo]??
        try r.object { r, k throws(Fail) in
            switch k {
            case "cardNumber": try once(&cardNumber, r.string())
            case "customerID": try once(&customerID, r.null() ? nil : r.string())
            case "customerName": try once(&customerName, r.string())
            case "programmeVersion": try once(&programmeVersion, r.string())
            case "localMinutes": try once(&localMinutes, r.int())
            case "tierCode": try once(&tierCode, r.null() ? nil : r.string())
            case "tierName": try once(&tierName, r.null() ? nil : r.string())
            case "priorPurchases":
                var map: [String: Int64] = [:]
                try r.object { r, k throws(Fail) in
                    let sku = k.string
                    guard map[sku] == nil else { throw Fail() }
                    map[sku] = try r.int()
                }
                try once(&priorPurchases, map)
            case "qualifying": try once(&qualifying, r.int())
            case "earned": try once(&earned, awardParts(&r))
            case "welcome": try once(&welcome, awardParts(&r))
            case "redeemed": try once(&redeemed, r.int())
            case "redeemedValue": try once(&redeemedValue, r.int())
            case "balanceBefore": try once(&balanceBefore, r.int())
            case "balanceAfter": try once(&balanceAfter, r.int())
            case "provisional": try once(&provisional, r.bool())
            case "offlineLeft": try once(&offlineLeft, r.null() ? nil : r.int())
            case "nextTierName": try once(&nextTierName, r.null() ? nil : r.string())
            case "toNextTier": try once(&toNextTier, r.null() ? nil : r.int())
            case "registration": try once(&registration, r.null() ? nil : registrationInfo(&r))
            case "expiringSoon": try once(&expiringSoon, r.null() ? nil : r.int())
            case "expiringBy": try once(&expiringBy, r.null() ? nil : r.int())
            case "openOffers": try once(&openOffers, r.null() ? nil : openOfferList(&r))
            case "offerDiscounts": try once(&offerDiscounts, r.null() ? nil : offerDiscountList(&r))
            case "challenges": try once(&challenges, r.null() ? nil : challengeList(&r))
            default: try r.skipValue()
            }
        }
        guard let cardNumber, let customerName, let programmeVersion, let localMinutes, let priorPurchases, let qualifying, let earned,
              let welcome, let redeemed, let redeemedValue, let balanceBefore, let balanceAfter, let provisional else { throw Fail() }
        return SaleDocument.LoyaltyInfo(
            cardNumber: cardNumber, customerID: customerID ?? nil, customerName: customerName, programmeVersion: programmeVersion,
            localMinutes: localMinutes, tierCode: tierCode ?? nil, tierName: tierName ?? nil, priorPurchases: priorPurchases,
            qualifying: qualifying, earned: earned, welcome: welcome, redeemed: redeemed, redeemedValue: redeemedValue,
            balanceBefore: balanceBefore, balanceAfter: balanceAfter, provisional: provisional, offlineLeft: offlineLeft ?? nil,
            nextTierName: nextTierName ?? nil, toNextTier: toNextTier ?? nil, registration: registration ?? nil,
            expiringSoon: expiringSoon ?? nil, expiringBy: expiringBy ?? nil, openOffers: openOffers ?? nil,
            offerDiscounts: offerDiscounts ?? nil, challenges: challenges ?? nil)
    }

    static func challengeList(_ r: inout Reader) throws(Fail) -> [SaleDocument.ChallengeInfo] {
        var out: [SaleDocument.ChallengeInfo] = []
        try r.array { r throws(Fail) in
            var id: String?, name: String?, value: Int64?, goal: Int64?, unit: String?, completed: Bool?, reward: Int64?, badge: String??
            try r.object { r, k throws(Fail) in
                switch k {
                case "id": try once(&id, r.string())
                case "name": try once(&name, r.string())
                case "value": try once(&value, r.int())
                case "goal": try once(&goal, r.int())
                case "unit": try once(&unit, r.string())
                case "completed": try once(&completed, r.bool())
                case "rewardPoints": try once(&reward, r.int())
                case "badge": try once(&badge, r.null() ? nil : r.string())
                default: try r.skipValue()
                }
            }
            guard let id, let name, let value, let goal, let unit, let completed, let reward else { throw Fail() }
            out.append(SaleDocument.ChallengeInfo(id: id, name: name, value: value, goal: goal, unit: unit, completed: completed, rewardPoints: reward,
                                                  badge: badge ?? nil))
        }
        return out
    }

    static func openOfferList(_ r: inout Reader) throws(Fail) -> [SaleDocument.OpenOffer] {
        var out: [SaleDocument.OpenOffer] = []
        try r.array { r throws(Fail) in
            var id: String?, name: String?, validTo: Int64?, usesLeft: Int64?
            try r.object { r, k throws(Fail) in
                switch k {
                case "id": try once(&id, r.string())
                case "name": try once(&name, r.string())
                case "validTo": try once(&validTo, r.int())
                case "usesLeft": try once(&usesLeft, r.int())
                default: try r.skipValue()
                }
            }
            guard let id, let name, let validTo, let usesLeft else { throw Fail() }
            out.append(SaleDocument.OpenOffer(id: id, name: name, validTo: validTo, usesLeft: usesLeft))
        }
        return out
    }

    static func registrationInfo(_ r: inout Reader) throws(Fail) -> SaleDocument.RegistrationInfo {
        var cardNumber: String?, firstName: String?, lastName: String?, phone: String??, email: String??, postcode: String??
        var birthDate: String??, consent: Bool?, registeredAt: String?, referral: String??
        try r.object { r, k throws(Fail) in
            switch k {
            case "cardNumber": try once(&cardNumber, r.string())
            case "firstName": try once(&firstName, r.string())
            case "lastName": try once(&lastName, r.string())
            case "phone": try once(&phone, r.null() ? nil : r.string())
            case "email": try once(&email, r.null() ? nil : r.string())
            case "postcode": try once(&postcode, r.null() ? nil : r.string())
            case "birthDate": try once(&birthDate, r.null() ? nil : r.string())
            case "marketingConsent": try once(&consent, r.bool())
            case "registeredAt": try once(&registeredAt, r.string())
            case "referralCode": try once(&referral, r.null() ? nil : r.string())
            default: try r.skipValue()
            }
        }
        guard let cardNumber, let firstName, let lastName, let consent, let registeredAt else { throw Fail() }
        return SaleDocument.RegistrationInfo(cardNumber: cardNumber, firstName: firstName, lastName: lastName, phone: phone ?? nil,
                                             email: email ?? nil, postcode: postcode ?? nil, birthDate: birthDate ?? nil,
                                             marketingConsent: consent, registeredAt: registeredAt, referralCode: referral ?? nil)
    }

    /// Objects and arrays nest at most this deep in a body (a batch's own documents use 5).
    static let maxDepth = 64
}
