import ArgumentParser
import Dispatch
import Foundation
import Synchronization
import HeadOffice
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillSync

/// `till-bench crm`: customer service at head office. Members are found by card, phone, e-mail
/// and name, and a member's page is drawn (cards, ledger, purchases, stores), among 400,000
/// members and 10,000,000 sales, on SQLite and on PostgreSQL; then a web shop reserves and
/// captures points through the channel API (real HTTP, several clients at once).
struct CRMScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crm",
        abstract: "Customer search, the customer page and channel redemptions among 400,000 members and 10,000,000 sales (SQLite and PostgreSQL).")

    @Option(help: "Backends to measure, comma-separated.") var backends = "sqlite,postgres"
    @Option(help: "Members loaded at head office.") var members = 400_000
    @Option(help: "Sales sent to head office first, on the first members' cards.") var sales = 20_000
    @Option(help: "Members the sales are spread over.") var buyers = 2_000
    @Option(help: "Sales of the chain's history loaded straight into the tables (the real sales above go through ingest).") var history = 10_000_000
    @Option(help: "Reserve-and-capture pairs through the channel API.") var redemptions = 5_000
    @Option(help: "Web shop clients redeeming at once.") var clients = 8
    @Option(help: "Reserve-and-capture pairs a second the clients offer between them, each pair timed from when it was due (0: each client as fast as it can).")
    var rate = 500
    @Option(help: "Searches and customer pages to time.") var samples = 2_000
    @Option(help: "A PostgreSQL database to use (default: a private cluster this run starts).") var postgres: String?
    @Option(help: "Of the history, sales left waiting for the reports' roll-up (as after an upgrade or a bulk load): the redemptions are timed while head office works through them.")
    var backlog = 0

    func validate() throws {
        guard (0...100_000).contains(rate) else { throw ValidationError("--rate \(rate): give 0 (as fast as the clients go) or up to 100000 pairs a second") }
        guard (1...10_000_000).contains(redemptions) else { throw ValidationError("--redemptions \(redemptions): give 1 to 10000000 reserve-and-capture pairs") }
        guard (1...1_000).contains(clients) else { throw ValidationError("--clients \(clients): give 1 to 1000 (a thread each)") }
    }

    func run() throws {
        for backend in backends.split(separator: ",").map(String.init) {
            let scratch = ScratchDirectory()
            let (store, loaded) = try loadedHeadOffice(backend, cards: members, items: 2_000, postgres: postgres, scratch: scratch)
            let till = TillIdentity(storeID: "0001", storeName: "Demo Store", tillID: "01", currency: .eur)
            _ = try store.registerTill(TillCredential(storeID: "0001", tillID: "01"))
            let entries = try benchDocuments(till: till, count: sales, cards: buyers, seed: 5)
            let start = Date()
            for chunk in stride(from: 0, to: entries.count, by: 200).map({ entries[$0..<min(entries.count, $0 + 200)] }) {
                let body = Forwarder.batchBody(Array(chunk), storeID: "0001", tillID: "01")
                _ = try store.ingest(try JSONDecoder().decode(IngestBatch.self, from: Data(body)), from: TillCredential(storeID: "0001", tillID: "01"))
            }
            let ingested = Date().timeIntervalSince(start)
            let historyStart = Date()
            if history > 0 {
                try store.loadSyntheticSales(history, members: self.members, startingAt: HeadOfficeStore.now() - 400 * 86_400_000) { done in
                    FileHandle.standardError.write(Data("\r  \(backend): \(done) of \(history) sales of history loaded".utf8))
                }
                FileHandle.standardError.write(Data("\n".utf8))
            }
            let historyTime = Date().timeIntervalSince(historyStart)
            // As on a head office that has been running: the history rolled up for the reports and
            // tonight's work done (a roll-up backlog of 10,000,000 sales worked through in the
            // background would hold up the channel's every write behind its chunks).
            let settled = try store.keepingRollUpBacklog(backlog) { try settleScheduledWork(store) }
            let firstBatch = try firstBatchAfterAStart(store.database)

            // What customer service types: card numbers, phone numbers as members gave them and
            // as a caller says them, e-mails, last names, "first last" and the start of both.
            var members: [MemberSummary] = []
            var rng = SplitMix64(seed: 31)
            for _ in 0..<200 {
                let card = DemoCatalog.cardNumber(1 + Int(rng.next() % UInt64(self.members)))
                if let m = try store.searchCustomers(card).customers.first { members.append(m) }
            }
            var queries: [String] = []
            for (i, m) in members.enumerated() {
                switch i % 6 {
                case 0: queries.append(m.cards.first ?? m.id)
                case 1: queries.append(m.phone ?? m.lastName)
                case 2: queries.append("0" + String((m.phone ?? "").filter(\.isNumber).suffix(9)))
                case 3: queries.append(m.email ?? m.lastName)
                case 4: queries.append("\(m.lastName) \(m.firstName)")
                default: queries.append("\(m.firstName.prefix(2)) \(m.lastName.prefix(3))")
                }
            }
            var search = Samples(), found = 0
            var byKind: [String: Samples] = [:]
            for i in 0..<samples {
                let q = queries[i % queries.count]
                let t0 = DispatchTime.now().uptimeNanoseconds
                let r = try search.time { try store.searchCustomers(q, page: 1 + i % 3) }
                byKind["\(r.kind.rawValue) (\(i % queries.count % 6))", default: Samples()].add(DispatchTime.now().uptimeNanoseconds - t0)
                found += r.total > 0 ? 1 : 0
            }
            for (kind, s) in byKind.sorted(by: { $0.key < $1.key }) {
                print("  search by \(kind): p50 \(msText(s.percentile(50))) ms, p99 \(msText(s.percentile(99))) ms")
            }
            var page = Samples(), movements = 0
            for i in 0..<samples {
                let id = "M\(1 + i % buyers)"
                let p = try page.time { try store.customerProfile(id) }
                movements += p?.ledger.count ?? 0
            }
            let waiting = try store.rollUpBacklog()
            let (redeem, perSecond, refused) = try redeemThroughTheChannelAPI(store)
            let left = try store.rollUpBacklog()
            print("""
                crm on \(backend): \(loaded); \(sales) sales in \(fixed(ingested)) s over \(buyers) members; \(history) sales of history loaded in \(fixed(historyTime)) s, rolled up and tonight's work done in \(fixed(settled)) s
                  reserve+capture \(redemptions)x by \(clients) clients\(rate > 0 ? " offering \(rate)/s" : " as fast as they go") (\(refused) refused): p50 \(msText(redeem.percentile(50))) ms, p99 \(msText(redeem.percentile(99))) ms, \(Int(perSecond)) redemptions/s
                  search \(samples)x (\(found) found something): p50 \(msText(search.percentile(50))) ms, p99 \(msText(search.percentile(99))) ms
                  customer page \(samples)x (\(movements / max(1, samples)) movements each): p50 \(msText(page.percentile(50))) ms, p99 \(msText(page.percentile(99))) ms
                  a till's first batch after head office starts (the fraud rules' memory filled first): \(fixed(firstBatch * 1000, 1)) ms
                  the reports' roll-up: \(waiting) sales waiting when the redemptions started, \(left) when they ended
                """)
            print(#"{"scenario":"crm","backend":"\#(backend)","members":\#(self.members),"sales":\#(sales + history),"search_p99_ms":\#(msText(search.percentile(99))),"customer_page_p99_ms":\#(msText(page.percentile(99))),"redeem_p99_ms":\#(msText(redeem.percentile(99))),"redeem_per_s":\#(Int(perSecond)),"redeem_offered_per_s":\#(rate),"first_batch_after_start_ms":\#(fixed(firstBatch * 1000, 1)),"rollup_backlog":\#(waiting)}"#)
        }
    }

    /// A head office starting on `database`: its first batch (one sale of another till) waits for
    /// the fraud rules' memory, filled from the last days' sales among all those held.
    func firstBatchAfterAStart(_ database: any SQLDatabase) throws -> Double {
        let restarted = try HeadOfficeStore(database: database)
        let till = TillIdentity(storeID: "0001", storeName: "Demo Store", tillID: "02", currency: .eur)
        let credential = TillCredential(storeID: "0001", tillID: "02")
        _ = try restarted.registerTill(credential)
        let body = Forwarder.batchBody(try benchDocuments(till: till, count: 1, cards: buyers, seed: 6), storeID: "0001", tillID: "02")
        let batch = try JSONDecoder().decode(IngestBatch.self, from: Data(body))
        let start = Date()
        let results = try restarted.ingest(batch, from: credential).results
        guard results.allSatisfy({ $0.status == .accepted }) else { throw ValidationError("the first batch after a start was not accepted: \(results)") }
        return Date().timeIntervalSince(start)
    }

    /// A web shop's redemptions through head office's HTTP API: each client reserves a point on a
    /// member's card and captures it, one pair after another; the time of each pair and the pairs
    /// per second across all clients.
    func redeemThroughTheChannelAPI(_ store: HeadOfficeStore) throws -> (Samples, Double, Int) {
        let key = try store.addChannel("bench-\(UInt32.random(in: 0...UInt32.max))", scopes: [.redeem])
        let server = try BenchServer(store)
        defer { server.stop() }
        let results = Mutex<[(Samples, Int)]>([])
        let perClient = max(1, redemptions / clients)
        let members = self.members
        // Paced: pair k of client c is due at (k * clients + c) / rate seconds; its time is taken
        // from then, so a head office that falls behind shows it in the p99 instead of slowing
        // the clients down (no coordinated omission).
        let interval: UInt64? = rate > 0 ? 1_000_000_000 / UInt64(rate) : nil
        let started = DispatchTime.now().uptimeNanoseconds
        // A thread for each client: `DispatchQueue.concurrentPerform` runs no more iterations at
        // once than the machine has cores (two here), so "8 clients" were two at a time.
        let group = DispatchGroup()
        for client in 0..<clients {
            group.enter()
            Thread {
                defer { group.leave() }
                let http = HTTPConnection()
                var samples = Samples(), refused = 0
                var rng = SplitMix64(seed: UInt64(client) + 77)
                for i in 0..<perClient {
                    let card = DemoCatalog.cardNumber(1 + Int(rng.next() % UInt64(members)))
                    var t0 = DispatchTime.now().uptimeNanoseconds
                    if let interval {
                        let due = started + UInt64(i * clients + client) * interval
                        if due > t0 { usleep(UInt32(clamping: (due - t0) / 1_000)) }
                        t0 = due
                    }
                    let headers = ["Authorization: Bearer \(key)", "Content-Type: application/json", "Idempotency-Key: c\(client)-\(i)"]
                    guard let a = try? http.send("POST", server.url + "/api/v1/channel/reservations", headers: headers,
                                                 body: Array("{\"cardNumber\":\"\(card)\",\"points\":1}".utf8), timeoutMilliseconds: 10_000),
                          a.status == 200, let r = try? JSONDecoder().decode(ReservationAnswer.self, from: Data(a.body)),
                          (try? http.send("POST", server.url + "/api/v1/channel/reservations/\(r.id)/capture", headers: Array(headers.prefix(1)),
                                          timeoutMilliseconds: 10_000))?.status == 200 else { refused += 1; continue }
                    samples.add(DispatchTime.now().uptimeNanoseconds - t0)
                }
                results.withLock { $0.append((samples, refused)) }
            }.start()
        }
        group.wait()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        var all = Samples(), refused = 0
        for (s, r) in results.withLock({ $0 }) { all.merge(s); refused += r }
        return (all, Double(all.count) / seconds, refused)
    }

    func msText(_ ns: UInt64) -> String { String(format: "%.3f", Double(ns) / 1_000_000) }
}
