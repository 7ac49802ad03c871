import Foundation
import GRDB
import Testing
import TillProtocol
import TillTestSupport

/// The `till` subcommands as a store's IT person runs them: exit status and messages.
@Suite("till command line")
struct CommandLineTests {
    @Test func importingACatalogWithBadRowsReportsLineNumbersAndImportsNothing() throws {
        let f = try TillFixture(items: 100)
        let before = try f.database().read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM product") }
        let csv = f.dir.write("catalog.csv", """
            sku,barcodes,plu,description,unit_price,tax_code,category,sold_by_weight
            N1,,901,Good row,1.00,A,,
            N2,,902,Bad price,1.9.9,A,,
            N3,5012345678901,,Bad barcode,2.00,B,,
            """)
        let r = try f.runTill(["import", "catalog", csv])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(csv): 2 bad rows; nothing was imported. Fix them and import again:"))
        #expect(r.stderr.contains("line 3: unit_price '1.9.9' is not a price"))
        #expect(r.stderr.contains("line 4: barcode 5012345678901 failed its check digit (expected 0)"))
        #expect(!r.stderr.contains("Fatal error"))
        let after = try f.database().read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM product") }
        #expect(after == before)
    }

    @Test func importingAGoodCatalogAddsIt() throws {
        let f = try TillFixture(items: 100)
        let csv = f.dir.write("catalog.csv", """
            sku,description,unit_price,tax_code,plu
            N1,Good row,1.00,A,901
            "N2","Quoted, with comma",2.50,B,902
            """)
        let r = try f.runTill(["import", "catalog", csv])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Imported 2 products"))
        let name = try f.database().read { try String.fetchOne($0, sql: "SELECT description FROM product WHERE plu = '902'") }
        #expect(name == "Quoted, with comma")
    }

    @Test func aCorruptedConfigIsNamedWithItsLine() throws {
        let dir = TemporaryDirectory()
        let config = dir.write("till.toml", "[store]\nname = \"Shop\n")
        let r = try runProcess(PackagePaths.binary("till"), ["export", "sales", "--config", config])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("Error: \(config) line 2"))
        #expect(r.stderr.contains("Fix the file, or move it aside to run on the embedded defaults."))
    }

    @Test func aMissingConfigIsAnError() throws {
        let r = try runProcess(PackagePaths.binary("till"), ["export", "sales"], environment: ["TILL_CONFIG": "/nonexistent/till.toml"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("Configuration file /nonexistent/till.toml (from $TILL_CONFIG) does not exist"))
    }

    @Test func aDatabaseFromANewerVersionIsRefused() throws {
        let f = try TillFixture(items: 100)
        try DatabaseQueue(path: f.databasePath).write {
            try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v7-later')")
        }
        let r = try f.runTill(["export", "sales"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("was written by a newer version of till (it has v7-later"))
        #expect(r.stderr.contains("Install the newer till, or restore the data directory from a backup."))
    }

    @Test func theTillRefusesToRunWithoutATerminal() throws {
        let f = try TillFixture(items: 100)
        let r = try f.runTill([])
        #expect(r.status == 1)
        #expect(r.stderr.contains("till runs in a terminal"))
    }

    @Test func demoIsIdempotentAndPrintsTheCashier() throws {
        let f = try TillFixture(items: 100)
        let r = try f.runTill(["demo", "--items", "100"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("already has 100 products; keeping them"))
        #expect(r.stdout.contains("Sign on as cashier 1, PIN 1234"))
    }

    @Test func exportRejectsABadDateAndWritesCSV() throws {
        let f = try TillFixture(items: 100)
        let bad = try f.runTill(["export", "sales", "--from", "23/11/2026"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--from '23/11/2026' is not a date: use YYYY-MM-DD"))
        let csv = try f.runTill(["export", "sales", "--format", "csv", "--from", "2026-01-01"])
        #expect(csv.status == 0)
        #expect(csv.stdout.hasPrefix("record,sale_id,sequence,receipt_number"))
    }
}
