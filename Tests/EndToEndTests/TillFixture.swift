import Foundation
import GRDB
import Testing
import TillProtocol
import TillTestSupport

/// A till set up through its own CLI in a temporary directory: a config file pointing at a
/// private data directory, and `till demo` run against it.
final class TillFixture {
    let dir = TemporaryDirectory("till-e2e")
    let config: String
    let till = PackagePaths.binary("till")

    init(items: Int = 3_000, extraConfig: String = "") throws {
        config = dir.write("till.toml", """
            [till]
            id = "01"
            data_dir = "\(dir.file("data"))"
            \(extraConfig)
            """)
        let r = try runTill(["demo", "--items", String(items)])
        guard r.status == 0 else { throw FixtureError("till demo failed: \(r.stderr)") }
    }

    var dataDir: String { dir.file("data") }
    var databasePath: String { dataDir + "/till.sqlite" }

    /// The shell command that starts the till in a terminal.
    var command: String { "\(till) --config \(config)" }

    func runTill(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProcess(till, args + ["--config", config], environment: ["LANG": "C.UTF-8"])
    }

    /// Starts the till in tmux and waits for the sign-on screen.
    func startTill(width: Int = 100, height: Int = 30, term: String? = nil) throws -> Tmux {
        let t = try Tmux(command: command, width: width, height: height, environment: environment(term: term))
        try t.waitFor("SIGN ON")
        return t
    }

    /// Starts the till again in the same terminal (after it was killed) and waits for sign-on.
    func restartTill(_ t: Tmux) throws {
        try t.respawn(command, environment: environment(term: nil))
        try t.waitFor("SIGN ON")
    }

    private func environment(term: String?) -> [String: String] {
        var env = ["LANG": "C.UTF-8", "TZ": "UTC"]
        if let term { env["TERM"] = term }
        return env
    }

    /// Signs on; returns true when the till brought back a sale that was open when it stopped.
    @discardableResult
    func signOn(_ t: Tmux, number: String = "1", pin: String = "1234") throws -> Bool {
        try t.send(number, "Enter")
        try t.waitFor("PIN:")
        try t.send(pin, "Enter")
        let s = try t.waitUntil("sign-on") { $0.contains("Signed on") || $0.contains("is back") || $0.contains(" complete.") }
        return s.contains("is back")
    }

    func exportedSales() throws -> [SaleDocument] {
        let r = try runTill(["export", "sales", "--format", "json"])
        guard r.status == 0 else { throw FixtureError("till export failed: \(r.stderr)") }
        return try JSONDecoder().decode([SaleDocument].self, from: Data(r.stdout.utf8))
    }

    func database() throws -> DatabaseQueue {
        var c = Configuration()
        c.readonly = true
        return try DatabaseQueue(path: databasePath, configuration: c)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// The screen's words in order, without a box's sides (either TERM's) or line breaks.
func screenWords(_ screen: String) -> String {
    screen.split(separator: "\n").map { line -> String in
        var l = line.trimmingCharacters(in: .whitespaces)
        for side in ["│ ", "x "] where l.hasPrefix(side) { l.removeFirst(2) }
        for side in [" │", " x"] where l.hasSuffix(side) { l.removeLast(2) }
        return l
    }
    .joined(separator: " ")
    .split(separator: " ", omittingEmptySubsequences: true)
    .joined(separator: " ")
}
