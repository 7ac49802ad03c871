import Foundation
@testable import HeadOffice
import Testing

/// Daily cashier risk (issue 19): each cashier's voids, overrides and refunds against their
/// store's norm, ranked, 2× the norm or more flagged; a handful of events is no pattern.
@Suite("Cashier risk")
struct CashierRiskTests {
    static func figures(_ store: String, _ cashier: String, sales: Int64 = 100, items: Int64 = 500, voids: Int64, overrides: Int64, refunds: Int64) -> CashierFigures {
        CashierFigures(store: store, cashier: cashier, sales: sales, total: 0, averageCheck: 0, itemsPerMinuteX100: 0, attachBP: 0,
                       enrolments: 0, voids: voids, refunds: refunds, overrides: overrides, items: items)
    }

    @Test func eachCashierIsRankedAgainstTheirOwnStoresNorm() {
        let ranked = CashierRisk.rank([
            Self.figures("0001", "11", voids: 5, overrides: 2, refunds: 1),
            Self.figures("0001", "12", voids: 30, overrides: 2, refunds: 1),     // voids: 30 of 530 lines against the store's 40 of 1,540
            Self.figures("0001", "13", voids: 5, overrides: 2, refunds: 8),      // refunds: 8 of 100 sales against 10 of 300
            Self.figures("0002", "21", voids: 50, overrides: 40, refunds: 20),   // another store: its own norm, alone in it
        ])
        #expect(ranked.map(\.cashier) == ["13", "12", "11", "21"])
        let c13 = ranked[0], c12 = ranked[1], c11 = ranked[2], c21 = ranked[3]
        // 8/100 = 800 per 10,000 against 10/300 = 333: 240%.
        #expect(c13.figures[2] == CashierRisk.Figure(name: "refunds per 100 sales", count: 8, rateBP: 800, normBP: 333, ratioPercent: 240) && c13.flagged)
        // 30/530 = 566 against 40/1,540 = 259: 218%.
        #expect(c12.figures[0].rateBP == 566 && c12.figures[0].normBP == 259 && c12.scorePercent == 218 && c12.flagged)
        // Two overrides and one refund are too few to count; five voids at 38% of the norm.
        #expect(c11.scorePercent == 38 && !c11.flagged)
        #expect(c21.scorePercent == 100 && !c21.flagged, "alone in their store, a cashier is their store's norm")
        // Nothing at all: no ratio, no score; no trap on empty figures.
        let idle = CashierRisk.rank([Self.figures("0003", "31", sales: 0, items: 0, voids: 0, overrides: 0, refunds: 0)])
        #expect(idle.first?.scorePercent == 0 && idle.first?.figures.allSatisfy { $0.ratioPercent == nil } == true)
        let huge = CashierRisk.rank([Self.figures("0004", "41", sales: .max, items: .max, voids: .max, overrides: .max, refunds: .max)])
        #expect(huge.count == 1)
    }

    @Test func aReportsPeriodMayBeADay() throws {
        let day = try #require(HeadOfficeServer.reportPeriod("2026-10-05"))
        let october = try #require(CashbackPeriod.parse("2026-10"))
        #expect(day.end - day.start == 86_400_000 && day.start == october.start + 4 * 86_400_000)
        #expect(HeadOfficeServer.reportPeriod("2026-02-29") == nil && HeadOfficeServer.reportPeriod("2026-10-00") == nil)
        #expect(HeadOfficeServer.reportPeriod("2026-10-+5") == nil && HeadOfficeServer.reportPeriod("2026-Q4")?.id == "2026-Q4")
        #expect(CashbackPeriod.parse("2026-10-05") == nil, "a day is no cashback period")
    }
}
