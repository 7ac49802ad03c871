import Foundation
import HeadOffice
import Testing
import TillDemo
import TillStore
import TillTestSupport

/// The till in a terminal (tmux) with head office down, then started.
@Suite("Store-and-forward at the till (tmux)", .serialized)
struct StoreAndForwardTmuxTests {
    static let anna = DemoCatalog.cardNumber(1)

    /// Rings milk for Anna's card; returns her balance as the till shows it after the sale.
    static func sellMilk(_ t: Tmux, sale: Int) throws -> Int64 {
        try t.send("5012345678900", "Enter")
        try t.waitFor("Milk 1L")
        try t.send("F5")
        try t.waitFor("LOYALTY CARD")
        try t.send(anna, "Enter")
        try t.waitFor("this sale")
        try t.send("F6")
        let screen = try t.waitUntil("sale \(sale) to complete") { $0.contains("Anna Ivanova: +") && $0.contains("000\(sale) complete") }
        let line = try #require(screen.split(separator: "\n").first { $0.contains("Anna Ivanova: +") })
        let balance = try #require(line.components(separatedBy: "balance ").last?.prefix { $0.isNumber })
        return try #require(Int64(balance))
    }

    @Test(arguments: Backend.allCases)
    func threeSalesWithHeadOfficeDownArriveWithinSecondsOfItsStart(backend: Backend) throws {
        let dir = TemporaryDirectory("sf-tmux")
        let ho = try HeadOfficeProcess(backend, dir: dir)
        let till = try TillProcess(headOffice: ho)
        let t = try Tmux(command: till.command, width: 140, height: 30, environment: ["LANG": "C.UTF-8", "TZ": "UTC"])
        try t.waitFor("SIGN ON")
        try t.send("1", "Enter")
        try t.waitFor("PIN:")
        try t.send("1234", "Enter")
        try t.waitFor("Signed on")

        var balance: Int64 = 0
        for sale in 1...3 { balance = try Self.sellMilk(t, sale: sale) }
        let offline = try t.waitUntil("the status bar to show 3 unsent, offline") { $0.contains("Unsent: 3") && $0.contains("Head office: offline") }
        #expect(offline.contains("(oldest "))

        try ho.start()
        let started = Date()
        try t.waitFor("Unsent: 0", timeout: 20)
        let seconds = Date().timeIntervalSince(started)
        print("store-and-forward (\(backend)): the queue was empty \(String(format: "%.1f", seconds)) s after head office answered")
        #expect(seconds < 15, "the queue took \(seconds) s to drain")
        try t.waitFor("Head office: last contact")
        #expect(try ho.admin(["report", "summary"]).contains("Sales: 3"))
        #expect(try ho.admin(["report", "discrepancies"]).contains("No discrepancies."))
        let store = try ho.store()
        #expect(try store.balance(of: Self.anna) == balance)
        #expect(balance > 1_500)
        try expectConsistent(ho, [till])

        // Revoked at head office: the next attempt shows it on the status bar; the sale stays.
        try ho.admin(["till", "revoke", "--store", "0001", "--till", "01"])
        _ = try Self.sellMilk(t, sale: 4)
        // The reason is too long for the bar: it says REVOKED, and `till sync status` says why.
        try t.waitFor("HO REVOKED", timeout: 20)
        try t.waitFor("Unsent 1")
        #expect(try store.saleCount() == 3)
        try t.send("C-q")
    }
}
