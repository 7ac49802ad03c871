import Foundation
import Testing
import TillTestSupport

/// schemathesis (PyPI; scripts/install-deps puts it in .venv-st) against a live `headoffice serve`:
/// every check (`--checks all`) over the examples, coverage and fuzzing phases, generated from
/// docs/headoffice-api.yaml. Any failure — a 5xx, an answer the document does not declare, a
/// request within the declared bounds refused or one outside them accepted — fails this test.
@Suite("schemathesis against a live head office", .serialized)
struct SchemathesisTests {
    static let schemathesis = PackagePaths.root + "/.venv-st/bin/schemathesis"

    @Test func theAPIDocumentAndTheServerAgreeUnderEveryCheck() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.schemathesis) else {
            Issue.record("schemathesis is not installed at \(Self.schemathesis): run scripts/install-deps")
            return
        }
        let dir = TemporaryDirectory("ho-schemathesis")
        let ho = try HeadOfficeProcess(.sqlite, dir: dir)
        let token = try String(contentsOfFile: try ho.register(till: "01"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try ho.start()
        // A partner's key: the channel API and the partner's transactions and daily file.
        let key = try #require(try ho.admin(["partner", "save", "bank", "--kind", "bank", "--earn", "1/1000"])
            .split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespaces) })
        // The tills' API with a till's token, then the channel API with a channel's key.
        for (credential, filter, operations) in [(token, "--exclude-tag", 15), (key, "--include-tag", 10)] {
            let r = try runProcess(Self.schemathesis, [
                "--config-file", PackagePaths.root + "/Tests/HeadOfficeTests/Schemathesis/schemathesis.toml", "--no-color",
                "run", PackagePaths.root + "/docs/headoffice-api.yaml", "--url", ho.url, "-H", "Authorization: Bearer \(credential)",
                "--checks", "all", "--workers", "1", filter, "channel",
            ], environment: ["HOME": dir.path, "SCHEMATHESIS_HOOKS": ""], currentDirectory: dir.path)
            let summary = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
            #expect(r.status == 0, "schemathesis \(filter): \(summary)\n\(r.stdout.suffix(6_000))\n\(r.stderr.suffix(2_000))")
            #expect(!summary.contains("failure") && !summary.contains("error"), "\(summary)")
            #expect(r.stdout.contains("Tested: \(operations)"), "not every operation was tested:\n\(r.stdout.suffix(3_000))")
        }
    }
}
