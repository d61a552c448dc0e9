import ArgumentParser
import Foundation
import Logging
import PostgresClient
import ServiceLifecycle
import WorkerHost

/// The insurance-claim worker's flags for its insurers' endpoint (issue
/// 17); each also from the environment, like every worker flag.
public struct InsurerEndpointOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Serve the insurers' endpoint (POST /timebank/claims/status, GET /openapi.yaml) on this port, behind a TLS terminator (0: any free one; env TIMEBANK_HTTP_PORT). Default: not served.",
        valueName: "port"))
    public var httpPort: Int?
    @Option(help: ArgumentHelp("The largest callback body accepted, in bytes (default 65536; env TIMEBANK_CALLBACK_BODY_LIMIT).", valueName: "bytes"))
    public var callbackBodyLimit: Int?
    @Option(help: ArgumentHelp("Callbacks accepted per insurer per second, per worker process (default 20; env TIMEBANK_CALLBACK_RATE).", valueName: "rate"))
    public var callbackRate: Double?
    @Option(help: ArgumentHelp("Callbacks an insurer may send at once above its rate (default 40; env TIMEBANK_CALLBACK_BURST).", valueName: "count"))
    public var callbackBurst: Int?

    public init() {}

    /// What these flags ask for: an endpoint on a port, or none.
    public struct Endpoint: Sendable, Equatable {
        public var port: UInt16
        public var limits: InsurerEndpoint.Limits

        public func service(settings: ConnectionSettings, logger: Logger) throws -> any Service {
            let endpoint = try InsurerEndpoint(port: port, settings: settings, limits: limits, logger: logger)
            Task {
                if let port = try? await endpoint.listeningPort() {
                    logger.info("serving the insurers' endpoint", metadata: ["port": "\(port)", "path": "\(InsurerEndpoint.callbackPath)"])
                }
            }
            return endpoint
        }
    }

    /// The endpoint, checked before the worker starts; nil when no port is given.
    public func endpoint(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Endpoint? {
        guard let port: Int = try WorkerOptions.setting(httpPort, "TIMEBANK_HTTP_PORT", environment) else { return nil }
        guard (0...65535).contains(port) else { throw ValidationError("--http-port / TIMEBANK_HTTP_PORT: 0 to 65535") }
        var limits = InsurerEndpoint.Limits()
        if let bytes: Int = try WorkerOptions.setting(callbackBodyLimit, "TIMEBANK_CALLBACK_BODY_LIMIT", environment) {
            guard bytes >= 1024 else { throw ValidationError("--callback-body-limit / TIMEBANK_CALLBACK_BODY_LIMIT: at least 1024 bytes") }
            limits.bodyBytes = bytes
        }
        if let rate: Double = try WorkerOptions.setting(callbackRate, "TIMEBANK_CALLBACK_RATE", environment) {
            guard rate > 0 else { throw ValidationError("--callback-rate / TIMEBANK_CALLBACK_RATE: more than 0") }
            limits.perSecond = rate
        }
        if let burst: Int = try WorkerOptions.setting(callbackBurst, "TIMEBANK_CALLBACK_BURST", environment) {
            guard burst >= 1 else { throw ValidationError("--callback-burst / TIMEBANK_CALLBACK_BURST: at least 1") }
            limits.burst = burst
        }
        return Endpoint(port: UInt16(port), limits: limits)
    }
}
