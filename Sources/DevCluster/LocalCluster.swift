import Foundation
import Logging
import PostgresClient
import TimebankDatabase

/// The private PostgreSQL cluster a checkout uses when no `DATABASE_URL`
/// or `PG*` setting says otherwise: created with the installed server's
/// `initdb`, run with `pg_ctl`, listening on 127.0.0.1 only, on a port
/// chosen free when the cluster is created.
///
/// PostgreSQL refuses to run as root, so under root the cluster belongs to
/// an unprivileged OS user (`postgres` if it exists, else `timebank`,
/// created). Authentication is `trust` on loopback: this is a development
/// and test cluster, never a production one.
public struct LocalCluster: Sendable {
    /// Where the cluster lives: `TIMEBANK_HOME`, else `.timebank/` in the checkout.
    public var home: URL
    public var database = "timebank"
    public var superuser = "timebank"
    public var logger: Logger

    public var dataDirectory: URL { home.appendingPathComponent("pgdata") }
    public var logFile: URL { home.appendingPathComponent("postgres.log") }
    private var portFile: URL { home.appendingPathComponent("port") }

    public init(home: URL, logger: Logger = Logger(label: "timebank.db")) {
        self.home = home
        self.logger = logger
    }

    /// The cluster for this checkout (or `TIMEBANK_HOME`).
    public static func forCheckout(environment: [String: String] = ProcessInfo.processInfo.environment) -> LocalCluster {
        LocalCluster(home: TimebankHome.directory(environment: environment))
    }

    /// See ``TimebankHome/reachable(_:)``.
    public static func reachable(_ home: URL) -> URL { TimebankHome.reachable(home) }

    /// The settings every command uses: `DATABASE_URL`, else the `PG*`
    /// variables, else this checkout's local cluster (started if needed);
    /// with the earlier releases' personal-data key of `TIMEBANK_PII_KEY` (or
    /// the one an earlier release left beside the cluster), which only the
    /// migration of data those releases wrote reads.
    public static func resolveSettings(
        applicationName: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> ConnectionSettings {
        if let settings = try environmentDatabaseSettings(applicationName: applicationName, environment: environment) {
            return settings
        }
        let key = environment[PersonalDataKey.environmentVariable]
        let cluster = forCheckout(environment: environment)
        let url = try await cluster.start()
        return try PersonalDataKey.apply(to: ConnectionSettings(conninfo: url, applicationName: applicationName),
                                         key: key ?? cluster.earlierPersonalDataKey())
    }

    // MARK: - State

    public var isInitialized: Bool {
        FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path)
    }

    public var port: Int? {
        (try? String(contentsOf: portFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// The URL of the cluster's database; no password (trust on loopback).
    public var url: String? {
        port.map { "postgresql://\(superuser)@127.0.0.1:\($0)/\(database)" }
    }

    public var settings: ConnectionSettings? { url.map { ConnectionSettings(conninfo: $0) } }

    public func isRunning() throws -> Bool {
        guard isInitialized else { return false }
        return try tools().run("pg_ctl", ["status", "-D", dataDirectory.path], allowFailure: true) == 0
    }

    // MARK: - Commands

    /// Creates the cluster if needed, starts it if stopped, and makes sure
    /// its database exists. Returns the URL. Idempotent.
    @discardableResult
    public func start() async throws -> String {
        // initdb and `pg_ctl start -w` take seconds: off the cooperative pool (ChildProcess.offThePool).
        try await ChildProcess.offThePool { [self] in
            let tools = try tools()
            if !isInitialized { try initialize(tools) }
            if try !isRunning() {
                // A cluster created before issue 19 is named a development cluster at its next start.
                try nameAsDevelopmentCluster()
                try tools.run("pg_ctl", ["start", "-D", dataDirectory.path, "-l", logFile.path, "-w", "-t", "60", "-s"])
                logger.info("started the local PostgreSQL cluster", metadata: ["data": "\(dataDirectory.path)"])
            }
        }
        try await createDatabaseIfMissing()
        return url!
    }

    /// Stops the cluster (and its replica, if it has one running).
    public func stop() throws {
        if home.lastPathComponent != "replica", replica.isInitialized { try replica.stop() }
        guard try isRunning() else { return }
        try tools().run("pg_ctl", ["stop", "-D", dataDirectory.path, "-m", "fast", "-w", "-s"])
    }

    /// `pg_ctl restart -m immediate`: a crash-like restart, for tests that
    /// prove workers survive one.
    public func restartImmediately() throws {
        try tools().run("pg_ctl", ["restart", "-D", dataDirectory.path, "-m", "immediate", "-l", logFile.path, "-w", "-t", "60", "-s"])
    }

    private func initialize(_ tools: ServerTools) throws {
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try tools.prepareOwnedDirectory(home)
        let chosenPort = try Self.freeLoopbackPort()
        try tools.run("initdb", [
            "-D", dataDirectory.path, "-U", superuser, "--auth=trust", "--encoding=UTF8",
            "--locale=C.UTF-8", "--no-instructions",
        ])
        let settings = """

            # ---- timebank local cluster (timebank db start) ----
            listen_addresses = '127.0.0.1'
            port = \(chosenPort)
            unix_socket_directories = ''
            max_connections = 300
            shared_buffers = 256MB
            timezone = 'UTC'
            log_timezone = 'UTC'
            # A development cluster: its databases' development clock may move (issue 19).
            \(Self.clusterNameSetting)
            # Durable like production: every commit waits for its WAL flush.
            fsync = on
            synchronous_commit = on

            """
        // Loopback only. Members of the role `password_login` must give a
        // password, so that password authentication can be exercised
        // locally; everyone else is trusted, as in any development cluster.
        let access = """
            # TYPE  DATABASE     USER             ADDRESS        METHOD
            host    all          +password_login  127.0.0.1/32   scram-sha-256
            host    all          all              127.0.0.1/32   trust
            host    replication  all              127.0.0.1/32   trust
            local   all          all                             trust

            """
        try tools.writeOwnedFile(dataDirectory.appendingPathComponent("pg_hba.conf"), access)
        let handle = try FileHandle(forWritingTo: dataDirectory.appendingPathComponent("postgresql.conf"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(settings.utf8))
        try handle.close()
        try "\(chosenPort)\n".write(to: portFile, atomically: true, encoding: .utf8)
        logger.info("created a local PostgreSQL cluster", metadata: ["data": "\(dataDirectory.path)", "port": "\(chosenPort)"])
    }

    private func createDatabaseIfMissing() async throws {
        let admin = try await PostgresConnection.connect(settings!.withDatabase("postgres"))
        let exists = try await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database])
        if exists.isEmpty {
            do {
                try await admin.executeScript("CREATE DATABASE \(database)")
            } catch let error as PostgresError where error.code == .uniqueViolation || error.code == .duplicateDatabase {
                // Created meanwhile by another process: fine.
            }
        }
        await admin.close()
    }

    /// Asks the kernel for a free port on 127.0.0.1.
    public static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClusterError("cannot open a socket to find a free port") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw ClusterError("cannot bind a socket to find a free port") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func tools() throws -> ServerTools { try ServerTools.locate(logger: logger) }
}
