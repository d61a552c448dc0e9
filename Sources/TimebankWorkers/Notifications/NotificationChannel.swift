import Foundation

/// A way to reach a recipient: a webhook standing for the SMS gateway, the
/// mini-program's subscription messages or an agent institution's desk,
/// or a file for development. The worker's configuration says which
/// channels serve which kind of recipient (``ChannelConfiguration``).
public protocol NotificationChannel: Sendable {
    /// The configured name, recorded with every attempt (`sms`, `desk`...).
    var name: String { get }
    /// Whether it sends the recipient's phone number (an SMS gateway): the
    /// number is then released for the message first (R23, bank.release_phone).
    var sendsPhone: Bool { get }
    /// Sends one message once. Never throws: what happened is the report,
    /// which the worker records and acts on.
    func deliver(_ message: OutgoingMessage, signer: Signer) async -> HTTPExchange
}

extension NotificationChannel {
    public var sendsPhone: Bool { false }
}

/// A message as it leaves: what the outbox row says, rendered.
public struct OutgoingMessage: Sendable {
    public var id: Int64
    public var template: String
    public var recipientKind: String
    public var personID: Int64?
    public var agentInstitutionID: Int64?
    /// Only for a person reached directly, and only sent on channels that
    /// need it to reach them (R23).
    public var phone: String?
    public var params: [String: JSONValue]
    public var text: String
    public var urgent: Bool
    public var createdAt: Date

    /// What the receiver deduplicates on: the same for every attempt of
    /// this message on this channel, across workers and restarts.
    public func idempotencyKey(channel: String) -> String { "message-\(id)-\(channel)" }

    /// The JSON body a channel sends (docs/notification-webhook.md).
    public func payload(channel: String, includePhone: Bool) -> Data {
        var recipient: [String: JSONValue] = ["kind": .string(recipientKind)]
        switch recipientKind {
        case "person":
            recipient["person_id"] = personID.map { .number(Double($0)) }
            if includePhone, let phone { recipient["phone"] = .string(phone) }
        case "agent_institution":
            recipient["agent_institution_id"] = agentInstitutionID.map { .number(Double($0)) }
            recipient["on_behalf_of_person_id"] = personID.map { .number(Double($0)) }
        default: break
        }
        let body: [String: JSONValue] = [
            "message_id": .number(Double(id)),
            "idempotency_key": .string(idempotencyKey(channel: channel)),
            "template": .string(template),
            "recipient": .object(recipient),
            "text": .string(text),
            "params": .object(params),
            "urgent": .bool(urgent),
            "created_at": .string(ISO8601DateFormatter().string(from: createdAt)),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(JSONValue.object(body))) ?? Data()
    }
}

/// A JSON value as the outbox's params hold it.
public enum JSONValue: Codable, Sendable, Equatable {
    case string(String), number(Double), bool(Bool), object([String: JSONValue]), array([JSONValue]), null

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value):
            if value == value.rounded(), abs(value) < 1e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .bool(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    /// As it reads in a message's text.
    public var text: String {
        switch self {
        case .string(let value): return value
        case .number(let value):
            return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .bool(let value): return value ? "true" : "false"
        case .null: return ""
        case .object, .array:
            return (try? String(decoding: JSONEncoder().encode(self), as: UTF8.self)) ?? ""
        }
    }
}
