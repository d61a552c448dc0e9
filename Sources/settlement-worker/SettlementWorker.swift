import ArgumentParser
import TimebankWorkers
import WorkerHost

@main
struct SettlementWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settlement-worker", abstract: "The time bank's settlement worker: runs the jobs of the settlement queue.",
        discussion: "Job kinds: \(WorkerKind.settlement.jobKinds.joined(separator: ", ")).")

    @OptionGroup var options: WorkerOptions

    func run() async throws { try await options.run(.settlement) }
}
