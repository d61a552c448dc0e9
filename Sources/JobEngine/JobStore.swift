import Foundation
import PostgresClient

/// The job engine's SQL, one function per statement, each run on a
/// connection's own thread. A job's holder is named in every change made
/// on its behalf, so a worker whose job was rescued cannot complete or fail
/// it afterwards: its late statement matches no row.
enum JobStore {
    /// Claims up to `limit` due jobs of a queue. The ids are picked in a
    /// subquery with FOR UPDATE SKIP LOCKED and LIMIT, so concurrent workers
    /// skip each other's rows and the UPDATE touches no more than `limit`.
    static func claim(
        _ connection: isolated PostgresConnection, queue: String, limit: Int, worker: String, lease: Duration
    ) throws -> [ClaimedJob] {
        let rows = try connection.query("""
            UPDATE jobs.job AS j
               SET state = 'running', attempt = j.attempt + 1, attempted_at = now(),
                   held_by = $3, lease_expires_at = now() + $4::interval
              FROM (SELECT id FROM jobs.job
                     WHERE state = 'available' AND queue = $1 AND run_at <= now()
                       AND NOT EXISTS (SELECT 1 FROM jobs.queue q WHERE q.name = $1 AND q.paused)
                     ORDER BY priority, run_at, id
                     LIMIT $2
                       FOR UPDATE SKIP LOCKED) AS next
             WHERE j.id = next.id
            RETURNING j.id, j.kind, j.queue, j.args::text AS args, j.attempt, j.max_attempts, j.run_at, j.attempted_at
            """, [queue, limit, worker, lease])
        return try rows.map(ClaimedJob.init(row:))
    }

    /// Records a batch of attempts' ends in one statement; only rows still
    /// held by `worker` at that attempt change.
    @discardableResult
    static func record(_ connection: isolated PostgresConnection, _ results: [AttemptResult], worker: String) throws -> Int {
        guard !results.isEmpty else { return 0 }
        return try connection.execute("""
            UPDATE jobs.job AS j
               SET state = r.state::jobs.job_state,
                   -- A snooze or a release at shutdown gives the attempt back.
                   attempt = CASE WHEN r.state IN ('scheduled', 'available') THEN j.attempt - 1 ELSE j.attempt END,
                   run_at = coalesce(r.run_at, j.run_at),
                   held_by = NULL, lease_expires_at = NULL,
                   finalized_at = CASE WHEN r.state IN ('completed', 'discarded', 'cancelled') THEN now() END,
                   errors = CASE WHEN r.message IS NULL THEN j.errors
                                 ELSE j.errors || jsonb_build_object('attempt', j.attempt, 'at', now(), 'error', r.message) END
              FROM unnest($1::bigint[], $2::int[], $3::text[], $4::timestamptz[], $5::text[])
                   AS r(id, attempt, state, run_at, message)
             WHERE j.id = r.id AND j.attempt = r.attempt AND j.state = 'running' AND j.held_by = $6
            """, [
                results.map(\.jobID), results.map { Int32($0.attempt) }, results.map { state(of: $0.kind) },
                results.map(\.runAt), results.map(\.message), worker,
            ])
    }

    /// Completes a batch's jobs inside the transaction that did their work,
    /// guarded like ``record(_:_:worker:)``: a job rescued from this worker
    /// meanwhile is left to its new holder (whose run finds the work done).
    static func completeInTransaction(_ connection: isolated PostgresConnection, _ jobs: [ClaimedJob], worker: String) throws {
        try connection.execute("""
            UPDATE jobs.job AS j
               SET state = 'completed', held_by = NULL, lease_expires_at = NULL, finalized_at = now()
              FROM unnest($1::bigint[], $2::int[]) AS r(id, attempt)
             WHERE j.id = r.id AND j.attempt = r.attempt AND j.state = 'running' AND j.held_by = $3
            """, [jobs.map(\.id), jobs.map { Int32($0.attempt) }, worker])
    }

    private static func state(of kind: AttemptResult.Kind) -> String {
        switch kind {
        case .completed: return "completed"
        case .failed: return "retryable"
        case .discarded: return "discarded"
        case .snoozed: return "scheduled"
        case .cancelled: return "cancelled"
        case .released: return "available"
        }
    }

    /// Extends the leases of the jobs `worker` knows it holds. Only those:
    /// a claim whose answer was lost with the connection left rows held in
    /// this worker's name that it never ran, and their leases must run out
    /// so that the rescue gives them to someone.
    @discardableResult
    static func renewLeases(_ connection: isolated PostgresConnection, worker: String, jobs: [Int64], lease: Duration) throws -> Int {
        guard !jobs.isEmpty else { return 0 }
        return try connection.execute("""
            UPDATE jobs.job SET lease_expires_at = now() + $3::interval
             WHERE id = ANY($2) AND state = 'running' AND held_by = $1
            """, [worker, jobs, lease])
    }

    /// Returns jobs whose lease expired (their worker died) to be retried,
    /// or discards them when no attempt is left. Safe in many workers at
    /// once: each takes the rows the others have not locked.
    @discardableResult
    static func rescue(_ connection: isolated PostgresConnection, limit: Int = 1000) throws -> [Int64] {
        try connection.query("""
            UPDATE jobs.job AS j
               SET state = CASE WHEN j.attempt >= j.max_attempts THEN 'discarded' ELSE 'retryable' END::jobs.job_state,
                   finalized_at = CASE WHEN j.attempt >= j.max_attempts THEN now() END,
                   run_at = now(),
                   errors = j.errors || jsonb_build_object('attempt', j.attempt, 'at', now(),
                            'error', 'rescued: the lease of ' || j.held_by || ' expired'),
                   held_by = NULL, lease_expires_at = NULL
              FROM (SELECT id FROM jobs.job
                     WHERE state = 'running' AND lease_expires_at < now()
                     ORDER BY lease_expires_at
                     LIMIT $1
                       FOR UPDATE SKIP LOCKED) AS expired
             WHERE j.id = expired.id
            RETURNING j.id
            """, [limit]).map { try $0.decode("id", as: Int64.self) }
    }

    /// Makes scheduled and retryable jobs that fell due available, and
    /// wakes the idle workers of their queues.
    @discardableResult
    static func promoteDue(_ connection: isolated PostgresConnection, limit: Int = 5000) throws -> Int {
        let queues = try connection.query("""
            WITH due AS (
                UPDATE jobs.job AS j SET state = 'available'
                  FROM (SELECT id FROM jobs.job
                         WHERE state IN ('scheduled', 'retryable') AND run_at <= now()
                         ORDER BY run_at LIMIT $1 FOR UPDATE SKIP LOCKED) AS d
                 WHERE j.id = d.id
                RETURNING j.queue)
            SELECT queue, count(*) AS n, jobs.wake(queue) IS NULL AS woke FROM due GROUP BY queue
            """, [limit])
        return try queues.reduce(0) { $0 + (try $1.decode("n", as: Int.self)) }
    }

    /// Deletes finished jobs older than `retention`, a batch at a time.
    @discardableResult
    static func prune(_ connection: isolated PostgresConnection, retention: Duration, limit: Int = 10_000) throws -> Int {
        try connection.execute("""
            DELETE FROM jobs.job WHERE id IN (
                SELECT id FROM jobs.job
                 WHERE finalized_at < now() - $1::interval
                 ORDER BY finalized_at LIMIT $2)
            """, [retention, limit])
    }

    /// Marks this worker idle on a queue (so enqueues notify), or not.
    static func setIdle(_ connection: isolated PostgresConnection, queue: String, worker: String, idle: Bool) throws {
        if idle {
            try connection.execute("""
                INSERT INTO jobs.idle_worker (queue, worker) VALUES ($1, $2)
                ON CONFLICT (queue, worker) DO UPDATE SET last_seen = now()
                """, [queue, worker])
        } else {
            try connection.execute("DELETE FROM jobs.idle_worker WHERE queue = $1 AND worker = $2", [queue, worker])
        }
    }

    /// Forgets idle registrations of workers that stopped refreshing them
    /// (a crashed worker's row would only cause needless NOTIFYs).
    static func forgetSilentIdleWorkers(_ connection: isolated PostgresConnection) throws {
        try connection.execute("DELETE FROM jobs.idle_worker WHERE last_seen < now() - interval '5 minutes'")
    }

    /// Hands back the jobs this worker still holds (at shutdown), as if
    /// never attempted, for other workers to take at once.
    @discardableResult
    static func release(_ connection: isolated PostgresConnection, worker: String) throws -> Int {
        try connection.execute("""
            UPDATE jobs.job SET state = 'available', attempt = greatest(attempt - 1, 0),
                   held_by = NULL, lease_expires_at = NULL
             WHERE state = 'running' AND held_by = $1
            """, [worker])
    }
}
