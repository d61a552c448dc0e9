import Foundation

/// Failed log-ins per client address, in memory: the database locks an
/// account after 5 failures (bank.console_log_in), this stops one address
/// from trying many logins (20 failures in 15 minutes, then it waits).
actor LogInThrottle {
    private let limit: Int
    private let window: TimeInterval
    private var failures: [String: [Date]] = [:]

    init(limit: Int = 20, window: TimeInterval = 15 * 60) {
        self.limit = limit
        self.window = window
    }

    func isBlocked(_ address: String, now: Date = Date()) -> Bool {
        prune(address, now: now)
        return (failures[address]?.count ?? 0) >= limit
    }

    func recordFailure(_ address: String, now: Date = Date()) {
        prune(address, now: now)
        failures[address, default: []].append(now)
        // Bounded memory whatever the traffic: forget the quietest addresses first.
        if failures.count > 10_000, let quietest = failures.min(by: { ($0.value.last ?? .distantPast) < ($1.value.last ?? .distantPast) })?.key {
            failures[quietest] = nil
        }
    }

    func recordSuccess(_ address: String) { failures[address] = nil }

    private func prune(_ address: String, now: Date) {
        guard let times = failures[address] else { return }
        let recent = times.filter { now.timeIntervalSince($0) < window }
        failures[address] = recent.isEmpty ? nil : recent
    }
}
