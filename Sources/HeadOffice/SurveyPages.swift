import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The survey a member's receipt leads to (its QR code: `[loyalty] survey_url` on the till, then
/// the sale's id): how likely they are to recommend the store (0 to 10) and a comment, without
/// signing in (the receipt's code is the proof), once per receipt; it earns points when answered
/// within the days the Events page sets.
extension HeadOfficeServer {
    func addSurveyPages(_ router: Router<HeadOfficeContext>) {
        router.get("/s/:id") { _, context -> Response in
            let id = context.parameters.get("id") ?? ""
            let found = try await work.run { [store] () -> (SurveySale, String, FeedbackSettings)? in
                guard let sale = try store.surveySale(id) else { return nil }
                return (sale, try store.store(sale.storeID)?.name ?? "store \(sale.storeID)", try store.feedbackSettings())
            }
            guard let (sale, storeName, settings) = found else { return Self.unknownSurvey(self) }
            if sale.answered { return surveyPage(.ok, "Thank you", "You have already told us about this visit. Thank you for taking the time.") }
            let scores = (0...10).map { n in
                "<label style=\"display:inline-block;margin:.2em .4em\"><input type=\"radio\" name=\"nps\" value=\"\(n)\" id=\"nps-\(n)\" required> \(n)</label>"
            }.joined()
            let reward = settings.points > 0 ? "Answer within \(settings.days) days of your visit and your card earns \(settings.points) points." : ""
            let form = """
                <p>Your visit to \(storeName.htmlEscaped), receipt \(sale.receiptNumber.htmlEscaped). \(reward.htmlEscaped)</p>
                <form method="post" action="/s/\(sale.saleID)"><fieldset><legend>How likely are you to recommend us to a friend? (0: not at all, 10: certainly)</legend>
                \(scores)</fieldset><p><label for="comment">Anything to tell us? (optional)</label><br>
                <textarea id="comment" name="comment" rows="5" maxlength="\(HeadOfficeStore.maxFeedbackComment)" style="width:100%"></textarea></p>
                <button type="submit" id="send">Send</button></form>
                """
            return surveyPage(.ok, "How did we do?", nil, html: form)
        }
        router.post("/s/:id") { request, context -> Response in
            let id = context.parameters.get("id") ?? ""
            let fields: [String: String]
            do { fields = FormBody.urlencoded(Array((try await body(request, upTo: 16_384)).readableBytesView)) } catch {
                return surveyPage(.contentTooLarge, "Too long", "Your answer is longer than we can take: shorten the comment and send it again.")
            }
            guard let nps = fields["nps"].flatMap({ Int64($0) }), (0...10).contains(nps) else {
                return surveyPage(.unprocessableContent, "Choose a score", "Choose how likely you are to recommend us, from 0 to 10, then send again.",
                                  html: "<p><a href=\"/s/\(id.htmlEscaped)\">Back to the survey</a></p>")
            }
            do {
                let outcome = try await work.run { [store] in try store.submitFeedback(saleID: id, nps: nps, comment: fields["comment"] ?? "") }
                switch outcome {
                case .earned(let p): return surveyPage(.ok, "Thank you", "Thank you for your answer: your card has earned \(p) points.")
                case .recorded(let why): return surveyPage(.ok, "Thank you", "Thank you for your answer. It earns no points: \(why).")
                case .alreadyAnswered:
                    return surveyPage(.ok, "Thank you", "You have already told us about this visit: this answer was not recorded and earns nothing.")
                }
            } catch let r as ChannelRefusal where r.status == 404 {
                return Self.unknownSurvey(self)
            } catch let r as ChannelRefusal {
                return surveyPage(.unprocessableContent, "Please check your answer", r.message, html: "<p><a href=\"/s/\(id.htmlEscaped)\">Back to the survey</a></p>")
            }
        }
    }

    static func unknownSurvey(_ server: HeadOfficeServer) -> Response {
        server.surveyPage(.notFound, "We do not know this receipt yet", """
            The code is not one of our members' receipts, or the till has not sent us this visit yet: try again in an hour. \
            Only receipts of sales with a loyalty card have a survey.
            """)
    }

    func surveyPage(_ status: HTTPResponse.Status, _ title: String, _ text: String?, html extra: String = "") -> Response {
        plainPage(status, title, (text.map { "<p id=\"message\">\($0.htmlEscaped)</p>" } ?? "") + extra)
    }
}
