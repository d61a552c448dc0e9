import Foundation
import JobEngine
import PostgresClient

/// What `timebank top` shows, read from PostgreSQL alone: per queue, jobs
/// waiting and running, completed and failed per second over the last
/// `window`, the oldest waiting job's age; per worker instance, its
/// counters and heartbeat (rates come from two snapshots: ``TopView``).
public struct TopSnapshot: Sendable, Equatable {
    public struct Queue: Sendable, Equatable {
        public var name: String
        public var paused: Bool
        public var waiting: Int
        public var running: Int
        public var completedPerSecond: Double
        public var failedPerSecond: Double
        public var oldestWaitingSeconds: Double?

        public init(name: String, paused: Bool = false, waiting: Int, running: Int, completedPerSecond: Double,
                    failedPerSecond: Double, oldestWaitingSeconds: Double?) {
            self.name = name
            self.paused = paused
            self.waiting = waiting
            self.running = running
            self.completedPerSecond = completedPerSecond
            self.failedPerSecond = failedPerSecond
            self.oldestWaitingSeconds = oldestWaitingSeconds
        }
    }

    public struct Worker: Sendable, Equatable {
        public var id: String
        public var state: String
        public var jobsDone: Int
        public var jobsFailed: Int
        public var heartbeatAgeSeconds: Double

        public init(id: String, state: String, jobsDone: Int, jobsFailed: Int, heartbeatAgeSeconds: Double) {
            self.id = id
            self.state = state
            self.jobsDone = jobsDone
            self.jobsFailed = jobsFailed
            self.heartbeatAgeSeconds = heartbeatAgeSeconds
        }
    }

    public var takenAt: Date
    public var queues: [Queue]
    public var workers: [Worker]

    public init(takenAt: Date, queues: [Queue], workers: [Worker]) {
        self.takenAt = takenAt
        self.queues = queues
        self.workers = workers
    }

    /// One read of the queues' depth (the view `jobs.queue_depth`), their
    /// rates over `window` (`jobs.job_summary`), and the worker registry (`jobs.worker_state`).
    public static func take(_ connection: PostgresConnection, window: Duration = .seconds(5)) async throws -> TopSnapshot {
        let queues = try await connection.query(
            """
            SELECT d.queue, d.paused, d.waiting, d.running, d.oldest_waiting_seconds AS oldest,
                   (SELECT count(*) FROM jobs.job_summary WHERE queue = d.queue AND state = 'completed'
                       AND finalized_at > now() - $1::interval)::float8 / extract(epoch FROM $1::interval)::float8 AS completed_rate,
                   (SELECT count(*) FROM jobs.job_summary WHERE queue = d.queue AND state IN ('retryable', 'discarded')
                       AND attempted_at > now() - $1::interval)::float8 / extract(epoch FROM $1::interval)::float8 AS failed_rate
              FROM jobs.queue_depth d ORDER BY d.queue
            """, [window]
        ).map { row in
            Queue(name: try row.decode("queue"), paused: try row.decode("paused"), waiting: try row.decode("waiting"),
                  running: try row.decode("running"), completedPerSecond: try row.decode("completed_rate"),
                  failedPerSecond: try row.decode("failed_rate"), oldestWaitingSeconds: try row.decode("oldest"))
        }
        let workers = try await connection.query(
            """
            SELECT id, state, jobs_done, jobs_failed, heartbeat_age_seconds AS age
              FROM jobs.worker_state
             WHERE ended_at IS NULL OR ended_at > now() - interval '10 minutes'
             ORDER BY kind, started_at
            """
        ).map { row in
            Worker(id: try row.decode("id"), state: try row.decode("state"), jobsDone: try row.decode("jobs_done"),
                   jobsFailed: try row.decode("jobs_failed"), heartbeatAgeSeconds: try row.decode("age"))
        }
        return TopSnapshot(takenAt: Date(), queues: queues, workers: workers)
    }
}
