import ArgumentParser
import Foundation
import HeadOffice
import TillCore
import TillDemo
import TillProtocol

/// `till-bench reports`: the reports a programme is run by, among 400,000 members and 10,000,000
/// sales (and a million partners' orders), on SQLite and PostgreSQL: the baskets by partner and
/// category for a quarter, a store's cashier report for a month, and the cashback run for every
/// member's card. The history goes straight into the tables (as `crm` loads it) and is rolled up
/// by the reports' own roll-up, timed.
struct ReportsScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reports",
        abstract: "Partner baskets for a quarter, a store's cashier report and the cashback run among 400,000 members and 10,000,000 sales (SQLite and PostgreSQL).")

    @Option(help: "Backends to measure, comma-separated.") var backends = "sqlite,postgres"
    @Option(help: "Members loaded at head office.") var members = 400_000
    @Option(help: "Sales of the chain's history (one a second from 2026-01-01, store 9999).") var history = 10_000_000
    @Option(help: "Partners' orders (three partners, one a second from 2026-01-01).") var orders = 1_000_000
    @Option(help: "Times each report is run (the median is reported).") var samples = 5
    @Option(help: "A PostgreSQL database to use (default: a private cluster this run starts).") var postgres: String?

    func run() throws {
        let start = ProtocolTime.parse("2026-01-01T00:00:00Z")!
        let quarter = CashbackPeriod.parse("2026-Q1")!, month = CashbackPeriod.parse("2026-02")!
        for backend in backends.split(separator: ",").map(String.init) {
            let scratch = ScratchDirectory()
            let (store, loaded) = try loadedHeadOffice(backend, cards: members, items: 2_000, postgres: postgres, scratch: scratch)
            for (id, kind) in [("bank", PartnerKind.bank), ("cafe", .retailer), ("fuel", .retailer)] {
                try store.savePartner(Partner(id: id, name: id, kind: kind, earnPoints: 1, earnUnit: 1_000, issueRate: 100, redeemRate: 90))
            }
            var t0 = Date()
            try store.loadSyntheticSales(history, members: members, startingAt: start) { done in
                FileHandle.standardError.write(Data("\r  \(backend): \(done) of \(history) sales loaded".utf8))
            }
            try store.loadSyntheticOrders(orders, partners: ["bank", "cafe", "fuel"], members: members, startingAt: start)
            FileHandle.standardError.write(Data("\n".utf8))
            let loadTime = Date().timeIntervalSince(t0)
            FileHandle.standardError.write(Data("  \(backend): rolling up…\n".utf8))
            t0 = Date()
            let rolled = try store.rollUpReports(chunk: 20_000)
            let rollupTime = Date().timeIntervalSince(t0)
            func median(_ body: () throws -> Void) rethrows -> Double {
                var times: [Double] = []
                for _ in 0..<max(1, samples) {
                    let t = Date()
                    try body()
                    times.append(Date().timeIntervalSince(t))
                }
                return times.sorted()[times.count / 2]
            }
            var cells = 0, cashiers = 0
            let baskets = try median { cells = try store.partnerBaskets(quarter).count }
            let cashierReport = try median { cashiers = try store.cashierReport(month, store: "9999").count }
            FileHandle.standardError.write(Data("  \(backend): reports timed; the cashback run…\n".utf8))
            t0 = Date()
            let run = try store.runCashback(period: quarter, chunk: 500)
            let cashback = Date().timeIntervalSince(t0)
            print("""
                reports on \(backend): \(loaded); \(history) sales and \(orders) partners' orders loaded in \(fixed(loadTime)) s
                  roll-up: \(rolled) sales and orders in \(fixed(rollupTime)) s (\(Int(Double(rolled) / max(rollupTime, 0.001))) a second)
                  baskets by partner and category for \(quarter.id): \(cells) cells in \(fixed(baskets, 4)) s (median of \(samples))
                  store 9999's cashier report for \(month.id): \(cashiers) cashiers in \(fixed(cashierReport * 1000, 2)) ms (median of \(samples))
                  cashback \(quarter.id): \(run.cards) cards, \(run.points) points in \(fixed(cashback)) s (\(Int(Double(run.cards) / max(cashback, 0.001))) cards a second)
                """)
            print(#"{"scenario":"reports","backend":"\#(backend)","members":\#(members),"sales":\#(history),"partner_baskets_s":\#(fixed(baskets, 4)),"cashier_report_ms":\#(fixed(cashierReport * 1000, 2)),"cashback_run_s":\#(fixed(cashback)),"cashback_cards":\#(run.cards),"rollup_per_s":\#(Int(Double(rolled) / max(rollupTime, 0.001)))}"#)
        }
    }
}
