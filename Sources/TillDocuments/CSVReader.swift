/// A record of a CSV file with the line it starts on (1-based).
public struct CSVRecord: Equatable, Sendable {
    public var line: Int
    public var fields: [String]
    public init(line: Int, fields: [String]) {
        self.line = line
        self.fields = fields
    }
}

/// Reads RFC 4180 CSV: comma-separated, fields optionally in double quotes, `""` for a quote
/// inside quotes, quoted fields may span lines; CRLF or LF; a UTF-8 byte-order mark is skipped.
public enum CSVReader {
    public struct Failure: Error, Equatable, Sendable {
        public var line: Int
        public var message: String
        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }
    }

    public static func records(_ text: String) throws(Failure) -> [CSVRecord] {
        var records: [CSVRecord] = []
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        do {
            try bytes.withUnsafeBytes { try forEachRecord($0) { records.append($0) } }
        } catch let f as Failure {
            throw f
        } catch {
            throw Failure(line: 0, message: "\(error)")   // the body above never throws
        }
        return records
    }

    /// Reads the records one at a time from `bytes` (a mapped file, say), keeping none: memory
    /// stays bounded whatever the file's size. A UTF-8 byte-order mark is skipped. `body` may
    /// throw to stop; a malformed file throws `Failure`.
    public static func forEachRecord(_ bytes: UnsafeRawBufferPointer, _ body: (CSVRecord) throws -> Void) throws {
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        var inQuotes = false
        var quoteLine = 0
        var fieldWasQuoted = false
        let bom = bytes.starts(with: [0xEF, 0xBB, 0xBF])
        var i = bom ? 3 : 0
        func endField() throws {
            guard let text = String(validating: field, as: UTF8.self) else {
                throw Failure(line: line, message: "is not UTF-8 text: save the file as CSV UTF-8")
            }
            fields.append(text)
            field.removeAll(keepingCapacity: true)
            fieldWasQuoted = false
        }
        func endRecord() throws {
            try endField()
            // Skip blank lines.
            if !(fields.count == 1 && fields[0].isEmpty) { try body(CSVRecord(line: recordLine, fields: fields)) }
            fields.removeAll(keepingCapacity: true)
        }
        while i < bytes.count {
            let b = bytes[i]
            if inQuotes {
                if b == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") {
                        field.append(b)
                        i += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if b == UInt8(ascii: "\n") { line += 1 }
                    field.append(b)
                }
            } else {
                switch b {
                case UInt8(ascii: ","):
                    try endField()
                case UInt8(ascii: "\r"):
                    break
                case UInt8(ascii: "\n"):
                    try endRecord()
                    line += 1
                    recordLine = line
                case UInt8(ascii: "\""):
                    if field.isEmpty && !fieldWasQuoted {
                        inQuotes = true
                        fieldWasQuoted = true
                        quoteLine = line
                    } else {
                        throw Failure(line: line, message: "a quote (\") inside an unquoted field: put the whole field in quotes and double the quote")
                    }
                default:
                    if fieldWasQuoted {
                        throw Failure(line: line, message: "text after a closing quote: put the whole field in quotes")
                    }
                    field.append(b)
                }
            }
            i += 1
        }
        if inQuotes { throw Failure(line: quoteLine, message: "a quote opened here is never closed") }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { try endRecord() }
    }
}
