import Foundation

/// The bank's days are Beijing's (`bank.local_today()`): what the daily
/// jobs key their runs by, and the day the registry export sends.
enum BeijingDay {
    static let timeZone = TimeZone(identifier: "Asia/Shanghai")!

    /// The Beijing day of `time`, moved by `days`, as YYYY-MM-DD.
    static func of(_ time: Date, movedBy days: Int = 0) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let day = calendar.dateComponents([.year, .month, .day], from: calendar.date(byAdding: .day, value: days, to: time)!)
        return String(format: "%04d-%02d-%02d", day.year!, day.month!, day.day!)
    }
}
