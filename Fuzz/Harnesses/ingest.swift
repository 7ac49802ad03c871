// libFuzzer harness: head office's fast ingest reader. Whatever it accepts, JSONDecoder must read
// the same (a stored sale must always read back); nothing may crash or hang it.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIngest(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    _ = FastIngestDecoder.nestingDepth(bytes)
    _ = FastIngestDecoder.numberProblem(bytes)
    guard let (batch, raws) = FastIngestDecoder.decode(bytes) else { return 0 }
    guard let slow = try? JSONDecoder().decode(IngestBatch.self, from: Data(bytes)), slow == batch else {
        fatalError("the fast reader accepted a body JSONDecoder reads otherwise")
    }
    for (i, raw) in raws.enumerated() {
        guard let raw else { continue }
        guard let sale = try? JSONDecoder().decode(SaleDocument.self, from: Data(raw.utf8)), sale == batch.documents[i].sale else {
            fatalError("a stored sale would not read back")
        }
    }
    // The gate must never trap on what the reader gives it.
    for d in batch.documents {
        _ = d.sale?.problem()
        _ = d.registration?.boundsProblem()
        _ = d.refund?.boundsProblem()
        _ = d.zreport?.boundsProblem()
        if let s = d.sale, s.problem() == nil { _ = try? CompletedSale(document: s, storeName: nil) }
    }
    return 0
}
