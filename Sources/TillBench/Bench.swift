import Foundation
import HeadOffice

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

/// A directory for one benchmark run, removed afterwards.
final class ScratchDirectory {
    let path: String
    init() {
        path = FileManager.default.temporaryDirectory.path + "/till-bench-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
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
