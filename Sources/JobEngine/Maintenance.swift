import Logging
import PostgresClient
import ServiceLifecycle

/// The worker's maintenance duties, each a small `Service` of its own on
/// the worker's maintenance connection (an actor: their statements take
/// turns). They ignore graceful shutdown on purpose: leases must be renewed
/// while running jobs finish; the worker cancels them once it has drained.
enum Maintenance {
    /// Runs `tick` now and then every `interval` until cancelled, at a fixed
    /// rate (a slow tick does not push the next one later: a lease renewal
    /// stays within its third of the lease). A failure is logged once per
    /// outage, not once per tick, and retried at the next.
    static func every(
        _ interval: Duration, _ duty: String, logger: Logger, _ tick: @Sendable () async throws -> Void
    ) async {
        let clock = ContinuousClock()
        var failing = false
        while !Task.isCancelled {
            let next = clock.now + interval
            do {
                try await tick()
                if failing { logger.info("maintenance works again", metadata: ["duty": "\(duty)"]) }
                failing = false
            } catch {
                if Task.isCancelled { return }
                if !failing { logger.warning("maintenance failed; retrying", metadata: ["duty": "\(duty)", "error": "\(error)"]) }
                failing = true
            }
            do { try await Task.sleep(until: max(next, clock.now + .milliseconds(50)), clock: clock) } catch { return }
        }
    }
}

/// Extends the leases of the jobs this worker knows it holds, every third
/// of the lease (``WorkerConfiguration/lease``).
struct LeaseRenewal: Service {
    let connection: PostgresConnection
    let worker: String
    let lease: Duration
    let logger: Logger
    /// Running, claimed ahead, or run and not yet recorded.
    let heldJobs: @Sendable () async -> [Int64]

    func run() async {
        await Maintenance.every(lease / 3, "lease renewal", logger: logger) { try await renew() }
    }

    /// Renews what this worker holds; returns it.
    @discardableResult
    func renew() async throws -> [Int64] {
        let held = await heldJobs()
        try await JobStore.renewLeases(connection, worker: worker, jobs: held, lease: lease)
        return held
    }
}

/// Gives the jobs of workers that stopped renewing their leases to be retried.
struct Rescue: Service {
    let connection: PostgresConnection
    let interval: Duration
    /// This worker's own renewal, done first: however late its renewal
    /// service runs (the duties share a connection, and a loaded machine
    /// delays them), a worker never rescues a job it is running.
    let renewal: LeaseRenewal
    let metrics: JobMetrics
    let logger: Logger

    func run() async {
        await Maintenance.every(interval, "rescue", logger: logger) {
            let held = try await renewal.renew()
            // And never what it holds, however long it stalled since renewing (jobs.rescue).
            let rescued = try await JobStore.rescue(connection, worker: renewal.worker, held: held)
            metrics.rescued(rescued.count)
            // One line: how many, and a sample (issue 16: every id on one line ran to a kilobyte).
            if !rescued.isEmpty {
                logger.warning("rescued jobs whose worker stopped renewing",
                               metadata: ["jobs": "\(rescued.count)", "sample_ids": "\(rescued.prefix(5).map { $0 })"])
            }
        }
    }
}

/// Makes scheduled and retryable jobs that fell due available.
struct DuePromotion: Service {
    let connection: PostgresConnection
    let interval: Duration
    let logger: Logger

    func run() async {
        await Maintenance.every(interval, "promotion", logger: logger) {
            try await JobStore.promoteDue(connection)
        }
    }
}

/// Deletes finished jobs past their retention, and idle registrations of
/// workers that stopped refreshing them.
struct Pruning: Service {
    let connection: PostgresConnection
    let interval: Duration
    let retention: Duration
    let logger: Logger

    func run() async {
        await Maintenance.every(interval, "pruning", logger: logger) {
            try await JobStore.prune(connection, retention: retention)
            try await JobStore.forgetSilentIdleWorkers(connection)
        }
    }
}
