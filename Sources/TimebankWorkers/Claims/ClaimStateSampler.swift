import CoreMetrics
import JobEngine
import PostgresClient

/// `claims.sample`: the claims by state, as the gauge `timebank_claims{state}`
/// on the insurance-claim worker's /metrics: a periodic job, every minute
/// (the gauge is the process's own, so each worker also samples at start).
public struct ClaimStateSampler: JobHandler {
    public struct Arguments: Codable, Sendable {}
    public static let kind = "claims.sample"
    public static let states = ["validated", "refused", "sent", "received", "more_documents", "approved", "rejected", "paid", "undeliverable"]

    public static let periodic = PeriodicJob(
        kind: kind, queue: WorkerKind.insuranceClaim.queue, schedule: .every(.seconds(60)), key: { "sample:" + $0.formatted(.iso8601) })

    let metricsFactory: any MetricsFactory

    public init(metricsFactory: any MetricsFactory = MetricsSystem.factory) {
        self.metricsFactory = metricsFactory
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
        return .completed
    }
}
