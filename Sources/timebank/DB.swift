import ArgumentParser
import DevCluster
import Foundation
import PostgresClient
import TimebankDatabase
import TimebankOperations

struct DB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the checkout's local PostgreSQL cluster (in .timebank/, or $TIMEBANK_HOME).",
        discussion: "A private development cluster: trust authentication on 127.0.0.1, a free port chosen at creation. Production points DATABASE_URL at its own server instead.",
        subcommands: [Start.self, Stop.self, Status.self, URLCommand.self]
    )

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the local cluster if needed, start it, and print its DATABASE_URL.",
            discussion: """
                With --replica, also a streaming replica of it (read-only, its own port), whose URL is printed instead: point analysts' heavy reports at it. \
                With --ha, instead a high-availability cluster (in <home>/ha): etcd and three PostgreSQL nodes managed by Patroni, synchronous mode on; \
                it prints the multi-host URL (target_session_attrs=read-write) that follows the primary through a failover.
                """)

        @Flag(help: "Also create and start a streaming replica; print its URL.") var replica = false
        @Flag(help: "A Patroni cluster of three nodes and etcd instead (needs patroni and etcd-server: scripts/install-deps).") var ha = false

        func run() async throws {
            let cluster = LocalCluster.forCheckout()
            if ha {
                print(try await LocalHACluster(home: cluster.home.appendingPathComponent("ha")).start())
                return
            }
            if replica {
                print(try await cluster.startReplica())
                return
            }
            let url = try await cluster.start()
            // Issue 19: its database is a development database once migrated (`timebank clock`);
            // `timebank migrate` marks a fresh one, this an existing one.
            let connection = try await PostgresConnection.connect(ConnectionSettings(conninfo: url, applicationName: "timebank-db"))
            try await LocalCluster.markDevelopmentIfLocal(connection, by: "timebank db start")
            await connection.close()
            print(url)
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the local cluster (fast shutdown).")

        @Flag(help: "Stop the HA cluster (--ha of start) instead.") var ha = false

        func run() throws {
            let cluster = LocalCluster.forCheckout()
            if ha { try LocalHACluster(home: cluster.home.appendingPathComponent("ha")).stop(); return }
            try cluster.stop()
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say whether the local cluster runs; exit 0 if it does, 3 if not.")

        func run() throws {
            let cluster = LocalCluster.forCheckout()
            guard cluster.isInitialized else {
                print("not created (\(cluster.dataDirectory.path)); `timebank db start` creates it")
                throw ExitCode(3)
            }
            if try cluster.isRunning() {
                print("running: \(cluster.url ?? "?")")
            } else {
                print("stopped (\(cluster.dataDirectory.path))")
                throw ExitCode(3)
            }
        }
    }

    struct URLCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "url", abstract: "Print the local cluster's DATABASE_URL (whether or not it runs).",
            discussion: """
                With --role, the URL of that role's login instead of the superuser's: `--role api` is the residents' client \
                (timebank_api_login, a member of timebank_api: the api functions only), `--role staff` the civil-affairs desk; \
                `psql "$(timebank db url --role api)"` connects as a client application does. The logins exist once \
                `timebank up` or `timebank logins create` made them; on the local cluster they need no password.
                """)

        @Flag(help: "The replica's URL instead.") var replica = false
        @Option(help: ArgumentHelp("Log in as this role's login: \(DB.roles.keys.sorted().joined(separator: ", ")).", valueName: "role"))
        var role: String?

        func validate() throws {
            if let role, DB.roles[role] == nil {
                throw ValidationError("--role: no role is called \(role); one of \(DB.roles.keys.sorted().joined(separator: ", "))")
            }
        }

        func run() throws {
            let cluster = LocalCluster.forCheckout()
            guard let url = replica ? cluster.replica.url : cluster.url else {
                throw ValidationError("the local cluster does not exist yet; run `timebank db start`")
            }
            guard let role, let login = DB.roles[role] else {
                print(url)
                return
            }
            print(url.replacingOccurrences(of: "postgresql://\(cluster.superuser)@", with: "postgresql://\(login)@")
                  + "?application_name=\(role)-client")
        }
    }

    /// `db url --role`'s names: each application login's short name (LoginAdmin's logins).
    static var roles: [String: String] {
        var roles: [String: String] = [:]
        for login in LoginAdmin.logins {
            let short = login.group.replacingOccurrences(of: "timebank_", with: "").replacingOccurrences(of: "_", with: "-")
            roles[short] = login.name
        }
        return roles
    }
}
