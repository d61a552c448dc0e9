import ArgumentParser
import DevCluster
import Foundation
import TimebankDatabase

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
            discussion: "With --replica, also a streaming replica of it (read-only, its own port), whose URL is printed instead: point analysts' heavy reports at it.")

        @Flag(help: "Also create and start a streaming replica; print its URL.") var replica = false

        func run() async throws {
            let cluster = LocalCluster.forCheckout()
            print(replica ? try await cluster.startReplica() : try await cluster.start())
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the local cluster (fast shutdown).")

        func run() throws {
            try LocalCluster.forCheckout().stop()
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
            commandName: "url", abstract: "Print the local cluster's DATABASE_URL (whether or not it runs).")

        @Flag(help: "The replica's URL instead.") var replica = false

        func run() throws {
            let cluster = LocalCluster.forCheckout()
            guard let url = replica ? cluster.replica.url : cluster.url else {
                throw ValidationError("the local cluster does not exist yet; run `timebank db start`")
            }
            print(url)
        }
    }
}
