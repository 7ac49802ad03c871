public import TillCore

/// One member of staff read from a staff file, with the line they came from.
public struct StaffRow: Sendable, Equatable {
    public var line: Int
    public var cashier: Cashier
    public var pin: String
    /// The store they work at (head office's file only); nil: every store.
    public var storeID: String?
}

/// The staff file both ends read: `number,name,role,pin` and, at head office, an optional
/// `store` column. Every row is checked; rows come back only when there are no issues at all.
public enum StaffCSV {
    public static func parse(_ text: String, storeColumn: Bool) -> (rows: [StaffRow], issues: [ImportIssue]) {
        let records: [CSVRecord]
        do { records = try CSVReader.records(text) } catch { return ([], [ImportIssue(line: error.line, message: error.message)]) }
        let columns = ["number", "name", "role", "pin"] + (storeColumn ? ["store"] : [])
        let names = records.first?.fields.map { $0.trimmingSpaces.lowercased() } ?? []
        guard names == columns || (storeColumn && names == Array(columns.prefix(4))) else {
            return ([], [ImportIssue(line: 1, message: "the header must be \(columns.joined(separator: ","))")])
        }
        var rows: [StaffRow] = [], issues: [ImportIssue] = [], seen = Set<String>()
        for r in records.dropFirst() {
            let f = r.fields.map(\.trimmingSpaces)
            if f.allSatisfy(\.isEmpty) { continue }
            guard f.count == names.count else {
                issues.append(ImportIssue(line: r.line, message: "has \(f.count) fields, the header has \(names.count)"))
                continue
            }
            let (number, name, roleText, pin) = (f[0], f[1], f[2].lowercased(), f[3])
            let before = issues.count
            func bad(_ m: String) { issues.append(ImportIssue(line: r.line, message: m)) }
            if !(1...8).contains(number.count) || !number.allSatisfy({ $0.isASCII && $0.isNumber }) {
                bad("number '\(number)' must be 1 to 8 digits")
            } else if seen.insert(number).inserted == false {
                bad("number \(number) appears twice")
            }
            if name.isEmpty || name.count > 40 { bad("name '\(name)' must be 1 to 40 characters") }
            let role = Cashier.Role(rawValue: roleText)
            if role == nil { bad("role '\(roleText)' must be cashier, supervisor or manager") }
            if !(4...8).contains(pin.count) || !pin.allSatisfy({ $0.isASCII && $0.isNumber }) { bad("the PIN of \(number) must be 4 to 8 digits") }
            if issues.count == before, let role {
                rows.append(StaffRow(line: r.line, cashier: Cashier(number: number, name: name, role: role), pin: pin,
                                     storeID: f.count > 4 && !f[4].isEmpty ? f[4] : nil))
            }
        }
        return issues.isEmpty ? (rows, []) : ([], issues)
    }
}
