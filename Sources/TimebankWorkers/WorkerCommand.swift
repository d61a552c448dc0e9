import ArgumentParser
import JobEngine
import Logging
import PostgresClient
import CoreMetrics
import Prometheus
import ServiceLifecycle
import TimebankDatabase

/// The command line every worker executable shares: the same flags in
/// each, so operators learn them once.
public struct WorkerOptions: ParsableArguments {
    @OptionGroup public var database: DatabaseOptions
    @Option(help: "Jobs run at once (default: the worker's own).") public var concurrency: Int?
    @Option(help: "Jobs claimed per statement (default: the worker's own).") public var claimBatch: Int?
    @Option(help: "Jobs claimed ahead of free slots.") public var prefetch: Int?
    @Option(help: "How often an idle worker polls for jobs besides being notified, in milliseconds.") public var pollMilliseconds: Int?
    @Option(help: "How long a claimed job stays held without renewal, in milliseconds (a dead worker's jobs are rescued after it).")
    public var leaseMilliseconds: Int?
    @Option(help: "How often expired leases are looked for, in milliseconds.") public var rescueMilliseconds: Int?
    @Option(help: "How often the worker heartbeats in the registry (timebank workers), in milliseconds.") public var heartbeatMilliseconds: Int?
    @Option(help: "After how long without a heartbeat a worker is marked gone, in milliseconds.") public var goneAfterMilliseconds: Int?
    @Option(help: ArgumentHelp(
        "Database role the sessions act as; the login user must be a member (default: timebank_<worker>; 'none': the login user's own).",
        valueName: "role"))
    public var databaseRole: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") public var logLevel = "info"
    @Option(help: ArgumentHelp("Serve Prometheus metrics (/metrics) and health (/healthz, /readyz) on this port (0: any free one).", valueName: "port"))
    public var metricsPort: Int?

    public init() {}

    /// Runs `kind`'s worker until SIGTERM or SIGINT, then shuts down
    /// gracefully (running jobs finish within the grace, the rest go back).
    public func run(_ kind: WorkerKind, runtime: WorkerRuntime? = nil) async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        // Metrics first: the runtime and the handlers take their factory when they are made.
        let prometheus = PrometheusCollectorRegistry()
        if metricsPort != nil { MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus)) }
        var configuration = kind.configuration()
        if let concurrency { configuration.concurrency = concurrency }
        if let claimBatch { configuration.claimBatch = claimBatch }
        if let prefetch { configuration.prefetch = prefetch }
        if let leaseMilliseconds { configuration.lease = .milliseconds(leaseMilliseconds) }
        if let rescueMilliseconds { configuration.rescueInterval = .milliseconds(rescueMilliseconds) }
        if let pollMilliseconds { configuration.pollInterval = .milliseconds(pollMilliseconds) }
        if let heartbeatMilliseconds { configuration.heartbeatInterval = .milliseconds(heartbeatMilliseconds) }
        if let goneAfterMilliseconds { configuration.goneAfter = .milliseconds(goneAfterMilliseconds) }
        configuration.version = WorkerKind.version
        if let databaseRole { configuration.databaseRole = databaseRole == "none" ? nil : databaseRole }
        let settings = try await database.resolve(applicationName: kind.executable)
        let logger = Logger(label: "timebank.\(kind.executable)")
        let registry = try kind.registry(runtime)
        if kind == .insuranceClaim || kind == .notification {
            // Jobs that keep themselves going, started here (once: unique keys): R24's daily export
            // to Volunteer Beijing; R21's scheduled supervision scan.
            var role = settings
            if let databaseRole = configuration.databaseRole { role = settings.with(parameter: "role", databaseRole) }
            let connection = try await PostgresConnection.connect(role)
            try await connection.transaction { connection in
                if kind == .insuranceClaim { try RegistryExportHandler.scheduleYesterday(on: connection) }
                if kind == .notification { try SupervisionScan.schedule(on: connection) }
            }
            await connection.close()
        }
        let worker = try Worker(configuration: configuration, settings: settings, registry: registry, logger: logger)
        var services: [any Service] = [worker]
        if let metricsPort {
            guard (0...65535).contains(metricsPort) else { throw ValidationError("--metrics-port: 0 to 65535") }
            let known = (try? Migration.load(from: Migration.defaultDirectory()))?.count
            let readiness = Readiness(settings: settings, migrations: known, draining: { await worker.isDraining })
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
}
