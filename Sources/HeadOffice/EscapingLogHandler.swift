public import Logging

/// A log handler that writes through another with every control character of the message and the
/// metadata escaped (`\u{1b}`), so nothing a till or a browser sends can forge a log line, move the
/// cursor of whoever reads the log, or hide what follows.
public struct EscapingLogHandler: LogHandler {
    private var inner: any LogHandler

    public init(_ inner: any LogHandler) { self.inner = inner }

    /// The standard error handler (swift-log's stream format) with escaping.
    public static func standardError(label: String) -> EscapingLogHandler {
        EscapingLogHandler(StreamLogHandler.standardError(label: label))
    }

    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var e = event
        e.message = Logger.Message(stringLiteral: Self.escape(event.message.description))
        e.metadata = event.metadata.map { $0.mapValues(Self.escape) }
        inner.log(event: e)
    }

    public static func escape(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: isControl) else { return s }
        var out = ""
        for u in s.unicodeScalars {
            if isControl(u) { out += "\\u{\(String(u.value, radix: 16))}" } else { out.unicodeScalars.append(u) }
        }
        return out
    }

    static func escape(_ v: Logger.MetadataValue) -> Logger.MetadataValue {
        switch v {
        case .string(let s): .string(escape(s))
        case .stringConvertible(let c): .string(escape(c.description))
        case .array(let a): .array(a.map(escape))
        case .dictionary(let d): .dictionary(d.mapValues(escape))
        }
    }

    static func isControl(_ u: Unicode.Scalar) -> Bool {
        u.value < 0x20 || (0x7F...0x9F).contains(u.value) || u.value == 0x2028 || u.value == 0x2029
    }
}
