import DevCluster
import Foundation
import PostgresClient
import TestSupport
import TimebankDatabase
import Testing
import TimebankOperations
import TimebankWorkers

/// `timebank up`, the README's run command: migrates, runs one process of
/// each worker, starts a crashed one again, and stops them all on SIGTERM.
@Suite struct UpCommandTests {
    func workerSessions(_ connection: PostgresConnection, _ database: String) async throws -> [String: Int] {
        var sessions: [String: Int] = [:]
        for row in try await connection.query("""
            SELECT application_name, count(DISTINCT pid) AS n FROM pg_stat_activity
             WHERE datname = $1 AND application_name ~ '^(enrollment|order|settlement|notification|insurance-claim)-worker (producer|completer|maintenance)'
             GROUP BY application_name
            """, [database]) {
            let name: String = try row.decode("application_name")
            sessions[String(name.split(separator: " ")[0]), default: 0] += try row.decode("n", as: Int.self)
        }
        return sessions
    }

    /// The child processes of `parent` whose command name is `name` (from /proc: no pgrep needed).
    func children(of parent: pid_t, named name: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
            let command = stat[stat.index(after: open)..<close]
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            guard command == name, fields.count > 1, pid_t(fields[1]) == parent else { return nil }
            return pid
        }
    }

    /// R23: with no DATABASE_URL (a developer's `scripts/run`), `timebank up`
    /// starts the local cluster and every worker, and hands no personal-data
    /// key to any of them, even when its own environment names one: the keys
    /// are the database's (sql/migrations/0025), and no worker decrypts.
    @Test func upOnTheLocalClusterGivesNoWorkerAPersonalDataKey() async throws {
        let home = URL(fileURLWithPath: "/tmp/timebank-up-home-\(UUID().uuidString.prefix(8))")
        defer {
            try? LocalCluster(home: home).stop()
            try? FileManager.default.removeItem(at: home)
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("timebank").path
        var environment = ProcessInfo.processInfo.environment
        for name in ["DATABASE_URL", "TIMEBANK_PII_KEY"] + ConnectionSettingsNames.libpq { environment[name] = nil }
        environment["TIMEBANK_HOME"] = home.path
        let key = "an-earlier-releases-key-0123456789-abcdefgh"
        environment["TIMEBANK_PII_KEY"] = key
        let log = "/tmp/timebank-up-\(UUID().uuidString.prefix(8)).log"
        let up = try ChildProcess.spawn(executable, ["up"], environment: environment, logFile: log)
        let deadline = ContinuousClock.now + .seconds(90)
        var workers: [pid_t] = []
        while workers.count < 5 {
            if ContinuousClock.now > deadline {
                kill(up, SIGKILL)
                throw TimedOut(what: "five workers; log: \((try? String(contentsOfFile: log, encoding: .utf8))?.suffix(1500) ?? "")")
            }
            try await Task.sleep(for: .milliseconds(200))
            workers = ["enrollment-work", "order-worker", "settlement-work", "notification-wo", "insurance-claim"]
                .flatMap { children(of: up, named: $0) }
        }
        for worker in workers {
            let variables = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(worker)/environ"))) ?? Data()
            let entries = variables.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            // (A Bool first: the expectation must not print the environment, key and all, if it fails.)
            let hasKey = entries.contains { $0.hasPrefix("TIMEBANK_PII_KEY=") }
            #expect(!hasKey, "worker \(worker) was given a personal-data key")
        }
        kill(up, SIGTERM)
        #expect(await ChildProcess.exitStatus(of: up) == 0)
        // Issue 19, item 7: it names its command by its full path (`timebank` is on no PATH), the local
        // cluster's database is a development one, and Ctrl-C leaves the cluster running, saying how to stop it.
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(text.contains("`\(executable) demo` in another terminal"), "\(text.suffix(1500))")
        #expect(text.contains("`\(executable) clock advance 2h` moves the development clock"), "\(text.suffix(1500))")
        #expect(text.contains("stopped; the local cluster keeps running (`\(executable) db stop` stops it)"), "\(text.suffix(1500))")
        #expect(try LocalCluster(home: home).isRunning(), "Ctrl-C left the cluster running")
    }

    @Test func upRunsEachWorkerRestartsACrashedOneAndStopsThemAll() async throws {
        try await TestDatabase.with(migrated: false) { database in
            let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("timebank").path
            var environment = ProcessInfo.processInfo.environment
            environment["DATABASE_URL"] = database.settings.conninfoWithDatabase
            let log = "/tmp/timebank-up-\(UUID().uuidString.prefix(8)).log"
            let up = try ChildProcess.spawn(executable, ["up"], environment: environment, logFile: log)
            let observer = try await PostgresConnection.connect(database.settings.withDatabase("postgres"))
            func waitFor(_ what: String, _ condition: ([String: Int]) -> Bool) async throws {
                let deadline = ContinuousClock.now + .seconds(60)
                while !condition(try await workerSessions(observer, database.name)) {
                    if ContinuousClock.now > deadline {
                        kill(up, SIGKILL)
                        throw TimedOut(what: "\(what); log: \((try? String(contentsOfFile: log, encoding: .utf8))?.suffix(1500) ?? "")")
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            // Migrated, and every worker connected (producer, completer, maintenance each).
            try await waitFor("every worker") { s in ["enrollment-worker", "order-worker", "settlement-worker", "notification-worker", "insurance-claim-worker"].allSatisfy { s[$0, default: 0] >= 3 } }
            let applied = try await database.connect()
            #expect(try await applied.query("SELECT count(*) AS n FROM meta.applied_migrations")[0].decode("n", as: Int.self) >= 12)
            await applied.close()
            // Issue 15, finding 5: each worker logs in as its own login (a member of its role
            // only), not as the superuser that `timebank up` was given.
            let logins = try await observer.query("""
                SELECT split_part(a.application_name, ' ', 1) AS worker, a.usename::text AS login, r.rolsuper
                  FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename
                 WHERE a.datname = $1 AND a.application_name ~ '-worker (producer|completer|maintenance)'
                """, [database.name])
            #expect(!logins.isEmpty)
            for row in logins {
                let worker: String = try row.decode("worker")
                let kind = try #require(WorkerKind.allCases.first { $0.executable == worker })
                #expect(try row.decode("login", as: String.self) == LoginAdmin.login(of: kind).name, "\(worker)")
                #expect(try !row.decode("rolsuper", as: Bool.self))
            }

            // A crashed worker is started again.
            let pids = try await observer.query("""
                SELECT DISTINCT pid FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'order-worker producer%'
                """, [database.name])
            #expect(pids.count == 1)
            let orderPids = children(of: up, named: "order-worker")
            #expect(!orderPids.isEmpty)
            for pid in orderPids { kill(pid, SIGKILL) }
            let text = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
            let deadline = ContinuousClock.now + .seconds(30)
            while !text().contains("order-worker#1 exited with status 137") || !text().contains("started order-worker#1 (pid") {
                if ContinuousClock.now > deadline { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(text().contains("order-worker#1 exited with status 137; starting it again"))
            try await waitFor("the order worker back") { $0["order-worker", default: 0] >= 3 }

            // SIGTERM: every worker stops gracefully, then `up` exits 0.
            kill(up, SIGTERM)
            #expect(await ChildProcess.exitStatus(of: up) == 0, "\(text().suffix(1500))")
            for name in ["enrollment-worker", "order-worker", "settlement-worker", "notification-worker", "insurance-claim-worker"] {
                #expect(text().contains("\(name)#1 stopped (status 0)"), "\(text().suffix(1500))")
            }
            try await waitFor("no worker left") { $0.isEmpty }
            await observer.close()
        }
    }
}

/// libpq's variables, which would point `timebank up` elsewhere than the local cluster.
enum ConnectionSettingsNames {
    static let libpq = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE", "PGPASSWORD"]
}
