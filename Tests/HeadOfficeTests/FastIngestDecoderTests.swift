import Foundation
@testable import HeadOffice
import Testing
import TillCore
import TillProtocol
import TillStore
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
}
