import ArgumentParser
import TimebankWorkers
import WorkerHost

@main
struct NotificationWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notification-worker", abstract: "The time bank's notification worker: delivers the outbox's messages (the notifications queue).",
        discussion: "Job kinds: \(WorkerKind.notification.jobKinds.joined(separator: ", ")).")

    @OptionGroup var options: WorkerOptions
    @OptionGroup var outside: OutsideWorldOptions

    func run() async throws { try await options.run(.notification, runtime: try outside.runtime()) }
}
