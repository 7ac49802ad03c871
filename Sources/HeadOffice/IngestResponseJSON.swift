import TillProtocol

/// An ingest answer as JSON, written straight into bytes: Foundation's `JSONEncoder` (a container
/// and a boxed value for every field of every result) was a twentieth of the CPU of a till's
/// batch. The same keys as the `Codable` form (a nil field left out), which tills decode.
enum IngestResponseJSON {
    static func encode(_ response: IngestResponse) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + response.results.count * 160)
        out += #"{"results":["#.utf8
        for (i, r) in response.results.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += #"{"kind":"#.utf8
            string(r.kind, &out)
            out += #","id":"#.utf8
            string(r.id, &out)
            out += #","status":"#.utf8
            string(r.status.rawValue, &out)
            if let reason = r.reason {
                out += #","reason":"#.utf8
                string(reason, &out)
            }
            out += #","cards":["#.utf8
            for (j, c) in r.cards.enumerated() {
                if j > 0 { out.append(UInt8(ascii: ",")) }
                out += #"{"number":"#.utf8
                string(c.number, &out)
                out += #","balance":"#.utf8
                out += String(c.balance).utf8
                if let tier = c.tierCode {
                    out += #","tierCode":"#.utf8
                    string(tier, &out)
                }
                out += #","qualifying":"#.utf8
                out += String(c.qualifying).utf8
                out.append(UInt8(ascii: "}"))
            }
            out += "]}".utf8
        }
        out += #"],"gaps":["#.utf8
        for (i, g) in response.gaps.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += #"{"from":"#.utf8
            out += String(g.from).utf8
            out += #","to":"#.utf8
            out += String(g.to).utf8
            out.append(UInt8(ascii: "}"))
        }
        out += "]}".utf8
        return out
    }

    /// `s` as a JSON string: quotes, backslashes and control characters escaped, the rest as its UTF-8.
    static func string(_ s: String, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case UInt8(ascii: "\n"): out += #"\n"#.utf8
            case UInt8(ascii: "\r"): out += #"\r"#.utf8
            case UInt8(ascii: "\t"): out += #"\t"#.utf8
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += #"\u00"#.utf8
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
