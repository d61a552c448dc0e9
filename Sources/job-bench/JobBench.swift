import ArgumentParser
import BenchSupport
import DevCluster
import Foundation
import JobEngine
import PostgresClient
import TimebankDatabase

/// The job engine measured the way `../shared/peer-bench` measures the
/// peers: enqueue one by one and in batches, drain with 2 worker processes
/// x concurrency 10, pickup latency to an idle worker; plus the cost of a
/// NOTIFY per enqueue against our notify-when-someone-idles scheme.
@main
struct JobBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job-bench", abstract: "Benchmark of the job engine (build with -c release).",
        discussion: "Uses DATABASE_URL's server (else the local cluster); creates and drops a database job_bench on it.")

    @Option(help: "Jobs to enqueue and drain.") var jobs = 20_000
    @Option(help: "Batch size for batch enqueue.") var batch = 1000
    @Option(help: "Pickup-latency jobs (after 10 of warm-up).") var latencyJobs = 500
    @Option(help: "Gap between pickup-latency jobs, ms.") var gapMilliseconds = 20
    @Option(help: "Seconds per notify-cost run.") var notifySeconds = 10
    @Option(help: "Worker processes for the drain.") var processes = 2
    @Option(help: "Concurrency per worker process.") var concurrency = 10
    @Flag(help: "Workers commit claims and results asynchronously.") var asynchronousCommit = false
    @Option(help: "Jobs each worker claims ahead of free slots.") var prefetch = 0
    @Option(help: "Finished jobs (and a tenth as many waiting on another queue) put in the table before the drain, to show the cost of a large table.")
    var prefillFinished = 0
    @Option(help: "Limit keys the drained jobs carry, a batch each in turn (0: none).") var keys = 0
    @Option(help: "With --keys, a rule on the bench queue: at most this many of one key's jobs running (0: no rule).")
    var maxRunningPerKey = 0
    @Flag(help: "Measure the drain only.") var drainOnly = false
    @Flag(help: "Turn autovacuum off for the jobs table during the run (to see its share).") var noAutovacuum = false
    @Option(help: ArgumentHelp("Drain only, at each of these process counts (comma-separated) and each --sweep-concurrency; print a table.", valueName: "counts"))
    var sweepProcesses: String?
    @Option(help: ArgumentHelp("Concurrencies for --sweep-processes (comma-separated).", valueName: "values")) var sweepConcurrency = "10,50"
    @Option(help: ArgumentHelp("With --sweep-processes, also draw the table as an SVG chart here.", valueName: "file")) var chart: String?

    func run() async throws {
        let server = try await LocalCluster.resolveSettings(applicationName: "job-bench")
        let settings = try await freshDatabase(server)
        let connection = try await PostgresConnection.connect(settings)
        try await connection.executeScript("""
            CREATE TABLE bench_pickup (job_id bigint PRIMARY KEY, started_ns bigint NOT NULL);
            CREATE TABLE test_runs (job_id bigint, attempt int, worker text, ran_at timestamptz DEFAULT clock_timestamp());
            """)
        var report: [(String, String)] = []
        if let sweepProcesses {
            var points: [ScalingChart.Point] = []
            print("| processes | concurrency | jobs/s |\n| ---: | ---: | ---: |")
            for workerConcurrency in sweepConcurrency.split(separator: ",").compactMap({ Int($0) }) {
                for count in sweepProcesses.split(separator: ",").compactMap({ Int($0) }) {
                    try await connection.executeScript("DELETE FROM jobs.job")
                    _ = try await enqueueBatches(connection, count: jobs, batch: batch)
                    let drain = try await drainWithWorkers(connection, settings, count: jobs, processes: count, concurrency: workerConcurrency)
                    print("| \(count) | \(workerConcurrency) | \(format(drain.rate)) |")
                    points.append(ScalingChart.Point(processes: count, series: "concurrency \(workerConcurrency)", rate: drain.rate))
                }
            }
            if let chart {
                try ScalingChart(title: "no-op jobs per second by worker processes", points: points, baseline: nil).svg()
                    .write(toFile: chart, atomically: true, encoding: .utf8)
                print("chart: \(chart)")
            }
            await connection.close()
            return
        }
        if drainOnly {
            if noAutovacuum { try await connection.executeScript("ALTER TABLE jobs.job SET (autovacuum_enabled = false)") }
            try await prefill(connection)
            if maxRunningPerKey > 0 {
                try await JobAdmin.setLimit(connection, queue: "bench", keyPrefix: "k:", maxRunning: maxRunningPerKey, perSecond: nil)
            }
            _ = try await enqueueBatches(connection, count: jobs, batch: batch)
            let drain = try await drainWithWorkers(connection, settings, count: jobs, processes: processes, concurrency: concurrency)
            print("drain with \(prefillFinished) finished and \(prefillFinished / 10) waiting jobs in the table"
                + (keys > 0 ? ", \(keys) keys" + (maxRunningPerKey > 0 ? " of at most \(maxRunningPerKey) running each" : " (no rule)") : "")
                + ": \(format(drain.rate)) jobs/s (steady \(format(drain.steady)))"
                + String(format: "; %.3f commits/job, %.0f µs worker CPU/job", drain.commitsPerJob, drain.workerCPUPerJob))
            return
        }

        let oneByOne = try await enqueueOneByOne(connection, count: jobs)
        report.append(("enqueue one by one (1 producer, 1 txn/job), jobs/s", format(oneByOne)))
        try await connection.executeScript("DELETE FROM jobs.job")

        let batched = try await enqueueBatches(connection, count: jobs, batch: batch)
        report.append(("enqueue in batches of \(batch), jobs/s", format(batched)))

        let drain = try await drainWithWorkers(connection, settings, count: jobs, processes: processes, concurrency: concurrency)
        report.append(("drain, jobs/s (release -> last job finished)", format(drain.rate)))
        report.append(("drain, steady jobs/s (first -> last job start)", format(drain.steady)))
        report.append(("drain wall time, s", String(format: "%.2f", drain.seconds)))
        report.append(("jobs left in queue after drain", "\(drain.left)"))
        report.append(("drain, database commits per job", String(format: "%.3f", drain.commitsPerJob)))
        report.append(("drain, worker processes' CPU per job, µs", String(format: "%.0f", drain.workerCPUPerJob)))

        let latency = try await pickupLatency(connection, settings)
        for (label, value) in latency { report.append((label, value)) }

        let notify = try await notifyCost(settings)
        report.append(("enqueue, 8 producers, our scheme (no idle worker: no NOTIFY), jobs/s", format(notify.ours)))
        report.append(("enqueue, 8 producers, a NOTIFY per enqueue, jobs/s", format(notify.always)))

        await connection.close()
        print("\njob-bench: \(processes) worker processes x concurrency \(concurrency), \(jobs) no-op jobs")
        for (label, value) in report {
            print(label.padding(toLength: 72, withPad: " ", startingAt: 0) + value)
        }
    }

    /// Finished jobs, and waiting ones on a queue no worker serves.
    func prefill(_ connection: PostgresConnection) async throws {
        guard prefillFinished > 0 else { return }
        try await connection.query("""
            INSERT INTO jobs.job (kind, queue, state, finalized_at, attempt)
            SELECT 'noop', 'bench', 'completed', now() - interval '1 hour', 1 FROM generate_series(1, $1::int)
            """, [prefillFinished])
        try await connection.query("INSERT INTO jobs.job (kind, queue) SELECT 'noop', 'elsewhere' FROM generate_series(1, $1::int)",
                                   [prefillFinished / 10])
    }

    func format(_ value: Double) -> String { String(format: "%.0f", value) }

    /// Drops and recreates `job_bench`, migrated.
    func freshDatabase(_ server: ConnectionSettings) async throws -> ConnectionSettings {
        let admin = try await PostgresConnection.connect(server.withDatabase("postgres"))
        try await admin.executeScript("DROP DATABASE IF EXISTS job_bench WITH (FORCE)")
        try await admin.executeScript("CREATE DATABASE job_bench")
        await admin.close()
        let settings = server.withDatabase("job_bench")
        let connection = try await PostgresConnection.connect(settings)
        try await Migrator.project().migrate(connection)
        await connection.close()
        return settings
    }

    func enqueueOneByOne(_ connection: PostgresConnection, count: Int) async throws -> Double {
        try await connection.executeScript("CHECKPOINT")
        let started = ContinuousClock.now
        try await enqueueLoop(connection, count: count)
        return Double(count) / started.duration(to: .now).inSeconds
    }

    func enqueueBatches(_ connection: PostgresConnection, count: Int, batch: Int) async throws -> Double {
        try await connection.executeScript("CHECKPOINT")
        let arguments = Array(repeating: [String: Int](), count: batch)
        let started = ContinuousClock.now
        var enqueued = 0
        var batches = 0
        while enqueued < count {
            let size = min(batch, count - enqueued)
            let key = keys > 0 ? "k:\(batches % keys)" : nil
            _ = try await connection.enqueueMany(kind: "noop", arguments: Array(arguments.prefix(size)), queue: "bench", limitKey: key)
            enqueued += size
            batches += 1
        }
        return Double(count) / started.duration(to: .now).inSeconds
    }

    /// `commitsPerJob`: the database's commits during the drain (every
    /// session's, the bench's own 10 ms polls included) per job;
    /// `workerCPUPerJob`: the worker processes' user and system time per
    /// job, in microseconds. Both show what a change saves when a shared
    /// machine makes the rate too noisy to compare.
    struct Drain { var rate: Double; var steady: Double; var seconds: Double; var left: Int; var commitsPerJob: Double; var workerCPUPerJob: Double }

    func commits(_ connection: PostgresConnection) async throws -> Int {
        try await connection.executeScript("SELECT pg_stat_clear_snapshot()")
        return try await connection.query("SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()")[0]
            .decode("n", as: Int.self)
    }

    /// User and system seconds of the children reaped so far.
    func childrenCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    func drainWithWorkers(
        _ connection: PostgresConnection, _ settings: ConnectionSettings, count: Int, processes: Int, concurrency: Int
    ) async throws -> Drain {
        try await connection.executeScript("VACUUM ANALYZE jobs.job")
        try await connection.executeScript("CHECKPOINT")
        try await JobAdmin.setPaused(connection, queue: "bench", paused: true)
        let workers = try (0..<processes).map { _ in
            try BenchWorker.start(settings, ["--queues", "bench", "--concurrency", "\(concurrency)", "--claim-batch", "10", "--prefetch", "\(prefetch)"]
                + (asynchronousCommit ? ["--asynchronous-commit"] : []))
        }
        // Every worker connected and waiting: the barrier.
        try await waitFor(connection, "SELECT count(*) = $1 FROM jobs.idle_worker WHERE queue = 'bench'", [processes])
        let commitsBefore = try await commits(connection)
        let cpuBefore = childrenCPUSeconds()
        let released = try await connection.query("SELECT clock_timestamp() AS t")[0].decode("t", as: Date.self)
        try await JobAdmin.setPaused(connection, queue: "bench", paused: false)
        // The checks read a partial index (the claim's two, the leases'): as
        // "NOT EXISTS (... state = 'available')" the planner picks a
        // sequential scan, which with a million finished rows costs a core
        // every 10 ms; a scalar subquery keeps the ORDER BY and the index.
        try await waitFor(connection, """
            SELECT (SELECT id FROM jobs.job WHERE queue = 'bench' AND state = 'available' AND limit_key IS NULL
                     ORDER BY priority, run_at, id LIMIT 1) IS NULL
               AND (SELECT id FROM jobs.job WHERE queue = 'bench' AND state = 'available' AND limit_key IS NOT NULL
                     ORDER BY limit_key LIMIT 1) IS NULL
               AND (SELECT id FROM jobs.job WHERE state = 'running' AND queue = 'bench'
                     ORDER BY lease_expires_at LIMIT 1) IS NULL
            """, [], every: .milliseconds(10))
        let row = try await connection.query("""
            SELECT max(finalized_at) AS last, min(attempted_at) AS first_start, max(attempted_at) AS last_start,
                   count(*) FILTER (WHERE state <> 'completed') AS left
              FROM jobs.job WHERE queue = 'bench' AND attempted_at >= $1
            """, [released])[0]
        for worker in workers { worker.stop() }
        // The workers' statistics are flushed as they exit.
        let commitsDuring = try await commits(connection) - commitsBefore
        let cpuDuring = childrenCPUSeconds() - cpuBefore
        let last: Date = try row.decode("last"), firstStart: Date = try row.decode("first_start"), lastStart: Date = try row.decode("last_start")
        let seconds = last.timeIntervalSince(released)
        return Drain(rate: Double(count) / seconds, steady: Double(count) / lastStart.timeIntervalSince(firstStart),
                     seconds: seconds, left: try row.decode("left"), commitsPerJob: Double(commitsDuring) / Double(count),
                     workerCPUPerJob: cpuDuring * 1e6 / Double(count))
    }

    func pickupLatency(_ connection: PostgresConnection, _ settings: ConnectionSettings) async throws -> [(String, String)] {
        let worker = try BenchWorker.start(settings, ["--queues", "latency", "--concurrency", "10"])
        try await waitFor(connection, "SELECT count(*) = 1 FROM jobs.idle_worker WHERE queue = 'latency'", [])
        var enqueued: [Int64: Int64] = [:]
        for _ in 0..<(latencyJobs + 10) {
            let id = try await connection.enqueue(NewJob(kind: "stamp", arguments: [String: Int](), queue: "latency"))
            enqueued[id] = monotonicNanoseconds()
            try await Task.sleep(for: .milliseconds(gapMilliseconds))
        }
        try await waitFor(connection, "SELECT count(*) = $1 FROM bench_pickup", [latencyJobs + 10])
        worker.stop()
        let started = try await connection.query("SELECT job_id, started_ns FROM bench_pickup ORDER BY job_id")
        let latencies = try started.dropFirst(10).map { row -> Double in
            let id: Int64 = try row.decode("job_id")
            return Double(try row.decode("started_ns", as: Int64.self) - enqueued[id]!) / 1e6
        }.sorted()
        func percentile(_ p: Double) -> String { String(format: "%.2f", latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) }
        return [
            ("pickup latency p50, ms", percentile(0.50)), ("pickup latency p95, ms", percentile(0.95)),
            ("pickup latency p99, ms", percentile(0.99)), ("pickup latency max, ms", String(format: "%.2f", latencies.last!)),
            ("share of pickups > 10 ms", String(format: "%.3f", Double(latencies.filter { $0 > 10 }.count) / Double(latencies.count))),
        ]
    }

    struct NotifyCost { var ours: Double; var always: Double }

    /// 8 producers, one job per transaction each, for `notifySeconds`:
    /// `jobs.enqueue` as it is (no idle worker, so no NOTIFY), then the same
    /// statement with a `pg_notify` in the same transaction.
    func notifyCost(_ settings: ConnectionSettings) async throws -> NotifyCost {
        func run(_ sql: String) async throws -> Double {
            var producers: [PostgresConnection] = []
            for _ in 0..<8 { producers.append(try await PostgresConnection.connect(settings)) }
            try await producers[0].executeScript("CHECKPOINT")
            let seconds = notifySeconds
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for producer in producers {
                    group.addTask { try await producer.withPreferredExecutor { try await producer.repeatFor(.seconds(seconds), sql) } }
                }
                return try await group.reduce(0, +)
            }
            for producer in producers { await producer.close() }
            return Double(counts) / Double(seconds)
        }
        let ours = try await run("SELECT jobs.enqueue('noop', '{}', 'notifybench')")
        let always = try await run("SELECT jobs.enqueue('noop', '{}', 'notifybench'), pg_notify('jobs_notifybench', '')")
        return NotifyCost(ours: ours, always: always)
    }

    func waitFor(_ connection: PostgresConnection, _ sql: String, _ parameters: [any PostgresEncodable], every: Duration = .milliseconds(20)) async throws {
        let deadline = ContinuousClock.now + .seconds(600)
        while ContinuousClock.now < deadline {
            if try await connection.query(sql, parameters)[0].decode(column: 0, as: Bool.self) { return }
            try await Task.sleep(for: every)
        }
        throw ValidationError("timed out waiting for: \(sql)")
    }
}

func enqueueLoop(_ connection: isolated PostgresConnection, count: Int) throws {
    for _ in 0..<count {
        _ = try connection.enqueue(NewJob(kind: "noop", arguments: [String: Int](), queue: "bench"))
    }
}

extension PostgresConnection {
    func repeatFor(_ duration: Duration, _ sql: String) throws -> Int {
        let deadline = ContinuousClock.now + duration
        var count = 0
        while ContinuousClock.now < deadline {
            try query(sql)
            count += 1
        }
        return count
    }
}

func monotonicNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

/// A `test-worker` process (built beside this executable).
struct BenchWorker {
    let pid: pid_t

    static func start(_ settings: ConnectionSettings, _ arguments: [String]) throws -> BenchWorker {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("test-worker").path
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = settings.conninfoWithDatabase
        let pid = try ChildProcess.spawn(
            executable, ["--log-level", "warning", "--poll-milliseconds", "1000"] + arguments,
            environment: environment, logFile: "/tmp/job-bench-worker.log")
        return BenchWorker(pid: pid)
    }

    func stop() {
        kill(pid, SIGTERM)
        _ = ChildProcess.wait(pid)
    }
}
