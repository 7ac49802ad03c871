import ESCPOS
import Foundation
import Testing
import TillCore
import TillStore
import TillTestSupport

@Suite("Receipt commands and templates")
struct ReceiptCommandTests {
    /// A completed sale put in the journal the way the till does it, with its receipt job.
    func sellOne(_ f: TillFixture) throws -> CompletedSale {
        let db = try TillDatabase(path: f.databasePath)
        let till = TillIdentity(storeID: "0001", storeName: "Demo Store", tillID: "01", currency: .eur)
        var s = OpenSale(id: "00000000-0000-4000-8000-0000000000aa", startedAt: 0, cashier: Cashier(number: "1", name: "Anna"), currency: .eur)
        s = try s.trying(.addLine(item: LineItem(sku: "F0002", description: "Milk 1L", taxCode: "B", taxBasisPoints: 500, unitPrice: 119, quantity: .units(2))))
        s = try s.trying(.addTender(tender: Tender(kind: .cash, amount: 500)))
        return try db.commit(s, at: 1_795_000_000_000, till: till) { sale in
            PrintJobDraft(kind: .receipt, receiptNumber: sale.receiptNumber, payload: [0x1B, 0x40] + Array("STORED \(sale.receiptNumber)".utf8) + [0x0A])
        }
    }

    @Test func aStoredReceiptShowsAsTextEscposAndSvg() throws {
        let f = try TillFixture(items: 100)
        _ = try sellOne(f)
        let text = try f.runTill(["receipt", "0001-01-000001"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout == "STORED 0001-01-000001\n")                 // the bytes that were queued
        let raw = try f.runTill(["receipt", "1", "--format", "escpos", "-o", f.dir.file("r.bin")])
        #expect(raw.status == 0)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: f.dir.file("r.bin")))) == [0x1B, 0x40] + Array("STORED 0001-01-000001".utf8) + [0x0A])
        let svg = try f.runTill(["receipt", "1", "--format", "svg"])
        #expect(svg.stdout.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.stdout.contains(">STORED 0001-01-000001</text>"))
        // --copy renders the reprint from the journal with the templates.
        let copy = try f.runTill(["receipt", "1", "--copy"])
        #expect(copy.stdout.contains("C O P Y"))
        #expect(copy.stdout.contains("  2 x 1.19                                  2.38"))
        #expect(copy.stdout.contains("Change                                      2.62"))
    }

    @Test func anUnknownReceiptSaysWhatToGive() throws {
        let f = try TillFixture(items: 100)
        let r = try f.runTill(["receipt", "0001-01-000099"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("There is no sale or refund '0001-01-000099' in this till's journal: give a receipt number such as 0001-01-000001 or 0001-01-R00001, a sale number (1) or a refund number (R1)"))
    }

    /// A till whose configuration points at a store template directory, `templates/` in its folder.
    func fixtureWithStoreTemplates() throws -> TillFixture {
        let f = try TillFixture(items: 100, extraConfig: "[receipt]\ntemplates = \"TEMPLATES\"\n")
        try FileManager.default.createDirectory(atPath: f.dir.file("templates"), withIntermediateDirectories: true)
        try String(contentsOfFile: f.config, encoding: .utf8).replacingOccurrences(of: "TEMPLATES", with: f.dir.file("templates"))
            .write(toFile: f.config, atomically: true, encoding: .utf8)
        return f
    }

    @Test func aStoreTemplateReplacesTheBuiltInHeader() throws {
        let f = try fixtureWithStoreTemplates()
        f.dir.write("templates/header.receipt", "@center\n@style double\nRIVERSIDE MARKET\n@style normal\n@left\n")
        _ = try sellOne(f)
        let r = try f.runTill(["receipt", "1", "--copy"])
        #expect(r.stdout.contains("R I V E R S I D E   M A R K E T"))
        #expect(!r.stdout.contains("[image"))                            // the built-in logo is gone with the header
        #expect(r.stdout.contains("TOTAL EUR"))                          // the rest is still the built-in sale template
    }

    @Test func aBrokenTemplateStopsTheTillAtStartWithFileLineAndReason() throws {
        let f = try fixtureWithStoreTemplates()
        f.dir.write("templates/footer.receipt", "@center\n{#footer}\n{.}\n{/footer}\nVisit {store.webiste}\n{store.nmae}\n")
        // The shell stays after the till exits, so the screen can be read and the status seen.
        let t = try Tmux(command: "sh -c '\(f.command); echo EXIT=$?; sleep 60'", environment: ["LANG": "C.UTF-8"])
        try t.waitForAll(["footer.receipt line 5: unknown field {store.webiste}: the fields here are {store.address}, {store.id}, {store.name}",
                          "Receipt template error in \(f.dir.file("templates")): ",
                          "EXIT=1"])                                       // it stopped before the sign-on screen
        let doctor = try f.runTill(["doctor"])
        #expect(doctor.status == 1)
        #expect(doctor.stdout.contains("[!!] Receipt templates: footer.receipt line 5: unknown field {store.webiste}"))
    }
}
