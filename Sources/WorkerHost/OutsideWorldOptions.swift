import ArgumentParser
import Foundation
import TimebankWorkers

/// The flags of the workers that reach the world outside PostgreSQL (the
/// notification and insurance-claim workers).
public struct OutsideWorldOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The notification channels and which recipients each serves, a JSON file (README: \"Notifications\"). Default: $TIMEBANK_CHANNELS, else every message to $TIMEBANK_HOME/notifications.jsonl (development).",
        valueName: "file"))
    public var channels: String?

    @Option(help: ArgumentHelp("A directory of message templates (<name>.txt) replacing the bundled ones.", valueName: "directory"))
    public var templates: String?

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
        return try WorkerRuntime(channels: configuration, templates: bundled, transport: transport)
    }
}
