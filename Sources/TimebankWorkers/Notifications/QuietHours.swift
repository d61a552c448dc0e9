import Foundation

/// Quiet hours (22:00-07:00 in Beijing, Asia/Shanghai): a non-urgent
/// message to a person waits until they end. A pure value, tested without
/// a clock: the worker passes it the time of its injected clock.
public struct QuietHours: Sendable, Equatable {
    /// Hours of the day in `timeZone`: quiet from `start` until `end`.
    public var start: Int
    public var end: Int
    public var timeZone: TimeZone

    public init(start: Int = 22, end: Int = 7, timeZone: TimeZone = TimeZone(identifier: "Asia/Shanghai")!) {
        self.start = start
        self.end = end
        self.timeZone = timeZone
    }

    /// When the quiet hours around `now` end, or nil if `now` is not in them.
    public func end(ifQuietAt now: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let hour = calendar.component(.hour, from: now)
        let quiet = start > end ? (hour >= start || hour < end) : (hour >= start && hour < end)
        guard quiet else { return nil }
        let today = calendar.startOfDay(for: now)
        let endToday = calendar.date(byAdding: .hour, value: end, to: today)!
        return endToday > now ? endToday : calendar.date(byAdding: .day, value: 1, to: endToday)!
    }
}
