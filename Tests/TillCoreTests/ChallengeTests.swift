import Foundation
import Testing
@testable import TillCore

/// Challenges (issue 18): what a sale gives, each window, streaks, completions and their cap,
/// the programme's checks.
@Suite("Challenges")
struct ChallengeTests {
    static let day: Int64 = 1440
    /// 2026-11-02T10:00, a Monday, in local minutes.
    static let monday = LocalDateTime.daysFromCivil(2026, 11, 2) * day + 600

    static func coffee(_ window: Challenge.Window = .days, length: Int64 = 30, target: Int64 = 3, max: Int64 = 1) -> Challenge {
        Challenge(id: "coffee", name: "Coffee challenge", measure: .visits, skus: ["F0015"], target: target, window: window, length: length,
                  maxCompletions: max, rewardPoints: 100, badge: "Coffee lover", starts: "2026-01-01T00:00", ends: "2027-01-01T00:00")
    }

    func events(_ minutes: [Int64]) -> [ChallengeEvent] {
        minutes.enumerated().map { ChallengeEvent(sale: "s\($0.offset)", at: $0.element, amount: 1) }
    }

    @Test func aSaleGivesVisitsSpendOrItemsOfItsQualifyingLines() {
        let lines = [ChallengeLine(sku: "F0015", category: "Grocery", net: 699, units: 2), ChallengeLine(sku: "F0002", category: "Dairy", net: 119, units: 1),
                     ChallengeLine(sku: "F0011", category: "Deli", net: 1_490, units: 1)]
        var c = Self.coffee()
        #expect(c.contribution(lines) == 1)
        c.measure = .items
        #expect(c.contribution(lines) == 2)
        c.measure = .spend
        c.skus = []
        c.categories = ["Dairy", "Deli"]
        #expect(c.contribution(lines) == 119 + 1_490)
        c.categories = ["Frozen"]
        #expect(c.contribution(lines) == 0)
        c.categories = []
        c.measure = .visits
        #expect(c.contribution(lines) == 1, "no SKUs or categories: every sale counts")
        #expect(c.contribution([]) == 0)
    }

    @Test func eachWindowCountsItsOwnDays() {
        let m = Self.monday
        // A rolling 7 days: the sale of 8 days ago has left it.
        let days = Self.coffee(.days, length: 7)
        #expect(days.value(at: m, events([m - 8 * Self.day, m - 6 * Self.day, m])) == 2)
        // The calendar week (Monday to Sunday): last Sunday's sale is last week's.
        let week = Self.coffee(.week)
        #expect(week.value(at: m + 6 * Self.day, events([m - 700, m, m + 3 * Self.day])) == 2)
        // The calendar month: 31 October is not November's.
        let month = Self.coffee(.month)
        #expect(month.value(at: m + 20 * Self.day, events([m - 2 * Self.day, m, m + 20 * Self.day])) == 2)
        #expect(Challenge.week(m) == Challenge.week(m + 6 * Self.day + 1439 - 600) && Challenge.week(m - 601) == Challenge.week(m) - 1)
    }

    @Test func aStreakNeedsEveryWeekAndAMissingWeekBreaksIt() {
        let streak = Challenge(id: "weekly", name: "Every week", measure: .visits, target: 1, window: .streak, length: 3, rewardPoints: 50,
                               starts: "2026-01-01T00:00", ends: "2027-01-01T00:00")
        let w = 7 * Self.day, m = Self.monday
        // Weeks 1, 2, then none in week 3, then 4 and 5: never three in a row.
        let broken = events([m, m + w, m + 3 * w, m + 4 * w + 100])
        #expect(streak.replay(broken, after: nil, completed: 0).completions.isEmpty)
        #expect(streak.value(at: m + 4 * w + 100, broken) == 2)
        // Weeks 4, 5, 6 in a row: complete at the sixth week's sale.
        let kept = broken + [ChallengeEvent(sale: "w6", at: m + 5 * w + 30, amount: 1)]
        #expect(streak.replay(kept, after: nil, completed: 0).completions == [m + 5 * w + 30])
        // While this week has no sale yet, the run up to last week still stands.
        #expect(streak.value(at: m + 2 * w + 10, events([m, m + w])) == 2)
        #expect(streak.progress(ChallengeRecord(id: "weekly", events: broken), sale: nil).line(currency: .eur) == "Every week 2 of 3 weeks")
    }

    @Test func completionsStartTheCountAgainAndStopAtTheirCap() {
        let once = Self.coffee(target: 2, max: 1), twice = Self.coffee(target: 2, max: 2)
        let m = Self.monday
        let six = events((0..<6).map { m + Int64($0) * 60 })
        #expect(once.replay(six, after: nil, completed: 0).completions == [m + 60])
        #expect(twice.replay(six, after: nil, completed: 0).completions == [m + 60, m + 180])
        // Head office confirmed one already: its events before it do not count again.
        #expect(twice.replay(six, after: m + 60, completed: 1).completions == [m + 180])
        #expect(twice.replay(six, after: m + 60, completed: 2).completions.isEmpty)
        // Progress with this sale: the second visit completes it (once).
        let record = ChallengeRecord(id: "coffee", events: [ChallengeEvent(sale: "a", at: m, amount: 1)])
        let p = once.progress(record, sale: ChallengeEvent(sale: "b", at: m + 5, amount: 1))
        #expect(p.completedNow && p.value == 2 && p.finished && p.contributed == 1)
        #expect(p.line(currency: .eur) == "Coffee challenge complete! +100 points to come, badge Coffee lover")
        // The same sale counted twice (head office already had it) gives nothing more.
        let again = once.progress(ChallengeRecord(id: "coffee", events: [ChallengeEvent(sale: "b", at: m + 5, amount: 1)]),
                                  sale: ChallengeEvent(sale: "b", at: m + 5, amount: 1))
        #expect(!again.completedNow && again.value == 1 && again.line(currency: .eur) == "Coffee challenge 1 of 2")
        var spend = Self.coffee(target: 2_000)
        spend.measure = .spend
        #expect(spend.progress(nil, sale: ChallengeEvent(sale: "c", at: m, amount: 1_250)).line(currency: .eur) == "Coffee challenge 12.50 of 20.00")
    }

    @Test func theProgrammeShowsOnlyRunningChallengesAndThoseJoined() throws {
        var programme = try JSONDecoder().decode(LoyaltyProgramme.self, from: Data(#"""
            {"version":"c1","name":"Demo","currency":"EUR","earn":{"pointsPerUnit":1,"unitMinor":100,"rounding":"down"},
             "tierQualification":{"basis":"spend","periodDays":365},
             "redemption":{"bands":[{"minPoints":0,"minorPer100Points":50}],"minimumPoints":100,"maxShareBP":5000,"offlineCapPoints":2000},
             "cardRanges":[{"name":"Demo Rewards card","prefix":"6034","length":16}],
             "challenges":[{"id":"coffee","name":"Coffee challenge","measure":"visits","skus":["F0015"],"target":3,"window":"days","length":30,
                            "rewardPoints":100,"starts":"2026-01-01T00:00","ends":"2027-01-01T00:00"},
                           {"id":"club","name":"Club","measure":"visits","target":1,"window":"month","optIn":true,"badge":"Member",
                            "starts":"2026-01-01T00:00","ends":"2027-01-01T00:00"}]}
            """#.utf8))
        #expect(programme.challenges.count == 2 && programme.challenges[0].maxCompletions == 1 && !programme.challenges[0].optIn)
        #expect(programme.validate().isEmpty, "\(programme.validate())")
        let customer = SaleCustomer(cardNumber: "1", customerID: "M1", name: "Anna", tierCode: nil, tierName: nil, balance: 0, qualifying: 0,
                                    offlineLeft: nil, provisional: false)
        let line = [ChallengeLine(sku: "F0015", category: "Grocery", net: 699, units: 1)]
        let now = LocalDateTime(minutes: Self.monday)
        #expect(programme.challengeProgress(lines: line, saleID: "x", customer: customer, time: now).map(\.id) == ["coffee"], "club is not joined")
        var joined = customer
        joined.challenges = [ChallengeRecord(id: "club", joined: true)]
        #expect(programme.challengeProgress(lines: line, saleID: "x", customer: joined, time: now).map(\.id) == ["coffee", "club"])
        #expect(programme.challengeProgress(lines: line, saleID: "x", customer: joined, time: LocalDateTime(minutes: Self.monday + 400 * Self.day)).isEmpty,
                "ended")
        // The checks: a streak of one week, no reward, a bad id.
        programme.challenges[1].window = .streak
        programme.challenges[1].length = 1
        programme.challenges[0].rewardPoints = 0
        programme.challenges[0].id = "no spaces"
        let issues = programme.validate().map(\.field)
        #expect(issues.contains("challenges[1].length") && issues.contains("challenges[0]") && issues.contains("challenges[0].id"), "\(issues)")
    }
}
