import Foundation
public import TillCore
import TillDocuments
public import TillProtocol

/// One row of a staff file: `number,name,role,pin,store` (store empty: every store).
public struct StaffRecord: Sendable, Equatable {
    public var number: String
    public var name: String
    public var role: Cashier.Role
    public var pin: String
    public var storeID: String?

    public init(number: String, name: String, role: Cashier.Role, pin: String, storeID: String?) {
        self.number = number
        self.name = name
        self.role = role
        self.pin = pin
        self.storeID = storeID
    }

    /// Reads a staff CSV (`number,name,role,pin,store`, the till's format with a store column);
    /// every row is checked and each problem names its line. Nothing is returned unless every row is good.
    public static func parse(csv text: String) throws(StaffFileError) -> [StaffRecord] {
        let (rows, issues) = StaffCSV.parse(text, storeColumn: true)
        guard issues.isEmpty else { throw StaffFileError(problems: issues.map { "line \($0.line): \($0.message)" }) }
        return rows.map { StaffRecord(number: $0.cashier.number, name: $0.cashier.name, role: $0.cashier.role, pin: $0.pin, storeID: $0.storeID) }
    }
}

public struct StaffFileError: Error, CustomStringConvertible, Equatable {
    public var problems: [String]
    public init(problems: [String]) { self.problems = problems }
    public var description: String { "\(problems.count) problem(s); nothing was taken:\n" + problems.joined(separator: "\n") }
}

extension HeadOfficeStore {
    /// Adds or replaces staff, all or nothing; PINs are stored only as slow hashes.
    public func importStaff(_ records: [StaffRecord], at time: Int64 = HeadOfficeStore.now()) throws {
        let hashed = records.map { ($0, PINHasher.hash($0.pin)) }
        try database.write { c in
            for (r, hash) in hashed {
                try c.execute("DELETE FROM staff WHERE number = ?", [.text(r.number)])
                try c.execute("INSERT INTO staff (number, name, role, pin_hash, store_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                              [.text(r.number), .text(r.name), .text(r.role.rawValue), .text(hash), SQLValue(r.storeID), .int(time)])
            }
        }
    }

    /// Removes a member of staff; their store's tills refuse them after their next update. False: no such number.
    public func removeStaff(number: String) throws -> Bool {
        try database.write { c in
            let found = try c.queryOne("SELECT number FROM staff WHERE number = ?", [.text(number)]) != nil
            try c.execute("DELETE FROM staff WHERE number = ?", [.text(number)])
            return found
        }
    }

    /// The staff of a store's tills: the chain's and the store's own, by number.
    public func staff(store: String?) throws -> StaffList {
        try database.read { c in
            let rows = try store.map { try c.query("SELECT * FROM staff WHERE store_id IS NULL OR store_id = ? ORDER BY number", [.text($0)]) }
                ?? c.query("SELECT * FROM staff ORDER BY number", [])
            return StaffList(staff: rows.map {
                StaffMember(number: $0["number"].text ?? "", name: $0["name"].text ?? "", role: $0["role"].text ?? "cashier",
                            pinHash: $0["pin_hash"].text ?? "")
            })
        }
    }
}
