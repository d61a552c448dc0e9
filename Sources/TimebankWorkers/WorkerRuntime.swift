import Foundation
import JobEngine

/// What the workers that talk to the world outside PostgreSQL need besides
/// the database: the notification channels and templates, the HTTP
/// transport, the clock (injected, so tests set the time of day), and
/// how long to wait between attempts. The defaults suit development.
public struct WorkerRuntime: Sendable {
    public var channels: ChannelConfiguration
    public var templates: NotificationTemplates
    public var transport: any HTTPTransport
    public var quietHours: QuietHours
    public var now: @Sendable () -> Date
    /// Between attempts to reach an unreachable insurer.
    public var claimRetry: Backoff
    /// Before a chunk of the registry export the registry did not accept is sent again.
    public var exportRetryAfter: Duration

    public init(
        channels: ChannelConfiguration = .file(at: ChannelConfiguration.developmentPath()),
        templates: NotificationTemplates? = nil,
        transport: any HTTPTransport = URLSessionTransport(),
        quietHours: QuietHours = QuietHours(),
        now: @escaping @Sendable () -> Date = { Date() },
        claimRetry: Backoff = Backoff(base: .seconds(10), maximum: .seconds(600)),
        exportRetryAfter: Duration = .seconds(300)
    ) throws {
        self.channels = channels
        self.templates = try templates ?? .bundled()
        self.transport = transport
        self.quietHours = quietHours
        self.now = now
        self.claimRetry = claimRetry
        self.exportRetryAfter = exportRetryAfter
    }
}
