import Foundation
import PostgresClient
import TimebankWorkers

/// Issue 15, finding 5: the application's logins. One LOGIN role per
/// worker kind, for the residents' client, the staff desk, the analysts,
/// the personal-data readers and the web console, each a member of its group role only: never a
/// superuser, never the owner (`timebank_owner`), unable to create roles,
/// databases or replication connections. A worker logged in as the
/// superuser with `-c role=...` could `SET ROLE NONE`; one of these logins
/// has nothing to fall back to.
///
/// Logins are the cluster's, not the database's, so the migrations create
/// none: a DBA runs `timebank logins create` (as a superuser or a role
/// with CREATEROLE), `timebank up` does it for a development cluster.
public enum LoginAdmin {
    public struct Login: Sendable, Equatable {
        /// The login's name, e.g. `timebank_settlement_login`.
        public var name: String
        /// The one group role it is a member of.
        public var group: String
        /// Its failing statements are not written to the server log (R23:
        /// a client that sends plain SQL text would log a name or an ID).
        public var quietErrors: Bool
    }

    /// Every login, the workers' first (in ``WorkerKind`` order).
    public static let logins: [Login] =
        WorkerKind.allCases.map { Login(name: $0.databaseRole + "_login", group: $0.databaseRole, quietErrors: false) } + [
            Login(name: "timebank_api_login", group: "timebank_api", quietErrors: true),
            Login(name: "timebank_staff_login", group: "timebank_staff", quietErrors: true),
            Login(name: "timebank_analyst_login", group: "timebank_analyst", quietErrors: true),
            Login(name: "timebank_personal_data_reader_login", group: "timebank_personal_data_reader", quietErrors: true),
            // The web console (`timebank console`, issue 17 item 2): its views and session-checked functions only.
            Login(name: "timebank_console_login", group: "timebank_console", quietErrors: true),
        ]

    /// The login a worker kind runs as.
    public static func login(of kind: WorkerKind) -> Login {
        logins.first { $0.group == kind.databaseRole }!
    }

    /// Creates the logins that are missing and puts each back to what it
    /// should be (LOGIN, no other attribute, a member of its group; with
    /// `password`, that password; without, none: the server's pg_hba.conf
    /// then decides, e.g. peer or cert authentication).
    public static func ensure(_ connection: PostgresConnection, password: String?) async throws {
        for login in logins {
            try await connection.execute("""
                DO $login$
                BEGIN
                    CREATE ROLE \(login.name) LOGIN;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN
                    NULL;
                END
                $login$
                """)
            let secret = password.map { "PASSWORD '" + $0.replacingOccurrences(of: "'", with: "''") + "'" } ?? "PASSWORD NULL"
            try await connection.execute(
                "ALTER ROLE \(login.name) LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS \(secret)")
            try await connection.execute("GRANT \(login.group) TO \(login.name)")
            if let kind = WorkerKind.allCases.first(where: { $0.databaseRole == login.group }) {
                // Issue 16, item 5: a worker behind a transaction pooler cannot set its session
                // timeouts itself (PoolerCheck); its login starts every session with its defaults'.
                for (setting, milliseconds) in kind.configuration().sessionTimeouts {
                    try await connection.execute("ALTER ROLE \(login.name) SET \(setting) = \(milliseconds)")
                }
            }
            if login.quietErrors {
                // A superuser's setting (log_min_error_statement is one): a DBA without superuser sets it by hand.
                _ = try? await connection.execute("ALTER ROLE \(login.name) SET log_min_error_statement = panic")
            }
        }
    }

    /// Each login, whether it exists, and what it is a member of.
    public static func list(_ connection: PostgresConnection) async throws -> [(name: String, exists: Bool, memberOf: [String])] {
        let rows = try await connection.query("""
            SELECT l.name, r.oid IS NOT NULL AS present,
                   ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                          WHERE m.member = r.oid ORDER BY 1) AS groups
              FROM unnest($1::text[]) WITH ORDINALITY AS l(name, position)
              LEFT JOIN pg_roles r ON r.rolname = l.name
             ORDER BY l.position
            """, [logins.map(\.name)])
        return try rows.map { (try $0.decode("name"), try $0.decode("present"), try $0.decode("groups")) }
    }
}
