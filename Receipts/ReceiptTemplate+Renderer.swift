import ESCPOS

extension ReceiptTemplate {
    /// Lays a template out into printed lines. Text is built as UTF-8 bytes: each line's cells go
    /// into a scratch buffer, each finished line into one output buffer that the document's
    /// blocks then slice — a receipt of some 70 lines makes no string per line (they showed up
    /// as most of the time in profiles).
    struct Renderer {
        let columns: Int
        var alignment = Alignment.left
        var style = TextStyle.normal
        /// Printed text, UTF-8.
        var out: [UInt8] = []
        var pending: [Pending] = []
        /// The current line's cell texts, and their ranges.
        var scratch: [UInt8] = []
        var cells: [Range<Int>] = []

        enum Pending {
            case text(Range<Int>, TextStyle)
            case block(ReceiptDocument.Block)
        }

        init(columns: Int) {
            self.columns = columns
            out.reserveCapacity(4_096)
            pending.reserveCapacity(96)
            scratch.reserveCapacity(256)
            cells.reserveCapacity(4)
        }

        var width: Int { max(1, style.doubleWidth ? columns / 2 : columns) }

        func finish() -> ReceiptDocument {
            let buffer = out
            return ReceiptDocument(columns: columns, blocks: pending.map {
                switch $0 {
                case .text(let r, let s): .text(ReceiptText(buffer[r]), s)
                case .block(let b): b
                }
            })
        }

        /// Renders nodes; `scopes` is a stack (innermost last) that sections push onto and pop.
        mutating func render(_ nodes: [Node], scopes: inout [TemplateValue]) {
            for n in nodes {
                switch n {
                case .directive(let d, _): apply(d, scopes)
                case .line(let cellPieces, _):
                    scratch.removeAll(keepingCapacity: true)
                    cells.removeAll(keepingCapacity: true)
                    for c in cellPieces {
                        let start = scratch.count
                        append(c, scopes)
                        cells.append(start..<scratch.count)
                    }
                    layoutLine()
                case .section(let path, let inverted, let body, _):
                    let value = lookup(path, scopes)
                    if inverted {
                        if !(value?.isTruthy ?? false) { render(body, scopes: &scopes) }
                        continue
                    }
                    guard let value, value.isTruthy else { continue }
                    if case .list(let items) = value {
                        for item in items {
                            scopes.append(item)
                            render(body, scopes: &scopes)
                            scopes.removeLast()
                        }
                    } else if case .bool = value {
                        render(body, scopes: &scopes)
                    } else {
                        scopes.append(value)
                        render(body, scopes: &scopes)
                        scopes.removeLast()
                    }
                }
            }
        }

        mutating func apply(_ d: Directive, _ scopes: [TemplateValue]) {
            switch d {
            case .align(let a): alignment = a
            case .style(let s): style = s
            case .rule(let c):
                let start = out.count
                out.append(contentsOf: String(repeating: c, count: width).utf8)
                pending.append(.text(start..<out.count, style))
            case .feed(let n): pending.append(.block(.feed(n)))
            case .cut(let p): pending.append(.block(.cut(partial: p)))
            case .drawer: pending.append(.block(.drawer))
            case .barcode(let s, let pieces, let h):
                let data = string(pieces, scopes)
                if !data.isEmpty { pending.append(.block(.barcode(s, data, height: h, alignment))) }
            case .qr(let pieces, let size):
                let data = string(pieces, scopes)
                if !data.isEmpty { pending.append(.block(.qrCode(data, moduleSize: size, alignment))) }
            case .image(let b): pending.append(.block(.image(b, alignment)))
            }
        }

        func lookup(_ path: [String], _ scopes: [TemplateValue]) -> TemplateValue? {
            if path.count == 1 && path[0] == "." { return scopes.last }
            for i in scopes.indices.reversed() {
                guard case .object(let fields) = scopes[i], var v = fields[path[0]] else { continue }
                for key in path.dropFirst() {
                    guard case .object(let f) = v, let next = f[key] else { return nil }
                    v = next
                }
                return v
            }
            return nil
        }

        /// Appends a cell's text to `scratch`.
        mutating func append(_ pieces: [Piece], _ scopes: [TemplateValue]) {
            for p in pieces {
                switch p {
                case .literal(let l): scratch.append(contentsOf: l.utf8)
                case .field(let path, let format):
                    let v = lookup(path, scopes)?.textValue ?? ""
                    if let format { pad(v, format) } else { scratch.append(contentsOf: v.utf8) }
                case .quoted(let q, let format):
                    if let format { pad(q, format) } else { scratch.append(contentsOf: q.utf8) }
                }
            }
        }

        mutating func pad(_ v: String, _ f: Format) {
            let w = f.percent ? width * f.width / 100 : f.width
            let gap = max(0, w - v.columns)
            switch f.alignment {
            case .left: scratch.append(contentsOf: v.utf8); appendSpaces(&scratch, gap)
            case .right: appendSpaces(&scratch, gap); scratch.append(contentsOf: v.utf8)
            case .center:
                appendSpaces(&scratch, gap / 2)
                scratch.append(contentsOf: v.utf8)
                appendSpaces(&scratch, gap - gap / 2)
            }
        }

        /// The text of pieces as a String (for barcode and QR data).
        func string(_ pieces: [Piece], _ scopes: [TemplateValue]) -> String {
            var s = ""
            for p in pieces {
                switch p {
                case .literal(let l): s += l
                case .field(let path, _): s += lookup(path, scopes)?.textValue ?? ""
                case .quoted(let q, _): s += q
                }
            }
            return s
        }

        /// One template line: a paragraph (aligned, wrapped if too long) or cells (the first
        /// flexible, the others right-aligned at the end of the line).
        mutating func layoutLine() {
            let w = width
            if cells.count == 1 {
                let c = cells[0]
                let cols = columns(c)
                if cols <= w {
                    emit(pieces: [c], leading: alignedGap(cols, w))
                } else {
                    for l in wrap(text(c), w) { emitString(l, leading: alignedGap(l.columns, w)) }
                }
                return
            }
            // The right-hand cells, trailing spaces off, joined by a space, after the scratch text.
            let rightStart = scratch.count
            for (i, c) in cells.dropFirst().enumerated() {
                if i > 0 { scratch.append(UInt8(ascii: " ")) }
                scratch.append(contentsOf: scratch[c.lowerBound..<trimmedEnd(c)])
            }
            let right = rightStart..<scratch.count
            let rightColumns = columns(right)
            let left = cells[0].lowerBound..<trimmedEnd(cells[0])
            let leftColumns = columns(left)
            let room = max(1, w - rightColumns - 1)
            if leftColumns <= room {
                emit(pieces: [left, right], gapAfterFirst: max(1, w - leftColumns - rightColumns))
            } else if leftColumns <= w {
                // Too long to share a line with the right-hand cells, short enough for a line alone.
                emit(pieces: [left], leading: 0)
                emit(pieces: [right], leading: max(0, w - rightColumns))
            } else {
                let whole = text(left)
                let first = wrap(whole, room).first ?? ""
                var line = first
                line += String(repeating: " ", count: max(1, w - first.columns - rightColumns))
                line += text(right)
                emitString(line, leading: 0)
                let rest = String(whole.dropFirst(first.count)).trimmingSpacesBothEnds
                if !rest.isEmpty { for l in wrap(rest, w) { emitString(l, leading: 0) } }
            }
        }

        func alignedGap(_ cols: Int, _ w: Int) -> Int {
            switch alignment {
            case .left: 0
            case .center: max(0, w - cols) / 2
            case .right: max(0, w - cols)
            }
        }

        /// Writes a printed line: `leading` spaces, the scratch ranges (a gap after the first),
        /// trailing spaces trimmed.
        mutating func emit(pieces: [Range<Int>], leading: Int = 0, gapAfterFirst: Int = 0) {
            let start = out.count
            appendSpaces(&out, leading)
            for (i, r) in pieces.enumerated() {
                if i == 1 { appendSpaces(&out, gapAfterFirst) }
                out.append(contentsOf: scratch[r])
            }
            while out.count > start, out.last == UInt8(ascii: " ") { out.removeLast() }
            pending.append(.text(start..<out.count, style))
        }

        mutating func emitString(_ s: String, leading: Int) {
            let start = out.count
            appendSpaces(&out, leading)
            out.append(contentsOf: s.utf8)
            while out.count > start, out.last == UInt8(ascii: " ") { out.removeLast() }
            pending.append(.text(start..<out.count, style))
        }

        func trimmedEnd(_ r: Range<Int>) -> Int {
            var end = r.upperBound
            while end > r.lowerBound, scratch[end - 1] == UInt8(ascii: " ") { end -= 1 }
            return end
        }

        /// Printed columns of a scratch range: its bytes when ASCII, else its characters.
        func columns(_ r: Range<Int>) -> Int {
            for i in r where scratch[i] >= 0x80 { return text(r).count }
            return r.count
        }

        func text(_ r: Range<Int>) -> String { String(decoding: scratch[r], as: UTF8.self) }

        /// Word wrap; words longer than the width are cut.
        func wrap(_ s: String, _ w: Int) -> [String] {
            guard s.columns > w else { return [s] }
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

func appendSpaces(_ buffer: inout [UInt8], _ n: Int) {
    if n > 0 { buffer.append(contentsOf: repeatElement(UInt8(ascii: " "), count: n)) }
}

extension String {
    /// Printed columns: one per character. Counting characters means grapheme breaking, so
    /// ASCII text (nearly all of a receipt) is counted by its bytes.
    var columns: Int {
        for b in utf8 where b >= 0x80 { return count }
        return utf8.count
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        let u = utf8
        guard u.last == UInt8(ascii: " ") else { return self }
        var end = u.endIndex
        while end > u.startIndex, u[u.index(before: end)] == UInt8(ascii: " ") { end = u.index(before: end) }
        return String(self[..<end])
    }
}
