import CoreMetrics
import JobEngine
import PostgresClient

/// R6: credits checked-out services, a claim's worth in one transaction
/// (`bank.settlement_settle`): one commit, one update of each account
/// touched, for many settlements. Exactly once: the function settles only
/// services not yet settled, under their row locks, and the runtime marks
/// the jobs completed in the same transaction.
public struct SettleHandler: BatchJobHandler {
    public typealias Arguments = Subject
    public static let kind = "settlement.settle"

    private let settledMinutes: Counter
    private let settledServices: Counter
    /// Check-out to credited, per service (the objective of the settlement alert).
    private let creditedAfter: Timer

    public init(metricsFactory: any MetricsFactory = MetricsSystem.factory) {
        settledMinutes = Counter(label: "timebank_settled_minutes_total", factory: metricsFactory)
        settledServices = Counter(label: "timebank_settled_services_total", factory: metricsFactory)
        creditedAfter = Timer(label: "timebank_checkout_to_credit_seconds", factory: metricsFactory)
    }

    public func run(_ batch: [Subject], connection: isolated PostgresConnection) throws -> [JobOutcome] {
        try runObservingCommit(batch, connection: connection).outcomes
    }

    /// The check-out-to-credited histogram is recorded after the commit, with
    /// the time the commit came after the statement added (issue 16: a worker
    /// frozen before its COMMIT credits late, and the metric says so).
    public func runObservingCommit(_ batch: [Subject], connection: isolated PostgresConnection) throws -> BatchRun {
        let rows = try connection.query(
            "SELECT service_id, minutes, deferred, credited_after_seconds FROM bank.settlement_settle($1)", [batch.map(\.id)])
        var minutes = 0, settled = 0
        var deferred: Set<Int64> = []
        var creditedAfterSeconds: [Double] = []
        for row in rows {
            if try row.decode("deferred", as: Bool.self) {
                deferred.insert(try row.decode("service_id", as: Int64.self))
            } else {
                minutes += try row.decode("minutes", as: Int.self)
                settled += 1
                if let seconds = try row.decode("credited_after_seconds", as: Double?.self) { creditedAfterSeconds.append(seconds) }
            }
        }
        let after: @Sendable (Duration) -> Void = { [creditedAfter, settledServices, settledMinutes, creditedAfterSeconds, settled, minutes] delay in
            let delaySeconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
            for seconds in creditedAfterSeconds { creditedAfter.recordNanoseconds(Int64(max(0, seconds + delaySeconds) * 1e9)) }
            settledServices.increment(by: settled)
            settledMinutes.increment(by: minutes)
        }
        guard !deferred.isEmpty else { return BatchRun(outcomes: batch.map { _ in .completed }, committed: after) }
        // The volunteer is suspended: paid nothing new; looked at again later.
        let wait = try connection.query("SELECT bank.setting('suspended_settlement_retry_minutes') AS m")[0].decode("m", as: Int.self)
        return BatchRun(outcomes: batch.map { deferred.contains($0.id) ? .snooze(.seconds(wait * 60)) : .completed }, committed: after)
    }
}
