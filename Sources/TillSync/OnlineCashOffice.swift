import Foundation
public import TillCore
import TillProtocol
public import TillStore

/// The cash office, asking head office about sales for returns: a receipt of another till of the
/// store (or one of this till's that was partly returned elsewhere) is fetched, with the refunds
/// head office has of it, when head office answers within a few seconds. Everything else is the
/// till's own database.
public final class OnlineCashOffice: CashOfficeStore, @unchecked Sendable { // used from the UI thread only
    let database: TillDatabase
    let link: HeadOfficeLink
    let forwarder: Forwarder?
    let timeoutMilliseconds: Int
    private let http: HTTPConnection

    public init(database: TillDatabase, link: HeadOfficeLink, forwarder: Forwarder?, timeoutMilliseconds: Int = 3_000) {
        self.database = database
        self.link = link
        self.forwarder = forwarder
        self.timeoutMilliseconds = timeoutMilliseconds
        http = HTTPConnection(ca: link.ca)
    }

    public func returnableSale(receipt: String, till: TillIdentity) throws -> ReturnableSale? {
        let connection = forwarder?.snapshot.connection
        if connection != .offline && connection != .revoked, Int64(receipt) == nil { fetch(receipt) }
        return try database.returnableSale(receipt: receipt, till: till)
    }

    /// Takes head office's copy of the sale and its refunds, if it answers in time.
    func fetch(_ receipt: String) {
        guard let escaped = receipt.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-"))),
              let answer = try? http.send("GET", link.url + "/api/v1/sales/" + escaped, headers: ["Authorization: Bearer \(link.token)"],
                                          timeoutMilliseconds: timeoutMilliseconds),
              answer.status == 200,
              let found = try? JSONDecoder().decode(SaleForReturn.self, from: Data(answer.body)) else { return }
        try? database.rememberRemoteSale(found, at: Int64(Date().timeIntervalSince1970 * 1000))
    }

    public func commitRefund(
        _ request: RefundRequest, id: String, cashier: Cashier, supervisor: String?, at time: Timestamp, till: TillIdentity,
        programme: LoyaltyProgramme?, cardReference: String?, reason: String?, slip: (CompletedRefund) -> PrintJobDraft?
    ) throws -> CompletedRefund {
        try database.commitRefund(request, id: id, cashier: cashier, supervisor: supervisor, at: time, till: till, programme: programme,
                                  cardReference: cardReference, reason: reason, slip: slip)
    }

    public func recordCash(_ movement: CashMovement, detail: String, slip: PrintJobDraft?) throws {
        try database.recordCash(movement, detail: detail, slip: slip)
    }

    public func audit(_ entry: AuditEntry) throws { try database.audit(entry) }

    public func report(z: Bool, counted: Int64?, at time: Timestamp, till: TillIdentity, cashier: String?,
                       print: (PeriodReport) -> PrintJobDraft?) throws -> PeriodReport {
        try database.report(z: z, counted: counted, at: time, till: till, cashier: cashier, print: print)
    }
}
