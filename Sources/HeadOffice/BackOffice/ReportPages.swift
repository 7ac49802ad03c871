import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TillCore
import TillProtocol

/// One table of a report, as the page shows it and the CSV has it.
struct ReportTable: Sendable {
    struct Row: Sendable { var cells: [String] }
    var id: String
    var title: String
    var columns: [String]
    var rows: [Row]
}

/// A bar chart of a report, drawn as SVG on the server (an image: no script, the CSP unchanged).
struct ReportChart: Sendable {
    var title: String
    var labels: [String]
    var values: [Int64]

    /// The SVG: one bar a value, its label under it (every nth when crowded), the largest value on the axis.
    var svg: String {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
                .replacingOccurrences(of: "\"", with: "&quot;")
        }
        let width = 900, height = 260, left = 70, bottom = 40, top = 30
        let count = max(1, values.count)
        let top_ = max(1, values.max() ?? 1)
        let slot = Double(width - left - 10) / Double(count)
        let every = max(1, Int((Double(count) * 40 / Double(width - left)).rounded(.up)))
        var out = #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(width)" height="\#(height)" viewBox="0 0 \#(width) \#(height)" font-family="sans-serif" font-size="11">"#
        out += #"<text x="\#(left)" y="18" font-size="13" font-weight="bold">\#(esc(title))</text>"#
        out += #"<line x1="\#(left)" y1="\#(height - bottom)" x2="\#(width - 10)" y2="\#(height - bottom)" stroke="gray"/>"#
        out += #"<text x="\#(left - 6)" y="\#(top + 4)" text-anchor="end">\#(top_)</text><text x="\#(left - 6)" y="\#(height - bottom)" text-anchor="end">0</text>"#
        let plot = Double(height - bottom - top)
        for (i, v) in values.enumerated() {
            let h = v <= 0 ? 0 : max(1, Double(v) / Double(top_) * plot)
            let x = Double(left) + Double(i) * slot + slot * 0.1
            out += #"<rect x="\#(String(format: "%.1f", x))" y="\#(String(format: "%.1f", Double(height - bottom) - h))" width="\#(String(format: "%.1f", slot * 0.8))" height="\#(String(format: "%.1f", h))" fill="steelblue"><title>\#(esc(labels[i])): \#(v)</title></rect>"#
            if i % every == 0 {
                out += #"<text x="\#(String(format: "%.1f", x + slot * 0.4))" y="\#(height - bottom + 14)" text-anchor="middle">\#(esc(labels[i]))</text>"#
            }
        }
        return out + "</svg>"
    }
}

extension HeadOfficeServer {
    /// The reports and who may open them: a store manager sees their store's; the chain-wide ones
    /// (baskets by partner, the programme's liability) are for admin and marketing.
    static let reportKinds: [(id: String, label: String, chainWide: Bool)] = [
        ("sales", "Sales and tenders", false), ("cashiers", "Sales assistants", false), ("risk", "Cashier risk", false), ("zreports", "Z reports", false),
        ("baskets", "Baskets by partner", true), ("liability", "Programme liability", true),
    ]

    /// A report's tables and chart for a period and store scope (nil: every store). The chart's
    /// own request (`chartOnly`) reads only what the chart draws.
    func report(_ kind: String, _ period: CashbackPeriod, store scope: String?, chartOnly: Bool = false) async throws -> ([ReportTable], ReportChart?) {
        let money = try await currency()
        return try await work.run { [store] () -> ([ReportTable], ReportChart?) in
            func m(_ v: Int64) -> String { money.format(v) }
            switch kind {
            case "cashiers":
                let rows = try store.cashierReport(period, store: scope)
                let table = ReportTable(id: "cashiers", title: "Sales assistants", columns: [
                    "Store", "Cashier", "Sales", "Total", "Average check", "Items per minute", "Loyalty attach %", "Enrolments", "Voids", "Refunds", "Overrides",
                ], rows: rows.map {
                    .init(cells: [$0.store, $0.cashier, String($0.sales), m($0.total), m($0.averageCheck),
                                  "\($0.itemsPerMinuteX100 / 100).\($0.itemsPerMinuteX100 % 100 < 10 ? "0" : "")\($0.itemsPerMinuteX100 % 100)",
                                  "\($0.attachBP / 100).\($0.attachBP % 100 < 10 ? "0" : "")\($0.attachBP % 100)", String($0.enrolments), String($0.voids),
                                  String($0.refunds), String($0.overrides)])
                })
                return ([table], ReportChart(title: "Sales by cashier", labels: rows.map { "\($0.store)/\($0.cashier)" }, values: rows.map(\.sales)))
            case "risk":
                let ranked = CashierRisk.rank(try store.cashierReport(period, store: scope))
                func bp(_ v: Int64) -> String { "\(v / 100).\(v % 100 < 10 ? "0" : "")\(v % 100)" }
                let table = ReportTable(id: "risk", title: "Cashiers against their store's norm (highest first; 2× the norm or more flagged)", columns: [
                    "Store", "Cashier", "Sales", "Voids /100 lines (store)", "Overrides /100 items (store)", "Refunds /100 sales (store)", "× the norm", "Flag",
                ], rows: ranked.map { r in
                    .init(cells: [r.store, r.cashier, String(r.sales)] + r.figures.map { "\($0.count): \(bp($0.rateBP)) (\(bp($0.normBP)))" }
                          + [r.scorePercent == 0 ? "-" : bp(r.scorePercent), r.flagged ? "look" : ""])
                })
                return ([table], ReportChart(title: "Highest × the norm, in %", labels: ranked.map { "\($0.store)/\($0.cashier)" }, values: ranked.map(\.scorePercent)))
            case "zreports":
                let rows = try store.zReports(period, store: scope)
                let utc = TimeZone(identifier: "UTC")!
                return ([ReportTable(id: "zreports", title: "Z reports received", columns: ["Store", "Till", "Z number", "From (UTC)", "To (UTC)", "Sales", "Net sales"],
                                     rows: rows.map { .init(cells: [$0.store, $0.till, String($0.number), ProtocolTime.format($0.from, timeZone: utc),
                                                                    ProtocolTime.format($0.to, timeZone: utc), String($0.sales), m($0.net)]) })], nil)
            case "baskets":
                let cells = try store.partnerBaskets(period)
                var keys: [String] = []
                var by: [String: (m: (Int64, Int64), n: (Int64, Int64))] = [:]
                for c in cells {
                    let key = c.partner + "\u{1}" + c.category
                    if by[key] == nil { keys.append(key); by[key] = ((0, 0), (0, 0)) }
                    if c.member { by[key]!.m = (c.amount, c.baskets) } else { by[key]!.n = (c.amount, c.baskets) }
                }
                var partnerTotals: [String: Int64] = [:]
                let rows: [ReportTable.Row] = keys.map { key in
                    let parts = key.split(separator: "\u{1}", omittingEmptySubsequences: false).map(String.init)
                    let v = by[key]!
                    partnerTotals[parts[0], default: 0] = partnerTotals[parts[0], default: 0].addingClamped(v.m.0.addingClamped(v.n.0))
                    return .init(cells: [parts[0], parts[1].isEmpty ? "(none)" : parts[1], m(v.m.0), String(v.m.1), m(v.n.0), String(v.n.1)])
                }
                let partners = partnerTotals.keys.sorted()
                return ([ReportTable(id: "baskets", title: "Spend by partner and category", columns: [
                    "Partner", "Category", "Members' spend", "Members' baskets", "Others' spend", "Others' baskets"], rows: rows)],
                        ReportChart(title: "Spend by partner", labels: partners, values: partners.map { partnerTotals[$0]! }))
            case "liability":
                let l = try store.liability(expiring: !chartOnly)
                let summary = ReportTable(id: "liability", title: "Outstanding now", columns: ["Points outstanding", "Their value", "Expiring within a month"],
                                          rows: [.init(cells: [String(l.outstanding), m(l.value), String(l.expiringNextMonth)])])
                let months = ReportTable(id: "liability-months", title: "Points by month", columns: ["Month", "Issued", "Redeemed", "Expired", "Converted to cashback"],
                                         rows: l.months.map { .init(cells: [$0.month, String($0.issued), String($0.redeemed), String($0.expired), String($0.converted)]) })
                return ([summary, months], ReportChart(title: "Points issued by month", labels: l.months.map(\.month), values: l.months.map(\.issued)))
            default:
                let days = try store.salesByDay(period, store: scope)
                var perDay: [String: Int64] = [:]
                for d in days { perDay[d.day, default: 0] = perDay[d.day, default: 0].addingClamped(d.total) }
                let labels = perDay.keys.sorted()
                let chart = ReportChart(title: "Sales total by day (minor units)", labels: labels, values: labels.map { perDay[$0]! })
                if chartOnly { return ([], chart) }
                let figures = try store.storeFigures(period, store: scope)
                let hours = try store.salesByHour(period, store: scope)
                let stores = ReportTable(id: "stores", title: "By store", columns: [
                    "Store", "Sales", "Total", "Cash", "Card", "Points", "Discounts", "Voided lines", "Price overrides", "Refunds", "Refunded",
                ], rows: figures.map {
                    .init(cells: [$0.store, String($0.sales), m($0.total), m($0.cash), m($0.card), m($0.points), m($0.discounts), String($0.voids),
                                  String($0.overrides), String($0.refunds), m($0.refunded)])
                })
                let byDay = ReportTable(id: "days", title: "By store and day (UTC)", columns: ["Store", "Day", "Sales", "Total", "Items"],
                                        rows: days.map { .init(cells: [$0.store, $0.day, String($0.sales), m($0.total), String($0.items)]) })
                let byHour = ReportTable(id: "hours", title: "By hour of the day (UTC)", columns: ["Hour", "Sales", "Total"],
                                         rows: hours.enumerated().map { .init(cells: ["\($0.offset < 10 ? "0" : "")\($0.offset):00", String($0.element.sales), m($0.element.total)]) })
                return ([stores, byDay, byHour], chart)
            }
        }
    }

    /// A report's period: a day (`2026-10-05`, UTC; e.g. the day's cashier risk), or a month,
    /// quarter or year as a cashback period is named.
    static func reportPeriod(_ text: String) -> CashbackPeriod? {
        if text.utf8.count == 10, let month = CashbackPeriod.parse(String(text.prefix(7))), text.dropFirst(7).first == "-",
           let day = Int(text.suffix(2)), text.suffix(2).allSatisfy(\.isASCIIDigit), day >= 1 {
            let start = month.start + Int64(day - 1) * 86_400_000
            guard start < month.end else { return nil }
            return CashbackPeriod(id: text, start: start, end: start + 86_400_000)
        }
        return CashbackPeriod.parse(text)
    }

    /// What a report request asks for, checked against the user: the kind, period and store scope
    /// (a store manager: their store, always), or the page that refuses it.
    func reportRequest(_ request: Request, _ session: BackOfficeSession) -> (kind: String, period: CashbackPeriod, store: String?, notice: (String, Bool)?)? {
        let asked = formField(request, "report")
        let kind = Self.reportKinds.first { $0.id == asked }?.id ?? "sales"
        let text = formField(request, "period")
        let named = Self.reportPeriod(text)
        let period = named ?? CashbackPeriod.lastEnded(.monthly, before: HeadOfficeStore.now() + 32 * 86_400_000)
        let notice: (String, Bool)? = !text.isEmpty && named == nil
            ? ("'\(text.prefix(20))' is not a period (2026-10-05, 2026-10, 2026-Q4 or 2026): showing \(period.id)", true) : nil
        if Self.reportKinds.first(where: { $0.id == kind })?.chainWide == true && session.user.role == .store { return nil }
        let wanted = formField(request, "store")
        let store = session.user.storeScope ?? (wanted.isEmpty ? nil : String(wanted.prefix(40)))
        return (kind, period, store, notice)
    }

    func addReportPages(_ router: RouterGroup<HeadOfficeContext>) {
        router.get("/reports") { request, context -> Response in
            try await page(context) { session in
                guard let r = reportRequest(request, session) else {
                    return message(.forbidden, "Reports", session, active: "/reports",
                                   notice: ("This report covers the whole chain: it is for administrators and marketing. A store manager sees their store's.", true),
                                   back: "/reports")
                }
                let (tables, chart) = try await report(r.kind, r.period, store: r.store)
                let stores = session.user.storeScope == nil ? try await work.run { [store] in Array(Set(try store.tills().map(\.till.storeID))).sorted() } : []
                let query = "report=\(r.kind)&period=\(r.period.id)" + (r.store.map { "&store=\(Self.queryParameter($0))" } ?? "")
                return render(.ok, "reports", ReportsPage(
                    frame: Frame("Reports", session: session, active: "/reports", notice: r.notice),
                    kinds: Self.reportKinds.filter { !$0.chainWide || session.user.role != .store }.map { .init(id: $0.id, label: $0.label, on: $0.id == r.kind) },
                    kind: r.kind, period: r.period.id, storeScope: session.user.storeScope,
                    stores: [.init(value: "", label: "Every store", selected: r.store == nil)] + stores.map { .init(value: $0, label: "Store \($0)", selected: $0 == r.store) },
                    chooseStore: session.user.storeScope == nil && !(Self.reportKinds.first { $0.id == r.kind }?.chainWide ?? false),
                    tables: tables, chart: chart.map { _ in "/reports/chart.svg?" + query }, csv: "/reports.csv?" + query))
            }
        }
        router.get("/reports.csv") { request, context -> Response in
            try await page(context) { session in
                guard let r = reportRequest(request, session) else {
                    return message(.forbidden, "Reports", session, active: "/reports", notice: ("This report is for administrators and marketing.", true), back: "/reports")
                }
                let (tables, _) = try await report(r.kind, r.period, store: r.store)
                let field = HeadOfficeStore.csvField
                let csv = tables.map { t in
                    ([t.columns] + t.rows.map(\.cells)).map { ([t.id] + $0).map(field).joined(separator: ",") }.joined(separator: "\n") + "\n"
                }.joined()
                let name = "report-\(r.kind)-\(r.period.id)\(r.store.map { "-" + $0.filter { $0.isLetter || $0.isNumber } } ?? "").csv"
                return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                                                       .contentDisposition: "attachment; filename=\"\(name)\""],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: csv)))
            }
        }
        router.get("/reports/chart.svg") { request, context -> Response in
            try await page(context) { session in
                guard let r = reportRequest(request, session), let chart = try await report(r.kind, r.period, store: r.store, chartOnly: true).1 else {
                    return Response(status: .notFound)
                }
                return Response(status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "no-store"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: chart.svg)))
            }
        }
    }
}

/// The reports page (the `reports` template).
struct ReportsPage: Sendable {
    struct Kind: Sendable { var id: String, label: String, on: Bool }
    struct Choice: Sendable { var value: String, label: String, selected: Bool }
    var frame: Frame
    var kinds: [Kind]
    var kind: String
    var period: String
    var storeScope: String?
    var stores: [Choice]
    var chooseStore: Bool
    var tables: [ReportTable]
    var chart: String?
    var csv: String
}
