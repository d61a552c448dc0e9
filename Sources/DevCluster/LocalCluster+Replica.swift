import Foundation
import TimebankDatabase
import PostgresClient

/// A streaming replica of the local cluster, for heavy reports off the
/// primary (DESIGN.md "Growing past one machine"): `timebank db start
/// --replica`. It lives in `replica/` of the cluster's home, is made with
/// `pg_basebackup -R` (which writes `standby.signal` and the primary's
/// conninfo), listens on a port of its own, and is read-only (hot standby).
extension LocalCluster {
    /// The replica's own directory, data and port.
    public var replica: LocalCluster {
        var replica = LocalCluster(home: home.appendingPathComponent("replica"), logger: logger)
        replica.database = database
        replica.superuser = superuser
        return replica
    }

    /// Starts the primary if needed, creates the replica from it if needed,
    /// starts it, and returns the replica's URL. Idempotent.
    @discardableResult
    public func startReplica() async throws -> String {
        let primaryURL = try await start()
        // pg_basebackup and `pg_ctl start -w` take seconds: off the cooperative pool (ChildProcess.offThePool).
        let replica = self.replica
        try await ChildProcess.offThePool { [self] in
            let tools = try tools()
            if !replica.isInitialized {
                guard let primaryPort = port else { throw ClusterError("the primary has no port: \(primaryURL)") }
                try FileManager.default.createDirectory(at: replica.home, withIntermediateDirectories: true)
                try tools.prepareOwnedDirectory(replica.home)
                let chosenPort = try Self.freeLoopbackPort()
                // -R: standby.signal and primary_conninfo; -X stream: the WAL of the copy comes along; -c fast: checkpoint now.
                try tools.run("pg_basebackup", [
                    "-D", replica.dataDirectory.path, "-h", "127.0.0.1", "-p", String(primaryPort), "-U", superuser,
                    "-R", "-X", "stream", "-c", "fast",
                ])
                let auto = replica.dataDirectory.appendingPathComponent("postgresql.auto.conf")
                let copied = (try? String(contentsOf: auto, encoding: .utf8)) ?? ""
                try tools.writeOwnedFile(auto, copied + """

                    # ---- timebank local replica (timebank db start --replica) ----
                    port = \(chosenPort)
                    hot_standby = on

                    """)
                try "\(chosenPort)\n".write(to: replica.home.appendingPathComponent("port"), atomically: true, encoding: .utf8)
                logger.info("created a streaming replica of the local cluster", metadata: ["data": "\(replica.dataDirectory.path)", "port": "\(chosenPort)"])
            }
            if try !replica.isRunning() {
                try tools.run("pg_ctl", ["start", "-D", replica.dataDirectory.path, "-l", replica.logFile.path, "-w", "-t", "60", "-s"])
                logger.info("started the local replica", metadata: ["data": "\(replica.dataDirectory.path)"])
            }
        }
        return replica.url!
    }

    /// Waits until the replica has replayed everything the primary had
    /// written when asked (its WAL position then); for tests and scripts
    /// that write, then read the replica.
    public func waitForReplica(timeout: Duration = .seconds(30)) async throws {
        guard let primarySettings = settings, let replicaSettings = replica.settings else {
            throw ClusterError("the cluster or its replica does not exist")
        }
        let primary = try await PostgresConnection.connect(primarySettings)
        let target = try await primary.query("SELECT pg_current_wal_lsn()::text AS lsn")[0].decode("lsn", as: String.self)
        await primary.close()
        let standby = try await PostgresConnection.connect(replicaSettings)
        defer { Task { await standby.close() } }
        let deadline = ContinuousClock.now + timeout
        while try await !standby.query("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught_up", [target])[0]
            .decode("caught_up", as: Bool.self) {
            if ContinuousClock.now > deadline { throw ClusterError("the replica did not reach \(target) within \(timeout)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
