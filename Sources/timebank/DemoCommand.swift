import ArgumentParser
import TimebankOperations
import TimebankWorkers
import WorkerHost

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Drive the coin's path with sample people and print each step and the final balances.",
        discussion: "Uses the running workers (`timebank up`), or starts one of each in this process when none is connected."
    )

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await Demo(settings: try await database.resolveOrStartLocalCluster(applicationName: "timebank-demo")).run()
    }
}
