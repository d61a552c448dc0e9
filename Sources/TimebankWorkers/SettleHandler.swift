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

    public init(metricsFactory: any MetricsFactory = MetricsSystem.factory) {
        settledMinutes = Counter(label: "timebank_settled_minutes_total", factory: metricsFactory)
        settledServices = Counter(label: "timebank_settled_services_total", factory: metricsFactory)
    }

    public func run(_ batch: [Subject], connection: isolated PostgresConnection) throws {
        let rows = try connection.query(
            "SELECT service_id, minutes FROM bank.settlement_settle($1)", [batch.map(\.id)])
        var minutes = 0
        for row in rows { minutes += try row.decode("minutes", as: Int.self) }
        settledServices.increment(by: rows.count)
        settledMinutes.increment(by: minutes)
    }
}
