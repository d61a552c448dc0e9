import ArgumentParser
import Foundation
import PostgresClient
import WorkerHost

/// Issue 18, item 4: the monthly partitions of the append-only history
/// (sql/migrations/0034, sql/functions/bank/partitions.sql), for the
/// database's owner: what there is, and the settlement worker's daily
/// maintenance run by hand.
struct Partitions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The monthly partitions of the append-only history: list them, or create the months ahead and drop the expired.",
        discussion: """
            Lists each partitioned table's partitions with their months (Beijing time) and estimated rows: <table>_history holds \
            everything before the table was partitioned, <table>_unplanned (DEFAULT) any row whose month had no partition yet \
            (normally none). With --maintain, first does what the settlement worker's daily partitions.maintain job does: \
            creates each month's partition from the current month to months_ahead after it, moving in the rows of that month \
            the DEFAULT partition took, and drops the months older than the table's retain_months (bank.monthly_partitioned_table).
            """)
    @OptionGroup var database: DatabaseOptions
    @Flag(help: "Create the months ahead and drop the expired first, as the daily job does.") var maintain = false

    func run() async throws {
        let connection = try await Jobs.connect(database)
        if maintain {
            let done = try await connection.query("SELECT partition_name, action, moved_rows FROM bank.maintain_monthly_partitions(now())")
            for row in done {
                let moved: Int64? = try row.decode("moved_rows")
                print("\(try row.decode("action", as: String.self)) \(try row.decode("partition_name", as: String.self))"
                      + (moved.map { $0 > 0 ? " (\($0) rows moved in from the DEFAULT partition)" : "" } ?? ""))
            }
            if done.isEmpty { print("nothing to create or drop") }
        }
        let rows = try await connection.query("""
            SELECT table_name, partition_name, is_default, estimated_rows,
                   coalesce(to_char(from_time AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'), 'the beginning') AS from_day,
                   coalesce(to_char(to_time AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'), '') AS to_day
              FROM bank.monthly_partitions()
            """)
        for row in rows {
            let isDefault: Bool = try row.decode("is_default")
            let span = isDefault ? "DEFAULT (rows whose month has no partition)"
                : "\(try row.decode("from_day", as: String.self)) to \(try row.decode("to_day", as: String.self))"
            print("\(try row.decode("partition_name", as: String.self))  \(span)  ~\(try row.decode("estimated_rows", as: Int64.self)) rows")
        }
    }
}
