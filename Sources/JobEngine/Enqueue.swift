import Foundation
import PostgresClient

/// A job to enqueue: its kind, arguments and options.
public struct NewJob<Arguments: Codable & Sendable>: Sendable {
    public var kind: String
    public var arguments: Arguments
    public var queue: String = "default"
    public var priority: Int16 = 0
    /// Not before this time (nil: now).
    public var runAt: Date?
    public var maxAttempts: Int32 = 20
    /// At most one unfinished job per kind and key.
    public var uniqueKey: String?
    /// The key its queue's limit rules apply to (`jobs.limit_rule`, the
    /// longest matching prefix), such as `insurer:<code>`; nil: no limit.
    public var limitKey: String?

    public init(kind: String, arguments: Arguments, queue: String = "default") {
        self.kind = kind
        self.arguments = arguments
        self.queue = queue
    }
}

extension PostgresConnection {
    /// Enqueues a job in whatever transaction the connection is in (so it
    /// commits, or not, with the rows that caused it), through the SQL
    /// function `jobs.enqueue_own`: into a queue the session's login works.
    /// Returns the job's id; for a unique job that
    /// is already queued, the id of the one already there.
    public func enqueue<Arguments>(_ job: NewJob<Arguments>) throws -> Int64 {
        try query(
            "SELECT jobs.enqueue_own($1, $2, $3, $4, $5, $6, $7, limit_key => $8) AS id",
            [job.kind, PostgresJSON(job.arguments), job.queue, job.priority, job.runAt, job.maxAttempts, job.uniqueKey, job.limitKey]
        )[0].decode("id", as: Int64.self)
    }

    /// Enqueues many jobs of one kind in one statement (`jobs.enqueue_many_own`),
    /// all under `limitKey` if given.
    public func enqueueMany<Arguments: Codable & Sendable>(
        kind: String, arguments: [Arguments], queue: String = "default", priority: Int16 = 0,
        runAt: Date? = nil, maxAttempts: Int32 = 20, limitKey: String? = nil
    ) throws -> [Int64] {
        let encoder = JSONEncoder()
        let texts = try arguments.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        return try query(
            "SELECT jobs.enqueue_many_own($1, $2::jsonb[], $3, $4, $5, $6, $7) AS id",
            [kind, texts, queue, priority, runAt, maxAttempts, limitKey]
        ).map { try $0.decode("id", as: Int64.self) }
    }
}
