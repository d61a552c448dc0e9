import Foundation
import Logging
import PostgresClient
import ServiceLifecycle

/// The job runtime every worker executable runs: per queue a producer
/// that claims jobs (woken by NOTIFY, polling as a fallback), handlers run
/// with bounded concurrency, a completer that records results in batches,
/// and maintenance (lease renewal, rescue of dead workers' jobs, promotion
/// of due jobs, pruning). A swift-service-lifecycle `Service`: on SIGTERM
/// it stops claiming, lets running jobs finish within the grace period,
/// hands the rest back, and returns.
public actor Worker: Service {
    public nonisolated let configuration: WorkerConfiguration
    /// This process's name in `held_by`: worker kind, host, pid, and a
    /// random suffix (a pid can be reused after a restart).
    public nonisolated let instanceID: String
    /// This machine's name, as in `instanceID` and the registry.
    private let host: String
    private let settings: ConnectionSettings
    private let registry: HandlerRegistry
    private let logger: Logger
    private let metrics: JobMetrics

    private var stopping = false
    private var running: [String: Int] = [:]
    /// Claimed ahead (``WorkerConfiguration/prefetch``), not started yet.
    private var waiting: [String: [ClaimedJob]] = [:]
    private var jobTasks: [Int64: Task<Void, Never>] = [:]
    private var producerConnections: [String: PostgresConnection] = [:]
    private var completer: Completer?
    /// The handlers' connections.
    public nonisolated let database: ConnectionPool
    private var drained: CheckedContinuation<Void, Never>?
    /// Jobs finished, and attempts failed, since start (for the registry's heartbeat).
    private var jobsDone = 0
    private var jobsFailed = 0

    public init(
        configuration: WorkerConfiguration, settings: ConnectionSettings, registry: HandlerRegistry,
        logger: Logger = Logger(label: "timebank.jobs")
    ) throws {
        try configuration.validate()
        self.configuration = configuration
        self.settings = settings
        self.registry = registry
        var hostname = [CChar](repeating: 0, count: 256)
        gethostname(&hostname, 255)
        self.host = String(cString: hostname)
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        self.instanceID = "\(configuration.name)@\(host):\(getpid()):\(suffix)"
        var logger = logger
        logger[metadataKey: "worker"] = "\(instanceID)"
        self.logger = logger
        self.metrics = JobMetrics(factory: configuration.metricsFactory)
        var handlerSettings = settings
        handlerSettings.applicationName = "\(configuration.name) handler"
        if let role = configuration.databaseRole { handlerSettings = handlerSettings.with(parameter: "role", role) }
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
    public func beginShutdown() {
        guard !stopping else { return }
        stopping = true
        logger.info("shutting down: no new claims", metadata: ["running": "\(jobTasks.count)"])
        for connection in producerConnections.values { connection.wakeUp() }
    }

    /// Jobs a queue may hold at once: running, and claimed ahead.
    private var capacity: Int { configuration.concurrency + configuration.prefetch }

    /// Free room that makes a claim worth a round trip.
    private var claimThreshold: Int { max(1, min(configuration.claimBatch, capacity / 2)) }

    private func held(_ queue: String) -> Int { running[queue, default: 0] + waiting[queue, default: []].count }

    private func connect(_ role: String) async throws -> PostgresConnection {
        var settings = self.settings
        settings.applicationName = "\(configuration.name) \(role)"
        if let databaseRole = configuration.databaseRole { settings = settings.with(parameter: "role", databaseRole) }
        if configuration.asynchronousCommit { settings = settings.with(parameter: "synchronous_commit", "off") }
        return try await PostgresConnection.connect(settings, logger: logger)
    }

    private func runUntilStopped() async throws {
        let completerConnection = try await connect("completer")
        let completer = Completer(connection: completerConnection, worker: instanceID, logger: logger)
        self.completer = completer
        let maintenanceConnection = try await connect("maintenance")
        try await WorkerRegistry.register(maintenanceConnection, id: instanceID, host: host, configuration: configuration)
        for queue in configuration.queues {
            producerConnections[queue] = try await connect("producer \(queue)")
        }
        logger.info("started", metadata: [
            "queues": "\(configuration.queues)", "concurrency": "\(configuration.concurrency)", "kinds": "\(registry.kinds)",
        ])

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await completer.run() }
            group.addTask { await self.maintain(maintenanceConnection) }
            await withTaskGroup(of: Void.self) { producers in
                for queue in configuration.queues {
                    producers.addTask { await self.produce(queue) }
                }
            }
            // Producers have stopped: let running jobs finish, within the grace.
            await self.drainRunningJobs()
            await completer.finish()
            await group.next()  // the completer, done writing
            group.cancelAll()   // maintenance
        }
        // Whatever is still held (handlers that ignored cancellation) goes back.
        let released = try? await JobStore.release(maintenanceConnection, worker: instanceID)
        for (queue, connection) in producerConnections {
            _ = try? await JobStore.setIdle(connection, queue: queue, worker: instanceID, idle: false)
            await connection.close()
        }
        try? await WorkerRegistry.stopped(maintenanceConnection, id: instanceID, done: jobsDone, failed: jobsFailed)
        await completerConnection.close()
        await maintenanceConnection.close()
        await database.close()
        logger.info("stopped", metadata: ["released": "\(released ?? 0)"])
    }

    // MARK: - Producing

    private func produce(_ queue: String) async {
        guard let connection = producerConnections[queue] else { return }
        let channel = "jobs_" + queue
        var idle = false
        var listening = false
        var failures = 0
        while !stopping {
            do {
                // Once listening, the connection re-listens by itself after a reconnect.
                if !listening {
                    try await connection.listen(channel)
                    listening = true
                }
                // Claim when half the room is free (or all is), not per
                // freed slot: a batch per round trip, not a job.
                let free = capacity - held(queue)
                if free >= claimThreshold || free == capacity {
                    let wanted = min(free, configuration.claimBatch)
                    let jobs = try await JobStore.claim(connection, 
                        queue: queue, limit: wanted, worker: instanceID, lease: configuration.lease)
                    accept(jobs)
                    let queueLooksEmpty = jobs.count < wanted
                    if queueLooksEmpty != idle {
                        try await JobStore.setIdle(connection, queue: queue, worker: instanceID, idle: queueLooksEmpty)
                        idle = queueLooksEmpty
                        // A job enqueued between the claim and the flag sent
                        // no NOTIFY: claim once more before waiting.
                        if idle { continue }
                    }
                    if !queueLooksEmpty { failures = 0; continue }
                }
                failures = 0
                // Wait for a NOTIFY, a freed slot (wakeUp), or the poll interval.
                let event = try await connection.nextNotification(timeout: configuration.pollInterval)
                if event == nil && idle {
                    try await JobStore.setIdle(connection, queue: queue, worker: instanceID, idle: true)  // refreshes last_seen
                }
                if event == .reconnected { idle = false }
            } catch {
                if stopping { break }
                // Cancelled (the service group is going down): stop as on SIGTERM, do not spin.
                if Task.isCancelled {
                    beginShutdown()
                    break
                }
                if failures == 0 {
                    logger.warning("cannot claim jobs; retrying", metadata: ["queue": "\(queue)", "error": "\(error)"])
                }
                failures += 1
                idle = false
                try? await Task.sleep(for: .milliseconds(min(100 << min(failures, 5), 3000)))
            }
        }
    }

    /// Starts claimed jobs, or keeps them until slots free. The jobs of a
    /// batch kind that fit start together, as one batch.
    private func accept(_ jobs: [ClaimedJob]) {
        var batches: [String: [ClaimedJob]] = [:]
        for job in jobs {
            if running[job.queue, default: 0] >= configuration.concurrency {
                waiting[job.queue, default: []].append(job)
            } else if registry.batchHandler(for: job.kind) != nil {
                running[job.queue, default: 0] += 1
                batches[job.kind, default: []].append(job)
            } else {
                start(job)
            }
        }
        for batch in batches.values { startBatch(batch) }
    }

    private func start(_ job: ClaimedJob) {
        running[job.queue, default: 0] += 1
        let handler = registry.handler(for: job.kind)
        var logger = self.logger
        logger[metadataKey: "job_id"] = "\(job.id)"
        logger[metadataKey: "job_kind"] = "\(job.kind)"
        logger[metadataKey: "attempt"] = "\(job.attempt)"
        let context = JobContext(
            jobID: job.id, kind: job.kind, queue: job.queue, attempt: job.attempt,
            maxAttempts: job.maxAttempts, worker: instanceID, logger: logger, database: database)
        let backoff = configuration.backoff
        let metrics = self.metrics
        metrics.claimed(job)
        jobTasks[job.id] = Task {
            let started = ContinuousClock.now
            let result = await Self.execute(job, handler: handler, context: context, backoff: backoff)
            metrics.finished(job, result, runTime: started.duration(to: .now))
            await self.finished(job, result)
        }
    }

    /// Runs jobs of one batch kind in one transaction that also completes
    /// them (their slots are already counted in `running`). If it fails,
    /// each job fails its attempt, as a job of its own would.
    private func startBatch(_ jobs: [ClaimedJob]) {
        guard let handler = registry.batchHandler(for: jobs[0].kind) else { return }
        let worker = instanceID, database = self.database, metrics = self.metrics, backoff = configuration.backoff
        var logger = self.logger
        logger[metadataKey: "job_kind"] = "\(jobs[0].kind)"
        for job in jobs { metrics.claimed(job) }
        let task = Task {
            let started = ContinuousClock.now
            var failure: Error?
            var outcomes: [JobOutcome] = []
            do {
                let arguments = jobs.map(\.arguments)
                outcomes = try await database.withConnection { connection in
                    try await connection.transaction { connection in
                        let outcomes = try handler(arguments, connection)
                        let completed = zip(jobs, outcomes).filter { $0.1 == .completed }.map(\.0)
                        try JobStore.completeInTransaction(connection, completed, worker: worker)
                        return outcomes
                    }
                }
            } catch {
                failure = error
            }
            let runTime = started.duration(to: .now)
            var unrecorded: [AttemptResult] = []
            for (index, job) in jobs.enumerated() {
                let result: AttemptResult
                if failure == nil && outcomes[index] == .completed {
                    // Already marked completed in the batch's own transaction.
                    result = AttemptResult(jobID: job.id, attempt: job.attempt, kind: .completed, runAt: nil, message: nil)
                } else {
                    // A failed batch, or a job the handler snoozed or cancelled:
                    // recorded as a job of its own would be.
                    let handler: HandlerRegistry.Erased
                    if let failure { handler = { _, _ in throw failure } } else { let outcome = outcomes[index]; handler = { _, _ in outcome } }
                    var jobLogger = logger
                    jobLogger[metadataKey: "job_id"] = "\(job.id)"
                    let context = JobContext(
                        jobID: job.id, kind: job.kind, queue: job.queue, attempt: job.attempt,
                        maxAttempts: job.maxAttempts, worker: worker, logger: jobLogger, database: database)
                    result = await Self.execute(job, handler: handler, context: context, backoff: backoff)
                    unrecorded.append(result)
                }
                metrics.finished(job, result, runTime: runTime)
            }
            await self.finishedBatch(jobs, unrecorded: unrecorded)
        }
        for job in jobs { jobTasks[job.id] = task }
    }

    private func finishedBatch(_ jobs: [ClaimedJob], unrecorded: [AttemptResult]) async {
        count(jobs.count - unrecorded.count, failed: 0)
        for result in unrecorded {
            count(result)
            await completer?.submit(result)
        }
        for job in jobs {
            jobTasks[job.id] = nil
            running[job.queue, default: 0] -= 1
        }
        afterSlotsFreed(queue: jobs[0].queue, freed: jobs.count)
    }

    private static func execute(
        _ job: ClaimedJob, handler: HandlerRegistry.Erased?, context: JobContext, backoff: Backoff
    ) async -> AttemptResult {
        guard let handler else {
            let failure = JobFailure.unknownKind(job.kind)
            context.logger.error("discarding job: \(failure)")
            return AttemptResult(jobID: job.id, attempt: job.attempt, kind: .discarded, runAt: nil, message: failure.description)
        }
        do {
            switch try await handler(job.arguments, context) {
            case .completed:
                return AttemptResult(jobID: job.id, attempt: job.attempt, kind: .completed, runAt: nil, message: nil)
            case .snooze(let delay):
                return AttemptResult(jobID: job.id, attempt: job.attempt, kind: .snoozed,
                                     runAt: Date().addingTimeInterval(delay.inSeconds), message: nil)
            case .cancel(let reason):
                return AttemptResult(jobID: job.id, attempt: job.attempt, kind: .cancelled, runAt: nil, message: "cancelled: \(reason)")
            }
        } catch where Task.isCancelled {
            // Cancelled by a shutdown whose grace ran out: not the job's fault.
            context.logger.info("job interrupted by shutdown; handing it back")
            return AttemptResult(jobID: job.id, attempt: job.attempt, kind: .released, runAt: Date(), message: nil)
        } catch let failure as JobFailure {
            context.logger.error("discarding job: \(failure)")
            return AttemptResult(jobID: job.id, attempt: job.attempt, kind: .discarded, runAt: nil, message: failure.description)
        } catch {
            let message = String(describing: error)
            if job.attempt >= job.maxAttempts {
                context.logger.error("job failed on its last attempt; discarding", metadata: ["error": "\(message)"])
                return AttemptResult(jobID: job.id, attempt: job.attempt, kind: .discarded, runAt: nil, message: message)
            }
            let delay = backoff.delay(afterAttempt: job.attempt)
            context.logger.warning("job failed; will retry", metadata: ["error": "\(message)", "retry_in": "\(delay)"])
            return AttemptResult(jobID: job.id, attempt: job.attempt, kind: .failed,
                                 runAt: Date().addingTimeInterval(delay.inSeconds), message: message)
        }
    }

    private func finished(_ job: ClaimedJob, _ result: AttemptResult) async {
        count(result)
        await completer?.submit(result)
        jobTasks[job.id] = nil
        running[job.queue, default: 0] -= 1
        afterSlotsFreed(queue: job.queue, freed: 1)
    }

    private func count(_ result: AttemptResult) {
        switch result.kind {
        case .failed, .discarded: count(0, failed: 1)
        case .completed, .cancelled: count(1, failed: 0)
        case .snoozed, .released: break
        }
    }

    private func count(_ done: Int, failed: Int) {
        jobsDone += done
        jobsFailed += failed
    }

    private func counts() -> (Int, Int) { (jobsDone, jobsFailed) }

    /// Starts jobs claimed ahead, wakes the producer when a claim is worth
    /// it, and ends a shutdown's wait when nothing runs.
    private func afterSlotsFreed(queue: String, freed: Int) {
        if !stopping, var queued = waiting[queue], !queued.isEmpty {
            let room = configuration.concurrency - running[queue, default: 0]
            let next = Array(queued.prefix(max(room, 0)))
            queued.removeFirst(next.count)
            waiting[queue] = queued
            accept(next)
        }
        // The producer waits for enough free room to claim a batch: wake
        // it when the room crosses that line (once, not per freed slot).
        let free = capacity - held(queue)
        if free >= claimThreshold && free - freed < claimThreshold {
            producerConnections[queue]?.wakeUp()
        }
        if jobTasks.isEmpty, let drained {
            self.drained = nil
            drained.resume()
        }
    }

    private func drainRunningJobs() async {
        // Jobs claimed ahead go back at once, unspent.
        for job in waiting.values.joined() {
            await completer?.submit(AttemptResult(jobID: job.id, attempt: job.attempt, kind: .released, runAt: Date(), message: nil))
        }
        waiting.removeAll()
        guard !jobTasks.isEmpty else { return }
        let grace = configuration.shutdownGrace
        let timer = Task {
            try? await Task.sleep(for: grace)
            await self.cancelRunningJobs()
        }
        await withCheckedContinuation { drained = $0 }
        timer.cancel()
    }

    private func cancelRunningJobs() {
        guard !jobTasks.isEmpty else { return }
        logger.warning("shutdown grace over: cancelling running jobs", metadata: ["count": "\(jobTasks.count)"])
        for task in jobTasks.values { task.cancel() }
        // Cancelled handlers that do not return are left behind; their
        // jobs are handed back and any late result is refused.
        if let drained {
            self.drained = nil
            drained.resume()
        }
    }

    // MARK: - Maintenance

    /// The jobs this worker knows it holds: running, or run and not yet recorded.
    private func heldJobs() async -> [Int64] {
        let unwritten = await completer?.unwritten ?? []
        return Array(Set(jobTasks.keys).union(unwritten).union(waiting.values.joined().map(\.id)))
    }

    private func maintain(_ connection: PostgresConnection) async {
        let clock = ContinuousClock()
        var nextRenewal = clock.now, nextRescue = clock.now, nextPromotion = clock.now, nextPrune = clock.now
        var nextHeartbeat = clock.now
        let renewEvery = configuration.lease / 3
        var failing = false
        while !Task.isCancelled {
            let now = clock.now
            do {
                if now >= nextRenewal {
                    let held = await heldJobs()
                    try await JobStore.renewLeases(connection, worker: instanceID, jobs: held, lease: configuration.lease)
                    nextRenewal = now + renewEvery
                }
                if now >= nextHeartbeat {
                    let (done, failed) = counts()
                    try await WorkerRegistry.heartbeat(connection, id: instanceID, done: done, failed: failed)
                    let gone = try await WorkerRegistry.markGone(connection, silentFor: configuration.goneAfter)
                    if !gone.isEmpty { logger.warning("workers stopped heartbeating; marked gone", metadata: ["workers": "\(gone)"]) }
                    for (queue, waiting, oldest) in try await WorkerRegistry.queueDepths(connection, queues: configuration.queues) {
                        metrics.queue(queue, waiting: waiting, oldestSeconds: oldest)
                    }
                    nextHeartbeat = now + configuration.heartbeatInterval
                }
                if now >= nextPromotion {
                    try await JobStore.promoteDue(connection)
                    nextPromotion = now + configuration.promoteInterval
                }
                if now >= nextRescue {
                    let rescued = try await JobStore.rescue(connection)
                    metrics.rescued(rescued.count)
                    if !rescued.isEmpty { logger.warning("rescued jobs whose worker stopped renewing", metadata: ["jobs": "\(rescued)"]) }
                    nextRescue = now + configuration.rescueInterval
                }
                if now >= nextPrune {
                    try await JobStore.prune(connection, retention: configuration.retention)
                    try await JobStore.forgetSilentIdleWorkers(connection)
                    nextPrune = now + configuration.pruneInterval
                }
                if failing { logger.info("maintenance works again") }
                failing = false
            } catch {
                // Once per outage, not once per tick.
                if !failing { logger.warning("maintenance failed; retrying", metadata: ["error": "\(error)"]) }
                failing = true
            }
            let next = min(nextRenewal, nextRescue, nextPromotion, nextPrune, nextHeartbeat)
            try? await Task.sleep(until: max(next, clock.now + .milliseconds(50)), clock: clock)
        }
    }
}
