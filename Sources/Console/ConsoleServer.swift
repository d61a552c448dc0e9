import FlyingFox
import Foundation
import Logging
import PostgresClient

/// `timebank console`: the operators' web console, on FlyingFox (the same
/// small HTTP server the workers' /metrics use: nothing new to build).
/// It connects as its own login (a member of `timebank_console`), so what
/// it can read and do is what PostgreSQL lets that role: the console's
/// views, and the session-checked functions of sql/functions/console/.
public final class ConsoleServer: Sendable {
    private let server: HTTPServer
    private let pool: ConnectionPool

    /// `secureCookie`: mark the session cookie Secure (behind HTTPS, as in
    /// production; a browser then never sends it over plain HTTP).
    /// `trustedProxy`: the reverse proxy's address, whose X-Forwarded-For the log-in throttle believes.
    public init(settings: ConnectionSettings, ip4 host: String, port: UInt16, secureCookie: Bool, trustedProxy: String? = nil,
                logger: Logger) throws {
        pool = ConnectionPool(settings: settings, maximum: 4, logger: logger)
        let routes = ConsoleRoutes(store: ConsoleStore(pool: pool), throttle: LogInThrottle(), secureCookie: secureCookie,
                                   trustedProxy: trustedProxy, logger: logger)
        server = HTTPServer(address: try .inet(ip4: host, port: port), timeout: 15, logger: .disabled, handler: routes)
    }

    /// The port it listens on (useful with port 0: any free one).
    public func listeningPort() async throws -> UInt16 {
        // FlyingFox waits 5 s by default; a loaded machine took longer to start listening (CI).
        try await server.waitUntilListening(timeout: 30)
        switch await server.listeningAddress {
        case .ip4(_, let port), .ip6(_, let port): return port
        default: throw CocoaError(.featureUnsupported)
        }
    }

    /// Serves until cancelled.
    public func run() async throws {
        try await withTaskCancellationHandler {
            try await server.run()
        } onCancel: {
            Task { await self.server.stop(timeout: 1) }
        }
        await pool.close()
    }
}
