import ArgumentParser
import TimebankWorkers

@main
struct InsuranceClaimWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "insurance-claim-worker", abstract: "The time bank's insurance-claim worker: runs the jobs of the claims queue.",
        discussion: "Job kinds: \(WorkerKind.insuranceClaim.registry().kinds.joined(separator: ", ")).")

    @OptionGroup var options: WorkerOptions

    func run() async throws { try await options.run(.insuranceClaim) }
}
