import CCurl
import CCurlShim
import Foundation

/// An HTTP(S) answer.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var body: [UInt8]
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a request got no answer: the network, the name, the certificate, a timeout.
public struct HTTPFailure: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        case unreachable, timedOut, certificate, other
    }
    public var kind: Kind
    public var message: String
    public var description: String { message }
}

private let curlReady: Bool = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK }()

/// One libcurl handle, reused (and its connection kept alive) by the one thread that owns it.
/// `ca`: a PEM file of the certificate authority head office's certificate must be signed by
/// (nil: the system's authorities).
public final class HTTPConnection {
    private let handle: UnsafeMutableRawPointer
    public let ca: String?

    public init(ca: String? = nil) {
        _ = curlReady
        handle = curl_easy_init()
        self.ca = ca
    }

    deinit { curl_easy_cleanup(handle) }

    /// Sends one request; `timeout` bounds the whole exchange, connecting included.
    public func send(
        _ method: String, _ url: String, headers: [String] = [], body: [UInt8]? = nil, timeoutMilliseconds: Int
    ) throws(HTTPFailure) -> HTTPAnswer {
        curl_easy_reset(handle)
        let sink = ResponseSink()
        let box = Unmanaged.passRetained(sink)
        defer { box.release() }
        var list: UnsafeMutablePointer<curl_slist>?
        for h in headers + ["Expect:"] { list = curl_slist_append(list, h) }
        defer { curl_slist_free_all(list) }

        till_curl_set_string(handle, CURLOPT_URL, url)
        till_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
        till_curl_set_long(handle, CURLOPT_TIMEOUT_MS, timeoutMilliseconds)
        till_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, min(timeoutMilliseconds, 5_000))
        till_curl_set_slist(handle, CURLOPT_HTTPHEADER, list)
        till_curl_set_write_function(handle) { data, size, count, user in
            guard let data, let user else { return 0 }
            let n = size * count
            Unmanaged<ResponseSink>.fromOpaque(user).takeUnretainedValue().bytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: n))
            return n
        }
        till_curl_set_pointer(handle, CURLOPT_WRITEDATA, box.toOpaque())
        if let ca { till_curl_set_string(handle, CURLOPT_CAINFO, ca) }
        // Never empty (a byte past the body's end), so that curl is given a real buffer.
        let size = body?.count ?? 0
        let payload = size > 0 ? body ?? [] : [0]
        let code: CURLcode = payload.withUnsafeBytes { raw in
            if method == "POST" {
                till_curl_set_long(handle, CURLOPT_POST, 1)
                till_curl_set_long(handle, CURLOPT_POSTFIELDSIZE, size)
                till_curl_set_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress))
            }
            return curl_easy_perform(handle)
        }
        guard code == CURLE_OK else { throw Self.failure(code, url: url) }
        var status = 0
        till_curl_get_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPAnswer(status: status, body: sink.bytes)
    }

    static func failure(_ code: CURLcode, url: String) -> HTTPFailure {
        let reason = String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING:
            return HTTPFailure(kind: .unreachable, message: "Head office at \(url) cannot be reached (\(reason))")
        case CURLE_OPERATION_TIMEDOUT:
            return HTTPFailure(kind: .timedOut, message: "Head office at \(url) did not answer in time")
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM:
            return HTTPFailure(kind: .certificate, message: "Head office at \(url) is not trusted: its certificate is not signed by the configured CA (\(reason))")
        default:
            return HTTPFailure(kind: .other, message: "Head office at \(url): \(reason)")
        }
    }
}

private final class ResponseSink {
    var bytes: [UInt8] = []
}
