import Foundation
import Logging
import PostgresClient

/// A kind of job and the code that runs it.
///
/// Delivery is **at least once**: a job whose worker died mid-run is run
/// again, so `run` must be idempotent. ``JobContext`` gives what that
/// takes: the job's id and attempt, and ``JobContext/idempotencyKey(_:)``
/// for effects that must happen once (a ledger entry keyed by it, say).
public protocol JobHandler: Sendable {
    associatedtype Arguments: Codable & Sendable

    /// The job kind this handler runs (`settlement.settle`, `noop`...).
    static var kind: String { get }

    /// Runs one job. Returning ``JobOutcome/completed`` completes it;
    /// throwing fails the attempt (retried with backoff until its attempts
    /// run out, then discarded with every error kept).
    func run(_ arguments: Arguments, context: JobContext) async throws -> JobOutcome
}

/// How a handler ended a job, other than by throwing.
public enum JobOutcome: Sendable, Equatable {
    case completed
    /// Run it again after `delay`; the attempt is not counted.
    case snooze(Duration)
    /// Stop for good, without failing: the job becomes `cancelled`.
    case cancel(reason: String)
}

/// What a running job knows about itself.
public struct JobContext: Sendable {
    public let jobID: Int64
    public let kind: String
    public let queue: String
    /// 1 on the first run, counting every failed or rescued attempt.
    public let attempt: Int
    public let maxAttempts: Int
    public let worker: String
    public var logger: Logger
    /// Connections for the handler's own work, shared by the worker's
    /// running jobs (as many as its concurrency).
    public let database: ConnectionPool

    /// A key that is the same on every attempt of this job, for making an
    /// effect happen once whatever the retries: `settle:<job id>:credit`.
    public func idempotencyKey(_ purpose: String) -> String {
        "\(kind):\(jobID):\(purpose)"
    }
}
