import ArgumentParser
import Foundation
import PostgresClient
import TimebankDatabase

/// The connection option of every command that talks to the database:
/// the operators' CLI and each worker.
public struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "libpq conninfo or postgresql:// URI (default: $DATABASE_URL, then PG* variables, then the local cluster).",
        valueName: "url"))
    public var databaseURL: String?

    public init() {}

    /// Settings from the flag or environment; else starts the local cluster.
    public func resolve(applicationName: String = "timebank-cli") async throws -> ConnectionSettings {
        if let databaseURL, !databaseURL.isEmpty {
            return try PersonalDataKey.apply(to: ConnectionSettings(conninfo: databaseURL, applicationName: applicationName),
                                             key: ProcessInfo.processInfo.environment[PersonalDataKey.environmentVariable])
        }
        return try await LocalCluster.resolveSettings(applicationName: applicationName)
    }
}
