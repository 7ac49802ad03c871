import ESCPOS
import Receipts
import Testing

/// Templates held in memory for tests.
struct MemoryTemplates: TemplateSource {
    var files: [String: String]
    func file(named name: String) -> [UInt8]? { files[name].map { Array($0.utf8) } }
    var description: String { "memory" }
}

private let schema: TemplateSchema = .object([
    "name": .text,
    "items": .list(.object(["label": .text, "amount": .text, "flag": .bool])),
    "notes": .list(.text),
    "maybe": .object(["text": .text]),
    "empty": .text,
])

private func render(_ text: String, _ data: TemplateValue = sample, columns: Int = 20) throws -> [String] {
    let t = try ReceiptTemplate(named: "t.receipt", from: MemoryTemplates(files: ["t.receipt": text]), schema: schema)
    return t.render(data, columns: columns).lines
}

private let sample: TemplateValue = .object([
    "name": .text("Shop"),
    "items": .list([
        .object(["label": .text("Milk"), "amount": .text("1.19"), "flag": .bool(true)]),
        .object(["label": .text("Very long description of bread"), "amount": .text("2.49"), "flag": .bool(false)]),
    ]),
    "notes": .list([.text("one"), .text("two")]),
    "empty": .text(""),
])

@Suite("Receipt templates")
struct ReceiptTemplateTests {
    @Test func paragraphsCellsAndAlignment() throws {
        #expect(try render("Hello {name}\n@center\n{name}\n@right\nR\n@left\nA | B\nx | y | z") == [
            "Hello Shop", "        Shop", "                   R", "A                  B", "x                y z",
        ])
    }

    @Test func listsSectionsAndInvertedSections() throws {
        let lines = try render("""
            {#items}
            {label} | {amount}
            {#flag}
              flagged
            {/flag}
            {/items}
            {#notes}
            - {.}
            {/notes}
            {^empty}
            nothing here
            {/empty}
            {#maybe}
            never
            {/maybe}
            """)
        #expect(lines == [
            "Milk            1.19", "  flagged", "Very long       2.49", "description of bread", "- one", "- two", "nothing here",
        ])
    }

    @Test func formatsInColumnsOrPercentOfTheLine() throws {
        #expect(try render("{name:>8}]\n{name:<25%}]\n{name:^10}]\n{'Net':>50%}") == [
            "    Shop]", "Shop ]", "   Shop   ]", "       Net",
        ])
    }

    @Test func rulesAndStylesFollowTheWidth() throws {
        let t = try ReceiptTemplate(named: "t.receipt", from: MemoryTemplates(files: ["t.receipt": "@rule\n@style double\n@rule =\nBig\n@style normal\n@center\n@style wide\nAB"]), schema: schema)
        let doc = t.render(sample, columns: 10)
        #expect(doc.blocks == [
            .text("----------", .normal),
            .text("=====", TextStyle(doubleWidth: true, doubleHeight: true)),
            .text("Big", TextStyle(doubleWidth: true, doubleHeight: true)),
            .text(" AB", TextStyle(doubleWidth: true)),   // centred in 5 double-width columns
        ])
    }

    @Test func dataCannotInjectMarkupOrCommands() throws {
        let data: TemplateValue = .object(["name": .text("{items} | @cut \u{1B}@ \\")])
        #expect(try render("{name}", data, columns: 40) == ["{items} | @cut \u{1B}@ \\"])
        #expect(try render("\\{name\\} \\| \\@", columns: 40) == ["{name} | @"])
    }

    @Test func codesCutAndDrawer() throws {
        let t = try ReceiptTemplate(named: "t.receipt", from: MemoryTemplates(files: ["t.receipt": "@drawer\n@center\n@barcode code128 R-{name} height=40\n@qr https://x/{name} size=4\n@cut partial"]), schema: schema)
        #expect(t.render(sample, columns: 20).blocks == [
            .drawer, .barcode(.code128, "R-Shop", height: 40, .center), .qrCode("https://x/Shop", moduleSize: 4, .center), .cut(partial: true),
        ])
    }

    @Test func includesAndImages() throws {
        let src = MemoryTemplatesWithBytes(files: ["t.receipt": Array("@include head.receipt\nbody".utf8), "head.receipt": Array("@image logo.pbm\nhead".utf8),
                                                   "logo.pbm": Array("P1\n2 1\n1 0\n".utf8)])
        let t = try ReceiptTemplate(named: "t.receipt", from: src, schema: schema)
        let doc = t.render(sample, columns: 20)
        guard case .image(let b, .left) = doc.blocks.first else { Issue.record("no image: \(doc.blocks)"); return }
        #expect(b.width == 2 && b[0, 0] && !b[1, 0])
        #expect(doc.lines == ["head", "body"])
    }

    @Test("template errors name the file, the line and the fix", arguments: [
        ("a\n{nmae}", "t.receipt line 2: unknown field {nmae}: did you mean {name}?"),
        ("{#items}\n{labl}\n{/items}", "t.receipt line 2: unknown field {labl}: did you mean {label}?"),
        ("{#items}\nx", "t.receipt line 1: {#items} is never closed: add {/items}"),
        ("{#items}\n{/notes}", "t.receipt line 2: {/notes} closes {#items} opened on line 1: close that one first"),
        ("{/items}", "t.receipt line 1: {/items} closes a section that was never opened"),
        ("@styel bold", "t.receipt line 1: unknown directive @styel: did you mean @style? (the directives are @left @center @right @style @rule @feed @cut @drawer @barcode @qr @image @include)"),
        ("@style shiny", "t.receipt line 1: @style shiny: the styles are normal, bold, underline, wide, tall, double, inverse"),
        ("@barcode upc {name}", "t.receipt line 1: @barcode upc: the symbologies are ean13 and code128"),
        ("@include nope.receipt", "t.receipt line 1: @include nope.receipt: there is no such file in memory"),
        ("@image nope.png", "t.receipt line 1: @image nope.png: there is no such file in memory"),
        ("{name:*5}", "t.receipt line 1: {name:*5}: a format is <N, >N or ^N (left, right, centre in N columns; N% of the line)"),
        ("x {name", "t.receipt line 1: a '{' is never closed: write \\{ for a literal brace"),
        ("{maybe}", "t.receipt line 1: {maybe} is a group of fields, not text: name one of its fields"),
        ("@feed 99", "t.receipt line 1: @feed 99: give a number of lines from 1 to 10"),
    ])
    func errors(text: String, message: String) {
        let e = #expect(throws: TemplateError.self) {
            try ReceiptTemplate(named: "t.receipt", from: MemoryTemplates(files: ["t.receipt": text]), schema: schema)
        }
        #expect(e?.description == message)
    }

    @Test func anInvertedSectionAddsNoScope() throws {
        // Inside {^items} there is no item, so an item's field is an error when the template loads…
        let e = #expect(throws: TemplateError.self) {
            try ReceiptTemplate(named: "t.receipt", from: MemoryTemplates(files: ["t.receipt": "{^items}\n{label}\n{/items}"]), schema: schema)
        }
        #expect(e?.description.hasPrefix("t.receipt line 2: unknown field {label}") == true)
        // …while the outer fields are there.
        let empty: TemplateValue = .object(["name": .text("Shop"), "items": .list([])])
        #expect(try render("{^items}\nNo items at {name}\n{/items}", empty) == ["No items at Shop"])
    }

    @Test func aBadImageIsATemplateError() {
        let src = MemoryTemplatesWithBytes(files: ["t.receipt": Array("@image logo.png".utf8), "logo.png": [0x89, 0x50]])
        let e = #expect(throws: TemplateError.self) { try ReceiptTemplate(named: "t.receipt", from: src, schema: schema) }
        #expect(e?.description == "t.receipt line 1: @image logo.png: not a PNG or PBM/PGM image")
    }

    @Test func theBuiltInTemplatesLoadAndTheSaleDataFitsTheirSchema() throws {
        _ = try ReceiptTemplate(named: "sale.receipt", from: BuiltInTemplates(), schema: SaleReceipt.schema)
        _ = try ReceiptTemplate(named: "testpage.receipt", from: BuiltInTemplates(), schema: TestPage.schema)
        #expect(SaleReceipt.schema.accepts(try sampleData()))
        #expect(SaleReceipt.schema.accepts(try sampleData(copy: true)))
        _ = try ReceiptTemplate(named: "registration.receipt", from: BuiltInTemplates(), schema: RegistrationSlip.schema)
        #expect(SaleReceipt.schema.accepts(SaleReceipt.data(try loyaltySale(), date: "")))
        #expect(SaleReceipt.schema.accepts(SaleReceipt.data(try loyaltySale(registered: true), date: "")))
    }
}

struct MemoryTemplatesWithBytes: TemplateSource {
    var files: [String: [UInt8]]
    func file(named name: String) -> [UInt8]? { files[name] }
    var description: String { "memory" }
}
