import FlyingFox
import Foundation
import Logging
import PostgresClient
import ServiceLifecycle
import WorkerHost

/// Issue 17: the insurers' endpoint, served by the insurance-claim worker
/// (it owns the insurers) on its own port (`--http-port`), apart from the
/// metrics port: this one faces the insurers, through a TLS terminator.
///
/// - `POST /timebank/claims/status`: a claim's status callback
///   (docs/insurer-api.yaml), applied by `bank.insurer_callback` as the
///   worker's own login; answered as ``CallbackReply`` says.
/// - `GET /openapi.yaml`: the contract it serves, the one in docs/.
///
/// Limits before the database is asked: a body over `bodyLimit` bytes is
/// refused unread (413); each insurer's callbacks at most `rate` a second
/// (429, ``RateLimiter``); an insurer code that cannot exist is answered
/// 401 at once. One log line per request, never its body.
public final class InsurerEndpoint: Service, @unchecked Sendable {
    public struct Limits: Sendable, Equatable {
        public var bodyBytes: Int
        public var perSecond: Double
        public var burst: Int
        public init(bodyBytes: Int = 65_536, perSecond: Double = 20, burst: Int = 40) {
            self.bodyBytes = bodyBytes
            self.perSecond = perSecond
            self.burst = burst
        }
    }

    public static let callbackPath = "/timebank/claims/status"
    public static let specificationPath = "/openapi.yaml"

    // Set once in init; FlyingFox's server is an actor.
    private let server: HTTPServer
    private let pool: ConnectionPool
    private let limits: Limits
    private let limiter: Limiter
    private let logger: Logger

    /// `settings`: the worker's handler sessions' (its login, role and timeouts).
    public init(port: UInt16, settings: ConnectionSettings, limits: Limits = Limits(), connections: Int = 4, logger: Logger) throws {
        self.limits = limits
        self.logger = logger
        pool = ConnectionPool(settings: settings, maximum: connections, logger: logger)
        limiter = Limiter(RateLimiter(rate: limits.perSecond, burst: limits.burst))
        server = HTTPServer(address: try .inet(ip4: "0.0.0.0", port: port), timeout: 15, logger: .disabled)
    }

    /// The port it listens on (useful with port 0: any free one).
    public func listeningPort() async throws -> UInt16 { try await server.listeningIPv4Port() }

    /// The contract, as bundled with this build.
    public static func specification() throws -> Data {
        guard let url = Bundle.module.url(forResource: "insurer-api", withExtension: "yaml") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try Data(contentsOf: url)
    }

    public func run() async throws {
        let specification = try Self.specification()
        await server.appendRoute(HTTPRoute(method: .POST, path: Self.callbackPath)) { [self] request in
            let started = ContinuousClock.now
            let (reply, insurer, bytes) = await callback(request)
            log(request, reply.status, insurer: insurer, bytes: bytes, since: started)
            var headers: [HTTPHeader: String] = [.contentType: "application/json"]
            for (name, value) in reply.headers { headers[HTTPHeader(name)] = value }
            return HTTPResponse(statusCode: HTTPStatusCode(reply.status, phrase: reply.phrase), headers: headers, body: reply.json)
        }
        await server.appendRoute(HTTPRoute(method: .GET, path: Self.specificationPath)) { _ in
            HTTPResponse(statusCode: .ok, headers: [.contentType: "application/yaml"], body: specification)
        }
        // Another method on a path served here (FlyingFox's, and OpenAPI 3.2's QUERY): 405 naming the one allowed.
        for (path, allowed) in [(Self.callbackPath, "POST"), (Self.specificationPath, "GET")] {
            await server.appendRoute(HTTPRoute(methods: HTTPMethod.allMethods.union([HTTPMethod("QUERY")]), path: path)) { [self] request in
                log(request, 405, insurer: nil, bytes: nil, since: .now)
                let answer = CallbackReply.Answer(error: "method_not_allowed", message: "\(path) takes \(allowed)")
                return HTTPResponse(statusCode: .methodNotAllowed, headers: [.contentType: "application/json", HTTPHeader("Allow"): allowed],
                                    body: CallbackReply(status: 405, body: answer).json)
            }
        }
        await server.serveUntilShutdown("the insurers' endpoint", logger: logger)
        await pool.close()
    }

    /// The reply to one callback, the insurer it claims to be from (when
    /// well-formed), and the body's size (when read).
    private func callback(_ request: HTTPRequest) async -> (CallbackReply, String?, Int?) {
        let insurer = request.headers[HTTPHeader("X-Timebank-Insurer")] ?? ""
        // bank.insurer's codes: ^[a-z0-9_]{2,40}$; anything else is no insurer of ours.
        guard (2...40).contains(insurer.utf8.count), insurer.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 95 }),
              let signature = request.headers[HTTPHeader("X-Timebank-Signature")] else {
            return (.unauthenticated, nil, nil)
        }
        if case .limited(let seconds) = await limiter.admit(insurer) { return (.limited(retryAfter: seconds), insurer, nil) }
        if let declared = request.bodySequence.count, declared > limits.bodyBytes {
            return (.tooLarge(limit: limits.bodyBytes), insurer, nil)
        }
        var body = Data()
        do {
            for try await chunk in request.bodySequence {
                body.append(chunk)
                if body.count > limits.bodyBytes { return (.tooLarge(limit: limits.bodyBytes), insurer, nil) }
            }
        } catch {
            return (.refused(field: "body", rule: nil, message: "the body could not be read"), insurer, nil)
        }
        // PostgreSQL's text holds UTF-8 without NUL; the HMAC is over these exact bytes.
        guard let text = String(data: body, encoding: .utf8), !body.contains(0) else {
            return (.refused(field: "body", rule: "R26", message: "a callback body is UTF-8 JSON"), insurer, body.count)
        }
        do {
            let row = try await pool.withConnection { connection in
                try await connection.query("SELECT state, duplicate FROM bank.insurer_callback($1, $2, $3)", [insurer, text, signature])
            }
            guard let first = row.first else { return (.internalError, insurer, body.count) }
            return (.applied(state: try first.decode("state", as: String.self), duplicate: try first.decode("duplicate", as: Bool.self)),
                    insurer, body.count)
        } catch {
            let reply = CallbackReply.failed(error)
            if reply.status >= 500 {
                logger.warning("a callback could not be applied", metadata: ["insurer": "\(insurer)", "status": "\(reply.status)", "error": "\(error)"])
            }
            return (reply, insurer, body.count)
        }
    }

    /// One line per request: who (address, claimed insurer), what, the answer, how long; never the body.
    private func log(_ request: HTTPRequest, _ status: Int, insurer: String?, bytes: Int?, since started: ContinuousClock.Instant) {
        var metadata: Logger.Metadata = [
            "method": "\(request.method.rawValue)", "path": "\(request.path)", "status": "\(status)",
            "ms": "\(Self.milliseconds(ContinuousClock.now - started))",
        ]
        if let insurer { metadata["insurer"] = "\(insurer)" }
        if let bytes { metadata["bytes"] = "\(bytes)" }
        switch request.remoteAddress {
        case .ip4(let address, _), .ip6(let address, _): metadata["from"] = "\(address)"
        default: break
        }
        // The TLS terminator's view of the insurer's address.
        if let forwarded = request.headers[HTTPHeader("X-Forwarded-For")] { metadata["forwarded_for"] = "\(forwarded)" }
        logger.info("insurer callback request", metadata: metadata)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// The limiter, shared by the connections' tasks.
    actor Limiter {
        private var limiter: RateLimiter
        private let origin = ContinuousClock.now
        init(_ limiter: RateLimiter) { self.limiter = limiter }
        func admit(_ key: String) -> RateLimiter.Decision {
            limiter.admit(key, now: Double(InsurerEndpoint.milliseconds(ContinuousClock.now - origin)) / 1000)
        }
    }
}
