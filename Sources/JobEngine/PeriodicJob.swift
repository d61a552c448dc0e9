import Foundation

/// A job run once per period (River's periodic jobs), declared by the
/// worker kind that runs it and enqueued by that worker's
/// ``PeriodicEnqueuer``, instead of a job that snoozes to keep itself going.
///
/// Each run carries a unique key named after its time, so however many
/// workers enqueue it, one job per period is unfinished at a time (the
/// partial unique index on `jobs.job (kind, unique_key)`). Each run is
/// enqueued ahead, scheduled for its time, so that it runs on time even if
/// no worker is up at that moment: whichever worker comes next takes it.
/// Periodic jobs must be idempotent (a run may repeat: see ``runOnStart``).
public struct PeriodicJob: Sendable {
    public var kind: String
    public var queue: String
    public var schedule: PeriodicSchedule
    /// Also enqueue the run of the period under way when the worker starts
    /// (unless it is still unfinished), so a first deployment, or one that
    /// was down at a run's time, does not wait a whole period. A run that
    /// already finished in that period then runs once more.
    public var runOnStart = true
    public var maxAttempts: Int32 = 20
    /// The unique key of the run at a time.
    public var key: @Sendable (Date) -> String
    /// The arguments of the run at a time: a JSON object.
    public var arguments: @Sendable (Date) -> String

    /// `key` defaults to `periodic:` and the run's time (UTC, ISO 8601).
    public init(
        kind: String, queue: String, schedule: PeriodicSchedule,
        key: (@Sendable (Date) -> String)? = nil, arguments: @escaping @Sendable (Date) -> String = { _ in "{}" }
    ) {
        self.kind = kind
        self.queue = queue
        self.schedule = schedule
        self.key = key ?? { "periodic:" + $0.formatted(.iso8601) }
        self.arguments = arguments
    }
}

/// When a ``PeriodicJob`` runs.
public enum PeriodicSchedule: Sendable, Equatable {
    /// Every `interval`, at its multiples since 1970 (UTC), so that every
    /// worker names the same period alike.
    case every(Duration)
    /// Every so many seconds as an SQL expression says, read each time the
    /// runs are enqueued: a setting operators change while workers run
    /// (`bank.setting('alert_scan_minutes') * 60`).
    case everySeconds(sql: String)
    /// Each day at `hour:minute` in `timeZone`.
    case daily(hour: Int, minute: Int, timeZone: TimeZone)

    /// The last run at or before `date` and the next one after it; nil for
    /// ``everySeconds(sql:)``, which the database must resolve first.
    public func runs(around date: Date) -> (last: Date, next: Date)? {
        switch self {
        case .every(let interval):
            let seconds = max(interval.inSeconds, 0.001)
            let last = Date(timeIntervalSince1970: (date.timeIntervalSince1970 / seconds).rounded(.down) * seconds)
            return (last, last.addingTimeInterval(seconds))
        case .everySeconds:
            return nil
        case .daily(let hour, let minute, let timeZone):
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = timeZone
            let today = calendar.date(bySettingHour: hour, minute: minute, second: 0, of: date)!
            let last = today <= date ? today : calendar.date(byAdding: .day, value: -1, to: today)!
            return (last, calendar.date(byAdding: .day, value: 1, to: last)!)
        }
    }
}
