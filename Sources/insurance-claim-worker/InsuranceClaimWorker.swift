import ArgumentParser
import TimebankWorkers
import WorkerHost

@main
struct InsuranceClaimWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "insurance-claim-worker", abstract: "The time bank's insurance-claim worker: runs the jobs of the claims queue.",
        discussion: "Job kinds: \(WorkerKind.insuranceClaim.jobKinds.joined(separator: ", ")). Insurers are configured in the database: timebank insurers set.")

    @OptionGroup var options: WorkerOptions
    @OptionGroup var outside: OutsideWorldOptions
    @OptionGroup var endpoint: InsurerEndpointOptions

    func run() async throws {
        try await options.run(.insuranceClaim, runtime: try outside.runtime(), endpoint: try endpoint.endpoint())
    }
}
