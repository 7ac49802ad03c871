import Foundation
import HeadOffice
import Testing
import TillCore
import TillProtocol
import TillStore
import TillSync
import TillTestSupport

@Suite("Staff and roles from head office")
struct StaffTests {
    @Test(arguments: Backend.allCases)
    func aStoresTillsTakeTheirStaffAndOnlyThem(backend: Backend) async throws {
        let (dir, store, token, server) = try await ServerTests.serving(backend)
        defer { Task { await server.stop() }; withExtendedLifetime(dir) {} }
        try store.importStaff(try StaffRecord.parse(csv: """
            number,name,role,pin,store
            21,Clara Cashier,cashier,2121,0001
            31,Sam Supervisor,supervisor,3131,
            41,Mona Manager,manager,4141,0002
            """))
        let t = try TillSide()
        let forwarder = Forwarder(link: ServerTests.link(server, token), database: t.db, storeID: "0001", tillID: "01")
        let n = try await onThread { try forwarder.pullStaff() }
        #expect(n == 2)                                             // the chain's and store 0001's, not 0002's manager
        #expect(try t.db.authenticate(number: "31", pin: "3131")?.role == .supervisor)
        #expect(try t.db.authenticate(number: "21", pin: "2121")?.role == .cashier)
        #expect(try t.db.authenticate(number: "41", pin: "4141") == nil)
        #expect(try t.db.authenticate(number: "1", pin: "1234") == nil)   // the demo's cashier is gone
        #expect(try t.db.authenticate(number: "31", pin: "0000") == nil)
        // The PIN never travels: the list holds slow hashes only.
        let list = try store.staff(store: "0001")
        #expect(list.staff.allSatisfy { $0.pinHash.hasPrefix("pbkdf2-sha256$100000$") && !$0.pinHash.contains("3131") })
        // Someone leaves: after the next update they cannot sign on.
        #expect(try store.removeStaff(number: "21"))
        _ = try await onThread { try forwarder.pullStaff() }
        #expect(try t.db.authenticate(number: "21", pin: "2121") == nil)
        #expect(try t.db.authenticate(number: "31", pin: "3131") != nil)
    }

    @Test func aStaffFileWithMistakesNamesEachRowAndImportsNothing() {
        #expect(throws: StaffFileError(problems: [
            "line 2: role 'boss' must be cashier, supervisor or manager",
            "line 3: the PIN of 22 must be 4 to 8 digits",
            "line 4: number 'x1' must be 1 to 8 digits",
            "line 6: number 23 appears twice",
        ])) {
            try StaffRecord.parse(csv: "number,name,role,pin,store\n21,A,boss,1234,\n22,B,cashier,12,\nx1,C,cashier,1234,\n23,D,cashier,1234,\n23,E,cashier,1234,\n")
        }
    }
}
