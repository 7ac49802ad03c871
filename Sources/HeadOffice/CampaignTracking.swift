import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// What members do with a campaign's e-mail, by the token in its links (no cookie, no session):
/// its image fetched (an open, approximate: many mail programs do not fetch images, some fetch
/// them all), its link followed (a click, then on to the campaign's link), and one-click
/// unsubscribe (RFC 8058: a POST to the List-Unsubscribe address, from the mail program, without
/// cookies; a person following the link gets a page with a button that posts the same).
extension HeadOfficeServer {
    /// A transparent 1×1 GIF.
    static let pixel: [UInt8] = [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
                                 0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
                                 0x02, 0x44, 0x01, 0x00, 0x3B]

    func addCampaignTracking(_ router: Router<HeadOfficeContext>) {
        router.get("/e/o/:file") { _, context -> Response in
            let file = context.parameters.get("file") ?? ""
            let token = String(file.dropLast(4))
            guard file.hasSuffix(".gif"), HeadOfficeStore.validToken(token) else {
                return trackingPage(.notFound, "This image is not known", "It belongs to none of our e-mails.")
            }
            try await work.run { [store] in try store.campaignOpened(token: token) }
            return Response(status: .ok, headers: [.contentType: "image/gif", .cacheControl: "no-store"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: Self.pixel)))
        }
        router.get("/e/c/:token") { _, context -> Response in
            let token = context.parameters.get("token") ?? ""
            guard let link = try await work.run({ [store] in try store.campaignClicked(token: token) }) else {
                return trackingPage(.notFound, "This link is not known", "The link may be from an old e-mail, or copied in part. Our offers are on our website.")
            }
            return Response(status: .seeOther, headers: [.location: link, .cacheControl: "no-store"])
        }
        router.get("/e/u/:token") { _, context -> Response in
            let token = context.parameters.get("token") ?? ""
            guard HeadOfficeStore.validToken(token) else {
                return trackingPage(.notFound, "This link is not known", "Copy the whole link from the e-mail, or ask us at any store or on your member page.")
            }
            return trackingPage(.ok, "Stop our e-mails", """
                Press the button and we send you no more offers by e-mail. Your card, your points and your member page stay as they are.
                """, form: "/e/u/" + token)
        }
        router.post("/e/u/:token") { request, context -> Response in
            let token = context.parameters.get("token") ?? ""
            // RFC 8058: the body is List-Unsubscribe=One-Click (from a mail program) or the page's
            // form; either way the token says who. The body is read (bounded) and not needed.
            _ = try? await body(request, upTo: 4_096)
            guard try await work.run({ [store] in try store.campaignUnsubscribe(token: token) }) else {
                return trackingPage(.notFound, "This link is not known", "Copy the whole link from the e-mail, or ask us at any store or on your member page.")
            }
            return trackingPage(.ok, "You will get no more offers by e-mail", """
                We have recorded that you do not want our offers by e-mail. You can change your mind on your member page or at any store.
                """)
        }
    }

    func trackingPage(_ status: HTTPResponse.Status, _ title: String, _ text: String, form: String? = nil) -> Response {
        let button = form.map { "<form method=\"post\" action=\"\($0.htmlEscaped)\"><button type=\"submit\" id=\"unsubscribe\">Stop the e-mails</button></form>" } ?? ""
        return plainPage(status, title, "<p>\(text.htmlEscaped)</p>" + button)
    }

    /// A page a member reaches from an e-mail or a receipt: phone-sized, no script, no session;
    /// `content` is HTML already escaped.
    func plainPage(_ status: HTTPResponse.Status, _ title: String, _ content: String) -> Response {
        html(status, """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title.htmlEscaped)</title></head><body style="font-family:sans-serif;max-width:36em;margin:3em auto;padding:0 1em">
            <h1>\(title.htmlEscaped)</h1>\(content)</body></html>
            """)
    }
}

extension String {
    /// The text as HTML shows it (the pages and e-mails written here without a template).
    var htmlEscaped: String {
        replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
