import ESCPOS

extension ReceiptTemplate {
    /// Reads template files into nodes. Every error names the file and line.
    struct Parser {
        let source: any TemplateSource
        let maxImageWidth: Int

        static let directives = ["left", "center", "right", "style", "rule", "feed", "cut", "drawer", "barcode", "qr", "image", "include"]

        mutating func parse(file: String, includedFrom: Location?, depth: Int) throws(TemplateError) -> [Node] {
            guard depth < 6 else {
                throw TemplateError(file: includedFrom?.file ?? file, line: includedFrom?.line ?? 0, reason: "@include goes more than 5 files deep (is a file including itself?)")
            }
            guard let bytes = source.file(named: file) else {
                if let from = includedFrom {
                    throw TemplateError(file: from.file, line: from.line, reason: "@include \(file): there is no such file in \(source.description)")
                }
                throw TemplateError(file: file, line: 0, reason: "there is no template \(file) in \(source.description)")
            }
            let text = String(decoding: bytes, as: UTF8.self)
            var stack: [(path: [String], inverted: Bool, nodes: [Node], loc: Location)] = [([], false, [], Location(file: file, line: 0))]
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
            for (i, rawLine) in lines.enumerated() {
                let loc = Location(file: file, line: i + 1)
                var line = rawLine
                if line.hasSuffix("\r") { line.removeLast() }
                let trimmed = line.trimmingSpacesBothEnds
                func add(_ n: Node) { stack[stack.count - 1].nodes.append(n) }
                if line.hasPrefix("#") { continue }
                if let (kind, path) = sectionTag(trimmed) {
                    switch kind {
                    case "#", "^":
                        stack.append((path, kind == "^", [], loc))
                    default:
                        guard stack.count > 1 else {
                            throw TemplateError(file: file, line: i + 1, reason: "{/\(path.joined(separator: "."))} closes a section that was never opened")
                        }
                        let open = stack.removeLast()
                        guard open.path == path else {
                            throw TemplateError(file: file, line: i + 1, reason: "{/\(path.joined(separator: "."))} closes {#\(open.path.joined(separator: "."))} opened on line \(open.loc.line): close that one first")
                        }
                        add(.section(FieldRef(path: open.path), inverted: open.inverted, open.nodes, open.loc))
                    }
                    continue
                }
                if line.hasPrefix("@") {
                    let (name, rest) = line.dropFirst().splitOnce(" ")
                    if name == "include" {
                        for n in try parse(file: rest.trimmingSpacesBothEnds, includedFrom: loc, depth: depth + 1) { add(n) }
                    } else {
                        add(.directive(try directive(name, rest.trimmingSpacesBothEnds, loc), loc))
                    }
                    continue
                }
                add(.line(try cells(line, loc), loc))
            }
            if stack.count > 1, let open = stack.last {
                throw TemplateError(file: file, line: open.loc.line, reason: "{#\(open.path.joined(separator: "."))} is never closed: add {/\(open.path.joined(separator: "."))}")
            }
            return stack[0].nodes
        }

        /// `{#a.b}`, `{^a}` or `{/a}` alone on a line.
        func sectionTag(_ s: String) -> (String, [String])? {
            guard s.hasPrefix("{"), s.hasSuffix("}"), s.count >= 4 else { return nil }
            let inner = s.dropFirst().dropLast()
            guard let kind = inner.first, "#^/".contains(kind), !inner.dropFirst().contains("{") else { return nil }
            return (String(kind), inner.dropFirst().split(separator: ".").map(String.init))
        }

        func directive(_ name: String, _ arg: String, _ loc: Location) throws(TemplateError) -> Directive {
            func fail(_ reason: String) -> TemplateError { TemplateError(file: loc.file, line: loc.line, reason: reason) }
            switch name {
            case "left": return .align(.left)
            case "center", "centre": return .align(.center)
            case "right": return .align(.right)
            case "style":
                var s = TextStyle.normal
                for w in arg.split(separator: " ") {
                    switch w {
                    case "normal": s = .normal
                    case "bold": s.bold = true
                    case "underline": s.underline = true
                    case "wide": s.doubleWidth = true
                    case "tall": s.doubleHeight = true
                    case "double": s.doubleWidth = true; s.doubleHeight = true
                    case "inverse": s.inverse = true
                    default: throw fail("@style \(w): the styles are normal, bold, underline, wide, tall, double, inverse")
                    }
                }
                return .style(s)
            case "rule":
                guard arg.count <= 1 else { throw fail("@rule takes one character, e.g. @rule = (default -)") }
                return .rule(arg.first ?? "-")
            case "feed":
                guard let n = Int(arg), (1...10).contains(n) else { throw fail("@feed \(arg): give a number of lines from 1 to 10") }
                return .feed(n)
            case "cut":
                guard arg.isEmpty || arg == "partial" else { throw fail("@cut takes nothing or 'partial'") }
                return .cut(partial: arg == "partial")
            case "drawer":
                return .drawer
            case "barcode":
                let (symbol, rest) = arg.splitOnce(" ")
                guard let s = ESCPOSEncoder.Symbology(rawValue: symbol) else {
                    throw fail("@barcode \(symbol): the symbologies are ean13 and code128")
                }
                let (data, options) = try optionsSplit(rest, ["height"], loc)
                return .barcode(s, try pieces(data, loc), height: options["height"] ?? 60)
            case "qr":
                let (data, options) = try optionsSplit(arg, ["size"], loc)
                guard !data.isEmpty else { throw fail("@qr needs the text or field to encode, e.g. @qr {receipt.url}") }
                return .qr(try pieces(data, loc), size: options["size"] ?? 6)
            case "image":
                let (file, options) = try optionsSplit(arg, ["width"], loc)
                guard let bytes = source.file(named: file) else { throw fail("@image \(file): there is no such file in \(source.description)") }
                let decoded: (grey: [UInt8], width: Int, height: Int)
                do { decoded = try ImageDecoder.grey(bytes) } catch { throw fail("@image \(file): \(error.message)") }
                let percent = options["width"] ?? 100
                guard (10...100).contains(percent) else { throw fail("@image width=\(percent): give 10 to 100 (percent of the paper)") }
                let target = min(decoded.width, maxImageWidth * percent / 100)
                let sized = Bitmap.resizeGrey(decoded.grey, width: decoded.width, height: decoded.height, toWidth: target)
                return .image(Bitmap.dithered(grey: sized.grey, width: sized.width, height: sized.height))
            default:
                let near = Self.directives.min { PrinterProfile.editDistance($0, name) < PrinterProfile.editDistance($1, name) } ?? ""
                throw fail("unknown directive @\(name): did you mean @\(near)? (the directives are \(Self.directives.map { "@" + $0 }.joined(separator: " ")))")
            }
        }

        /// Splits trailing `key=N` options off a directive's argument.
        func optionsSplit(_ s: String, _ allowed: [String], _ loc: Location) throws(TemplateError) -> (String, [String: Int]) {
            var words = s.split(separator: " ").map(String.init)
            var options: [String: Int] = [:]
            while let last = words.last, last.contains("="), !last.contains("{") {
                let (k, v) = last.splitOnce("=")
                guard allowed.contains(k), let n = Int(v), n > 0 else {
                    throw TemplateError(file: loc.file, line: loc.line, reason: "option '\(last)' is not one of \(allowed.map { $0 + "=N" }.joined(separator: ", "))")
                }
                options[k] = n
                words.removeLast()
            }
            return (words.joined(separator: " "), options)
        }

        /// A content line: cells split on '|', each a list of literals and fields.
        func cells(_ line: String, _ loc: Location) throws(TemplateError) -> [[Piece]] {
            var cells: [String] = []
            var current = ""
            var escaped = false
            var depth = 0
            for c in line {
                if escaped { current += "\\" + String(c); escaped = false; continue }
                if c == "\\" { escaped = true; continue }
                if c == "{" { depth += 1 }
                if c == "}" { depth -= 1 }
                if c == "|" && depth == 0 { cells.append(current); current = ""; continue }
                current.append(c)
            }
            if escaped { current += "\\" }
            cells.append(current)
            if cells.count > 1 {
                cells = cells.enumerated().map { i, c in i == 0 ? c.trimmingTrailingSpaces : c.trimmingSpacesBothEnds }
            }
            var out: [[Piece]] = []
            for c in cells { out.append(try pieces(c, loc)) }
            return out
        }

        /// Literals and `{field}` / `{field:>N}` / `{field:<N%}` placeholders; `\{ \} \| \\ \@ \#` escape.
        func pieces(_ s: String, _ loc: Location) throws(TemplateError) -> [Piece] {
            func fail(_ r: String) -> TemplateError { TemplateError(file: loc.file, line: loc.line, reason: r) }
            var out: [Piece] = []
            var literal = ""
            var chars = Array(s)[...]
            while let c = chars.popFirst() {
                if c == "\\", let next = chars.popFirst() { literal.append(next); continue }
                if c == "}" { throw fail("a '}' without its '{': write \\} for a literal brace") }
                guard c == "{" else { literal.append(c); continue }
                guard let close = chars.firstIndex(of: "}") else { throw fail("a '{' is never closed: write \\{ for a literal brace") }
                let body = String(chars[chars.startIndex..<close])
                chars = chars[(close + 1)...]
                if !literal.isEmpty { out.append(.literal(Array(literal.utf8))); literal = "" }
                var (name, spec) = body.splitOnce(":")
                // {'Net':>25%}: a literal with a format, for table headings.
                if name.hasPrefix("'") {
                    guard let end = body.dropFirst().firstIndex(of: "'") else { throw fail("{\(body)}: the quoted text is never closed") }
                    name = String(body[body.index(after: body.startIndex)..<end])
                    let after = body[body.index(after: end)...]
                    spec = after.hasPrefix(":") ? String(after.dropFirst()) : ""
                    guard after.isEmpty || after.hasPrefix(":") else { throw fail("{\(body)}: put the format after the quote, e.g. {'Net':>10}") }
                    out.append(.quoted(name, try format(spec, body, loc)))
                    continue
                }
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" }) else {
                    throw fail("{\(body)} is not a field name")
                }
                if name.first == "#" || name.first == "^" || name.first == "/" {
                    throw fail("{\(body)}: section tags go alone on their own line")
                }
                let format = body.contains(":") ? try self.format(spec, body, loc) : nil
                out.append(.field(FieldRef(path: name == "." ? ["."] : name.split(separator: ".").map(String.init)), format))
            }
            if !literal.isEmpty { out.append(.literal(Array(literal.utf8))) }
            return out
        }

        func format(_ spec: String, _ body: String, _ loc: Location) throws(TemplateError) -> Format? {
            if spec.isEmpty { return nil }
            guard let a = spec.first, "<>^".contains(a) else {
                throw TemplateError(file: loc.file, line: loc.line, reason: "{\(body)}: a format is <N, >N or ^N (left, right, centre in N columns; N% of the line)")
            }
            let number = spec.dropFirst()
            let percent = number.hasSuffix("%")
            guard let n = Int(percent ? number.dropLast() : number), n > 0, n <= (percent ? 100 : 200) else {
                throw TemplateError(file: loc.file, line: loc.line, reason: "{\(body)}: '\(number)' is not a width")
            }
            return Format(alignment: a == "<" ? .left : a == ">" ? .right : .center, width: n, percent: percent)
        }
    }
}

extension StringProtocol {
    /// Splits at the first `separator`: ("a", "b c") for "a b c".
    func splitOnce(_ separator: Character) -> (String, String) {
        guard let i = firstIndex(of: separator) else { return (String(self), "") }
        return (String(self[..<i]), String(self[index(after: i)...]))
    }

    var trimmingSpacesBothEnds: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
