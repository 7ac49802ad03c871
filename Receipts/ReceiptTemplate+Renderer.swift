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
                case .section(let ref, let inverted, let body, _):
                    let value = lookup(ref, scopes)
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
                let bytes = Array(String(c).utf8)
                for _ in 0..<width { out.append(contentsOf: bytes) }
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

        /// The value a checked field names: straight to its scope, then down its path.
        func lookup(_ ref: FieldRef, _ scopes: [TemplateValue]) -> TemplateValue? {
            let path = ref.path
            guard ref.depth >= 0, ref.depth < scopes.count else { return nil }
            if path.count == 1 && path[0] == "." { return scopes[ref.depth] }
            guard case .object(let fields) = scopes[ref.depth], var v = fields[path[0]] else { return nil }
            var i = 1
            while i < path.count {
                guard case .object(let f) = v, let next = f[path[i]] else { return nil }
                v = next
                i += 1
            }
            return v
        }

        /// Appends a cell's text to `scratch`.
        mutating func append(_ pieces: [Piece], _ scopes: [TemplateValue]) {
            for p in pieces {
                switch p {
                case .literal(let l): scratch.append(contentsOf: l)
                case .field(let ref, let format):
                    let v = lookup(ref, scopes)?.textValue ?? ""
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
                case .literal(let l): s += String(decoding: l, as: UTF8.self)
                case .field(let ref, _): s += lookup(ref, scopes)?.textValue ?? ""
                case .quoted(let q, _): s += q
                }
            }
            return s
        }

        /// One template line: a paragraph (aligned, wrapped if too long) or cells (the first
        /// flexible, the others right-aligned at the end of the line, a space between them).
        mutating func layoutLine() {
            let w = width
            if cells.count == 1 {
                let c = cells[0]
                let cols = columns(c)
                if cols <= w {
                    emit(c, leading: alignedGap(cols, w))
                } else {
                    for l in wrap(text(c), w) { emitString(l, leading: alignedGap(l.columns, w)) }
                }
                return
            }
            var rightColumns = cells.count - 2 // the spaces between right-hand cells
            for i in 1..<cells.count {
                cells[i] = cells[i].lowerBound..<trimmedEnd(cells[i])
                rightColumns += columns(cells[i])
            }
            let left = cells[0].lowerBound..<trimmedEnd(cells[0])
            let leftColumns = columns(left)
            let room = max(1, w - rightColumns - 1)
            if leftColumns <= room {
                emit(left, leading: 0, thenRightCellsAfter: max(1, w - leftColumns - rightColumns))
            } else if leftColumns <= w {
                // Too long to share a line with the right-hand cells, short enough for a line alone.
                emit(left, leading: 0)
                emitRightCells(leading: max(0, w - rightColumns))
            } else {
                let whole = text(left)
                let first = wrap(whole, room).first ?? ""
                var right = ""
                for i in 1..<cells.count { right += (i > 1 ? " " : "") + text(cells[i]) }
                emitString(first + String(repeating: " ", count: max(1, w - first.columns - rightColumns)) + right, leading: 0)
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

        /// Writes a printed line: `leading` spaces, a scratch range, optionally the right-hand
        /// cells after a gap; trailing spaces trimmed.
        mutating func emit(_ r: Range<Int>, leading: Int, thenRightCellsAfter gap: Int? = nil) {
            let start = out.count
            appendSpaces(&out, leading)
            copyScratch(r)
            if let gap {
                appendSpaces(&out, gap)
                appendRightCells()
            }
            finishLine(from: start)
        }

        mutating func emitRightCells(leading: Int) {
            let start = out.count
            appendSpaces(&out, leading)
            appendRightCells()
            finishLine(from: start)
        }

        mutating func appendRightCells() {
            for i in 1..<cells.count {
                if i > 1 { out.append(UInt8(ascii: " ")) }
                copyScratch(cells[i])
            }
        }

        /// Copies scratch bytes to the output without making a slice (which would share, and
        /// then copy, the buffer).
        mutating func copyScratch(_ r: Range<Int>) {
            scratch.withUnsafeBufferPointer { buf in out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[r])) }
        }

        mutating func finishLine(from start: Int) {
            while out.count > start, out.last == UInt8(ascii: " ") { out.removeLast() }
            pending.append(.text(start..<out.count, style))
        }

        mutating func emitString(_ s: String, leading: Int) {
            let start = out.count
            appendSpaces(&out, leading)
            out.append(contentsOf: s.utf8)
            finishLine(from: start)
        }

        func trimmedEnd(_ r: Range<Int>) -> Int {
            var end = r.upperBound
            while end > r.lowerBound, scratch[end - 1] == UInt8(ascii: " ") { end -= 1 }
            return end
        }

        /// Printed columns of a scratch range: its bytes when ASCII, else its characters.
        func columns(_ r: Range<Int>) -> Int {
            let ascii = scratch.withUnsafeBufferPointer { buf in !buf[r].contains { $0 >= 0x80 } }
            return ascii ? r.count : text(r).count
        }

        func text(_ r: Range<Int>) -> String {
            scratch.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[r]), as: UTF8.self) }
        }

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

private let sixtyFourSpaces = [UInt8](repeating: UInt8(ascii: " "), count: 64)

func appendSpaces(_ buffer: inout [UInt8], _ n: Int) {
    var left = n
    while left > 0 {
        let k = min(left, 64)
        sixtyFourSpaces.withUnsafeBufferPointer { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: $0[0..<k])) }
        left -= k
    }
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
