import ArgumentParser
import Foundation
import JobEngine
import TimebankWorkers
import WorkerHost

struct Workers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The worker processes: live ones, and those that stopped or went silent recently.")
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Show workers that ended within this many minutes.") var recentMinutes = 60

    func run() async throws {
        let connection = try await Jobs.connect(database)
        let workers = try await WorkerRegistry.list(connection, recent: .seconds(recentMinutes * 60))
        if workers.isEmpty { print("no workers registered") }
        let now = Date()
        for worker in workers {
            let heartbeat = String(format: "%.0f s ago", now.timeIntervalSince(worker.heartbeatAt))
            print("\(worker.state)\t\(worker.id)\tv\(worker.version)\tqueues \(worker.queues.joined(separator: ","))\t"
                + "concurrency \(worker.concurrency)\tjobs \(worker.jobsDone) done, \(worker.jobsFailed) failed\theartbeat \(heartbeat)")
        }
    }
}
