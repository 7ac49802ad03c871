import ArgumentParser
import Foundation
import HeadOffice
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillSync

/// `till-bench crm`: customer service at head office. Members are found by card, phone, e-mail
/// and name, and a member's page is drawn (cards, ledger, purchases, stores), among 400,000
/// members, on SQLite and on PostgreSQL.
struct CRMScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crm",
        abstract: "Customer search and the customer page among 400,000 members (SQLite and PostgreSQL).")

    @Option(help: "Backends to measure, comma-separated.") var backends = "sqlite,postgres"
    @Option(help: "Members loaded at head office.") var members = 400_000
    @Option(help: "Sales sent to head office first, on the first members' cards.") var sales = 20_000
    @Option(help: "Members the sales are spread over.") var buyers = 2_000
    @Option(help: "Searches and customer pages to time.") var samples = 2_000
    @Option(help: "A PostgreSQL database to use (default: a private cluster this run starts).") var postgres: String?

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
            print("""
                crm on \(backend): \(loaded); \(sales) sales in \(fixed(ingested)) s over \(buyers) members
                  search \(samples)x (\(found) found something): p50 \(msText(search.percentile(50))) ms, p99 \(msText(search.percentile(99))) ms
                  customer page \(samples)x (\(movements / max(1, samples)) movements each): p50 \(msText(page.percentile(50))) ms, p99 \(msText(page.percentile(99))) ms
                """)
            print(#"{"scenario":"crm","backend":"\#(backend)","members":\#(self.members),"sales":\#(sales),"search_p99_ms":\#(msText(search.percentile(99))),"customer_page_p99_ms":\#(msText(page.percentile(99)))}"#)
        }
    }

    func msText(_ ns: UInt64) -> String { String(format: "%.3f", Double(ns) / 1_000_000) }
}
