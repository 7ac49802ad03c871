import Foundation
import Testing
import TillTestSupport

@Suite("Test support helpers")
struct TestSupportTests {
    @Test func runProcessReadsAChildThatFillsStderrFirst() throws {
        // 200 KiB on stderr before anything on stdout: more than a pipe holds.
        let script = "head -c 204800 /dev/zero | tr '\\\\0' e >&2; echo done"
        let result = try runProcess("/bin/sh", ["-c", script])
        #expect(result.status == 0)
        #expect(result.stdout == "done\n")
        #expect(result.stderr.utf8.count == 204_800)
    }
}
