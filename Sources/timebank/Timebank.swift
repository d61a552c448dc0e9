import ArgumentParser

@main
struct Timebank: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timebank",
        abstract: "The time bank's operators' command line.",
        discussion: """
            Connection: --database-url, else DATABASE_URL, else the standard PG* variables; \
            with none of them, the checkout's local cluster (started if needed, see `timebank db`).
            """,
        subcommands: [Migrate.self, DB.self, Up.self, Logins.self, Workers.self, Top.self, Jobs.self, Deliveries.self, Claims.self, Insurers.self, Staff.self, Supervision.self, Ledger.self, ConsoleCommand.self, API.self, DemoCommand.self, Clock.self, Partitions.self]
    )
}
