// libFuzzer harness: the cards file importer (till import cards, headoffice cards import).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCards(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
    guard let records = try? CSVReader.records(text) else { return 0 }
    let programme = LoyaltyProgramme(
        version: "fuzz", name: "Fuzz", currency: "EUR", earn: .init(pointsPerUnit: 1, unitMinor: 100, rounding: .down),
        tierQualification: .init(basis: .spend, periodDays: 365), welcomeBonus: 100,
        redemption: .init(bands: [.init(minPoints: 100, minorPer100Points: 50)], minimumPoints: 100, maxShareBP: 10_000, offlineCapPoints: 1_000),
        cardRanges: [CardRange(name: "Fuzz", prefix: "6034", length: 16)])
    _ = CardsCSV.parse(records, programme: programme, now: 1_795_000_000_000)
    return 0
}
