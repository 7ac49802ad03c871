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

    /// Reads a staff CSV; every row is checked and the errors name their row. Nothing is returned
    /// unless every row is good.
    public static func parse(csv text: String) throws(StaffFileError) -> [StaffRecord] {
        var rows = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
        guard let header = rows.first, header.prefix(4) == ["number", "name", "role", "pin"] else {
            throw StaffFileError(problems: ["line 1: the header must be number,name,role,pin,store"])
        }
        rows.removeFirst()
        var out: [StaffRecord] = [], problems: [String] = [], seen = Set<String>()
        for (i, r) in rows.enumerated() where !(r.count == 1 && r[0].isEmpty) {
            let line = i + 2
            guard r.count == 4 || r.count == 5 else { problems.append("line \(line): \(r.count) fields, expected 4 or 5"); continue }
            let number = r[0], name = r[1], pin = r[3]
            guard !number.isEmpty, number.count <= 8, number.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                problems.append("line \(line): number '\(number)' must be 1 to 8 digits"); continue
            }
            guard seen.insert(number).inserted else { problems.append("line \(line): number \(number) appears twice"); continue }
            guard !name.isEmpty else { problems.append("line \(line): the name is empty"); continue }
            guard let role = Cashier.Role(rawValue: r[2]) else {
                problems.append("line \(line): role '\(r[2])' must be cashier, supervisor or manager"); continue
            }
            guard (4...8).contains(pin.count), pin.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                problems.append("line \(line): the PIN of \(number) must be 4 to 8 digits"); continue
            }
            let store = r.count == 5 && !r[4].isEmpty ? r[4] : nil
            out.append(StaffRecord(number: number, name: name, role: role, pin: pin, storeID: store))
        }
        guard problems.isEmpty else { throw StaffFileError(problems: problems) }
        return out
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
