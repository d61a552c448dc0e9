import PostgresClient

/// Issue 16, item 5: behind a transaction pooler a worker cannot set its
/// sessions up (no `options`, and a `SET` would land on whichever server
/// session the pooler lends next), so what it would have set must already
/// be the login's: the role's privileges by membership (INHERIT, no role
/// switch) and the session timeouts by `ALTER ROLE ... SET`, which every
/// server session the pooler opens for that login starts with. A worker
/// that finds them missing refuses to start, naming the statements to run,
/// instead of running without the guarantee that a frozen worker stalls no
/// one longer than a lease.
public enum PoolerCheck {
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Throws ``Refusal`` when the login lacks what the worker needs; does
    /// nothing without a pooler.
    public static func verify(_ connection: PostgresConnection, _ configuration: WorkerConfiguration) async throws {
        guard configuration.pooler == .transaction else { return }
        let login: String = try await connection.query("SELECT current_user::text AS login")[0].decode("login")
        var problems: [String] = []
        if let role = configuration.databaseRole {
            let usable: Bool = try await connection.query("SELECT pg_has_role(current_user, $1::text, 'USAGE') AS ok", [role])[0].decode("ok")
            if !usable { problems.append("\(login) does not inherit the privileges of \(role) (GRANT \(role) TO \(login); the login INHERIT)") }
        }
        var fixes: [String] = []
        for (setting, wanted) in configuration.sessionTimeouts {
            // pg_settings gives milliseconds for all three, whatever unit they were set in.
            let current: Int64 = try await connection.query(
                "SELECT setting::bigint AS ms FROM pg_settings WHERE name = $1::text", [setting])[0].decode("ms")
            if current == 0 || current > wanted {
                problems.append("\(setting) is \(current == 0 ? "off" : "\(current) ms"), the worker needs at most \(wanted) ms")
                fixes.append("ALTER ROLE \(login) SET \(setting) = \(wanted)")
            }
        }
        guard !problems.isEmpty else { return }
        throw Refusal(description: "behind a transaction pooler a worker's session settings must be its login's own: "
            + problems.joined(separator: "; ")
            + (fixes.isEmpty ? "" : ". Run (as a DBA; add IN DATABASE <name> to scope it): " + fixes.joined(separator: "; ")))
    }
}
