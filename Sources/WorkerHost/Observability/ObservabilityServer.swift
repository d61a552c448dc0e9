import FlyingFox
import Foundation
import JobEngine
import Logging
import Prometheus
import PostgresClient
import ServiceLifecycle
import TimebankDatabase

/// A worker's small HTTP server (`--metrics-port`), a swift-service-lifecycle
/// `Service` beside the worker:
/// - `GET /metrics`: Prometheus text of everything recorded through
///   swift-metrics (the job engine's counters and timers, settlement,
///   deliveries, claims).
/// - `GET /healthz`: 200 while the process runs.
/// - `GET /readyz`: 200 when PostgreSQL answers within a second, every
///   migration the worker knows is applied, and the worker is not draining;
///   503 naming what is not.
public final class ObservabilityServer: Service, @unchecked Sendable {
    // Set once in init; FlyingFox's server is an actor.
    private let server: HTTPServer
    private let registry: PrometheusCollectorRegistry
    private let readiness: Readiness
    private let logger: Logger

    public init(port: UInt16, registry: PrometheusCollectorRegistry, readiness: Readiness, logger: Logger) throws {
        self.registry = registry
        self.readiness = readiness
        self.logger = logger
        server = HTTPServer(address: try .inet(ip4: "0.0.0.0", port: port), timeout: 15, logger: .disabled)
    }

    /// The port it listens on (useful with port 0: any free one).
    public func listeningPort() async throws -> UInt16 { try await server.listeningIPv4Port() }

    public func run() async throws {
        let registry = self.registry, readiness = self.readiness
        await server.appendRoute("GET /metrics") { _ in
            HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                         body: Data(registry.emitToBuffer()))
        }
        await server.appendRoute("GET /healthz") { _ in HTTPResponse(statusCode: .ok, body: Data("ok\n".utf8)) }
        await server.appendRoute("GET /readyz") { _ in
            let problems = await readiness.problems()
            return problems.isEmpty
                ? HTTPResponse(statusCode: .ok, body: Data("ready\n".utf8))
                : HTTPResponse(statusCode: .serviceUnavailable, body: Data((problems.joined(separator: "\n") + "\n").utf8))
        }
        // Stopped last (see WorkerOptions.run): /readyz says "draining" while the worker drains.
        await server.serveUntilShutdown("the metrics server", logger: logger)
    }
}

/// What `/readyz` checks.
public actor Readiness {
    private let settings: ConnectionSettings
    private let migrator: Migrator?
    private let draining: @Sendable () async -> Bool
    private var connection: PostgresConnection?

    /// `migrator`: this build's sql/ (nil: unknown, not checked): ready only
    /// when the database has every migration and exactly these definitions.
    public init(settings: ConnectionSettings, migrator: Migrator?, draining: @escaping @Sendable () async -> Bool) {
        self.settings = settings
        self.migrator = migrator
        self.draining = draining
    }

    /// What keeps the worker from being ready; empty when it is.
    public func problems() async -> [String] {
        var problems: [String] = []
        if await draining() { problems.append("draining: shutting down") }
        do {
            if let problem = try await withTimeout(.seconds(1), { try await self.schemaProblem() }) {
                problems.append(problem)
            }
        } catch {
            problems.append("database: not answering (\(type(of: error)))")
            if let stale = connection { connection = nil; Task { await stale.close() } }
        }
        return problems
    }

    /// What keeps the schema from being this build's: migrations missing, or definitions not applied.
    private func schemaProblem() async throws -> String? {
        if connection == nil { connection = try await PostgresConnection.connect(settings) }
        guard let migrator else { return nil }
        do {
            let pending = try await migrator.pending(connection!)
            if !pending.isEmpty {
                return "migrations: \(migrator.migrations.count - pending.count) of \(migrator.migrations.count) applied (run timebank migrate)"
            }
            return try await migrator.definitionsCurrent(connection!) ? nil : "definitions: sql/functions, views or privileges changed since they were applied (run timebank migrate)"
        } catch let error as MigrationError {
            return "migrations: \(error)"
        }
    }
}

/// The first of `body` and a timer.
func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw CancellationError()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
