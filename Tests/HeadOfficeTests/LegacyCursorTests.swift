import Foundation
@testable import HeadOffice
import Testing
import TillProtocol
import TillTestSupport

/// A till of before 2026-11-28 asks for updates by version alone. Past 500 publications it had
/// been sent the 500 oldest, none new: it heard nothing more (found by `till-bench fraud`, whose
/// month makes hundreds of card publications).
@Suite("Updates for a till that asks by version")
struct LegacyCursorTests {
    @Test func pastFiveHundredPublicationsItStillHearsTheNewOnes() throws {
        let dir = TemporaryDirectory("legacy-cursor")
        let store = try HeadOfficeStore(database: try SQLiteDatabase(path: dir.file("headoffice.sqlite")))
        let till = TillCredential(storeID: "0001", tillID: "01")
        _ = try store.registerTill(till)
        let start = HeadOfficeStore.now() - 1_000_000
        try store.database.write { c in
            for i in 0..<520 {
                try store.publishCards([CardChange(number: String(6_034_000_000_000_000 + i), status: "blocked")], by: "test", note: "card \(i)", c,
                                       at: start + Int64(i) * 1_000)
            }
        }
        let latest = try store.latestPublicationVersion()
        let fromStart = try store.updates(for: till, after: 0)
        #expect(fromStart.count == 500 && fromStart.first?.version == 1 && fromStart.last?.version == 500)
        let next = try store.updates(for: till, after: 510)
        #expect(next.map(\.version) == Array(511...latest), "\(next.map(\.version))")
    }
}
