import ArgumentParser
import Dispatch
import Foundation
import GRDB
import HeadOffice
import Logging
import PrivateServers
import Synchronization
import TillApp
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillStore
import TillSync

/// Head office's HTTP server in this process, on a loopback port the system picks.
final class BenchServer: Sendable {
    let port: Int
    private let task: Task<Void, any Error>

    init(_ store: HeadOfficeStore) throws {
        var logger = Logger(label: "headoffice-bench")
        logger.logLevel = .critical  // cancelling the server at the end logs shutdown "errors"
        let server = HeadOfficeServer(store: store, options: ServerOptions(port: 0), logger: logger)
        let bound = Mutex<Int?>(nil)
        let ready = DispatchSemaphore(value: 0)
        task = Task {
            try await server.run { port in
                bound.withLock { $0 = port }
                ready.signal()
            }
        }
        guard ready.wait(timeout: .now() + 30) == .success, let port = bound.withLock({ $0 }) else {
            throw ValidationError("head office did not start within 30 s")
        }
        self.port = port
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func stop() { task.cancel() }
}

/// A head office database of the given kind, loaded with the demo programme, `cards` cards and
/// `items` products; returns it with the load times.
func loadedHeadOffice(_ backend: String, cards: Int, items: Int, postgres: String?, scratch: ScratchDirectory) throws -> (HeadOfficeStore, String) {
    let database: any SQLDatabase
    switch backend {
    case "sqlite":
        database = try SQLiteDatabase(path: scratch.path + "/headoffice.sqlite")
    case "postgres":
        if let postgres {
            database = try PostgresDatabase(url: postgres)
        } else {
            switch PrivatePostgres.shared {
            case .success(let cluster): database = try PostgresDatabase(url: try cluster.makeDatabase())
            case .failure(let why): throw ValidationError("No PostgreSQL to measure: \(why) (or give --postgres postgres://…)")
            }
        }
    default:
        throw ValidationError("'\(backend)' is not a backend: sqlite or postgres")
    }
    let store = try HeadOfficeStore(database: database)
    try store.importProgramme(DemoCatalog.programme)
    var start = Date()
    try store.importCards(DemoCatalog.cards(members: cards, stock: 0))
    let cardsTime = Date().timeIntervalSince(start)
    start = Date()
    try store.importProducts(DemoCatalog.products(count: items))
    let productsTime = Date().timeIntervalSince(start)
    // The load's WAL written out now, not by a checkpoint in the middle of the measurement.
    if backend == "postgres" { _ = try database.write { c in try c.execute("CHECKPOINT", []) } }
    return (store, "\(cards) cards in \(fixed(cardsTime)) s, \(items) products in \(fixed(productsTime)) s")
}

/// Sale documents of one till as its journal would hold them: sequence 1, 2, 3…, members' cards
/// on most, points earned by the demo programme and sometimes redeemed.
func benchDocuments(till: TillIdentity, count: Int, cards: Int, seed: UInt64) throws -> [OutboxEntry] {
    let programme = DemoCatalog.programme
    // A minute apart, the last an hour ago: head office refuses sales from the future.
    let start = HeadOfficeStore.now() - Int64(count) * 60_000 - 3_600_000
    var generator = DemoSales(till: till, programme: programme, cards: cards, seed: seed, start: start)
    var balances: [String: Points] = [:]
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    var out: [OutboxEntry] = []
    out.reserveCapacity(count)
    for i in 0..<count {
        let (sale, loyalty, time) = try generator.next(redeem: i % 5 == 0) { number, _ in
            let balance = balances[number] ?? 1_000
            return SaleCustomer(cardNumber: number, customerID: "M", name: "Member", tierCode: nil, tierName: nil, balance: balance,
                                qualifying: 0, offlineLeft: nil, provisional: false)
        }
        if let l = loyalty { balances[l.customer.cardNumber, default: 1_000] += l.earned.total + l.welcome.total - l.redeemed }
        let completed = try sale.complete(sequence: Int64(i + 1), at: time, till: till, loyalty: loyalty)
        let json = String(decoding: try encoder.encode(SaleDocument(completed, timeZone: .gmt)), as: UTF8.self)
        out.append(OutboxEntry(id: Int64(i + 1), kind: "sale", refID: completed.id, sequence: completed.sequence, payload: json, createdAt: time))
    }
    return out
}

/// `till-bench ingest`: simulated tills post batches of sales over loopback to head office
/// loaded with 400,000 cards and 80,000 products, on SQLite and on PostgreSQL; the same sale
/// rows inserted raw into SQLite are the ceiling.
struct IngestScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Tills posting sales to head office over loopback (SQLite and PostgreSQL); raw SQLite inserts as the ceiling.")

    @Option(help: "Backends to measure, comma-separated.") var backends = "sqlite,postgres"
    @Option(help: "Cards loaded at head office.") var cards = 400_000
    @Option(help: "Products loaded at head office.") var items = DemoCatalog.defaultSize
    @Option(help: "Tills posting at the same time.") var tills = 2
    @Option(help: "Sales each till posts.") var sales = 20_000
    @Option(help: "Sales per request.") var batch = 150
    @Option(help: "A PostgreSQL database to use (default: a private cluster this run starts; needs postgresql installed).")
    var postgres: String?

    func run() throws {
        let names = backends.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        // The documents, made once: every backend gets the same sales.
        var documents: [[OutboxEntry]] = []
        let makeStart = Date()
        for t in 0..<tills {
            let till = TillIdentity(storeID: String(format: "%04d", 1 + t / 4), storeName: "Bench", tillID: String(format: "%02d", 1 + t % 4), currency: .eur)
            documents.append(try benchDocuments(till: till, count: sales, cards: min(cards, 400_000), seed: UInt64(t + 1)))
        }
        let made = Date().timeIntervalSince(makeStart)
        let raw = try Self.rawInserts(documents, batch: batch)
        for backend in names {
            let scratch = ScratchDirectory()
            let (store, loaded) = try loadedHeadOffice(backend, cards: cards, items: items, postgres: postgres, scratch: scratch)
            let (rate, p50, p99, total, deadlocks) = try Self.post(documents, to: store, batch: batch)
            let held = try store.saleCount()
            guard held == total else { throw ValidationError("head office holds \(held) sales, \(total) were sent") }
            printTable("till-bench ingest, \(backend) (\(tills) tills x \(sales) sales, \(batch) a request)", [
                ("loaded", loaded),
                ("documents made", "\(tills * sales) in \(fixed(made)) s"),
                ("sales applied", "\(held), each once"),
                ("sales per second", "\(Int(rate))  (target >= 10000 on SQLite)"),
                ("per sale p50 / p99", "\(fixed(p50)) / \(fixed(p99)) ms, the round trip of its batch  (target p99 < 50 ms)"),
                ("raw SQLite inserts", "\(Int(raw)) rows/s (the ceiling: the same rows, \(batch) a transaction, FULL sync)"),
                ("deadlocks answered", "\(deadlocks) (batches head office answered 503 \"deadlock detected\"; sent again)"),
            ])
            print(jsonLine([
                ("scenario", "ingest"), ("backend", backend), ("tills", tills), ("cards", cards), ("sales_per_s", rate.rounded()), ("sale_p99_ms", p99),
                ("raw_rows_per_s", raw.rounded()), ("deadlocks", deadlocks),
            ]))
        }
    }

    /// Every till posting its batches at once; returns sales/s, per-sale p50 and p99 (ms), the
    /// count, and how many batches head office answered "deadlock detected" (each sent again).
    static func post(_ documents: [[OutboxEntry]], to store: HeadOfficeStore, batch: Int) throws -> (Double, Double, Double, Int, Int) {
        // Tonight's scheduled work done first, as on a head office that has been running: the
        // members' RFM scores and the expiry over 400,000 cards would otherwise start 5 s in.
        try settleScheduledWork(store)
        let server = try BenchServer(store)
        defer { server.stop() }
        var bodies: [[[UInt8]]] = []
        var tokens: [String] = []
        for entries in documents {
            let till = try JSONDecoder().decode(SaleDocument.self, from: Data(entries[0].payload.utf8))
            tokens.append(try store.registerTill(TillCredential(storeID: till.storeID, tillID: till.tillID)).description)
            bodies.append(stride(from: 0, to: entries.count, by: batch).map {
                Forwarder.batchBody(Array(entries[$0..<min(entries.count, $0 + batch)]), storeID: till.storeID, tillID: till.tillID)
            })
        }
        let latencies = Mutex<[UInt64]>([])
        let failure = Mutex<String?>(nil)
        let deadlocks = Mutex(0)
        let group = DispatchGroup()
        var before = rusage()
        getrusage(RUSAGE_SELF.rawValue, &before)
        let writtenBefore = writtenBytes()
        let start = DispatchTime.now().uptimeNanoseconds
        for (i, tillBodies) in bodies.enumerated() {
            let token = tokens[i]
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                let http = HTTPConnection()
                var mine: [UInt64] = []
                for (b, body) in tillBodies.enumerated() {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    var sent = false
                    while !sent {
                        do {
                            let a = try http.send("POST", server.url + "/api/v1/ingest", headers: ["Authorization: Bearer \(token)", "Content-Type: application/json"],
                                                  body: body, timeoutMilliseconds: 120_000)
                            if a.status == 503 && a.text.contains("deadlock") {
                                deadlocks.withLock { $0 += 1 }   // as a till would: send it again
                                continue
                            }
                            guard a.status == 200 else { failure.withLock { $0 = "HTTP \(a.status): \(a.text.prefix(300))" }; return }
                            sent = true
                        } catch {
                            failure.withLock { $0 = "\(error)" }
                            return
                        }
                    }
                    let took = DispatchTime.now().uptimeNanoseconds - t0
                    let n = min(batch, documents[i].count - b * batch)
                    mine.append(contentsOf: repeatElement(took, count: n))
                }
                latencies.withLock { $0.append(contentsOf: mine) }
            }
            thread.start()
        }
        group.wait()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var after = rusage()
        getrusage(RUSAGE_SELF.rawValue, &after)
        func cpu(_ r: rusage) -> Double { Double(r.ru_utime.tv_sec + r.ru_stime.tv_sec) + Double(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6 }
        let total = documents.reduce(0) { $0 + $1.count }
        let written = writtenBytes().map { w in writtenBefore.map { " and \(fixed(Double(w - $0) / Double(total) / 1024)) KB written to disk" } ?? "" } ?? ""
        FileHandle.standardError.write(Data("CPU \(fixed((cpu(after) - cpu(before)) / Double(total) * 1e6)) us\(written) a sale (tills and head office in this process), \(fixed(seconds, 2)) s\n".utf8))
        if let why = failure.withLock({ $0 }) { throw ValidationError("a till's post failed: \(why)") }
        var samples = Samples()
        for l in latencies.withLock({ $0 }) { samples.add(l) }
        return (Double(samples.count) / seconds, ms(samples.percentile(50)), ms(samples.percentile(99)), samples.count, deadlocks.withLock { $0 })
    }

    /// The same sale rows inserted straight into a SQLite table like head office's, `batch` rows a
    /// transaction, WAL and FULL sync: rows per second.
    static func rawInserts(_ documents: [[OutboxEntry]], batch: Int) throws -> Double {
        let scratch = ScratchDirectory()
        var config = Configuration()
        config.prepareDatabase { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        let db = try DatabasePool(path: scratch.path + "/raw.sqlite", configuration: config)
        // The pool sets its writer to NORMAL when it turns WAL on, after the line above.
        try db.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        try db.write { db in
            try db.execute(sql: """
                CREATE TABLE sales (sale_id TEXT PRIMARY KEY, store_id TEXT NOT NULL, till_id TEXT NOT NULL, sequence BIGINT NOT NULL,
                    receipt_number TEXT NOT NULL, completed_at TEXT NOT NULL, completed_ms BIGINT NOT NULL, total BIGINT NOT NULL,
                    currency TEXT NOT NULL, card_number TEXT, loyalty_spend BIGINT NOT NULL DEFAULT 0, document TEXT NOT NULL,
                    received_at BIGINT NOT NULL, UNIQUE (store_id, till_id, sequence));
                CREATE INDEX sales_card ON sales (card_number, completed_ms);
                """)
        }
        // The column values, taken from the documents before the clock starts.
        let rows: [[any DatabaseValueConvertible & Sendable]] = try documents.joined().map { e in
            let d = try JSONDecoder().decode(SaleDocument.self, from: Data(e.payload.utf8))
            return [d.saleID, d.storeID, d.tillID, d.sequence, d.receiptNumber, d.completedAt, e.createdAt, d.totals.total, d.currency,
                    d.loyalty?.cardNumber, d.totals.total, e.payload, e.createdAt]
        }
        let start = DispatchTime.now().uptimeNanoseconds
        var i = 0
        while i < rows.count {
            let chunk = rows[i..<min(rows.count, i + batch)]
            try db.write { db in
                let insert = try db.cachedStatement(sql: "INSERT INTO sales VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                for r in chunk {
                    // Typed, so that GRDB's initializer from values is taken, not its failable one from [Any].
                    let arguments: StatementArguments = StatementArguments(r.map { Optional($0 as any DatabaseValueConvertible) })
                    try insert.execute(arguments: arguments)
                }
            }
            i += batch
        }
        return Double(rows.count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}

/// `till-bench drain`: a till holding 100,000 unsent sales (a week offline) sends them all to
/// head office.
struct DrainScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain", abstract: "A till holding 100,000 unsent sales drains them to head office (SQLite).")

    @Option(help: "Unsent sales on the till.") var sales = 100_000
    @Option(help: "Cards loaded at head office.") var cards = 400_000
    @Option(help: "Products loaded at head office.") var items = DemoCatalog.defaultSize
    @Option(help: "Documents per request (the till's [headoffice] batch_size).") var batch = TillConfig().syncBatchSize
    @Option(help: "Head office's database: sqlite or postgres.") var backend = "sqlite"
    @Option(help: "A PostgreSQL database to use with --backend postgres.") var postgres: String?

    func run() throws {
        let scratch = ScratchDirectory()
        let till = TillIdentity(storeID: "0001", storeName: "Bench", tillID: "01", currency: .eur)
        // The week offline, rung up on a till database in memory-backed storage (quick to make),
        // then moved to disk where the till drains it, as a till would.
        let made = Date()
        let shm = "/dev/shm/till-bench-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: shm) }
        do {
            let db = try TillDatabase(path: shm + "/till.sqlite", timeZone: .gmt)
            try db.installDemo(products: DemoCatalog.products(count: 2_000), staff: DemoCatalog.staff)
            try db.installProgramme(DemoCatalog.programme, at: 0)
            try db.importCards(DemoCatalog.cards(members: 2_000, stock: 0))
            // A minute apart, the last an hour ago: head office refuses sales from the future.
            let start = HeadOfficeStore.now() - Int64(sales) * 60_000 - 3_600_000
            var generator = DemoSales(till: till, cards: 2_000, seed: 42, start: start)
            var done = 0
            while done < sales {
                let n = min(5_000, sales - done)
                try generator.ring(into: db, n)
                done += n
                FileHandle.standardError.write(Data("\rringing up the week offline: \(done) of \(sales) sales".utf8))
            }
            FileHandle.standardError.write(Data("\n".utf8))
        }
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: shm + "/till.sqlite" + suffix) {
            try FileManager.default.copyItem(atPath: shm + "/till.sqlite" + suffix, toPath: scratch.path + "/till.sqlite" + suffix)
        }
        let makeTime = Date().timeIntervalSince(made)

        let (store, loaded) = try loadedHeadOffice(backend, cards: cards, items: items, postgres: postgres, scratch: scratch)
        let token = try store.registerTill(TillCredential(storeID: till.storeID, tillID: till.tillID))
        let server = try BenchServer(store)
        defer { server.stop() }
        let db = try TillDatabase(path: scratch.path + "/till.sqlite", timeZone: .gmt)
        let unsent = try db.outboxSummary().pending
        let forwarder = Forwarder(link: HeadOfficeLink(url: server.url, ca: nil, token: token.description, batchSize: batch),
                                  database: db, storeID: till.storeID, tillID: till.tillID)
        let start = DispatchTime.now().uptimeNanoseconds
        let result = forwarder.drain()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if let why = result.stoppedBy { throw ValidationError("the drain stopped: \(why)") }
        let left = try db.outboxSummary().pending
        let held = try store.saleCount()
        guard left == 0, held == unsent else { throw ValidationError("after the drain \(left) are unsent and head office holds \(held) of \(unsent)") }
        printTable("till-bench drain (\(unsent) unsent sales, \(batch) a request, head office on \(backend))", [
            ("week offline rung up", "\(fixed(makeTime)) s"),
            ("head office loaded", loaded),
            ("drained", "\(result.accepted) accepted, \(result.duplicates) duplicates, \(result.rejected) rejected"),
            ("drain time", "\(fixed(seconds, 2)) s, \(Int(Double(unsent) / seconds)) sales/s  (target < 30 s)"),
        ])
        print(jsonLine([("scenario", "drain"), ("sales", unsent), ("drain_s", (seconds * 100).rounded() / 100)]))
    }
}
