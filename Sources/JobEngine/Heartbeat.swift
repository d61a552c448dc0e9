import Logging
import PostgresClient
import ServiceLifecycle

/// Jobs finished, and attempts failed, since the worker started: what its
/// heartbeat reports in the registry (`timebank workers`).
actor WorkerTally {
    private(set) var done = 0
    private(set) var failed = 0

    /// `completed` jobs completed in their batch's transaction, and the results of the others.
    func count(completed: Int, _ results: [AttemptResult]) {
        done += completed
        for result in results {
            switch result.kind {
            case .failed, .discarded: failed += 1
            case .completed, .cancelled: done += 1
            case .snoozed, .released: break
            }
        }
    }

    var counts: (done: Int, failed: Int) { (done, failed) }
}

/// Says the worker is alive, marks silent workers gone, and samples the
/// depth of its queues for the metrics.
struct Heartbeat: Service {
    let connection: PostgresConnection
    let worker: String
    let configuration: WorkerConfiguration
    let tally: WorkerTally
    let metrics: JobMetrics
    let logger: Logger

    func run() async {
        await Maintenance.every(configuration.heartbeatInterval, "heartbeat", logger: logger) {
            let (done, failed) = await tally.counts
            try await WorkerRegistry.heartbeat(connection, id: worker, done: done, failed: failed)
            let gone = try await WorkerRegistry.markGone(connection, silentFor: configuration.goneAfter)
            if !gone.isEmpty { logger.warning("workers stopped heartbeating; marked gone", metadata: ["workers": "\(gone)"]) }
            for (queue, waiting, oldest) in try await WorkerRegistry.queueDepths(connection, queues: configuration.queues) {
                metrics.queue(queue, waiting: waiting, oldestSeconds: oldest)
            }
        }
    }
}
