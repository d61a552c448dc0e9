import ArgumentParser
import Foundation
import JobEngine
import TimebankWorkers
import WorkerHost
import PostgresClient

struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect and steer the job queues.",
        subcommands: [Stats.self, List.self, Show.self, Retry.self, Cancel.self, Pause.self, Resume.self, Prune.self, JobLimits.self]
    )

    static func connect(_ database: DatabaseOptions) async throws -> PostgresConnection {
        try await PostgresConnection.connect(try await database.resolveOrStartLocalCluster())
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Jobs per queue and state, and the oldest waiting job's age.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let connection = try await Jobs.connect(database)
            let stats = try await JobAdmin.stats(connection)
            let states = ["available", "scheduled", "running", "retryable", "completed", "discarded", "cancelled"]
            print("queue".padding(toLength: 16, withPad: " ", startingAt: 0)
                + states.map { $0.padding(toLength: 11, withPad: " ", startingAt: 0) }.joined() + "oldest wait")
            for queue in stats {
                let name = queue.queue + (queue.paused ? " (paused)" : "")
                print(name.padding(toLength: 16, withPad: " ", startingAt: 0)
                    + states.map { String(queue.counts[$0] ?? 0).padding(toLength: 11, withPad: " ", startingAt: 0) }.joined()
                    + (queue.oldestAvailableAge.map { String(format: "%.1f s", $0) } ?? "-"))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The newest jobs, filtered.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "available, scheduled, running, retryable, completed, discarded or cancelled.") var state: String?
        @Option(help: "Queue name.") var queue: String?
        @Option(help: "Job kind.") var kind: String?
        @Option(help: "At most this many.") var limit = 50

        func run() async throws {
            let connection = try await Jobs.connect(database)
            for job in try await JobAdmin.list(connection, state: state, queue: queue, kind: kind, limit: limit) {
                print("\(job.id)\t\(job.queue)\t\(job.kind)\t\(job.state)\tattempt \(job.attempt)/\(job.maxAttempts)\trun at \(job.runAt)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One job, with its arguments and every error.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The job's id.") var id: Int64

        func run() async throws {
            let connection = try await Jobs.connect(database)
            guard let job = try await JobAdmin.show(connection, id: id) else { throw ValidationError("no job \(id)") }
            print("""
                job \(job.id): \(job.kind) on \(job.queue), \(job.state), attempt \(job.attempt) of \(job.maxAttempts)
                run at:     \(job.runAt)
                created:    \(job.createdAt)
                held by:    \(job.heldBy ?? "-")
                arguments:  \(job.arguments)
                errors:     \(job.errors)
                """)
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a job that is not running again, now.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The job's id.") var id: Int64

        func run() async throws {
            let connection = try await Jobs.connect(database)
            guard try await JobAdmin.retry(connection, id: id) else { throw ValidationError("job \(id) does not exist or is running") }
            print("job \(id) is available again")
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel an unfinished job.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The job's id.") var id: Int64

        func run() async throws {
            let connection = try await Jobs.connect(database)
            guard try await JobAdmin.cancel(connection, id: id) else { throw ValidationError("job \(id) does not exist or is finished") }
            print("job \(id) cancelled")
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop every worker claiming from a queue (running jobs finish).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The queue.") var queue: String

        func run() async throws {
            let connection = try await Jobs.connect(database)
            try await JobAdmin.setPaused(connection, queue: queue, paused: true)
            print("queue \(queue) paused")
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let workers claim from a paused queue again.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The queue.") var queue: String

        func run() async throws {
            let connection = try await Jobs.connect(database)
            try await JobAdmin.setPaused(connection, queue: queue, paused: false)
            print("queue \(queue) resumed")
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete finished jobs older than the retention.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Keep finished jobs this many hours.") var retentionHours = 24

        func run() async throws {
            let connection = try await Jobs.connect(database)
            let deleted = try await JobAdmin.prune(connection, retention: .seconds(retentionHours * 3600))
            print("deleted \(deleted) finished jobs")
        }
    }
}
