import Logging
import PostgresClient
import ServiceLifecycle

/// The worker's maintenance duties, each a small `Service` of its own on
/// the worker's maintenance connection (an actor: their statements take
/// turns). They ignore graceful shutdown on purpose: leases must be renewed
/// while running jobs finish; the worker cancels them once it has drained.
enum Maintenance {
    /// Runs `tick` now and then every `interval` until cancelled. A failure
    /// is logged once per outage, not once per tick, and retried at the next.
    static func every(
        _ interval: Duration, _ duty: String, logger: Logger, _ tick: @Sendable () async throws -> Void
    ) async {
        var failing = false
        while !Task.isCancelled {
            do {
                try await tick()
                if failing { logger.info("maintenance works again", metadata: ["duty": "\(duty)"]) }
                failing = false
            } catch {
                if Task.isCancelled { return }
                if !failing { logger.warning("maintenance failed; retrying", metadata: ["duty": "\(duty)", "error": "\(error)"]) }
                failing = true
            }
            do { try await Task.sleep(for: max(interval, .milliseconds(50))) } catch { return }
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
        await Maintenance.every(lease / 3, "lease renewal", logger: logger) {
            let held = await heldJobs()
            try await JobStore.renewLeases(connection, worker: worker, jobs: held, lease: lease)
        }
    }
}

/// Gives the jobs of workers that stopped renewing their leases to be retried.
struct Rescue: Service {
    let connection: PostgresConnection
    let interval: Duration
    let metrics: JobMetrics
    let logger: Logger

    func run() async {
        await Maintenance.every(interval, "rescue", logger: logger) {
            let rescued = try await JobStore.rescue(connection)
            metrics.rescued(rescued.count)
            if !rescued.isEmpty { logger.warning("rescued jobs whose worker stopped renewing", metadata: ["jobs": "\(rescued)"]) }
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
