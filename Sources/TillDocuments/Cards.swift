import Foundation
public import TillCore

/// A card for the card cache (from head office or `till import cards`).
public struct CardRecord: Sendable, Hashable {
    public var number: String
    /// active, blocked, lost or stock (not issued yet).
    public var status: String
    /// The member the card is issued to (nil: stock), and their customer id.
    public var member: Registration?
    public var customerID: String?
    /// The balance head office confirmed, and when.
    public var balance: Int64
    public var confirmedAt: Timestamp?
    public var tierCode: String?
    public var qualifying: Int64

    public init(
        number: String, status: String, member: Registration?, customerID: String? = nil, balance: Int64, confirmedAt: Timestamp?,
        tierCode: String?, qualifying: Int64
    ) {
        self.number = number
        self.status = status
        self.member = member
        self.customerID = member == nil ? nil : customerID ?? number
        self.balance = balance
        self.confirmedAt = confirmedAt
        self.tierCode = tierCode
        self.qualifying = qualifying
    }
}

/// The card cache's CSV file.
public enum CardsCSV {
    public static let columns = ["card_number", "status", "first_name", "last_name", "phone", "email", "postcode", "birth_date",
                          "marketing_consent", "balance", "qualifying"]

    public static func parse(_ records: [CSVRecord], programme: LoyaltyProgramme, now: Int64) -> ([CardRecord], [ImportIssue]) {
        guard let header = records.first else { return ([], [ImportIssue(line: 1, message: "the file is empty: it needs a header row")]) }
        var reader: Reader
        switch Reader.make(header: header, programme: programme, now: now) {
        case .success(let r): reader = r
        case .failure(let problems): return ([], problems.issues)
        }
        var issues: [ImportIssue] = []
        var cards: [CardRecord] = []
        cards.reserveCapacity(records.count)
        for r in records.dropFirst() {
            switch reader.card(r) {
            case .success(let c): cards.append(c)
            case .failure(let issue): issues.append(issue)
            }
        }
        return (issues.isEmpty ? cards : [], issues)
    }

    /// Issues of a header row.
    public struct HeaderProblems: Error, Sendable {
        public var issues: [ImportIssue]
    }

    /// Reads the cards file's rows one at a time after its header: each a card or the issue
    /// with it. Keeps only the card numbers seen (8 bytes each), to find a card listed twice.
    public struct Reader {
        let names: [String]
        /// Each column's position in a row.
        let position: [String: Int]
        let programme: LoyaltyProgramme
        let now: Int64
        var seen = Set<UInt64>()
        var seenLong = Set<String>()

        public static func make(header: CSVRecord, programme: LoyaltyProgramme, now: Int64) -> Result<Reader, HeaderProblems> {
            var issues: [ImportIssue] = []
            let names = header.fields.map { $0.lowercased().trimmingCharacters(in: .whitespaces) }
            for n in names where !columns.contains(n) {
                issues.append(ImportIssue(line: header.line, message: "unknown column '\(n)': the columns are \(columns.joined(separator: ", "))"))
            }
            guard names.contains("card_number") else {
                return .failure(HeaderProblems(issues: issues + [ImportIssue(line: header.line, message: "the header needs a card_number column")]))
            }
            guard issues.isEmpty else { return .failure(HeaderProblems(issues: issues)) }
            return .success(Reader(names: names, position: Dictionary(names.enumerated().map { ($1, $0) }) { _, later in later },
                                   programme: programme, now: now))
        }

        /// A field without the white space around it; most have none, seen on the bytes.
        static func trimmed(_ s: String) -> String {
            let plain = { (b: UInt8?) in b.map { $0 > 0x20 && $0 < 0x80 } ?? true }
            return plain(s.utf8.first) && plain(s.utf8.last) ? s : s.trimmingCharacters(in: .whitespaces)
        }

        public mutating func card(_ r: CSVRecord) -> Result<CardRecord, ImportIssue> {
            guard r.fields.count == names.count else {
                return .failure(ImportIssue(line: r.line, message: "has \(r.fields.count) fields, the header has \(names.count)"))
            }
            let position = self.position
            let f = { (name: String) -> String? in position[name].map { Self.trimmed(r.fields[$0]) } }
            let number = f("card_number") ?? ""
            do { _ = try LoyaltyCardNumber.validate(number, ranges: programme.cardRanges) } catch {
                return .failure(ImportIssue(line: r.line, message: "card_number: \(error)"))
            }
            let firstTime = UInt64(number).map { seen.insert($0).inserted } ?? seenLong.insert(number).inserted
            guard firstTime else {
                return .failure(ImportIssue(line: r.line, message: "card \(LoyaltyCardNumber.masked(number)) is listed twice"))
            }
            let first = f("first_name") ?? "", last = f("last_name") ?? ""
            let named = !first.isEmpty || !last.isEmpty
            let status = (f("status") ?? "").isEmpty ? (named ? "active" : "stock") : f("status")!.lowercased()
            guard ["active", "blocked", "lost", "stock"].contains(status) else {
                return .failure(ImportIssue(line: r.line, message: "status '\(status)' must be active, blocked, lost or stock"))
            }
            var balance: Int64 = 0, qualifying: Int64 = 0
            for (key, target) in [("balance", 0), ("qualifying", 1)] {
                let text = f(key) ?? ""
                guard !text.isEmpty else { continue }
                guard let v = Int64(text), v >= 0 else {
                    return .failure(ImportIssue(line: r.line, message: "\(key) '\(text)' must be a whole number of points (or minor units) from 0"))
                }
                if target == 0 { balance = v } else { qualifying = v }
            }
            var member: Registration?
            if named {
                let consentText = (f("marketing_consent") ?? "").lowercased()
                guard ["", "yes", "no", "1", "0", "true", "false", "y", "n"].contains(consentText) else {
                    return .failure(ImportIssue(line: r.line, message: "marketing_consent '\(consentText)' must be yes or no"))
                }
                do {
                    member = try Registration.make(
                        cardNumber: number, firstName: first, lastName: last, phone: f("phone") ?? "", email: f("email") ?? "",
                        postcode: f("postcode") ?? "", birthDate: f("birth_date") ?? "",
                        marketingConsent: ["yes", "1", "true", "y"].contains(consentText), at: now)
                } catch {
                    return .failure(ImportIssue(line: r.line, message: "\(error)"))
                }
            } else if status == "active" {
                return .failure(ImportIssue(line: r.line, message: "an active card needs the member's first_name or last_name (status stock for unissued cards)"))
            }
            return .success(CardRecord(number: number, status: status, member: member, balance: balance,
                                       confirmedAt: now, tierCode: nil, qualifying: qualifying))
        }
    }
}

