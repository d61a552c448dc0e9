import DevCluster
import Foundation
import PostgresClient
import TimebankDatabase
import Testing

/// `timebank db start --replica`: a streaming replica of the local cluster
/// that analysts' heavy reports can use (issue 8).
@Suite struct LocalReplicaTests {
    @Test func theReplicaServesTheReportingViewsAfterAWriteOnThePrimaryArrives() async throws {
        let home = URL(fileURLWithPath: "/tmp/timebank-replica-test-\(UUID().uuidString.prefix(8))")
        let cluster = LocalCluster(home: home)
        defer {
            try? cluster.stop()
            try? FileManager.default.removeItem(at: home)
        }
        let primaryURL = try await cluster.start()
        let primary = try await PostgresConnection.connect(ConnectionSettings(conninfo: primaryURL))
        _ = try await Migrator.project().migrate(primary)

        let replicaURL = try await cluster.startReplica()
        #expect(replicaURL != primaryURL)
        #expect(try await cluster.startReplica() == replicaURL)  // idempotent

        // A write on the primary, then the analyst's view on the replica.
        try await primary.execute("SELECT jobs.enqueue('replica.probe', '{}', 'replica_probe')")
        try await cluster.waitForReplica()
        let analyst = try await PostgresConnection.connect(ConnectionSettings(conninfo: replicaURL).with(parameter: "role", "timebank_analyst"))
        let waiting = try await analyst.query("SELECT waiting FROM reporting.queue_health WHERE queue = 'replica_probe'")
        #expect(try waiting.map { try $0.decode("waiting", as: Int.self) } == [1])
        #expect(try await analyst.query("SELECT count(*) AS n FROM reporting.services_by_month")[0].decode("n", as: Int.self) == 0)
        await analyst.close()
        // Read-only, even for the superuser.
        let superuser = try await PostgresConnection.connect(ConnectionSettings(conninfo: replicaURL))
        let refused = try await #require(throws: PostgresError.self) {
            try await superuser.execute("SELECT jobs.enqueue('x', '{}', 'y')")
        }
        #expect(refused.code?.rawValue == "25006", "read-only transaction: \(refused)")
        await superuser.close()
        await primary.close()

        try cluster.stop()
        #expect(try !cluster.replica.isRunning())
        #expect(try !cluster.isRunning())
    }
}
