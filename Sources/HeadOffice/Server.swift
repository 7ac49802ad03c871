import Dispatch
public import Foundation
import Hummingbird
import HummingbirdTLS
public import Logging
import NIOCore
import NIOSSL
public import Prometheus
import HTTPTypes
import HummingbirdCore
import ServiceLifecycle
import UnixSignals
import Synchronization
import TillDocuments
import TillProtocol

/// How head office serves.
public struct ServerOptions: Sendable {
    public var host: String
    public var port: Int
    /// PEM certificate chain and key: serve HTTPS instead of HTTP.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// The largest request body accepted.
    public var maxBodyBytes: Int
    /// Connections open at once; past it new ones wait in the listen queue.
    public var maxConnections: Int
    /// A connection that sends no complete request for this long is closed (half-open and
    /// trickling clients, idle keep-alives).
    public var idleTimeoutSeconds: Int
    /// A request body must arrive within this many seconds.
    public var bodyTimeoutSeconds: Int
    /// Where e-mail goes (the members' sign-in codes); nil: head office sends none, and the
    /// member page says sign-in by e-mail is not set up.
    public var mail: MailSettings?

    public init(host: String = "127.0.0.1", port: Int = 8470, tlsCertificate: String? = nil, tlsKey: String? = nil, maxBodyBytes: Int = 32 << 20,
                maxConnections: Int = 8_000, idleTimeoutSeconds: Int = 30, bodyTimeoutSeconds: Int = 60, mail: MailSettings? = nil) {
        self.mail = mail
        self.host = host
        self.port = port
        self.tlsCertificate = tlsCertificate
        self.tlsKey = tlsKey
        self.maxBodyBytes = maxBodyBytes
        self.maxConnections = maxConnections
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.bodyTimeoutSeconds = bodyTimeoutSeconds
    }
}

/// Head office's HTTP API (docs/headoffice-api.yaml): ingest, card lookups, health, metrics.
public struct HeadOfficeServer: Sendable {
    public let store: HeadOfficeStore
    public let options: ServerOptions
    public let logger: Logger
    let metrics: Metrics
    let work: BlockingWork
    /// Drawing receipts (CPU only), apart from the database's pool.
    let rendering = BlockingWork(width: 2)
    /// Checking back office passwords (a slow hash by design), apart from the database's pool:
    /// a storm of sign-ins waits here and never holds up the tills.
    let signingIn = BlockingWork(width: 1)
    /// Sending e-mail (a relay may take seconds), apart from the database's pool.
    let mailing = BlockingWork(width: 2)
    /// Sending campaigns' e-mails (a round at a time, each a few milliseconds to seconds).
    let campaigning = BlockingWork(width: 1)
    let updates = UpdateSignal()

    /// `registry`: where `/metrics` reads its figures from (`headoffice serve` makes it the
    /// process's swift-metrics backend too); by default one of this server's own.
    public init(store: HeadOfficeStore, options: ServerOptions, logger: Logger = Logger(label: "headoffice"),
                registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.store = store
        self.options = options
        self.logger = logger
        metrics = Metrics(registry: registry)
        work = BlockingWork(width: 8)  // SQLite: writers wait together for one group commit
    }

    static let json: HTTPFields = [.contentType: "application/json"]

    func respond(_ status: HTTPResponse.Status, _ body: some Encodable) -> Response {
        let data = (try? JSONEncoder().encode(body)) ?? Data("{}".utf8)
        return Response(status: status, headers: Self.json, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    func refuse(_ status: Int, _ message: String, documentID: String? = nil) -> Response {
        metrics.refused(status)
        return respond(HTTPResponse.Status(code: status), APIError(error: message, documentID: documentID))
    }

    /// Why a body was not read.
    enum BodyProblem: Error { case tooLarge, tooSlow }

    /// A request's body, at most `limit` bytes, arriving within the body timeout: a client that
    /// trickles its body cannot hold a request open for ever.
    func body(_ request: Request, upTo limit: Int) async throws(BodyProblem) -> ByteBuffer {
        let seconds = options.bodyTimeoutSeconds
        let result: ByteBuffer?? = try? await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask { try? await request.body.collect(upTo: limit) }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(seconds) * 1_000_000_000)
                throw BodyProblem.tooSlow
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        switch result {
        case .some(.some(let buffer)): return buffer
        case .some(.none): throw .tooLarge
        case .none: throw .tooSlow
        }
    }

    func authenticate(_ request: Request) async throws -> Result<TillCredential, AuthFailure> {
        let header = request.headers[.authorization]
        return try await work.run { [store] in
            do { return .success(try store.authenticate(header)) } catch let e as AuthFailure { return .failure(e) }
        }
    }

    /// Every path head office serves and its methods (the API's and the back office's).
    static let routes: [(String, [HTTPRequest.Method])] = [
        ("/health", [.get]), ("/metrics", [.get]), ("/api/v1/ingest", [.post]), ("/api/v1/sales/*", [.get]), ("/api/v1/updates", [.get]),
        ("/api/v1/updates/ack", [.post]), ("/api/v1/staff", [.get]), ("/api/v1/cards/*", [.get]), ("/api/v1/cards/*/history", [.get]),
        ("/api/v1/channel/cards/*", [.get]), ("/api/v1/channel/earn", [.post]), ("/api/v1/channel/reservations", [.post]),
        ("/api/v1/channel/reservations/*/capture", [.post]), ("/api/v1/channel/reservations/*/cancel", [.post]),
        ("/api/v1/channel/reservations/*/refund", [.post]), ("/api/v1/channel/transactions", [.post]), ("/api/v1/channel/transactions/file", [.post]),
        ("/api/v1/channel/events", [.post]), ("/api/v1/channel/referrals", [.post]), ("/events", [.get, .post]),
        ("/partners", [.get, .post]), ("/settlement", [.get]), ("/settlement/close", [.post]), ("/settlement/correction", [.post]),
        ("/settlement/statement.csv", [.get]), ("/reports", [.get]), ("/reports.csv", [.get]), ("/reports/chart.svg", [.get]),
        ("/cashback", [.get]), ("/cashback/run", [.post]), ("/cashback/payouts.csv", [.get]),
        ("/segments", [.get]), ("/segments/rfm", [.post]), ("/segments/new", [.get]), ("/segments/view", [.get]), ("/segments/members.csv", [.get]),
        ("/segments/build", [.post]), ("/campaigns", [.get, .post]), ("/campaigns/view", [.get]), ("/campaigns/chart.svg", [.get]), ("/campaigns/programme", [.get]), ("/campaigns/pause", [.post]),
        ("/campaigns/resume", [.post]),
        ("/login", [.get, .post]), ("/logout", [.post]), ("/", [.get]), ("/catalog", [.get]), ("/catalog/upload", [.post]),
        ("/catalog/item", [.get, .post]), ("/receipts", [.get]), ("/receipts/svg", [.get]), ("/programme", [.get, .post]),
        ("/programme/preview", [.post]), ("/programme/diff", [.get]), ("/programme/publish", [.post]), ("/settings", [.get, .post]),
        ("/rollout", [.get]), ("/rollback", [.post]), ("/customers", [.get]), ("/customer", [.get]),
        ("/customer/export", [.get]), ("/approvals", [.get]), ("/member", [.get]), ("/member/code", [.post]), ("/member/verify", [.post]),
        ("/member/details", [.post]), ("/member/consent", [.post]), ("/member/lost", [.post]), ("/member/logout", [.post]), ("/member/offer", [.post]), ("/member/challenge", [.post]), ("/member/referral", [.post]),
        ("/member/card.svg", [.get]), ("/member/referral.svg", [.get]), ("/member/receipt.svg", [.get]),
        ("/e/o/*", [.get]), ("/e/c/*", [.get]), ("/e/u/*", [.get, .post]), ("/s/*", [.get, .post]), ("/feedback", [.get]), ("/events/feedback", [.post]), ("/events/referrals", [.post]),
        ("/suggestions", [.get, .post]), ("/suggestions/mine", [.post]),
        ("/fraud", [.get]), ("/fraud/rule", [.post]), ("/fraud/evaluate", [.post]), ("/fraud/alerts", [.get]), ("/fraud/case", [.get, .post]),
    ] + ["details", "adjust", "adjustment", "card", "replace", "merge", "consent", "erase"].map { ("/customer/" + $0, [.post]) }

    func router() -> Router<HeadOfficeContext> {
        let router = Router(context: HeadOfficeContext.self)
        // Every request's count and time, by method and route (swift-metrics: recorded where the
        // process bootstrapped it, as `headoffice serve` does into this server's registry).
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorBodyMiddleware())
        router.add(middleware: MethodNotAllowedMiddleware(Self.routes))
        // The tills' API: every route behind one authenticator (the till's bearer token).
        let api = router.group("/api/v1").add(middleware: TillAuthenticator(server: self))
        router.get("/health") { _, _ -> Response in
            // Reads and a write: a head office that cannot store a sale is not healthy, even if it
            // can still answer questions.
            do {
                let sales = try await work.run { [store] in try store.receivedCount() }
                do { try await work.run { [store] in try store.probeWrite() } } catch {
                    return respond(.serviceUnavailable, ["status": "unavailable", "database": store.database.kind.rawValue,
                                                         "error": "head office cannot write to its database: \(error)"])
                }
                return respond(.ok, ["status": "ok", "database": store.database.kind.rawValue, "sales": String(sales)])
            } catch {
                return respond(.serviceUnavailable, ["status": "unavailable", "error": "\(error)"])
            }
        }
        addCampaignTracking(router)
        addSurveyPages(router)
        router.get("/metrics") { _, _ -> Response in
            let tills = (try? await work.run { [store] in try store.tills() }) ?? []
            let text = metrics.render(tills)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        api.post("ingest") { request, context -> Response in
            let till = try context.requireTill()
            let body: ByteBuffer
            do { body = try await self.body(request, upTo: options.maxBodyBytes) } catch BodyProblem.tooLarge {
                return refuse(413, "The batch is larger than \(options.maxBodyBytes) bytes: send fewer documents at a time")
            } catch {
                return refuse(408, "The batch did not arrive within \(options.bodyTimeoutSeconds) s: send it again")
            }
            let start = DispatchTime.now().uptimeNanoseconds
            let batch: IngestBatch
            let raw: [String?]?
            // The fast reader takes well-formed batches and gives each sale's JSON as sent (stored
            // as is); JSONDecoder takes anything else, and says what is wrong.
            if let (fast, sales) = body.readableBytesView.withUnsafeBytes({ FastIngestDecoder.decode($0) }) {
                batch = fast
                raw = sales
            } else {
                let depth = body.readableBytesView.withUnsafeBytes { FastIngestDecoder.nestingDepth($0) }
                guard depth <= FastIngestDecoder.maxDepth else {
                    return refuse(400, "The batch nests objects or arrays \(depth) deep: at most \(FastIngestDecoder.maxDepth) levels are read")
                }
                do { batch = try JSONDecoder().decode(IngestBatch.self, from: Data(body.readableBytesView)) } catch let e as DecodingError {
                    if let number = body.readableBytesView.withUnsafeBytes({ FastIngestDecoder.numberProblem($0) }) {
                        return refuse(400, "The batch is not valid: \(number)")
                    }
                    return refuse(400, "The batch is not valid: \(Self.describe(e))")
                } catch {
                    return refuse(400, "The batch is not JSON: \(error)")
                }
                raw = nil   // rare: the decoded sales are encoded again for storage
            }
            do {
                let response = try await work.run { [store] in try store.ingest(batch, rawSales: raw, from: till) }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                metrics.batch(response, seconds: seconds)
                let accepted = response.results.filter { $0.status == .accepted }.count
                let rejected = response.results.filter { $0.status == .rejected }.count
                logger.info("ingest", metadata: [
                    "till": "\(till.name)", "documents": "\(batch.documents.count)", "accepted": "\(accepted)",
                    "duplicates": "\(batch.documents.count - accepted - rejected)", "rejected": "\(rejected)",
                    "ms": "\(Int(seconds * 1000))", "gaps": "\(response.gaps.count)",
                ])
                return Response(status: .ok, headers: Self.json, body: ResponseBody(byteBuffer: ByteBuffer(bytes: IngestResponseJSON.encode(response))))
            } catch let r as IngestRefusal {
                logger.warning("ingest refused", metadata: ["till": "\(till.name)", "status": "\(r.status)", "reason": "\(r.message)"])
                return refuse(r.status, r.message, documentID: r.documentID)
            } catch {
                logger.error("ingest failed", metadata: ["till": "\(till.name)", "error": "\(error)"])
                return refuse(503, "Head office could not store the batch (\(error)); nothing of it was applied: send it again later")
            }
        }
        api.get("sales/{receipt}") { request, context -> Response in
            let till = try context.requireTill()
            guard let receipt = context.parameters.get("receipt"), (1...40).contains(receipt.count),
                  receipt.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isLetter || $0 == "-") }) else {
                return refuse(400, "A receipt number is letters, digits and '-', e.g. 0001-01-000042")
            }
            do {
                guard let found = try await work.run({ [store] in try store.saleForReturn(receipt: receipt, store: till.storeID) }) else {
                    return refuse(404, "Head office has no sale \(receipt) of store \(till.storeID)")
                }
                return respond(.ok, found)
            } catch {
                return refuse(503, "Head office could not read the sale: \(error)")
            }
        }
        api.get("updates") { request, context -> Response in
            let till = try context.requireTill()
            let query = request.uri.queryParameters
            guard let after = query["after"].map({ Int64(String($0)) }) ?? 0, DocumentBounds.version.contains(after) else {
                return refuse(400, "after must be the version of the last publication the till has (0 to \(DocumentBounds.version.upperBound)), e.g. ?after=12")
            }
            guard let from = query["from"].map({ Int64(String($0)) }) ?? 0, (0...DocumentBounds.epochMillis.upperBound).contains(from) else {
                return refuse(400, "from must be when that publication came into force, in epoch milliseconds (0 to \(DocumentBounds.epochMillis.upperBound))")
            }
            guard let wait = query["wait"].map({ Int(String($0)) }) ?? 25, (0...60).contains(wait) else {
                return refuse(400, "wait must be 0 to 60 seconds")
            }
            // The kinds of publication the till reads; a till that names none (before 2026-12-06)
            // gets only the kinds it knew, never one it could not read. Names it does not know are ignored.
            var kinds = HeadOfficeStore.kindsBeforeTillsSaid
            if let named = query["kinds"] {
                let names = named.split(separator: ",", omittingEmptySubsequences: false)
                guard (1...20).contains(names.count),
                      names.allSatisfy({ (1...20).contains($0.utf8.count) && $0.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || $0 == 45 } }) else {
                    return refuse(400, "kinds must be 1 to 20 kinds of publication (lower-case letters and -), comma-separated, e.g. programme,prices")
                }
                kinds = Set(names.compactMap { PublicationKind(rawValue: String($0)) }.filter { $0 != .unknown })
            }
            // A till of before 2026-11-28 sends no `from`: its cursor is the version alone (what
            // it has asked for since), else every publication in force would come back each poll.
            let legacy = query["from"] == nil
            let cursor = ReleaseCursor(effectiveAt: from, version: after)
            let find: @Sendable () throws -> [Publication] = { [store, kinds] in
                legacy ? try store.updates(for: till, after: after, kinds: kinds) : try store.updates(for: till, after: cursor, kinds: kinds)
            }
            do {
                let seen = await updates.current
                try await work.run({ [store] in try store.recordPoll(till) })
                var found = try await work.run(find)
                if found.isEmpty && wait > 0 {
                    await updates.waitForChange(from: seen, seconds: Double(wait))
                    found = try await work.run(find)
                }
                return respond(.ok, UpdateBatch(publications: found))
            } catch {
                return refuse(503, "Head office could not read the publications: \(error)")
            }
        }
        api.post("updates/ack") { request, context -> Response in
            let till = try context.requireTill()
            guard let body = try? await self.body(request, upTo: 4096) else {
                return refuse(413, "An acknowledgement is at most 4096 bytes: {\"version\": N, \"effectiveAt\": T}")
            }
            // JSONDecoder takes 0.0 for 0: a whole number written as a fraction is refused too.
            guard body.readableBytesView.withUnsafeBytes({ FastIngestDecoder.numberProblem($0, integerFields: ["version", "effectiveAt"]) }) == nil,
                  let ack = try? JSONDecoder().decode(UpdateAck.self, from: Data(body.readableBytesView)), DocumentBounds.version.contains(ack.version),
                  (0...DocumentBounds.epochMillis.upperBound).contains(ack.effectiveAt ?? 0) else {
                return refuse(400, "The body must be {\"version\": N, \"effectiveAt\": T}: the last publication the till has applied and when it came into force")
            }
            do {
                try await work.run({ [store] in try store.acknowledge(till, version: ack.version, effectiveAt: ack.effectiveAt) })
                return respond(.ok, ["version": ack.version])
            } catch let e as PublicationError {
                return refuse(422, "The acknowledgement names \(e.description)")
            } catch {
                return refuse(503, "Head office could not record the version: \(error)")
            }
        }
        api.get("staff") { request, context -> Response in
            let till = try context.requireTill()
            do {
                let list = try await work.run({ [store] in try store.staff(store: till.storeID) })
                return respond(.ok, list)
            } catch {
                return refuse(503, "Head office could not read the staff list: \(error)")
            }
        }
        api.get("cards/{number}") { request, context -> Response in
            guard let number = context.parameters.get("number"), (8...19).contains(number.count), number.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                return refuse(400, "A card number is 8 to 19 digits")
            }
            let pending = request.uri.queryParameters["pending"].map { $0.split(separator: ",").map(String.init) } ?? []
            do {
                guard let status = try await work.run({ [store] in try store.cardStatus(number, pending: pending) }) else {
                    return refuse(404, "Head office does not know this card")
                }
                return respond(.ok, status)
            } catch {
                return refuse(503, "Head office could not read the card: \(error)")
            }
        }
        api.get("cards/{number}/history") { request, context -> Response in
            _ = try context.requireTill()
            guard let number = context.parameters.get("number"), (8...19).contains(number.count), number.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                return refuse(400, "A card number is 8 to 19 digits")
            }
            guard let limit = request.uri.queryParameters["limit"].map({ Int(String($0)) }) ?? 10, (1...50).contains(limit) else {
                return refuse(400, "limit must be 1 to 50 purchases")
            }
            do {
                guard let history = try await work.run({ [store] in try store.cardHistory(number, limit: limit) }) else {
                    return refuse(404, "Head office does not know this card as a member's")
                }
                return respond(.ok, history)
            } catch {
                return refuse(503, "Head office could not read the card's history: \(error)")
            }
        }
        addChannelAPI(router)
        addMemberPages(router)
        addBackOffice(router)
        return router
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            var out = ""
            for k in keys {
                if let i = k.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + k.stringValue }
            }
            return out.isEmpty ? "the body" : out
        }
        switch error {
        case .keyNotFound(let key, let c): return "\(path(c.codingPath + [key])) is missing"
        case .typeMismatch(let type, let c): return "\(path(c.codingPath)) has the wrong type (expected \(type))"
        case .valueNotFound(let type, let c): return "\(path(c.codingPath)) must be a \(type), not null"
        case .dataCorrupted(let c): return c.codingPath.isEmpty ? "not valid JSON" : "\(path(c.codingPath)): \(c.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    /// Serves until cancelled or until SIGTERM/SIGINT; `onReady` gets the port actually bound.
    /// On SIGTERM the long polls are answered at once, requests under way finish, and whatever
    /// is still open after 3 s (a stuck socket, a client that never reads) is cancelled and closed.
    /// (`headoffice serve` also ends the process 4.5 s after SIGTERM whatever is left: see
    /// `exitAfterSignal`.)
    public func run(onReady: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        Self.raiseDescriptorLimit()
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: try application(onReady: onReady)), .init(service: PublicationWatcher(store: store, updates: updates, work: work)),
                       .init(service: ReservationSweeper(store: store, work: work)),
                       .init(service: WebhookDispatcher(store: store, work: work, sending: mailing, logger: logger)),
                       .init(service: CashbackScheduler(store: store, work: work, logger: logger, mail: options.mail, mailing: mailing)),
                       .init(service: ReportRollup(store: store, work: work, logger: logger))]
                + [.init(service: CampaignService(store: store, mailing: campaigning, logger: logger,
                                                  mail: options.mail.flatMap { m in m.publicURL.map { (m, $0) } }))],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(3)   // then cancelled: open connections are closed
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch {
            await writeWaitingFraudAlerts()
            throw error
        }
        await writeWaitingFraudAlerts()
    }

    /// Alerts the rules raised whose write failed wait in memory for the next batch; the rules'
    /// memory is filled again at start without raising what it has seen. So at a stop they are
    /// written, or each one that cannot be is named in the log for the fraud team.
    func writeWaitingFraudAlerts() async {
        guard !store.pendingFraudAlerts.withLock({ $0.isEmpty }) else { return }
        do {
            let n = try await work.run { [store] in try store.writeWaitingFraudAlerts() }
            if n > 0 { logger.notice("fraud alerts that had waited for the database were written as head office stopped", metadata: ["alerts": "\(n)"]) }
        } catch {
            let lost = store.pendingFraudAlerts.withLock { $0 }
            logger.error("fraud alerts could not be written as head office stopped: look into each by hand (rule, subject and time of the first 100 below); a hold its rule calls for was not placed", metadata: [
                "error": "\(error)", "alerts": "\(lost.count)",
                "lost": "\(lost.prefix(100).map { "\($0.rule.id) \($0.subject) at \($0.at)" }.joined(separator: "; "))",
            ])
        }
    }

    private func application(onReady: @escaping @Sendable (Int) async -> Void) throws -> any Service {
        let configuration = ApplicationConfiguration(
            address: .hostname(options.host, port: options.port), serverName: "headoffice",
            availableConnectionsDelegate: MaximumAvailableConnections(options.maxConnections, logger: logger))
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .seconds(Int64(options.idleTimeoutSeconds))))
        let ready: @Sendable (any Channel) async -> Void = { channel in await onReady(channel.localAddress?.port ?? 0) }
        if let cert = options.tlsCertificate, let key = options.tlsKey {
            let chain = try NIOSSLCertificate.fromPEMFile(cert).map { NIOSSLCertificateSource.certificate($0) }
            let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            return Application(router: router(), server: try .tls(http1, tlsConfiguration: tls), configuration: configuration,
                               onServerRunning: ready, logger: logger)
        }
        return Application(router: router(), server: http1, configuration: configuration, onServerRunning: ready, logger: logger)
    }

    /// Ends the process `seconds` after SIGTERM or SIGINT, if it has not ended by then: a last
    /// resort for `headoffice serve` (every transaction is atomic: nothing committed is lost, and
    /// nothing half-done is kept).
    public static func exitAfterSignal(seconds: Double) -> [any DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { signal in
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler {
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                    FileHandle.standardError.write(Data("headoffice: still stopping \(seconds) s after the signal; exiting now\n".utf8))
                    exit(0)
                }
            }
            source.resume()
            return source
        }
    }

    /// Every connection is a descriptor: the soft limit (often 1,024) goes up to the hard one, so
    /// many idle clients cannot stop head office accepting the tills.
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
