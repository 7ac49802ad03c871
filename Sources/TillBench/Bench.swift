import Foundation
import HeadOffice
import Synchronization

/// Latency samples in nanoseconds, with the percentiles the benchmarks report.
struct Samples {
    private(set) var values: [UInt64] = []

    mutating func add(_ ns: UInt64) { values.append(ns) }

    /// Times `body` and records it.
    mutating func time<T>(_ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        let r = try body()
        add(DispatchTime.now().uptimeNanoseconds - start)
        return r
    }

    /// The nearest-rank percentile (p in 0…100), in nanoseconds.
    func percentile(_ p: Double) -> UInt64 {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }

    var count: Int { values.count }

    mutating func merge(_ other: Samples) { values += other.values }
}

/// Prints a small aligned table.
func printTable(_ title: String, _ rows: [(String, String)]) {
    let w = rows.map(\.0.count).max() ?? 0
    print(title)
    print(String(repeating: "-", count: title.count))
    for (k, v) in rows { print(k.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + v) }
}

func us(_ ns: UInt64) -> Double { Double(ns) / 1_000 }
func ms(_ ns: UInt64) -> Double { Double(ns) / 1_000_000 }
func fixed(_ v: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", v) }

/// One JSON object on one line, keys in the given order.
/// A number written into the JSON line as given (more decimals than the usual three).
struct RawNumber { var text: String }

func jsonLine(_ pairs: [(String, Any)]) -> String {
    "{" + pairs.map { k, v in
        let value: String
        switch v {
        case let s as String: value = "\"\(s)\""
        case let n as RawNumber: value = n.text
        case is NSNull: value = "null"
        case let d as Double: value = fixed(d, 3)
        default: value = "\(v)"
        }
        return "\"\(k)\":\(value)"
    }.joined(separator: ",") + "}"
}

/// A directory for one benchmark run (its head office's database can take a gigabyte), removed
/// afterwards, or when the run is stopped (`StopOnSignals`). It names its process in `owner.pid`:
/// a run killed outright (SIGKILL, a power cut) leaves its directory, which the next run removes.
final class ScratchDirectory {
    static let prefix = "till-bench-"
    /// The directories of this process's runs under way.
    static let live = Mutex<Set<String>>([])
    let path: String

    init() {
        let base = FileManager.default.temporaryDirectory.path
        Self.removeAbandoned(in: base)
        path = base + "/" + Self.prefix + UUID().uuidString.prefix(8)
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try? "\(getpid())\n".write(toFile: path + "/owner.pid", atomically: false, encoding: .utf8)
        Self.live.withLock { _ = $0.insert(path) }
    }

    deinit {
        Self.live.withLock { _ = $0.remove(path) }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Removes the scratch directories in `base` whose process is gone, and says how much they held.
    /// A directory without `owner.pid` (an older till-bench's) or whose process still runs is kept.
    static func removeAbandoned(in base: String) {
        let fm = FileManager.default
        var removed = 0, bytes: Int64 = 0
        for name in (try? fm.contentsOfDirectory(atPath: base)) ?? [] where name.hasPrefix(prefix) {
            let dir = base + "/" + name
            guard let text = try? String(contentsOfFile: dir + "/owner.pid", encoding: .utf8),
                  let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
                  kill(pid, 0) != 0 && errno == ESRCH else { continue }
            for file in fm.enumerator(atPath: dir)?.compactMap({ $0 as? String }) ?? [] {
                bytes += (try? fm.attributesOfItem(atPath: dir + "/" + file)[.size] as? Int64) ?? 0
            }
            if (try? fm.removeItem(atPath: dir)) != nil { removed += 1 }
        }
        if removed > 0 {
            printError("till-bench: removed \(removed) scratch director\(removed == 1 ? "y" : "ies") of runs killed before they could (\(bytes / 1_048_576) MB) from \(base)")
        }
    }
}

/// SIGINT (Ctrl-C) and SIGTERM stop a run: its scratch directories are removed and the process
/// exits with 128 + the signal's number, as a shell expects (head office, in this process, would
/// otherwise take them for its own graceful stop and the run would go on). A private PostgreSQL
/// cluster is stopped at exit as usual. The sources returned are kept for as long as the run.
enum StopOnSignals {
    static func install() -> [any DispatchSourceSignal] {
        [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")].map { number, name in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                let dirs = ScratchDirectory.live.withLock { $0 }
                for d in dirs { try? FileManager.default.removeItem(atPath: d) }
                printError("till-bench: stopped by \(name); \(dirs.count) scratch director\(dirs.count == 1 ? "y" : "ies") removed")
                exit(128 + number)
            }
            source.resume()
            return source
        }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Head office's reports rolled up and tonight's scheduled work (cashback if due, expiry, RFM
/// scores, cross-sell suggestions) done, as on a head office that has been running; how long it took.
@discardableResult
func settleScheduledWork(_ store: HeadOfficeStore) throws -> Double {
    let start = Date()
    while try store.rollUpReportsOnce() > 0 {}
    if let due = try store.dueCashbackPeriod() { _ = try store.runCashback(period: due) }
    _ = try store.runDueExpiry()
    _ = try store.computeDueRFM()
    _ = try store.mineDueSuggestions()
    return Date().timeIntervalSince(start)
}

/// The bytes this process has had written to disk (Linux's /proc/self/io), nil elsewhere.
func writtenBytes() -> Int64? {
    guard let io = try? String(contentsOfFile: "/proc/self/io", encoding: .utf8),
          let line = io.split(separator: "\n").first(where: { $0.hasPrefix("write_bytes:") }) else { return nil }
    return Int64(line.dropFirst("write_bytes:".count).trimmingCharacters(in: .whitespaces))
}
