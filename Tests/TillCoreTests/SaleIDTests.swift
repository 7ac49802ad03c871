import Foundation
import Testing
import TillCore

@Suite("Sale identifiers")
struct SaleIDTests {
    /// A fixed generator: the same bits every time, so the test can check where they go.
    struct Fixed: RandomNumberGenerator {
        var value: UInt64
        mutating func next() -> UInt64 { value }
    }

    @Test func aSaleIDIsAVersion7UUIDWithItsTimeFirst() throws {
        let time: Timestamp = 1_795_000_123_456   // 2026-11-18
        let id = SaleID.make(at: time)
        let uuid = try #require(UUID(uuidString: id), "\(id) is not a UUID")
        #expect(id == id.lowercased())
        #expect(id.count == 36)
        let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
        #expect(bytes[6] >> 4 == 7, "version")
        #expect(bytes[8] >> 6 == 0b10, "variant")
        let ms = bytes[0..<6].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(ms == UInt64(time))
        #expect(SaleID.time(of: id) == time)
        #expect(SaleID.time(of: UUID().uuidString.lowercased()) == nil, "a version 4 UUID has no time")
    }

    @Test func laterIDsSortLaterAndRandomBitsFillTheRest() {
        var previous = ""
        for t in stride(from: Timestamp(1_795_000_000_000), to: 1_795_000_000_000 + 5_000, by: 7) {
            let id = SaleID.make(at: t)
            #expect(id > previous, "\(id) after \(previous)")
            previous = id
        }
        var ones = Fixed(value: .max)
        // Every random bit set: only the version and variant bits are fixed.
        #expect(SaleID.make(at: 0, using: &ones) == "00000000-0000-7fff-bfff-ffffffffffff")
        var zeros = Fixed(value: 0)
        #expect(SaleID.make(at: 0xFFFF_FFFF_FFFF, using: &zeros) == "ffffffff-ffff-7000-8000-000000000000")
        #expect(SaleID.make(at: -5, using: &zeros) == "00000000-0000-7000-8000-000000000000", "a clock before 1970 is taken as 1970")
        let many = Set((0..<1_000).map { _ in SaleID.make(at: 1_795_000_000_000) })
        #expect(many.count == 1_000, "identifiers made in the same millisecond differ")
    }
}
