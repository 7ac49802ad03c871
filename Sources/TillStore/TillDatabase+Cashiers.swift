import GRDB
public import TillCore
import TillDocuments
public import TillProtocol

extension TillDatabase: CashierDirectory {
    public func authenticate(number: String, pin: String) throws -> Cashier? {
        let row = try run("check the cashier") {
            try pool.read { try Row.fetchOne($0, sql: "SELECT * FROM cashier WHERE number = ?", arguments: [number]) }
        }
        guard let row, PINHasher.verify(pin, against: row["pin_hash"]) else { return nil }
        return Cashier(number: row["number"], name: row["name"], role: Cashier.Role(rawValue: row["role"]) ?? .cashier)
    }

    public func signOn(number: String, pin: String, maxAttempts: Int, at time: Timestamp) throws -> SignOnOutcome {
        try run("check the cashier") {
            try pool.write { db -> SignOnOutcome in
                let lock = try Row.fetchOne(db, sql: "SELECT wrong, locked_at FROM sign_on_lockout WHERE number = ?", arguments: [number])
                if maxAttempts > 0, (lock?["locked_at"] as Int64?) != nil { return .locked }
                let row = try Row.fetchOne(db, sql: "SELECT * FROM cashier WHERE number = ?", arguments: [number])
                if let row, PINHasher.verify(pin, against: row["pin_hash"]) {
                    try db.execute(sql: "DELETE FROM sign_on_lockout WHERE number = ?", arguments: [number])
                    return .signedOn(Cashier(number: row["number"], name: row["name"], role: Cashier.Role(rawValue: row["role"]) ?? .cashier))
                }
                let wrong = ((lock?["wrong"] as Int64?) ?? 0) + 1
                let locks = maxAttempts > 0 && wrong >= Int64(maxAttempts)
                try db.execute(sql: """
                    INSERT INTO sign_on_lockout (number, wrong, locked_at) VALUES (?, ?, ?)
                    ON CONFLICT (number) DO UPDATE SET wrong = excluded.wrong, locked_at = excluded.locked_at
                    """, arguments: [number, wrong, locks ? time : nil])
                if locks { return .locked }
                return .wrong(attemptsLeft: maxAttempts > 0 ? maxAttempts - Int(wrong) : nil)
            }
        }
    }

    /// Cashier numbers locked after wrong PINs.
    public func lockedNumbers() throws(TillStoreError) -> [String] {
        try run("read the sign-on locks") {
            try pool.read { try String.fetchAll($0, sql: "SELECT number FROM sign_on_lockout WHERE locked_at IS NOT NULL ORDER BY number") }
        }
    }

    public func unlock(number: String) throws {
        try run("unlock cashier \(number)") {
            try pool.write { try $0.execute(sql: "DELETE FROM sign_on_lockout WHERE number = ?", arguments: [number]) }
        }
    }

    /// Adds or replaces a cashier; the PIN is stored hashed.
    public func saveCashier(_ cashier: Cashier, pin: String) throws(TillStoreError) {
        let hash = PINHasher.hash(pin)
        try run("save cashier \(cashier.number)") {
            try pool.write { db in
                try db.execute(
                    sql: "INSERT OR REPLACE INTO cashier (number, name, role, pin_hash) VALUES (?, ?, ?, ?)",
                    arguments: [cashier.number, cashier.name, cashier.role.rawValue, hash])
            }
        }
    }

    public func cashierCount() throws(TillStoreError) -> Int {
        try run("count cashiers") { try pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM cashier") ?? 0 } }
    }
}

extension TillDatabase {
    /// Adds or replaces several cashiers in one transaction: all or none.
    public func saveCashiers(_ staff: [(Cashier, String)]) throws(TillStoreError) {
        let rows = staff.map { ($0.0, PINHasher.hash($0.1)) }
        try run("save cashiers") {
            try pool.write { db in
                for (c, hash) in rows {
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO cashier (number, name, role, pin_hash) VALUES (?, ?, ?, ?)",
                        arguments: [c.number, c.name, c.role.rawValue, hash])
                }
            }
        }
    }
}

extension TillDatabase {
    /// Takes head office's staff list as the till's cashiers, all or nothing: anyone not on it can
    /// no longer sign on. An empty list (head office defines no staff yet) changes nothing.
    /// Returns the number of staff now on the till.
    @discardableResult
    public func replaceStaff(_ list: StaffList) throws(TillStoreError) -> Int {
        guard !list.staff.isEmpty else { return try cashierCount() }
        for m in list.staff {
            guard Cashier.Role(rawValue: m.role) != nil, PINHasher.isWellFormed(m.pinHash), !m.number.isEmpty,
                  m.number.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw .failed(context: "take head office's staff", reason: "staff member '\(m.number)' (\(m.name)) is not valid: role '\(m.role)', number in digits, PIN hash")
            }
        }
        try run("take head office's staff") {
            try pool.write { db in
                try db.execute(sql: "DELETE FROM cashier")
                for m in list.staff {
                    try db.execute(sql: "INSERT INTO cashier (number, name, role, pin_hash) VALUES (?, ?, ?, ?)",
                                   arguments: [m.number, m.name, m.role, m.pinHash])
                }
            }
        }
        return list.staff.count
    }
}
