import Foundation
import JobEngine
import PostgresClient

/// `ledger.snapshot` (issue 18): every account's balance at the end of
/// each day not yet snapshotted (`bank.take_balance_snapshots`,
/// sql/functions/bank/snapshots.sql), what reporting's as-of balances and
/// an incremental `ledger verify` start from. A periodic job of the
/// settlement worker, daily at 01:30 Beijing time (after the day's end and
/// snapshot_delay_minutes, an hour); it takes every day missed while no
/// settlement worker ran, so a day late is a day caught up, and a second
/// run the same day finds nothing to take. `timebank ledger snapshot` does the same.
public struct LedgerSnapshotHandler: JobHandler {
    public struct Arguments: Codable, Sendable {}
    public static let kind = "ledger.snapshot"
    /// Keyed by the Beijing day it runs on, so the workers' replicas make one job a day.
    public static let periodic = PeriodicJob(
        kind: kind, queue: WorkerKind.settlement.queue, schedule: .daily(hour: 1, minute: 30, timeZone: BeijingDay.timeZone),
        key: { "snapshot:" + BeijingDay.of($0) })

    public init() {}

    public func run(_ arguments: Arguments, context: JobContext) async throws -> JobOutcome {
        let taken = try await context.database.withConnection { connection in
            try await connection.query("SELECT bank.take_balance_snapshots(NULL) AS n")[0].decode("n", as: Int.self)
        }
        if taken > 0 { context.logger.info("balance snapshots taken", metadata: ["days": "\(taken)"]) }
        return .completed
    }
}
