import Foundation
import PostgresClient
import TimebankWorkers

/// Insurers' endpoints and secrets (`timebank insurers`). A secret is
/// written, never read back.
public enum InsurerAdmin {
    public struct Insurer: Sendable, Equatable {
        public var code: String
        public var name: String
        /// R25: the volunteer organisations whose confirmed policies it insures.
        public var organisations: [String]
        public var claimsURL: String
        public var exportURL: String?
        public var timeoutMilliseconds: Int

        public init(code: String, name: String, organisations: [String], claimsURL: String, exportURL: String?, timeoutMilliseconds: Int) {
            self.code = code
            self.name = name
            self.organisations = organisations
            self.claimsURL = claimsURL
            self.exportURL = exportURL
            self.timeoutMilliseconds = timeoutMilliseconds
        }
    }

    /// Creates or replaces an insurer; the table's constraints name a bad field.
    public static func set(_ connection: PostgresConnection, _ insurer: Insurer, secret: String) async throws {
        _ = try await connection.query(
            """
            INSERT INTO bank.insurer (code, name, organisations, claims_url, export_url, secret, timeout_ms)
            VALUES ($1, $2, $3, $4, $5, $6, $7::integer)
            ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, organisations = EXCLUDED.organisations,
                claims_url = EXCLUDED.claims_url, export_url = EXCLUDED.export_url, secret = EXCLUDED.secret,
                timeout_ms = EXCLUDED.timeout_ms, updated_at = now()
            """,
            [insurer.code, insurer.name, insurer.organisations, insurer.claimsURL, insurer.exportURL, secret, insurer.timeoutMilliseconds])
    }

    public static func list(_ connection: PostgresConnection) async throws -> [Insurer] {
        try await connection.query(
            "SELECT code, name, organisations, claims_url, export_url, timeout_ms FROM bank.insurer ORDER BY code"
        ).map { row in
            Insurer(code: try row.decode("code"), name: try row.decode("name"), organisations: try row.decode("organisations"),
                    claimsURL: try row.decode("claims_url"), exportURL: try row.decode("export_url"),
                    timeoutMilliseconds: try row.decode("timeout_ms"))
        }
    }
}
