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

    /// Fields of a multipart body; a file's content is its value (as UTF-8 text).
    static func multipart(_ bytes: [UInt8], contentType: String) -> [String: String] {
        guard let b = contentType.components(separatedBy: "boundary=").last?.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")), !b.isEmpty else { return [:] }
        let text = String(decoding: bytes, as: UTF8.self)
        var out: [String: String] = [:]
        for part in text.components(separatedBy: "--" + b) {
            guard let split = part.range(of: "\r\n\r\n") else { continue }
            let head = part[..<split.lowerBound], body = part[split.upperBound...]
            guard let nameRange = head.range(of: "name=\"") else { continue }
            let name = head[nameRange.upperBound...].prefix { $0 != "\"" }
            var value = String(body)
            if value.hasSuffix("\r\n") { value.removeLast() }   // "\r\n" is one Character
            out[String(name)] = value
        }
        return out
    }
}

