import Foundation

/// A JSON POST, signed: `X-Timebank-Signature: sha256=<hex HMAC-SHA256 of
/// the body>` under the channel's secret, and `Idempotency-Key`, the same
/// on every attempt of a message, so a receiver that saw it already drops
/// the resend (a worker that died between sending and recording resends).
public struct WebhookChannel: NotificationChannel {
    public let name: String
    public let url: URL
    let secret: String
    public let timeout: Duration
    /// Whether the receiver needs the person's phone number to reach them
    /// (an SMS gateway does; a desk does not). R23: otherwise never sent.
    public let sendsPhone: Bool
    let transport: any HTTPTransport

    public init(name: String, url: URL, secret: String, timeout: Duration, sendsPhone: Bool, transport: any HTTPTransport) {
        self.name = name
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.sendsPhone = sendsPhone
        self.transport = transport
    }

    public func deliver(_ message: OutgoingMessage, signer: Signer) async -> HTTPExchange {
        let body = message.payload(channel: name, includePhone: sendsPhone)
        let signature: String
        do {
            signature = try await signer.signature(of: body, secret: secret)
        } catch {
            return HTTPExchange(status: nil, answer: "not sent: could not sign (\(type(of: error)))", latency: .zero)
        }
        return await transport.postSigned(url, body: body, signature: signature, idempotencyKey: message.idempotencyKey(channel: name),
                                          timeout: timeout)
    }
}
