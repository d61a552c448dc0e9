import Foundation
import PostgresClient

/// A kind of job run many at a time, in one transaction that also marks
/// them completed: for short jobs whose cost is the commit (a settlement
/// is a few row changes; its WAL flush costs more), one commit then
/// carries a whole claim's worth of them, and a job is completed exactly
/// when its effect is committed.
///
/// Delivery is still at least once (a batch that fails is retried job by
/// job with backoff, a rescued job runs again), so `run` must be
/// idempotent, as for ``JobHandler``.
public protocol BatchJobHandler: Sendable {
    associatedtype Arguments: Codable & Sendable

    static var kind: String { get }

    /// Runs the batch inside the open transaction of `connection` and says
    /// how each job ended, in order: the `.completed` ones are marked so in
    /// the same transaction; a job snoozed or cancelled is recorded after
    /// the commit. Throwing rolls the whole batch back; each job then fails
    /// its attempt.
    func run(_ batch: [Arguments], connection: isolated PostgresConnection) throws -> [JobOutcome]

    /// ``run(_:connection:)`` with what to record once the batch committed
    /// (a default extension gives nothing): the runtime calls this one.
    func runObservingCommit(_ batch: [Arguments], connection: isolated PostgresConnection) throws -> BatchRun
}

/// A batch's outcomes, and what to record only once its transaction has
/// committed (issue 16: a worker frozen between its statement and its
/// COMMIT commits late; a latency measured before the commit would not
/// show it).
public struct BatchRun: Sendable {
    public var outcomes: [JobOutcome]
    /// Called after the commit, with how long after `run` returned it came.
    public var committed: @Sendable (_ commitDelay: Duration) -> Void

    public init(outcomes: [JobOutcome], committed: @escaping @Sendable (_ commitDelay: Duration) -> Void = { _ in }) {
        self.outcomes = outcomes
        self.committed = committed
    }
}

extension BatchJobHandler {
    /// The batch run, with what to do after its commit; by default `run`'s
    /// outcomes and nothing after.
    public func runObservingCommit(_ batch: [Arguments], connection: isolated PostgresConnection) throws -> BatchRun {
        BatchRun(outcomes: try run(batch, connection: connection))
    }
}

