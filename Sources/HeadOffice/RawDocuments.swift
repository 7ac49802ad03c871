/// Finds, in an ingest request's body, the exact bytes of each document's `sale` value, so head
/// office stores the JSON the till journalled instead of encoding the decoded document again
/// (which cost more than applying the sale). Only called on a body that already decoded as an
/// `IngestBatch`; any surprise returns nil and the caller encodes as before.
enum RawDocuments {
    /// For each element of the top-level "documents" array: the byte range of its "sale" value, or nil.
    static func saleRanges(in body: UnsafeRawBufferPointer) -> [Range<Int>?]? {
        var s = Scanner(bytes: body)
        guard s.skipSpace(), s.consume(UInt8(ascii: "{")) else { return nil }
        var found: [Range<Int>?]?
        if s.skipSpace(), s.consume(UInt8(ascii: "}")) { return nil }
        while true {
            guard s.skipSpace(), let key = s.string(), s.skipSpace(), s.consume(UInt8(ascii: ":")), s.skipSpace() else { return nil }
            if key == "documents" {
                guard found == nil, let ranges = documents(&s) else { return nil }
                found = ranges
            } else {
                guard s.skipValue() else { return nil }
            }
            guard s.skipSpace() else { return nil }
            if s.consume(UInt8(ascii: ",")) { continue }
            guard s.consume(UInt8(ascii: "}")) else { return nil }
            return found
        }
    }

    private static func documents(_ s: inout Scanner) -> [Range<Int>?]? {
        guard s.consume(UInt8(ascii: "[")) else { return nil }
        var out: [Range<Int>?] = []
        guard s.skipSpace() else { return nil }
        if s.consume(UInt8(ascii: "]")) { return out }
        while true {
            guard s.skipSpace(), s.consume(UInt8(ascii: "{")) else { return nil }
            var sale: Range<Int>?
            guard s.skipSpace() else { return nil }
            if !s.consume(UInt8(ascii: "}")) {
                while true {
                    guard s.skipSpace(), let key = s.string(), s.skipSpace(), s.consume(UInt8(ascii: ":")), s.skipSpace() else { return nil }
                    let start = s.at
                    guard s.skipValue() else { return nil }
                    if key == "sale" { sale = start..<s.at }
                    guard s.skipSpace() else { return nil }
                    if s.consume(UInt8(ascii: ",")) { continue }
                    guard s.consume(UInt8(ascii: "}")) else { return nil }
                    break
                }
            }
            out.append(sale)
            guard s.skipSpace() else { return nil }
            if s.consume(UInt8(ascii: ",")) { continue }
            guard s.consume(UInt8(ascii: "]")) else { return nil }
            return out
        }
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var at = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        /// Skips white space; false at the end of the input.
        mutating func skipSpace() -> Bool {
            while at < bytes.count {
                switch bytes[at] {
                case 0x20, 0x09, 0x0A, 0x0D: at += 1
                default: return true
                }
            }
            return false
        }

        mutating func consume(_ c: UInt8) -> Bool {
            guard at < bytes.count, bytes[at] == c else { return false }
            at += 1
            return true
        }

        /// A string without escapes (keys), or nil.
        mutating func string() -> String? {
            let start = at
            guard skipString() else { return nil }
            let inner = UnsafeRawBufferPointer(rebasing: bytes[(start + 1)..<(at - 1)])
            if inner.contains(UInt8(ascii: "\\")) { return nil }
            return String(decoding: inner, as: UTF8.self)
        }

        mutating func skipString() -> Bool {
            guard consume(UInt8(ascii: "\"")) else { return false }
            while at < bytes.count {
                switch bytes[at] {
                case UInt8(ascii: "\\"): at += 2
                case UInt8(ascii: "\""):
                    at += 1
                    return true
                default: at += 1
                }
            }
            return false
        }

        /// Skips one value of any kind (objects and arrays by bracket depth, strings honoured).
        mutating func skipValue() -> Bool {
            guard at < bytes.count else { return false }
            switch bytes[at] {
            case UInt8(ascii: "\""): return skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while at < bytes.count {
                    switch bytes[at] {
                    case UInt8(ascii: "\""):
                        guard skipString() else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            at += 1
                            return true
                        }
                    default: break
                    }
                    at += 1
                }
                return false
            default:
                // Numbers, true, false, null: up to the next delimiter.
                let start = at
                while at < bytes.count {
                    switch bytes[at] {
                    case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D: return at > start
                    default: at += 1
                    }
                }
                return at > start
            }
        }
    }
}
