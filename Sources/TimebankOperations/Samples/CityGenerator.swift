import PostgresClient

/// A city's history, in bulk (issue 18, item 4): people, grants, services
/// with their requests, events, holds and settlements, gifts and
/// donations, the outbox with its delivery attempts, milestones, and the
/// finished jobs still within the job engine's retention, spread over
/// `months` months ending at the start of today (Beijing). For the city
/// benchmark (`city-bench generate`) and its test; it writes what the
/// workers would have written for that history, at set-based speed.
///
/// How: one transaction per month of services, each a handful of
/// `INSERT ... SELECT generate_series` statements whose ids are taken
/// from the tables' own sequences first (so that a request can name its
/// transfer, and a service its hold, without updating either), under
/// `session_replication_role = replica`, which turns off every trigger,
/// foreign keys' included, for the session. What those triggers would
/// have written, with the history's own times rather than now(), the
/// generator writes itself:
///   - transfer_applied (L4, L7, L8, L10): every account's totals and
///     earned minutes are set once at the end from all its transfers
///     (what the trigger sums statement by statement), and the milestones
///     (R12, R13) at the credit that crossed each threshold;
///   - service_state_recorded (R5): every status a service went through, with its request;
///   - the outbox's triggers: each message the events owe, and one
///     delivery attempt for each (delivered on the SMS channel);
///   - request_immutable / transfer_immutable guard updates and deletes:
///     nothing here updates or deletes;
///   - foreign keys: every id written is one the same run just inserted
///     (or a reference row: districts, categories, the system accounts);
///   - the supervision scan's triggers (R21: a scan job after gifts,
///     bookings and check-outs) and notify.dispatch's job per statement:
///     not written, but only their finished jobs, which the job engine
///     prunes after its retention (7 days of finished jobs are written).
/// Not written: staff acts of the reviews, ratings, claims, alerts.
/// `timebank ledger verify` checks the outcome (CityGeneratorTests).
/// Needs a superuser session (session_replication_role).
public enum CityGenerator {
    public struct Scale: Sendable {
        public var months: Int
        public var services: Int
        /// About 100 services per elder and 200 per volunteer over the history.
        public var elders: Int { max(20, services / 100) }
        public var volunteers: Int {
            // R20: a volunteer's services are spread at least 4 hours apart (each lasts at most 2).
            let hours = max(1, months) * 30 * 24
            return max(20, services / 200, (services * 4 + hours - 1) / hours)
        }
        public init(months: Int, services: Int) {
            self.months = months
            self.services = services
        }
    }

    /// How many rows of each kind a run wrote (the test checks them against the scale).
    public struct Counts: Sendable, Equatable {
        public var services = 0, transfers = 0, events = 0, messages = 0, attempts = 0, jobs = 0, people = 0
        public init() {}
    }

    /// Fills an empty migrated database; `progress` hears of each month done.
    public static func generate(
        _ connection: PostgresConnection, _ scale: Scale, progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> Counts {
        // A bulk load's session: few commits, each large; sorts and hashes in memory.
        try await connection.executeScript("SET synchronous_commit = off; SET work_mem = '256MB'; SET maintenance_work_mem = '512MB'")
        // Its months in partitions of their own (issue 18), from its first month, as a city's own history would be.
        _ = try await connection.query("""
            SELECT (SELECT count(*) FROM bank.start_monthly_partitions_at(bank.month_start(now(), -$1::int))) AS moved,
                   (SELECT count(*) FROM bank.maintain_monthly_partitions(now())) AS made
            """, [scale.months])
        try await connection.transaction { connection in
            _ = try connection.query("SET LOCAL session_replication_role = replica")
            _ = try connection.query(CitySQL.parameters, [scale.months, scale.services, scale.elders, scale.volunteers])
            for statement in CitySQL.people { _ = try connection.query(statement) }
        }
        for month in 0..<scale.months {
            let low = scale.services * month / scale.months, high = scale.services * (month + 1) / scale.months
            try await connection.transaction { connection in
                _ = try connection.query("SET LOCAL session_replication_role = replica")
                _ = try connection.query(CitySQL.grants, [month])
                _ = try connection.query(CitySQL.plan, [low, high])
                for statement in CitySQL.services { _ = try connection.query(statement) }
                if month > 0 { for statement in CitySQL.gifts { _ = try connection.query(statement, [month]) } }
            }
            progress(month + 1, scale.months)
        }
        try await connection.transaction { connection in
            _ = try connection.query("SET LOCAL session_replication_role = replica")
            for statement in CitySQL.finish { _ = try connection.query(statement) }
        }
        try await connection.executeScript("DROP TABLE city_params, city_district, city_category, city_person; ANALYZE")
        return try await counts(connection)
    }

    public static func counts(_ connection: PostgresConnection) async throws -> Counts {
        let row = try await connection.query("""
            SELECT (SELECT count(*) FROM bank.service) AS services, (SELECT count(*) FROM bank.transfer) AS transfers,
                   (SELECT count(*) FROM bank.service_event) AS events, (SELECT count(*) FROM bank.message) AS messages,
                   (SELECT count(*) FROM bank.delivery_attempt) AS attempts, (SELECT count(*) FROM jobs.job) AS jobs,
                   (SELECT count(*) FROM bank.person) AS people
            """)[0]
        var counts = Counts()
        counts.services = try row.decode("services")
        counts.transfers = try row.decode("transfers")
        counts.events = try row.decode("events")
        counts.messages = try row.decode("messages")
        counts.attempts = try row.decode("attempts")
        counts.jobs = try row.decode("jobs")
        counts.people = try row.decode("people")
        return counts
    }
}
