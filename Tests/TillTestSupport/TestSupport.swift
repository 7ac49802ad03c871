public import Foundation
import Synchronization
public import TillCore
public import TillStore
public import TillDemo

/// A directory under the system temp dir, removed when the value is released
/// (kept when `TILL_KEEP_TEST_FILES` is set, for post-mortems).
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init(_ name: String = "till") {
        let base = FileManager.default.temporaryDirectory.path
        path = base + "/\(name)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        if ProcessInfo.processInfo.environment["TILL_KEEP_TEST_FILES"] == nil {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    public func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    public func write(_ name: String, _ text: String) -> String {
        let p = file(name)
        try! Data(text.utf8).write(to: URL(fileURLWithPath: p))
        return p
    }
}

/// Paths of the package and its built products.
public enum PackagePaths {
    /// The package root, found from this file's location.
    public static var root: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    /// A built executable: `$TILL_BUILD_DIR/<name>`, else `.build/debug/<name>`.
    public static func binary(_ name: String) -> String {
        let dir = ProcessInfo.processInfo.environment["TILL_BUILD_DIR"] ?? (root + "/.build/debug")
        return dir + "/" + name
    }
}

/// A clock that advances by `step` milliseconds every time it is read.
public final class SteppingClock: Sendable {
    private let state: Mutex<Int64>
    public let step: Int64
    public init(start: Int64 = 1_795_000_000_000, step: Int64 = 1_000) {
        state = Mutex(start)
        self.step = step
    }
    public func now() -> Int64 {
        state.withLock { t in
            defer { t += step }
            return t
        }
    }
}

/// Deterministic sale UUIDs: 00000000-0000-4000-8000-000000000001, …
public final class SequentialIDs: Sendable {
    private let counter = Mutex(0)
    public init() {}
    public func next() -> String {
        let n = counter.withLock { c in
            c += 1
            return c
        }
        let s = String(n)
        return "00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - s.count) + s
    }
}

/// A database in a temporary directory with the demo's featured products and staff.
public func makeDemoDatabase(in dir: TemporaryDirectory, products: [Product] = DemoCatalog.featured) throws -> TillDatabase {
    let db = try TillDatabase(path: dir.file("till.sqlite"), timeZone: TimeZone(identifier: "UTC")!)
    try db.installDemo(products: products, staff: DemoCatalog.staff)
    return db
}

/// Runs a program to completion; returns its exit status and output.
public func runProcess(
    _ path: String, _ arguments: [String], environment: [String: String] = [:], currentDirectory: String? = nil
) throws -> (status: Int32, stdout: String, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { $1 }
    p.environment = env
    if let currentDirectory { p.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Both pipes are drained at once: a child that fills one (64 KiB) while the other is being
    // read to its end would otherwise wait for ever, and so would we.
    let (o, e) = drainConcurrently(out.fileHandleForReading, err.fileHandleForReading)
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// Reads two handles to their ends at the same time (one on a joined thread of its own).
public func drainConcurrently(_ first: FileHandle, _ second: FileHandle) -> (Data, Data) {
    let secondData = Mutex(Data())
    let reader = JoinableThread(name: "drain") {
        let d = second.readDataToEndOfFile()
        secondData.withLock { $0 = d }
    }
    let firstData = first.readDataToEndOfFile()
    reader.join()
    return (firstData, secondData.withLock { $0 })
}
