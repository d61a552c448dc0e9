/// Issue 17: at most `rate` callbacks a second per insurer, with bursts of
/// up to `burst` (a token bucket per key). A pure value, tested without a
/// clock: the caller passes the time.
///
/// The keys are what an unauthenticated request claims to be (the
/// `X-Timebank-Insurer` header), so their number is bounded: a bucket that
/// has refilled is the same as no bucket and is dropped first; beyond
/// `maximumKeys` the newcomers share one bucket, and a flood of invented
/// codes slows only the invented codes.
public struct RateLimiter: Sendable {
    public let rate: Double
    public let burst: Double
    public let maximumKeys: Int
    private var buckets: [String: Bucket] = [:]
    private var overflow: Bucket

    struct Bucket: Sendable {
        var tokens: Double
        var at: Double
    }

    public enum Decision: Equatable, Sendable {
        case admitted
        /// Seconds until one more would be admitted (at least 1: Retry-After is whole seconds).
        case limited(retryAfter: Int)
    }

    public init(rate: Double, burst: Int, maximumKeys: Int = 1_000) {
        precondition(rate > 0 && burst >= 1 && maximumKeys >= 1, "a limit admits something")
        self.rate = rate
        self.burst = Double(burst)
        self.maximumKeys = maximumKeys
        overflow = Bucket(tokens: Double(burst), at: 0)
    }

    /// How many keys have a bucket of their own (at most `maximumKeys`).
    public var keys: Int { buckets.count }

    /// Takes one token from `key`'s bucket at `now` (seconds, any origin, never decreasing).
    public mutating func admit(_ key: String, now: Double) -> Decision {
        if buckets[key] == nil && buckets.count >= maximumKeys {
            buckets = buckets.filter { refilled($0.value, now: now).tokens < burst }
        }
        guard buckets[key] != nil || buckets.count < maximumKeys else { return take(&overflow, now: now) }
        var bucket = buckets[key] ?? Bucket(tokens: burst, at: now)
        let decision = take(&bucket, now: now)
        buckets[key] = bucket
        return decision
    }

    private func refilled(_ bucket: Bucket, now: Double) -> Bucket {
        Bucket(tokens: min(burst, bucket.tokens + max(0, now - bucket.at) * rate), at: max(now, bucket.at))
    }

    private func take(_ bucket: inout Bucket, now: Double) -> Decision {
        bucket = refilled(bucket, now: now)
        guard bucket.tokens >= 1 else {
            return .limited(retryAfter: max(1, Int(((1 - bucket.tokens) / rate).rounded(.up))))
        }
        bucket.tokens -= 1
        return .admitted
    }
}
