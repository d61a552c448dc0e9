import Foundation
import PostgresClient

/// Issue 19, item 6: the development clock moves only on a database marked
/// as development (`bank.development_clock`, sql/migrations/0032). What
/// marks one is this tooling, for the databases of a server it created:
/// the local cluster runs under the cluster name ``developmentClusterName``
/// (postgresql.conf; a server setting no session can change), and the
/// commands that migrate it mark its databases. `timebank migrate` on any
/// other server marks nothing.
extension LocalCluster {
    /// The `cluster_name` of every cluster `timebank db start` creates.
    public static let developmentClusterName = "timebank-development"

    /// The postgresql.conf line that names the cluster.
    static var clusterNameSetting: String { "cluster_name = '\(developmentClusterName)'" }

    /// Marks the connected database as development when it is on a local
    /// cluster (by its server's cluster name) and migrated (0032 applied);
    /// returns whether it is marked now. Needs the owner or a superuser,
    /// as `bank.mark_development_database` does.
    @discardableResult
    public static func markDevelopmentIfLocal(_ connection: PostgresConnection, by tool: String) async throws -> Bool {
        let row = try await connection.query("""
            SELECT current_setting('cluster_name') = $1 AS local,
                   to_regclass('bank.development_clock') IS NOT NULL AS migrated
            """, [developmentClusterName])[0]
        guard try row.decode("local", as: Bool.self), try row.decode("migrated", as: Bool.self) else { return false }
        try await markDevelopment(connection, by: tool)
        return true
    }

    /// Marks the connected database as development, whatever its server
    /// (the tests' template). Idempotent.
    public static func markDevelopment(_ connection: PostgresConnection, by tool: String) async throws {
        try await connection.query("SELECT bank.mark_development_database(current_user || ' (' || $1 || ')')", [tool])
    }

    /// Names a cluster created before issue 19 as a development cluster
    /// (its postgresql.conf gains the line; read when the server starts).
    func nameAsDevelopmentCluster() throws {
        let conf = dataDirectory.appendingPathComponent("postgresql.conf")
        let text = (try? String(contentsOf: conf, encoding: .utf8)) ?? ""
        guard !text.contains(Self.clusterNameSetting) else { return }
        let handle = try FileHandle(forWritingTo: conf)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n# issue 19: a development cluster (the development clock moves on its databases)\n\(Self.clusterNameSetting)\n".utf8))
        try handle.close()
    }
}
