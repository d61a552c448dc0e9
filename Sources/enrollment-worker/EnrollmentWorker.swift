import ArgumentParser
import TimebankWorkers
import WorkerHost

@main
struct EnrollmentWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enrollment-worker", abstract: "The time bank's enrollment worker: runs the jobs of the enrollment queue.",
        discussion: "Job kinds: \(WorkerKind.enrollment.jobKinds.joined(separator: ", ")).")

    @OptionGroup var options: WorkerOptions

    func run() async throws { try await options.run(.enrollment) }
}
