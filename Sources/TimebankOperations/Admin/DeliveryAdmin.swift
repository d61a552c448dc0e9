import Foundation
import PostgresClient
import TimebankWorkers

/// What operators see of the outbox (`timebank deliveries`): deliveries
/// that failed for good (a 4xx) or ran out of attempts, every attempt of a
/// message, and sending one again.
public enum DeliveryAdmin {
    public struct FailedDelivery: Sendable, Equatable {
        public var messageID: Int64
        public var template: String
        public var recipientKind: String
        public var channel: String
        /// failed (refused) or retry (the last of its attempts; its job gave up).
        public var lastOutcome: String
        public var httpStatus: Int?
        public var answer: String?
        public var attempts: Int
        public var lastAttemptAt: Date
    }

    /// Message channels whose last attempt failed for good, or whose job
    /// was discarded after its last retry; newest first (the view
    /// `bank.failed_delivery`, which the web console reads too).
    public static func failed(_ connection: PostgresConnection, limit: Int = 50) async throws -> [FailedDelivery] {
        try await connection.query(
            """
            SELECT message_id, template, recipient_kind, channel, last_outcome, http_status, answer, last_attempt_at, attempts
              FROM bank.failed_delivery ORDER BY message_id DESC, channel LIMIT $1
            """, [limit]
        ).map { row in
            FailedDelivery(
                messageID: try row.decode("message_id"), template: try row.decode("template"), recipientKind: try row.decode("recipient_kind"),
                channel: try row.decode("channel"), lastOutcome: try row.decode("last_outcome"), httpStatus: try row.decode("http_status"),
                answer: try row.decode("answer"), attempts: try row.decode("attempts"), lastAttemptAt: try row.decode("last_attempt_at"))
        }
    }

    public struct Attempt: Sendable, Equatable {
        public var channel: String
        public var startedAt: Date
        public var latencyMilliseconds: Int
        public var httpStatus: Int?
        public var outcome: String
        public var answer: String?
        public var worker: String
    }

    /// Every attempt to deliver one message, oldest first.
    public static func attempts(_ connection: PostgresConnection, message: Int64) async throws -> [Attempt] {
        try await connection.query(
            """
            SELECT channel, started_at, latency_ms, http_status, outcome, answer, worker
              FROM bank.delivery_attempt_summary WHERE message_id = $1 ORDER BY id
            """, [message]
        ).map { row in
            Attempt(channel: try row.decode("channel"), startedAt: try row.decode("started_at"),
                    latencyMilliseconds: try row.decode("latency_ms"), httpStatus: try row.decode("http_status"),
                    outcome: try row.decode("outcome"), answer: try row.decode("answer"), worker: try row.decode("worker"))
        }
    }

    /// Sends a message again on the channels that have not delivered it; the new job's id.
    public static func retry(_ connection: PostgresConnection, message: Int64) async throws -> Int64 {
        try await connection.query("SELECT bank.retry_message($1) AS job", [message])[0].decode("job", as: Int64.self)
    }
}
