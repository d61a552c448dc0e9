import DevCluster
import PostgresClient
import WorkerHost

extension DatabaseOptions {
    /// The CLI's settings: the flag, `DATABASE_URL` or `PG*`, else this
    /// checkout's local cluster (started if needed) with its development
    /// personal-data key. Workers never fall back to it (they do not link it).
    func resolveOrStartLocalCluster(applicationName: String = "timebank-cli") async throws -> ConnectionSettings {
        if let settings = try configured(applicationName: applicationName) { return settings }
        return try await LocalCluster.resolveSettings(applicationName: applicationName)
    }
}
