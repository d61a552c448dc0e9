import Foundation
import PostgresClient

/// Where a checkout keeps its development state (the local cluster, its
/// personal-data key, the development notifications file):
/// `TIMEBANK_HOME`, else `.timebank/` beside the checkout's `sql/`. Only
/// the directory's name: the cluster itself is `LocalCluster` (DevCluster),
/// which no worker links.
public enum TimebankHome {
    /// This checkout's home (or `TIMEBANK_HOME`).
    public static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let configured = environment["TIMEBANK_HOME"], !configured.isEmpty {
            return reachable(URL(fileURLWithPath: configured).standardizedFileURL)
        }
        var root = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        if let sql = try? Migration.defaultDirectory(environment: environment) {
            root = sql.deletingLastPathComponent()
        }
        return reachable(root.appendingPathComponent(".timebank"))
    }

    /// Under root the server runs as another OS user, who must be able to
    /// reach the data directory. A home below a private directory (a
    /// checkout in /root, say) moves to /var/tmp, under a name derived from
    /// the intended path, so that every command finds the same cluster.
    public static func reachable(_ home: URL) -> URL {
        guard geteuid() == 0 else { return home }
        var directory = home.deletingLastPathComponent()
        while directory.path != "/" {
            var info = stat()
            if stat(directory.path, &info) == 0, info.st_mode & 0o001 == 0 {
                var hash: UInt64 = 0xcbf2_9ce4_8422_2325
                for byte in home.path.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
                return URL(fileURLWithPath: "/var/tmp/timebank-\(String(hash, radix: 16))")
            }
            directory = directory.deletingLastPathComponent()
        }
        return home
    }
}

/// The database the environment names: `DATABASE_URL`, else the `PG*`
/// variables, with the personal-data key of `TIMEBANK_PII_KEY`; nil when it
/// names none. (The CLI then starts the local cluster; a worker refuses.)
public func environmentDatabaseSettings(
    applicationName: String, environment: [String: String] = ProcessInfo.processInfo.environment
) throws -> ConnectionSettings? {
    guard let settings = ConnectionSettings.fromEnvironment(environment, applicationName: applicationName) else { return nil }
    return try PersonalDataKey.apply(to: settings, key: environment[PersonalDataKey.environmentVariable])
}

/// An error of the local cluster's management, or of its settings.
public struct ClusterError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
