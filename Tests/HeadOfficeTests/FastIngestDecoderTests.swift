import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillDocuments
import TillSync
import TillTestSupport

/// The fast reader of ingest bodies agrees with JSONDecoder on every document it accepts, and
/// leaves everything doubtful to JSONDecoder (nil).
@Suite("Fast ingest decoder")
struct FastIngestDecoderTests {
    func fast(_ text: String) -> (IngestBatch, [String?])? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { FastIngestDecoder.decode($0) }
    }

    func slow(_ text: String) -> IngestBatch? { try? JSONDecoder().decode(IngestBatch.self, from: Data(text.utf8)) }

    @Test func agreesWithJSONDecoderOnGeneratedSales() throws {
        let till = try TillSide(seed: 11)
        try till.generator.ring(120, redeemEvery: 3)
        let entries = try till.db.pendingOutbox(limit: 1_000)
        let body = String(decoding: Forwarder.batchBody(entries, storeID: "0001", tillID: "01"), as: UTF8.self)
        let (batch, raws) = try #require(fast(body))
        #expect(batch == slow(body))
        #expect(raws == entries.map { $0.payload })
        // Pretty-printed, keys sorted differently, with escapes: the same values.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let pretty = String(decoding: try encoder.encode(batch), as: UTF8.self)
        #expect(fast(pretty)?.0 == batch)
    }

    /// A till's refund and Z report, as its outbox journals them.
    static func refundAndZReport(of sale: SaleDocument, sequence: Int64) throws -> [OutboxEntry] {
        let line = sale.lines[0]
        let refund = RefundDocument(
            refundID: "0190f000-0000-7000-8000-00000000r001", storeID: sale.storeID, tillID: sale.tillID, sequence: sequence,
            receiptNumber: "0001-01-R00001", originalSaleID: sale.saleID, originalReceipt: sale.receiptNumber, cashier: "1", supervisor: nil,
            createdAt: "2026-11-20T10:00:00.000Z", currency: "EUR", total: line.net,
            lines: [.init(lineNumber: 1, sku: line.sku, description: "Crème \"brûlée\"", quantityMilli: 1_000, amount: line.net, taxCode: line.taxCode)],
            tenders: [.init(kind: "cash", amount: line.net, reference: nil, points: nil)],
            loyalty: sale.loyalty.map { .init(cardNumber: $0.cardNumber, pointsTakenBack: 1, pointsRestored: 0) })
        let z = ZReportSummary(kind: "Z", number: 1, storeID: sale.storeID, tillID: sale.tillID, currency: "EUR", from: 0, to: 1_795_000_000_000,
                               salesCount: 1, salesValue: 100, refundsValue: line.net, netSales: 100 - line.net)
        return [
            OutboxEntry(id: 90_001, kind: "refund", refID: refund.refundID, sequence: sequence, payload: String(decoding: try JSONEncoder().encode(refund), as: UTF8.self),
                        createdAt: 0),
            OutboxEntry(id: 90_002, kind: "zreport", refID: ZReportSummary.documentID(storeID: z.storeID, tillID: z.tillID, number: z.number), sequence: nil,
                        payload: String(decoding: try JSONEncoder().encode(z), as: UTF8.self), createdAt: 0),
        ]
    }

    /// A batch with a refund or a Z report among its sales is read here too (it was left whole to
    /// JSONDecoder, every sale then encoded again for storage: a third of head office's CPU on a
    /// month with returns in most batches).
    @Test func readsRefundsAndZReportsAmongSalesAsJSONDecoderDoes() throws {
        let till = try TillSide(seed: 17)
        try till.generator.ring(6, redeemEvery: 2)
        var entries = try till.db.pendingOutbox(limit: 1_000)
        let sale = try #require(try till.db.saleDocuments().first)
        entries.insert(contentsOf: try Self.refundAndZReport(of: sale, sequence: 7), at: 3)
        let body = String(decoding: Forwarder.batchBody(entries, storeID: "0001", tillID: "01"), as: UTF8.self)
        let (batch, raws) = try #require(fast(body), "a batch with a refund and a Z report was left to JSONDecoder")
        #expect(batch == slow(body))
        #expect(batch.documents.map(\.kind) == entries.map(\.kind))
        #expect(batch.documents[3].refund?.lines[0].description == "Crème \"brûlée\"")
        #expect(batch.documents[4].zreport?.number == 1)
        // Each sale's JSON as sent; none for the others (head office encodes those itself).
        #expect(raws == entries.map { $0.kind == "sale" ? $0.payload : nil })
        // A Z report JSONDecoder refuses (a fraction where a whole number goes) leaves the batch to it.
        let fraction = body.replacingOccurrences(of: "\"salesValue\":100", with: "\"salesValue\":100.5")
        #expect(fraction != body)
        #expect(fast(fraction) == nil && slow(fraction) == nil)
        // Two refunds in one document: a repeated key is left to JSONDecoder.
        let twice = body.replacingOccurrences(of: "\"refund\":{", with: "\"refund\":null,\"refund\":{")
        #expect(twice != body)
        #expect(fast(twice) == nil)
    }

    @Test func readsEscapesNullsAndUnknownKeysAsJSONDecoderDoes() throws {
        let dir = TemporaryDirectory("fast-decoder")
        let db = try makeDemoDatabase(in: dir)
        var generator = SaleGenerator(database: db, seed: 2)
        try generator.ring(1)
        var sale = try #require(try db.saleDocuments().first)
        sale.lines[0].description = "Crème \"brûlée\" \\ 1/2 \n tab\t € 😀 \u{1}"
        sale.cashier.name = "Ольга"
        let json = String(decoding: try JSONEncoder().encode(IngestBatch(storeID: "0001", tillID: "01", documents: [OutboxDocument(sale: sale)])), as: UTF8.self)
        #expect(fast(json)?.0 == slow(json))
        #expect(fast(json)?.0.documents[0].sale?.lines[0].description == sale.lines[0].description)
        // \u escapes, surrogate pairs, explicit nulls for optionals, keys head office does not know.
        let tweaked = json
            .replacingOccurrences(of: "\"sku\":", with: "\"extra\":{\"a\":[1,2.5,-3e2,true,false,null,\"x\"]},\"sku\":")
            .replacingOccurrences(of: "Ольга", with: "\\u041e\\u043b\\u044c\\u0433\\u0430 \\ud83d\\ude00")
        let a = try #require(fast(tweaked)?.0)
        #expect(a == slow(tweaked))
        #expect(a.documents[0].sale?.cashier.name == "Ольга 😀")
        // Keys written with escapes name the same fields; a key that only looks like one does not.
        let escapedKeys = json.replacingOccurrences(of: "\"category\":", with: "\"c\\u0061tegory\":")
            .replacingOccurrences(of: "\"cashier\":", with: "\"\\u0063ashier\":")
        #expect(escapedKeys != json)
        let e = try #require(fast(escapedKeys)?.0)
        #expect(e == slow(escapedKeys))
        #expect(e == slow(json))
        let lookalike = json.replacingOccurrences(of: "\"category\":", with: "\"category \":")
        #expect(fast(lookalike) == nil)
    }

    /// A line's price override (the price it had and why) reads as JSONDecoder reads it; one
    /// without its old price is refused by both.
    @Test func readsAPriceOverrideAsJSONDecoderDoes() throws {
        let dir = TemporaryDirectory("fast-decoder")
        let db = try makeDemoDatabase(in: dir)
        var generator = SaleGenerator(database: db, seed: 3)
        try generator.ring(1)
        var sale = try #require(try db.saleDocuments().first)
        sale.lines[0].priceOverride = SaleDocument.PriceOverrideInfo(listPrice: 199, reason: "Price match")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys      // "listPrice" before "reason", for the edits below
        let json = String(decoding: try encoder.encode(IngestBatch(storeID: "0001", tillID: "01", documents: [OutboxDocument(sale: sale)])), as: UTF8.self)
        #expect(json.contains("\"listPrice\":199,"))
        #expect(fast(json)?.0 == slow(json))
        #expect(fast(json)?.0.documents[0].sale?.lines[0].priceOverride == sale.lines[0].priceOverride)
        let nullReason = json.replacingOccurrences(of: "\"reason\":\"Price match\"", with: "\"reason\":null")
        #expect(fast(nullReason)?.0 == slow(nullReason))
        let noPrice = json.replacingOccurrences(of: "\"listPrice\":199,", with: "")
        #expect(slow(noPrice) == nil)
        #expect(fast(noPrice) == nil)
    }

    /// A member's offers that took money off (their terms, per line and in the totals) read as
    /// JSONDecoder reads them; an offer without its amount is refused by both.
    @Test func readsOfferDiscountsAsJSONDecoderDoes() throws {
        let dir = TemporaryDirectory("fast-decoder")
        let db = try makeDemoDatabase(in: dir)
        try db.installProgramme(DemoCatalog.programme, at: 1)
        try db.importCards(demoCards)
        var generator = SaleGenerator(database: db, seed: 4)
        try generator.ring(30)
        var sale = try #require(try db.saleDocuments().first { $0.loyalty != nil })
        sale.lines[0].offerDiscount = 12
        sale.totals.offerDiscounts = 12
        sale.loyalty?.offerDiscounts = [SaleDocument.OfferDiscountInfo(id: "ten-off", name: "10% off \"dairy\"", kind: "percent", value: 1_000,
                                                                       skus: ["MILK1", "MILK2"], categories: ["Dairy"], minSpend: 500, amount: 12)]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(IngestBatch(storeID: "0001", tillID: "01", documents: [OutboxDocument(sale: sale)])), as: UTF8.self)
        let a = try #require(fast(json)?.0)
        #expect(a == slow(json))
        #expect(a.documents[0].sale?.loyalty?.offerDiscounts == sale.loyalty?.offerDiscounts && a.documents[0].sale?.lines[0].offerDiscount == 12)
        let nulls = json.replacingOccurrences(of: "\"offerDiscount\":12", with: "\"offerDiscount\":null")
        #expect(fast(nulls)?.0 == slow(nulls) && slow(nulls) != nil)
        let noAmount = json.replacingOccurrences(of: "\"amount\":12,\"categories\"", with: "\"categories\"")
        #expect(noAmount != json && slow(noAmount) == nil && fast(noAmount) == nil)
    }

    /// A member's progress in challenges (issue 18), as the receipt printed it.
    @Test func readsChallengesAsJSONDecoderDoes() throws {
        let dir = TemporaryDirectory("fast-decoder")
        let db = try makeDemoDatabase(in: dir)
        try db.installProgramme(DemoCatalog.programme, at: 1)
        try db.importCards(demoCards)
        var generator = SaleGenerator(database: db, seed: 4)
        try generator.ring(30)
        var sale = try #require(try db.saleDocuments().first { $0.loyalty != nil })
        sale.loyalty?.challenges = [SaleDocument.ChallengeInfo(id: "coffee", name: "Coffee \"3\"", value: 2, goal: 3, unit: "visits", completed: false,
                                                              rewardPoints: 100, badge: nil),
                                    SaleDocument.ChallengeInfo(id: "weekly", name: "Every week", value: 3, goal: 3, unit: "weeks", completed: true,
                                                              rewardPoints: 0, badge: "Regular")]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys   // "goal" is then followed by "id", in every run
        let json = String(decoding: try encoder.encode(IngestBatch(storeID: "0001", tillID: "01", documents: [OutboxDocument(sale: sale)])), as: UTF8.self)
        let a = try #require(fast(json)?.0)
        #expect(a == slow(json) && a.documents[0].sale?.loyalty?.challenges == sale.loyalty?.challenges)
        let noGoal = json.replacingOccurrences(of: "\"goal\":3,", with: "")
        #expect(noGoal != json && slow(noGoal) == nil && fast(noGoal) == nil)
        // Bounds: a name too long is refused with its field named.
        sale.loyalty?.challenges?[0].name = String(repeating: "x", count: 81)
        #expect(sale.boundsProblem()?.contains("loyalty.challenges[0].name") == true, "\(sale.boundsProblem() ?? "")")
    }

    @Test func readsDiscountReasonsAsJSONDecoderDoes() throws {
        let dir = TemporaryDirectory("fast-decoder")
        let db = try makeDemoDatabase(in: dir)
        var generator = SaleGenerator(database: db, seed: 3)
        try generator.ring(1)
        var sale = try #require(try db.saleDocuments().first)
        sale.lines[0].discount = SaleDocument.DiscountInfo(kind: "percent", value: 0, reason: "Damaged item")
        sale.saleDiscount = SaleDocument.DiscountInfo(kind: "amount", value: 0, reason: "Customer complaint")
        let json = String(decoding: try JSONEncoder().encode(IngestBatch(storeID: "0001", tillID: "01", documents: [OutboxDocument(sale: sale)])), as: UTF8.self)
        #expect(json.contains("Damaged item") && json.contains("Customer complaint"))
        #expect(fast(json)?.0 == slow(json))
        #expect(fast(json)?.0.documents[0].sale?.lines[0].discount?.reason == "Damaged item")
        #expect(fast(json)?.0.documents[0].sale?.saleDiscount?.reason == "Customer complaint")
        let nullReason = json.replacingOccurrences(of: "\"reason\":\"Damaged item\"", with: "\"reason\":null")
        #expect(fast(nullReason)?.0 == slow(nullReason))
    }

    @Test func leavesAnythingDoubtfulToJSONDecoder() {
        let ok = #"{"storeID":"0001","tillID":"01","documents":[]}"#
        #expect(fast(ok)?.0 == IngestBatch(storeID: "0001", tillID: "01", documents: []))
        for bad in [
            #"{"storeID":"0001","tillID":"01","documents":[] "#,                        // cut short
            #"{"storeID":"0001","tillID":1,"documents":[]}"#,                          // wrong type
            #"{"storeID":"0001","documents":[]}"#,                                     // missing field
            #"{"storeID":"0001","storeID":"0002","tillID":"01","documents":[]}"#,      // a repeated key
            #"{"storeID":"0001","tillID":"01","documents":[],"x":tru}"#,               // not JSON
            #"{"storeID":"0001","tillID":"01","documents":[{"kind":"sale","id":"x"}]}"#, // neither sale nor registration
            #"{"storeID":"0001","tillID":"01","documents":[{"kind":"sale","id":"x","sale":{"sequence":1.5}}]}"#,
            "{\"storeID\":\"00\u{1}1\",\"tillID\":\"01\",\"documents\":[]}",            // a raw control character
            "",
        ] {
            #expect(fast(bad) == nil, "accepted: \(bad)")
        }
        let invalidUTF8: [UInt8] = Array(#"{"storeID":""#.utf8) + [0xC3, 0x28] + Array(#"","tillID":"01","documents":[]}"#.utf8)
        #expect(invalidUTF8.withUnsafeBytes { FastIngestDecoder.decode($0) } == nil)
    }

    @Test func numbersOutsideJSONsGrammarAndDeepNestingAreLeftToJSONDecoder() {
        for token in ["+1", ".5", "01", "1.", "1e", "-", "--1", "1e+", "0x10", "Infinity", "NaN", "1_000", "1.5.5"] {
            let body = #"{"storeID":"0001","tillID":"01","x":"# + token + #","documents":[]}"#
            // (Foundation's JSONDecoder skips some of these in keys it does not read, e.g. `01`,
            // `1.` or `-`; the fast reader is stricter, never looser.)
            #expect(fast(body) == nil, "accepted the number \(token)")
        }
        for token in ["0", "-0", "1.5", "-2e10", "1E+2", "3.25e-3", "123456789012345678901234567890"] {
            let body = #"{"storeID":"0001","tillID":"01","x":"# + token + #","documents":[]}"#
            #expect(fast(body) != nil, "refused the number \(token)")
        }
        // 200,000 levels of an unknown key: no stack overflow, left to the server's depth check.
        let deep = #"{"storeID":"0001","tillID":"01","x":"# + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + #","documents":[]}"#
        #expect(fast(deep) == nil)
        #expect(Array(deep.utf8).withUnsafeBytes { FastIngestDecoder.nestingDepth($0) } == 200_001)
        let within = #"{"storeID":"0001","tillID":"01","x":"# + String(repeating: "[", count: 60) + String(repeating: "]", count: 60) + #","documents":[]}"#
        #expect(fast(within) != nil)
    }

    /// Thousands of mutated batches: whatever the fast reader accepts, JSONDecoder accepts with the
    /// same values, and every sale's JSON as sent reads back as the same sale (it is stored as is).
    @Test func agreesWithJSONDecoderOnTenThousandMutatedDocuments() throws {
        let till = try TillSide(seed: 13)
        try till.generator.ring(3, redeemEvery: 2)
        var entries = try till.db.pendingOutbox(limit: 100)
        entries += try Self.refundAndZReport(of: try #require(try till.db.saleDocuments().first), sequence: 4)
        let base = Array(Forwarder.batchBody(entries, storeID: "0001", tillID: "01"))
        let tokens: [String] = ["+1", ".5", "01", "1.", "1e", "-", "-0", "1e5", "1.5", "1E+2", "-1", "0", #""\u0000""#, #""\ud800""#,
                                #""\ud83d\ude00""#, "[[[[]]]]", "{}", "[]", "null", "true", "false", "tru", "nul", "\"\u{7F}\"",
                                "9223372036854775807", "9223372036854775808", "-9223372036854775808", "1000.5", " ", "\t", "\u{0B}",
                                #""\x""#, "\"", "{", "}", "[", "]", ",", ":", "\u{C3}", "\u{FEFF}"]
        let values: [UInt8] = Array("{}[]\",:-+.0123456789eEtfnul\\ \t\n".utf8) + [0x00, 0x01, 0x7F, 0xC3, 0xFF]
        var rng = SplitMix64(seed: 2026)
        func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(max(1, n))) }
        func positions(of byte: UInt8, in b: [UInt8]) -> [Int] { b.indices.filter { b[$0] == byte } }
        let colons = positions(of: 0x3A, in: base), braces = positions(of: 0x7B, in: base)
        var accepted = 0, refusedByBoth = 0
        for round in 0..<10_000 {
            var b = base
            for _ in 0...(pick(3)) {
                guard !b.isEmpty else { break }
                switch pick(7) {
                case 0: b[pick(b.count)] = values[pick(values.count)]                 // one byte changed
                case 1: b.remove(at: pick(b.count))                                       // one byte gone
                case 2: b.insert(values[pick(values.count)], at: pick(b.count))           // one byte more
                case 3:                                                                   // an unknown key with an odd value
                    let at = braces[pick(braces.count)] + 1
                    if at <= b.count { b.insert(contentsOf: Array(#""zz":"#.utf8) + Array(tokens[pick(tokens.count)].utf8) + [0x2C], at: at) }
                case 4:                                                                   // a value replaced by a token
                    let at = colons[pick(colons.count)] + 1
                    if at < b.count {
                        var end = at
                        while end < b.count, ![0x2C, 0x7D, 0x5D].contains(b[end]) { end += 1 }
                        b.replaceSubrange(at..<end, with: Array(tokens[pick(tokens.count)].utf8))
                    }
                case 5:                                                                   // a span repeated
                    let from = pick(b.count), length = min(b.count - from, 1 + pick(40))
                    b.insert(contentsOf: Array(b[from..<(from + length)]), at: pick(b.count))
                default:                                                                  // deep nesting inside an unknown key
                    let n = 50 + pick(40)
                    let at = braces[pick(braces.count)] + 1
                    if at <= b.count {
                        b.insert(contentsOf: Array(#""deep":"#.utf8) + Array(repeating: 0x5B, count: n) + Array(repeating: 0x5D, count: n) + [0x2C], at: at)
                    }
                }
            }
            let f = b.withUnsafeBytes { FastIngestDecoder.decode($0) }
            let s = try? JSONDecoder().decode(IngestBatch.self, from: Data(b))
            guard let f else {
                if s == nil { refusedByBoth += 1 }
                continue
            }
            accepted += 1
            #expect(s == f.0, "round \(round): the fast reader accepted what JSONDecoder reads otherwise: \(String(decoding: b, as: UTF8.self).prefix(300))")
            for (i, raw) in f.1.enumerated() {
                guard let raw else { continue }
                let readBack = try? JSONDecoder().decode(SaleDocument.self, from: Data(raw.utf8))
                #expect(readBack == f.0.documents[i].sale, "round \(round): stored sale \(i) does not read back")
            }
        }
        // Mutations inside strings keep many bodies valid; most are refused by both.
        #expect(accepted > 500)
        #expect(refusedByBoth > 3_000)
    }
}
