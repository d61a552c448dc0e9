import Foundation
import Logging
@testable import JobEngine
import PostgresClient
import TestSupport
import Testing

/// The runtime in process: what happens to a job that succeeds, fails,
/// snoozes, cancels, is scheduled, is unique, or cannot be run at all.
@Suite struct WorkerTests {
    @Test func aCommittedJobRunsAndARolledBackOneNever() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await createRunsTable(connection)
            struct Abandon: Error {}
            await #expect(throws: Abandon.self) {
                try await connection.transaction { connection in
                    _ = try connection.enqueue(NewJob(kind: "record", arguments: RecordingHandler.Arguments()))
                    throw Abandon()
                }
            }
            let committed = try await connection.transaction { connection in
                try connection.enqueue(NewJob(kind: "record", arguments: RecordingHandler.Arguments()))
            }
            let worker = try RunningWorker.start(database) { $0.register(RecordingHandler(settings: database.settings)) }
            try await eventually(connection, "SELECT state = 'completed' FROM jobs.job WHERE id = $1", [committed])
            try await worker.stop()
            #expect(try await connection.query("SELECT count(*) AS n FROM jobs.job")[0].decode("n", as: Int.self) == 1)
            #expect(try await connection.query("SELECT count(*) AS n FROM test_runs")[0].decode("n", as: Int.self) == 1)
        }
    }

    @Test func failuresRetryWithBackoffThenDiscardKeepingEveryError() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await createRunsTable(connection)
            var job = NewJob(kind: "record", arguments: RecordingHandler.Arguments(failures: 99))
            job.maxAttempts = 3
            let failing = try await connection.enqueue(job)
            let recovering = try await connection.enqueue(NewJob(kind: "record", arguments: RecordingHandler.Arguments(failures: 2)))
            let worker = try RunningWorker.start(database) { $0.register(RecordingHandler(settings: database.settings)) }
            try await eventually(connection, "SELECT bool_and(state IN ('completed', 'discarded')) FROM jobs.job")
            try await worker.stop()
            let row = try await connection.query(
                "SELECT state::text AS s, attempt, jsonb_array_length(errors) AS errors, errors->0->>'error' AS first FROM jobs.job WHERE id = $1", [failing])[0]
            #expect(try row.decode("s", as: String.self) == "discarded")
            #expect(try row.decode("attempt", as: Int.self) == 3)
            #expect(try row.decode("errors", as: Int.self) == 3)
            #expect(try row.decode("first", as: String.self).contains("Planned"))
            #expect(try await state(connection, recovering) == "completed")
            // The retries waited: each attempt after the first came later.
            let gaps = try await connection.query("""
                SELECT bool_and(gap > interval '10 milliseconds') AS waited FROM (
                    SELECT ran_at - lag(ran_at) OVER (ORDER BY ran_at) AS gap FROM test_runs WHERE job_id = $1) g
                WHERE gap IS NOT NULL
                """, [failing])
            #expect(try gaps[0].decode("waited", as: Bool.self))
        }
    }

    @Test func snoozeRunsAgainWithoutSpendingAnAttempt() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await createRunsTable(connection)
            let id = try await connection.enqueue(NewJob(kind: "record", arguments: RecordingHandler.Arguments(snoozeMilliseconds: 300)))
            let worker = try RunningWorker.start(database) { $0.register(RecordingHandler(settings: database.settings)) }
            try await eventually(connection, "SELECT state = 'completed' FROM jobs.job WHERE id = $1", [id])
            try await worker.stop()
            let runs = try await connection.query("SELECT attempt FROM test_runs WHERE job_id = $1 ORDER BY ran_at", [id])
            #expect(try runs.map { try $0.decode("attempt", as: Int.self) } == [1, 1])
            let gap = try await connection.query("SELECT max(ran_at) - min(ran_at) >= interval '300 milliseconds' AS ok FROM test_runs")
            #expect(try gap[0].decode("ok", as: Bool.self))
        }
    }

    @Test func cancelEndsTheJobForGood() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await createRunsTable(connection)
            let id = try await connection.enqueue(NewJob(kind: "record", arguments: RecordingHandler.Arguments(cancel: true)))
            let worker = try RunningWorker.start(database) { $0.register(RecordingHandler(settings: database.settings)) }
            try await eventually(connection, "SELECT state = 'cancelled' FROM jobs.job WHERE id = $1", [id])
            try await worker.stop()
            let errors = try await connection.query("SELECT errors->0->>'error' AS e, finalized_at IS NOT NULL AS final FROM jobs.job WHERE id = $1", [id])
            #expect(try errors[0].decode("e", as: String.self).contains("asked to"))
            #expect(try errors[0].decode("final", as: Bool.self))
        }
    }

    @Test func aScheduledJobDoesNotRunBeforeItsTime() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await createRunsTable(connection)
            var job = NewJob(kind: "record", arguments: RecordingHandler.Arguments())
            job.runAt = Date().addingTimeInterval(1.5)
            let id = try await connection.enqueue(job)
            #expect(try await state(connection, id) == "scheduled")
            let worker = try RunningWorker.start(database) { $0.register(RecordingHandler(settings: database.settings)) }
            try await eventually(connection, "SELECT state = 'completed' FROM jobs.job WHERE id = $1", [id])
            try await worker.stop()
            let early = try await connection.query(
                "SELECT bool_and(r.ran_at >= j.run_at) AS on_time FROM test_runs r JOIN jobs.job j ON j.id = r.job_id")
            #expect(try early[0].decode("on_time", as: Bool.self))
        }
    }

    @Test func aUniqueKeySkipsOrRefusesASecondUnfinishedJob() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            var job = NewJob(kind: "record", arguments: RecordingHandler.Arguments())
            job.uniqueKey = "settle:order-7"
            let first = try await connection.enqueue(job)
            let second = try await connection.enqueue(job)
            #expect(first == second)
            let refused = await #expect(throws: PostgresError.self) {
                try await connection.query("SELECT jobs.enqueue('record', '{}', unique_key => 'settle:order-7', on_duplicate => 'error')")
            }
            #expect(refused?.code == .uniqueViolation)
            #expect(try await connection.query("SELECT count(*) AS n FROM jobs.job")[0].decode("n", as: Int.self) == 1)
            // Once the first is finished, the key is free again.
            try await connection.execute("UPDATE jobs.job SET state = 'completed', finalized_at = now() WHERE id = $1", [first])
            #expect(try await connection.enqueue(job) != first)
        }
    }

    @Test func jobsNoHandlerCanRunAreDiscardedNotRetried() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await createRunsTable(connection)
            let unknown = try await connection.enqueue(NewJob(kind: "nobody_handles_this", arguments: [String: Int]()))
            let undecodable = try await connection.enqueue(NewJob(kind: "record", arguments: ["failures": "many"]))
            let fine = try await connection.enqueue(NewJob(kind: "record", arguments: RecordingHandler.Arguments()))
            let worker = try RunningWorker.start(database) { $0.register(RecordingHandler(settings: database.settings)) }
            try await eventually(connection, "SELECT count(*) = 3 FROM jobs.job WHERE finalized_at IS NOT NULL")
            try await worker.stop()
            for id in [unknown, undecodable] {
                let row = try await connection.query("SELECT state::text AS s, attempt, errors->0->>'error' AS e FROM jobs.job WHERE id = $1", [id])[0]
                #expect(try row.decode("s", as: String.self) == "discarded")
                #expect(try row.decode("attempt", as: Int.self) == 1)
            }
            #expect(try await connection.query("SELECT errors->0->>'error' AS e FROM jobs.job WHERE id = $1", [unknown])[0]
                .decode("e", as: String.self).contains("no handler"))
            #expect(try await connection.query("SELECT errors->0->>'error' AS e FROM jobs.job WHERE id = $1", [undecodable])[0]
                .decode("e", as: String.self).contains("do not decode"))
            #expect(try await state(connection, fine) == "completed")
        }
    }

    /// Over a run of many rounds, pruning keeps the table to about what the
    /// retention covers, not everything ever enqueued.
    @Test func pruningKeepsTheTableBounded() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            let worker = try RunningWorker.start(database, handlers: { $0.register(NoopJob()) }) {
                $0.retention = .milliseconds(200)
                $0.pruneInterval = .milliseconds(100)
            }
            var largest = 0
            for _ in 0..<8 {
                _ = try await connection.enqueueMany(kind: "noop", arguments: Array(repeating: [String: Int](), count: 500))
                try await eventually(connection, "SELECT count(*) = 0 FROM jobs.job WHERE finalized_at IS NULL")
                try await Task.sleep(for: .milliseconds(400))
                largest = max(largest, try await connection.query("SELECT count(*) AS n FROM jobs.job")[0].decode("n", as: Int.self))
            }
            try await worker.stop()
            // 4,000 jobs went through; after each round's retention the table held at most one round.
            #expect(largest <= 500, "the table held \(largest) rows")
        }
    }

    /// Claimed ahead, jobs wait for a slot: never more than `concurrency`
    /// run at once, and every one runs.
    @Test func prefetchedJobsWaitForASlot() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await createRunsTable(connection)
            _ = try await connection.enqueueMany(kind: "record", arguments: Array(repeating: RecordingHandler.Arguments(sleepMilliseconds: 100), count: 12))
            let worker = try RunningWorker.start(database, handlers: { $0.register(RecordingHandler(settings: database.settings)) }) {
                $0.concurrency = 3
                $0.claimBatch = 6
                $0.prefetch = 6
            }
            // More held than run: the rest were claimed ahead.
            try await eventually(connection, "SELECT count(*) > 3 FROM jobs.job WHERE state = 'running'")
            try await eventually(connection, "SELECT count(*) = 12 FROM jobs.job WHERE state = 'completed'")
            try await worker.stop()
            let overlap = try await connection.query("""
                SELECT max(n) AS most FROM (SELECT count(*) OVER (ORDER BY ran_at RANGE BETWEEN interval '90 milliseconds' PRECEDING AND CURRENT ROW) AS n FROM test_runs) r
                """)[0].decode("most", as: Int.self)
            // Each job holds its slot 100 ms after it starts: within any
            // 90 ms at most `concurrency` can have started.
            #expect(overlap <= 3)
            #expect(try await connection.query("SELECT count(DISTINCT job_id) AS n FROM test_runs")[0].decode("n", as: Int.self) == 12)
        }
    }

    /// The peers' most common complaint: a slow job rescued while its
    /// worker is alive, and run twice. Leases are renewed, so it is not.
    @Test func aSlowJobOfALiveWorkerIsNeverRescued() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await createRunsTable(connection)
            let id = try await connection.enqueue(NewJob(kind: "record", arguments: RecordingHandler.Arguments(sleepMilliseconds: 7000)))
            // A job of more than two leases; 3 s, not 1: a renewal that a loaded machine (20 runnable
            // on 2 cores, other suites beside) made late rescued it with 1 s.
            let worker = try RunningWorker.start(database, handlers: { $0.register(RecordingHandler(settings: database.settings)) }) {
                $0.lease = .seconds(3)
                $0.rescueInterval = .milliseconds(100)
            }
            try await eventually(connection, "SELECT state = 'completed' FROM jobs.job WHERE id = $1", [id])
            try await worker.stop()
            let row = try await connection.query("SELECT attempt, jsonb_array_length(errors) AS errors FROM jobs.job WHERE id = $1", [id])[0]
            #expect(try row.decode("attempt", as: Int.self) == 1)
            #expect(try row.decode("errors", as: Int.self) == 0)
            #expect(try await connection.query("SELECT count(*) AS n FROM test_runs")[0].decode("n", as: Int.self) == 1)
        }
    }

    /// A job rescued from under its own worker (its lease ran out while the
    /// machine was stalled) and claimed again by that worker while the first
    /// run still goes: the second run's lease is renewed after the first run
    /// ends, so it is not rescued again and again. Before, the first run's
    /// end forgot the job, and the second run was rescued once its lease ran out.
    @Test func aJobReclaimedByItsOwnWorkerKeepsItsLeaseAfterTheFirstRunEnds() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await createRunsTable(connection)
            let id = try await connection.enqueue(NewJob(kind: "record", arguments: RecordingHandler.Arguments(sleepMilliseconds: 10_000)))
            let worker = try RunningWorker.start(database, handlers: { $0.register(RecordingHandler(settings: database.settings)) }) {
                // 4 s: renewed every 1.3 s, so a loaded machine's late renewal is no rescue (with 2 s,
                // the full suite beside a browser test on 2 cores rescued it again).
                $0.lease = .seconds(4)
                $0.rescueInterval = .milliseconds(100)
            }
            try await eventually(connection, "SELECT count(*) = 1 FROM test_runs WHERE job_id = $1", [id])
            // Midway through attempt 1, as a rescue would leave it: available again, while attempt 1 still
            // runs; attempt 2 then outlives attempt 1 by more than a lease (5 s against 4).
            try await Task.sleep(for: .milliseconds(5000))
            try await connection.execute(
                "UPDATE jobs.job SET state = 'available', held_by = NULL, lease_expires_at = NULL, run_at = now() WHERE id = $1", [id])
            try await connection.query("SELECT jobs.wake('default')")
            try await eventually(connection, "SELECT state = 'completed' FROM jobs.job WHERE id = $1", [id])
            try await worker.stop()
            #expect(try await connection.query("SELECT attempt FROM jobs.job WHERE id = $1", [id])[0].decode("attempt", as: Int.self) == 2)
            #expect(try await connection.query("SELECT count(*) AS n FROM test_runs")[0].decode("n", as: Int.self) == 2)
        }
    }

    /// A worker whose job was rescued (its lease ran out) reports late:
    /// the report names a holder and attempt that no longer hold the row.
    @Test func aLateCompletionAfterARescueChangesNothing() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            let id = try await connection.enqueue(NewJob(kind: "record", arguments: RecordingHandler.Arguments()))
            let claimed = try await JobStore.claim(connection, queue: "default", limit: 1, worker: "slow-worker", lease: .seconds(60))
            #expect(claimed.map(\.id) == [id])
            try await connection.execute("UPDATE jobs.job SET lease_expires_at = now() - interval '1 second' WHERE id = $1", [id])
            // Its holder says it still holds it (alive, stalled since it renewed): not rescued.
            #expect(try await JobStore.rescue(connection, worker: "slow-worker", held: [id]).isEmpty)
            #expect(try await JobStore.rescue(connection, worker: "another-worker", held: [id]) == [id])
            #expect(try await state(connection, id) == "retryable")

            let late = AttemptResult(jobID: id, attempt: 1, kind: .completed, runAt: nil, message: nil)
            let changed = try await JobStore.record(connection, [late], worker: "slow-worker")
            #expect(changed == 0)
            #expect(try await state(connection, id) == "retryable")

            // Claimed again by another worker: the first one's report still changes nothing.
            try await JobStore.promoteDue(connection)
            let again = try await JobStore.claim(connection, queue: "default", limit: 1, worker: "other-worker", lease: .seconds(60))
            #expect(again.first?.attempt == 2)
            #expect(try await JobStore.record(connection, [late], worker: "slow-worker") == 0)
            #expect(try await state(connection, id) == "running")
        }
    }
}


struct NoopJob: JobHandler {
    struct Arguments: Codable, Sendable {}
    static let kind = "noop"
    func run(_ arguments: Arguments, context: JobContext) async throws -> JobOutcome { .completed }
}

/// Issue 16: one line per event. A batch that fails whole (its connection
/// died, a timeout) logged one warning per job; now one for the batch.
@Suite struct BatchFailureLogTests {
    /// Lines logged, for the test to count.
    final class Lines: @unchecked Sendable {
        let lock = NSLock()
        var all: [String] = []
        func add(_ line: String) { lock.withLock { all.append(line) } }
        func count(_ text: String) -> Int { lock.withLock { all.filter { $0.contains(text) }.count } }
    }

    struct Capturing: LogHandler {
        let lines: Lines
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            lines.add("\(level) \(message) \((metadata ?? [:]).merging(self.metadata) { a, _ in a })")
        }
    }

    /// Fails its first batch whole, then completes every job.
    struct FailsOnce: BatchJobHandler {
        struct Arguments: Codable, Sendable { var n: Int }
        static let kind = "fails_once"
        let calls: Lines
        struct ConnectionDied: Error {}
        func run(_ batch: [Arguments], connection: isolated PostgresConnection) throws -> [JobOutcome] {
            calls.add("call")
            if calls.count("call") == 1 { throw ConnectionDied() }
            return batch.map { _ in .completed }
        }
    }

    @Test func aBatchThatFailsWholeLogsOneLineNotOnePerJob() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            _ = try await connection.enqueueMany(kind: FailsOnce.kind, arguments: (0..<20).map { FailsOnce.Arguments(n: $0) })
            let lines = Lines()
            var configuration = WorkerConfiguration(name: "test", queues: ["default"])
            configuration.concurrency = 1
            configuration.claimBatch = 20
            configuration.pollInterval = .milliseconds(100)
            configuration.promoteInterval = .milliseconds(50)
            configuration.backoff = Backoff(base: .milliseconds(20), maximum: .milliseconds(100))
            var registry = HandlerRegistry()
            registry.register(FailsOnce(calls: Lines()))
            let worker = try Worker(configuration: configuration, settings: database.settings, registry: registry,
                                    logger: Logger(label: "test", factory: { _ in Capturing(lines: lines) }))
            let task = Task { try await worker.run() }
            try await eventually(connection, "SELECT count(*) = 20 FROM jobs.job WHERE state = 'completed'")
            await worker.beginShutdown()
            try await task.value
            #expect(lines.count("batch failed") == 1, "\(lines.all)")
            #expect(lines.count("job failed") == 0, "\(lines.all)")
            // The failed batch's jobs each recorded the failure, and ran again.
            let failed = try await connection.query("SELECT count(*) AS n FROM jobs.job WHERE errors <> '[]' AND attempt = 2")[0].decode("n", as: Int.self)
            #expect(failed >= 1 && lines.all.contains { $0.contains("batch failed") && $0.contains("\"jobs\": \(failed)") || $0.contains("jobs: \(failed)") },
                    "\(failed): \(lines.all)")
            await connection.close()
        }
    }
}
