/// How the till reaches its receipt printer, as written in `[printer] connection`.
public enum PrinterConnection: Hashable, Sendable, CustomStringConvertible {
    /// `usb:VID:PID` or `usb:VID:PID:SERIAL` (hex IDs, as `lsusb` shows them).
    case usb(vendor: UInt16, product: UInt16, serial: String?)
    /// `cups:QUEUE` (a raw queue); the server comes from `[printer] cups_server` or CUPS's default.
    case cups(queue: String)
    /// `device:/dev/usb/lp0` (or any device file).
    case device(path: String)
    /// `tcp:HOST:PORT` (port 9100 if left out).
    case tcp(host: String, port: UInt16)
    /// `none`: no printer; receipts are kept as files only.
    case none

    public static let examples = "usb:04b8:0202, usb:04b8:0202:SERIAL, cups:receipt, device:/dev/usb/lp0, tcp:192.168.1.50:9100 or none"

    public static func parse(_ text: String) throws(PrinterError) -> PrinterConnection {
        func bad(_ why: String) -> PrinterError {
            .badAddress("Printer connection '\(text)' \(why): write one of \(examples)")
        }
        if text == "none" { return .none }
        let (kind, rest) = text.splitAtColon()
        switch kind {
        case "usb":
            let parts = rest.split(separator: ":", maxSplits: 2).map(String.init)
            guard parts.count >= 2, parts[0].count == 4, parts[1].count == 4,
                  let v = UInt16(parts[0], radix: 16), let p = UInt16(parts[1], radix: 16) else {
                throw bad("needs the vendor and product IDs in hex")
            }
            return .usb(vendor: v, product: p, serial: parts.count == 3 && !parts[2].isEmpty ? parts[2] : nil)
        case "cups":
            guard !rest.isEmpty, !rest.contains("/"), !rest.contains(" ") else { throw bad("needs a queue name") }
            return .cups(queue: rest)
        case "device":
            guard rest.hasPrefix("/") else { throw bad("needs an absolute path") }
            return .device(path: rest)
        case "tcp":
            let (host, portText) = rest.splitAtLastColon()
            guard !host.isEmpty else { throw bad("needs a host") }
            if portText.isEmpty { return .tcp(host: host, port: 9100) }
            guard let port = UInt16(portText), port > 0 else { throw bad("has a port that is not a number from 1 to 65535") }
            return .tcp(host: host, port: port)
        default:
            throw bad("is not a kind of connection")
        }
    }

    public var description: String {
        switch self {
        case .usb(let v, let p, let s):
            func hex(_ x: UInt16) -> String { let t = String(x, radix: 16); return String(repeating: "0", count: 4 - t.count) + t }
            return "usb:\(hex(v)):\(hex(p))" + (s.map { ":\($0)" } ?? "")
        case .cups(let q): return "cups:\(q)"
        case .device(let p): return "device:\(p)"
        case .tcp(let h, let p): return "tcp:\(h):\(p)"
        case .none: return "none"
        }
    }

    /// The transport for this connection; nil for `none`.
    public func makeTransport(cupsServer: String? = nil, askStatus: Bool = true, timeoutMilliseconds: Int = 5_000) -> (any PrinterTransport)? {
        switch self {
        case .usb(let v, let p, let s): return USBPrinterTransport(vendorID: v, productID: p, serial: s, timeoutMilliseconds: timeoutMilliseconds)
        case .cups(let q): return CUPSPrinterTransport(queue: q, server: cupsServer, timeoutMilliseconds: max(timeoutMilliseconds, 20_000))
        case .device(let path): return DevicePrinterTransport(path: path, timeoutMilliseconds: timeoutMilliseconds, askStatus: askStatus)
        case .tcp(let h, let p): return TCPPrinterTransport(host: h, port: p, timeoutMilliseconds: timeoutMilliseconds, confirmWithStatus: askStatus)
        case .none: return nil
        }
    }
}

extension String {
    func splitAtColon() -> (String, String) {
        guard let i = firstIndex(of: ":") else { return (self, "") }
        return (String(self[..<i]), String(self[index(after: i)...]))
    }

    func splitAtLastColon() -> (String, String) {
        if hasPrefix("["), let close = firstIndex(of: "]") { // [IPv6]:port
            let host = String(self[index(after: startIndex)..<close])
            let rest = self[index(after: close)...]
            return (host, rest.hasPrefix(":") ? String(rest.dropFirst()) : "")
        }
        guard let i = lastIndex(of: ":") else { return (self, "") }
        return (String(self[..<i]), String(self[index(after: i)...]))
    }
}
