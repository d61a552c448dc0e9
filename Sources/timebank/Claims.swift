import ArgumentParser
import Foundation
import TimebankOperations
import TimebankWorkers
import WorkerHost

struct Claims: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Accident claims (R26): their state, history, and sending an undeliverable one again.",
        subcommands: [List.self, Show.self, Resend.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The newest claims.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "validated, refused, sent, received, more_documents, approved, rejected, paid or undeliverable.") var state: String?
        @Option(help: "At most this many.") var limit = 50

        func run() async throws {
            let connection = try await Jobs.connect(database)
            for claim in try await ClaimAdmin.list(connection, state: state, limit: limit) {
                print("claim \(claim.id)\tservice \(claim.serviceID)\t\(claim.state)\t\(claim.insurer ?? "-")\t"
                    + "\(claim.attempts) attempts\t\(claim.lastAnswer ?? "")")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A claim's history.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The claim's id.") var claim: Int64

        func run() async throws {
            let connection = try await Jobs.connect(database)
            for event in try await ClaimAdmin.history(connection, claim: claim) {
                print("\(event.at)\t\(event.state)\tby \(event.by)\t\(event.note ?? "")")
            }
        }
    }

    struct Resend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send an undeliverable claim to its insurer again.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The claim's id.") var claim: Int64
        @Option(help: "Who decided it (recorded in the claim's history).") var by: String

        func run() async throws {
            let connection = try await Jobs.connect(database)
            try await ClaimAdmin.resend(connection, claim: claim, operator: by)
            print("claim \(claim) will be sent again")
        }
    }
}
