import DevCluster
import Foundation
@testable import JobEngine
import PostgresClient
import TestSupport
import TimebankDatabase
import Testing

/// Separate `test-worker` processes, killed and restarted as in production.
@Suite(.serialized) struct WorkerProcessTests {
    /// A `test-worker` process (noop, sleep, fail and stamp handlers).
    func testWorker(_ settings: ConnectionSettings, _ arguments: [String] = []) throws -> WorkerProcess {
        try WorkerProcess.start("test-worker", settings, ["--poll-milliseconds", "200"] + arguments)
    }

    func count(_ connection: PostgresConnection, _ sql: String) async throws -> Int {
        try await connection.query(sql)[0].decode(column: 0, as: Int.self)
    }

    @Test func fourProcessesDrainTenThousandJobsEachOnce() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await createRunsTable(connection)
            for _ in 0..<10 {
                _ = try await connection.enqueueMany(kind: "noop", arguments: Array(repeating: ["record": true], count: 1000))
            }
            let workers = try (0..<4).map { _ in try testWorker(database.settings, ["--concurrency", "10"]) }
            try await eventually(connection, "SELECT count(*) = 10000 FROM jobs.job WHERE state = 'completed'", timeout: .seconds(180))
            for worker in workers { worker.signal(SIGTERM) }
            for worker in workers { #expect(await worker.wait() == 0, "\(worker.output.suffix(2000))") }
            #expect(try await count(connection, "SELECT count(*) FROM test_runs") == 10000)
            #expect(try await count(connection, "SELECT count(DISTINCT job_id) FROM test_runs") == 10000)
            #expect(try await count(connection, "SELECT count(*) FROM jobs.job WHERE state <> 'completed'") == 0)
            // All four took part.
            #expect(try await count(connection, "SELECT count(DISTINCT worker) FROM test_runs") == 4)
        }
    }

    @Test func jobsOfAKilledWorkerAreRescuedAndCompletedByAnother() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await createRunsTable(connection)
            _ = try await connection.enqueueMany(kind: "sleep", arguments: Array(repeating: SleepArguments(milliseconds: 60_000, record: true), count: 5))
            let doomed = try testWorker(database.settings, ["--lease-milliseconds", "1500"])
            try await eventually(connection, "SELECT count(*) = 5 FROM jobs.job WHERE state = 'running'")
            doomed.signal(SIGKILL)
            #expect(await doomed.wait() == 128 + SIGKILL)
            // The survivor runs the jobs quickly: shorten them now that the first attempt is dead.
            try await connection.execute("UPDATE jobs.job SET args = jsonb_set(args, '{milliseconds}', '10')")
            let survivor = try testWorker(database.settings, ["--rescue-milliseconds", "200"])
            try await eventually(connection, "SELECT count(*) = 5 FROM jobs.job WHERE state = 'completed'")
            survivor.signal(SIGTERM)
            #expect(await survivor.wait() == 0)
            #expect(try await count(connection, "SELECT count(*) FROM jobs.job WHERE attempt = 2 AND errors->0->>'error' LIKE 'rescued%'") == 5)
            #expect(try await count(connection, "SELECT count(DISTINCT job_id) FROM test_runs WHERE attempt = 2") == 5)
        }
    }

    @Test func sigtermLetsRunningJobsFinishThenExitsZero() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await createRunsTable(connection)
            _ = try await connection.enqueueMany(kind: "sleep", arguments: Array(repeating: SleepArguments(milliseconds: 1500, record: true), count: 5))
            let worker = try testWorker(database.settings)
            try await eventually(connection, "SELECT count(*) = 5 FROM jobs.job WHERE state = 'running'")
            worker.signal(SIGTERM)
            #expect(await worker.wait() == 0, "\(worker.output.suffix(2000))")
            #expect(try await count(connection, "SELECT count(*) FROM jobs.job WHERE state = 'completed' AND attempt = 1") == 5)
            #expect(try await count(connection, "SELECT count(*) FROM jobs.idle_worker") == 0)
        }
    }

    @Test func jobsLeftWhenTheGraceRunsOutGoBackUnspent() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await createRunsTable(connection)
            _ = try await connection.enqueueMany(kind: "sleep", arguments: Array(repeating: SleepArguments(milliseconds: 60_000, record: false), count: 3))
            let worker = try testWorker(database.settings, ["--grace-milliseconds", "300"])
            try await eventually(connection, "SELECT count(*) = 3 FROM jobs.job WHERE state = 'running'")
            worker.signal(SIGTERM)
            #expect(await worker.wait() == 0, "\(worker.output.suffix(2000))")
            // Handed back as if never tried, for another worker to take at once.
            #expect(try await count(connection, "SELECT count(*) FROM jobs.job WHERE state = 'available' AND attempt = 0") == 3)
        }
    }

    /// `pg_ctl restart -m immediate` under running workers, on a cluster of
    /// the test's own (the shared one serves the other suites meanwhile).
    @Test func workersSurviveADatabaseRestart() async throws {
        let cluster = LocalCluster(home: URL(fileURLWithPath: "/tmp/timebank-restart-\(UUID().uuidString.prefix(8))"))
        defer { try? cluster.stop(); try? FileManager.default.removeItem(at: cluster.home) }
        let settings = ConnectionSettings(conninfo: try await cluster.start())
        let connection = try await PostgresConnection.connect(settings)
        try await Migrator.project().migrate(connection)
        try await createRunsTable(connection)
        _ = try await connection.enqueueMany(kind: "sleep", arguments: Array(repeating: SleepArguments(milliseconds: 5, record: true), count: 3000))
        let workers = try (0..<2).map { _ in try testWorker(settings, ["--lease-milliseconds", "5000", "--rescue-milliseconds", "500"]) }
        try await eventually(connection, "SELECT count(*) > 200 FROM jobs.job WHERE state = 'completed'")
        try cluster.restartImmediately()
        try await eventually(connection, "SELECT count(*) = 3000 FROM jobs.job WHERE state = 'completed'", timeout: .seconds(180))
        for worker in workers { worker.signal(SIGTERM) }
        for worker in workers { #expect(await worker.wait() == 0, "\(worker.output.suffix(2000))") }
        // Every job completed; a job whose completion was lost in the crash
        // may have run again (at least once), none was lost.
        #expect(try await count(connection, "SELECT count(DISTINCT job_id) FROM test_runs") == 3000)
        await connection.close()
    }
}

struct SleepArguments: Codable, Sendable {
    var milliseconds: Int
    var record: Bool
}
