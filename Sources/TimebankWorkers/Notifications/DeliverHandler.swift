import CoreMetrics
import Foundation
import JobEngine
import PostgresClient

/// `notify.deliver`: sends one outbox message on every channel its kind of
/// recipient is routed to (``ChannelConfiguration``), and records every
/// attempt in `bank.delivery_attempt`.
///
/// - 2xx: delivered, recorded at most once per message and channel.
/// - No answer, 5xx, 408, 425, 429: the job fails its attempt and is
///   retried with backoff, on the channels not yet delivered; after its
///   last attempt it is discarded, and `timebank deliveries` shows it.
/// - Another 4xx: permanent for that channel, recorded with the answer;
///   the job is cancelled once nothing is left to retry.
/// - Quiet hours: a non-urgent message to a person is snoozed until 07:00.
/// - A reminder for a service no longer booked is recorded obsolete, not sent.
public struct DeliverHandler: JobHandler {
    public typealias Arguments = Subject
    public static let kind = "notify.deliver"

    let channels: ChannelConfiguration
    let templates: NotificationTemplates
    let quietHours: QuietHours
    let now: @Sendable () -> Date
    let metricsFactory: any MetricsFactory

    public init(channels: ChannelConfiguration, templates: NotificationTemplates, quietHours: QuietHours = QuietHours(),
                now: @escaping @Sendable () -> Date = { Date() }, metricsFactory: any MetricsFactory = MetricsSystem.factory) {
        self.channels = channels
        self.templates = templates
        self.quietHours = quietHours
        self.now = now
        self.metricsFactory = metricsFactory
    }

    public func run(_ subject: Subject, context: JobContext) async throws -> JobOutcome {
        guard var (message, stillDue, settled) = try await load(subject.id, context: context) else {
            return .cancel(reason: "no message \(subject.id)")
        }
        let pending = (channels.routes[message.recipientKind] ?? []).filter { !settled.contains($0.name) }
        if pending.isEmpty { return .completed }
        // R23: a channel that sends the number gets it only once its release is recorded and
        // committed (this statement's own transaction), so that no rollback erases the read.
        if message.phone == nil, message.recipientKind == "person", stillDue, pending.contains(where: \.sendsPhone),
           try await releasePhone(message.id, context: context),
           let reloaded = try await load(subject.id, context: context) {
            (message, stillDue, settled) = reloaded
        }
        if !stillDue {
            for channel in pending {
                try await record(message.id, channel.name, HTTPExchange(status: nil, answer: "the service is no longer booked", latency: .zero),
                                 outcome: "obsolete", startedAt: now(), context: context)
            }
            return .completed
        }
        let clockNow = now()
        if message.recipientKind == "person", !message.urgent, let morning = quietHours.end(ifQuietAt: clockNow) {
            return .snooze(.milliseconds(Int64(morning.timeIntervalSince(clockNow) * 1000)))
        }
        let signer = Signer(database: context.database)
        var retrying: [String] = []
        var refused: [String] = []
        for channel in pending {
            let startedAt = Date()
            let exchange = await channel.deliver(message, signer: signer)
            let verdict = exchange.verdict
            try await record(message.id, channel.name, exchange, outcome: verdict.rawValue, startedAt: startedAt, context: context)
            let dimensions = [("channel", channel.name), ("outcome", verdict.rawValue)]
            Counter(label: "timebank_deliveries_total", dimensions: dimensions, factory: metricsFactory).increment()
            Timer(label: "timebank_delivery_seconds", dimensions: dimensions, factory: metricsFactory)
                .recordNanoseconds(exchange.latency.inNanoseconds)
            switch verdict {
            case .delivered: break
            case .retry: retrying.append("\(channel.name): \(exchange.status.map { "HTTP \($0)" } ?? exchange.answer)")
            case .failed: refused.append("\(channel.name): HTTP \(exchange.status ?? 0)")
            }
        }
        if !retrying.isEmpty {
            throw DeliveryRetry(reason: retrying.joined(separator: "; "))
        }
        if !refused.isEmpty {
            return .cancel(reason: "refused for good: " + refused.joined(separator: "; "))
        }
        return .completed
    }

    private func load(_ id: Int64, context: JobContext) async throws -> (OutgoingMessage, Bool, Set<String>)? {
        let rows = try await context.database.withConnection { connection in
            try await connection.query(
                """
                SELECT id, template, recipient_kind, person_id, agent_institution_id, params::text AS params, urgent,
                       created_at, phone, still_due, settled_channels
                  FROM bank.message_to_send($1) WHERE id IS NOT NULL
                """, [id])
        }
        guard let row = rows.first else { return nil }
        let template = try row.decode("template", as: String.self)
        let params = try JSONDecoder().decode([String: JSONValue].self, from: Data(try row.decode("params", as: String.self).utf8))
        let message = OutgoingMessage(
            id: id, template: template, recipientKind: try row.decode("recipient_kind", as: String.self),
            personID: try row.decode("person_id", as: Int64?.self), agentInstitutionID: try row.decode("agent_institution_id", as: Int64?.self),
            phone: try row.decode("phone", as: String?.self), params: params,
            text: try templates.render(template, params), urgent: try row.decode("urgent", as: Bool.self),
            createdAt: try row.decode("created_at", as: Date.self))
        return (message, try row.decode("still_due", as: Bool.self), Set(try row.decode("settled_channels", as: [String].self)))
    }

    private func releasePhone(_ id: Int64, context: JobContext) async throws -> Bool {
        try await context.database.withConnection { connection in
            try await connection.query("SELECT bank.release_phone($1) AS released", [id])[0].decode("released", as: Bool.self)
        }
    }

    private func record(_ message: Int64, _ channel: String, _ exchange: HTTPExchange, outcome: String, startedAt: Date,
                        context: JobContext) async throws {
        _ = try await context.database.withConnection { connection in
            try await connection.query(
                "SELECT bank.record_delivery_attempt($1, $2, $3, $4::integer, $5::integer, $6, $7, $8)",
                [message, channel, startedAt, exchange.latencyMilliseconds, exchange.status, outcome, exchange.answer, context.worker])
        }
    }
}

/// A delivery to try again: no answer, or the receiver failed (5xx).
public struct DeliveryRetry: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "not delivered yet: \(reason)" }
}
