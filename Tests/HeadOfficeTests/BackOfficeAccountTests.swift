import Foundation
import HeadOffice
import Logging
import Synchronization
import Testing
import TillStore
import TillTestSupport

@Suite("Back office accounts")
struct BackOfficeAccountTests {
    @Test(arguments: Backend.allCases)
    func wrongPasswordsSentInParallelAllCountAndLockTheAccount(backend: Backend) throws {
        let dir = TemporaryDirectory("ho-accounts")
        let store = try HeadOfficeStore(database: try backend.makeDatabase(in: dir))
        try store.saveUser("mallory-target", role: .marketing, storeID: nil, password: "right-password-1")
        let outcomes = Mutex<[String]>([])
        let threads = (0..<8).map { _ in
            JoinableThread(name: "sign-in") {
                let outcome: String
                do {
                    _ = try store.signIn("mallory-target", password: "wrong-password")
                    outcome = "signed in"
                } catch let e as SignInFailure {
                    if case .locked = e { outcome = "locked" } else { outcome = "wrong" }
                } catch { outcome = "\(error)" }
                outcomes.withLock { $0.append(outcome) }
            }
        }
        threads.forEach { $0.join() }
        let all = outcomes.withLock { $0 }
        #expect(all.count == 8)
        #expect(!all.contains("signed in"))
        // Five failures lock it, however they arrived: now even the right password is refused.
        #expect(all.contains("locked"), "\(all)")
        #expect(throws: SignInFailure.self) { try store.signIn("mallory-target", password: "right-password-1") }
        do {
            _ = try store.signIn("mallory-target", password: "right-password-1")
        } catch let e as SignInFailure {
            guard case .locked = e else { Issue.record("expected locked, got \(e)"); return }
        }
    }
}

/// A log handler that keeps what it is given.
final class LogLines: Sendable {
    let lines = Mutex<[String]>([])
}

struct CapturingLogHandler: LogHandler {
    let sink: LogLines
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let m = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        sink.lines.withLock { $0.append("\(event.message) \(m)") }
    }
}

@Suite("Head office logs")
struct LogTests {
    @Test func controlCharactersFromOutsideAreEscapedInMessagesAndMetadata() {
        let sink = LogLines()
        let logger = Logger(label: "t") { _ in EscapingLogHandler(CapturingLogHandler(sink: sink)) }
        logger.warning("ingest refused: \u{1B}[2J\nfake line", metadata: ["reason": "bad\r\nadmin logged in", "n": "\(3)"])
        let got = sink.lines.withLock { $0 }
        #expect(got == [#"ingest refused: \u{1b}[2J\u{a}fake line n=3 reason=bad\u{d}\u{a}admin logged in"#])
    }
}

@Suite("Database files")
struct DatabaseFileTests {
    @Test func headOfficeAndTillDatabasesAreReadableByTheirOwnerOnly() throws {
        let dir = TemporaryDirectory("db-modes")
        let store = try HeadOfficeStore(database: try SQLiteDatabase(path: dir.file("headoffice.sqlite")))
        try store.saveUser("ada", role: .admin, storeID: nil, password: "ada-secret-123")
        let till = try makeDemoDatabase(in: dir)
        defer { withExtendedLifetime(till) {} }
        for name in ["headoffice.sqlite", "headoffice.sqlite-wal", "till.sqlite", "till.sqlite-wal"] {
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: dir.file(name))[.posixPermissions] as? Int, "\(name)")
            #expect(mode & 0o077 == 0, "\(name) has mode \(String(mode, radix: 8))")
        }
    }
}
