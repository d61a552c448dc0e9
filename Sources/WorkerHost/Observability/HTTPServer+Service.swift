import FlyingFox
import Foundation
import Logging
import ServiceLifecycle

/// What a worker's HTTP servers (metrics, the insurers' endpoint) share as
/// swift-service-lifecycle services.
extension HTTPServer {
    /// The IPv4 port it listens on (useful with port 0: any free one).
    public func listeningIPv4Port() async throws -> UInt16 {
        // FlyingFox waits 5 s by default; a loaded machine took longer to start listening (CI).
        try await waitUntilListening(timeout: 30)
        guard case .ip4(_, let port) = listeningAddress else { throw CocoaError(.featureUnsupported) }
        return port
    }

    /// Serves until a graceful shutdown, then stops within a second. Its
    /// end is never an error that should take the worker down with it:
    /// logged as `what` stopped, unless the worker is stopping anyway.
    public func serveUntilShutdown(_ what: String, logger: Logger) async {
        do {
            try await withGracefulShutdownHandler {
                try await run()
            } onGracefulShutdown: {
                Task { await self.stop(timeout: 1) }
            }
        } catch {
            if !Task.isShuttingDownGracefully && !Task.isCancelled {
                logger.warning("\(what) stopped", metadata: ["error": "\(error)"])
            }
        }
    }
}
