import Foundation

/// Form bodies: `application/x-www-form-urlencoded` and `multipart/form-data` (file uploads).
enum FormBody {
    static func urlencoded(_ bytes: [UInt8]) -> [String: String] {
        var out: [String: String] = [:]
        for pair in String(decoding: bytes, as: UTF8.self).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            guard let k = kv.first, !k.isEmpty else { continue }
            out[k] = kv.count > 1 ? kv[1] : ""
        }
        return out
    }

    /// Fields of a multipart body (RFC 2046): parts are separated by CRLF, `--` and the boundary,
    /// so the boundary's text anywhere else (inside an uploaded file) is content. A part's name is
    /// its Content-Disposition's `name`; a file's content is its value (as UTF-8 text). Empty
    /// when the body is not multipart as its type says (the form is then refused, as any form
    /// without its fields is). (multipart-kit 4.7.1, the version at hand, traps on a byte above
    /// 127 in a header name — the fuzz corpus has one — so head office reads the parts itself.)
    static func multipart(_ bytes: [UInt8], contentType: String) -> [String: String] {
        guard let boundary = boundary(contentType) else { return [:] }
        let dashBoundary = Array(("--" + boundary).utf8)
        let delimiter: [UInt8] = [0x0D, 0x0A] + dashBoundary
        let crlf: [UInt8] = [0x0D, 0x0A]
        // The first boundary may open the body, or follow a preamble and a CRLF.
        guard var at = bytes.starts(with: dashBoundary) ? 0 : find(delimiter, in: bytes, from: 0).map({ $0 + 2 }) else { return [:] }
        var fields: [String: String] = [:]
        while true {
            let afterBoundary = at + dashBoundary.count
            if bytes[afterBoundary...].starts(with: [0x2D, 0x2D]) { break }            // "--": the last boundary
            // The rest of the boundary's line (transport padding), then the part's headers up to
            // the empty line.
            guard let lineEnd = find(crlf, in: bytes, from: afterBoundary) else { return [:] }
            let headersStart = lineEnd + 2
            let bodyStart: Int
            if bytes[headersStart...].starts(with: crlf) {
                bodyStart = headersStart + 2
            } else {
                guard let end = find(crlf + crlf, in: bytes, from: headersStart) else { return [:] }
                bodyStart = end + 4
            }
            guard let next = find(delimiter, in: bytes, from: bodyStart) else { return [:] }
            let headers = String(decoding: bytes[headersStart..<max(headersStart, bodyStart - 2)], as: UTF8.self)
            if let name = partName(headers) { fields[name] = String(decoding: bytes[bodyStart..<next], as: UTF8.self) }
            at = next + 2
        }
        return fields
    }

    /// The `name` of a part's `Content-Disposition: form-data; name="…"` header.
    static func partName(_ headers: String) -> String? {
        for line in headers.split(separator: "\r\n") {
            let kv = line.split(separator: ":", maxSplits: 1)
            guard kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == "content-disposition" else { continue }
            for parameter in kv[1].split(separator: ";").dropFirst() {
                let p = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard p.count == 2, p[0].lowercased() == "name" else { continue }
                let value = p[1].hasPrefix("\"") && p[1].hasSuffix("\"") && p[1].count >= 2 ? String(p[1].dropFirst().dropLast()) : p[1]
                return value.isEmpty ? nil : value
            }
        }
        return nil
    }

    /// Where `needle` first occurs in `bytes` at or after `from`.
    static func find(_ needle: [UInt8], in bytes: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, from >= 0, needle.count <= bytes.count else { return nil }
        var i = from
        while i + needle.count <= bytes.count {
            if bytes[i] == first && bytes[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// The boundary parameter of a `multipart/form-data; boundary=…` type (quoted or not).
    static func boundary(_ contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let kv = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, kv[0].lowercased() == "boundary" else { continue }
            let value = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return (1...70).contains(value.utf8.count) ? value : nil
        }
        return nil
    }
}
