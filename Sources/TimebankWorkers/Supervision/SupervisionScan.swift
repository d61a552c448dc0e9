import JobEngine
import PostgresClient

/// `supervision.scan` (R21): runs `bank.supervision_scan()`, which finds
/// what should alert the supervisors (sql/0017). Two kinds of job run it:
/// one asked for by the events that can trigger an alert (a gift, a late
/// check-out, a booking refused for overlapping), which completes; and the
/// scheduled one (`periodic`), which snoozes `alert_scan_minutes` after
/// each run and so never ends.
public struct SupervisionScan: JobHandler {
    public struct Arguments: Codable, Sendable {
        public var periodic: Bool?
    }
    public static let kind = "supervision.scan"

    public init() {}

    /// Starts the scheduled scan unless it is already there (the notification worker does it at start).
    public static func schedule(on connection: isolated PostgresConnection) throws {
        _ = try connection.query(
            "SELECT jobs.enqueue('supervision.scan', '{\"periodic\": true}', 'notifications', unique_key => 'scan:scheduled')")
    }

    public func run(_ arguments: Arguments, context: JobContext) async throws -> JobOutcome {
        let (opened, minutes) = try await context.database.withConnection { connection in
            try await connection.transaction { connection in
                let opened = try connection.query("SELECT bank.supervision_scan() AS n")[0].decode("n", as: Int.self)
                let minutes = try connection.query("SELECT bank.setting('alert_scan_minutes') AS m")[0].decode("m", as: Int.self)
                return (opened, minutes)
            }
        }
        if opened > 0 { context.logger.notice("supervision alerts opened", metadata: ["alerts": "\(opened)"]) }
        return arguments.periodic == true ? .snooze(.seconds(Int64(minutes) * 60)) : .completed
    }
}
