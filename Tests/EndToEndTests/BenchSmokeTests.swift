import Foundation
import Testing
import TillTestSupport

/// `till-bench` keeps working: each scenario runs small and prints its JSON line. Speed is
/// measured by the release build, not here.
@Suite("till-bench smoke")
struct BenchSmokeTests {
    @Test func basketPrintsItsJSONLine() throws {
        let r = try runProcess(PackagePaths.binary("till-bench"), ["basket", "--items", "2000", "--sales", "3", "--starts", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        let last = try #require(r.stdout.split(separator: "\n").last)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(json["scenario"] as? String == "basket")
        for key in ["line_add_p99_us", "commit_p99_ms", "ready_ms"] {
            let v = try #require(json[key] as? Double, "missing \(key)")
            #expect(v > 0)
        }
    }

    @Test func receiptPrintsItsJSONLineWithThePythonComparison() throws {
        let r = try runProcess(PackagePaths.binary("till-bench"), ["receipt", "--iterations", "20", "--python-iterations", "3"])
        #expect(r.status == 0, "\(r.stderr)")
        let last = try #require(r.stdout.split(separator: "\n").last)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(json["scenario"] as? String == "receipt")
        for key in ["receipt_us", "python_escpos_us", "ratio"] {
            let v = try #require(json[key] as? Double, "missing \(key)")
            #expect(v > 0, "\(key) not measured: \(r.stderr)")
        }
    }

    @Test func loyaltyPrintsItsJSONLine() throws {
        let r = try runProcess(PackagePaths.binary("till-bench"),
                               ["loyalty", "--cards", "2000", "--lookups", "50", "--baskets", "50", "--items", "2000"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("20 active rules"))
        let last = try #require(r.stdout.split(separator: "\n").last)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(json["scenario"] as? String == "loyalty")
        for key in ["card_lookup_p99_us", "points_p99_us"] {
            let v = try #require(json[key] as? Double, "missing \(key)")
            #expect(v > 0)
        }
    }
}
