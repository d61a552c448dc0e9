import ArgumentParser
import TimebankWorkers
import WorkerHost
import DevCluster
import Foundation
import PostgresClient
import TimebankDatabase

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the numbered migrations in sql/migrations the database lacks, then the definitions if any changed.",
        discussion: "Each migration runs once, in order, in its own transaction; an applied migration that was edited is refused (unless sql/migrations/rewritten.txt names its earlier text). The definitions (sql/functions, sql/views, sql/privileges) are applied as one set, in one transaction, whenever any of them changed. Safe to run from several processes at once (an advisory lock). See sql/README.md."
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("The sql/ directory: migrations/, functions/, views/, privileges/ (default: $TIMEBANK_SQL_DIR, then the checkout's sql/).", valueName: "dir"))
    var sqlDir: String?

    func run() async throws {
        let directory = try sqlDir.map { URL(fileURLWithPath: $0) } ?? Migration.defaultDirectory()
        let migrator = try Migrator.load(from: directory)
        let connection = try await PostgresConnection.connect(try await database.resolveOrStartLocalCluster())
        let outcome = try await migrator.migrate(connection)
        // Issue 19: a database of the local cluster is a development database (`timebank clock`).
        let development = try await LocalCluster.markDevelopmentIfLocal(connection, by: "timebank migrate")
        await connection.close()
        for file in outcome.rewritten { print("record updated to the rewritten text of \(file)") }
        for file in outcome.applied { print("applied \(file)") }
        print("\(outcome.applied.count) applied, \(outcome.alreadyApplied) already applied; definitions "
              + (outcome.definitionsApplied ? "applied (\(migrator.definitions.count) files)" : "unchanged"))
        if development { print("a development database (the local cluster's): `timebank clock` moves its clock") }
        if !outcome.unknownVersions.isEmpty {
            print("warning: the database has migrations this release does not know: \(outcome.unknownVersions)")
        }
    }
}
