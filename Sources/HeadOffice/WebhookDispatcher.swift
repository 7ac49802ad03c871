import CCurl
import CCurlShim
import Foundation
import Logging
import ServiceLifecycle

/// Posts webhook deliveries (libcurl), signed, and records each attempt; every half second it
/// takes what is due. Runs in `headoffice serve`'s service group.
struct WebhookDispatcher: Service {
    let store: HeadOfficeStore
    let work: BlockingWork
    let sending: BlockingWork
    let logger: Logger

    /// Ends at once on graceful shutdown (a sleep in progress is cancelled), so that head office
    /// stops within its few seconds.
    func run() async throws {
        await cancelWhenGracefulShutdown { await loop() }
    }

    private func loop() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let due = (try? await work.run { [store] in try store.claimDueDeliveries() }) ?? []
            for (d, url, secret) in due {
                let timestamp = HeadOfficeStore.now() / 1000
                let signature = HeadOfficeStore.webhookSignature(secret: secret, id: d.id, timestamp: timestamp, body: d.payload)
                let headers = ["Content-Type: application/json", "Webhook-Id: \(d.id)", "Webhook-Timestamp: \(timestamp)", "Webhook-Signature: \(signature)",
                               "User-Agent: headoffice-webhooks"]
                let (status, error) = (try? await sending.run { Self.post(url, body: d.payload, headers: headers) }) ?? (nil, "not sent")
                if status.map({ !(200..<300).contains($0) }) ?? true {
                    logger.warning("webhook delivery failed", metadata: ["delivery": "\(d.id)", "url": "\(url)", "status": "\(status ?? 0)", "error": "\(error ?? "")"])
                }
                _ = try? await work.run { [store] in try store.recordDelivery(d.id, status: status, error: error) }
            }
            try? await Task.sleep(nanoseconds: due.isEmpty ? 500_000_000 : 10_000_000)
        }
    }

    /// One POST: the answer's status, or why there was none.
    static func post(_ url: String, body: String, headers: [String], timeoutMilliseconds: Int = 10_000) -> (Int?, String?) {
        guard let handle = curl_easy_init() else { return (nil, "libcurl could not start") }
        defer { curl_easy_cleanup(handle) }
        var list: UnsafeMutablePointer<curl_slist>?
        for h in headers + ["Expect:"] { list = curl_slist_append(list, h) }
        defer { curl_slist_free_all(list) }
        till_curl_set_string(handle, CURLOPT_URL, url)
        till_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
        till_curl_set_long(handle, CURLOPT_TIMEOUT_MS, timeoutMilliseconds)
        till_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, min(timeoutMilliseconds, 5_000))
        till_curl_set_slist(handle, CURLOPT_HTTPHEADER, list)
        // The answer's body is not kept.
        till_curl_set_write_function(handle) { _, size, count, _ in size * count }
        // Never empty (a byte past the body's end), so that curl is given a real buffer.
        let size = body.utf8.count
        let payload = size > 0 ? Array(body.utf8) : [0]
        let code: CURLcode = payload.withUnsafeBytes { raw in
            till_curl_set_long(handle, CURLOPT_POST, 1)
            till_curl_set_long(handle, CURLOPT_POSTFIELDSIZE, size)
            till_curl_set_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress))
            return curl_easy_perform(handle)
        }
        guard code == CURLE_OK else { return (nil, String(cString: curl_easy_strerror(code))) }
        var status = 0
        till_curl_get_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return (status, (200..<300).contains(status) ? nil : "answered \(status)")
    }
}
