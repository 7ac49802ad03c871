import Foundation
import HeadOffice
import Testing
import TillCore
import TillDemo
import TillDocuments
import TillProtocol
import TillStore
import TillSync
import TillTestSupport

@Suite("Publications: head office to the tills of a scope")
struct PublicationTests {
    func tripled() -> LoyaltyProgramme {
        var p = DemoCatalog.programme
        p.version = "2026-triple"
        p.earn.pointsPerUnit = 3
        return p
    }

    @Test(arguments: Backend.allCases)
    func aStoresTillHearsAtOnceAppliesAndSaysSoAnotherStoreDoesNot(backend: Backend) async throws {
        // Head office in a process of its own (`headoffice serve`), as in a store: its long polls'
        // wake-ups and timers run on its own threads. Served from inside this test process they
        // shared its concurrency pool, which a loaded full suite once kept from them for over
        // 45 s (a stress run: "did not answer in time"). This process publishes through a store
        // of its own on the same database, as `headoffice publish` or a second server would.
        let dir = TemporaryDirectory("ho-publish")
        let ho = try HeadOfficeProcess(backend, dir: dir)
        let read = { (file: String) in try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
        let token = try read(ho.register(store: "0001", till: "01"))
        let otherToken = try read(ho.register(store: "0002", till: "01"))
        try ho.start()
        defer { ho.kill() }
        let store = try HeadOfficeStore(database: backend == .sqlite ? try SQLiteDatabase(path: ho.database) : try PostgresDatabase(url: ho.database))
        let other = TillCredential(storeID: "0002", tillID: "01")
        let here = try TillSide()
        let there = try TillSide(till: other)
        let updates = UpdateService(link: HeadOfficeLink(url: ho.url, ca: nil, token: token), database: here.db)
        let elsewhere = UpdateService(link: HeadOfficeLink(url: ho.url, ca: nil, token: otherToken), database: there.db)

        // The till is already waiting (long poll) when the publication is made: it hears at once,
        // woken by the publication rather than by the end of its wait. (Times are taken on
        // threads of their own: the test's task may wait long for a turn on a loaded machine.)
        let heard = StartedOnThread { () -> (Int, Date) in (try updates.pollOnce(wait: 60), Date()) }
        // The poll is seen arriving, and the publication made, on a thread of their own as well:
        // on a loaded machine this test's task can wait tens of seconds for a turn, and the poll
        // (60 s, the longest head office allows) must still be waiting when the publication comes.
        let programme = tripled()
        let published = StartedOnThread { () -> (Publication, Date)? in
            let deadline = Date().addingTimeInterval(45)
            while try !store.rollout().contains(where: { $0.till == "0001/01" && $0.lastPoll != nil }) {
                guard Date() < deadline else { return nil }
                usleep(50_000)
            }
            usleep(300_000)
            let pub = try store.publish(.programme, scope: .store("0001"), by: "marketing", note: "Triple points", programme: programme)
            return (pub, Date())
        }
        guard let (pub, publishedAt) = try await published.value() else { Issue.record("the till never asked for updates"); return }
        let (count, answeredAt) = try await heard.value()
        #expect(count == 1)
        #expect(answeredAt.timeIntervalSince(publishedAt) < 10, "the long poll answered \(answeredAt.timeIntervalSince(publishedAt)) s after the publication")
        #expect(try await onThread { try elsewhere.pollOnce(wait: 0) } == 0)

        // Applied between sales, then acknowledged: the rollout page shows both tills.
        let applied = try here.db.applyPendingPublications(at: 1)
        #expect(applied.map(\.publication.version) == [pub.version])
        #expect(try here.db.programme()?.version == "2026-triple")
        try await onThread { try updates.ackOnce() }
        try await onThread { try elsewhere.ackOnce() }
        let rollout = try store.rollout()
        let mine = try #require(rollout.first { $0.till == "0001/01" })
        let theirs = try #require(rollout.first { $0.till == "0002/01" })
        #expect(mine.version == pub.version && mine.latest == pub.version && mine.pending == 0 && mine.lastPoll != nil)
        #expect(theirs.version == 0 && theirs.latest == 0 && theirs.pending == 0)
        #expect(try there.db.programme()?.version == DemoCatalog.programme.version)

        // Rollback: the previous programme comes back as a new version.
        _ = try store.publish(.programme, scope: .store("0001"), by: "marketing", note: "Quadruple", programme: {
            var p = tripled(); p.version = "2026-quad"; p.earn.pointsPerUnit = 4; return p }())
        let back = try store.rollback(.programme, scope: .store("0001"), by: "manager")
        #expect(back.note.hasPrefix("Rollback to version \(pub.version)"))
        #expect(try await onThread { try updates.pollOnce(wait: 0) } == 2)
        _ = try here.db.applyPendingPublications(at: 2)
        #expect(try here.db.programme()?.version == "2026-triple")
        #expect(try store.rollout().first { $0.till == "0001/01" }?.pending == 2)   // applied, not yet acknowledged
    }

    /// "Head office: last contact" moves on while the till only polls for updates (it stood still
    /// until the next sale was sent).
    @Test func aTillThatOnlyPollsStillShowsItsLastContact() async throws {
        let (dir, _, token, server) = try await ServerTests.serving(.sqlite)
        defer { Task { await server.stop() }; withExtendedLifetime(dir) {} }
        let here = try TillSide()
        let link = ServerTests.link(server, token)
        let forwarder = Forwarder(link: link, database: here.db, storeID: "0001", tillID: "01", now: { 1_795_000_000_000 })
        #expect(forwarder.snapshot.lastContact == nil)
        #expect(forwarder.snapshot.connection == .unknown)
        let updates = UpdateService(link: link, database: here.db, now: { 1_795_000_123_000 }, contacted: { forwarder.heardFromHeadOffice(at: $0) })
        _ = try await onThread { try updates.pollOnce(wait: 0) }
        #expect(forwarder.snapshot.lastContact == 1_795_000_123_000)
        #expect(forwarder.snapshot.connection == .online)
        // A poll that head office refuses is no contact.
        let refused = UpdateService(link: HeadOfficeLink(url: server.url, ca: nil, token: "0001.01.wrong"), database: here.db, now: { 1_795_000_999_000 },
                                    contacted: { forwarder.heardFromHeadOffice(at: $0) })
        #expect(throws: (any Error).self) { try refused.pollOnce(wait: 0) }
        #expect(forwarder.snapshot.lastContact == 1_795_000_123_000)
    }

    @Test(arguments: Backend.allCases)
    func aPublicationScheduledEarlierComesIntoForceAfterANewerOneAndIsNeitherSkippedNorHidden(backend: Backend) async throws {
        let (dir, store, token, server) = try await ServerTests.serving(backend)
        defer { Task { await server.stop() }; withExtendedLifetime(dir) {} }
        let here = try TillSide()
        let updates = UpdateService(link: ServerTests.link(server, token), database: here.db)
        // v1: a price for a moment from now; v2: settings for now.
        let soon = HeadOfficeStore.now() + 6_000   // room for a loaded machine to poll before it
        let scheduled = try store.publish(.prices, scope: .chain, by: "admin", note: "Later", effectiveAt: soon,
                                          prices: [PriceChange(sku: "F0001", unitPrice: 99)])
        let immediate = try store.publish(.settings, scope: .chain, by: "admin", note: "Now", settings: TerminalSettings(autoLockMinutes: 3))
        #expect(scheduled.version < immediate.version)
        #expect(try await onThread { try updates.pollOnce(wait: 0) } == 1)
        #expect(try here.db.applyPendingPublications(at: 1).map(\.publication.version) == [immediate.version])
        try await onThread { try updates.ackOnce() }
        let first = try #require(try store.rollout(at: soon - 1).first { $0.till == "0001/01" })
        #expect(first.pending == 0, "\(first) at \(HeadOfficeStore.now()), v1 in force at \(soon)")
        // v1 comes into force: it is pending on the rollout, delivered, applied, acknowledged.
        while HeadOfficeStore.now() <= soon { try await Task.sleep(nanoseconds: 50_000_000) }
        #expect(try store.rollout().first { $0.till == "0001/01" }?.pending == 1)
        #expect(try await onThread { try updates.pollOnce(wait: 0) } == 1)
        #expect(try here.db.applyPendingPublications(at: 2).map(\.publication.version) == [scheduled.version])
        #expect(try here.db.product(sku: "F0001")?.unitPrice == 99)
        try await onThread { try updates.ackOnce() }
        let row = try #require(try store.rollout().first { $0.till == "0001/01" })
        #expect(row.pending == 0)
        #expect(row.version == scheduled.version)
        #expect(try await onThread { try updates.pollOnce(wait: 0) } == 0)
        // A till of before the cursor asks by version alone: it gets what is newer, not everything.
        let old = try await request("GET", server.url + "/api/v1/updates?after=\(immediate.version)&wait=0", token: token.description)
        #expect(try JSONDecoder().decode(UpdateBatch.self, from: Data(old.body)).publications.isEmpty)
        // An acknowledgement of a version never published, or past every bound, is refused.
        for (body, status) in [(#"{"version":999}"#, 422), (#"{"version":9223372036854775807}"#, 400), (#"{"version":-1}"#, 400),
                              // a whole number written as a fraction (schemathesis found 0.0 taken)
                              (#"{"version":0,"effectiveAt":0.0}"#, 400), (#"{"version":1e0}"#, 400)] {
            let answer = try await request("POST", server.url + "/api/v1/updates/ack", token: token.description, body: Array(body.utf8))
            #expect(answer.status == status, "\(body): \(answer.text)")
        }
        let big = try await request("POST", server.url + "/api/v1/updates/ack", token: token.description, body: Array(repeating: 0x20, count: 5_000))
        #expect(big.status == 413)
        #expect(big.text.contains("at most 4096 bytes"))
        // A till scope written with an empty part is not a till.
        #expect(throws: PublicationError.self) {
            try store.publish(.settings, scope: PublicationScope(kind: .till, value: "0001//01"), by: "admin", note: "", settings: TerminalSettings())
        }
    }

    @Test(arguments: Backend.allCases)
    func aScheduledPublicationWaitsForItsTimeAndBadOnesAreRefused(backend: Backend) throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(backend, dir)
        _ = try store.registerTill(till1)
        let now: Int64 = 1_795_000_000_000
        _ = try store.publish(.prices, scope: .chain, by: "admin", note: "Sale starts", effectiveAt: now + 3_600_000,
                              prices: [PriceChange(sku: "F0001", unitPrice: 99)], at: now)
        #expect(try store.updates(for: till1, after: 0, at: now).isEmpty)
        #expect(try store.updates(for: till1, after: 0, at: now + 3_600_000).count == 1)
        #expect(throws: PublicationError("No till of store '0009' is registered: check the store id")) {
            try store.publish(.settings, scope: .store("0009"), by: "admin", note: "", settings: TerminalSettings())
        }
        var bad = DemoCatalog.programme
        bad.earn.pointsPerUnit = -2
        #expect(throws: PublicationError.self) { try store.publish(.programme, scope: .chain, by: "admin", note: "", programme: bad) }
        #expect(throws: PublicationError("Item x: a price cannot be negative")) {
            try store.publish(.prices, scope: .chain, by: "admin", note: "", prices: [PriceChange(sku: "x", unitPrice: -1)])
        }
        try store.setGroup("north", stores: ["0001"])
        _ = try store.publish(.settings, scope: PublicationScope(kind: .group, value: "north"), by: "admin", note: "", settings: TerminalSettings(autoLockMinutes: 2), at: now)
        #expect(try store.updates(for: till1, after: 0, at: now + 3_600_000).map(\.kind) == [.prices, .settings])
        #expect(try store.updates(for: TillCredential(storeID: "0002", tillID: "01"), after: 0, at: now + 3_600_000).map(\.kind) == [.prices])
    }
}

@Suite("Receipts in the back office")
struct BackOfficeReceiptTests {
    @Test(arguments: Backend.allCases)
    func anySaleHeadOfficeHasIsDrawnAsThePaperShowsIt(backend: Backend) throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(backend, dir)
        _ = try store.registerTill(till1)
        let t = try TillSide(seed: 4)
        let sales = try t.generator.ring(3)
        _ = try store.ingest(try t.batch(), from: till1)
        let sale = sales[1]
        let svg = try #require(try store.receiptSVG(sale.receiptNumber))
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.contains(sale.receiptNumber))
        #expect(svg.contains("TOTAL EUR"))
        for line in sale.basket.lines where !line.voided { #expect(svg.contains(line.item.description)) }
        #expect(try store.receiptSVG("0001-01-999999") == nil)
    }

    /// The back office's receipt has what the paper had: the store's name and address, and the
    /// header and footer lines published for its till and in force when the sale was made (it
    /// showed "Store 0001" and nothing else).
    @Test(arguments: Backend.allCases)
    func theReceiptHasTheStoresNameAddressHeaderAndFooterAsPrinted(backend: Backend) throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(backend, dir)
        _ = try store.registerTill(till1)
        let now = HeadOfficeStore.now()
        let t = try TillSide(seed: 5)
        let sales = try t.generator.ring(1)
        let saleTime = sales[0].completedAt
        try store.saveStore(HeadOfficeStore.StoreDetails(id: "0001", name: "Corner Market", address: ["12 Mill Lane", "Brookfield"]))
        try store.setGroup("north", stores: ["0001"])
        // In force before the sale: a chain footer, then the group's header. After it: another footer.
        _ = try store.publish(.settings, scope: .chain, by: "admin", note: "", effectiveAt: saleTime - 60_000,
                              settings: TerminalSettings(receiptFooter: ["Thank you, come again"]), at: saleTime - 120_000)
        _ = try store.publish(.settings, scope: PublicationScope(kind: .group, value: "north"), by: "admin", note: "", effectiveAt: saleTime - 30_000,
                              settings: TerminalSettings(receiptHeader: ["Open 7-22 every day"]), at: saleTime - 120_000)
        _ = try store.publish(.settings, scope: .chain, by: "admin", note: "", effectiveAt: max(now, saleTime + 60_000),
                              settings: TerminalSettings(receiptFooter: ["A later footer"]), at: max(now, saleTime + 60_000) - 1)
        _ = try store.ingest(try t.batch(), from: till1)
        let svg = try #require(try store.receiptSVG(sales[0].receiptNumber))
        for text in ["Corner Market", "12 Mill Lane", "Brookfield", "Open 7-22 every day", "Thank you, come again"] {
            #expect(svg.contains(text), "the receipt lacks '\(text)'")
        }
        #expect(!svg.contains("A later footer"), "a footer published after the sale was not on its paper")
        #expect(!svg.contains("Store 0001"))
    }

    /// A price override the till made is on head office's copy of the receipt too: the price it
    /// had and the reason (the document carries them; head office reads them on both databases).
    @Test(arguments: Backend.allCases)
    func aPriceOverrideIsOnHeadOfficesReceiptWithWhatItWas(backend: Backend) throws {
        let dir = TemporaryDirectory("ho")
        let store = try makeHeadOffice(backend, dir)
        _ = try store.registerTill(till1)
        let t = try TillSide()
        var open = OpenSale(id: SaleID.make(at: 1_795_000_000_000), startedAt: 1_795_000_000_000, cashier: DemoCatalog.cashier, currency: .eur)
        open = try open.trying(.addLine(item: LineItem(sku: "F0001", description: "Highlighter pen", category: "Stationery", taxCode: "A",
                                                       taxBasisPoints: 2000, unitPrice: 149, quantity: .one)))
        open = try open.trying(.overridePrice(number: 1, unitPrice: 100, reason: "Price match"))
        open = try open.trying(.addTender(tender: Tender(kind: .cash, amount: 100)))
        let doc = SaleDocument(try open.complete(sequence: 1, at: 1_795_000_060_000, till: t.identity, loyalty: nil), timeZone: .gmt)
        let r = try store.ingest(IngestBatch(storeID: "0001", tillID: "01", documents: [OutboxDocument(sale: doc)]), from: till1)
        #expect(r.results.map(\.status) == [.accepted])
        let svg = try #require(try store.receiptSVG(doc.receiptNumber))
        #expect(svg.contains("Price changed, was 1.49"))
        #expect(svg.contains("Price match"))
    }
}
