import Foundation
import Logging
import PostgresClient
import TimebankDatabase

/// Issue 16: a high-availability PostgreSQL on loopback, as operators run
/// one: an etcd and three PostgreSQL nodes managed by Patroni, with
/// `synchronous_mode: true` (a commit is acknowledged only once a
/// synchronous standby has it, and only that standby may be promoted, so a
/// failover loses no acknowledged commit). Clients take the multi-host URL
/// it returns (`target_session_attrs=read-write`) and follow the primary.
/// For development and the failover tests (`timebank db start --ha`); never
/// linked by a worker.
public struct LocalHACluster: Sendable {
    public let home: URL
    public static let nodeCount = 3
    let logger: Logger

    public init(home: URL, logger: Logger = Logger(label: "timebank.db")) {
        self.home = home
        self.logger = logger
    }

    /// One Patroni node: its PostgreSQL port and its REST API port.
    public struct Node: Sendable, Equatable {
        public var name: String
        public var port: Int
        public var restPort: Int
    }

    struct Ports: Codable {
        var etcdClient: Int
        var etcdPeer: Int
        var nodes: [Int]
        var rest: [Int]
    }

    public var nodes: [Node] {
        get throws {
            let ports = try loadPorts()
            return (0..<Self.nodeCount).map { Node(name: "node\($0 + 1)", port: ports.nodes[$0], restPort: ports.rest[$0]) }
        }
    }

    /// The clients' URL: every node, the writable one chosen by libpq.
    public var url: String {
        get throws {
            let hosts = try nodes.map { "127.0.0.1:\($0.port)" }.joined(separator: ",")
            return "postgresql://timebank@\(hosts)/timebank?target_session_attrs=read-write"
        }
    }

    /// Starts etcd and the three nodes (first run: bootstraps them), waits
    /// for a primary with a synchronous standby, creates database
    /// `timebank`; returns ``url``.
    public func start() async throws -> String {
        let tools = try ServerTools.locate(logger: logger)
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try tools.prepareOwnedDirectory(home)
        let ports = try savedPorts() ?? newPorts()
        if try !isRunning("etcd") {
            let etcd = try spawn("etcd", "/usr/bin/etcd", [
                "--name", "timebank-ha", "--data-dir", home.appendingPathComponent("etcd").path,
                "--listen-client-urls", "http://127.0.0.1:\(ports.etcdClient)", "--advertise-client-urls", "http://127.0.0.1:\(ports.etcdClient)",
                "--listen-peer-urls", "http://127.0.0.1:\(ports.etcdPeer)", "--initial-advertise-peer-urls", "http://127.0.0.1:\(ports.etcdPeer)",
                "--initial-cluster", "timebank-ha=http://127.0.0.1:\(ports.etcdPeer)", "--enable-v2=true",
            ], asServerUser: nil)
            logger.info("started etcd", metadata: ["pid": "\(etcd)", "port": "\(ports.etcdClient)"])
        }
        try await waitFor("etcd", timeout: .seconds(30)) { try Self.httpStatus("http://127.0.0.1:\(ports.etcdClient)/health") == 200 }
        for index in 0..<Self.nodeCount {
            let name = "node\(index + 1)"
            try FileManager.default.createDirectory(at: home.appendingPathComponent(name), withIntermediateDirectories: true)
            try tools.prepareOwnedDirectory(home.appendingPathComponent(name))
            let configuration = try writeConfiguration(name: name, index: index, ports: ports, tools: tools)
            if try !isRunning(name) {
                _ = try spawn(name, "/usr/bin/patroni", [configuration.path], asServerUser: tools.runAs)
            }
        }
        try await waitFor("a primary with a synchronous standby", timeout: .seconds(120)) { try self.synchronousStandby() != nil }
        // Created on the primary, and there to be connected to (a leader change at bootstrap is retried).
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            do {
                try await createDatabase()
                let check = try await PostgresConnection.connect(ConnectionSettings(conninfo: try url))
                await check.close()
                break
            } catch {
                if ContinuousClock.now > deadline { throw error }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        let url = try self.url
        let leader = try primary()?.name ?? "?"
        logger.info("the HA cluster is up", metadata: ["url": "\(url)", "primary": "\(leader)"])
        return url
    }

    /// Stops the nodes and etcd (data kept).
    public func stop() throws {
        for name in (0..<Self.nodeCount).map({ "node\($0 + 1)" }) + ["etcd"] {
            guard let pid = try pid(of: name) else { continue }
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(30)
            while kill(pid, 0) == 0 && Date() < deadline { usleep(100_000) }
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
            try? FileManager.default.removeItem(at: pidFile(name))
        }
        // Any postmaster a killed Patroni left behind.
        for index in 0..<Self.nodeCount {
            if let pid = postmasterPID(of: "node\(index + 1)") { kill(pid, SIGKILL) }
        }
    }

    /// The node Patroni calls the leader (its REST API's /primary says 200), if any.
    public func primary() throws -> Node? {
        try nodes.first { (try? Self.httpStatus("http://127.0.0.1:\($0.restPort)/primary")) == 200 }
    }

    /// The synchronous standby, if the primary has one (/synchronous says 200).
    public func synchronousStandby() throws -> Node? {
        guard try primary() != nil else { return nil }
        return try nodes.first { (try? Self.httpStatus("http://127.0.0.1:\($0.restPort)/synchronous")) == 200 }
    }

    /// Kills a node hard: its Patroni and its postmaster, with SIGKILL (a
    /// crashed machine, as far as the others can tell).
    public func kill9(_ node: Node) throws {
        if let pid = try pid(of: node.name) { kill(pid, SIGKILL) }
        if let pid = postmasterPID(of: node.name) { kill(pid, SIGKILL) }
    }

    /// Starts a killed node's Patroni again (it rejoins as a replica).
    public func restart(_ node: Node) throws {
        let tools = try ServerTools.locate(logger: logger)
        _ = try spawn(node.name, "/usr/bin/patroni", [configurationDirectory(node.name).path], asServerUser: tools.runAs)
    }

    /// A planned switchover to the synchronous standby (`patronictl switchover`).
    public func switchover() throws {
        guard let leader = try primary(), let candidate = try synchronousStandby() else {
            throw ClusterError("no primary with a synchronous standby to switch over to")
        }
        let outcome = try ChildProcess.run("/usr/bin/patronictl", [
            "-c", configurationDirectory(leader.name).path, "switchover", "timebank",
            "--leader", leader.name, "--candidate", candidate.name, "--force",
        ])
        guard outcome.status == 0 else { throw ClusterError("patronictl switchover failed: \(outcome.output)") }
    }

    // MARK: - Configuration

    /// A node's configuration directory: the cluster's shared part
    /// (`ops/patroni/cluster.yml`, the file docker-compose's `ha` profile
    /// mounts too) and this node's own (`20-node.yml`). Patroni merges a
    /// directory's files in name order.
    func writeConfiguration(name: String, index: Int, ports: Ports, tools: ServerTools) throws -> URL {
        let directory = configurationDirectory(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try tools.prepareOwnedDirectory(directory)
        try tools.writeOwnedFile(directory.appendingPathComponent("10-cluster.yml"), try Self.sharedConfiguration())
        try tools.writeOwnedFile(directory.appendingPathComponent("20-node.yml"), nodeConfiguration(name: name, index: index, ports: ports, tools: tools))
        return directory
    }

    /// `ops/patroni/cluster.yml` of the checkout (beside `sql/`).
    static func sharedConfiguration() throws -> String {
        let file = try Migration.defaultDirectory().deletingLastPathComponent().appendingPathComponent("ops/patroni/cluster.yml")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw ClusterError("\(file.path) is missing: run from the checkout (the HA cluster's shared configuration)")
        }
        return text
    }

    func configurationDirectory(_ name: String) -> URL { home.appendingPathComponent("\(name).conf") }

    /// What is this node's own: its name, loopback ports, data directory
    /// and trust on loopback (a developer's machine).
    func nodeConfiguration(name: String, index: Int, ports: Ports, tools: ServerTools) -> String {
        let data = home.appendingPathComponent("\(name)/data").path
        return """
            # Written by timebank (LocalHACluster): a development HA node on loopback.
            name: \(name)
            restapi:
              listen: 127.0.0.1:\(ports.rest[index])
              connect_address: 127.0.0.1:\(ports.rest[index])
            etcd:
              host: 127.0.0.1:\(ports.etcdClient)
            bootstrap:
              pg_hba:
                - host all all 127.0.0.1/32 trust
                - host replication all 127.0.0.1/32 trust
                - local all all trust
            postgresql:
              listen: 127.0.0.1:\(ports.nodes[index])
              connect_address: 127.0.0.1:\(ports.nodes[index])
              data_dir: \(data)
              bin_dir: \(tools.binDirectory.path)
              pgpass: \(home.appendingPathComponent("\(name)/pgpass").path)
              authentication:
                superuser:
                  username: timebank
                  password: timebank-ha-dev
                replication:
                  username: replicator
                  password: timebank-ha-dev
                rewind:
                  username: timebank
                  password: timebank-ha-dev
              parameters:
                unix_socket_directories: '\(home.appendingPathComponent(name).path)'

            """
    }

    // MARK: - Processes and ports

    private func spawn(_ name: String, _ path: String, _ arguments: [String], asServerUser user: String?) throws -> pid_t {
        let log = home.appendingPathComponent("\(name).log").path
        let pid: pid_t
        if let user {
            // setpriv execs (runuser would fork, and its pid would not be the node's): a kill -9 of
            // this pid is a kill -9 of Patroni.
            var environment = ProcessInfo.processInfo.environment
            environment["HOME"] = home.path
            pid = try ChildProcess.spawn("/usr/bin/setpriv", ["--reuid=\(user)", "--regid=\(user)", "--init-groups", "--", path] + arguments,
                                         environment: environment, logFile: log)
        } else {
            pid = try ChildProcess.spawn(path, arguments, environment: ProcessInfo.processInfo.environment, logFile: log)
        }
        try "\(pid)\n".write(to: pidFile(name), atomically: true, encoding: .utf8)
        return pid
    }

    /// The pid a node's postmaster wrote (the first line of postmaster.pid), if any.
    private func postmasterPID(of node: String) -> pid_t? {
        let file = home.appendingPathComponent("\(node)/data/postmaster.pid")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return nil }
        return pid_t(text.split(separator: "\n").first ?? "")
    }

    private func pidFile(_ name: String) -> URL { home.appendingPathComponent("\(name).pid") }

    private func pid(of name: String) throws -> pid_t? {
        guard let text = try? String(contentsOf: pidFile(name), encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        return kill(pid, 0) == 0 ? pid : nil
    }

    private func isRunning(_ name: String) throws -> Bool { try pid(of: name) != nil }

    private var portsFile: URL { home.appendingPathComponent("ports.json") }

    private func loadPorts() throws -> Ports {
        guard let ports = try savedPorts() else { throw ClusterError("the HA cluster in \(home.path) was never started") }
        return ports
    }

    private func savedPorts() throws -> Ports? {
        guard let data = try? Data(contentsOf: portsFile) else { return nil }
        return try JSONDecoder().decode(Ports.self, from: data)
    }

    private func newPorts() throws -> Ports {
        var taken: Set<Int> = []
        func next() throws -> Int {
            while true {
                let port = try LocalCluster.freeLoopbackPort()
                if taken.insert(port).inserted { return port }
            }
        }
        let ports = Ports(etcdClient: try next(), etcdPeer: try next(), nodes: try (0..<Self.nodeCount).map { _ in try next() },
                          rest: try (0..<Self.nodeCount).map { _ in try next() })
        try JSONEncoder().encode(ports).write(to: portsFile)
        return ports
    }

    private func createDatabase() async throws {
        let admin = try await PostgresConnection.connect(ConnectionSettings(conninfo: try url).withDatabase("postgres"))
        do {
            let exists = try await admin.query("SELECT count(*) AS n FROM pg_database WHERE datname = 'timebank'")[0].decode("n", as: Int.self)
            if exists == 0 { try await admin.execute("CREATE DATABASE timebank") }
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
    }

    private func waitFor(_ what: String, timeout: Duration, _ condition: @escaping @Sendable () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        // Each look runs curl or patronictl: off the cooperative pool.
        while !((try? await ChildProcess.offThePool(condition)) ?? false) {
            if ContinuousClock.now > deadline {
                throw ClusterError("timed out waiting for \(what); see the logs in \(home.path)")
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// The HTTP status of a GET on loopback (Patroni's and etcd's REST APIs), or 0.
    static func httpStatus(_ url: String) throws -> Int {
        let outcome = try ChildProcess.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-m", "2", "-w", "%{http_code}", url])
        return Int(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }
}
