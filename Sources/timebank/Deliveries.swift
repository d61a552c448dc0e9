import ArgumentParser
import Foundation
import PostgresClient
import TimebankOperations
import TimebankWorkers
import WorkerHost

struct Deliveries: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The notification outbox: failed deliveries, a message's attempts, sending one again.",
        subcommands: [Failed.self, Attempts.self, Retry.self], defaultSubcommand: Failed.self)

    struct Failed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deliveries refused for good (4xx) or given up after their last retry, newest first.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "At most this many.") var limit = 50

        func run() async throws {
            let connection = try await Jobs.connect(database)
            let failed = try await DeliveryAdmin.failed(connection, limit: limit)
            if failed.isEmpty { print("no failed deliveries") }
            for delivery in failed {
                print("message \(delivery.messageID)\t\(delivery.template) to \(delivery.recipientKind)\tvia \(delivery.channel)\t"
                    + "\(delivery.lastOutcome) \(delivery.httpStatus.map { "HTTP \($0)" } ?? "no answer")\t\(delivery.attempts) attempts\t"
                    + (delivery.answer ?? ""))
            }
        }
    }

    struct Attempts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every attempt to deliver one message.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The message's id.") var message: Int64

        func run() async throws {
            let connection = try await Jobs.connect(database)
            for attempt in try await DeliveryAdmin.attempts(connection, message: message) {
                print("\(attempt.startedAt)\t\(attempt.channel)\t\(attempt.outcome)\t\(attempt.httpStatus.map { "HTTP \($0)" } ?? "-")\t"
                    + "\(attempt.latencyMilliseconds) ms\t\(attempt.worker)\t\(attempt.answer ?? "")")
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a message again, now, on the channels that have not delivered it (the same idempotency key).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The message's id.") var message: Int64

        func run() async throws {
            let connection = try await Jobs.connect(database)
            let job = try await DeliveryAdmin.retry(connection, message: message)
            print("message \(message) will be sent again (job \(job))")
        }
    }
}
