import ArgumentParser
import Foundation

/// The flags of the workers that reach the world outside PostgreSQL (the
/// notification and insurance-claim workers).
public struct OutsideWorldOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The notification channels and which recipients each serves, a JSON file (README: \"Notifications\"). Default: $TIMEBANK_CHANNELS, else every message to $TIMEBANK_HOME/notifications.jsonl (development).",
        valueName: "file"))
    public var channels: String?

    @Option(help: ArgumentHelp("A directory of message templates (<name>.txt) replacing the bundled ones.", valueName: "directory"))
    public var templates: String?

    @Option(help: ArgumentHelp(
        "When non-urgent messages to persons wait, in Beijing time: START-END hours (default 22-7), or off. Default: $TIMEBANK_QUIET_HOURS.",
        valueName: "hours"))
    public var quietHours: String?

    public init() {}

    /// The runtime these flags describe, checked before the worker starts.
    public func runtime(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> WorkerRuntime {
        let transport = URLSessionTransport()
        var configuration = ChannelConfiguration.file(at: ChannelConfiguration.developmentPath(environment: environment))
        if let path = channels ?? environment["TIMEBANK_CHANNELS"], !path.isEmpty {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("--channels: cannot read \(path)")
            }
            configuration = try ChannelConfiguration.parse(data, environment: environment, transport: transport)
        }
        let bundled = try templates.map { try NotificationTemplates(directory: URL(fileURLWithPath: $0)) }
        var quiet = QuietHours()
        if let text = quietHours ?? environment["TIMEBANK_QUIET_HOURS"], !text.isEmpty {
            guard let parsed = QuietHours(setting: text) else {
                throw ValidationError("--quiet-hours / TIMEBANK_QUIET_HOURS: \(text) is not START-END hours (0-23) or off")
            }
            quiet = parsed
        }
        return try WorkerRuntime(channels: configuration, templates: bundled, transport: transport, quietHours: quiet)
    }
}
