import Foundation
import TimebankDatabase

/// Which channels serve which kind of recipient, read from a JSON file
/// (`--channels`, or `TIMEBANK_CHANNELS`) and validated before the worker
/// starts: a mistake is named by its field, never found at the first
/// message. Secrets are not in the file: it names the environment variable
/// that holds each one.
///
///     {
///       "channels": {
///         "sms":  {"type": "webhook", "url": "https://sms.example/hook",
///                  "secretEnvironment": "TIMEBANK_SMS_SECRET", "timeoutMilliseconds": 5000, "sendsPhone": true},
///         "desk": {"type": "webhook", "url": "https://desk.example/hook", "secretEnvironment": "TIMEBANK_DESK_SECRET"},
///         "log":  {"type": "file", "path": "/var/log/timebank/notifications.jsonl"}
///       },
///       "routes": {"person": ["sms"], "agent_institution": ["desk"], "supervisors": ["log"]}
///     }
public struct ChannelConfiguration: Sendable {
    /// The recipient kinds of `bank.message`.
    public static let recipientKinds = ["person", "agent_institution", "supervisors"]

    public var routes: [String: [any NotificationChannel]]

    public init(routes: [String: [any NotificationChannel]]) { self.routes = routes }

    /// Development: every kind of recipient to one JSON-lines file.
    public static func file(at path: String) -> ChannelConfiguration {
        let channel = FileChannel(name: "file", path: path)
        return ChannelConfiguration(routes: Dictionary(uniqueKeysWithValues: recipientKinds.map { ($0, [channel]) }))
    }

    /// Where development messages go when nothing is configured:
    /// `notifications.jsonl` beside the local cluster (`$TIMEBANK_HOME`, else
    /// the checkout's `.timebank/`).
    public static func developmentPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        TimebankHome.directory(environment: environment).appendingPathComponent("notifications.jsonl").path
    }

    struct File: Decodable {
        var channels: [String: Channel]
        var routes: [String: [String]]
    }

    struct Channel: Decodable {
        var type: String
        var url: String?
        var secretEnvironment: String?
        var timeoutMilliseconds: Int?
        var sendsPhone: Bool?
        var path: String?
    }

    /// Reads and checks a configuration file's JSON.
    public static func parse(
        _ json: Data, environment: [String: String] = ProcessInfo.processInfo.environment,
        transport: any HTTPTransport = URLSessionTransport()
    ) throws -> ChannelConfiguration {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: json)
        } catch DecodingError.keyNotFound(let key, let context) {
            throw ChannelConfigurationError(field: (context.codingPath + [key]).map(\.stringValue).joined(separator: "."), message: "is missing")
        } catch DecodingError.typeMismatch(_, let context) {
            throw ChannelConfigurationError(field: context.codingPath.map(\.stringValue).joined(separator: "."), message: context.debugDescription)
        } catch {
            throw ChannelConfigurationError(field: "(file)", message: "is not a channel configuration: \(error)")
        }
        var channels: [String: any NotificationChannel] = [:]
        for (name, spec) in file.channels.sorted(by: { $0.key < $1.key }) {
            let field = "channels.\(name)"
            guard name.range(of: "^[a-z][a-z0-9_-]{0,39}$", options: .regularExpression) != nil else {
                throw ChannelConfigurationError(field: field, message: "a channel's name is 1 to 40 lowercase letters, digits, - or _")
            }
            switch spec.type {
            case "webhook":
                guard let text = spec.url, let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                    throw ChannelConfigurationError(field: "\(field).url", message: "a webhook needs an http or https URL")
                }
                guard let variable = spec.secretEnvironment else {
                    throw ChannelConfigurationError(field: "\(field).secretEnvironment", message: "names the environment variable holding the signing secret")
                }
                guard let secret = environment[variable], secret.count >= 16 else {
                    throw ChannelConfigurationError(field: "\(field).secretEnvironment",
                                                    message: "the environment variable \(variable) must hold a secret of at least 16 characters")
                }
                let milliseconds = spec.timeoutMilliseconds ?? 5000
                guard (100...120_000).contains(milliseconds) else {
                    throw ChannelConfigurationError(field: "\(field).timeoutMilliseconds", message: "is between 100 and 120000")
                }
                channels[name] = WebhookChannel(name: name, url: url, secret: secret, timeout: .milliseconds(milliseconds),
                                                sendsPhone: spec.sendsPhone ?? false, transport: transport)
            case "file":
                guard let path = spec.path, !path.isEmpty else {
                    throw ChannelConfigurationError(field: "\(field).path", message: "a file channel names its file")
                }
                channels[name] = FileChannel(name: name, path: path)
            default:
                throw ChannelConfigurationError(field: "\(field).type", message: "is webhook or file")
            }
        }
        var routes: [String: [any NotificationChannel]] = [:]
        for kind in recipientKinds {
            guard let names = file.routes[kind], !names.isEmpty else {
                throw ChannelConfigurationError(field: "routes.\(kind)", message: "every kind of recipient needs at least one channel")
            }
            routes[kind] = try names.map { name in
                guard let channel = channels[name] else {
                    throw ChannelConfigurationError(field: "routes.\(kind)", message: "names no configured channel: \(name)")
                }
                return channel
            }
        }
        if let unknown = Set(file.routes.keys).subtracting(recipientKinds).sorted().first {
            throw ChannelConfigurationError(field: "routes.\(unknown)", message: "is not a kind of recipient (\(recipientKinds.joined(separator: ", ")))")
        }
        return ChannelConfiguration(routes: routes)
    }
}

/// A configuration mistake, naming the field.
public struct ChannelConfigurationError: Error, CustomStringConvertible, Equatable {
    public var field: String
    public var message: String
    public var description: String { "channel configuration: \(field) \(message)" }
}
