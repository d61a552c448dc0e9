import ArgumentParser
import Foundation
import PostgresClient
import TimebankDatabase
import TimebankOperations

/// The city benchmark (issue 18, item 4): a city's history generated in
/// bulk (`generate`; `--services 0`: an empty, migrated database), then the
/// same questions asked of it and of an empty one (`scripts/city-bench`
/// end to end, with `prepare-settlement` for the settlement rate).
///
///   swift build -c release --product city-bench
///   .build/release/city-bench generate --database-url postgresql://...@127.0.0.1:5432/postgres --months 12 --services 1000000
@main
struct CityBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "city-bench", abstract: "A city's history in bulk, and what it costs the bank.",
        subcommands: [Generate.self, PrepareSettlement.self, CheckOut.self])
}

/// The server connection shared by the steps (a superuser: databases are created and dropped).
struct ServerOptions: ParsableArguments {
    @Option(help: "Server to run on (a superuser).") var databaseURL: String
    @Option(help: "Database to fill or measure (dropped and created by generate).") var database = "city_bench"

    var server: ConnectionSettings { ConnectionSettings(conninfo: databaseURL, applicationName: "city-bench") }
    var settings: ConnectionSettings { server.withDatabase(database) }
}

struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create, migrate and fill a database with a city's history.")
    @OptionGroup var options: ServerOptions
    @Option(help: "Months of history, ending at the start of today (Beijing).") var months = 12
    @Option(help: "Services over the history (people, grants and gifts are scaled from it).") var services = 1_000_000
    @Flag(help: "Skip the full `ledger verify` of the result.") var noVerify = false

    func run() async throws {
        let admin = try await PostgresConnection.connect(options.server)
        try await admin.executeScript("DROP DATABASE IF EXISTS \(options.database) WITH (FORCE)")
        try await admin.executeScript("CREATE DATABASE \(options.database)")
        await admin.close()
        let connection = try await PostgresConnection.connect(options.settings)
        let clock = ContinuousClock()
        let migration = try await clock.measure { try await Migrator.project().migrate(connection) }
        print("migrated the empty database in \(migration)")
        guard services > 0 else { return await connection.close() }
        let scale = CityGenerator.Scale(months: months, services: services)
        print("generating \(months) months: \(services) services, \(scale.elders) elders, \(scale.volunteers) volunteers")
        var counts = CityGenerator.Counts()
        let generation = try await clock.measure {
            counts = try await CityGenerator.generate(connection, scale) { done, all in print("  month \(done) of \(all)") }
        }
        print("generated in \(generation): \(counts)")
        let size = try await connection.query("SELECT pg_size_pretty(pg_database_size(current_database())) AS s")[0].decode("s", as: String.self)
        print("database size \(size)")
        if !noVerify {
            var problems: [String] = []
            let verify = try await clock.measure { problems = try await LedgerVerifier.problems(connection) }
            print("ledger verify (full) in \(verify): \(problems.isEmpty ? "clean" : problems.joined(separator: "; "))")
            if !problems.isEmpty { throw ExitCode(1) }
        }
        await connection.close()
    }
}
