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

    indirect enum Node: Sendable, Hashable {
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
        var names: [String] = []
        for case .object(let fields) in scopes.reversed() { names += fields.keys.sorted() }
        let wanted = path.last ?? ""
        let near = names.min { PrinterProfile.editDistance($0, wanted) < PrinterProfile.editDistance($1, wanted) }
        return "unknown field {\(path.joined(separator: "."))}" + (near.map { ": did you mean {\($0)}?" } ?? "")
    }

    // MARK: Rendering

    /// Fills the template with `data` and lays it out `columns` characters wide.
    public func render(_ data: TemplateValue, columns: Int) -> ReceiptDocument {
        var r = Renderer(columns: columns)
        r.render(nodes, scopes: [data])
        return r.document
    }

    struct Renderer {
        var document: ReceiptDocument
        var alignment = Alignment.left
        var style = TextStyle.normal
        let columns: Int

        init(columns: Int) {
            self.columns = columns
            document = ReceiptDocument(columns: columns)
        }

        var width: Int { style.doubleWidth ? columns / 2 : columns }

        mutating func render(_ nodes: [Node], scopes: [TemplateValue]) {
            for n in nodes {
                switch n {
                case .directive(let d, _): apply(d, scopes)
                case .line(let cells, _): line(cells.map { text($0, scopes) })
                case .section(let path, let inverted, let body, _):
                    let value = lookup(path, scopes)
                    if inverted {
                        if !(value?.isTruthy ?? false) { render(body, scopes: scopes) }
                        continue
                    }
                    guard let value, value.isTruthy else { continue }
                    if case .list(let items) = value {
                        for item in items { render(body, scopes: scopes + [item]) }
                    } else if case .bool = value {
                        render(body, scopes: scopes)
                    } else {
                        render(body, scopes: scopes + [value])
                    }
                }
            }
        }

        mutating func apply(_ d: Directive, _ scopes: [TemplateValue]) {
            switch d {
            case .align(let a): alignment = a
            case .style(let s): style = s
            case .rule(let c): document.blocks.append(.text(String(repeating: c, count: width), style))
            case .feed(let n): document.blocks.append(.feed(n))
            case .cut(let p): document.blocks.append(.cut(partial: p))
            case .drawer: document.blocks.append(.drawer)
            case .barcode(let s, let pieces, let h):
                let data = text(pieces, scopes)
                if !data.isEmpty { document.blocks.append(.barcode(s, data, height: h, alignment)) }
            case .qr(let pieces, let size):
                let data = text(pieces, scopes)
                if !data.isEmpty { document.blocks.append(.qrCode(data, moduleSize: size, alignment)) }
            case .image(let b): document.blocks.append(.image(b, alignment))
            }
        }

        func lookup(_ path: [String], _ scopes: [TemplateValue]) -> TemplateValue? {
            if path == ["."] { return scopes.last }
            for scope in scopes.reversed() {
                guard case .object(let fields) = scope, var v = fields[path[0]] else { continue }
                for key in path.dropFirst() {
                    guard case .object(let f) = v, let next = f[key] else { return nil }
                    v = next
                }
                return v
            }
            return nil
        }

        func text(_ pieces: [Piece], _ scopes: [TemplateValue]) -> String {
            var s = ""
            for p in pieces {
                switch p {
                case .literal(let l): s += l
                case .field, .quoted:
                    var v = ""
                    var format: Format?
                    if case .field(let path, let f) = p { v = lookup(path, scopes)?.textValue ?? ""; format = f }
                    if case .quoted(let q, let f) = p { v = q; format = f }
                    guard let format else { s += v; continue }
                    let w = format.percent ? columnsFor(format.width) : format.width
                    s += pad(v, w, format.alignment)
                }
            }
            return s
        }

        func columnsFor(_ percent: Int) -> Int { width * percent / 100 }

        func pad(_ v: String, _ w: Int, _ a: Alignment) -> String {
            let gap = max(0, w - v.count)
            switch a {
            case .left: return v + String(repeating: " ", count: gap)
            case .right: return String(repeating: " ", count: gap) + v
            case .center: return String(repeating: " ", count: gap / 2) + v + String(repeating: " ", count: gap - gap / 2)
            }
        }

        /// One template line: a paragraph (wrapped, aligned) or cells (the first flexible and
        /// wrapped, the others right-aligned at the end of the first printed line).
        mutating func line(_ cells: [String]) {
            let w = max(1, width)
            if cells.count == 1 {
                for l in wrap(cells[0], w) { emit(aligned(l, w)) }
                return
            }
            let right = cells.dropFirst().map { $0.trimmingTrailingSpaces }.joined(separator: " ")
            let room = max(1, w - right.count - 1)
            if cells[0].count > room && cells[0].count <= w {
                // Too long to share a line with the right-hand cells, short enough for a line alone.
                emit(cells[0])
                emit(String(repeating: " ", count: max(0, w - right.count)) + right)
                return
            }
            let first = wrap(cells[0], room).first ?? ""
            emit(first + String(repeating: " ", count: max(1, w - first.count - right.count)) + right)
            let rest = String(cells[0].dropFirst(first.count)).trimmingSpacesBothEnds
            if !rest.isEmpty { for l in wrap(rest, w) { emit(l) } }
        }

        func aligned(_ s: String, _ w: Int) -> String {
            let gap = max(0, w - s.count)
            switch alignment {
            case .left: return s
            case .center: return String(repeating: " ", count: gap / 2) + s
            case .right: return String(repeating: " ", count: gap) + s
            }
        }

        mutating func emit(_ s: String) {
            var t = s
            while t.last == " " { t.removeLast() }
            document.blocks.append(.text(t, style))
        }

        /// Word wrap; words longer than the width are cut.
        func wrap(_ s: String, _ w: Int) -> [String] {
            guard s.count > w else { return [s] }
            var out: [String] = []
            var current = ""
            for word in s.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
                var word = word
                while word.count > w {
                    if !current.isEmpty { out.append(current); current = "" }
                    out.append(String(word.prefix(w)))
                    word = String(word.dropFirst(w))
                }
                if current.isEmpty { current = word } else if current.count + 1 + word.count <= w { current += " " + word } else {
                    out.append(current)
                    current = word
                }
            }
            if !current.isEmpty || out.isEmpty { out.append(current) }
            return out
        }
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

