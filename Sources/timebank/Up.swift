import ArgumentParser
import DevCluster
import Foundation
import PostgresClient
import TimebankDatabase
import TimebankOperations
import TimebankWorkers
import WorkerHost
import UnixSignals

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the time bank: migrate the database, then run and supervise the workers until Ctrl-C.",
        discussion: """
            Starts the local cluster when no database is given, applies pending migrations, and runs \
            --replicas processes of each worker (enrollment-worker, order-worker, settlement-worker, notification-worker, insurance-claim-worker), found beside \
            this executable. A worker that exits is started again. Ctrl-C or SIGTERM stops them gracefully.
            """
    )

    @OptionGroup var database: DatabaseOptions
    @Option(help: "Processes of each worker.") var replicas = 1

    func run() async throws {
        let usesLocalCluster = try database.configured(applicationName: "timebank-up") == nil
        let settings = try await database.resolveOrStartLocalCluster(applicationName: "timebank-up")
        let connection = try await PostgresConnection.connect(settings)
        let outcome = try await Migrator.project().migrate(connection)
        // Issue 19: a database of the local cluster is a development database (`timebank clock`).
        let development = try await LocalCluster.markDevelopmentIfLocal(connection, by: "timebank up")
        // Issue 15, finding 5: each worker logs in as its own login (a member of its role only),
        // never as this command's (on the local cluster, its superuser).
        let password = ProcessInfo.processInfo.environment["TIMEBANK_LOGIN_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            try await LoginAdmin.ensure(connection, password: password)
        } catch {
            throw ValidationError("""
                cannot create the workers' logins as \(settings.redacted) (\(error)): \
                run `timebank logins create` as a DBA first, or give `timebank up` a database URL of a role with CREATEROLE
                """)
        }
        await connection.close()
        announce("database ready (\(outcome.applied.count) migrations applied now): \(settings.redacted)")

        // Ctrl-C reaches the children too (same process group); both paths end in a graceful stop.
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)

        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = settings.conninfoWithDatabase
        // R23: no personal-data key goes to the workers: the keys are the database's own
        // (sql/migrations/0025), and no worker decrypts.
        environment[PersonalDataKey.environmentVariable] = nil
        let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let supervisor = Supervisor(environment: environment)
        for kind in WorkerKind.allCases {
            for replica in 0..<replicas {
                let login = settings.withUser(LoginAdmin.login(of: kind).name, password: password)
                try await supervisor.start(name: "\(kind.executable)#\(replica + 1)",
                                           executable: directory.appendingPathComponent(kind.executable).path,
                                           environment: ["DATABASE_URL": login.conninfoWithDatabase])
            }
        }
        // The full path (issue 19, item 7): `timebank` is on no PATH unless the developer put it there.
        let cli = directory.appendingPathComponent("timebank").path
        announce("running; `\(cli) demo` in another terminal drives a sample service through them"
                 + (development ? ", `\(cli) clock advance 2h` moves the development clock" : "")
                 + ". Ctrl-C stops the workers.")
        for await received in signals {
            announce("\(received): stopping the workers")
            break
        }
        await supervisor.stop()
        // Issue 19, item 7: Ctrl-C stops the workers only; the database keeps running.
        announce(usesLocalCluster
                 ? "stopped; the local cluster keeps running (`\(cli) db stop` stops it)"
                 : "stopped")
    }
}
