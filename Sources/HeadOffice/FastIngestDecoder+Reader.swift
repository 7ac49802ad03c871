import Foundation
import TillProtocol

extension FastIngestDecoder {
    /// A cursor over JSON text.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var at = 0
        var depth = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func space() {
            while at < bytes.count {
                switch bytes[at] {
                case 0x20, 0x09, 0x0A, 0x0D: at += 1
                default: return
                }
            }
        }

        mutating func expect(_ c: UInt8) throws(Fail) {
            space()
            guard at < bytes.count, bytes[at] == c else { throw Fail() }
            at += 1
        }

        mutating func peek(_ c: UInt8) -> Bool {
            space()
            return at < bytes.count && bytes[at] == c
        }

        mutating func end() throws(Fail) {
            space()
            guard at == bytes.count else { throw Fail() }
        }

        func text(_ range: Range<Int>) -> String { String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self) }

        /// `null` (consumed) or not (nothing consumed).
        mutating func null() -> Bool {
            space()
            guard at + 4 <= bytes.count, bytes[at] == 0x6E, bytes[at + 1] == 0x75, bytes[at + 2] == 0x6C, bytes[at + 3] == 0x6C else { return false }
            at += 4
            return true
        }

        mutating func object(_ field: (inout Reader, Key) throws(Fail) -> Void) throws(Fail) {
            try expect(0x7B)
            depth += 1
            defer { depth -= 1 }
            guard depth <= FastIngestDecoder.maxDepth else { throw Fail() }
            if peek(0x7D) {
                at += 1
                return
            }
            while true {
                let key = try self.key()
                try expect(0x3A)
                try field(&self, key)
                space()
                guard at < bytes.count else { throw Fail() }
                if bytes[at] == 0x2C {
                    at += 1
                    continue
                }
                guard bytes[at] == 0x7D else { throw Fail() }
                at += 1
                return
            }
        }

        mutating func array(_ element: (inout Reader) throws(Fail) -> Void) throws(Fail) {
            try expect(0x5B)
            depth += 1
            defer { depth -= 1 }
            guard depth <= FastIngestDecoder.maxDepth else { throw Fail() }
            if peek(0x5D) {
                at += 1
                return
            }
            while true {
                try element(&self)
                space()
                guard at < bytes.count else { throw Fail() }
                if bytes[at] == 0x2C {
                    at += 1
                    continue
                }
                guard bytes[at] == 0x5D else { throw Fail() }
                at += 1
                return
            }
        }

        mutating func string() throws(Fail) -> String {
            let (start, ascii, escape) = try plainRun()
            if escape { return try escaped(from: start) }
            let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<at])
            at += 1
            // Invalid UTF-8 is JSONDecoder's to refuse, not this reader's to repair.
            guard let s = ascii ? String(decoding: raw, as: UTF8.self) : String(validating: raw, as: UTF8.self) else { throw Fail() }
            return s
        }

        /// An object's key, as its bytes in the body: no `String` is made for it (making one and
        /// comparing it with each name a `switch` tries took a third of decoding's time).
        mutating func key() throws(Fail) -> Key {
            let (start, ascii, escape) = try plainRun()
            // A key with escapes (JSON allows `"\u0073ku"` for `"sku"`) is read as a string.
            if escape { return Key(raw: UnsafeRawBufferPointer(rebasing: bytes[start..<start]), decoded: try escaped(from: start)) }
            let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<at])
            at += 1
            if !ascii { guard String(validating: raw, as: UTF8.self) != nil else { throw Fail() } }
            return Key(raw: raw, decoded: nil)
        }

        /// A string's bytes from its opening quote up to its closing quote or its first escape
        /// (where `at` then stands): where they start, and whether they are all ASCII.
        private mutating func plainRun() throws(Fail) -> (start: Int, ascii: Bool, escape: Bool) {
            try expect(0x22)
            let start = at
            var ascii = true
            while at < bytes.count {
                let c = bytes[at]
                if c == 0x22 { return (start, ascii, false) }
                if c == 0x5C { return (start, ascii, true) }
                if c >= 0x80 { ascii = false }
                if c < 0x20 { throw Fail() }
                at += 1
            }
            throw Fail()
        }

        /// A string with escapes, from its first byte.
        private mutating func escaped(from start: Int) throws(Fail) -> String {
            var out = Array(bytes[start..<at])
            while at < bytes.count {
                let c = bytes[at]
                if c == 0x22 {
                    at += 1
                    guard let s = String(validating: out, as: UTF8.self) else { throw Fail() }
                    return s
                }
                if c < 0x20 { throw Fail() }
                guard c == 0x5C else {
                    out.append(c)
                    at += 1
                    continue
                }
                guard at + 1 < bytes.count else { throw Fail() }
                let e = bytes[at + 1]
                at += 2
                switch e {
                case 0x22, 0x5C, 0x2F: out.append(e)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0C)
                case 0x6E: out.append(0x0A)
                case 0x72: out.append(0x0D)
                case 0x74: out.append(0x09)
                case 0x75:
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard at + 1 < bytes.count, bytes[at] == 0x5C, bytes[at + 1] == 0x75 else { throw Fail() }
                        at += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw Fail() }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw Fail()
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw Fail() }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default: throw Fail()
                }
            }
            throw Fail()
        }

        private mutating func hex4() throws(Fail) -> UInt32 {
            guard at + 4 <= bytes.count else { throw Fail() }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[at]
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c - 0x30
                case 0x41...0x46: d = c - 0x41 + 10
                case 0x61...0x66: d = c - 0x61 + 10
                default: throw Fail()
                }
                v = v << 4 | UInt32(d)
                at += 1
            }
            return v
        }

        /// An integer written without fraction or exponent; anything else is left to JSONDecoder.
        mutating func int() throws(Fail) -> Int64 {
            space()
            var negative = false
            if at < bytes.count, bytes[at] == 0x2D {
                negative = true
                at += 1
            }
            let start = at
            var v: Int64 = 0
            while at < bytes.count, (0x30...0x39).contains(bytes[at]) {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(Int64(bytes[at] - 0x30))
                guard !o1, !o2 else { throw Fail() }
                v = s
                at += 1
            }
            guard at > start, !(at - start > 1 && bytes[start] == 0x30) else { throw Fail() }
            if at < bytes.count, bytes[at] == 0x2E || bytes[at] == 0x65 || bytes[at] == 0x45 { throw Fail() }
            return negative ? -v : v
        }

        mutating func bool() throws(Fail) -> Bool {
            space()
            if at + 4 <= bytes.count, bytes[at] == 0x74, bytes[at + 1] == 0x72, bytes[at + 2] == 0x75, bytes[at + 3] == 0x65 {
                at += 4
                return true
            }
            if at + 5 <= bytes.count, bytes[at] == 0x66, bytes[at + 1] == 0x61, bytes[at + 2] == 0x6C, bytes[at + 3] == 0x73, bytes[at + 4] == 0x65 {
                at += 5
                return false
            }
            throw Fail()
        }

        /// Skips any value (for keys the documents do not have); checked only for its brackets
        /// and strings.
        mutating func skipValue() throws(Fail) {
            space()
            guard at < bytes.count else { throw Fail() }
            switch bytes[at] {
            case 0x22: _ = try string()
            case 0x7B: try object { r, _ throws(Fail) in try r.skipValue() }
            case 0x5B: try array { r throws(Fail) in try r.skipValue() }
            case 0x74, 0x66: _ = try bool()
            case 0x6E: guard null() else { throw Fail() }
            default: try number()
            }
        }

        /// A number exactly as RFC 8259 writes it: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        /// (no `+1`, `.5`, `01`, `1.` or `1e`, which JSONDecoder refuses).
        mutating func number() throws(Fail) {
            func digits(_ r: inout Reader) -> Int {
                let start = r.at
                while r.at < r.bytes.count, (0x30...0x39).contains(r.bytes[r.at]) { r.at += 1 }
                return r.at - start
            }
            if at < bytes.count, bytes[at] == 0x2D { at += 1 }
            guard at < bytes.count else { throw Fail() }
            if bytes[at] == 0x30 {
                at += 1
            } else {
                guard (0x31...0x39).contains(bytes[at]) else { throw Fail() }
                _ = digits(&self)
            }
            if at < bytes.count, bytes[at] == 0x2E {
                at += 1
                guard digits(&self) > 0 else { throw Fail() }
            }
            if at < bytes.count, bytes[at] == 0x65 || bytes[at] == 0x45 {
                at += 1
                if at < bytes.count, bytes[at] == 0x2B || bytes[at] == 0x2D { at += 1 }
                guard digits(&self) > 0 else { throw Fail() }
            }
            // A number ends at a delimiter; `1x` or `01` is not a number.
            if at < bytes.count, !(bytes[at] == 0x2C || bytes[at] == 0x7D || bytes[at] == 0x5D || bytes[at] == 0x20 || bytes[at] == 0x09
                                   || bytes[at] == 0x0A || bytes[at] == 0x0D) { throw Fail() }
        }
    }
}

extension FastIngestDecoder {
    /// An object's key: the bytes between its quotes in the body, or, for a key written with
    /// escapes, the string they spell. A `switch` on it matches names with `~=`.
    struct Key {
        let raw: UnsafeRawBufferPointer
        let decoded: String?

        var string: String { decoded ?? String(decoding: raw, as: UTF8.self) }

        /// Inlined, so that a `switch` compares the key's length with each name's (a constant)
        /// and its bytes only when they have the same length.
        @inline(__always)
        static func ~= (name: StaticString, key: Key) -> Bool {
            let n = name.utf8CodeUnitCount
            if key.raw.count == n && key.decoded == nil { return n == 0 || memcmp(key.raw.baseAddress!, name.utf8Start, n) == 0 }
            return key.decoded.map { d in name.withUTF8Buffer { d.utf8.elementsEqual($0) } } ?? false
        }
    }

    static func offerDiscountList(_ r: inout Reader) throws(Fail) -> [SaleDocument.OfferDiscountInfo] {
        var out: [SaleDocument.OfferDiscountInfo] = []
        try r.array { r throws(Fail) in
            var id: String?, name: String?, kind: String?, value: Int64?, skus: [String]?, categories: [String]?, minSpend: Int64?, amount: Int64?
            func strings(_ r: inout Reader) throws(Fail) -> [String] {
                var list: [String] = []
                try r.array { r throws(Fail) in list.append(try r.string()) }
                return list
            }
            try r.object { r, k throws(Fail) in
                switch k {
                case "id": try once(&id, r.string())
                case "name": try once(&name, r.string())
                case "kind": try once(&kind, r.string())
                case "value": try once(&value, r.int())
                case "skus": try once(&skus, strings(&r))
                case "categories": try once(&categories, strings(&r))
                case "minSpend": try once(&minSpend, r.int())
                case "amount": try once(&amount, r.int())
                default: try r.skipValue()
                }
            }
            guard let id, let name, let kind, let value, let skus, let categories, let minSpend, let amount else { throw Fail() }
            out.append(SaleDocument.OfferDiscountInfo(id: id, name: name, kind: kind, value: value, skus: skus, categories: categories,
                                                      minSpend: minSpend, amount: amount))
        }
        return out
    }
}
