import Foundation
@testable import JobEngine
import PostgresClient
import TestSupport
import Testing

/// Limits held across worker processes (0030): two `test-worker`
/// processes, each free to run 10 jobs at once, share one queue where one
/// key (a slow insurer) is limited to 2 running, while its backlog and
/// other keys' jobs wait. The handler records each run's start and end.
@Suite(.serialized) struct JobLimitProcessTests {
    func createSpansTable(_ connection: PostgresConnection) async throws {
        try await connection.executeScript("""
            CREATE TABLE test_spans (job_id bigint NOT NULL, worker text NOT NULL,
                                     started_at timestamptz NOT NULL, ended_at timestamptz NOT NULL)
            """)
    }

    /// Two `test-worker` processes (concurrency 10 each) on `queue` until `count` runs are recorded, then stopped.
    func runTwoWorkers(_ database: TestDatabase, _ connection: PostgresConnection, queue: String, until count: Int) async throws {
        try await WorkerProcess.killingOnFailure {
            let workers = try (0..<2).map { _ in
                try WorkerProcess.start("test-worker", database.settings,
                                        ["--queues", queue, "--concurrency", "10", "--poll-milliseconds", "100"])
            }
            try await eventually(connection, "SELECT count(*) = $1 FROM test_spans", [count], timeout: .seconds(120))
            for worker in workers { worker.signal(SIGTERM) }
            for worker in workers { #expect(await worker.wait() == 0, "\(worker.output.suffix(2000))") }
        }
    }

    struct Load { var slowOverlap: Int; var slowLastEnd: Date; var othersLastEnd: Date; var othersDone: Int }

    /// 24 jobs of `insurer:slow` (300 ms each) enqueued first, then 40 of
    /// four other insurers and 20 unkeyed (50 ms each); drained by two processes.
    func drain(limit: Int?) async throws -> Load {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await createSpansTable(connection)
            if let limit {
                try await JobAdmin.setLimit(connection, queue: "claims", keyPrefix: "insurer:", maxRunning: limit, perSecond: nil)
            }
            _ = try await connection.enqueueMany(kind: "span", arguments: Array(repeating: ["milliseconds": 300], count: 24),
                                                 queue: "claims", limitKey: "insurer:slow")
            for insurer in ["a", "b", "c", "d"] {
                _ = try await connection.enqueueMany(kind: "span", arguments: Array(repeating: ["milliseconds": 50], count: 10),
                                                     queue: "claims", limitKey: "insurer:\(insurer)")
            }
            _ = try await connection.enqueueMany(kind: "span", arguments: Array(repeating: ["milliseconds": 50], count: 20), queue: "claims")
            try await runTwoWorkers(database, connection, queue: "claims", until: 84)
            // The most of the slow key's runs under way at any run's start, from the handler's own record.
            let row = try await connection.query("""
                WITH span AS (SELECT s.*, j.limit_key FROM test_spans s JOIN jobs.job j ON j.id = s.job_id)
                SELECT (SELECT max((SELECT count(*) FROM span o
                                     WHERE o.limit_key = 'insurer:slow' AND o.started_at <= s.started_at AND o.ended_at > s.started_at))
                          FROM span s WHERE s.limit_key = 'insurer:slow')::integer AS overlap,
                       (SELECT max(ended_at) FROM span WHERE limit_key = 'insurer:slow') AS slow_end,
                       (SELECT max(ended_at) FROM span WHERE limit_key IS DISTINCT FROM 'insurer:slow') AS others_end,
                       (SELECT count(*) FROM span WHERE limit_key IS DISTINCT FROM 'insurer:slow')::integer AS others
                """)[0]
            #expect(try await connection.query("SELECT count(DISTINCT worker) AS n FROM test_spans")[0].decode("n", as: Int.self) == 2)
            return Load(slowOverlap: try row.decode("overlap"), slowLastEnd: try row.decode("slow_end"),
                        othersLastEnd: try row.decode("others_end"), othersDone: try row.decode("others"))
        }
    }

    @Test func atMostTwoOfAKeyRunAcrossTwoProcessesAndTheOtherKeysAreNotHeldBack() async throws {
        let load = try await drain(limit: 2)
        #expect(load.slowOverlap == 2)
        #expect(load.othersDone == 60)
        // 24 runs of 300 ms two at a time take 3.6 s at least; the 60 others,
        // behind them in the queue, finish long before.
        #expect(load.othersLastEnd.addingTimeInterval(1.5) < load.slowLastEnd,
                "others ended \(load.othersLastEnd), the slow key \(load.slowLastEnd)")
    }

    /// The control: the same load without the rule runs more than 2 of the key at once.
    @Test func withoutTheRuleTheSameLoadRunsMoreThanTwoOfTheKeyAtOnce() async throws {
        let load = try await drain(limit: nil)
        #expect(load.slowOverlap > 2)
    }

    /// A key limited to 5 started per second (bursts of 5), 30 jobs, two
    /// processes: no second-long window holds more than its 5 plus a
    /// burst's 5, and the whole takes the 5 s its rate allows.
    @Test func theRateHoldsAcrossTwoProcesses() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await createSpansTable(connection)
            try await JobAdmin.setLimit(connection, queue: "notifications", keyPrefix: "channel:person", maxRunning: nil, perSecond: 5, burst: 5)
            _ = try await connection.enqueueMany(kind: "span", arguments: Array(repeating: ["milliseconds": 10], count: 30),
                                                 queue: "notifications", limitKey: "channel:person")
            _ = try await connection.enqueueMany(kind: "span", arguments: Array(repeating: ["milliseconds": 10], count: 30),
                                                 queue: "notifications", limitKey: "channel:agent_institution")
            try await runTwoWorkers(database, connection, queue: "notifications", until: 60)
            // Starts as the claim recorded them (attempted_at, the database's clock).
            let row = try await connection.query("""
                WITH started AS (SELECT attempted_at AS t FROM jobs.job WHERE limit_key = 'channel:person')
                SELECT (SELECT max((SELECT count(*) FROM started o WHERE o.t >= s.t AND o.t < s.t + interval '1 second')) FROM started s)::integer AS busiest,
                       extract(epoch FROM (SELECT max(t) - min(t) FROM started))::float8 AS seconds,
                       (SELECT extract(epoch FROM max(attempted_at) - min(attempted_at)) FROM jobs.job
                         WHERE limit_key = 'channel:agent_institution')::float8 AS others_seconds
                """)[0]
            let busiest: Int = try row.decode("busiest"), seconds: Double = try row.decode("seconds")
            #expect(busiest <= 10, "\(busiest) started within a second")
            #expect(seconds >= 4.5, "30 started over \(seconds) s")  // 5 at once, then 25 at 5 a second
            #expect(try row.decode("others_seconds", as: Double.self) < seconds)  // the unlimited key is not paced
        }
    }
}
