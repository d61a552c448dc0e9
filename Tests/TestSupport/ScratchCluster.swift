import DevCluster
import Foundation
import PostgresClient
import TimebankDatabase

/// A PostgreSQL cluster of a test's own, migrated: for the tests that stop
/// and start the database under a running worker (the shared test cluster
/// must stay up for the others).
public enum ScratchCluster {
    /// Runs `body` with the cluster and its URL; stops and removes it after.
    public static func with(_ name: String, _ body: (LocalCluster, String) async throws -> Void) async throws {
        let home = URL(fileURLWithPath: "/tmp/timebank-\(name)-test-\(UUID().uuidString.prefix(8))")
        let cluster = LocalCluster(home: home)
        defer {
            try? cluster.stop()
            try? FileManager.default.removeItem(at: home)
        }
        let url = try await cluster.start()
        let admin = try await PostgresConnection.connect(ConnectionSettings(conninfo: url))
        _ = try await Migrator.project().migrate(admin)
        await admin.close()
        try await body(cluster, url)
    }
}
