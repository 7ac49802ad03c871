// libFuzzer harness: the staff file reader (till import cashiers, headoffice staff import).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStaff(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
    _ = StaffCSV.parse(text, storeColumn: true)
    _ = StaffCSV.parse(text, storeColumn: false)
    return 0
}
