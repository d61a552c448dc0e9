import Foundation
import PostgresClient
import TimebankWorkers

/// Claims as operators and supervisors follow them (`timebank claims`).
public enum ClaimAdmin {
    public struct Claim: Sendable, Equatable {
        public var id: Int64
        public var serviceID: Int64
        public var state: String
        public var insurer: String?
        public var reportedAt: Date
        /// Attempts to send it, and the last one's answer.
        public var attempts: Int
        public var lastAnswer: String?
    }

    public static func list(_ connection: PostgresConnection, state: String? = nil, limit: Int = 50) async throws -> [Claim] {
        try await connection.query(
            """
            SELECT id, service_id, state, insurer_code, created_at, attempts, last_answer FROM bank.claim_summary
             WHERE $1::text IS NULL OR state = $1::text
             ORDER BY id DESC LIMIT $2
            """, [state, limit]
        ).map { row in
            Claim(id: try row.decode("id"), serviceID: try row.decode("service_id"), state: try row.decode("state"),
                  insurer: try row.decode("insurer_code"), reportedAt: try row.decode("created_at"),
                  attempts: try row.decode("attempts"), lastAnswer: try row.decode("last_answer"))
        }
    }

    /// A claim's history: each state, when, by whom.
    public static func history(_ connection: PostgresConnection, claim: Int64) async throws -> [(state: String, at: Date, by: String, note: String?)] {
        try await connection.query("SELECT state, at, performed_by, note FROM api.claim_history($1)", [claim]).map { row in
            (try row.decode("state"), try row.decode("at"), try row.decode("performed_by"), try row.decode("note"))
        }
    }

    /// Sends an undeliverable claim again.
    public static func resend(_ connection: PostgresConnection, claim: Int64, operator name: String) async throws {
        _ = try await connection.query("SELECT bank.claims_resend($1, $2)", [claim, name])
    }
}
