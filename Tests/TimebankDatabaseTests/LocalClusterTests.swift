import DevCluster
import Foundation
import PostgresClient
import TimebankDatabase
import Testing

/// `timebank db start | stop | status`, on a cluster of its own in a
/// temporary directory (as root, the server runs as an unprivileged user).
@Suite struct LocalClusterTests {
    @Test func createsStartsRestartsAndStops() async throws {
        let home = URL(fileURLWithPath: "/tmp/timebank-cluster-test-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: home) }
        let cluster = LocalCluster(home: home)
        #expect(!cluster.isInitialized)
        #expect(try !cluster.isRunning())

        let url = try await cluster.start()
        #expect(url.hasPrefix("postgresql://timebank@127.0.0.1:"))
        #expect(try cluster.isRunning())
        #expect(try await cluster.start() == url)  // idempotent

        let connection = try await PostgresConnection.connect(ConnectionSettings(conninfo: url))
        let version = await connection.serverVersion
        #expect(version >= 150000)
        try await connection.executeScript("CREATE TABLE survives (n int); INSERT INTO survives VALUES (7)")

        // An immediate (crash-like) restart: committed data survives, and
        // the connection reconnects on its next call.
        try cluster.restartImmediately()
        #expect(try await connection.query("SELECT n FROM survives")[0].decode("n", as: Int.self) == 7)
        await connection.close()

        try cluster.stop()
        #expect(try !cluster.isRunning())
        #expect(cluster.url == url)  // the port is kept for the next start
    }

    @Test func aHomeBelowAPrivateDirectoryMovesWhereTheServerCanReachIt() throws {
        guard geteuid() == 0 else { return }  // only root hands the cluster to another OS user
        let parent = URL(fileURLWithPath: "/tmp/timebank-private-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: parent) }
        let home = parent.appendingPathComponent("checkout/.timebank")

        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: parent.path)
        #expect(LocalCluster.reachable(home) == home)

        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: parent.path)
        let moved = LocalCluster.reachable(home)
        #expect(moved.path.hasPrefix("/var/tmp/timebank-"))
        #expect(LocalCluster.reachable(home) == moved)  // the same place every time
    }
}
