import DevCluster
import Foundation
import PostgresClient
import TestSupport
import TimebankDatabase
import TimebankOperations
import Testing

/// Issue 16: a lost primary. The Patroni cluster of `timebank db start --ha`
/// (three nodes, synchronous mode), 10,000 check-outs arriving while two
/// settlement workers run on its multi-host URL; mid-run the primary is
/// killed (its Patroni and postmaster, SIGKILL) or switched over. The
/// workers follow the new primary with no restart; every acknowledged
/// check-out is credited exactly once.
@Suite(.serialized) struct FailoverTests {
    /// A query that waits out a failover (a session reconnects through the multi-host URL).
    func retrying<T>(_ what: String, timeout: Duration = .seconds(120), _ body: () async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            do { return try await body() } catch {
                if ContinuousClock.now > deadline { throw TimedOut(what: "\(what): \(error)") }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    func number(_ connection: PostgresConnection, _ sql: String) async throws -> Int {
        try await retrying(sql) { try await connection.query("SELECT (\(sql))::bigint AS n")[0].decode("n", as: Int.self) }
    }

    func waitUntil(_ connection: PostgresConnection, _ sql: String, timeout: Duration = .seconds(240)) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await number(connection, "CASE WHEN \(sql) THEN 1 ELSE 0 END") == 0 {
            if ContinuousClock.now > deadline { throw TimedOut(what: sql) }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Runs the check-outs across `fault`; returns the seconds from the fault to the first credit after it.
    func settleAcross(_ label: String, fault: (LocalHACluster) throws -> Void) async throws {
        let cluster = LocalHACluster(home: URL(fileURLWithPath: "/tmp/timebank-ha-\(UUID().uuidString.prefix(8))"))
        defer { try? cluster.stop(); try? FileManager.default.removeItem(at: cluster.home) }
        let settings = ConnectionSettings(conninfo: try await cluster.start())
        try await WorkerProcess.killingOnFailure {
            let connection = try await PostgresConnection.connect(settings)
            try await Migrator.project().migrate(connection)
            let services = try await SettlementFixture.prepare(connection, services: 10_000)
            let workers = try (0..<2).map { _ in
                try WorkerProcess.start("settlement-worker", settings, [
                    "--poll-milliseconds", "200", "--lease-milliseconds", "4000", "--rescue-milliseconds", "500"])
            }
            var faultAt: Date?
            var faultClock: ContinuousClock.Instant?
            for chunk in stride(from: 0, to: services.count, by: 250) {
                let batch = Array(services[chunk..<min(chunk + 250, services.count)])
                // A check-out whose commit was not acknowledged is sent again (it is idempotent).
                try await retrying("check-out") { try await SettlementFixture.checkOut(connection, batch) }
                if chunk == 5000 {
                    try await waitUntil(connection, "(SELECT count(*) > 3000 FROM bank.service WHERE settled_at IS NOT NULL)")
                    faultAt = try await retrying("now") { try await connection.query("SELECT now() AS t")[0].decode("t", as: Date.self) }
                    faultClock = .now
                    try fault(cluster)
                }
            }
            let faultTime = try #require(faultAt)
            try await waitUntil(connection, "EXISTS (SELECT 1 FROM bank.service WHERE settled_at > '\(ISO8601DateFormatter().string(from: faultTime))'::timestamptz + interval '1 second')")
            let resumed = try #require(faultClock).duration(to: .now)
            try await waitUntil(connection, "NOT EXISTS (SELECT 1 FROM jobs.job WHERE kind = 'settlement.settle' AND state <> 'completed')")
            for worker in workers { worker.signal(SIGTERM) }
            for worker in workers { #expect(await worker.wait() == 0, "\(worker.output.suffix(2000))") }
            // Every acknowledged check-out credited exactly once, counted with plain SQL; and the ledger verifies.
            #expect(try await number(connection, "SELECT count(*) FROM bank.service WHERE status = 'checked_out' AND settled_at IS NOT NULL") == 10_000)
            #expect(try await number(connection, """
                SELECT count(*) FROM (SELECT service_id FROM bank.transfer WHERE kind = 'service_credit' GROUP BY service_id) credited
                """) == 10_000)
            let doubled = try await number(connection, """
                SELECT count(*) FROM (SELECT service_id FROM bank.transfer WHERE kind = 'service_credit' GROUP BY service_id HAVING count(*) > 1) d
                """)
            #expect(doubled == 0)
            #expect(try await LedgerVerifier.problems(connection) == [])
            let primary = try cluster.primary()?.name ?? "?"
            print("failover (\(label)): 10000 check-outs, 2 settlement workers; credits resumed \(resumed) after the fault on \(primary); lost 0, doubled \(doubled)")
            await connection.close()
        }
    }

    @Test func aKilledPrimaryIsReplacedAndSettlementGoesOnLosingAndDoublingNothing() async throws {
        try await settleAcross("kill -9 of the primary's Patroni and postmaster") { cluster in
            guard let primary = try cluster.primary() else { throw TimedOut(what: "a primary") }
            try cluster.kill9(primary)
        }
    }

    @Test func aPlannedSwitchoverLosesAndDoublesNothing() async throws {
        try await settleAcross("patronictl switchover") { cluster in try cluster.switchover() }
    }
}
