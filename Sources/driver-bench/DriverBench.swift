import ArgumentParser
import DevCluster
import Foundation
import PostgresClient
import TimebankDatabase

/// Round trips per second through our libpq layer, beside pgbench running
/// the same statements against the same database in the same sitting, so
/// the layer's overhead shows as a ratio.
@main
struct DriverBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "driver-bench",
        abstract: "Micro-benchmark of the PostgreSQL layer against pgbench -c 1 -M prepared.",
        discussion: "Build with -c release. Uses DATABASE_URL, else the checkout's local cluster.")

    @Option(help: "Seconds per measurement.") var seconds = 5
    @Option(help: "Rounds; each measurement's median is reported.") var rounds = 3
    @Option(help: "Rows in the table the SELECT reads.") var rows = 10_000

    func run() async throws {
        let settings = try await LocalCluster.resolveSettings(applicationName: "driver-bench")
        let connection = try await PostgresConnection.connect(settings)
        try await prepareTables(connection)
        let pgbench = try PGBench(conninfo: settings.conninfo, rows: rows)
        let duration = Duration.seconds(seconds)

        var results: [String: [Measurement]] = [:]
        for round in 1...rounds {
            print("round \(round)/\(rounds)...")
            results["select pgbench", default: []].append(try pgbench.run(.select, seconds: seconds))
            results["select ours", default: []].append(try await selectOnConnection(connection, rows: rows, for: duration))
            results["select ours hop", default: []].append(try await selectWithHops(connection, rows: rows, for: duration))
            results["select ours pinned", default: []].append(try await connection.withPreferredExecutor {
                try await selectWithHops(connection, rows: rows, for: duration)
            })
            results["insert pgbench", default: []].append(try pgbench.run(.insert, seconds: seconds))
            results["insert ours", default: []].append(try await insertOnConnection(connection, rows: rows, for: duration))
            results["insert ours hop", default: []].append(try await insertWithHops(connection, rows: rows, for: duration))
            results["insert ours pinned", default: []].append(try await connection.withPreferredExecutor {
                try await insertWithHops(connection, rows: rows, for: duration)
            })
        }
        let version = await connection.serverVersion
        await connection.close()
        Report(results: results, seconds: seconds, rounds: rounds, serverVersion: version, rows: rows).print()
    }

    func prepareTables(_ connection: PostgresConnection) async throws {
        try await connection.executeScript("""
            DROP TABLE IF EXISTS bench_driver_select, bench_driver_insert;
            CREATE TABLE bench_driver_select (id int PRIMARY KEY, balance bigint NOT NULL, note text NOT NULL);
            CREATE TABLE bench_driver_insert (id bigserial PRIMARY KEY, account bigint NOT NULL, minutes bigint NOT NULL, note text NOT NULL);
            """)
        try await connection.execute(
            "INSERT INTO bench_driver_select SELECT i, i * 60, 'account ' || i FROM generate_series(1, $1::int) AS i", [rows])
        try await connection.executeScript("VACUUM ANALYZE bench_driver_select")
        try await connection.executeScript("CHECKPOINT")
    }
}

/// One timed run: how many round trips, how long, and each one's latency.
struct Measurement {
    var count: Int
    var elapsed: Duration
    var latencies: [Duration]
    /// The client's CPU time (user + system, all threads) per round trip.
    var clientCPUMicroseconds: Double = 0

    var perSecond: Double { Double(count) / elapsed.seconds }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// A cheap PRNG for row ids (pgbench uses its own too): the system one
/// makes a getrandom system call per number, which would be measured.
nonisolated(unsafe) var generator = SplitMix64(seed: 42)

func nextID(_ rows: Int) -> Int { Int(generator.next() % UInt64(rows)) + 1 }

struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let selectSQL = "SELECT id, balance, note FROM bench_driver_select WHERE id = $1"
let insertSQL = "INSERT INTO bench_driver_insert (account, minutes, note) VALUES ($1, $2, $3)"

/// The loop runs on the connection's own thread (an `isolated` parameter),
/// as a worker's hot path does: each query is a plain call, no thread hop.
func selectOnConnection(_ connection: isolated PostgresConnection, rows: Int, for duration: Duration) async throws -> Measurement {
    try await timed(for: duration) {
        let row = try connection.query(selectSQL, [nextID(rows)])[0]
        _ = try row.decode("balance", as: Int.self)
        _ = try row.decode("note", as: String.self)
    }
}

func insertOnConnection(_ connection: isolated PostgresConnection, rows: Int, for duration: Duration) async throws -> Measurement {
    try await timed(for: duration) {
        try connection.execute(insertSQL, [nextID(rows), 60, "bench"])
    }
}

/// The same from a task outside the actor: every call hops to the
/// connection's thread and back.
func selectWithHops(_ connection: PostgresConnection, rows: Int, for duration: Duration) async throws -> Measurement {
    try await timed(for: duration) {
        let result = try await connection.query(selectSQL, [nextID(rows)])
        _ = try result[0].decode("balance", as: Int.self)
        _ = try result[0].decode("note", as: String.self)
    }
}

func insertWithHops(_ connection: PostgresConnection, rows: Int, for duration: Duration) async throws -> Measurement {
    try await timed(for: duration) {
        try await connection.execute(insertSQL, [nextID(rows), 60, "bench"])
    }
}

/// User + system CPU seconds of this process (`RUSAGE_SELF`) or of its
/// waited-for children (`RUSAGE_CHILDREN`).
func cpuSeconds(_ who: Int32 = RUSAGE_SELF.rawValue) -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(who), &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Runs in the caller's isolation (#isolation), so a loop on the connection stays there.
func timed(
    isolation: isolated (any Actor)? = #isolation, for duration: Duration, _ body: () async throws -> Void
) async rethrows -> Measurement {
    let cpuBefore = cpuSeconds()
    var latencies: [Duration] = []
    latencies.reserveCapacity(200_000)
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + duration
    var now = start
    while now < deadline {
        try await body()
        let after = clock.now
        latencies.append(after - now)
        now = after
    }
    let cpu = (cpuSeconds() - cpuBefore) * 1e6 / Double(latencies.count)
    return Measurement(count: latencies.count, elapsed: now - start, latencies: latencies, clientCPUMicroseconds: cpu)
}
