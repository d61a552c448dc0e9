import Foundation
import PostgresClient

/// A job this worker holds: claimed, running, under its lease.
struct ClaimedJob: Sendable, Equatable {
    let id: Int64
    let kind: String
    let queue: String
    let arguments: String
    let attempt: Int
    let maxAttempts: Int
    let runAt: Date
    let claimedAt: Date

    init(id: Int64, kind: String, queue: String, arguments: String = "{}", attempt: Int = 1, maxAttempts: Int = 20,
         runAt: Date = Date(), claimedAt: Date = Date()) {
        self.id = id
        self.kind = kind
        self.queue = queue
        self.arguments = arguments
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.runAt = runAt
        self.claimedAt = claimedAt
    }

    init(row: PostgresRow) throws {
        id = try row.decode("id")
        kind = try row.decode("kind")
        queue = try row.decode("queue")
        arguments = try row.decode("args")
        attempt = try row.decode("attempt")
        maxAttempts = try row.decode("max_attempts")
        runAt = try row.decode("run_at")
        claimedAt = try row.decode("attempted_at")
    }
}

/// How one attempt ended, for the completer to record.
struct AttemptResult: Sendable, Equatable {
    enum Kind: String, Sendable {
        case completed, failed, discarded, snoozed, cancelled
        /// Interrupted by shutdown: back to available, attempt not counted.
        case released
    }

    let jobID: Int64
    let attempt: Int
    let kind: Kind
    /// When it runs next (failed, snoozed).
    let runAt: Date?
    /// The error or reason recorded with the attempt.
    let message: String?
}
