import Foundation
import GRDB
import Synchronization
import HeadOffice
import Testing
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillStore
import TillSync
import TillTestSupport

/// The HTTP API with real requests over loopback, on both databases.
@Suite("Head office over HTTP")
struct ServerTests {
    /// A link for the tests: card lookups wait long enough for a loaded CI machine (the 300 ms
    /// default is tested on its own below).
    static func link(_ server: RunningServer, _ token: TillToken, batchSize: Int = 200, ca: String? = nil) -> HeadOfficeLink {
        HeadOfficeLink(url: server.url, ca: ca, token: token.description, batchSize: batchSize, lookupTimeoutMilliseconds: 5_000)
    }

    /// Head office with the demo programme and cards, till 0001/01 registered, serving on loopback.
    static func serving(_ backend: Backend) async throws -> (TemporaryDirectory, HeadOfficeStore, TillToken, RunningServer) {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(backend, dir)
        let token = try store.registerTill(till1)
        return (dir, store, token, try await RunningServer(store))
    }

    @Test(arguments: Backend.allCases)
    func theForwarderDrainsTheOutboxAndTheAcksReachTheCardCache(backend: Backend) async throws {
        let (dir, store, token, server) = try await Self.serving(backend)
        defer { Task { await server.stop() }; withExtendedLifetime(dir) {} }
        let t = try TillSide()
        try t.generator.ring(25)
        let forwarder = Forwarder(link: Self.link(server, token, batchSize: 7), database: t.db, storeID: "0001", tillID: "01")
        let result = try await onThread { forwarder.drain() }
        #expect(result.accepted == 25 && result.stoppedBy == nil)
        #expect(try t.db.outboxSummary().pending == 0)
        #expect(forwarder.snapshot.connection == .online)
        try expectConsistent(store, [t])
        // Every card the sales touched now holds head office's confirmed balance.
        for (number, balance) in try expectedBalances([t.db]) {
            guard case .member(let c) = try? t.db.lookupCard(number, programme: DemoCatalog.programme, now: 1_795_000_000_000) else { continue }
            #expect(c.balance.count == balance, "card \(number)")
            #expect(!c.provisional, "card \(number)")
        }
        // More sales later go out the same way; nothing is sent twice.
        try t.generator.ring(5)
        let again = try await onThread { forwarder.drain() }
        #expect(again.accepted == 5 && again.duplicates == 0)
        try expectConsistent(store, [t])
        let idle = try await onThread { forwarder.drain() }
        #expect(idle.sent == 0)
    }

    @Test(arguments: Backend.allCases)
    func duplicatedAndReorderedDeliveriesOverHTTPComeOutTheSame(backend: Backend) async throws {
        let (dir, store, token, server) = try await Self.serving(backend)
        defer { Task { await server.stop() }; withExtendedLifetime(dir) {} }
        let t = try TillSide(seed: 17)
        try t.generator.ring(40)
        let all = try t.batch().documents
        var rng = SplitMix64(seed: 5)
        // Every document at least twice, in random order and random chunks, over the wire.
        var deliveries = all + all + Array(all.suffix(7))
        deliveries.shuffle(using: &rng)
        var i = 0, duplicates = 0
        while i < deliveries.count {
            let n = 1 + Int(rng.next() % 9)
            let chunk = Array(deliveries[i..<min(deliveries.count, i + n)])
            let body = try JSONEncoder().encode(IngestBatch(storeID: "0001", tillID: "01", documents: chunk))
            let answer = try await request("POST", server.url + "/api/v1/ingest", token: token.description, body: Array(body))
            #expect(answer.status == 200, "\(answer.text)")
            let response = try JSONDecoder().decode(IngestResponse.self, from: Data(answer.body))
            duplicates += response.results.filter { $0.status == .duplicate }.count
            i += n
        }
        #expect(duplicates == deliveries.count - all.count)
        try expectConsistent(store, [t])
        #expect(try store.gaps(of: till1).isEmpty)
    }

    @Test func drawingTheLargestReceiptsNeverHoldsUpHealthOrIngest() async throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(.sqlite, dir)
        let token = try store.registerTill(till1)
        try store.saveUser("ada", role: .admin, storeID: nil, password: "ada-secret-123")
        let (session, _) = try store.signIn("ada", password: "ada-secret-123")
        let server = try await RunningServer(store, options: ServerOptions(port: 0))
        defer { Task { await server.stop() } }
        // The largest sale the gate lets through: 1,000 lines of 200-character descriptions.
        let t = try TillSide()
        try t.generator.ring(1)
        var docs = try t.batch().documents
        let long = String(String(repeating: "Long description ", count: 12).prefix(200))
        var open = OpenSale(id: UUID().uuidString.lowercased(), startedAt: 1_795_000_000_000, cashier: DemoCatalog.cashier, currency: .eur)
        for _ in 0..<1_000 {
            open = try open.trying(.addLine(item: LineItem(sku: "F0013", description: long, category: "Test", taxCode: "A", taxBasisPoints: 2000,
                                                           unitPrice: 199, quantity: .units(1))))
        }
        open = try open.trying(.addTender(tender: Tender(kind: .cash, amount: open.basket.totals.total)))
        let big = SaleDocument(try open.complete(sequence: 2, at: 1_795_000_060_000, till: t.identity, loyalty: nil), timeZone: .gmt)
        docs.append(OutboxDocument(sale: big))
        docs.swapAt(0, 1)
        let ingested = try await request("POST", server.url + "/api/v1/ingest", token: token.description,
                                         body: Array(try JSONEncoder().encode(IngestBatch(storeID: "0001", tillID: "01", documents: [docs[0]]))))
        #expect(ingested.status == 200, "\(ingested.text.prefix(300))")
        // 24 views of its receipt at once; /health and a till's batch meanwhile.
        // /health and a till's batch are answered while the receipts are still being drawn, not
        // after them (on a loaded machine the absolute times say little; the order says it all).
        let receipt = big.receiptNumber
        let drawn = Counter()
        async let views: [Int] = withTaskGroup(of: Int.self) { group in
            for _ in 0..<24 {
                group.addTask {
                    // Counted on the client's own thread the moment the answer arrives: a busy
                    // concurrency pool in the test process cannot delay the count.
                    (try? await onThread {
                        defer { drawn.add() }
                        return try HTTPConnection().send("GET", server.url + "/receipts/svg?number=\(receipt)", headers: ["Cookie: bo_session=\(session)"],
                                                         timeoutMilliseconds: 300_000).status
                    }) ?? 0
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let health = try await answeredWhile(server.url + "/health", started: { drawn.value > 0 }, count: { drawn.value })
        #expect(health.status == 200)
        #expect(health.countThen < 20, "/health waited for the receipts (\(health.countThen) of 24 drawn)")
        let batch = try await request("POST", server.url + "/api/v1/ingest", token: token.description,
                                      body: Array(try JSONEncoder().encode(IngestBatch(storeID: "0001", tillID: "01", documents: [docs[1]]))))
        #expect(batch.status == 200)
        #expect(await views == Array(repeating: 200, count: 24))
    }

    @Test func aStormOfSignInsNeverHoldsUpTheTills() async throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(.sqlite, dir)
        try store.saveUser("ada", role: .admin, storeID: nil, password: "ada-secret-123")
        let server = try await RunningServer(store, options: ServerOptions(port: 0))
        defer { Task { await server.stop() } }
        let page = try await request("GET", server.url + "/login").text
        let nonce = try #require(page.components(separatedBy: "name=\"login_csrf\" value=\"").dropFirst().first?.split(separator: "\"").first.map(String.init))
        // 120 wrong passwords at once (each a slow PBKDF2 check, one at a time: seconds of work) for
        // several accounts. /health and a
        // till's card lookup are answered while the sign-ins are still being checked, not after
        // them (on a loaded machine the absolute times say little; the order says it all).
        let done = Counter()
        async let storm: [Int] = withTaskGroup(of: Int.self) { group in
            for i in 0..<120 {
                group.addTask {
                    (try? await onThread {
                        defer { done.add() }
                        return try HTTPConnection().send("POST", server.url + "/login",
                                                         headers: ["Cookie: bo_login=\(nonce)", "Content-Type: application/x-www-form-urlencoded"],
                                                         body: Array("login_csrf=\(nonce)&username=user\(i % 6)&password=wrong-password".utf8),
                                                         timeoutMilliseconds: 300_000).status
                    }) ?? 0
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let health = try await answeredWhile(server.url + "/health", started: { done.value > 0 }, count: { done.value })
        #expect(health.status == 200)
        #expect(health.countThen < 100, "/health waited for the sign-ins (\(health.countThen) done)")
        #expect(await storm == Array(repeating: 401, count: 120))
    }

    @Test func anUploadOverEightMegabytesIsRefusedWithAPageThatSaysSo() async throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(.sqlite, dir)
        try store.saveUser("anna", role: .marketing, storeID: nil, password: "anna-secret-1")
        let (session, _) = try store.signIn("anna", password: "anna-secret-1")
        let server = try await RunningServer(store, options: ServerOptions(port: 0))
        defer { Task { await server.stop() } }
        let body = Array("csrf=x&file=".utf8) + Array(repeating: UInt8(ascii: "a"), count: 9 << 20)
        let answer = try await onThread {
            try HTTPConnection().send("POST", server.url + "/catalog/upload",
                                      headers: ["Cookie: bo_session=\(session)", "Content-Type: application/x-www-form-urlencoded"], body: body,
                                      timeoutMilliseconds: 60_000)
        }
        #expect(answer.status == 413)
        #expect(answer.text.contains("larger than 8 MB"), "\(answer.text.prefix(300))")
        #expect(try store.publications().isEmpty)   // nothing published
    }

    @Test func healthSaysUnavailableWhenNothingCanBeWritten() async throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(.sqlite, dir)
        let server = try await RunningServer(store, options: ServerOptions(port: 0))
        defer { Task { await server.stop() } }
        #expect(try await request("GET", server.url + "/health").status == 200)
        // Every write now fails, as on a full disk: reads still work, /health must not say ok.
        try store.database.write { c in
            try c.execute("CREATE TRIGGER no_room_insert BEFORE INSERT ON health_probe BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END", [])
            try c.execute("CREATE TRIGGER no_room_update BEFORE UPDATE ON health_probe BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END", [])
        }
        let health = try await request("GET", server.url + "/health")
        #expect(health.status == 503)
        #expect(health.text.contains("cannot write to its database"), "\(health.text)")
        #expect(health.text.contains("disk is full"))
    }

    @Test func hostileBodiesAreRefusedNamingTheFieldAndTheServerKeepsServing() async throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(.sqlite, dir)
        let token = try store.registerTill(till1)
        let server = try await RunningServer(store, options: ServerOptions(port: 0))
        defer { Task { await server.stop() } }
        let ingest = server.url + "/api/v1/ingest"
        let t = try TillSide()
        try t.generator.ring(2)
        let text = String(decoding: Forwarder.batchBody(try t.db.pendingOutbox(limit: 10), storeID: "0001", tillID: "01"), as: UTF8.self)
        func answer(_ body: String) async throws -> (Int, String) {
            let a = try await request("POST", ingest, token: token.description, body: Array(body.utf8))
            return (a.status, (try? JSONDecoder().decode(APIError.self, from: Data(a.body)))?.error ?? a.text)
        }
        // An unknown key nested 200,000 deep (it overflowed the reader's stack).
        let deep = text.replacingOccurrences(of: "\"tillID\":", with: "\"x\":" + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + ",\"tillID\":")
        let (deepStatus, deepMessage) = try await answer(deep)
        #expect(deepStatus == 400)
        #expect(deepMessage.contains("nests objects or arrays 2000"), "\(deepMessage)")
        // Numbers JSON allows but a field does not: the field is named.
        for bad in ["1000.5", "9223372036854775808"] {
            let (status, message) = try await answer(text.replacingOccurrences(of: "\"quantityMilli\":1000", with: "\"quantityMilli\":" + bad))
            #expect(status == 400)
            #expect(message.contains("quantityMilli \(bad) is not a whole number"), "\(bad): \(message)")
        }
        // A sequence at Int64.max is refused before it reaches the gap report.
        let (seqStatus, seqMessage) = try await answer(text.replacingOccurrences(of: "\"sequence\":1,", with: "\"sequence\":9223372036854775807,"))
        #expect(seqStatus == 422)
        #expect(seqMessage.contains("sequence 9223372036854775807 is out of bounds"), "\(seqMessage)")
        #expect(try store.saleCount() == 0)
        let health = try await request("GET", server.url + "/health")
        #expect(health.status == 200)
        let (okStatus, _) = try await answer(text)
        #expect(okStatus == 200)
        #expect(try store.gaps(of: till1).isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func badRequestsGetAClearFourHundredAndNothingIsStored(backend: Backend) async throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(backend, dir)
        let token = try store.registerTill(till1)
        let other = try store.registerTill(till2)
        let revokedTill = TillCredential(storeID: "0002", tillID: "01")
        let revoked = try store.registerTill(revokedTill)
        try store.revokeTill(revokedTill)
        let server = try await RunningServer(store, options: ServerOptions(port: 0, maxBodyBytes: 64 << 10))
        defer { Task { await server.stop() } }
        let ingest = server.url + "/api/v1/ingest"
        let t = try TillSide()
        try t.generator.ring(3)
        let good = Forwarder.batchBody(try t.db.pendingOutbox(limit: 10), storeID: "0001", tillID: "01")
        let text = String(decoding: good, as: UTF8.self)

        func refused(_ status: Int, _ answer: HTTPAnswer, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(answer.status == status, "\(answer.text)", sourceLocation: sourceLocation)
            let error = try? JSONDecoder().decode(APIError.self, from: Data(answer.body))
            #expect(error?.error.contains(message) == true, "\(answer.text)", sourceLocation: sourceLocation)
        }
        refused(401, try await request("POST", ingest, body: good), "No credential")
        refused(401, try await request("POST", ingest, token: "0001.01.0000000000", body: good), "0001/01")
        refused(401, try await request("POST", ingest, token: revoked.description, body: good), "revoked")
        refused(403, try await request("POST", ingest, token: other.description, body: good), "0001/02")
        refused(400, try await request("POST", ingest, token: token.description, body: Array("{\"storeID\": \"0001\", ".utf8)), "not valid JSON")
        let wrongType = text.replacingOccurrences(of: "\"quantityMilli\":", with: "\"quantityMilli\":\"x\",\"was\":")
        refused(400, try await request("POST", ingest, token: token.description, body: Array(wrongType.utf8)), "quantityMilli has the wrong type")
        let missing = text.replacingOccurrences(of: "\"tillID\":\"01\",", with: "")
        refused(400, try await request("POST", ingest, token: token.description, body: Array(missing.utf8)), "tillID is missing")
        let negative = text.replacingOccurrences(of: "\"quantityMilli\":1000", with: "\"quantityMilli\":-1000")
        #expect(negative != text)
        refused(422, try await request("POST", ingest, token: token.description, body: Array(negative.utf8)), "must be positive")
        let huge = Array(text.utf8) + Array(repeating: UInt8(ascii: " "), count: 70 << 10)
        refused(413, try await request("POST", ingest, token: token.description, body: huge), "larger than 65536 bytes")
        refused(400, try await request("GET", server.url + "/api/v1/cards/12ab';--", token: token.description), "8 to 19 digits")
        #expect(try store.saleCount() == 0)

        // SQL meta-characters in text fields are data, stored as they came.
        let sneaky = "Robert'); DROP TABLE sales;--"
        var docs = try t.batch().documents
        var sale = try #require(docs[0].sale)
        sale.lines[0].description = sneaky
        sale.cashier.name = "\"; DELETE FROM ledger; --"
        docs[0] = OutboxDocument(sale: sale)
        let body = try JSONEncoder().encode(IngestBatch(storeID: "0001", tillID: "01", documents: docs))
        let accepted = try await request("POST", ingest, token: token.description, body: Array(body))
        #expect(accepted.status == 200, "\(accepted.text)")
        let held = try store.sales(of: till1)
        #expect(held.count == 3)
        #expect(held.first { $0.saleID == sale.saleID }?.lines[0].description == sneaky)
        #expect(try store.ledgerMismatches().isEmpty)

        // The server kept serving throughout, and counted what it refused.
        let health = try await request("GET", server.url + "/health")
        #expect(health.status == 200 && health.text.contains("\"sales\":\"3\""))
        let metrics = try await request("GET", server.url + "/metrics")
        #expect(metrics.text.contains("headoffice_requests_refused_total{status=\"401\"} 3"))
        #expect(metrics.text.contains("headoffice_requests_refused_total{status=\"400\"} 4"))
        #expect(metrics.text.contains("headoffice_documents_total{result=\"accepted\"} 3"))
    }

    @Test(arguments: Backend.allCases)
    func aRevokedTillKnowsItAndKeepsItsSales(backend: Backend) async throws {
        let (dir, store, token, server) = try await Self.serving(backend)
        defer { Task { await server.stop() }; withExtendedLifetime(dir) {} }
        let t = try TillSide()
        try t.generator.ring(4)
        try store.revokeTill(till1)
        let forwarder = Forwarder(link: Self.link(server, token), database: t.db, storeID: "0001", tillID: "01")
        let result = try await onThread { forwarder.drain() }
        #expect(result.sent == 0)
        #expect(forwarder.snapshot.connection == .revoked)
        #expect(forwarder.snapshot.lastError?.contains("revoked") == true)
        #expect(try t.db.outboxSummary().pending == 4)
        #expect(try store.saleCount() == 0)
    }

    /// Issue 13, defect 11: a document head office refuses, which the till then cannot mark
    /// rejected (a full disk), stops the round; unmarked it used to be sent again at once, for ever.
    @Test func aRefusalTheTillCannotRecordStopsTheRoundInsteadOfResendingForEver() async throws {
        let (dir, _, token, server) = try await Self.serving(.sqlite)
        defer { Task { await server.stop() }; withExtendedLifetime(dir) {} }
        let t = try TillSide()
        _ = try t.generator.ring(3)
        let raw = try DatabaseQueue(path: t.dir.file("till.sqlite"))
        try await raw.write { d in
            // The first sale in another currency than the chain's: head office refuses it (422).
            try d.execute(sql: """
                UPDATE outbox SET payload = replace(payload, '"currency":"EUR"', '"currency":"GBP"') WHERE id = (SELECT MIN(id) FROM outbox)
                """)
            try d.execute(sql: """
                CREATE TRIGGER refuse_rejected BEFORE UPDATE ON outbox WHEN NEW.state = 'rejected'
                BEGIN SELECT RAISE(ABORT, 'the disk is full'); END
                """)
        }
        let forwarder = Forwarder(link: Self.link(server, token, batchSize: 1), database: t.db, storeID: "0001", tillID: "01")
        let result = try await onThread { forwarder.drain(maxBatches: 50) }
        #expect(result.stoppedBy?.contains("the till could not record that") == true, "\(result)")
        #expect(result.sent == 0 && result.rejected == 0)
        #expect(forwarder.snapshot.lastError?.contains("GBP") == true, "\(forwarder.snapshot.lastError ?? "no error shown")")
        #expect(try t.db.outboxSummary().pending == 3, "nothing is lost: the refused sale waits, marked when the disk allows")
    }

    @Test(arguments: Backend.allCases)
    func aRejectedSaleStaysOnTheTillForTheManagerAndTheRestGoThrough(backend: Backend) async throws {
        let (dir, store, token, server) = try await Self.serving(backend)
        defer { Task { await server.stop() }; withExtendedLifetime(dir) {} }
        // Another till database that claims to be till 0001/01 took sequence 1 first.
        let impostor = try TillSide(seed: 9)
        try impostor.generator.ring(1)
        _ = try store.ingest(try impostor.batch(), from: till1)
        let t = try TillSide()
        try t.generator.ring(6)
        let forwarder = Forwarder(link: Self.link(server, token, batchSize: 4), database: t.db, storeID: "0001", tillID: "01")
        let result = try await onThread { forwarder.drain() }
        #expect(result.rejected == 1 && result.accepted == 5)
        let rejected = try t.db.rejectedDocuments()
        #expect(rejected.count == 1)
        #expect(rejected.first?.sequence == 1)
        #expect(rejected.first?.reason.contains("sequence 1") == true)
        #expect(forwarder.snapshot.rejectedNow == 1)
        #expect(try t.db.outboxSummary().rejected == 1)
        #expect(try store.rejects().count == 1)
    }

    @Test func theTillTrustsOnlyTheCertificateAuthorityItIsGiven() async throws {
        let dir = TemporaryDirectory("ho-tls")
        let ours = try TestCertificates(in: dir, name: "ours")
        let theirs = try TestCertificates(in: dir, name: "theirs")
        let store = try makeHeadOffice(.sqlite, dir)
        let token = try store.registerTill(till1)
        let server = try await RunningServer(store, options: ServerOptions(port: 0, tlsCertificate: ours.certificate, tlsKey: ours.key))
        defer { Task { await server.stop() } }
        #expect(server.url.hasPrefix("https://"))
        let health = try await request("GET", server.url + "/health", ca: ours.ca)
        #expect(health.status == 200)
        await #expect {
            _ = try await request("GET", server.url + "/health", ca: theirs.ca)
        } throws: { error in
            (error as? HTTPFailure)?.kind == .certificate && "\(error)".contains("not trusted")
        }
        // The forwarder over TLS: drains with the right CA, refuses with the wrong one.
        let t = try TillSide()
        try t.generator.ring(3)
        let wrong = Forwarder(link: Self.link(server, token, ca: theirs.ca), database: t.db, storeID: "0001", tillID: "01")
        let refused = try await onThread { wrong.drain() }
        #expect(refused.sent == 0 && refused.stoppedBy?.contains("not trusted") == true)
        #expect(try store.saleCount() == 0)
        let right = Forwarder(link: Self.link(server, token, ca: ours.ca), database: t.db, storeID: "0001", tillID: "01")
        let drained = try await onThread { right.drain() }
        #expect(drained.accepted == 3)
        try expectConsistent(store, [t])
    }

    @Test(arguments: Backend.allCases)
    func aCardScanTakesHeadOfficesBalanceWithoutCountingUnsentSalesTwice(backend: Backend) async throws {
        let (dir, store, token, server) = try await Self.serving(backend)
        defer { Task { await server.stop() }; withExtendedLifetime(dir) {} }
        // Till 2 sold to card 1 and head office has it; till 1 has not heard of it.
        let elsewhere = try TillSide(till: till2, seed: 5)
        _ = try store.registerTill(till2)
        elsewhere.generator = SaleGenerator(database: elsewhere.db, till: elsewhere.identity, cards: 1, seed: 5)
        try elsewhere.generator.ring(10)
        _ = try store.ingest(try elsewhere.batch(), from: till2)
        let card = DemoCatalog.cardNumber(1)
        let atHeadOffice = try #require(try store.balance(of: card))
        let t = try TillSide(seed: 11)
        t.generator = SaleGenerator(database: t.db, till: t.identity, cards: 1, seed: 11)
        let programme = DemoCatalog.programme
        let now: Int64 = 1_795_000_000_000
        guard case .member(let before) = try t.db.lookupCard(card, programme: programme, now: now) else { Issue.record("card 1 is a member"); return }
        #expect(before.balance.count != atHeadOffice)

        let forwarder = Forwarder(link: Self.link(server, token), database: t.db, storeID: "0001", tillID: "01")
        let online = OnlineLoyaltyDirectory(database: t.db, link: Self.link(server, token), forwarder: forwarder)
        /// A scan: the cache answers at once, head office's answer is taken in the background.
        @Sendable func scan() throws -> CardLookup {
            _ = try online.lookupCard(card, programme: programme, now: now)
            struct NeverAsked: Error {}
            guard online.settle(timeoutMilliseconds: 60_000) else { throw NeverAsked() }
            return try online.cachedCard(card, programme: programme, now: now)
        }
        let first = try await onThread { try online.lookupCard(card, programme: programme, now: now) }
        #expect(first == .member(before))
        #expect(try await onThread { online.settle(timeoutMilliseconds: 60_000) })
        #expect(online.refreshedCards() == [card])
        #expect(online.refreshedCards() == [])
        guard case .member(let fresh) = try online.cachedCard(card, programme: programme, now: now) else { Issue.record("card 1 is a member"); return }
        #expect(fresh.balance.count == atHeadOffice)
        #expect(!fresh.provisional)
        #expect(online.answered == 1)

        // A sale here, not yet sent: the till adds its points once, head office does not know them.
        try t.generator.ring(12)
        let local = try t.db.saleDocuments().filter { $0.loyalty?.cardNumber == card }
        #expect(!local.isEmpty)
        let localDelta = local.reduce(Int64(0)) { s, d in
            let l = d.loyalty!
            return s + l.earned.reduce(0) { $0 + $1.points } + l.welcome.reduce(0) { $0 + $1.points } - l.redeemed
        }
        guard case .member(let pending) = try await onThread({ try scan() }) else { return }
        #expect(pending.balance.count == atHeadOffice + localDelta)
        // Half of them reach head office by another path (the acks were lost): still counted once.
        let some = Array(try t.batch().documents.prefix(6))
        _ = try store.ingest(IngestBatch(storeID: "0001", tillID: "01", documents: some), from: till1)
        guard case .member(let half) = try await onThread({ try scan() }) else { return }
        #expect(half.balance.count == atHeadOffice + localDelta)
        // All sent and acknowledged: the same balance, now confirmed.
        _ = try await onThread { forwarder.drain() }
        guard case .member(let after) = try await onThread({ try scan() }) else { return }
        #expect(after.balance.count == atHeadOffice + localDelta)
        #expect(after.balance.count == (try store.balance(of: card)))
        #expect(!after.provisional)
    }

    @Test func aCardScanDoesNotWaitForAHeadOfficeThatDoesNotAnswer() async throws {
        // A listener that accepts connections and never answers.
        let silent = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(silent) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(silent, $0, len) } }
        listen(silent, 8)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(silent, $0, &len) } }
        let port = Int(UInt16(bigEndian: addr.sin_port))

        let t = try TillSide()
        let link = HeadOfficeLink(url: "http://127.0.0.1:\(port)", ca: nil, token: "0001.01.x", lookupTimeoutMilliseconds: 2_000)
        let online = OnlineLoyaltyDirectory(database: t.db, link: link, forwarder: nil)
        let card = DemoCatalog.cardNumber(1)
        let cached = try t.db.lookupCard(card, programme: DemoCatalog.programme, now: 1_795_000_000_000)
        let clock = ContinuousClock()
        let start = clock.now
        let looked = try online.lookupCard(card, programme: DemoCatalog.programme, now: 1_795_000_000_000)
        let waited = clock.now - start
        #expect(looked == cached)
        // The scan was answered from the cache without waiting for head office (2 s here).
        #expect(waited < .seconds(1), "\(waited)")
        // Head office was asked in the background, and given up on at its timeout, not at some
        // network default.
        let asking = clock.now
        #expect(online.settle(timeoutMilliseconds: 30_000))
        #expect(clock.now - asking < .seconds(10))
        #expect(online.answered == 0)
        #expect(online.refreshedCards() == [])
    }
}

/// A count shared by tasks.
/// GET `url` once `started()` holds, and `count()` the moment its answer arrives: all on one
/// thread of its own, so the order seen is the server's, not the test process's concurrency pool's
/// (a full suite run can keep a test's task from running for many seconds; counting there once
/// made a server that answered /health at once look as if it had answered after the storm).
func answeredWhile(_ url: String, started: @escaping @Sendable () -> Bool, count: @escaping @Sendable () -> Int) async throws -> (status: Int, countThen: Int) {
    try await onThread {
        while !started() { usleep(5_000) }
        let status = try HTTPConnection().send("GET", url, headers: [], timeoutMilliseconds: 300_000).status
        return (status, count())
    }
}

final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
