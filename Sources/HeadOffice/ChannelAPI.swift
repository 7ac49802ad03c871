import Foundation
import HTTPTypes
import Logging
import Hummingbird
import NIOCore
import ServiceLifecycle
import TillProtocol

/// Points outside the store (docs/headoffice-api.yaml, "channel"): a web shop, an app or a
/// partner's system with its own key (`headoffice channel add`). Every answer carries the card as
/// it is now; reserve and refund need an `Idempotency-Key` (a retry gets the first answer).
extension HeadOfficeServer {
    /// A channel request's JSON body: at most 64 KB.
    static let channelBodyLimit = 64 << 10
    /// A batch of partner transactions: at most 256 KB.
    static let partnerBodyLimit = 256 << 10
    /// A partner's daily file: at most 64 MB.
    static let partnerFileLimit = 64 << 20

    func addChannelAPI(_ router: Router<HeadOfficeContext>) {
        let channel = router.group("/api/v1/channel")
        channel.get("cards/{number}") { request, context -> Response in
            await channelCall(request) { ch, _ in
                guard ch.scopes.contains(.read) else { throw ChannelRefusal(403, "Channel \(ch.name) may not read cards (its key lacks the read scope)") }
                let number = try Self.cardParameter(context.parameters.get("number"))
                return try await work.run { [store] in try store.channelCard(number) }
            }
        }
        channel.post("earn") { request, _ -> Response in
            await channelCall(request) { ch, body in
                let r = try Self.decode(EarnRequest.self, body)
                _ = try Self.cardParameter(r.cardNumber)
                return try await work.run { [store] in try store.channelEarn(r, channel: ch) }
            }
        }
        // Custom events (a review posted, the app installed…), signed with the channel's key.
        channel.post("events") { request, _ -> Response in
            await channelCall(request) { ch, body in
                try HeadOfficeStore.checkEventSignature(request.headers[HTTPField.Name("Channel-Signature")!], body: body.readableBytesView, channel: ch,
                                                        at: HeadOfficeStore.now())
                let r = try Self.decode(EventsRequest.self, body)
                return try await work.run { [store] in try store.channelEvents(r, channel: ch) }
            }
        }
        // A member who joined through the channel gives the code of the friend who invited them.
        channel.post("referrals") { request, _ -> Response in
            await channelCall(request) { ch, body in
                let r = try Self.decode(ReferralRequest.self, body)
                _ = try Self.cardParameter(r.cardNumber)
                return try await work.run { [store] in try store.channelReferral(r, channel: ch) }
            }
        }
        // A partner's feed: transactions one by one (JSON), or its daily file all or nothing (CSV).
        channel.post("transactions") { request, _ -> Response in
            await channelCall(request, limit: Self.partnerBodyLimit) { ch, body in
                let r = try Self.decode(PartnerTransactionsRequest.self, body)
                return try await work.run { [store] in try store.partnerTransactions(r, channel: ch) }
            }
        }
        channel.post("transactions/file") { request, _ -> Response in
            await channelCall(request, limit: Self.partnerFileLimit) { ch, body in
                guard ch.scopes.contains(.earn) else { throw ChannelRefusal(403, "Channel \(ch.name) may not award points (its key lacks the earn scope)") }
                guard let text = String(validating: body.readableBytesView, as: UTF8.self) else {
                    throw ChannelRefusal(400, "The file is not UTF-8 text")
                }
                return try await work.run { [store] in
                    do { return try store.applyPartnerFile(text, partner: ch.name) } catch let e as PartnerFileRefusal {
                        throw ChannelRefusal(422, e.description)
                    }
                }
            }
        }
        channel.post("reservations") { request, _ -> Response in
            await channelCall(request) { ch, body in
                let key = try Self.idempotencyKey(request, required: true)
                let r = try Self.decode(ReserveRequest.self, body)
                _ = try Self.cardParameter(r.cardNumber)
                return try await work.run { [store] in try store.reserve(r, channel: ch, idempotencyKey: key) }
            }
        }
        for action in ["capture", "cancel"] {
            channel.post("reservations/{id}/\(action)") { request, context -> Response in
                await channelCall(request) { ch, _ in
                    let key = try Self.idempotencyKey(request, required: false)
                    let id = try Self.reservationParameter(context.parameters.get("id"))
                    return try await work.run { [store] in try store.settleReservation(id, action: action, channel: ch, idempotencyKey: key) }
                }
            }
        }
        channel.post("reservations/{id}/refund") { request, context -> Response in
            await channelCall(request) { ch, body in
                let key = try Self.idempotencyKey(request, required: true)
                let id = try Self.reservationParameter(context.parameters.get("id"))
                let r = try Self.decode(RefundRequest.self, body)
                return try await work.run { [store] in try store.refundReservation(id, points: r.points, channel: ch, idempotencyKey: key) }
            }
        }
    }

    /// Authenticates the channel, reads the body (64 KB, within the body timeout) and answers
    /// `body`'s value as JSON, or its refusal with the status and a sentence.
    func channelCall<T: Encodable>(_ request: Request, limit: Int = HeadOfficeServer.channelBodyLimit,
                                   _ handle: (SalesChannel, ByteBuffer) async throws -> T) async -> Response {
        do {
            let header = request.headers[.authorization]
            let ch = try await work.run { [store] in try store.authenticateChannel(header) }
            let body: ByteBuffer
            do { body = try await self.body(request, upTo: limit) } catch BodyProblem.tooLarge {
                return refuse(413, "The request is larger than \(limit) bytes")
            } catch {
                return refuse(408, "The request did not arrive within \(options.bodyTimeoutSeconds) s: send it again")
            }
            return respond(.ok, try await handle(ch, body))
        } catch let r as ChannelRefusal {
            return refuse(r.status, r.message)
        } catch {
            logger.error("channel request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return refuse(503, "Head office could not do this (\(error)); nothing was changed: send it again later")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ body: ByteBuffer) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(body.readableBytesView)) } catch let e as DecodingError {
            throw ChannelRefusal(400, "The request is not valid: \(describe(e))")
        } catch {
            throw ChannelRefusal(400, "The request is not JSON: \(error)")
        }
    }

    static func cardParameter(_ value: String?) throws -> String {
        guard let n = value, (8...19).contains(n.count), n.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ChannelRefusal(400, "A card number is 8 to 19 digits, e.g. 6034000000000015")
        }
        return n
    }

    static func reservationParameter(_ value: String?) throws -> String {
        guard let id = value, id.count == 36, id.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw ChannelRefusal(400, "A reservation id is the UUID head office answered when reserving")
        }
        return id.lowercased()
    }

    /// The `Idempotency-Key` header: 1 to 100 visible ASCII characters.
    static func idempotencyKey(_ request: Request, required: Bool) throws -> String? {
        guard let key = request.headers[HTTPField.Name("Idempotency-Key")!] else {
            if required { throw ChannelRefusal(400, "Send an Idempotency-Key header (e.g. a UUID per order step): a retry with it gets the first answer") }
            return nil
        }
        guard (1...100).contains(key.utf8.count), key.utf8.allSatisfy({ (33...126).contains($0) }) else {
            throw ChannelRefusal(400, "Idempotency-Key must be 1 to 100 visible ASCII characters")
        }
        return key
    }
}

/// Gives back the points of reservations past their time, every second (`expireReservations`:
/// each once, whichever head office process gets there first).
struct ReservationSweeper: Service {
    let store: HeadOfficeStore
    let work: BlockingWork

    /// Ends at once on graceful shutdown (a sleep in progress is cancelled), so that head office
    /// stops within its few seconds.
    func run() async throws {
        await cancelWhenGracefulShutdown { await loop() }
    }

    private func loop() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            _ = try? await work.run { [store] in try store.expireReservations() }
            try? await Task.sleep(nanoseconds: 1_000_000_000)
        }
    }
}
