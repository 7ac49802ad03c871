@testable import HeadOffice
import Testing

@Suite("Back office form bodies")
struct FormBodyTests {
    static func multipart(_ boundary: String, _ parts: [(name: String, filename: String?, value: String)]) -> [UInt8] {
        var text = ""
        for p in parts {
            text += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(p.name)\""
            if let f = p.filename { text += "; filename=\"\(f)\"\r\nContent-Type: text/csv" }
            text += "\r\n\r\n\(p.value)\r\n"
        }
        return Array((text + "--\(boundary)--\r\n").utf8)
    }

    @Test func anUploadKeepsAFileWhoseTextHoldsTheBoundary() {
        // The boundary's text inside the file (not after CRLF and "--") is content, not a new part.
        let boundary = "XyZ"
        let file = "sku,description,price\nF1,Sale --XyZ edition,1.00\nF2,\"Two\nlines\",2.00"
        let fields = FormBody.multipart(Self.multipart(boundary, [("csrf", nil, "token-1"), ("file", "catalog.csv", file)]),
                                        contentType: "multipart/form-data; boundary=\(boundary)")
        #expect(fields["csrf"] == "token-1")
        #expect(fields["file"] == file)
    }

    @Test func aQuotedBoundaryAndCyrillicTextAreRead() {
        let fields = FormBody.multipart(Self.multipart("----b 1", [("note", nil, "Молоко 1 л")]),
                                        contentType: #"multipart/form-data; charset=utf-8; boundary="----b 1""#)
        #expect(fields["note"] == "Молоко 1 л")
    }

    @Test func aBodyThatIsNotWhatItsTypeSaysGivesNoFields() {
        #expect(FormBody.multipart(Array("csrf=1&file=x".utf8), contentType: "multipart/form-data; boundary=abc").isEmpty)
        #expect(FormBody.multipart(Self.multipart("abc", [("csrf", nil, "1")]), contentType: "multipart/form-data").isEmpty)
    }

    @Test func aByteAboveASCIIInAHeaderNameIsNoTrap() {
        // multipart-kit 4.7.1 traps on this; head office's reader takes it as a part without a
        // name, and a UTF-8 file name in a header's value is still read.
        let bad = Array("--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\u{e9}X: 1\r\n\r\n1\r\n--b--\r\n".utf8)
        #expect(FormBody.multipart(bad, contentType: "multipart/form-data; boundary=b") == ["csrf": "1"])
        let atStart = Array("--b\r\n\u{e9}: 1\r\n\r\n1\r\n--b--\r\n".utf8)
        #expect(FormBody.multipart(atStart, contentType: "multipart/form-data; boundary=b").isEmpty)
        let named = Self.multipart("b", [("file", "Молоко.csv", "sku\nF1")])
        #expect(FormBody.multipart(named, contentType: "multipart/form-data; boundary=b")["file"] == "sku\nF1")
    }
}
