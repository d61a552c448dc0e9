import ArgumentParser
import TimebankWorkers
import WorkerHost

@main
struct OrderWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order-worker", abstract: "The time bank's order worker: runs the jobs of the order queue.",
        discussion: "Job kinds: \(WorkerKind.order.jobKinds.joined(separator: ", ")).")

    @OptionGroup var options: WorkerOptions

    func run() async throws { try await options.run(.order) }
}
