import CoreMetrics
import Foundation
import JobEngine
import PostgresClient

/// `claims.send` (R24-R26): sends a validated claim's package to its
/// insurer (docs/insurer-api.yaml), signed in the database with the
/// insurer's secret, and records every attempt (`bank.claims_record_attempt`).
///
/// An insurer that stays unreachable never loses a claim: the job snoozes
/// with backoff and tries again, for as long as it takes (a snooze spends
/// no attempt); after `claim_unreachable_alert_minutes` the supervisors are
/// alerted, once. A 4xx is the insurer refusing the package itself: the
/// claim becomes undeliverable and the supervisors are told.
public struct ClaimSendHandler: JobHandler {
    public typealias Arguments = Subject
    public static let kind = "claims.send"

    let transport: any HTTPTransport
    /// The wait between attempts, by the number made.
    let retry: Backoff

    public init(transport: any HTTPTransport = URLSessionTransport(),
                retry: Backoff = Backoff(base: .seconds(10), maximum: .seconds(600))) {
        self.transport = transport
        self.retry = retry
    }

    public func run(_ subject: Subject, context: JobContext) async throws -> JobOutcome {
        let rows = try await context.database.withConnection { connection in
            try await connection.query(
                """
                SELECT state, insurer_code, url, timeout_ms, body, signature,
                       (SELECT count(*) FROM bank.claim_delivery_attempt a WHERE a.claim_id = $1)::integer AS attempts
                  FROM bank.claim_package($1)
                """, [subject.id])
        }
        guard let row = rows.first else { return .cancel(reason: "no claim \(subject.id)") }
        guard try row.decode("state", as: String.self) == "validated" else { return .completed }  // sent already
        let attempts = try row.decode("attempts", as: Int.self)
        let startedAt = Date()
        let insurer = try row.decode("insurer_code", as: String?.self)
        let exchange: HTTPExchange
        if let insurer, let url = URL(string: try row.decode("url", as: String.self)) {
            let body = Data(try row.decode("body", as: String.self).utf8)
            exchange = await transport.postSigned(
                url, body: body, signature: try row.decode("signature", as: String.self), idempotencyKey: "claim-\(subject.id)",
                headers: ["X-Timebank-Insurer": insurer], timeout: .milliseconds(try row.decode("timeout_ms", as: Int.self)))
        } else {
            exchange = HTTPExchange(status: nil, answer: "not sent: no insurer is configured for this claim", latency: .zero)
        }
        let outcome: String = switch exchange.verdict {
        case .delivered: "sent"
        case .retry: "retry"
        case .failed: "failed"
        }
        Counter(label: "timebank_claim_deliveries_total", dimensions: [("insurer", insurer ?? "none"), ("outcome", outcome)]).increment()
        let state = try await context.database.withConnection { connection in
            try await connection.query(
                "SELECT bank.claims_record_attempt($1, $2, $3, $4::integer, $5::integer, $6, $7, $8) AS state",
                [subject.id, insurer, startedAt, exchange.latencyMilliseconds, exchange.status, outcome, exchange.answer, context.worker])[0]
                .decode("state", as: String.self)
        }
        if state == "validated" {
            context.logger.warning("claim not delivered yet; trying again", metadata: [
                "claim_id": "\(subject.id)", "insurer": "\(insurer ?? "none")", "answer": "\(exchange.status.map(String.init) ?? exchange.answer)",
            ])
            return .snooze(retry.delay(afterAttempt: attempts + 1))
        }
        return .completed
    }
}
