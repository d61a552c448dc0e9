import ArgumentParser
import Foundation
import PostgresClient
import TimebankDatabase

/// The connection options every command that talks to the database shares.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "libpq conninfo or postgresql:// URI (default: $DATABASE_URL, then PG* variables, then the local cluster).",
        valueName: "url"))
    var databaseURL: String?

    /// Settings from the flag or environment; else starts the local cluster.
    func resolve() async throws -> ConnectionSettings {
        if let databaseURL, !databaseURL.isEmpty {
            return ConnectionSettings(conninfo: databaseURL, applicationName: "timebank-cli")
        }
        return try await LocalCluster.resolveSettings(applicationName: "timebank-cli")
    }
}
