import Console
import Foundation
import Logging
import PostgresClient
import TestSupport
import Testing
import TimebankOperations

/// A database with known state for the console's tests: a queue with jobs
/// waiting, one job that failed for good (its errors recorded), a viewer's
/// and an operator's account, and a login of the console's own
/// (a member of `timebank_console` only, as `timebank logins create` makes
/// timebank_console_login: never a superuser with SET ROLE).
struct ConsoleHarness: Sendable {
    static let password = "a console test password"
    static let queue = "console_test"

    let database: TestDatabase
    let owner: PostgresConnection
    /// The console's own login's settings.
    let consoleSettings: ConnectionSettings
    let failedJob: Int64
    let waitingJobs: [Int64]

    static func with<T: Sendable>(_ body: (ConsoleHarness) async throws -> T) async throws -> T {
        try await TestDatabase.with { database in
            let owner = try await database.connect()
            do {
                let value = try await withConsoleLogin(database, owner: owner) { settings in
                    try await body(try await make(database, owner: owner, consoleSettings: settings))
                }
                await owner.close()
                return value
            } catch {
                await owner.close()
                throw error
            }
        }
    }

    /// A login of the console's own (a member of timebank_console only) for `body`'s length: its settings.
    static func withConsoleLogin<T: Sendable>(_ database: TestDatabase, owner: PostgresConnection,
                                              _ body: (ConnectionSettings) async throws -> T) async throws -> T {
        let login = "console_" + UUID().uuidString.prefix(8).lowercased()
        try await owner.execute("CREATE ROLE \(login) LOGIN IN ROLE timebank_console")
        let conninfo = database.settings.conninfoWithDatabase
        let settings = ConnectionSettings(conninfo: conninfo.hasPrefix("postgres") ? conninfo + "&user=\(login)" : conninfo + " user=\(login)")
        do {
            let value = try await body(settings)
            try await dropLogin(login, database)
            return value
        } catch {
            try? await dropLogin(login, database)
            throw error
        }
    }

    private static func make(_ database: TestDatabase, owner: PostgresConnection, consoleSettings: ConnectionSettings) async throws -> ConsoleHarness {
        var waiting: [Int64] = []
        for number in 1...3 {
            waiting.append(try await owner.query("SELECT jobs.enqueue('console.sample', $1::jsonb, $2) AS id",
                                                 ["{\"request_id\": \(number)}", queue])[0].decode("id"))
        }
        let failed: Int64 = try await owner.query("""
            UPDATE jobs.job SET state = 'discarded', attempt = max_attempts, finalized_at = now(), attempted_at = now(),
                   errors = '[{"attempt": 20, "at": "2026-12-01T00:00:00Z", "error": "the insurer answered <b>503</b> & gave up"}]'
             WHERE id = $1 RETURNING id
            """, [waiting.removeLast()])[0].decode("id")
        _ = try await ConsoleAccounts.add(owner, login: "viewer1", power: "viewer", password: password, staffCode: nil)
        _ = try await ConsoleAccounts.add(owner, login: "operator1", power: "operator", password: password, staffCode: nil)
        return ConsoleHarness(database: database, owner: owner, consoleSettings: consoleSettings, failedJob: failed, waitingJobs: waiting)
    }

    private static func dropLogin(_ login: String, _ database: TestDatabase) async throws {
        // Its sessions first (the console's pool may still be closing), then the role (cluster-wide).
        let admin = try await PostgresConnection.connect(database.settings.withDatabase("postgres"))
        _ = try? await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [login])
        _ = try? await admin.execute("DROP ROLE IF EXISTS \(login)")
        await admin.close()
    }

    /// A connection as the console's own login.
    func connectAsConsole() async throws -> PostgresConnection {
        try await PostgresConnection.connect(consoleSettings)
    }

    func logIn(_ connection: PostgresConnection, _ login: String, password: String = Self.password) async throws -> (token: String, csrf: String)? {
        try await Self.logIn(connection, login, password: password)
    }

    /// A session as the console would get it: (token, csrf).
    static func logIn(_ connection: PostgresConnection, _ login: String, password: String = Self.password) async throws -> (token: String, csrf: String)? {
        try await connection.query("SELECT token, csrf_token FROM bank.console_log_in($1, $2)", [login, password]).first.map {
            (try $0.decode("token"), try $0.decode("csrf_token"))
        }
    }

    func jobState(_ id: Int64) async throws -> String {
        try await owner.query("SELECT state::text AS state FROM jobs.job WHERE id = $1", [id])[0].decode("state")
    }

    func queuePaused() async throws -> Bool {
        try await owner.query("SELECT paused FROM jobs.queue_depth WHERE queue = $1", [Self.queue])[0].decode("paused")
    }

    /// The console, served on a free port as its own login, for the length of `body`.
    func serving<T: Sendable>(trustedProxy: String? = nil, _ body: (URL) async throws -> T) async throws -> T {
        try await Self.serving(consoleSettings, trustedProxy: trustedProxy, body)
    }

    static func serving<T: Sendable>(_ consoleSettings: ConnectionSettings, trustedProxy: String? = nil,
                                     _ body: (URL) async throws -> T) async throws -> T {
        let server = try ConsoleServer(settings: consoleSettings, ip4: "127.0.0.1", port: 0, secureCookie: false,
                                       trustedProxy: trustedProxy, logger: Logger(label: "console-test"))
        let task = Task { try await server.run() }
        defer { task.cancel() }
        let port = try await server.listeningPort()
        return try await body(URL(string: "http://127.0.0.1:\(port)")!)
    }
}

extension ConsoleHarness {
    /// More of what a running bank shows (for the overview's screenshot):
    /// jobs waiting and done in two more queues, two live workers.
    func addScenery() async throws {
        let verified = try await LedgerVerifier.verify(owner, full: true)
        try await LedgerVerifier.record(owner, verified.checks, scope: verified.scope)
        try await owner.executeScript("""
            SELECT jobs.enqueue('settlement.settle', jsonb_build_object('request_id', n), 'settlement') FROM generate_series(1, 12) n;
            SELECT jobs.enqueue('notify.deliver', jsonb_build_object('message_id', n), 'notification') FROM generate_series(1, 4) n;
            UPDATE jobs.job SET state = 'completed', attempt = 1, attempted_at = now(), finalized_at = now()
             WHERE id IN (SELECT id FROM jobs.job WHERE queue = 'settlement' ORDER BY id LIMIT 7);
            UPDATE jobs.job SET run_at = now() - interval '3 seconds' WHERE queue = 'settlement' AND state = 'available';
            INSERT INTO jobs.worker_instance (id, kind, host, pid, version, queues, concurrency, jobs_done, jobs_failed)
            VALUES ('settlement-worker@bank-app-1:4127', 'settlement', 'bank-app-1', 4127, '1.0', '{settlement}', 8, 1843, 2),
                   ('notification-worker@bank-app-2:3311', 'notification', 'bank-app-2', 3311, '1.0', '{notification}', 4, 512, 0);
            """)

    }
}
