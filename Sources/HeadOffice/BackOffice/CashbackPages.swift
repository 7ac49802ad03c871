import Foundation
import HTTPTypes
import Logging
import Hummingbird
import NIOCore
import TillCore
import TillProtocol

/// The cashback page (admin, marketing): the runs, a period run now (in the background: the page
/// shows how far it is), and each period's payout file for the bank.
extension HeadOfficeServer {
    struct CashbackForm: Decodable { var period: String? }

    func addCashbackPages(_ router: RouterGroup<HeadOfficeContext>) {
        router.get("/cashback") { request, context -> Response in
            try await page(context, roles: Self.coalitionRoles) { session in
                let done = formField(request, "started")
                return try await cashbackPage(session, notice: done.isEmpty ? nil : ("The cashback run for \(done.prefix(10)) has started: this page shows how far it is.", false))
            }
        }
        router.post("/cashback/run") { _, context -> Response in
            try await post(context, roles: Self.coalitionRoles) { session, posted in
                let f = try posted.decode(CashbackForm.self)
                guard let period = CashbackPeriod.parse((f.period ?? "").trimmingCharacters(in: .whitespaces)) else {
                    return try await cashbackPage(session, notice: ("'\((f.period ?? "").prefix(20))' is not a period: key 2026-11, 2026-Q4 or 2026", true),
                                                  status: .unprocessableContent)
                }
                guard period.end <= HeadOfficeStore.now() else {
                    return try await cashbackPage(session, notice: ("\(period.id) has not ended yet: a period's points are converted once it is over", true),
                                                  status: .unprocessableContent)
                }
                let hasCashback = try await work.run { [store] in try store.latestProgramme()?.cashback != nil }
                guard hasCashback else {
                    return try await cashbackPage(session, notice: ("The programme in force has no cashback section: there is nothing to convert", true),
                                                  status: .unprocessableContent)
                }
                // In the background: a run of 400,000 cards outlasts a page's request; the page shows its progress.
                let (store, work, logger) = (self.store, self.work, self.logger)
                Task {
                    do { _ = try await work.run { try store.runCashback(period: period) } } catch {
                        logger.error("cashback run from the back office stopped; run it again to finish it", metadata: ["period": "\(period.id)", "error": "\(error)"])
                    }
                }
                return redirect("/cashback?started=\(period.id)")
            }
        }
        router.get("/cashback/payouts.csv") { request, context -> Response in
            try await page(context, roles: Self.coalitionRoles) { session in
                let period = formField(request, "period")
                guard CashbackPeriod.parse(period) != nil else {
                    return message(.notFound, "Cashback", session, active: "/cashback", notice: ("Choose a period (e.g. 2026-Q3)", true), back: "/cashback")
                }
                let money = try await currency()
                let csv = try await work.run { [store] in try store.cashbackPayoutCSV(period, currency: money).csv }
                return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                                                       .contentDisposition: "attachment; filename=\"cashback-\(period).csv\""],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: csv)))
            }
        }
    }

    func cashbackPage(_ session: BackOfficeSession, notice: (String, Bool)?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let money = try await currency()
        let (runs, programme, due, progress) = try await work.run { [store] () -> ([CashbackRun], LoyaltyProgramme?, CashbackPeriod?, [String: Int64]) in
            let runs = try store.cashbackRuns()
            var progress: [String: Int64] = [:]
            for r in runs where r.state != "done" { progress[r.period] = Int64(try store.cashbackPayouts(r.period).count) }
            return (runs, try store.latestProgramme(), try store.dueCashbackPeriod(), progress)
        }
        let schedule = programme?.cashback?.schedule
        let suggested = due?.id ?? schedule.map { CashbackPeriod.lastEnded($0, before: HeadOfficeStore.now()).id } ?? ""
        return render(status, "cashback", CashbackPage(
            frame: Frame("Cashback", session: session, active: "/cashback", notice: notice),
            schedule: schedule.map { "\($0.rawValue), minimum \(programme?.cashback?.minimumPoints.count ?? 0) points" },
            suggested: suggested, due: due?.id,
            runs: runs.map {
                .init(period: $0.period, state: $0.state, cards: $0.state == "done" ? $0.cards : progress[$0.period] ?? 0, points: $0.points,
                      amount: money.format($0.amount), done: $0.state == "done")
            }, anyRuns: !runs.isEmpty))
    }
}

/// The cashback page (the `cashback` template).
struct CashbackPage: Sendable {
    struct Run: Sendable { var period: String, state: String, cards: Int64, points: Int64, amount: String, done: Bool }
    var frame: Frame
    var schedule: String?
    var suggested: String
    var due: String?
    var runs: [Run]
    var anyRuns: Bool
}
