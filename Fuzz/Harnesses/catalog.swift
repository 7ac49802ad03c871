// libFuzzer harness: the catalog file importer (till import catalog, the back office's upload).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCatalog(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
    let (rows, issues) = CatalogCSV.parse(text, currency: .eur, taxCodes: ["A", "B", "Z"], rules: BarcodeRules())
    if !rows.isEmpty && !issues.isEmpty { fatalError("rows came back with issues") }
    return 0
}
