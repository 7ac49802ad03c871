import ArgumentParser
import Foundation
import TillApp
import TillCore
import TillDemo
import TillProtocol
import TillStore
import TillUI

/// `till-bench basket`: the till's own controller and database with the full demo catalog; each
/// sale adds lines by barcode (as scans) and pays cash, which commits the sale durably.
struct BasketScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "basket",
        abstract: "Line add (with its cross-sell suggestion line) and durable sale commit on an 80,000-item catalog; till start to sign-on.")

    @Option(help: "Catalog size.") var items = DemoCatalog.defaultSize
    @Option(help: "Sales to ring up.") var sales = 200
    @Option(help: "Lines per sale.") var lines = 50
    @Option(help: "Till starts to time for ready_ms.") var starts = 5

    func run() throws {
        let scratch = ScratchDirectory()
        var config = TillConfig()
        config.dataDirectory = scratch.path + "/data"
        let configFile = scratch.path + "/till.toml"
        try Data("[till]\ndata_dir = \"\(config.dataDirectory)\"\n".utf8).write(to: URL(fileURLWithPath: configFile))

        let products = DemoCatalog.products(count: items)
        let db = try TillDatabase(path: config.databasePath)
        let setupStart = Date()
        try db.installDemo(products: products, staff: DemoCatalog.staff)
        let setup = Date().timeIntervalSince(setupStart)
        let barcodes = products.compactMap(\.barcodes.first)
        // Head office's cross-sell suggestions for every item (three each), so that each line added
        // also finds the item's suggestion line, as a till with them does.
        let suggestions = SuggestionSet(minedAt: 0, baskets: 1_000_000, items: products.indices.map { i in
            SuggestionSet.Item(sku: products[i].sku, also: (1...3).map { products[(i + $0 * 7) % products.count].sku })
        })
        try db.receive([Publication(version: 1, kind: .suggestions, scope: .chain, createdBy: "bench", note: "", createdAt: 0, effectiveAt: 0,
                                    suggestions: suggestions)], at: 0)
        _ = try db.applyPendingPublications(at: 0)

        let till = try makeTill(config: config, database: db).controller
        for c in DemoCatalog.cashier.number { till.handle(.key(.char(c))) }
        till.handle(.key(.enter))
        for c in DemoCatalog.cashierPIN { till.handle(.key(.char(c))) }
        till.handle(.key(.enter))
        guard till.cashier != nil else { throw ValidationError("sign-on failed: \(till.message?.text ?? "")") }

        var rng = SplitMix64(seed: 42)
        var add = Samples(), commit = Samples()
        let cash = config.keymap.keys(for: .cash).first!
        for _ in 0..<sales {
            for _ in 0..<lines {
                let code = barcodes[Int(rng.next() % UInt64(barcodes.count))]
                add.time { till.handle(.scan(code)) }
                if till.message?.isError == true { throw ValidationError("scan \(code) failed: \(till.message!.text)") }
            }
            commit.time { till.handle(.key(cash)) }
            guard case .receipt = till.mode else { throw ValidationError("sale did not complete: \(till.message?.text ?? "")") }
        }

        // Product lookup by name (Ctrl-T, words, Enter): one page of results and the count, over
        // the whole catalog.
        var lookup = Samples()
        let words = ["pasta", "milk", "ol oil", "red wine", "bread rye", "produce tom", "zzz", "ch"]
        for i in 0..<200 {
            let query = words[i % words.count]
            lookup.time { _ = try? db.searchProducts(query, limit: 20, offset: 0) }
        }

        // Till start to sign-on screen: the real executable on a pseudo-terminal.
        let tillPath = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("till").path
        var ready = Samples()
        for _ in 0..<starts {
            ready.add(try ReadyTimer.measure(
                tillPath, ["--config", configFile],
                environment: ["TERM": "xterm-256color", "LANG": "C.UTF-8", "HOME": scratch.path, "PATH": "/usr/bin:/bin"],
                marker: "SIGN ON"))
        }

        printTable("till-bench basket (\(items) items, \(sales) sales x \(lines) lines)", [
            ("catalog load", "\(fixed(setup, 2)) s"),
            ("line add p50 / p99 / max", "\(fixed(us(add.percentile(50)))) / \(fixed(us(add.percentile(99)))) / \(fixed(us(add.percentile(100)))) us  (target p99 < 1000 us)"),
            ("durable commit p50 / p99 / max", "\(fixed(ms(commit.percentile(50)), 2)) / \(fixed(ms(commit.percentile(99)), 2)) / \(fixed(ms(commit.percentile(100)), 2)) ms  (target p99 < 20 ms)"),
            ("product lookup by name p50 / p99", "\(fixed(ms(lookup.percentile(50)), 1)) / \(fixed(ms(lookup.percentile(99)), 1)) ms, a page of 20 and the count"),
            ("ready (start to sign-on) p50 / max", "\(fixed(ms(ready.percentile(50)))) / \(fixed(ms(ready.percentile(100)))) ms over \(starts) starts  (target < 500 ms)"),
        ])
        print(jsonLine([
            ("scenario", "basket"),
            ("line_add_p99_us", us(add.percentile(99))),
            ("commit_p99_ms", ms(commit.percentile(99))),
            ("ready_ms", ms(ready.percentile(100))),
            ("lookup_p99_ms", ms(lookup.percentile(99))),
        ]))
    }
}
