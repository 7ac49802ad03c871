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

    /// A field path and, once checked, the depth of the scope it is found in (0 = the data's
    /// root; each list item or object section adds one), so rendering goes straight to it.
    struct FieldRef: Sendable, Hashable {
        var path: [String]
        var depth = -1
        var name: String { path.joined(separator: ".") }
    }

    enum Piece: Sendable, Hashable {
        /// Literal text, as UTF-8.
        case literal([UInt8])
        case field(FieldRef, Format?)
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

    /// Indirect: a node is then one reference, so walking the tree copies a pointer rather than
    /// every payload (the copies showed up in profiles).
    indirect enum Node: Sendable, Hashable {
        case directive(Directive, Location)
        case line([[Piece]], Location)
        case section(FieldRef, inverted: Bool, [Node], Location)
    }

    /// Loads `name` from `source`, expanding `@include`s, and checks every field against `schema`.
    public init(named name: String, from source: any TemplateSource, schema: TemplateSchema, maxImageWidth: Int = 576) throws(TemplateError) {
        self.name = name
        var parser = Parser(source: source, maxImageWidth: maxImageWidth)
        let nodes = try parser.parse(file: name, includedFrom: nil, depth: 0)
        self.nodes = try Self.checked(nodes, schema: [schema])
    }

    // MARK: Checking

    /// Checks every field against the schema and records the scope depth it resolves to.
    private static func checked(_ nodes: [Node], schema scopes: [TemplateSchema]) throws(TemplateError) -> [Node] {
        var out: [Node] = []
        for n in nodes {
            switch n {
            case .directive(.barcode(let sym, let pieces, let h), let loc):
                out.append(.directive(.barcode(sym, try checked(pieces, scopes, at: loc), height: h), loc))
            case .directive(.qr(let pieces, let size), let loc):
                out.append(.directive(.qr(try checked(pieces, scopes, at: loc), size: size), loc))
            case .directive:
                out.append(n)
            case .line(let cells, let loc):
                var checkedCells: [[Piece]] = []
                for c in cells { checkedCells.append(try checked(c, scopes, at: loc)) }
                out.append(.line(checkedCells, loc))
            case .section(var ref, let inverted, let body, let loc):
                guard let (s, depth) = resolve(ref.path, scopes) else {
                    throw TemplateError(file: loc.file, line: loc.line, reason: unknownField(ref.path, scopes))
                }
                ref.depth = depth
                // The body sees what rendering gives it: an inverted section adds no scope (there is
                // no item when it renders); a list adds its item, an object or text itself.
                var inner = scopes
                if !inverted {
                    switch s {
                    case .list(let element): inner.append(element)
                    case .object: inner.append(s)
                    case .text: inner.append(.text)
                    case .bool: break
                    }
                }
                out.append(.section(ref, inverted: inverted, try checked(body, schema: inner), loc))
            }
        }
        return out
    }

    private static func checked(_ pieces: [Piece], _ scopes: [TemplateSchema], at loc: Location) throws(TemplateError) -> [Piece] {
        var out: [Piece] = []
        for p in pieces {
            guard case .field(var ref, let format) = p else { out.append(p); continue }
            guard let (s, depth) = resolve(ref.path, scopes) else {
                throw TemplateError(file: loc.file, line: loc.line, reason: unknownField(ref.path, scopes))
            }
            if case .object = s {
                throw TemplateError(file: loc.file, line: loc.line,
                                    reason: "{\(ref.name)} is a group of fields, not text: name one of its fields")
            }
            ref.depth = depth
            out.append(.field(ref, format))
        }
        return out
    }

    /// The schema a path names, and the depth of the scope it starts in.
    private static func resolve(_ path: [String], _ scopes: [TemplateSchema]) -> (TemplateSchema, Int)? {
        if path == ["."] { return scopes.last.map { ($0, scopes.count - 1) } }
        for depth in scopes.indices.reversed() {
            guard case .object(let fields) = scopes[depth], var s = fields[path[0]] else { continue }
            for key in path.dropFirst() {
                guard case .object(let f) = s, let next = f[key] else { return nil }
                s = next
            }
            return (s, depth)
        }
        return nil
    }

    private static func unknownField(_ path: [String], _ scopes: [TemplateSchema]) -> String {
        let wanted = path.last ?? ""
        let name = "{\(path.joined(separator: "."))}"
        var candidates: [String] = []
        var prefix = ""
        if path.count > 1, let (parent, _) = resolve(Array(path.dropLast()), scopes), case .object(let fields) = parent {
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

