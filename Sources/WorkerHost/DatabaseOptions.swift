import ArgumentParser
import Foundation
import PostgresClient
import TimebankDatabase

/// The connection option of every command that talks to the database:
/// each worker and the operators' CLI. A worker needs a database named
/// (the flag, `DATABASE_URL` or `PG*`); only the CLI falls back to the
/// local development cluster, which the workers do not link.
public struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "libpq conninfo or postgresql:// URI (default: $DATABASE_URL, then PG* variables; then, for the timebank CLI only, the local cluster).",
        valueName: "url"))
    public var databaseURL: String?

    public init() {}

    /// Settings from the flag, else the environment; else nil.
    public func configured(
        applicationName: String = "timebank-cli", environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ConnectionSettings? {
        if let databaseURL, !databaseURL.isEmpty {
            return try PersonalDataKey.apply(to: ConnectionSettings(conninfo: databaseURL, applicationName: applicationName),
                                             key: environment[PersonalDataKey.environmentVariable])
        }
        return try environmentDatabaseSettings(applicationName: applicationName, environment: environment)
    }

    /// Settings from the flag or environment; else an error saying how to give them.
    public func resolve(applicationName: String = "timebank-cli") async throws -> ConnectionSettings {
        guard let settings = try configured(applicationName: applicationName) else {
            throw ValidationError("""
                no database given: --database-url, DATABASE_URL or the PG* variables \
                (for development, `timebank db start` prints the local cluster's URL; `timebank up` starts the workers with it)
                """)
        }
        return settings
    }
}
