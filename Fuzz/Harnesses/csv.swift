// libFuzzer harness: the CSV reader every import uses.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
    if let records = try? CSVReader.records(text) {
        for r in records where r.line < 1 { fatalError("line \(r.line)") }
    }
    return 0
}
