import Foundation
@testable import HeadOffice
import Testing

/// The sales' JSON is stored exactly as the till sent it: the slicer finds each document's
/// "sale" value whatever the formatting, and gives up (nil) rather than guess.
@Suite("Raw sale documents in an ingest body")
struct RawDocumentsTests {
    func ranges(_ text: String) -> [String?]? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { b in
            RawDocuments.saleRanges(in: b).map { $0.map { $0.map { String(decoding: bytes[$0], as: UTF8.self) } } }
        }
    }

    @Test func findsEachSaleValueAsSent() {
        let body = """
            { "tillID": "01", "documents" : [
               {"kind":"sale","id":"a","sale":{"x":"a \\"}quoted{\\" brace","n":[1,{"y":2}],"z":null}},
               {"kind":"registration","id":"6034","registration":{"registration":{"cardNumber":"6034"}}} ,
               { "sale" : {"k":"ü € \\\\"} , "kind":"sale" }
            ], "storeID": "0001" }
            """
        #expect(ranges(body) == [#"{"x":"a \"}quoted{\" brace","n":[1,{"y":2}],"z":null}"#, nil, #"{"k":"ü € \\"}"#])
    }

    @Test func anEmptyBatchHasNoDocuments() {
        #expect(ranges(#"{"storeID":"0001","tillID":"01","documents":[]}"#) == [])
    }

    @Test func givesUpOnAnythingItDoesNotExpect() {
        #expect(ranges(#"{"storeID":"0001","documents":[{"sale":{"a":1}]"#) == nil)      // cut short
        #expect(ranges(#"["documents"]"#) == nil)
        #expect(ranges(#"{"documents":[1,2]}"#) == nil)
        #expect(ranges(#"{"documents":[],"documents":[]}"#) == nil)                      // twice
        #expect(ranges(#"{"docu\u006dents":[]}"#) == nil)                                // an escaped key
        #expect(ranges("") == nil)
    }
}
