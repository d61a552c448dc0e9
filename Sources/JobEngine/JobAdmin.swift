import Foundation
import PostgresClient

/// What operators do to queues and jobs (`timebank jobs ...`).
public enum JobAdmin {
    /// A job as operators see it.
    public struct JobSummary: Sendable {
        public var id: Int64
        public var kind: String
        public var queue: String
        public var state: String
        public var attempt: Int
        public var maxAttempts: Int
        public var runAt: Date
        public var heldBy: String?
        public var createdAt: Date
        public var arguments: String
        public var errors: String

        init(_ row: PostgresRow) throws {
            id = try row.decode("id")
            kind = try row.decode("kind")
            queue = try row.decode("queue")
            state = try row.decode("state")
            attempt = try row.decode("attempt")
            maxAttempts = try row.decode("max_attempts")
            runAt = try row.decode("run_at")
            heldBy = try row.decode("held_by")
            createdAt = try row.decode("created_at")
            arguments = try row.decode("args")
            errors = try row.decode("errors")
        }
    }

    /// Per queue and state: how many jobs, and the oldest due available job's wait.
    public struct QueueStats: Sendable {
        public var queue: String
        public var paused: Bool
        public var counts: [String: Int]
        public var oldestAvailableAge: Double?
    }

    static let columns = "id, kind, queue, state, attempt, max_attempts, run_at, held_by, created_at, args::text AS args, errors::text AS errors"

    public static func setPaused(_ connection: isolated PostgresConnection, queue: String, paused: Bool) throws {
        // sql/functions/jobs/admin.sql: resuming wakes idle workers at once.
        try connection.query("SELECT jobs.set_queue_paused($1, $2)", [queue, paused])
    }

    public static func stats(_ connection: isolated PostgresConnection) throws -> [QueueStats] {
        let rows = try connection.query("""
            SELECT d.queue, d.paused, d.oldest_waiting_seconds AS oldest,
                   -- Every state's count, finished ones too (the view counts the unfinished alone).
                   (SELECT coalesce(jsonb_object_agg(state, n), '{}')::text
                      FROM (SELECT state, count(*) AS n FROM jobs.job_summary WHERE queue = d.queue GROUP BY state) s) AS counts
              FROM jobs.queue_depth d ORDER BY d.queue
            """)
        return try rows.map { row in
            let counts = try JSONDecoder().decode([String: Int].self, from: Data(try row.decode("counts", as: String.self).utf8))
            return QueueStats(queue: try row.decode("queue"), paused: try row.decode("paused"), counts: counts,
                              oldestAvailableAge: try row.decode("oldest", as: Double?.self))
        }
    }

    public static func list(
        _ connection: isolated PostgresConnection, state: String?, queue: String?, kind: String?, limit: Int
    ) throws -> [JobSummary] {
        try connection.query("""
            SELECT \(columns) FROM jobs.job_summary
             WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR queue = $2) AND ($3::text IS NULL OR kind = $3)
             ORDER BY id DESC LIMIT $4
            """, [state, queue, kind, limit]).map(JobSummary.init)
    }

    public static func show(_ connection: isolated PostgresConnection, id: Int64) throws -> JobSummary? {
        try connection.query("SELECT \(columns) FROM jobs.job_summary WHERE id = $1", [id]).first.map(JobSummary.init)
    }

    /// Makes a job that is not running available now, with at least one
    /// attempt left. Returns false when there is no such job. (The SQL of
    /// this and the next two is sql/functions/jobs/admin.sql's: the web
    /// console acts through the same functions.)
    public static func retry(_ connection: isolated PostgresConnection, id: Int64) throws -> Bool {
        try connection.query("SELECT jobs.retry_job($1) AS done", [id])[0].decode("done")
    }

    /// Cancels an unfinished job. A running one is cancelled too: its
    /// worker's result will be refused, since the row is no longer running.
    public static func cancel(_ connection: isolated PostgresConnection, id: Int64) throws -> Bool {
        try connection.query("SELECT jobs.cancel_job($1) AS done", [id])[0].decode("done")
    }

    /// Deletes finished jobs older than `retention`; returns how many.
    public static func prune(_ connection: isolated PostgresConnection, retention: Duration) throws -> Int {
        var total = 0
        while true {
            let deleted = try JobStore.prune(connection, retention: retention)
            total += deleted
            if deleted < 10_000 { return total }
        }
    }
}
