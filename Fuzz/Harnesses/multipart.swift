// libFuzzer harness: the back office's form bodies (URL-encoded and multipart uploads). The first
// line of the input is the Content-Type header's value, the rest the body.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMultipart(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: data, count: size))
    let newline = bytes.firstIndex(of: 0x0A) ?? bytes.count
    let contentType = String(decoding: bytes[..<newline], as: UTF8.self)
    let body = Array(bytes[min(bytes.count, newline + 1)...])
    _ = FormBody.multipart(body, contentType: contentType)
    _ = FormBody.urlencoded(body)
    return 0
}
