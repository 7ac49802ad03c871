import Foundation

extension VirtualPrinter {
    /// Characters per line of font A on this paper.
    public var columns: Int { paper.columns["A"] ?? 48 }

    /// What the paper shows, as text lines `columns` wide (font B lines are shown at font A
    /// width). Images, barcodes and QR codes show as a bracketed note; a cut as a dashed line.
    public var text: [String] {
        var out: [String] = []
        for e in elements {
            switch e {
            case .text(let line):
                let width = line.fontB ? (paper.columns["B"] ?? columns) : columns
                let content = line.runs.map { r in r.style.doubleWidth ? r.text.map { "\($0) " }.joined() : r.text }.joined()
                out.append(aligned(String(content.prefix(width)), line.alignment, width: width))
            case .feed(let n):
                out += [String](repeating: "", count: n)
            case .image(let b, let a):
                out.append(aligned("[image \(b.width)x\(b.height)]", a, width: columns))
            case .barcode(let s, let data, _, _, let a):
                out.append(aligned("[\(s == .ean13 ? "EAN-13" : "CODE128") \(data)]", a, width: columns))
            case .qrCode(let data, _, _, let a):
                out.append(aligned("[QR \(data)]", a, width: columns))
            case .cut(let partial):
                out.append(String(repeating: "-", count: 8) + (partial ? " partial cut " : " cut ") + String(repeating: "-", count: 8))
            case .drawerPulse:
                out.append("[drawer opens]")
            case .statusRequest:
                break
            case .unknown(let b):
                out.append("[unknown " + b.map { String($0, radix: 16, uppercase: true) }.joined(separator: " ") + "]")
            }
        }
        return out
    }

    private func aligned(_ s: String, _ a: Alignment, width: Int) -> String {
        guard !s.isEmpty else { return s }
        let pad = max(0, width - s.count)
        switch a {
        case .left: return s
        case .center: return String(repeating: " ", count: pad / 2) + s
        case .right: return String(repeating: " ", count: pad) + s
        }
    }

    /// What the paper shows as an SVG image, one user unit per printer dot.
    public var svg: String {
        let width = paper.dots
        let cellA = profile.fonts["A"] ?? PrinterProfile.FontCell(width: 12, height: 24)
        let cellB = profile.fonts["B"] ?? PrinterProfile.FontCell(width: 9, height: 17)
        var y = 8
        var body: [String] = []
        func rects(_ b: Bitmap, x0: Int, y0: Int) {
            for yy in 0..<b.height {
                var xx = 0
                while xx < b.width {
                    if b[xx, yy] {
                        let start = xx
                        while xx < b.width && b[xx, yy] { xx += 1 }
                        body.append("<rect x=\"\(x0 + start)\" y=\"\(y0 + yy)\" width=\"\(xx - start)\" height=\"1\"/>")
                    } else {
                        xx += 1
                    }
                }
            }
        }
        func left(_ w: Int, _ a: Alignment) -> Int {
            switch a {
            case .left: return 0
            case .center: return max(0, (width - w) / 2)
            case .right: return max(0, width - w)
            }
        }
        for e in elements {
            switch e {
            case .text(let line):
                let cell = line.fontB ? cellB : cellA
                let lineHeight = cell.height * (line.doubleHeight ? 2 : 1) + 6
                var x = left(line.columns * cell.width, line.alignment)
                for r in line.runs where !r.text.isEmpty {
                    let cw = cell.width * (r.style.doubleWidth ? 2 : 1)
                    let ch = cell.height * (r.style.doubleHeight ? 2 : 1)
                    let w = r.text.count * cw
                    if r.style.inverse { body.append("<rect x=\"\(x)\" y=\"\(y)\" width=\"\(w)\" height=\"\(ch)\"/>") }
                    // Spaces kept as printed (SVG collapses them otherwise, and textLength then
                    // stretches what is left across the line).
                    var attrs = "x=\"\(x)\" y=\"\(y + ch * 4 / 5)\" font-size=\"\(ch)\" textLength=\"\(w)\" lengthAdjust=\"spacingAndGlyphs\" xml:space=\"preserve\" style=\"white-space:pre\""
                    if r.style.bold { attrs += " font-weight=\"bold\"" }
                    if r.style.underline { attrs += " text-decoration=\"underline\"" }
                    if r.style.inverse { attrs += " fill=\"#fff\"" }
                    body.append("<text \(attrs)>\(escape(r.text))</text>")
                    x += w
                }
                y += lineHeight
            case .feed(let n):
                y += n * (cellA.height + 6)
            case .image(let b, let a):
                rects(b, x0: left(b.width, a), y0: y)
                y += b.height
            case .barcode(let s, let data, let h, let mw, let a):
                let modules = (try? (s == .ean13 ? BarcodePatterns.ean13(data) : BarcodePatterns.code128(data))) ?? []
                let b = BarcodePatterns.bitmap(modules, moduleWidth: mw, height: h)
                rects(b, x0: left(b.width, a), y0: y)
                y += h + 4
                body.append("<text x=\"\(width / 2)\" y=\"\(y + cellA.height * 4 / 5)\" font-size=\"\(cellA.height)\" text-anchor=\"middle\">\(escape(data))</text>")
                y += cellA.height + 6
            case .qrCode(let data, let size, let ecc, let a):
                if let q = try? QRCode(bytes: Array(data.utf8), errorCorrection: ecc) {
                    let b = q.bitmap(scale: size)
                    rects(b, x0: left(b.width, a), y0: y)
                    y += b.height
                }
            case .cut:
                body.append("<line x1=\"0\" y1=\"\(y + 8)\" x2=\"\(width)\" y2=\"\(y + 8)\" stroke=\"#888\" stroke-dasharray=\"8 6\"/>")
                y += 16
            case .drawerPulse, .statusRequest, .unknown:
                break
            }
        }
        y += 8
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(y)" viewBox="0 0 \(width) \(y)">
            <rect width="100%" height="100%" fill="#fff"/>
            <g font-family="DejaVu Sans Mono, monospace" fill="#000">
            \(body.joined(separator: "\n"))
            </g>
            </svg>

            """
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
