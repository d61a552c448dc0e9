import Foundation
import JobEngine
import PostgresClient

/// `claims.export_day` (R24): sends one day's service records of
/// volunteers registered with Volunteer Beijing (registry ID, service,
/// hours) to its export endpoint, chunk by chunk, recording each chunk
/// sent (`bank.registry_export`). Idempotent and resumable: a day
/// interrupted resumes at its first unrecorded chunk, which is built the
/// same again and carries the same idempotency key.
///
/// A periodic job (``periodic``): day D is exported at 01:00 Beijing time
/// after it ends. A day done also schedules the next day's export at once,
/// under the same key and time as the periodic run, so the two make one
/// job; it is what catches up, day by day, the days missed while no
/// insurance-claim worker ran.
public struct RegistryExportHandler: JobHandler {
    public struct Arguments: Codable, Sendable {
        /// YYYY-MM-DD, Beijing time.
        public var day: String
        public init(day: String) { self.day = day }
    }
    public static let kind = "claims.export_day"

    /// The run at 01:00 exports the day before, keyed `export:<day>`.
    public static let periodic = PeriodicJob(
        kind: kind, queue: WorkerKind.insuranceClaim.queue, schedule: .daily(hour: 1, minute: 0, timeZone: BeijingDay.timeZone),
        key: { "export:" + day(before: $0) }, arguments: { #"{"day": ""# + day(before: $0) + #""}"# })

    /// The Beijing day before `time`'s, YYYY-MM-DD (as `bank.local_today() - 1` then).
    static func day(before time: Date) -> String { BeijingDay.of(time, movedBy: -1) }

    let transport: any HTTPTransport
    /// How long a chunk the registry did not accept waits before it is sent again.
    let retryAfter: Duration

    public init(transport: any HTTPTransport = URLSessionTransport(), retryAfter: Duration = .seconds(300)) {
        self.transport = transport
        self.retryAfter = retryAfter
    }

    public func run(_ arguments: Arguments, context: JobContext) async throws -> JobOutcome {
        while true {
            let rows = try await context.database.withConnection { connection in
                try await connection.query(
                    """
                    SELECT chunk, url, timeout_ms, body, signature, first_service_id, last_service_id, records, minutes
                      FROM bank.registry_export_next($1::date)
                    """, [arguments.day])
            }
            guard let row = rows.first else { break }
            let chunk = try row.decode("chunk", as: Int.self)
            guard let text = try row.decode("url", as: String?.self), let url = URL(string: text) else {
                context.logger.notice("no Volunteer Beijing export endpoint configured; the export waits", metadata: ["day": "\(arguments.day)"])
                return .snooze(.seconds(3600))
            }
            let exchange = await transport.postSigned(
                url, body: Data(try row.decode("body", as: String.self).utf8), signature: try row.decode("signature", as: String.self),
                idempotencyKey: "export:\(arguments.day):\(chunk)", timeout: .milliseconds(try row.decode("timeout_ms", as: Int.self)))
            guard exchange.verdict == .delivered else {
                context.logger.warning("registry export chunk not accepted", metadata: [
                    "day": "\(arguments.day)", "chunk": "\(chunk)", "answer": "\(exchange.status.map(String.init) ?? exchange.answer)",
                ])
                // A refusal (4xx) is as lasting as an outage for data the registry must have: both wait and retry.
                return .snooze(retryAfter)
            }
            _ = try await context.database.withConnection { connection in
                try await connection.query(
                    "SELECT bank.registry_export_record($1::date, $2::integer, $3, $4, $5::integer, $6, $7::integer, $8::integer)",
                    [arguments.day, chunk, try row.decode("first_service_id", as: Int64.self), try row.decode("last_service_id", as: Int64.self),
                     try row.decode("records", as: Int.self), try row.decode("minutes", as: Int64.self), exchange.status, exchange.latencyMilliseconds])
            }
        }
        _ = try await context.database.withConnection { connection in
            try await connection.query(
                """
                SELECT jobs.enqueue_own('claims.export_day', jsonb_build_object('day', $1::date + 1), 'claims',
                                    run_at => (($1::date + 2)::timestamp + interval '1 hour') AT TIME ZONE 'Asia/Shanghai',
                                    unique_key => 'export:' || ($1::date + 1))
                """, [arguments.day])
        }
        return .completed
    }
}
