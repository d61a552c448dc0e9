import Foundation
import Logging
import PostgresClient

/// Runs claimed jobs, one at a time or a batch kind's many in one
/// transaction, and says how each attempt ended. Every ending, returned
/// or thrown, single or batch, goes through one ``classify(_:_:backoff:cancelled:now:logger:)``.
struct Executor: Sendable {
    let registry: HandlerRegistry
    let worker: String
    let database: ConnectionPool
    let backoff: Backoff
    let metrics: JobMetrics
    let logger: Logger

    func isBatchKind(_ kind: String) -> Bool { registry.batchHandler(for: kind) != nil }

    /// Runs one job's handler.
    func run(_ job: ClaimedJob) async -> AttemptResult {
        metrics.claimed(job)
        let logger = logger(for: job)
        let started = ContinuousClock.now
        let outcome: Result<JobOutcome, any Error>
        if let handler = registry.handler(for: job.kind) {
            let context = JobContext(
                jobID: job.id, kind: job.kind, queue: job.queue, attempt: job.attempt,
                maxAttempts: job.maxAttempts, worker: worker, logger: logger, database: database)
            do { outcome = .success(try await handler(job.arguments, context)) } catch { outcome = .failure(error) }
        } else {
            outcome = .failure(JobFailure.unknownKind(job.kind))
        }
        let result = Self.classify(job, outcome, backoff: backoff, logger: logger)
        metrics.finished(job, result, runTime: started.duration(to: .now))
        return result
    }

    /// Runs jobs of one batch kind in one transaction that also completes
    /// the ones it completed. Returns how many were completed so (nothing
    /// to record) and the results of the rest, for the completer: if the
    /// transaction failed, each job fails its attempt as a job of its own
    /// would; a job the handler snoozed or cancelled is recorded as such.
    func runBatch(_ jobs: [ClaimedJob]) async -> (completed: Int, unrecorded: [AttemptResult]) {
        guard let handler = registry.batchHandler(for: jobs[0].kind) else {
            // Unreachable: batches are formed of batch kinds only.
            let results = jobs.map { Self.classify($0, .failure(JobFailure.unknownKind($0.kind)), backoff: backoff, logger: logger(for: $0)) }
            return (0, results)
        }
        for job in jobs { metrics.claimed(job) }
        let started = ContinuousClock.now
        let worker = self.worker
        let outcomes: Result<[JobOutcome], any Error>
        do {
            let (run, ranAt) = try await database.withConnection { connection in
                try await connection.transaction { connection in
                    let run = try handler(jobs.map(\.arguments), connection)
                    let completed = zip(jobs, run.outcomes).filter { $0.1 == .completed }.map(\.0)
                    try JobStore.completeInTransaction(connection, completed, worker: worker)
                    return (run, ContinuousClock.now)
                }
            }
            run.committed(ranAt.duration(to: .now))
            outcomes = .success(run.outcomes)
        } catch {
            outcomes = .failure(error)
        }
        let runTime = started.duration(to: .now)
        var completed = 0
        var unrecorded: [AttemptResult] = []
        // A batch that failed whole (its connection died, a timeout) is one event:
        // one line for it, not one per job (issue 16: a crash logged up to a hundred).
        let failedWhole: Bool
        if case .failure(let error) = outcomes {
            failedWhole = true
            let retrying = jobs.filter { $0.attempt < $0.maxAttempts }.count
            logger.warning("batch failed; its jobs fail this attempt", metadata: [
                "error": "\(error)", "job_kind": "\(jobs[0].kind)", "jobs": "\(jobs.count)", "retrying": "\(retrying)",
                "discarded": "\(jobs.count - retrying)", "first_ids": "\(jobs.prefix(5).map(\.id))",
            ])
        } else {
            failedWhole = false
        }
        for (index, job) in jobs.enumerated() {
            let outcome = outcomes.map { $0[index] }
            let result = Self.classify(job, outcome, backoff: backoff, logger: failedWhole ? Self.silent : logger(for: job))
            if case .success(.completed) = outcome {
                completed += 1  // already marked so in the batch's own transaction
            } else {
                unrecorded.append(result)
            }
            metrics.finished(job, result, runTime: runTime)
        }
        return (completed, unrecorded)
    }

    /// For the jobs of a batch that failed whole: its one line says it all.
    static let silent = Logger(label: "timebank.jobs.batch", factory: { _ in SwiftLogNoOpLogHandler() })

    private func logger(for job: ClaimedJob) -> Logger {
        var logger = self.logger
        logger[metadataKey: "job_id"] = "\(job.id)"
        logger[metadataKey: "job_kind"] = "\(job.kind)"
        logger[metadataKey: "attempt"] = "\(job.attempt)"
        return logger
    }

    /// How an attempt ended, from what its handler returned or threw.
    /// `cancelled`: the job's task was cancelled (a shutdown whose grace
    /// ran out), so a failure is not the job's fault and it goes back.
    static func classify(
        _ job: ClaimedJob, _ outcome: Result<JobOutcome, any Error>, backoff: Backoff,
        cancelled: Bool = Task.isCancelled, now: Date = Date(), logger: Logger
    ) -> AttemptResult {
        func result(_ kind: AttemptResult.Kind, runAt: Date? = nil, _ message: String? = nil) -> AttemptResult {
            AttemptResult(jobID: job.id, attempt: job.attempt, kind: kind, runAt: runAt, message: message)
        }
        switch outcome {
        case .success(.completed):
            return result(.completed)
        case .success(.snooze(let delay)):
            return result(.snoozed, runAt: now.addingTimeInterval(delay.inSeconds))
        case .success(.cancel(let reason)):
            return result(.cancelled, "cancelled: \(reason)")
        case .failure(let failure as JobFailure):
            // Never the shutdown's doing (a kind no handler serves): discarded even then.
            logger.error("discarding job: \(failure)")
            return result(.discarded, failure.description)
        case .failure where cancelled:
            logger.info("job interrupted by shutdown; handing it back")
            return result(.released, runAt: now)
        case .failure(let error):
            let message = String(describing: error)
            if job.attempt >= job.maxAttempts {
                logger.error("job failed on its last attempt; discarding", metadata: ["error": "\(message)"])
                return result(.discarded, message)
            }
            let delay = backoff.delay(afterAttempt: job.attempt)
            logger.warning("job failed; will retry", metadata: ["error": "\(message)", "retry_in": "\(delay)"])
            return result(.failed, runAt: now.addingTimeInterval(delay.inSeconds), message)
        }
    }
}
