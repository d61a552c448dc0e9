import Foundation
import PostgresClient

/// Issue 17: what the insurer's status callback is answered
/// (docs/insurer-api.yaml, `POST /timebank/claims/status`), decided from
/// the database's outcome alone. A pure value, tested without a server.
public struct CallbackReply: Equatable, Sendable {
    public var status: Int
    public var body: Answer
    /// Besides Content-Type: `Retry-After` for 429 and 503, `Connection: close` for 413.
    public var headers: [String: String] = [:]

    /// The JSON body of every answer (`CallbackAnswer` in the spec).
    public struct Answer: Codable, Equatable, Sendable {
        public var state: String?
        public var duplicate: Bool?
        public var error: String?
        public var field: String?
        public var rule: String?
        public var message: String?
    }

    /// 200: applied, or an event seen before (`duplicate`: nothing changed).
    public static func applied(state: String, duplicate: Bool) -> CallbackReply {
        CallbackReply(status: 200, body: Answer(state: state, duplicate: duplicate))
    }

    /// 401, the same bytes whatever was wrong (an unknown insurer, a wrong
    /// secret, a signature missing or in another form): nothing to probe.
    public static let unauthenticated = CallbackReply(status: 401, body: Answer(
        error: "signature", field: "X-Timebank-Signature", rule: "R26",
        message: "the signature is not sha256= and the body's HMAC-SHA256 under the insurer's shared secret"))

    /// 413: the body is over `limit` bytes; it was not read.
    public static func tooLarge(limit: Int) -> CallbackReply {
        CallbackReply(status: 413, body: Answer(error: "too_large", field: "body", rule: "R26",
                                                message: "a callback body is at most \(limit) bytes"),
                      headers: ["Connection": "close"])
    }

    /// 429: this insurer's callbacks are over their rate.
    public static func limited(retryAfter: Int) -> CallbackReply {
        CallbackReply(status: 429, body: Answer(error: "rate_limited", message: "too many callbacks from this insurer: try again later"),
                      headers: ["Retry-After": "\(retryAfter)"])
    }

    /// 422: refused for what the body says; nothing changed.
    public static func refused(field: String, rule: String?, message: String) -> CallbackReply {
        CallbackReply(status: 422, body: Answer(error: "refused", field: field, rule: rule, message: message))
    }

    /// 503: the database is away (restarting, failing over) or busy; the
    /// insurer sends the same callback again later (its event id makes that safe).
    public static let unavailable = CallbackReply(status: 503, body: Answer(
        error: "unavailable", message: "the time bank cannot take callbacks just now: send it again later"),
        headers: ["Retry-After": "5"])

    /// 500: what none of the above explains (a bug of ours: logged).
    public static let internalError = CallbackReply(status: 500, body: Answer(
        error: "internal", message: "the time bank could not apply the callback; nothing changed"))

    /// The answer to a call of `bank.insurer_callback` that failed with `error`.
    public static func failed(_ error: Error) -> CallbackReply {
        guard let error = error as? PostgresError else { return .internalError }
        switch error.kind {
        case .connect, .connectionLost, .cancelled: return .unavailable
        default: break
        }
        guard let code = error.code?.rawValue else { return .internalError }
        switch code {
        case "28000": return .unauthenticated
        case "22023":
            // bank.refuse: "R26: ...", detail "field: <name>".
            let field = error.detail.flatMap { $0.hasPrefix("field: ") ? String($0.dropFirst(7)) : nil } ?? "body"
            let rule = error.message.prefix { $0 != ":" }
            let isRule = rule.first == "R" && rule.dropFirst().allSatisfy(\.isNumber) && rule.count > 1
            return .refused(field: field, rule: isRule ? String(rule) : nil,
                            message: isRule ? String(error.message.dropFirst(rule.count + 1).drop { $0 == " " }) : error.message)
        case let code where code.hasPrefix("22"):
            // A value the function could not hold (its own checks come first): the body's fault, not named further.
            return .refused(field: "body", rule: "R26", message: "the callback body holds a value of the wrong type or out of range")
        case "57014", "55P03", "40001", "40P01", "53300", "57P01", "57P02", "57P03":
            return .unavailable  // statement or lock timeout, a conflict, too many clients, a server going away
        default:
            return .internalError
        }
    }

    /// The status line's reason phrase.
    public var phrase: String {
        [200: "OK", 401: "Unauthorized", 405: "Method Not Allowed", 413: "Content Too Large", 422: "Unprocessable Content",
         429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"][status] ?? "Status"
    }

    /// The body's bytes.
    public var json: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(body)) ?? Data("{}".utf8)
    }
}
