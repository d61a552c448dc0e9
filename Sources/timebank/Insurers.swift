import ArgumentParser
import Foundation
import TimebankOperations
import TimebankWorkers
import WorkerHost

struct Insurers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Insurers' endpoints and shared secrets (R24, R25; contract: docs/insurer-api.yaml).",
        subcommands: [Set.self, List.self], defaultSubcommand: List.self)

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or replace an insurer.",
            discussion: "The shared secret is read from an environment variable, never from the command line (it would show in ps and shell history).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "Its code: volunteer_beijing for R24, e.g. picc for an organisation's insurer (R25).") var code: String
        @Option(help: "Its name.") var name: String
        @Option(help: "Where claims are POSTed.") var claimsURL: String
        @Option(help: "R24: where the daily service records go (Volunteer Beijing).") var exportURL: String?
        @Option(help: "R25: a volunteer organisation whose confirmed policies it insures (repeatable).") var organisation: [String] = []
        @Option(help: "The environment variable holding the HMAC secret (16 characters or more).") var secretEnv = "TIMEBANK_INSURER_SECRET"
        @Option(help: "Request timeout in milliseconds.") var timeoutMilliseconds = 10000

        func run() async throws {
            let secret = try secretFromEnvironment(secretEnv, option: "--secret-env")
            let connection = try await Jobs.connect(database)
            try await InsurerAdmin.set(connection, InsurerAdmin.Insurer(
                code: code, name: name, organisations: organisation, claimsURL: claimsURL, exportURL: exportURL,
                timeoutMilliseconds: timeoutMilliseconds), secret: secret)
            print("insurer \(code) set")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The insurers (never their secrets).")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let connection = try await Jobs.connect(database)
            for insurer in try await InsurerAdmin.list(connection) {
                print("\(insurer.code)\t\(insurer.name)\tclaims \(insurer.claimsURL)\texport \(insurer.exportURL ?? "-")\t"
                    + "organisations: \(insurer.organisations.isEmpty ? "-" : insurer.organisations.joined(separator: ", "))")
            }
        }
    }
}
