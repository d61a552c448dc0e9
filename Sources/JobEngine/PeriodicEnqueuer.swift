import Foundation
import Logging
import PostgresClient
import ServiceLifecycle

/// Enqueues a worker's ``PeriodicJob``s: at start the run of the period
/// under way (``PeriodicJob/runOnStart``), then always the next run ahead,
/// scheduled for its time, once the last run has left the queue (run, or
/// running): so runs of one job never pile up in a queue nobody takes
/// from (paused, or its workers down), and a run under way is done before
/// its successor is seen waiting. It wakes after each run's time to
/// enqueue the one after, and at least every minute (a schedule read from
/// a setting may have changed). Every worker of a kind does this; the
/// unique key of each run makes their enqueues one job.
struct PeriodicEnqueuer: Service {
    let connection: PostgresConnection
    let jobs: [PeriodicJob]
    let logger: Logger
    var recheck: Duration = .seconds(60)

    func run() async {
        var started = false
        var failing = false
        while !Task.isCancelled {
            var wake = Date().addingTimeInterval(recheck.inSeconds)
            do {
                for job in jobs {
                    let runs = try await runs(of: job, around: Date())
                    if !started && job.runOnStart { try await enqueueNow(job, at: runs.last) }
                    let ahead = try await enqueueAhead(job, at: runs.next, after: runs.last)
                    // Not yet: look again soon.
                    wake = min(wake, ahead ? runs.next.addingTimeInterval(1) : Date().addingTimeInterval(1))
                }
                started = true
                if failing { logger.info("periodic jobs enqueued again") }
                failing = false
            } catch {
                if Task.isCancelled { return }
                if !failing { logger.warning("cannot enqueue periodic jobs; retrying", metadata: ["error": "\(error)"]) }
                failing = true
                wake = Date().addingTimeInterval(min(recheck.inSeconds, 5))
            }
            let delay = max(wake.timeIntervalSinceNow, 0.05)
            do { try await Task.sleep(for: .milliseconds(Int64(delay * 1000))) } catch { return }
        }
    }

    private func runs(of job: PeriodicJob, around now: Date) async throws -> (last: Date, next: Date) {
        if let runs = job.schedule.runs(around: now) { return runs }
        guard case .everySeconds(let sql) = job.schedule else { preconditionFailure("a schedule without runs") }
        let seconds = try await connection.query("SELECT (\(sql))::float8 AS s")[0].decode("s", as: Double.self)
        guard seconds >= 1 else { throw PeriodicJobError.badInterval(kind: job.kind, seconds: seconds) }
        return PeriodicSchedule.every(.milliseconds(Int64(seconds * 1000))).runs(around: now)!
    }

    /// Enqueues the run at `time` to run now, unless a job with its key is unfinished.
    private func enqueueNow(_ job: PeriodicJob, at time: Date) async throws {
        _ = try await connection.query(
            "SELECT jobs.enqueue_own($1, $2::jsonb, $3, 0::smallint, NULL, $4, $5)",
            [job.kind, job.arguments(time), job.queue, job.maxAttempts, job.key(time)])
    }

    /// Enqueues the run at `time`, scheduled for it, unless a job with its
    /// key is unfinished (then it is there already: true), the run at
    /// `last` is unfinished (waiting, running or to be retried), or `time` has come by the
    /// database's clock (that run may have finished already): false.
    private func enqueueAhead(_ job: PeriodicJob, at time: Date, after last: Date) async throws -> Bool {
        try await !connection.query("""
            SELECT jobs.enqueue_own($1, $2::jsonb, $3, 0::smallint, $4::timestamptz, $5, $6)
             WHERE $4::timestamptz > clock_timestamp()
               AND NOT EXISTS (SELECT 1 FROM jobs.job
                                WHERE kind = $1 AND unique_key = $7
                                  -- Unfinished (waiting, running, or failing and to be retried: a run that
                                  -- fails every time must not gather successors); job_unique_idx's predicate.
                                  AND state NOT IN ('completed', 'discarded', 'cancelled'))
            """, [job.kind, job.arguments(time), job.queue, time, job.maxAttempts, job.key(time), job.key(last)]).isEmpty
    }
}

enum PeriodicJobError: Error, CustomStringConvertible {
    case badInterval(kind: String, seconds: Double)

    var description: String {
        switch self {
        case .badInterval(let kind, let seconds): return "the period of \(kind) is \(seconds) s; at least 1 s is needed"
        }
    }
}
