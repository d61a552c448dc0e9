import ArgumentParser
import BenchSupport
import DevCluster
import Foundation
import JobEngine
import PostgresClient
import TimebankDatabase
import TimebankOperations
import TimebankWorkers

/// The settlement benchmark (issue 5): services checked out and settled by
/// `settlement-worker` processes, against pgbench's settlement transaction
/// (`../shared/peer-bench/sql/settlement.pgbench`: the ceiling of one
/// settlement per commit) on the same server, in the same run.
///
///   swift build -c release && .build/release/settle-bench --database-url postgresql://bench@127.0.0.1:55432/bench
@main
struct SettleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "settle-bench", abstract: "End-to-end settlement throughput and latency.")

    @Option(help: "Server to run on (a superuser; databases settle_bench and settle_pgbench are created there).")
    var databaseURL: String
    @Option(help: "Services checked out per run.") var services = 20_000
    @Option(help: "Settlement worker process counts to run, comma-separated.") var processes = "1,2"
    // Issue 18, item 1: a city's backlog of check-outs has about one service
    // per elder and per volunteer (a service is an hour or two, an elder
    // books a few a week): concurrent batches then share no account. The
    // old fixed 500 elders and 1,000 volunteers for 20,000 services made
    // every batch wait on others' row locks of the same people.
    @Option(help: "Elders the backlog's services belong to (default: one per service).") var elders: Int?
    @Option(help: "Volunteers who served them (default: one per service).") var volunteers: Int?
    @Option(help: "Check-outs per second in the latency run (well under capacity, so latency is not queueing).")
    var pacedRate = 1000
    @Option(help: "Services in the latency run.") var pacedServices = 5000
    @Option(help: "pgbench seconds per script.") var pgbenchSeconds = 20
    @Option(help: "Peer-bench directory (its sql/settlement.pgbench and limits/settle_batch10.pgbench).")
    var peerBench = "../shared/peer-bench"
    @Option(help: "Each settlement-worker's --claim-batch (default: its own).") var claimBatch: Int?
    @Option(help: "Each settlement-worker's --concurrency, comma-separated to compare several (default: its own).")
    var concurrency: String?
    @Option(help: ArgumentHelp("Also draw throughput by processes and concurrency, beside pgbench, as an SVG chart here.", valueName: "file"))
    var chart: String?
    @Option(help: ArgumentHelp("Issue 16: run the workers through a PgBouncer (transaction mode) started in front of the server, as the settlement login, with their LISTEN sessions direct (listen-direct) or none (poll-only).", valueName: "listening"))
    var pgbouncer: WorkerRoute.Listening?
    @Option(help: "With --pgbouncer: server connections per database and user (PgBouncer's default_pool_size).") var pgbouncerPoolSize = 20

    func workerArguments(concurrency: Int?) -> [String] {
        (claimBatch.map { ["--claim-batch", String($0)] } ?? []) + (concurrency.map { ["--concurrency", String($0)] } ?? [])
    }

    func run() async throws {
        let server = ConnectionSettings(conninfo: databaseURL, applicationName: "settle-bench")
        let route = try await workerRoute(server)
        defer { route.bouncer?.stop() }
        let concurrencies: [Int?] = concurrency.map { $0.split(separator: ",").compactMap { Int($0) } } ?? [nil]
        print("settle-bench: \(services) services per run, processes \(processes), concurrency \(concurrency ?? "the worker's own"), workers \(route.label)")
        var rows: [(String, Double, String)] = []
        var measured: [ScalingChart.Point] = []
        for workerConcurrency in concurrencies {
            let label = workerConcurrency.map { "concurrency \($0)" } ?? "default concurrency"
            for count in processes.split(separator: ",").compactMap({ Int($0) }) {
                let settings = try await freshDatabase(server, "settle_bench")
                let drain = try await runDrain(settings, processes: count, arguments: workerArguments(concurrency: workerConcurrency), route: route)
                print(String(format: "ours, %d process(es), %@: %.0f settlements/s (%d in %.2f s); check-out to credited in that backlog p50/p95/p99 %@",
                             count, label, drain.rate, services, drain.seconds, drain.latency))
                rows.append(("ours, \(count) settlement-worker process(es), \(label), backlog of \(services)", drain.rate, drain.latency))
                measured.append(ScalingChart.Point(processes: count, series: label, rate: drain.rate))
                guard pacedServices > 0 else { continue }
                let paced = try await runPaced(try await freshDatabase(server, "settle_bench"), processes: count,
                                               arguments: workerArguments(concurrency: workerConcurrency), route: route)
                print("ours, \(count) process(es), \(label), \(pacedRate) check-outs/s: check-out to credited p50/p95/p99 \(paced)")
                rows.append(("ours, \(count) process(es), \(label), paced at \(pacedRate)/s", Double(pacedRate), paced))
            }
        }
        guard pgbenchSeconds > 0 else { return }
        let pgbench = try await runPGBench(server, script: "sql/settlement.pgbench")
        print(String(format: "pgbench settlement.pgbench, -c 8 -j 2: %.0f settlements/s; latency p50/p95/p99 %@", pgbench.rate, pgbench.latency))
        let batch = try await runPGBench(server, script: "limits/settle_batch10.pgbench")
        print(String(format: "pgbench settle_batch10.pgbench, -c 8 -j 2: %.0f settlements/s (10 per commit)", batch.rate * 10))
        let direct = try await runDirectSettle(server)
        print(String(format: "pgbench calling bank.settlement_settle, %d per call, -c 8 -j 2: %.0f settlements/s", direct.batch, direct.rate))
        print("")
        print("| run | settlements/s | vs pgbench (1 per commit) | check-out to credited p50 / p95 / p99 |")
        print("| --- | ---: | ---: | --- |")
        for (name, rate, latency) in rows {
            let ratio = name.contains("paced") ? "" : String(format: "%.2fx", rate / pgbench.rate)
            print("| \(name) | \(String(format: "%.0f", rate)) | \(ratio) | \(latency) |")
        }
        print(String(format: "| pgbench settlement.pgbench, 8 clients | %.0f | 1.00x | %@ (one transaction) |", pgbench.rate, pgbench.latency))
        print(String(format: "| pgbench settle_batch10.pgbench, 8 clients | %.0f | %.2fx | |", batch.rate * 10, batch.rate * 10 / pgbench.rate))
        print(String(format: "| pgbench calling bank.settlement_settle, %d per call, 8 clients (our SQL, no job engine) | %.0f | %.2fx | |",
                     direct.batch, direct.rate, direct.rate / pgbench.rate))
        print(String(format: "ratios to the ten-per-commit ceiling (%.0f/s): our SQL %.2fx%@", batch.rate * 10, direct.rate / (batch.rate * 10),
                     rows.filter { !$0.0.contains("paced") }.map { String(format: "; %@ %.2fx", $0.0, $0.1 / (batch.rate * 10)) }.joined()))
        if let chart {
            let svg = ScalingChart(title: "settlements per second by settlement-worker processes", points: measured,
                                   baseline: pgbench.rate, baselineName: "pgbench, 1 settlement per commit").svg()
            try svg.write(toFile: chart, atomically: true, encoding: .utf8)
            print("chart: \(chart)")
        }
    }

    /// A new, migrated database.
    func freshDatabase(_ server: ConnectionSettings, _ name: String) async throws -> ConnectionSettings {
        let settings = try await freshPlainDatabase(server, name)
        let connection = try await PostgresConnection.connect(settings)
        try await Migrator.project().migrate(connection)
        await connection.close()
        return settings
    }

    func startWorkers(_ settings: ConnectionSettings, _ count: Int, _ workerArguments: [String], _ route: WorkerRoute) throws -> [pid_t] {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("settlement-worker").path
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = route.databaseURL(settings)
        return try (0..<count).map { _ in
            try ChildProcess.spawn(executable, ["--log-level", "warning"] + workerArguments + route.arguments(settings), environment: environment,
                                   logFile: "/tmp/settle-bench-worker.log")
        }
    }

    func stopWorkers(_ pids: [pid_t]) async {
        for pid in pids { kill(pid, SIGTERM) }
        for pid in pids { _ = await ChildProcess.exitStatus(of: pid) }
    }

    func waitIdle(_ connection: PostgresConnection, _ count: Int, _ route: WorkerRoute) async throws {
        // Poll only: no idle registrations; started (registered) and one poll interval on, they are polling.
        if route.pollOnly {
            while try await connection.query("SELECT count(*) AS n FROM jobs.worker_instance WHERE stopped_at IS NULL AND gone_at IS NULL")[0]
                .decode("n", as: Int.self) < count {
                try await Task.sleep(for: .milliseconds(20))
            }
            return try await Task.sleep(for: .seconds(1))
        }
        while try await connection.query("SELECT count(*) AS n FROM jobs.idle_worker WHERE queue = 'settlement'")[0]
            .decode("n", as: Int.self) < count {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits until no settlement job is left to run, asking every 100 ms
    /// through the job table's partial indexes (a cheap question: the
    /// benchmark must not take CPU from what it measures). The outbox's
    /// notify.dispatch jobs stay queued: no notification worker runs here.
    func waitSettled(_ connection: PostgresConnection) async throws {
        while try await !connection.query("""
            SELECT (SELECT id FROM jobs.job WHERE state = 'available' AND limit_key IS NULL AND queue = 'settlement' ORDER BY queue, priority, run_at, id LIMIT 1) IS NULL
               AND (SELECT id FROM jobs.job WHERE state = 'running' AND queue = 'settlement' ORDER BY lease_expires_at LIMIT 1) IS NULL
               AND (SELECT id FROM jobs.job WHERE state IN ('scheduled', 'retryable') AND queue = 'settlement' ORDER BY run_at LIMIT 1) IS NULL AS done
            """)[0].decode("done", as: Bool.self) {
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Percentiles of check-out (the check-out transaction's time, which
    /// is its job's created_at) to credited (the settlement's clock time).
    func latency(_ connection: PostgresConnection, _ ids: [Int64]) async throws -> String {
        let row = try await connection.query("""
            SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM s.settled_at - j.created_at) * 1000)::float8[] AS p
              FROM bank.service s JOIN jobs.job j ON j.kind = 'settlement.settle' AND j.unique_key = s.id::text
             WHERE s.id = ANY($1)
            """, [ids])[0]
        let p: [Double] = try row.decode("p")
        return String(format: "%.1f / %.1f / %.1f ms", p[0], p[1], p[2])
    }

    func runDrain(_ settings: ConnectionSettings, processes count: Int, arguments: [String], route: WorkerRoute) async throws -> (rate: Double, seconds: Double, latency: String) {
        let connection = try await PostgresConnection.connect(settings)
        let ids = try await SettlementFixture.prepare(connection, services: services, elders: elders ?? services, volunteers: volunteers ?? services)
        try await connection.executeScript("VACUUM ANALYZE")
        let workers = try startWorkers(settings, count, arguments, route)
        try await waitIdle(connection, count, route)
        // Issue 18: the whole backlog is checked out first, its queue paused, and the clock runs from
        // the queue's release to the last credit (on the server's clock). Timed from the first
        // check-out, the run measured the one session checking out (4.8 s of a 5.3 s run with the
        // realistic fixture), not settlement.
        try await JobAdmin.setPaused(connection, queue: "settlement", paused: true)
        try await checkOutAll(connection, ids)
        let released = try await connection.query("SELECT clock_timestamp() AS t")[0].decode("t", as: Date.self)
        try await JobAdmin.setPaused(connection, queue: "settlement", paused: false)
        try await waitSettled(connection)
        await stopWorkers(workers)
        let seconds = try await connection.query(
            "SELECT extract(epoch FROM (SELECT max(settled_at) FROM bank.service) - $1::timestamptz)::float8 AS s", [released]
        )[0].decode("s", as: Double.self)
        let problems = try await LedgerVerifier.problems(connection)
        if !problems.isEmpty { throw ValidationError("the ledger does not verify: \(problems)") }
        let text = try await latency(connection, ids)
        await connection.close()
        return (Double(ids.count) / seconds, seconds, text)
    }

    func runPaced(_ settings: ConnectionSettings, processes count: Int, arguments: [String], route: WorkerRoute) async throws -> String {
        let connection = try await PostgresConnection.connect(settings)
        let ids = try await SettlementFixture.prepare(connection, services: pacedServices, elders: 100, volunteers: 5000)
        try await connection.executeScript("VACUUM ANALYZE")
        let workers = try startWorkers(settings, count, arguments, route)
        try await waitIdle(connection, count, route)
        // Ten check-outs every 10 ms at 1,000/s: small transactions, as check-outs come.
        let perTick = max(1, pacedRate / 100)
        let clock = ContinuousClock()
        var next = clock.now
        for chunk in stride(from: 0, to: ids.count, by: perTick) {
            try await SettlementFixture.checkOut(connection, Array(ids[chunk..<min(chunk + perTick, ids.count)]))
            next += .milliseconds(10)
            try await Task.sleep(until: next, clock: clock)
        }
        try await waitSettled(connection)
        await stopWorkers(workers)
        let text = try await latency(connection, ids)
        await connection.close()
        return text
    }

    func runPGBench(_ server: ConnectionSettings, script: String) async throws -> (rate: Double, latency: String) {
        let settings = try await freshPlainDatabase(server, "settle_pgbench")
        let schema = try String(contentsOfFile: "\(peerBench)/sql/settlement_schema.sql", encoding: .utf8)
        let connection = try await PostgresConnection.connect(settings)
        try await connection.executeScript(schema.replacingOccurrences(of: "VACUUM ANALYZE settle_account, settle_job, settle_ledger;", with: ""))
        try await connection.executeScript("VACUUM ANALYZE settle_account, settle_job, settle_ledger")
        await connection.close()
        let pgbench = try ServerTools.pgbench()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("settle-bench-pgbench-\(getpid())").path
        try? FileManager.default.removeItem(atPath: log)
        try FileManager.default.createDirectory(atPath: log, withIntermediateDirectories: true)
        let outcome = try await ChildProcess.run(pgbench, [
            // Prepared: the simple protocol is 1.6x slower for this transaction, which flattered us.
            "-n", "-M", "prepared", "-c", "8", "-j", "2", "-T", String(pgbenchSeconds), "-f", "\(peerBench)/\(script)",
            "-l", "--log-prefix", "\(log)/tx", settings.conninfoWithDatabase,
        ])
        let tps = try Self.transactionsPerSecond(outcome, "pgbench")
        var micros: [Int] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: log) {
            for entry in try String(contentsOfFile: "\(log)/\(file)", encoding: .utf8).split(separator: "\n") {
                let fields = entry.split(separator: " ")
                if fields.count >= 3, let value = Int(fields[2]) { micros.append(value) }
            }
        }
        micros.sort()
        func at(_ q: Double) -> Double { micros.isEmpty ? 0 : Double(micros[min(micros.count - 1, Int(q * Double(micros.count)))]) / 1000 }
        return (tps, String(format: "%.1f / %.1f / %.1f ms", at(0.5), at(0.95), at(0.99)))
    }

    /// Checks `ids` out in transactions of 1,000, as check-outs arrive in a backlog.
    func checkOutAll(_ connection: PostgresConnection, _ ids: [Int64]) async throws {
        for chunk in stride(from: 0, to: ids.count, by: 1000) {
            try await SettlementFixture.checkOut(connection, Array(ids[chunk..<min(chunk + 1000, ids.count)]))
        }
    }

    /// pgbench's `tps = ` figure, or its output as the error.
    static func transactionsPerSecond(_ outcome: ChildProcess.Outcome, _ what: String) throws -> Double {
        guard outcome.status == 0, let line = outcome.output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
              let tps = Double(line.dropFirst(6).prefix { $0 != " " })
        else { throw ValidationError("\(what) failed: \(outcome.output)") }
        return tps
    }

    /// Issue 18: the second reference. pgbench calls our own
    /// `bank.settlement_settle` on the same fixture as the workers' runs, in
    /// batches of the workers' claim size, 8 clients, prepared: what our SQL
    /// costs without the job engine (claims, completions, leases, the
    /// worker's round trips), so the two show apart.
    func runDirectSettle(_ server: ConnectionSettings) async throws -> (rate: Double, batch: Int) {
        let batch = claimBatch ?? WorkerKind.settlement.configuration().claimBatch
        let settings = try await freshDatabase(server, "settle_direct")
        let connection = try await PostgresConnection.connect(settings)
        let ids = try await SettlementFixture.prepare(connection, services: services, elders: elders ?? services, volunteers: volunteers ?? services)
        try await checkOutAll(connection, ids)
        // The batches, numbered; each pgbench transaction settles the next one. (The
        // settlement jobs the check-outs enqueued stay queued: no worker runs here.)
        try await connection.executeScript("""
            CREATE TABLE settle_direct AS
              SELECT (row_number() OVER (ORDER BY id) - 1) / \(batch) + 1 AS batch, id FROM bank.service WHERE status = 'checked_out';
            CREATE TABLE settle_direct_batch AS SELECT batch, array_agg(id ORDER BY id) AS ids FROM settle_direct GROUP BY batch;
            ALTER TABLE settle_direct_batch ADD PRIMARY KEY (batch);
            CREATE SEQUENCE settle_direct_next
            """)
        try await connection.executeScript("VACUUM ANALYZE")
        let batches = try await connection.query("SELECT count(*)::int AS n FROM settle_direct_batch")[0].decode("n", as: Int.self)
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("settle-direct-\(getpid()).pgbench").path
        try "SELECT count(*) FROM bank.settlement_settle((SELECT ids FROM settle_direct_batch WHERE batch = (SELECT nextval('settle_direct_next'))));\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        let clients = 8
        let outcome = try await ChildProcess.run(try ServerTools.pgbench(), [
            "-n", "-M", "prepared", "-c", String(clients), "-j", "2", "-t", String(batches / clients), "-f", script, settings.conninfoWithDatabase,
        ])
        let tps = try Self.transactionsPerSecond(outcome, "pgbench (bank.settlement_settle)")
        let settled = try await connection.query("SELECT count(*)::int AS n FROM bank.service WHERE settled_at IS NOT NULL")[0].decode("n", as: Int.self)
        guard settled == batches / clients * clients * batch || settled == ids.count else {
            throw ValidationError("pgbench settled \(settled) services, not the \(batches / clients * clients) batches asked")
        }
        let problems = try await LedgerVerifier.problems(connection)
        if !problems.isEmpty { throw ValidationError("the ledger does not verify after the direct settlement: \(problems)") }
        await connection.close()
        return (tps * Double(batch), batch)
    }

    /// Direct, or a PgBouncer started for the run (the logins made first: the pooled workers log in as theirs).
    func workerRoute(_ server: ConnectionSettings) async throws -> WorkerRoute {
        guard let pgbouncer else { return .direct }
        // A migrated database first: the logins' group roles are the migrations'.
        let admin = try await PostgresConnection.connect(try await freshDatabase(server, "settle_bench"))
        try await LoginAdmin.ensure(admin, password: nil)
        await admin.close()
        let bouncer = try await PgBouncer.start(inFrontOf: server, users: [WorkerRoute.login], poolSize: pgbouncerPoolSize)
        return WorkerRoute(bouncer: bouncer, listening: pgbouncer)
    }

    /// A new, empty database (dropped first if it exists).
    func freshPlainDatabase(_ server: ConnectionSettings, _ name: String) async throws -> ConnectionSettings {
        let admin = try await PostgresConnection.connect(server)
        try await admin.executeScript("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        try await admin.executeScript("CREATE DATABASE \(name)")
        await admin.close()
        return server.withDatabase(name)
    }
}
