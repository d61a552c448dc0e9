import Foundation
import PostgresClient

/// The job engine's SQL: one call per statement of the functions in
/// sql/functions/jobs/engine.sql, each run on a connection's own thread.
/// The functions are SECURITY DEFINER and touch only the queues the
/// session's login works (issue 15): no worker role writes jobs.job. A
/// job's holder is named in every change made on its behalf, so a worker
/// whose job was rescued cannot complete or fail it afterwards: its late
/// statement matches no row.

enum JobStore {
    /// Claims up to `limit` due jobs of a queue (FOR UPDATE SKIP LOCKED: concurrent
    /// workers skip each other's rows).
    static func claim(
        _ connection: isolated PostgresConnection, queue: String, limit: Int, worker: String, lease: Duration
    ) throws -> [ClaimedJob] {
        let rows = try connection.query(
            "SELECT \(claimedColumns) FROM jobs.claim($1, $2::integer, $3, $4::interval)", [queue, limit, worker, lease])
        return try rows.map(ClaimedJob.init(row:))
    }

    /// Records `results` (attempts' ends the completer has not written)
    /// and claims up to `limit` due jobs, in one statement: one round trip
    /// and one commit for both (issue 18, item 2). Each half is guarded as
    /// ``record(_:_:worker:)`` and ``claim(_:queue:limit:worker:lease:)`` are.
    static func recordAndClaim(
        _ connection: isolated PostgresConnection, _ results: [AttemptResult], queue: String, limit: Int, worker: String, lease: Duration
    ) throws -> [ClaimedJob] {
        guard !results.isEmpty else { return try claim(connection, queue: queue, limit: limit, worker: worker, lease: lease) }
        let rows = try connection.query(
            """
            SELECT \(claimedColumns)
              FROM jobs.record_and_claim($1::bigint[], $2::int[], $3::text[], $4::timestamptz[], $5::text[], $6, $7::integer, $8, $9::interval)
            """, resultArrays(results) + [queue, limit, worker, lease])
        return try rows.map(ClaimedJob.init(row:))
    }

    /// Records a batch of attempts' ends in one statement; only rows still
    /// held by `worker` at that attempt change.
    @discardableResult
    static func record(_ connection: isolated PostgresConnection, _ results: [AttemptResult], worker: String) throws -> Int {
        guard !results.isEmpty else { return 0 }
        return try connection.query(
            "SELECT jobs.record($1::bigint[], $2::int[], $3::text[], $4::timestamptz[], $5::text[], $6) AS n",
            resultArrays(results) + [worker])[0].decode("n", as: Int.self)
    }

    /// What a claim returns, as ``ClaimedJob/init(row:)`` reads it.
    private static let claimedColumns = "id, kind, queue, args, attempt, max_attempts, run_at, attempted_at"

    /// Attempts' ends as jobs.record's five arrays (id, attempt, state, run_at, message), for it and jobs.record_and_claim.
    private static func resultArrays(_ results: [AttemptResult]) -> [any PostgresEncodable] {
        [results.map(\.jobID), results.map { Int32($0.attempt) }, results.map { state(of: $0.kind) },
         results.map(\.runAt), results.map(\.message)]
    }

    /// Completes a batch's jobs inside the transaction that did their work,
    /// guarded like ``record(_:_:worker:)``: a job rescued from this worker
    /// meanwhile is left to its new holder (whose run finds the work done).
    static func completeInTransaction(_ connection: isolated PostgresConnection, _ jobs: [ClaimedJob], worker: String) throws {
        try connection.query("SELECT jobs.complete($1::bigint[], $2::int[], $3)",
                             [jobs.map(\.id), jobs.map { Int32($0.attempt) }, worker])
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
        return try connection.query("SELECT jobs.renew_leases($1, $2::bigint[], $3::interval) AS n", [worker, jobs, lease])[0]
            .decode("n", as: Int.self)
    }

    /// Returns jobs whose lease expired (their worker died) to be retried,
    /// or discards them when no attempt is left; never the jobs `worker`
    /// says it holds (`held`: see jobs.rescue).
    @discardableResult
    static func rescue(_ connection: isolated PostgresConnection, limit: Int = 1000, worker: String, held: [Int64]) throws -> [Int64] {
        try connection.query("SELECT id FROM jobs.rescue($1::integer, $2, $3::bigint[]) AS id", [limit, worker, held])
            .map { try $0.decode("id", as: Int64.self) }
    }

    /// Makes scheduled and retryable jobs that fell due available, and
    /// wakes the idle workers of their queues.
    @discardableResult
    static func promoteDue(_ connection: isolated PostgresConnection, limit: Int = 5000) throws -> Int {
        try connection.query("SELECT jobs.promote_due($1::integer) AS n", [limit])[0].decode("n", as: Int.self)
    }

    /// Deletes finished jobs older than `retention`, a batch at a time.
    @discardableResult
    static func prune(_ connection: isolated PostgresConnection, retention: Duration, limit: Int = 10_000) throws -> Int {
        try connection.query("SELECT jobs.prune($1::interval, $2::integer) AS n", [retention, limit])[0].decode("n", as: Int.self)
    }

    /// Marks this worker idle on a queue (so enqueues notify), or not.
    static func setIdle(_ connection: isolated PostgresConnection, queue: String, worker: String, idle: Bool) throws {
        try connection.query("SELECT jobs.set_idle($1, $2, $3)", [queue, worker, idle])
    }

    /// Forgets idle registrations of workers that stopped refreshing them
    /// (a crashed worker's row would only cause needless NOTIFYs).
    static func forgetSilentIdleWorkers(_ connection: isolated PostgresConnection) throws {
        try connection.query("SELECT jobs.forget_silent_idle_workers()")
    }

    /// Hands back the jobs this worker still holds (at shutdown), as if
    /// never attempted, for other workers to take at once.
    @discardableResult
    static func release(_ connection: isolated PostgresConnection, worker: String) throws -> Int {
        try connection.query("SELECT jobs.release($1) AS n", [worker])[0].decode("n", as: Int.self)
    }
}
