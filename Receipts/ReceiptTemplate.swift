import ESCPOS

/// Where templates and their images come from: the built-in set, or a directory a store edits.
public protocol TemplateSource: Sendable {
    /// A file's bytes, or nil if there is none with that name.
    func file(named name: String) -> [UInt8]?
    /// Describes the source in messages ("built-in templates", "/etc/till/receipts").
    var description: String { get }
}

/// A template problem: the file, the line and what is wrong. Reported when templates load.
public struct TemplateError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var line: Int
    public var reason: String
    public var description: String { "\(file) line \(line): \(reason)" }
    public init(file: String, line: Int, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }
}

/// A receipt template (README "Receipt templates"), parsed and checked against its data schema.
/// Rendering cannot fail: every problem is found by `init`.
public struct ReceiptTemplate: Sendable {
    public let name: String
    let nodes: [Node]

    struct Location: Sendable, Hashable {
        var file: String
        var line: Int
    }

    enum Piece: Sendable, Hashable {
        case literal(String)
        case field([String], Format?)
        /// A quoted literal with a format: `{'Net':>25%}`.
        case quoted(String, Format?)
    }

    struct Format: Sendable, Hashable {
        var alignment: Alignment
        var width: Int
        var percent: Bool
    }

    enum Directive: Sendable, Hashable {
        case align(Alignment)
        case style(TextStyle)
        case rule(Character)
        case feed(Int)
        case cut(partial: Bool)
        case drawer
        case barcode(ESCPOSEncoder.Symbology, [Piece], height: Int)
        case qr([Piece], size: Int)
        case image(Bitmap)
    }

    enum Node: Sendable, Hashable {
        case directive(Directive, Location)
        case line([[Piece]], Location)
        case section([String], inverted: Bool, [Node], Location)
    }

    /// Loads `name` from `source`, expanding `@include`s, and checks every field against `schema`.
    public init(named name: String, from source: any TemplateSource, schema: TemplateSchema, maxImageWidth: Int = 576) throws(TemplateError) {
        self.name = name
        var parser = Parser(source: source, maxImageWidth: maxImageWidth)
        let nodes = try parser.parse(file: name, includedFrom: nil, depth: 0)
        try Self.check(nodes, schema: [schema])
        self.nodes = nodes
    }

    // MARK: Checking

    private static func check(_ nodes: [Node], schema scopes: [TemplateSchema]) throws(TemplateError) {
        for n in nodes {
            switch n {
            case .directive(.barcode(_, let pieces, _), let loc), .directive(.qr(let pieces, _), let loc):
                try checkPieces(pieces, scopes, at: loc)
            case .directive: break
            case .line(let cells, let loc):
                for c in cells { try checkPieces(c, scopes, at: loc) }
            case .section(let path, _, let body, let loc):
                guard let s = resolve(path, scopes) else {
                    throw TemplateError(file: loc.file, line: loc.line, reason: unknownField(path, scopes))
                }
                var inner = scopes
                switch s {
                case .list(let element): inner.append(element)
                case .object: inner.append(s)
                case .text: inner.append(.text)
                case .bool: break
                }
                try check(body, schema: inner)
            }
        }
    }

    private static func checkPieces(_ pieces: [Piece], _ scopes: [TemplateSchema], at loc: Location) throws(TemplateError) {
        for case .field(let path, _) in pieces {
            guard let s = resolve(path, scopes) else {
                throw TemplateError(file: loc.file, line: loc.line, reason: unknownField(path, scopes))
            }
            if case .object = s {
                throw TemplateError(file: loc.file, line: loc.line,
                                    reason: "{\(path.joined(separator: "."))} is a group of fields, not text: name one of its fields")
            }
        }
    }

    private static func resolve(_ path: [String], _ scopes: [TemplateSchema]) -> TemplateSchema? {
        if path == ["."] { return scopes.last }
        for scope in scopes.reversed() {
            guard case .object(let fields) = scope, var s = fields[path[0]] else { continue }
            for key in path.dropFirst() {
                guard case .object(let f) = s, let next = f[key] else { return nil }
                s = next
            }
            return s
        }
        return nil
    }

    private static func unknownField(_ path: [String], _ scopes: [TemplateSchema]) -> String {
        let wanted = path.last ?? ""
        let name = "{\(path.joined(separator: "."))}"
        var candidates: [String] = []
        var prefix = ""
        if path.count > 1, let parent = resolve(Array(path.dropLast()), scopes), case .object(let fields) = parent {
            candidates = fields.keys.sorted()
            prefix = path.dropLast().joined(separator: ".") + "."
        } else {
            for case .object(let fields) in scopes.reversed() { candidates += fields.keys.sorted() }
        }
        if let near = candidates.min(by: { PrinterProfile.editDistance($0, wanted) < PrinterProfile.editDistance($1, wanted) }),
           PrinterProfile.editDistance(near, wanted) <= max(2, wanted.count / 3) {
            return "unknown field \(name): did you mean {\(prefix)\(near)}?"
        }
        return "unknown field \(name): the fields here are " + candidates.map { "{\(prefix)\($0)}" }.joined(separator: ", ")
    }

    // MARK: Rendering

    /// Fills the template with `data` and lays it out `columns` characters wide.
    public func render(_ data: TemplateValue, columns: Int) -> ReceiptDocument {
        var r = Renderer(columns: columns)
        var scopes = [data]
        r.render(nodes, scopes: &scopes)
        return r.finish()
    }
}

