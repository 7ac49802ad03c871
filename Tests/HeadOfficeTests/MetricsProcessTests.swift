import Foundation
import HeadOffice
import Testing
import TillSync
import TillTestSupport

/// `/metrics` of a real `headoffice serve`: head office's own figures and Hummingbird's request
/// figures (swift-metrics into swift-prometheus), in Prometheus's text format.
@Suite("Head office's metrics", .serialized)
struct MetricsProcessTests {
    @Test func requestsAreCountedByRouteAndRefusalsByStatusWithoutACardNumberInALabel() throws {
        let dir = TemporaryDirectory("ho-metrics")
        let ho = try HeadOfficeProcess(.sqlite, dir: dir)
        let token = try String(contentsOfFile: try ho.register(till: "01"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try ho.start()
        let http = HTTPConnection()
        for _ in 0..<2 { #expect(try http.send("GET", ho.url + "/health", timeoutMilliseconds: 10_000).status == 200) }
        let card = "6034000000000015"
        #expect(try http.send("GET", ho.url + "/api/v1/cards/\(card)", headers: ["Authorization: Bearer \(token)"], timeoutMilliseconds: 10_000).status == 200)
        #expect(try http.send("GET", ho.url + "/api/v1/staff", headers: ["Authorization: Bearer wrong"], timeoutMilliseconds: 10_000).status == 401)

        let metrics = try http.send("GET", ho.url + "/metrics", timeoutMilliseconds: 10_000)
        #expect(metrics.status == 200)
        let lines = Set(metrics.text.split(separator: "\n").map(String.init))
        func expectLine(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(lines.contains(line), "not in /metrics: \(line)", sourceLocation: sourceLocation)
        }
        // /health: the two above, and those made while waiting for the server to start.
        let health = lines.first { $0.hasPrefix(#"hb_requests{http_route="/health",http_request_method="GET",http_response_status_code="200"} "#) }
        #expect(health.flatMap { Int($0.split(separator: " ").last ?? "") }.map { $0 >= 2 } == true, "\(health ?? "no /health line")")
        expectLine(#"hb_requests{http_route="/api/v1/cards/{number}",http_request_method="GET",http_response_status_code="200"} 1"#)
        expectLine(#"headoffice_requests_refused_total{status="401"} 1"#)
        expectLine(#"headoffice_documents_total{result="accepted"} 0"#)
        expectLine("# TYPE headoffice_ingest_seconds histogram")
        #expect(!metrics.text.contains(card), "a card number is in a metric's label")
    }
}
