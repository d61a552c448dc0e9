import DevCluster
import Foundation
import PostgresClient
import TestSupport
import TimebankOperations
import TimebankDatabase
import TimebankWorkers
import Testing

/// Exactly once under faults, with `settlement-worker` processes as in
/// production: jobs delivered many times, processes racing, one killed
/// with SIGKILL, the database restarted. Each run ends with the ledger
/// verified and every minute accounted for.
@Suite(.serialized) struct SettlementFaultTests {
    /// A `settlement-worker` process with short lease, rescue and poll times.
    func settlementWorker(_ settings: ConnectionSettings) throws -> WorkerProcess {
        try WorkerProcess.start("settlement-worker", settings, [
            "--poll-milliseconds", "200", "--lease-milliseconds", "2000", "--rescue-milliseconds", "300",
        ])
    }

    func number(_ connection: PostgresConnection, _ sql: String) async throws -> Int {
        try await connection.query("SELECT (\(sql))::bigint")[0].decode(column: 0, as: Int.self)
    }

    func waitUntil(_ connection: PostgresConnection, _ sql: String, timeout: Duration = .seconds(240)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let ok = try? await connection.query("SELECT (\(sql)) AS ok")[0].decode("ok", as: Bool.self), ok { return }
            if ContinuousClock.now > deadline { throw TimedOut(what: sql) }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Every service settled once for its minutes, nothing else moved, and
    /// the ledger verifies. Returns the minutes credited.
    func expectEverythingSettledOnce(_ connection: PostgresConnection, services: Int) async throws -> Int {
        let expected = (0..<services).reduce(0) { $0 + SettlementFixture.servedMinutes($1) }
        #expect(try await number(connection, "SELECT count(*) FROM bank.service WHERE settled_at IS NOT NULL") == services)
        #expect(try await number(connection, "SELECT coalesce(sum(settled_minutes), 0) FROM bank.service") == expected)
        #expect(try await number(connection, "SELECT count(*) FROM bank.transfer WHERE kind = 'service_credit'") == services)
        #expect(try await number(connection, "SELECT coalesce(sum(amount), 0) FROM bank.transfer WHERE kind = 'service_credit'") == expected)
        #expect(try await number(connection, """
            SELECT coalesce(sum(a.credits_posted), 0) FROM bank.account a JOIN bank.volunteer v ON v.person_id = a.person_id
            """) == expected)
        #expect(try await number(connection, "SELECT count(*) FROM jobs.job WHERE state IN ('discarded', 'cancelled')") == 0)
        #expect(try await LedgerVerifier.problems(connection) == [])
        return expected
    }

    @Test func everySettlementJobDeliveredTwiceOrAHundredTimesSettlesOnce() async throws {
        try await WorkerProcess.killingOnFailure { try await TestDatabase.with { database in
            let connection = try await database.connect()
            let services = try await SettlementFixture.prepare(connection, services: 300, elders: 50, volunteers: 100)
            try await SettlementFixture.checkOut(connection, services)
            // Every job a second time; the first ten services' a hundred times.
            try await connection.execute("""
                INSERT INTO jobs.job (kind, queue, args)
                SELECT 'settlement.settle', 'settlement', jsonb_build_object('id', s.id)
                  FROM unnest($1::bigint[]) WITH ORDINALITY AS s(id, n), generate_series(1, CASE WHEN s.n <= 10 THEN 99 ELSE 1 END)
                """, [services])
            #expect(try await number(connection, "SELECT count(*) FROM jobs.job WHERE kind = 'settlement.settle'") == 300 * 2 + 10 * 98)
            let workers = try (0..<2).map { _ in try settlementWorker(database.settings) }
            try await waitUntil(connection, "NOT EXISTS (SELECT 1 FROM jobs.job WHERE kind = 'settlement.settle' AND state <> 'completed')")
            for worker in workers { worker.signal(SIGTERM) }
            for worker in workers { #expect(await worker.wait() == 0, "\(worker.output.suffix(2000))") }
            let minutes = try await expectEverythingSettledOnce(connection, services: 300)
            print("settlement duplicate run: 300 services, 1,280 settlement jobs, \(minutes) minutes credited once")
            await connection.close()
        } }
    }

    @Test func fourProcessesRaceOverTenThousandCheckOutsAndOneIsKilledMidRun() async throws {
        try await WorkerProcess.killingOnFailure { try await TestDatabase.with { database in
            let connection = try await database.connect()
            let services = try await SettlementFixture.prepare(connection, services: 10_000)
            var workers = try (0..<4).map { _ in try settlementWorker(database.settings) }
            var killed = false
            // Check-outs keep arriving while the workers settle.
            for chunk in stride(from: 0, to: services.count, by: 250) {
                try await SettlementFixture.checkOut(connection, Array(services[chunk..<min(chunk + 250, services.count)]))
                if chunk == 5000 {
                    try await waitUntil(connection, "(SELECT count(*) > 3000 FROM bank.service WHERE settled_at IS NOT NULL)")
                }
                // Killed while it holds jobs: their leases run out and others rescue them. Tried at each
                // chunk from the middle on: the others may have settled all that had arrived (waiting
                // for the worker to hold jobs then waited for ever once settlement got faster).
                let heldByFirst = "SELECT count(*) FROM jobs.job WHERE state = 'running' AND held_by LIKE '%:\(workers[0].pid):%'"
                if chunk >= 5000 && !killed, try await number(connection, heldByFirst) > 0 {
                    workers[0].signal(SIGKILL)
                    #expect(await workers[0].wait() == 128 + SIGKILL)
                    // Killed holding jobs only if it still held some once dead: its batch may have
                    // committed between the look and the signal (then try again at a later chunk).
                    killed = try await number(connection, heldByFirst) > 0
                    workers[0] = try settlementWorker(database.settings)
                }
            }
            try #require(killed, "the first worker never held a job from the middle of the run on")
            try await waitUntil(connection, "NOT EXISTS (SELECT 1 FROM jobs.job WHERE kind = 'settlement.settle' AND state <> 'completed')")
            for worker in workers { worker.signal(SIGTERM) }
            for worker in workers { #expect(await worker.wait() == 0, "\(worker.output.suffix(2000))") }
            let minutes = try await expectEverythingSettledOnce(connection, services: 10_000)
            #expect(minutes == 449_883)
            let rescued = try await number(connection, "SELECT count(*) FROM jobs.job WHERE errors::text LIKE '%rescued%'")
            #expect(rescued > 0)
            print("settlement fault run: 10000 check-outs, 4 processes, 1 SIGKILL, \(rescued) jobs rescued, \(minutes) minutes credited once")
            await connection.close()
        } }
    }

    /// Issue 16: a settlement-worker frozen (SIGSTOP) inside a batch's
    /// transaction held the clearing account's lock for as long as it was
    /// stopped, and nothing settled anywhere. Now the server ends its session
    /// a third of a lease after it went idle in the transaction, the other
    /// worker goes on, and the frozen one's jobs are rescued when their
    /// lease runs out; woken, its late work changes nothing.
    @Test func aFrozenSettlementWorkerStallsSettlementNoLongerThanALease() async throws {
        try await WorkerProcess.killingOnFailure { try await TestDatabase.with { database in
            let connection = try await database.connect()
            let services = try await SettlementFixture.prepare(connection, services: 4000)
            let arguments = ["--poll-milliseconds", "200", "--lease-milliseconds", "6000", "--rescue-milliseconds", "300"]
            // The other worker starts once this one is caught: beside it, on a loaded machine, the other
            // one drained the backlog while this one was being stopped and woken, and it was never
            // caught inside a transaction (twice in full-suite runs).
            let frozen = try WorkerProcess.start("settlement-worker", database.settings, arguments)
            try await SettlementFixture.checkOut(connection, services)
            try await waitUntil(connection, "(SELECT count(*) > 200 FROM bank.service WHERE settled_at IS NOT NULL)")
            // Stopped until it is caught inside a transaction (its session idle in it, locks held).
            let idleInTransaction = """
                EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'
                           AND state_change < now() - interval '300 milliseconds')
                """
            var caught = false
            for _ in 0..<100 where !caught {
                frozen.signal(SIGSTOP)
                try await Task.sleep(for: .milliseconds(400))
                caught = try await connection.query("SELECT \(idleInTransaction) AS ok")[0].decode("ok", as: Bool.self)
                if !caught { frozen.signal(SIGCONT); try await Task.sleep(for: .milliseconds(30)) }
            }
            try #require(caught, "the worker was never stopped inside a transaction")
            let stoppedAt = ContinuousClock.now
            let settledThen = try await number(connection, "SELECT count(*) FROM bank.service WHERE settled_at IS NOT NULL")
            try #require(settledThen < 4000, "the backlog was gone before the freeze")
            let other = try WorkerProcess.start("settlement-worker", database.settings, arguments)
            // Settlement goes on within a third of a lease (the idle timeout), and drains while it stays stopped.
            try await waitUntil(connection, "(SELECT count(*) > \(settledThen + 100) FROM bank.service WHERE settled_at IS NOT NULL)", timeout: .seconds(30))
            let resumedAfter = stoppedAt.duration(to: .now)
            try await waitUntil(connection, "NOT EXISTS (SELECT 1 FROM jobs.job WHERE kind = 'settlement.settle' AND state <> 'completed')",
                                timeout: .seconds(60))
            let drainedAfter = stoppedAt.duration(to: .now)
            #expect(resumedAfter < .seconds(6 + 2 + 2), "resumed \(resumedAfter) after the freeze")
            frozen.signal(SIGCONT)
            try await Task.sleep(for: .seconds(2))
            for worker in [frozen, other] { worker.signal(SIGTERM) }
            for worker in [frozen, other] { #expect(await worker.wait() == 0, "\(worker.output.suffix(2000))") }
            let minutes = try await expectEverythingSettledOnce(connection, services: 4000)
            print("settlement frozen worker: 4000 check-outs, one worker SIGSTOPped inside a batch at \(settledThen) settled; settlement resumed after \(resumedAfter), drained after \(drainedAfter); \(minutes) minutes credited once")
            await connection.close()
        } }
    }

    /// Issue 16: a worker started while its database is down exited after
    /// 0.3 s ("Connection refused"). Now it waits, alive (/healthz 200) and
    /// not ready (/readyz 503), says so once, and works once the database
    /// answers; a login that does not exist still ends it at once.
    @Test func aWorkerStartedBeforeItsDatabaseWaitsForItAndThenWorks() async throws {
        let cluster = LocalCluster(home: URL(fileURLWithPath: "/tmp/timebank-settle-late-\(UUID().uuidString.prefix(8))"))
        defer { try? cluster.stop(); try? FileManager.default.removeItem(at: cluster.home) }
        let settings = ConnectionSettings(conninfo: try await cluster.start())
        try await WorkerProcess.killingOnFailure {
            var connection = try await PostgresConnection.connect(settings)
            try await Migrator.project().migrate(connection)
            let services = try await SettlementFixture.prepare(connection, services: 300, elders: 50, volunteers: 100)
            await connection.close()
            try cluster.stop()

            let worker = try WorkerProcess.start("settlement-worker", settings, [
                "--poll-milliseconds", "200", "--lease-milliseconds", "2000", "--rescue-milliseconds", "300", "--metrics-port", "0"])
            let observability = BankSuites.ObservabilityTests()
            let metrics = try await observability.port(of: worker)
            func status(_ path: String) async throws -> Int { try await observability.get(metrics, path).status }
            try await Task.sleep(for: .seconds(3))
            #expect(kill(worker.pid, 0) == 0, "still running while the database is down: \(worker.output.suffix(1500))")
            #expect(try await status("/healthz") == 200)
            #expect(try await status("/readyz") == 503)
            #expect(worker.output.components(separatedBy: "the database does not answer").count - 1 == 1, "said once: \(worker.output.suffix(1500))")

            _ = try await cluster.start()
            connection = try await PostgresConnection.connect(settings)
            try await SettlementFixture.checkOut(connection, services)
            try await waitUntil(connection, "NOT EXISTS (SELECT 1 FROM jobs.job WHERE kind = 'settlement.settle' AND state <> 'completed')", timeout: .seconds(60))
            #expect(try await status("/readyz") == 200)
            worker.signal(SIGTERM)
            #expect(await worker.wait() == 0, "\(worker.output.suffix(2000))")
            _ = try await expectEverythingSettledOnce(connection, services: 300)

            // What waiting cannot cure ends the worker at once, naming it.
            let stranger = try WorkerProcess.start("settlement-worker", settings.withUser("nobody_at_all"), [])
            #expect(await stranger.wait() != 0)
            #expect(stranger.output.contains("nobody_at_all"), "\(stranger.output.suffix(1500))")
            await connection.close()
        }
    }

    /// The worker's later sessions wait for the database as its first does: a
    /// database that lets the first in and refuses the next (here the login's
    /// connection limit; in CI, a cluster shutting down while the worker
    /// started) is waited for instead of ending the worker. Before, the
    /// second session's refusal ended it ("too many connections for role").
    @Test func aWorkerWhoseLaterSessionsAreRefusedWhileItStartsWaitsAndThenWorks() async throws {
        try await Bank.with(workers: false) { bank in
            let login = "late_settlement_" + UUID().uuidString.prefix(8).lowercased()
            try await bank.owner.execute("CREATE ROLE \(login) LOGIN CONNECTION LIMIT 1 IN ROLE timebank_settlement")
            try await WorkerProcess.killingOnFailure {
                let worker = try WorkerProcess.start("settlement-worker", bank.database.settings.withUser(login), ["--poll-milliseconds", "200"])
                try await Task.sleep(for: .seconds(3))
                #expect(kill(worker.pid, 0) == 0, "still running while its second session is refused: \(worker.output.suffix(1500))")
                #expect(worker.output.contains("too many connections"), "\(worker.output.suffix(1500))")
                try await bank.owner.execute("ALTER ROLE \(login) CONNECTION LIMIT -1")
                try await bank.eventually("""
                    EXISTS (SELECT 1 FROM jobs.worker_instance WHERE id LIKE 'settlement-worker@%' AND stopped_at IS NULL)
                    """, timeout: .seconds(30))
                worker.signal(SIGTERM)
                #expect(await worker.wait() == 0, "\(worker.output.suffix(2000))")
            }
            _ = try? await bank.owner.execute("DROP ROLE \(login)")
        }
    }

    /// Issue 9: a rolling restart (SIGTERM, wait, start the new one) of
    /// every settlement replica in turn while check-outs keep arriving.
    @Test func aRollingRestartOfEverySettlementReplicaLosesNothingAndRunsNothingTwice() async throws {
        try await WorkerProcess.killingOnFailure { try await TestDatabase.with { database in
            let connection = try await database.connect()
            let services = try await SettlementFixture.prepare(connection, services: 10_000)
            var workers = try (0..<3).map { _ in try settlementWorker(database.settings) }
            var restarted = 0
            for (index, chunk) in stride(from: 0, to: services.count, by: 250).enumerated() {
                try await SettlementFixture.checkOut(connection, Array(services[chunk..<min(chunk + 250, services.count)]))
                // Every tenth chunk, the next replica goes down gracefully and its successor starts.
                if index % 10 == 5, restarted < workers.count {
                    let old = workers[restarted]
                    old.signal(SIGTERM)
                    #expect(await old.wait() == 0, "a graceful stop: \(old.output.suffix(2000))")
                    workers[restarted] = try settlementWorker(database.settings)
                    restarted += 1
                }
            }
            #expect(restarted == 3)
            try await waitUntil(connection, "NOT EXISTS (SELECT 1 FROM jobs.job WHERE kind = 'settlement.settle' AND state <> 'completed')")
            for worker in workers { worker.signal(SIGTERM) }
            for worker in workers { #expect(await worker.wait() == 0, "\(worker.output.suffix(2000))") }
            let minutes = try await expectEverythingSettledOnce(connection, services: 10_000)
            #expect(minutes == 449_883)
            // Handed back at the stop, not rescued after a lease ran out.
            #expect(try await number(connection, "SELECT count(*) FROM jobs.job WHERE errors::text LIKE '%rescued%'") == 0)
            #expect(try await number(connection, "SELECT count(*) FROM jobs.worker_instance WHERE stopped_at IS NOT NULL") == 6)
            print("settlement rolling restart: 10000 check-outs, 3 replicas restarted one by one, \(minutes) minutes credited once")
            await connection.close()
        } }
    }

    /// `pg_ctl restart -m immediate` under two settlement processes, on a
    /// cluster of the test's own.
    @Test func aDatabaseRestartMidRunLosesAndDoublesNothing() async throws {
        let cluster = LocalCluster(home: URL(fileURLWithPath: "/tmp/timebank-settle-restart-\(UUID().uuidString.prefix(8))"))
        defer { try? cluster.stop(); try? FileManager.default.removeItem(at: cluster.home) }
        let settings = ConnectionSettings(conninfo: try await cluster.start())
        try await WorkerProcess.killingOnFailure {
        let connection = try await PostgresConnection.connect(settings)
        try await Migrator.project().migrate(connection)
        let services = try await SettlementFixture.prepare(connection, services: 4000)
        let workers = try (0..<2).map { _ in try settlementWorker(settings) }
        for chunk in stride(from: 0, to: services.count, by: 100) {
            try await SettlementFixture.checkOut(connection, Array(services[chunk..<min(chunk + 100, services.count)]))
        }
        try await waitUntil(connection, "(SELECT count(*) > 500 FROM bank.service WHERE settled_at IS NOT NULL)")
        try cluster.restartImmediately()
        try await waitUntil(connection, "NOT EXISTS (SELECT 1 FROM jobs.job WHERE kind = 'settlement.settle' AND state <> 'completed')")
        for worker in workers { worker.signal(SIGTERM) }
        for worker in workers { #expect(await worker.wait() == 0, "\(worker.output.suffix(2000))") }
        let minutes = try await expectEverythingSettledOnce(connection, services: 4000)
        let retried = try await number(connection, "SELECT count(*) FROM jobs.job WHERE errors <> '[]'")
        print("settlement restart run: 4000 check-outs, 2 processes, 1 immediate restart, \(retried) jobs retried, \(minutes) minutes credited once")
        await connection.close()
        }
    }
}

