import Foundation
import PostgresClient

/// The worker registry's SQL (table: sql/migrations/0019; functions: sql/functions/jobs/registry.sql; view: sql/views/jobs.sql): register at start, heartbeat,
/// mark the silent gone, record a graceful stop; and the listing
/// `timebank workers` shows.
public enum WorkerRegistry {
    static func register(_ connection: isolated PostgresConnection, id: String, host: String, configuration: WorkerConfiguration) throws {
        _ = try connection.query(
            "SELECT jobs.register_worker($1, $2, $3, $4::integer, $5, $6::text[], $7::integer)",
            [id, configuration.name, host, Int(getpid()), configuration.version, configuration.queues, configuration.concurrency])
    }

    static func heartbeat(_ connection: isolated PostgresConnection, id: String, done: Int, failed: Int) throws {
        _ = try connection.query("SELECT jobs.worker_heartbeat($1, $2::bigint, $3::bigint)", [id, done, failed])
    }

    /// Marks gone every live worker silent longer than `silentFor`; their ids.
    static func markGone(_ connection: isolated PostgresConnection, silentFor: Duration) throws -> [String] {
        try connection.query("SELECT id FROM jobs.mark_silent_workers_gone($1::interval) AS id", [silentFor]).map { try $0.decode("id", as: String.self) }
    }

    static func stopped(_ connection: isolated PostgresConnection, id: String, done: Int, failed: Int) throws {
        _ = try connection.query("SELECT jobs.worker_stopped($1, $2::bigint, $3::bigint)", [id, done, failed])
    }

    /// Jobs waiting in each of `queues` and the oldest one's age, for the queue gauges.
    /// Not the view `jobs.queue_depth`, which operators read: it finds every queue the job
    /// table holds (a scan of all of it), while this runs every heartbeat in every worker, on
    /// the worker's own queues, through the claim indexes alone.
    static func queueDepths(_ connection: isolated PostgresConnection, queues: [String]) throws -> [(String, Int, Double)] {
        try connection.query(
            """
            SELECT q.name AS queue, (plain.n + keyed.n)::integer AS waiting,
                   coalesce(extract(epoch FROM now() - least(plain.oldest, keyed.oldest)), 0)::float8 AS oldest
              FROM unnest($1::text[]) AS q(name)
             -- The jobs without a limit key and those with one: each part reads its claim index.
             CROSS JOIN LATERAL (SELECT count(*) AS n, min(j.run_at) AS oldest FROM jobs.job j
                                  WHERE j.queue = q.name AND j.state = 'available' AND j.limit_key IS NULL AND j.run_at <= now()) AS plain
             CROSS JOIN LATERAL (SELECT count(*) AS n, min(j.run_at) AS oldest FROM jobs.job j
                                  WHERE j.queue = q.name AND j.state = 'available' AND j.limit_key IS NOT NULL AND j.run_at <= now()) AS keyed
            """, [queues]
        ).map { (try $0.decode("queue", as: String.self), try $0.decode("waiting", as: Int.self), try $0.decode("oldest", as: Double.self)) }
    }

    /// A worker process as the registry knows it.
    public struct Instance: Sendable, Equatable {
        public var id: String
        public var kind: String
        public var host: String
        public var pid: Int
        public var version: String
        public var queues: [String]
        public var concurrency: Int
        public var startedAt: Date
        public var heartbeatAt: Date
        public var jobsDone: Int
        public var jobsFailed: Int
        /// live, stopped, or gone.
        public var state: String
        public var endedAt: Date?
    }

    /// Live workers, and those that ended within `recent`.
    public static func list(_ connection: PostgresConnection, recent: Duration = .seconds(3600)) async throws -> [Instance] {
        try await connection.query(
            """
            SELECT id, kind, host, pid, version, queues, concurrency, started_at, heartbeat_at, jobs_done, jobs_failed, state, ended_at
              FROM jobs.worker_state
             WHERE ended_at IS NULL OR ended_at > now() - $1::interval
             ORDER BY state DESC, kind, started_at
            """, [recent]
        ).map { row in
            Instance(id: try row.decode("id"), kind: try row.decode("kind"), host: try row.decode("host"), pid: try row.decode("pid"),
                     version: try row.decode("version"), queues: try row.decode("queues"), concurrency: try row.decode("concurrency"),
                     startedAt: try row.decode("started_at"), heartbeatAt: try row.decode("heartbeat_at"), jobsDone: try row.decode("jobs_done"),
                     jobsFailed: try row.decode("jobs_failed"), state: try row.decode("state"), endedAt: try row.decode("ended_at"))
        }
    }
}
