import ArgumentParser
import TimebankWorkers
import WorkerHost
import Foundation
import PostgresClient
import TimebankDatabase

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the numbered migrations in sql/ that the database does not have yet.",
        discussion: "Each file runs once, in order, in its own transaction; an applied file that was edited is refused. Safe to run from several processes at once."
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Directory of NNNN_name.sql files (default: $TIMEBANK_SQL_DIR, then the checkout's sql/).", valueName: "dir"))
    var sqlDir: String?

    func run() async throws {
        let directory = try sqlDir.map { URL(fileURLWithPath: $0) } ?? Migration.defaultDirectory()
        let migrator = Migrator(migrations: try Migration.load(from: directory))
        let connection = try await PostgresConnection.connect(try await database.resolveOrStartLocalCluster())
        let outcome = try await migrator.migrate(connection)
        await connection.close()
        for file in outcome.applied { print("applied \(file)") }
        print("\(outcome.applied.count) applied, \(outcome.alreadyApplied) already applied")
        if !outcome.unknownVersions.isEmpty {
            print("warning: the database has migrations this release does not know: \(outcome.unknownVersions)")
        }
    }
}
