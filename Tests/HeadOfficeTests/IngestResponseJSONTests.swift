import Foundation
@testable import HeadOffice
import Testing
import TillProtocol

/// Head office writes its answer to a till's batch without `JSONEncoder`: what it writes must be
/// JSON the tills decode to the same answer, whatever a reason or a card number holds.
@Suite("The ingest answer's JSON")
struct IngestResponseJSONTests {
    @Test func theAnswerDecodesToWhatWasAnsweredWhateverItsStringsHold() throws {
        let awkward = "quote \" backslash \\ slash / newline \n tab \t return \r bell \u{07} nul \u{00} é € 🧾"
        let response = IngestResponse(results: [
            IngestResult(kind: "sale", id: "0190-a", status: .accepted, cards: [
                CardBalance(number: "2400000000012", balance: -9_223_372_036_854_775_807, tierCode: nil, qualifying: Int64.max),
                CardBalance(number: awkward, balance: 0, tierCode: "gold \"1\"", qualifying: -1),
            ]),
            IngestResult(kind: "refund", id: awkward, status: .rejected, reason: awkward),
            IngestResult(kind: "zreport", id: "", status: .duplicate, reason: ""),
        ], gaps: [SequenceGap(from: 3, to: 7), SequenceGap(from: Int64.min, to: Int64.max)])
        let bytes = IngestResponseJSON.encode(response)
        #expect(try JSONDecoder().decode(IngestResponse.self, from: Data(bytes)) == response)
        // The same JSON value as the Codable form writes (keys, and a nil field left out).
        let ours = try JSONSerialization.jsonObject(with: Data(bytes)) as? NSDictionary
        let codable = try JSONSerialization.jsonObject(with: JSONEncoder().encode(response)) as? NSDictionary
        #expect(ours != nil && ours == codable)
        #expect(String(decoding: IngestResponseJSON.encode(IngestResponse(results: [], gaps: [])), as: UTF8.self) == #"{"results":[],"gaps":[]}"#)
    }
}
