import ArgumentParser
import DevCluster
import PostgresClient
import TimebankOperations

/// Issue 16, item 5: how the benchmark's settlement workers reach the
/// server: direct (as before), or through a PgBouncer in transaction mode
/// that the benchmark starts, logged in as the settlement login (whose
/// session timeouts `timebank logins create` set), with their LISTEN
/// sessions direct or no LISTEN at all.
struct WorkerRoute: Sendable {
    enum Listening: String, CaseIterable, ExpressibleByArgument, Sendable {
        case listenDirect = "listen-direct"
        case pollOnly = "poll-only"
    }

    var bouncer: PgBouncer?
    var listening: Listening = .listenDirect

    static let direct = WorkerRoute()
    static let login = LoginAdmin.login(of: .settlement).name

    var pollOnly: Bool { bouncer != nil && listening == .pollOnly }

    /// The workers' DATABASE_URL for `settings`' database.
    func databaseURL(_ settings: ConnectionSettings) -> String {
        guard let bouncer else { return settings.conninfoWithDatabase }
        return bouncer.settings(for: settings, user: Self.login).conninfo
    }

    /// The workers' pooling flags.
    func arguments(_ settings: ConnectionSettings) -> [String] {
        guard bouncer != nil else { return [] }
        switch listening {
        case .listenDirect: return ["--pooler", "transaction", "--listen-url", settings.withUser(Self.login).conninfoWithDatabase]
        case .pollOnly: return ["--pooler", "transaction", "--poll-only"]
        }
    }

    var label: String {
        guard bouncer != nil else { return "direct" }
        return "PgBouncer transaction mode, \(listening == .pollOnly ? "poll only" : "LISTEN direct")"
    }
}
