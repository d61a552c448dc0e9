import DevCluster
import Foundation
import JobEngine
import PostgresClient
import TestSupport
import TimebankOperations
import TimebankWorkers
import Testing

/// Issue 16, item 5: the settlement fault test with the settlement
/// workers' sessions through PgBouncer 1.18 in transaction mode, logged in
/// as their own login, their LISTEN sessions direct to PostgreSQL or none
/// (poll only); one worker SIGKILLed mid-run. Every service credited once,
/// the ledger verified, and the server never saw more of the workers'
/// sessions than PgBouncer's pool (plus the direct LISTEN ones).
@Suite(.serialized) struct SettlementThroughPgBouncerTests {
    let faults = SettlementFaultTests()
    let login = LoginAdmin.login(of: .settlement).name
    let lease = 2000
    var arguments: [String] { ["--poll-milliseconds", "200", "--lease-milliseconds", "\(lease)", "--rescue-milliseconds", "300"] }

    @Test func settlementThroughPgBouncerWithItsListenSessionsDirect() async throws {
        try await run(listenDirect: true)
    }

    @Test func settlementThroughPgBouncerPollingOnly() async throws {
        try await run(listenDirect: false)
    }

    /// The timeouts a worker with the test's lease sets on its sessions, and must find on its login's behind a pooler.
    var sessionTimeouts: [(setting: String, milliseconds: Int64)] {
        var configuration = WorkerKind.settlement.configuration()
        configuration.lease = .milliseconds(lease)
        return configuration.sessionTimeouts
    }

    func run(listenDirect: Bool) async throws {
        try await WorkerProcess.killingOnFailure { try await TestDatabase.with { database in
            let connection = try await database.connect()
            try await ensureLogins(connection)
            let direct = database.settings.withUser(login)
            let mode = listenDirect ? ["--listen-url", direct.conninfoWithDatabase] : ["--poll-only"]
            let flags = arguments + ["--pooler", "transaction"] + mode

            // The login's own timeouts (`timebank logins create`: those of the default 30 s lease) are
            // longer than this lease's: behind the pooler the worker cannot shorten them, so it refuses.
            var bouncer = try await PgBouncer.start(inFrontOf: database.settings, users: [login], poolSize: 6)
            let refused = try WorkerProcess.start("settlement-worker", bouncer.settings(for: database.settings, user: login), flags)
            #expect(await refused.wait() != 0)
            let lockTimeout = try #require(sessionTimeouts.first { $0.setting == "lock_timeout" })
            #expect(refused.output.contains("ALTER ROLE \(login) SET lock_timeout = \(lockTimeout.milliseconds)"), "\(refused.output.suffix(1500))")
            bouncer.stop()
            // As the refusal says, scoped to this database; server sessions opened from now on start with them.
            for (setting, milliseconds) in sessionTimeouts {
                try await connection.execute("ALTER ROLE \(login) IN DATABASE \(database.name) SET \(setting) = \(milliseconds)")
            }
            bouncer = try await PgBouncer.start(inFrontOf: database.settings, users: [login], poolSize: 6)
            defer { bouncer.stop() }
            let pooled = bouncer.settings(for: database.settings, user: login)

            let total = 3000
            let services = try await SettlementFixture.prepare(connection, services: total, elders: 200, volunteers: 400)
            let start = { try WorkerProcess.start("settlement-worker", pooled, flags) }
            var workers = try (0..<3).map { _ in try start() }
            var sampler: SessionSampler?
            for chunk in stride(from: 0, to: services.count, by: 250) {
                try await SettlementFixture.checkOut(connection, Array(services[chunk..<min(chunk + 250, services.count)]))
                if chunk == 1500 {
                    try await faults.waitUntil(connection, "(SELECT count(*) > 800 FROM bank.service WHERE settled_at IS NOT NULL)")
                    try await faults.waitUntil(connection, "EXISTS (SELECT 1 FROM jobs.job WHERE state = 'running' AND held_by LIKE '%:\(workers[0].pid):%')")
                    workers[0].signal(SIGKILL)
                    #expect(await workers[0].wait() == 128 + SIGKILL)
                    workers[0] = try start()
                    // Counted from when the killed worker's server sessions are over: PgBouncer drops a session
                    // its client left inside a transaction, but the server ends it only once its statement
                    // does (a lock wait: within the lock timeout).
                    try await Task.sleep(for: .milliseconds(Int(lockTimeout.milliseconds) * 2))
                    sampler = SessionSampler(database.settings.withDatabase("postgres"), database: database.name, user: login)
                }
            }
            try await faults.waitUntil(connection, "NOT EXISTS (SELECT 1 FROM jobs.job WHERE kind = 'settlement.settle' AND state <> 'completed')")
            let idleRegistrations = try await faults.number(connection, "SELECT count(*) FROM jobs.idle_worker WHERE queue = 'settlement'")
            let mostSessions = try await sampler?.stop() ?? 0
            for worker in workers { worker.signal(SIGTERM) }
            for worker in workers { #expect(await worker.wait() == 0, "\(worker.output.suffix(2000))") }
            let minutes = try await faults.expectEverythingSettledOnce(connection, services: total)
            let rescued = try await faults.number(connection, "SELECT count(*) FROM jobs.job WHERE errors::text LIKE '%rescued%'")
            #expect(rescued > 0)
            // Without the pooler each worker holds up to 19 sessions (16 handlers, completer, maintenance, producer).
            // Through it: the pool's, and one direct LISTEN session per worker.
            // (+1 with LISTEN direct: the killed worker's idle LISTEN session lasts until the server notices its socket closed.)
            let bound = bouncer.poolSize + (listenDirect ? workers.count + 1 : 0)
            #expect(mostSessions <= bound && mostSessions > 0, "at most \(mostSessions) sessions of \(login), bound \(bound)")
            if !listenDirect { #expect(idleRegistrations == 0, "a poll-only worker registers no idle worker: nothing would NOTIFY it") }
            print("settlement through PgBouncer (transaction mode, \(listenDirect ? "LISTEN direct" : "poll only")): \(total) check-outs, 3 processes, 1 SIGKILL, \(rescued) rescued, at most \(mostSessions) server sessions, \(minutes) minutes credited once")
            await connection.close()
        } }
    }

    /// The logins, as `timebank logins create` makes them; retried, since
    /// another suite may be altering the same cluster-wide roles at once.
    func ensureLogins(_ connection: PostgresConnection) async throws {
        for attempt in 1...5 {
            do { return try await LoginAdmin.ensure(connection, password: nil) } catch where attempt < 5 {
                try await Task.sleep(for: .milliseconds(100 * attempt))
            }
        }
    }
}

/// Counts a user's sessions on a database every 50 ms and keeps the most.
final class SessionSampler: Sendable {
    private let task: Task<Int, Error>

    init(_ admin: ConnectionSettings, database: String, user: String) {
        task = Task {
            let connection = try await PostgresConnection.connect(admin)
            var most = 0
            while !Task.isCancelled {
                let now: Int = try await connection.query(
                    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1::text AND usename = $2::text", [database, user])[0].decode("n")
                most = max(most, now)
                try? await Task.sleep(for: .milliseconds(50))
            }
            await connection.close()
            return most
        }
    }

    func stop() async throws -> Int {
        task.cancel()
        return try await task.value
    }
}
