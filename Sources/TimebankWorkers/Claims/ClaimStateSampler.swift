import CoreMetrics
import JobEngine
import PostgresClient

/// `claims.sample`: the claims by state, as the gauge `timebank_claims{state}`
/// on the insurance-claim worker's /metrics. A job that snoozes a minute after
/// each run, started once when the worker starts (a unique key).
public struct ClaimStateSampler: JobHandler {
    public struct Arguments: Codable, Sendable {}
    public static let kind = "claims.sample"
    public static let states = ["validated", "refused", "sent", "received", "more_documents", "approved", "rejected", "paid", "undeliverable"]

    let interval: Duration
    let metricsFactory: any MetricsFactory

    public init(interval: Duration = .seconds(60), metricsFactory: any MetricsFactory = MetricsSystem.factory) {
        self.interval = interval
        self.metricsFactory = metricsFactory
    }

    public static func schedule(on connection: isolated PostgresConnection) throws {
        _ = try connection.query("SELECT jobs.enqueue('claims.sample', '{}', 'claims', unique_key => 'sample')")
    }

    public func run(_ arguments: Arguments, context: JobContext) async throws -> JobOutcome {
        let counts = try await context.database.withConnection { connection in
            try await connection.query("SELECT state, count(*)::integer AS n FROM bank.accident_claim GROUP BY state")
                .map { (try $0.decode("state", as: String.self), try $0.decode("n", as: Int.self)) }
        }
        let byState = Dictionary(uniqueKeysWithValues: counts)
        for state in Self.states {
            Gauge(label: "timebank_claims", dimensions: [("state", state)], factory: metricsFactory).record(byState[state] ?? 0)
        }
        return .snooze(interval)
    }
}
