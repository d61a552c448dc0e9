import Foundation
import JobEngine
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One POST to a receiver outside PostgreSQL (a gateway, an insurer) and
/// what came of it. A protocol so that tests can stand in for the network;
/// ``URLSessionTransport`` is the real one.
public protocol HTTPTransport: Sendable {
    func post(_ url: URL, body: Data, headers: [String: String], timeout: Duration) async -> HTTPExchange
}

extension HTTPTransport {
    /// What we send outside, always the same way (docs/notification-webhook.md,
    /// docs/insurer-api.yaml): a JSON body, `Idempotency-Key` (the same on every
    /// attempt, so a receiver drops a resend it saw already) and
    /// `X-Timebank-Signature: sha256=<hex HMAC-SHA256 of the body>`; `headers` adds more.
    public func postSigned(
        _ url: URL, body: Data, signature: String, idempotencyKey: String, headers: [String: String] = [:], timeout: Duration
    ) async -> HTTPExchange {
        await post(url, body: body, headers: headers.merging([
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": idempotencyKey,
            "X-Timebank-Signature": "sha256=\(signature)",
        ]) { _, signed in signed }, timeout: timeout)
    }
}

/// What a POST came to: the receiver's status and answer, or the error
/// that kept it from answering (timeout, refused or dropped connection).
public struct HTTPExchange: Sendable, Equatable {
    public var status: Int?
    /// The answer's first 500 characters, or the error.
    public var answer: String
    public var latency: Duration

    public init(status: Int?, answer: String, latency: Duration) {
        self.status = status
        self.answer = answer
        self.latency = latency
    }

    /// How a delivery ends after this exchange.
    public var verdict: DeliveryVerdict {
        guard let status else { return .retry }
        switch status {
        case 200..<300: return .delivered
        // The receiver asks us to wait (408, 425, 429) or failed itself (5xx): try again later.
        case 408, 425, 429, 500...: return .retry
        // Any other answer says the request itself is wrong: sending it again would not help.
        default: return .failed
        }
    }

    public var latencyMilliseconds: Int { Int(latency.inNanoseconds / 1_000_000) }
}

public enum DeliveryVerdict: String, Sendable {
    /// 2xx: received; never sent again.
    case delivered
    /// No answer, or 5xx, 408, 425, 429: tried again with backoff.
    case retry
    /// Another 4xx (or 3xx): permanent, recorded with the answer.
    case failed
}

/// ``HTTPTransport`` over Foundation's URLSession (libcurl on Linux): no
/// cookies, no cache, no redirects followed (a redirect is an answer).
public struct URLSessionTransport: HTTPTransport {
    private let session: URLSession

    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieAcceptPolicy = .never
        configuration.httpShouldSetCookies = false
        configuration.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        configuration.urlCache = nil
        session = URLSession(configuration: configuration, delegate: RedirectRefuser(), delegateQueue: nil)
    }

    public func post(_ url: URL, body: Data, headers: [String: String], timeout: Duration) async -> HTTPExchange {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = body
        request.timeoutInterval = timeout.inSeconds
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let (data, response) = try await session.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode
            return HTTPExchange(status: status, answer: String(decoding: data.prefix(500), as: UTF8.self), latency: clock.now - started)
        } catch let error as URLError {
            let reason = error.code == .timedOut ? "timed out" : "connection failed (URLError \(error.code.rawValue))"
            return HTTPExchange(status: nil, answer: "no answer: \(reason)", latency: clock.now - started)
        } catch {
            return HTTPExchange(status: nil, answer: "no answer: \(type(of: error))", latency: clock.now - started)
        }
    }
}

private final class RedirectRefuser: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}
