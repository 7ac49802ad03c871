import ArgumentParser
import ESCPOS
import Foundation
import Receipts
import TillCore

/// `till-bench receipt`: a typical 30-line sale receipt rendered to ESC/POS bytes by the till's
/// own path (template data, layout, encoding with code-page transcoding, logo, barcode, cut,
/// drawer), and the same receipt content produced by python-escpos's Dummy printer in the same run.
struct ReceiptScenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipt",
        abstract: "Render a 30-line sale receipt to ESC/POS; compare with python-escpos.")

    @Option(help: "Receipts to render.") var iterations = 20_000
    @Option(help: "Receipts python-escpos renders.") var pythonIterations = 300
    @Option(help: "Python interpreter with python-escpos installed.") var python = "python3"
    @Flag(help: "Also time the phases: template data, layout, ESC/POS encoding.") var breakdown = false

    func run() throws {
        let profile = try PrinterProfile.named("generic-80")
        let template = try ReceiptTemplate(named: "sale.receipt", from: BuiltInTemplates(), schema: SaleReceipt.schema, maxImageWidth: 576)
        let sale = try Self.thirtyLineSale()
        func render() throws -> [UInt8] {
            let data = SaleReceipt.data(sale, date: "2026-11-23 14:05", address: ["1 High Street", "Springfield"],
                                        footer: ["Prices in € include VAT", "Thank you for shopping with us"])
            return try template.render(data, columns: 48).escpos(profile: profile, paperWidthMM: 80)
        }
        let bytes = try render()
        var samples = Samples()
        for _ in 0..<200 { _ = try render() } // warm up
        for _ in 0..<iterations { _ = try samples.time { try render() } }
        let mean = Double(samples.values.reduce(0, +)) / Double(samples.count) / 1_000
        if breakdown {
            var d = Samples(), l = Samples(), e = Samples()
            for _ in 0..<iterations {
                let data = d.time { SaleReceipt.data(sale, date: "2026-11-23 14:05", address: ["1 High Street", "Springfield"],
                                                     footer: ["Prices in € include VAT", "Thank you for shopping with us"]) }
                let doc = l.time { template.render(data, columns: 48) }
                _ = try e.time { try doc.escpos(profile: profile, paperWidthMM: 80) }
            }
            print("phases p50: data \(fixed(us(d.percentile(50)))) us, layout \(fixed(us(l.percentile(50)))) us, encode \(fixed(us(e.percentile(50)))) us")
        }

        // The same content for python-escpos: the laid-out lines with their styles, the logo, the barcode.
        let document = template.render(
            SaleReceipt.data(sale, date: "2026-11-23 14:05", address: ["1 High Street", "Springfield"],
                             footer: ["Prices in € include VAT", "Thank you for shopping with us"]), columns: 48)
        let scratch = ScratchDirectory()
        try Data(PackageResourcesProxy.logo).write(to: URL(fileURLWithPath: scratch.path + "/logo.png"))
        var blocks: [[String: Any]] = []
        for b in document.blocks {
            switch b {
            case .text(let s, let st):
                blocks.append(["text": s.string, "bold": st.bold, "dw": st.doubleWidth, "dh": st.doubleHeight, "inv": st.inverse])
            case .image: blocks.append(["image": scratch.path + "/logo.png"])
            case .barcode(_, let data, _, _): blocks.append(["code128": data])
            case .cut: blocks.append(["cut": true])
            case .drawer: blocks.append(["drawer": true])
            case .feed(let n): blocks.append(["feed": n])
            case .qrCode(let d, _, _): blocks.append(["qr": d])
            }
        }
        try JSONSerialization.data(withJSONObject: blocks).write(to: URL(fileURLWithPath: scratch.path + "/receipt.json"))
        try Data(Self.pythonScript.utf8).write(to: URL(fileURLWithPath: scratch.path + "/bench.py"))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, scratch.path + "/bench.py", scratch.path + "/receipt.json", String(pythonIterations)]
        // stderr goes to a file: a child filling a second pipe while we read the first to its
        // end would wait for ever, and so would we.
        let out = Pipe()
        let errPath = scratch.path + "/stderr.txt"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let errFile = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        p.standardOutput = out
        p.standardError = errFile
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try? errFile.close()
        let e = FileManager.default.contents(atPath: errPath) ?? Data()
        var pythonUs: Double?
        var pythonBytes = 0
        // python-escpos prints notes of its own; the result is the last line.
        let last = String(decoding: o, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        if p.terminationStatus == 0, let json = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any] {
            pythonUs = json["receipt_us"] as? Double
            pythonBytes = json["bytes"] as? Int ?? 0
        } else {
            printError("python-escpos did not run (\(python)): \(String(decoding: e, as: UTF8.self).suffix(300)) — install it with: pip install python-escpos")
        }
        let ratio = pythonUs.map { $0 / mean }
        printTable("till-bench receipt (30-line sale, generic-80, \(iterations) renders)", [
            ("receipt bytes", "\(bytes.count) (python-escpos: \(pythonBytes))"),
            ("render mean / p50 / p99", "\(fixed(mean)) / \(fixed(us(samples.percentile(50)))) / \(fixed(us(samples.percentile(99)))) us  (target mean < 200 us)"),
            ("python-escpos mean", pythonUs.map { "\(fixed($0)) us over \(pythonIterations) receipts" } ?? "not measured"),
            ("ratio python / ours", ratio.map { "\(fixed($0))  (target >= 50)" } ?? "not measured"),
        ])
        print(jsonLine([
            ("scenario", "receipt"),
            ("receipt_us", mean),
            ("python_escpos_us", pythonUs ?? -1),
            ("ratio", ratio ?? -1),
        ]))
    }

    static func thirtyLineSale() throws -> CompletedSale {
        let till = TillIdentity(storeID: "0001", storeName: "Demo Store", tillID: "01", currency: .eur)
        var s = OpenSale(id: "bench", startedAt: 0, cashier: Cashier(number: "1", name: "Anna"), currency: .eur)
        let names = ["Milk 1L", "Rye bread", "Кефир 1л", "Café crème", "Olive oil", "Apples Gala", "Pasta", "Butter", "Tea", "Honey"]
        for i in 0..<30 {
            let weighed = i % 7 == 5
            s = try s.trying(.addLine(item: LineItem(
                sku: "S\(i)", description: names[i % names.count] + " \(i + 1)", taxCode: i % 3 == 0 ? "A" : "B",
                taxBasisPoints: i % 3 == 0 ? 2000 : 500, unitPrice: Int64(99 + i * 37),
                quantity: weighed ? Quantity(milli: 750) : .units(Int64(1 + i % 3)), soldByWeight: weighed)))
        }
        s = try s.trying(.discountLine(number: 4, discount: .percent(basisPoints: 1000)))
        s = try s.trying(.addTender(tender: Tender(kind: .cash, amount: s.basket.totals.total + 1_000)))
        return try s.complete(sequence: 1, at: 1_795_000_000_000, till: till)
    }

    static let pythonScript = #"""
    import json, sys, time
    from escpos.printer import Dummy
    from PIL import Image
    blocks = json.load(open(sys.argv[1]))
    n = int(sys.argv[2])
    logo = Image.open([b["image"] for b in blocks if "image" in b][0])
    def receipt():
        p = Dummy(profile="default")
        for b in blocks:
            if "text" in b:
                p.set(bold=b["bold"], double_width=b["dw"], double_height=b["dh"], invert=b["inv"])
                p.text(b["text"] + "\n")
            elif "image" in b:
                p.set(align="center"); p.image(logo); p.set(align="left")
            elif "code128" in b:
                p.set(align="center"); p.barcode("{B" + b["code128"], "CODE128", function_type="B"); p.set(align="left")
            elif "qr" in b:
                p.qr(b["qr"], native=True)
            elif "feed" in b:
                p.ln(b["feed"])
            elif "cut" in b:
                p.cut(mode="PART")
            elif "drawer" in b:
                p.cashdraw(2)
        return p.output
    out = receipt()
    for _ in range(20): receipt()
    t = time.perf_counter()
    for _ in range(n): receipt()
    us = (time.perf_counter() - t) / n * 1e6
    print(json.dumps({"receipt_us": us, "bytes": len(out)}))
    """#
}

/// The built-in logo, for handing to python-escpos.
enum PackageResourcesProxy {
    static var logo: [UInt8] { BuiltInTemplates().file(named: "logo.png") ?? [] }
}
