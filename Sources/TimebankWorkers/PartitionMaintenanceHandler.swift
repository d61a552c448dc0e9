import Foundation
import JobEngine
import PostgresClient

/// `partitions.maintain` (issue 18): the monthly partitions of the
/// append-only history (`bank.maintain_monthly_partitions`,
/// sql/functions/bank/partitions.sql) created months ahead, rows the DEFAULT
/// partition took moved into their month's, expired months dropped. A
/// periodic job of the settlement worker, daily at 00:40 Beijing time
/// (before the day's snapshot); a day missed is made up the next, since each
/// run creates every month from the current one on. `timebank partitions
/// --maintain` does the same.
public struct PartitionMaintenanceHandler: JobHandler {
    public struct Arguments: Codable, Sendable {}
    public static let kind = "partitions.maintain"

    /// Keyed by the Beijing day it runs on, so the workers' replicas make one job a day.
    public static let periodic = PeriodicJob(
        kind: kind, queue: WorkerKind.settlement.queue, schedule: .daily(hour: 0, minute: 40, timeZone: BeijingDay.timeZone),
        key: { "partitions:" + BeijingDay.of($0) })

    public init() {}

    public func run(_ arguments: Arguments, context: JobContext) async throws -> JobOutcome {
        let done = try await context.database.withConnection { connection in
            try await connection.query("SELECT partition_name, action, moved_rows FROM bank.maintain_monthly_partitions(now())")
        }
        for row in done {
            let partition: String = try row.decode("partition_name"), action: String = try row.decode("action")
            let moved: Int64? = try row.decode("moved_rows")
            context.logger.info("monthly partition maintained", metadata: [
                "partition": "\(partition)", "action": "\(action)", "moved_rows": "\(moved.map(String.init) ?? "-")",
            ])
        }
        return .completed
    }
}
