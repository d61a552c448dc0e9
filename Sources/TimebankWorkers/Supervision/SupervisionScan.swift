import JobEngine
import PostgresClient

/// `supervision.scan` (R21): runs `bank.supervision_scan()`, which finds
/// what should alert the supervisors (sql/functions/supervision/alerts.sql). Two kinds of job run it:
/// the periodic one (``periodic``: every `alert_scan_minutes`, enqueued by
/// the notification worker), and one asked for by the events that can
/// trigger an alert (a gift, a late check-out, a booking refused for
/// overlapping; `bank.request_supervision_scan()`). Both simply complete.
public struct SupervisionScan: JobHandler {
    public struct Arguments: Codable, Sendable {
        /// Set on the periodic runs, for whoever reads the job table.
        public var periodic: Bool?
    }
    public static let kind = "supervision.scan"

    /// Every `alert_scan_minutes` (read at each enqueue, so a changed
    /// setting takes effect without a restart). Keyed `scan:<time>`: the
    /// event-asked scans have no key, which is how
    /// `bank.request_supervision_scan()` tells them apart.
    public static let periodic = PeriodicJob(
        kind: kind, queue: WorkerKind.notification.queue,
        schedule: .everySeconds(sql: "bank.setting('alert_scan_minutes') * 60"),
        key: { "scan:" + $0.formatted(.iso8601) }, arguments: { _ in #"{"periodic": true}"# })

    public init() {}

    public func run(_ arguments: Arguments, context: JobContext) async throws -> JobOutcome {
        let opened = try await context.database.withConnection { connection in
            try await connection.query("SELECT bank.supervision_scan() AS n")[0].decode("n", as: Int.self)
        }
        if opened > 0 { context.logger.notice("supervision alerts opened", metadata: ["alerts": "\(opened)"]) }
        return .completed
    }
}
