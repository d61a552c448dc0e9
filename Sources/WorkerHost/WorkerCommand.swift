import ArgumentParser
import Foundation
import JobEngine
import Logging
import PostgresClient
import CoreMetrics
import Prometheus
import ServiceLifecycle
import TimebankDatabase

/// A worker as the host runs it: its name (the executable's, and its
/// sessions' application_name), its configuration before the flags, its
/// handlers (made once the database is known), its periodic jobs, and the
/// services it runs beside its jobs (the insurance-claim worker's insurer
/// endpoint), made with the settings of the handlers' sessions.
/// The time bank's workers describe themselves in TimebankWorkers
/// (`WorkerKind.hosted`); `test-worker` describes its own.
public struct HostedWorker: Sendable {
    public var name: String
    public var configuration: WorkerConfiguration
    public var periodicJobs: [PeriodicJob]
    public var handlers: @Sendable (ConnectionSettings) async throws -> HandlerRegistry
    public var companions: @Sendable (ConnectionSettings, Logger) async throws -> [any Service]

    public init(name: String, configuration: WorkerConfiguration, periodicJobs: [PeriodicJob] = [],
                companions: @escaping @Sendable (ConnectionSettings, Logger) async throws -> [any Service] = { _, _ in [] },
                handlers: @escaping @Sendable (ConnectionSettings) async throws -> HandlerRegistry) {
        self.name = name
        self.configuration = configuration
        self.periodicJobs = periodicJobs
        self.companions = companions
        self.handlers = handlers
    }
}

/// The command line every worker executable shares: the same flags in
/// each, so operators learn them once.
///
/// Each tuning flag may also come from the environment, under the same
/// name everywhere (`--claim-batch` is `TIMEBANK_CLAIM_BATCH`); a flag wins
/// over its variable, and a variable over the worker's default.
public struct WorkerOptions: ParsableArguments {
    @OptionGroup public var database: DatabaseOptions
    @Option(help: "Jobs run at once (default: the worker's own; env TIMEBANK_CONCURRENCY).") public var concurrency: Int?
    @Option(help: "Jobs claimed per statement (default: the worker's own; env TIMEBANK_CLAIM_BATCH).") public var claimBatch: Int?
    @Option(help: "Jobs claimed ahead of free slots (env TIMEBANK_PREFETCH).") public var prefetch: Int?
    @Option(help: "How often an idle worker polls for jobs besides being notified, in milliseconds (env TIMEBANK_POLL_MILLISECONDS).") public var pollMilliseconds: Int?
    @Option(help: "How long a claimed job stays held without renewal, in milliseconds (a dead worker's jobs are rescued after it; env TIMEBANK_LEASE_MILLISECONDS).")
    public var leaseMilliseconds: Int?
    @Option(help: "How often expired leases are looked for, in milliseconds (env TIMEBANK_RESCUE_MILLISECONDS).") public var rescueMilliseconds: Int?
    @Option(help: "How often the worker heartbeats in the registry (timebank workers), in milliseconds (env TIMEBANK_HEARTBEAT_MILLISECONDS).") public var heartbeatMilliseconds: Int?
    @Option(help: "After how long without a heartbeat a worker is marked gone, in milliseconds (env TIMEBANK_GONE_AFTER_MILLISECONDS).") public var goneAfterMilliseconds: Int?
    @Option(help: ArgumentHelp(
        "Database role the sessions act as; the login user must be a member (default: timebank_<worker>; 'none': the login user's own; env TIMEBANK_DATABASE_ROLE).",
        valueName: "role"))
    public var databaseRole: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env TIMEBANK_LOG_LEVEL).") public var logLevel = "info"
    @Option(help: ArgumentHelp("Serve Prometheus metrics (/metrics) and health (/healthz, /readyz) on this port (0: any free one; env TIMEBANK_METRICS_PORT).", valueName: "port"))
    public var metricsPort: Int?
    // Issue 16, item 5: behind PgBouncer (WorkerOptions+Pooling.swift).
    @Option(help: ArgumentHelp("What is between the worker and PostgreSQL: none, or transaction (a transaction pooler such as PgBouncer: unnamed statements, no session settings, no LISTEN through it; env TIMEBANK_POOLER).", valueName: "mode"))
    public var pooler: String?
    @Option(help: ArgumentHelp("With --pooler transaction: a URL straight to PostgreSQL for the producers' LISTEN sessions (env TIMEBANK_LISTEN_URL).", valueName: "url"))
    public var listenUrl: String?
    @Flag(help: "Do not LISTEN: find jobs by polling every --poll-milliseconds (env TIMEBANK_POLL_ONLY=true).") public var pollOnly = false

    public init() {}

    /// Runs `worker` until SIGTERM or SIGINT, then shuts down gracefully
    /// (running jobs finish within the grace, the rest go back).
    public func run(_ worker: HostedWorker) async throws {
        let environment = ProcessInfo.processInfo.environment
        let logLevelName = try Self.setting(logLevel == "info" ? nil : logLevel, "TIMEBANK_LOG_LEVEL", environment) ?? "info"
        guard let level = Logger.Level(rawValue: logLevelName) else {
            throw ValidationError("--log-level / TIMEBANK_LOG_LEVEL: \(logLevelName) is not a log level")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let metricsPort: Int? = try Self.setting(self.metricsPort, "TIMEBANK_METRICS_PORT", environment)
        // Metrics first: the runtime and the handlers take their factory when they are made.
        let prometheus = PrometheusCollectorRegistry()
        if metricsPort != nil { MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus)) }
        var configuration = worker.configuration
        // The description was made before the bootstrap: its factory is the no-op one.
        configuration.metricsFactory = MetricsSystem.factory
        try apply(to: &configuration, environment: environment)
        let settings = configuration.pooled(try await database.resolve(applicationName: worker.name))
        let logger = Logger(label: "timebank.\(worker.name)")
        let registry = try await worker.handlers(settings)
        let runtime = try Worker(
            configuration: configuration, settings: settings, registry: registry, periodicJobs: worker.periodicJobs, logger: logger)
        // Stopped after the worker (a ServiceGroup stops in reverse order).
        var services: [any Service] = try await worker.companions(
            configuration.handlerSessionSettings(settings, applicationName: worker.name), logger) + [runtime]
        if let metricsPort {
            guard (0...65535).contains(metricsPort) else { throw ValidationError("--metrics-port: 0 to 65535") }
            let readiness = Readiness(settings: settings, migrator: try? Migrator.project(), draining: { await runtime.isDraining })
            let server = try ObservabilityServer(port: UInt16(metricsPort), registry: prometheus, readiness: readiness, logger: logger)
            services.insert(server, at: 0)  // shut down after the worker (in reverse order)
            Task {
                if let port = try? await server.listeningPort() {
                    logger.info("serving /metrics, /healthz and /readyz", metadata: ["port": "\(port)"])
                }
            }
        }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
    /// The environment variable of each tuning flag: the same names for every worker.
    public static let environmentVariables: [(flag: String, variable: String)] = [
        ("--concurrency", "TIMEBANK_CONCURRENCY"), ("--claim-batch", "TIMEBANK_CLAIM_BATCH"), ("--prefetch", "TIMEBANK_PREFETCH"),
        ("--poll-milliseconds", "TIMEBANK_POLL_MILLISECONDS"), ("--lease-milliseconds", "TIMEBANK_LEASE_MILLISECONDS"),
        ("--rescue-milliseconds", "TIMEBANK_RESCUE_MILLISECONDS"), ("--heartbeat-milliseconds", "TIMEBANK_HEARTBEAT_MILLISECONDS"),
        ("--gone-after-milliseconds", "TIMEBANK_GONE_AFTER_MILLISECONDS"), ("--database-role", "TIMEBANK_DATABASE_ROLE"),
        ("--log-level", "TIMEBANK_LOG_LEVEL"), ("--metrics-port", "TIMEBANK_METRICS_PORT"),
        ("--pooler", "TIMEBANK_POOLER"), ("--listen-url", "TIMEBANK_LISTEN_URL"), ("--poll-only", "TIMEBANK_POLL_ONLY"),
    ]

    /// The tuning flags, else their environment variables, else the worker's defaults.
    public func apply(to configuration: inout WorkerConfiguration, environment: [String: String]) throws {
        if let value: Int = try Self.setting(concurrency, "TIMEBANK_CONCURRENCY", environment) { configuration.concurrency = value }
        if let value: Int = try Self.setting(claimBatch, "TIMEBANK_CLAIM_BATCH", environment) { configuration.claimBatch = value }
        if let value: Int = try Self.setting(prefetch, "TIMEBANK_PREFETCH", environment) { configuration.prefetch = value }
        if let value: Int = try Self.setting(leaseMilliseconds, "TIMEBANK_LEASE_MILLISECONDS", environment) { configuration.lease = .milliseconds(value) }
        if let value: Int = try Self.setting(rescueMilliseconds, "TIMEBANK_RESCUE_MILLISECONDS", environment) {
            configuration.rescueInterval = .milliseconds(value)
        }
        if let value: Int = try Self.setting(pollMilliseconds, "TIMEBANK_POLL_MILLISECONDS", environment) { configuration.pollInterval = .milliseconds(value) }
        if let value: Int = try Self.setting(heartbeatMilliseconds, "TIMEBANK_HEARTBEAT_MILLISECONDS", environment) {
            configuration.heartbeatInterval = .milliseconds(value)
        }
        if let value: Int = try Self.setting(goneAfterMilliseconds, "TIMEBANK_GONE_AFTER_MILLISECONDS", environment) {
            configuration.goneAfter = .milliseconds(value)
        }
        if let role: String = try Self.setting(databaseRole, "TIMEBANK_DATABASE_ROLE", environment) {
            configuration.databaseRole = role == "none" ? nil : role
        }
        try applyPooling(to: &configuration, environment: environment)
        try configuration.validate()
    }

    /// A flag's value, else its environment variable's (a bad one named), else nil.
    public static func setting<T: LosslessStringConvertible>(_ flag: T?, _ variable: String, _ environment: [String: String]) throws -> T? {
        if let flag { return flag }
        guard let text = environment[variable], !text.isEmpty else { return nil }
        guard let value = T(text) else { throw ValidationError("\(variable): \(text) is not a valid value") }
        return value
    }
}
