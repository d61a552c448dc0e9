import ArgumentParser
import Foundation
import PostgresClient
import WorkerHost

/// Issue 19, item 6: the development clock, for the database's owner (the
/// api's clients move it with `api.advance_development_clock`). Every rule
/// that reads the time reads it (sql/functions/bank/clock.sql); the job
/// engine stays on real time. Moving it is refused, naming the rule, on a
/// database not marked as development.
struct Clock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The development clock: the \"now\" of the api and every worker, on a development database only.",
        discussion: """
            On a database marked as development (the local cluster's: `timebank db start`, then `timebank migrate` or `timebank up`), \
            `advance 2h` moves "now" two hours on for the api and the workers together: a service booked for now is checked out two hours \
            later at once, and a demand's expiry, a no-show or a reminder comes with it. The job engine's leases and schedule stay on real \
            time. On any other database, reading the clock gives the real time and moving it is refused.
            """,
        subcommands: [Show.self, Advance.self, Reset.self], defaultSubcommand: Show.self)

    static func printState(_ rows: QueryResult) throws {
        let row = rows[0]
        let development: Bool = try row.decode("development")
        let offset: String = try row.decode("offset_by")
        let clock: Date = try row.decode("clock_now")
        print("\(development ? "development database" : "not a development database (the clock is the real time)"): "
              + "now is \(clock.ISO8601Format()) (real time + \(offset))")
    }

    static let columns = "development, clock_now, offset_by::text AS offset_by"

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The time the rules read, and how far it is ahead of the real time.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let connection = try await Jobs.connect(database)
            try Clock.printState(try await connection.query("SELECT \(Clock.columns) FROM bank.development_clock_state()"))
        }
    }

    struct Advance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move the development clock forward: 2h, 90m, 3d, or any PostgreSQL interval ('1 day 2 hours').")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "How far forward: 2h, 90m, 30s, 3d, or a PostgreSQL interval.") var by: String

        func run() async throws {
            let connection = try await Jobs.connect(database)
            do {
                try Clock.printState(try await connection.query(
                    "SELECT \(Clock.columns) FROM bank.advance_development_clock($1::interval)", [Clock.interval(by)]))
            } catch let error as PostgresError where error.code != nil {
                throw ValidationError(error.message + (error.detail.map { " (\($0))" } ?? ""))
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put the development clock back to the real time (what was stamped meanwhile keeps its stamps).")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let connection = try await Jobs.connect(database)
            do {
                try Clock.printState(try await connection.query("SELECT \(Clock.columns) FROM bank.reset_development_clock()"))
            } catch let error as PostgresError where error.code != nil {
                throw ValidationError(error.message + (error.detail.map { " (\($0))" } ?? ""))
            }
        }
    }

    /// `2h` as PostgreSQL reads it (`2 hours`); anything else is passed on for PostgreSQL to read.
    static func interval(_ text: String) -> String {
        let units = ["s": "seconds", "m": "minutes", "h": "hours", "d": "days"]
        if let unit = text.last.map(String.init), let name = units[unit], Int(text.dropLast()) != nil {
            return "\(text.dropLast()) \(name)"
        }
        return text
    }
}
