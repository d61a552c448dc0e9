import Foundation
import Testing
import TimebankWorkers

/// Quiet hours with the clock given, never waited for.
@Suite struct QuietHoursTests {
    let quiet = QuietHours()

    /// A time in Beijing on 2026-11-24 (UTC+8, no daylight saving).
    func beijing(_ hour: Int, _ minute: Int = 0, dayOffset: Int = 0) -> Date {
        let midnight: TimeInterval = 1_795_449_600  // 2026-11-24T00:00+08:00
        let seconds: Int = dayOffset * 86_400 + hour * 3600 + minute * 60
        return Date(timeIntervalSince1970: midnight + TimeInterval(seconds))
    }

    @Test func theDayIsNotQuiet() {
        for hour in 7...21 { #expect(quiet.end(ifQuietAt: beijing(hour, 30)) == nil, "\(hour):30") }
        #expect(quiet.end(ifQuietAt: beijing(7)) == nil)
    }

    @Test func lateEveningWaitsForTheNextMorning() {
        #expect(quiet.end(ifQuietAt: beijing(22)) == beijing(7, dayOffset: 1))
        #expect(quiet.end(ifQuietAt: beijing(23, 59)) == beijing(7, dayOffset: 1))
    }

    @Test func earlyMorningWaitsForSevenTheSameDay() {
        #expect(quiet.end(ifQuietAt: beijing(0)) == beijing(7))
        #expect(quiet.end(ifQuietAt: beijing(6, 59)) == beijing(7))
    }

    /// Operators set them with --quiet-hours / TIMEBANK_QUIET_HOURS.
    @Test func theOperatorsSettingIsHoursOrOff() {
        #expect(QuietHours(setting: "22-7") == QuietHours())
        #expect(QuietHours(setting: "off")?.end(ifQuietAt: beijing(23)) == nil)
        #expect(QuietHours(setting: "21-8")?.end(ifQuietAt: beijing(21, 30)) != nil)
        for bad in ["", "22", "22-", "25-7", "a-b", "22-7-1"] { #expect(QuietHours(setting: bad) == nil, "\(bad)") }
    }
}
