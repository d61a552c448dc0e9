import Foundation
import Logging
import PostgresClient
import ServiceLifecycle

/// The job runtime every worker executable runs, composed the way River
/// composes its client: per queue a ``Producer`` (claiming, LISTEN wakeups,
/// polling; slots as the ``SlotStateMachine`` says) that runs jobs on the
/// ``Executor``; a ``Completer`` that records results in batches; and the
/// maintenance duties, each a small service (``LeaseRenewal``, ``Rescue``,
/// ``DuePromotion``, ``Pruning``, ``Heartbeat``, and the
/// ``PeriodicEnqueuer`` when the worker declares periodic jobs).
///
/// A swift-service-lifecycle `Service`: on SIGTERM it stops claiming, lets
/// running jobs finish within the grace period, hands the rest back, and
/// returns.
public actor Worker: Service {
    public nonisolated let configuration: WorkerConfiguration
    /// This process's name in `held_by`: worker kind, host, pid, and a
    /// random suffix (a pid can be reused after a restart).
    public nonisolated let instanceID: String
    /// This machine's name, as in `instanceID` and the registry.
    private let host: String
    private let settings: ConnectionSettings
    private let registry: HandlerRegistry
    private let periodicJobs: [PeriodicJob]
    private let logger: Logger
    private let metrics: JobMetrics
    private let tally = WorkerTally()
    /// The handlers' connections.
    public nonisolated let database: ConnectionPool

    private var stopping = false
    private var producers: [Producer] = []

    /// `periodicJobs`: jobs this worker enqueues once per period (see ``PeriodicJob``).
    public init(
        configuration: WorkerConfiguration, settings: ConnectionSettings, registry: HandlerRegistry,
        periodicJobs: [PeriodicJob] = [], logger: Logger = Logger(label: "timebank.jobs")
    ) throws {
        try configuration.validate()
        self.configuration = configuration
        self.settings = settings
        self.registry = registry
        self.periodicJobs = periodicJobs
        var hostname = [CChar](repeating: 0, count: 256)
        gethostname(&hostname, 255)
        self.host = String(cString: hostname)
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        self.instanceID = "\(configuration.name)@\(host):\(getpid()):\(suffix)"
        var logger = logger
        logger[metadataKey: "worker"] = "\(instanceID)"
        self.logger = logger
        self.metrics = JobMetrics(factory: configuration.metricsFactory)
        let handlerSettings = configuration.sessionSettings(settings, for: .handler, applicationName: "\(configuration.name) handler")
        self.database = ConnectionPool(
            settings: handlerSettings, maximum: configuration.handlerConnections ?? min(configuration.concurrency, 16), logger: logger)
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await self.runUntilStopped()
        } onGracefulShutdown: {
            Task { await self.beginShutdown() }
        }
    }

    /// Shutting down: claiming nothing new (readiness checks say so).
    public var isDraining: Bool { stopping }

    /// Stops claiming and wakes every producer, so `run()` winds down.
    public func beginShutdown() async {
        guard !stopping else { return }
        stopping = true
        var running = 0
        for producer in producers { running += await producer.beginShutdown() }
        logger.info("shutting down: no new claims", metadata: ["running": "\(running)"])
    }

    private func connect(_ role: String, for use: WorkerConfiguration.SessionUse = .runtime) async throws -> PostgresConnection {
        let settings = configuration.sessionSettings(self.settings, for: use, applicationName: "\(configuration.name) \(role)")
        return try await PostgresConnection.connect(settings, logger: logger)
    }

    /// Every session with the configuration's timeouts (issue 16: a frozen
    /// worker's transaction is ended within a third of a lease).
    static func bounded(_ settings: ConnectionSettings, _ configuration: WorkerConfiguration) -> ConnectionSettings {
        configuration.sessionTimeouts.reduce(settings) { $0.with(parameter: $1.setting, "\($1.milliseconds)") }
    }

    /// A session of the worker's start, waiting for the database while it is
    /// unreachable or refuses it for now (issue 16: a worker started before
    /// its database, or during a restart or failover, waits instead of
    /// exiting), with backoff, saying so once a minute; nil if the worker is
    /// stopped meanwhile. A refusal waiting cannot cure (a wrong password, a
    /// missing database or role) ends it at once, as before.
    private func connectWaitingForTheDatabase(
        _ role: String, for use: WorkerConfiguration.SessionUse = .runtime
    ) async throws -> PostgresConnection? {
        let since = ContinuousClock.now
        var lastSaid: ContinuousClock.Instant?
        var delay: Duration = .milliseconds(250)
        while !stopping {
            do {
                let connection = try await connect(role, for: use)
                if lastSaid != nil { logger.info("the database answers; starting", metadata: ["waited": "\(since.duration(to: .now))"]) }
                return connection
            } catch let error as PostgresError where error.isTransientConnectFailure {
                if lastSaid.map({ $0.duration(to: .now) >= .seconds(60) }) ?? true {
                    logger.warning("the database does not answer; waiting for it (said again each minute)",
                                   metadata: ["error": "\(error)", "waited": "\(since.duration(to: .now))"])
                    lastSaid = .now
                }
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        return nil
    }

    /// The worker's sessions, opened and registered.
    private struct Sessions {
        var completer: PostgresConnection
        var maintenance: PostgresConnection
        var producers: [PostgresConnection]
    }

    /// Opens every session and registers the worker. Each session waits for
    /// the database as the first does (a database that lets the first in and
    /// refuses the next, by its connection limits, is waited for); one that
    /// goes away while the worker checks the pooler or registers (restarting,
    /// failing over) is waited for from the first session again, instead of
    /// ending the worker. nil if stopped meanwhile.
    private func openSessions() async throws -> Sessions? {
        let sessions: [(role: String, use: WorkerConfiguration.SessionUse)] =
            [("completer", .runtime), ("maintenance", .runtime)] + configuration.queues.map { ("producer \($0)", .producer) }
        while !stopping {
            var opened: [PostgresConnection] = []
            do {
                for session in sessions {
                    guard let connection = try await connectWaitingForTheDatabase(session.role, for: session.use) else { break }
                    opened.append(connection)
                }
                if opened.count == sessions.count {
                    try await PoolerCheck.verify(opened[0], configuration)
                    try await WorkerRegistry.register(opened[1], id: instanceID, host: host, configuration: configuration)
                    return Sessions(completer: opened[0], maintenance: opened[1], producers: Array(opened.dropFirst(2)))
                }
            } catch let error as PostgresError where error.kind == .connectionLost || error.isTransientConnectFailure {
                for connection in opened { await connection.close() }
                logger.warning("the database went away while the worker started; waiting for it", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .seconds(1))
                continue
            } catch {
                for connection in opened { await connection.close() }
                throw error
            }
            // Stopped while connecting.
            for connection in opened { await connection.close() }
        }
        return nil
    }

    private func runUntilStopped() async throws {
        guard let sessions = try await openSessions() else { return }
        let completerConnection = sessions.completer, maintenanceConnection = sessions.maintenance
        let completer = Completer(connection: completerConnection, worker: instanceID, logger: logger)
        let executor = Executor(
            registry: registry, worker: instanceID, database: database, backoff: configuration.backoff, metrics: metrics, logger: logger)
        var producers: [Producer] = []
        for (queue, connection) in zip(configuration.queues, sessions.producers) {
            producers.append(Producer(
                queue: queue, connection: connection, worker: instanceID, configuration: configuration,
                executor: executor, completer: completer, tally: tally, logger: logger,
                onCancelled: { [weak self] in await self?.beginShutdown() }))
        }
        self.producers = producers
        // A shutdown that began while connecting found no producers to stop.
        if stopping { for producer in producers { await producer.beginShutdown() } }
        logger.info("started", metadata: [
            "queues": "\(configuration.queues)", "concurrency": "\(configuration.concurrency)", "kinds": "\(registry.kinds)",
        ])

        let duties = maintenance(on: maintenanceConnection, completer: completer, producers: producers)
        await withTaskGroup(of: Void.self) { maintenance in
            for duty in duties { maintenance.addTask { try? await duty.run() } }
            await withTaskGroup(of: Void.self) { recording in
                recording.addTask { await completer.run() }
                // Each producer claims until shutdown, then lets its running jobs finish, within the grace.
                await withTaskGroup(of: Void.self) { producing in
                    for producer in producers { producing.addTask { await producer.run() } }
                }
                await completer.finish()
            }  // the completer, done writing
            maintenance.cancelAll()
        }
        // Whatever is still held (handlers that ignored cancellation) goes back.
        let released = try? await JobStore.release(maintenanceConnection, worker: instanceID)
        for producer in producers { await producer.close() }
        let (done, failed) = await tally.counts
        try? await WorkerRegistry.stopped(maintenanceConnection, id: instanceID, done: done, failed: failed)
        await completerConnection.close()
        await maintenanceConnection.close()
        await database.close()
        logger.info("stopped", metadata: ["released": "\(released ?? 0)"])
    }

    /// The maintenance duties, sharing one connection.
    private func maintenance(on connection: PostgresConnection, completer: Completer, producers: [Producer]) -> [any Service] {
        let heldJobs: @Sendable () async -> [Int64] = {
            // Producers first: a job handed from a producer to the completer in between is then
            // seen in the completer, not missed by both.
            var held = Set<Int64>()
            for producer in producers { held.formUnion(await producer.heldJobs) }
            held.formUnion(await completer.unwritten)
            return Array(held)
        }
        let renewal = LeaseRenewal(connection: connection, worker: instanceID, lease: configuration.lease, logger: logger, heldJobs: heldJobs)
        var duties: [any Service] = [
            renewal,
            Heartbeat(connection: connection, worker: instanceID, configuration: configuration, tally: tally, metrics: metrics, logger: logger),
            DuePromotion(connection: connection, interval: configuration.promoteInterval, logger: logger),
            Rescue(connection: connection, interval: configuration.rescueInterval, renewal: renewal, metrics: metrics, logger: logger),
            Pruning(connection: connection, interval: configuration.pruneInterval, retention: configuration.retention, logger: logger),
        ]
        if !periodicJobs.isEmpty { duties.append(PeriodicEnqueuer(connection: connection, jobs: periodicJobs, logger: logger)) }
        return duties
    }
}
