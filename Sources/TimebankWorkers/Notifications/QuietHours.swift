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

    /// Operators' form: `22-7` (from 22:00 until 07:00, Beijing time), or
    /// `off` (none: every message is sent at once). Nil when malformed.
    public init?(setting text: String) {
        if text == "off" { self.init(start: 0, end: 0); return }
        let hours = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        guard hours.count == 2, let start = hours[0], let end = hours[1], (0...23).contains(start), (0...23).contains(end) else {
            return nil
        }
        self.init(start: start, end: end)
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
