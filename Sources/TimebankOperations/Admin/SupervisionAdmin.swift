import Foundation
import PostgresClient
import TimebankWorkers

/// What supervisors see and decide (`timebank supervision`): R21 alerts
/// and the watch list, R22 the dishonest list.
public enum SupervisionAdmin {
    public struct Alert: Sendable, Equatable {
        public var id: Int64
        public var kind: String
        public var status: String
        public var people: [Int64]
        public var evidence: String
        public var detectedAt: Date
    }

    public static func alerts(_ connection: PostgresConnection, status: String? = "open", limit: Int = 50) async throws -> [Alert] {
        try await connection.query(
            """
            SELECT id, kind, status, people, evidence::text AS evidence, detected_at FROM bank.alert_summary
             WHERE $1::text IS NULL OR status = $1::text ORDER BY id DESC LIMIT $2
            """, [status, limit]
        ).map { row in
            Alert(id: try row.decode("id"), kind: try row.decode("kind"), status: try row.decode("status"), people: try row.decode("people"),
                  evidence: try row.decode("evidence"), detectedAt: try row.decode("detected_at"))
        }
    }

    public struct Watched: Sendable, Equatable {
        public var personID: Int64
        public var accountID: Int64?
        public var openAlerts: Int
        public var confirmedAlerts: Int
        public var kinds: [String]
        public var dishonest: Bool
    }

    public static func watchList(_ connection: PostgresConnection) async throws -> [Watched] {
        try await connection.query(
            "SELECT person_id, account_id, open_alerts, confirmed_alerts, kinds, dishonest FROM bank.watch_list ORDER BY open_alerts DESC, person_id"
        ).map { row in
            Watched(personID: try row.decode("person_id"), accountID: try row.decode("account_id"), openAlerts: try row.decode("open_alerts"),
                    confirmedAlerts: try row.decode("confirmed_alerts"), kinds: try row.decode("kinds"), dishonest: try row.decode("dishonest"))
        }
    }

    /// Runs the scan now (what the scheduled job does); the alerts opened.
    public static func scan(_ connection: PostgresConnection) async throws -> Int {
        try await connection.query("SELECT bank.supervision_scan() AS n")[0].decode("n", as: Int.self)
    }

    /// R21: `supervisor` is a staff member's code (bank.staff_member, `timebank
    /// staff`) with the power dismiss_alert, of a district of the alert's people
    /// or of the city; the api checks it and records the act under its id.
    public static func dismiss(_ connection: PostgresConnection, alert: Int64, supervisor: String, reason: String) async throws {
        _ = try await connection.query("SELECT api.dismiss_alert($1, $2, $3)", [supervisor, alert, reason])
    }

    /// R22: submits the confirmation (the settlement worker carries it out); the request's id.
    /// `supervisor`: a staff member's code with the power confirm_fraud.
    public static func confirmFraud(_ connection: PostgresConnection, person: Int64, supervisor: String, reason: String,
                                    alert: Int64?, services: [Int64]) async throws -> Int64 {
        try await connection.query("SELECT api.confirm_fraud($1, $2, $3, $4, $5) AS request", [supervisor, person, reason, alert, services])[0]
            .decode("request", as: Int64.self)
    }
}
