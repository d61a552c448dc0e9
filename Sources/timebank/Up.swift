import ArgumentParser
import Foundation
import PostgresClient
import TimebankDatabase
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
        let settings = try await database.resolveOrStartLocalCluster(applicationName: "timebank-up")
        let connection = try await PostgresConnection.connect(settings)
        let outcome = try await Migrator.project().migrate(connection)
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
                try await supervisor.start(name: "\(kind.executable)#\(replica + 1)",
                                           executable: directory.appendingPathComponent(kind.executable).path)
            }
        }
        announce("running; `timebank demo` in another terminal drives a sample service through them. Ctrl-C stops.")
        for await received in signals {
            announce("\(received): stopping the workers")
            break
        }
        await supervisor.stop()
        announce("stopped")
    }
}
