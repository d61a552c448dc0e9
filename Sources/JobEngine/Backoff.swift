import Foundation

/// How long a failed job waits before its next attempt: exponential in the
/// attempt, capped, with jitter so that jobs failing together (a down
/// dependency) do not all return at the same instant.
public struct Backoff: Sendable, Equatable {
    public var base: Duration
    public var maximum: Duration
    /// Up to this fraction is added or removed at random.
    public var jitter: Double

    public init(base: Duration = .seconds(1), maximum: Duration = .seconds(3600), jitter: Double = 0.2) {
        self.base = base
        self.maximum = maximum
        self.jitter = jitter
    }

    /// The delay after `attempt` failed (attempt 1 waits about `base`).
    public func delay(afterAttempt attempt: Int, random: Double = Double.random(in: -1...1)) -> Duration {
        let exponent = Double(min(max(attempt - 1, 0), 40))
        let seconds = min(base.inSeconds * pow(2, exponent), maximum.inSeconds)
        return .milliseconds(Int64((seconds * (1 + jitter * random)) * 1000))
    }
}

extension Duration {
    /// The duration in (fractional) seconds.
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }

    /// The duration in whole nanoseconds (what swift-metrics' timers record).
    public var inNanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
