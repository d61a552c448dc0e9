import Foundation
import PostgresClient
import TimebankDatabase
#if canImport(Glibc)
import Glibc
#endif

/// Issue 16, item 5: a PgBouncer of its own on a free loopback port, in
/// front of a PostgreSQL server, for the tests and the benchmarks (never
/// for production: operators run their own). Every database of the server
/// is served (`* =`), in `pool_mode = transaction`, the mode that breaks
/// named statements and session settings; authentication is `trust` on
/// loopback (PgBouncer still wants each user in its auth_file), and the
/// server authenticates PgBouncer's own connections as it would the client.
public final class PgBouncer: Sendable {
    public let port: Int
    public let directory: URL
    private let pid: pid_t

    /// Server connections per database and user: what the clients share.
    public let poolSize: Int

    private init(port: Int, directory: URL, pid: pid_t, poolSize: Int) {
        self.port = port
        self.directory = directory
        self.pid = pid
        self.poolSize = poolSize
    }

    /// The `pgbouncer` binary (Debian installs it in /usr/sbin, often not on a user's PATH).
    public static func executable() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = path.split(separator: ":").map { "\($0)/pgbouncer" } + ["/usr/sbin/pgbouncer", "/usr/local/sbin/pgbouncer"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts PgBouncer in front of `server`'s host and port (a
    /// `postgresql://` URL's) for `users`, and waits until it accepts
    /// connections. `poolSize` server connections per database and user.
    public static func start(inFrontOf server: ConnectionSettings, users: [String], poolSize: Int = 4,
                             maxClients: Int = 400) async throws -> PgBouncer {
        guard let binary = executable() else { throw ClusterError("pgbouncer is not installed (scripts/install-deps installs it)") }
        guard let url = URLComponents(string: server.conninfo), let serverUser = url.user else {
            throw ClusterError("PgBouncer needs the server as a postgresql://user@host:port/ URL")
        }
        let host = url.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        let serverPort = url.port ?? 5432
        let port = try LocalCluster.freeLoopbackPort()
        let directory = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("timebank-pgbouncer-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let everyone = Array(Set(users + [serverUser])).sorted()
        try everyone.map { "\"\($0)\" \"\"" }.joined(separator: "\n")
            .appending("\n").write(to: directory.appendingPathComponent("users.txt"), atomically: true, encoding: .utf8)
        let configuration = """
            [databases]
            * = host=\(host) port=\(serverPort)

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = \(port)
            unix_socket_dir =
            auth_type = trust
            auth_file = \(directory.appendingPathComponent("users.txt").path)
            admin_users = \(serverUser)
            pool_mode = transaction
            default_pool_size = \(poolSize)
            max_client_conn = \(maxClients)
            pidfile = \(directory.appendingPathComponent("pgbouncer.pid").path)
            logfile = \(directory.appendingPathComponent("pgbouncer.log").path)
            log_connections = 0
            log_disconnections = 0

            """
        let ini = directory.appendingPathComponent("pgbouncer.ini")
        try configuration.write(to: ini, atomically: true, encoding: .utf8)
        // PgBouncer refuses to run as root, as the server does: then it runs as the server's OS user,
        // which must be able to write its log and pid file here.
        var arguments = [ini.path]
        if geteuid() == 0 {
            arguments = ["-u", try ServerTools.ensureServerUser()] + arguments
            try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: directory.path)
        }
        let pid = try ChildProcess.spawn(binary, arguments, environment: ProcessInfo.processInfo.environment,
                                         logFile: directory.appendingPathComponent("output.log").path)
        let bouncer = PgBouncer(port: port, directory: directory, pid: pid, poolSize: poolSize)
        for _ in 0..<200 {
            if acceptsConnections(port) { return bouncer }
            if kill(pid, 0) != 0 { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        let log = (try? String(contentsOf: directory.appendingPathComponent("output.log"), encoding: .utf8)) ?? ""
        bouncer.stop()
        throw ClusterError("pgbouncer did not start: \(log.suffix(1000))")
    }

    /// `user` on `database` through this PgBouncer, with unnamed statements
    /// (what works under transaction pooling).
    public func settings(user: String, database: String, applicationName: String = "timebank") -> ConnectionSettings {
        var settings = ConnectionSettings(conninfo: "postgresql://\(user)@127.0.0.1:\(port)/\(database)", applicationName: applicationName)
        settings.preparedStatements = .unnamed
        return settings
    }

    /// `server`'s database through this PgBouncer, as `server`'s user or
    /// `user`, with unnamed statements.
    public func settings(for server: ConnectionSettings, user: String? = nil) -> ConnectionSettings {
        let url = URLComponents(string: server.conninfo)
        let database = server.database ?? url.map { String($0.path.dropFirst()) } ?? ""
        return settings(user: user ?? url?.user ?? "", database: database, applicationName: server.applicationName)
    }

    /// Ends PgBouncer at once (SIGTERM: its clients are cut off) and removes its files.
    public func stop() {
        kill(pid, SIGTERM)
        _ = ChildProcess.wait(pid)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Whether something accepts a TCP connection on 127.0.0.1:`port`.
    private static func acceptsConnections(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
