import Foundation
import PostgresClient
import TestSupport
import Testing
import TimebankDatabase
import TimebankOperations
import TimebankWorkers

/// Issue 18, item 4: the append-only history in monthly partitions
/// (sql/migrations/0034, sql/functions/bank/partitions.sql), first the
/// service events: each row in its month's partition, months created ahead,
/// rows without a month moved in when it is made, expired months dropped,
/// existing rows kept by the conversion; maintained by the settlement
/// worker alone, and no application login changes a partition.
extension BankSuites {
    @Suite struct MonthlyPartitionTests {
        /// The partition a service event of `at` is in.
        static func partitionOf(_ bank: Bank, eventAt at: String) async throws -> String {
            try await bank.owner.query("""
                SELECT tableoid::regclass::text AS p FROM bank.service_event WHERE at = $1::timestamptz
                """, [at])[0].decode("p", as: String.self)
        }

        /// Inserts a service event of `at` for `service`, as the bank's trigger does.
        static func event(_ bank: Bank, service: Int64, at: String) async throws {
            try await bank.owner.execute("INSERT INTO bank.service_event (service_id, status, at) VALUES ($1, 'published', $2::timestamptz)",
                                         [service, at])
        }

        static func anyService(_ bank: Bank) async throws -> Int64 {
            let elder = try await bank.registerElder(1, coins: 10)
            return try await bank.publishedService(elder: elder, minutes: 60)
        }

        @Test func eachEventLandsInItsMonthAndAMonthWithoutAPartitionIsMovedInWhenItIsMade() async throws {
            try await Bank.with { bank in
                let service = try await Self.anyService(bank)
                // Migrated this month: the history holds every time up to the first of next month (Beijing).
                let from = try await bank.owner.query("""
                    SELECT monthly_from = bank.month_start(now(), 1) AS ok, to_char(monthly_from AT TIME ZONE 'Asia/Shanghai', 'YYYY"m"MM') AS first
                      FROM bank.monthly_partitioned_table WHERE table_name = 'bank.service_event'
                    """)[0]
                #expect(try from.decode("ok", as: Bool.self))
                #expect(try await bank.owner.query("SELECT relkind::text AS k FROM pg_class WHERE oid = 'bank.service_event'::regclass")[0]
                    .decode("k", as: String.self) == "p")
                #expect(try await bank.count("bank.service_event_history WHERE service_id = $1", [service]) >= 2)

                let created = try await bank.owner.query("""
                    SELECT partition_name, action FROM bank.maintain_monthly_partitions(now()) WHERE table_name = 'bank.service_event'
                    """)
                #expect(created.count == 3, "months ahead of this one: \(created.count)")
                #expect(try created.allSatisfy { try $0.decode("action", as: String.self) == "created" })
                #expect(try await bank.owner.query("SELECT * FROM bank.maintain_monthly_partitions(now())").isEmpty, "idempotent")
                // Owned by the owner like every table, readable by no application role directly.
                #expect(try await bank.owner.query("""
                    SELECT bool_and(c.relowner = 'timebank_owner'::regrole) AND bool_and(c.relacl IS NULL) AS ok
                      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                     WHERE i.inhparent = 'bank.service_event'::regclass AND c.relname ~ '_y[0-9]{4}m[0-9]{2}$'
                    """)[0].decode("ok", as: Bool.self))

                // Next month's event in next month's partition; one two years on, in the DEFAULT partition.
                let nextMonth = try await bank.owner.query("SELECT (bank.month_start(now(), 1) + interval '5 days')::text AS t")[0].decode("t", as: String.self)
                let later = try await bank.owner.query("SELECT (bank.month_start(now(), 24) + interval '3 days')::text AS t")[0].decode("t", as: String.self)
                try await Self.event(bank, service: service, at: nextMonth)
                try await Self.event(bank, service: service, at: later)
                let first = try from.decode("first", as: String.self)
                #expect(try await Self.partitionOf(bank, eventAt: nextMonth) == "bank.service_event_y\(first)")
                #expect(try await Self.partitionOf(bank, eventAt: later) == "bank.service_event_unplanned")
                let before = try await bank.count("bank.service_event")

                // Its month made (the job run two years on): the row moved in, nothing lost or doubled.
                let made = try await bank.owner.query("""
                    SELECT partition_name, moved_rows FROM bank.maintain_monthly_partitions(bank.month_start(now(), 24))
                     WHERE table_name = 'bank.service_event'
                    """)
                #expect(try made.map { try $0.decode("moved_rows", as: Int64.self) }.reduce(0, +) == 1)
                #expect(try await Self.partitionOf(bank, eventAt: later).hasPrefix("bank.service_event_y"))
                #expect(try await bank.count("bank.service_event") == before)
                #expect(try await bank.count("bank.service_event_unplanned") == 0)
                // The service's history reads across them all (R5), in order.
                let history = try await bank.client.query("SELECT status FROM api.service_history($1)", [service])
                #expect(try await history.count == bank.count("bank.service_event WHERE service_id = $1", [service]) && history.count >= 4)
            }
        }

        @Test func monthsPastTheRetentionAreDroppedWholeAndTheRestKept() async throws {
            try await Bank.with(workers: false) { bank in
                _ = try await bank.owner.query("SELECT * FROM bank.maintain_monthly_partitions(now())")
                // A service to hang events on, without the workers: the owner's rows, triggers off.
                try await bank.owner.execute("SET session_replication_role = replica")
                for months in [1, 2, 3] {
                    try await Self.event(bank, service: 1, at: try await bank.owner.query(
                        "SELECT (bank.month_start(now(), \(months)) + interval '1 day')::text AS t")[0].decode("t", as: String.self))
                }
                try await bank.owner.execute("SET session_replication_role = DEFAULT")
                // Keep one whole month before the current one; run as of three months on.
                try await bank.owner.execute("UPDATE bank.monthly_partitioned_table SET retain_months = 1 WHERE table_name = 'bank.service_event'")
                let done = try await bank.owner.query("""
                    SELECT partition_name, action FROM bank.maintain_monthly_partitions(bank.month_start(now(), 3))
                    """)
                let dropped = try done.filter { try $0.decode("action", as: String.self) == "dropped" }
                    .map { try $0.decode("partition_name", as: String.self) }
                // The history (up to next month) and next month's partition ended before month 2 began.
                #expect(dropped.count == 2 && dropped.contains("bank.service_event_history"), "\(dropped)")
                #expect(try await bank.count("bank.service_event") == 2, "months 2 and 3 kept")
                #expect(try await bank.count("pg_class WHERE relname = 'service_event_unplanned'") == 1, "the DEFAULT partition is never dropped")
            }
        }

        /// A message and its attempts are in its month's partitions (0035), move
        /// together out of the DEFAULT partitions when the month is made, and are
        /// dropped together once older than the outbox's 13 months; a second
        /// success on a channel is still recorded once.
        @Test func aMessageAndItsAttemptsShareTheirMonthMoveTogetherAndExpireTogether() async throws {
            try await Bank.with(workers: false) { bank in
                _ = try await bank.owner.query("SELECT * FROM bank.maintain_monthly_partitions(now())")
                // A message (to the supervisors: no person needed) now, and one two years on.
                func message(at: String) async throws -> Int64 {
                    try await bank.owner.query("""
                        INSERT INTO bank.message (template, recipient_kind, created_at, deliver_after)
                        VALUES ('alert_raised', 'supervisors', $1::timestamptz, $1::timestamptz) RETURNING id
                        """, [at])[0].decode("id", as: Int64.self)
                }
                func attempt(_ id: Int64, _ outcome: String) async throws {
                    try await bank.owner.execute("SELECT bank.record_delivery_attempt($1, 'desk', now(), 5, 200, $2, 'ok', 'test')", [id, outcome])
                }
                func partitions(_ id: Int64) async throws -> [String] {
                    let row = try await bank.owner.query("""
                        SELECT (SELECT tableoid::regclass::text FROM bank.message WHERE id = $1) AS m,
                               (SELECT string_agg(DISTINCT tableoid::regclass::text, ',') FROM bank.delivery_attempt WHERE message_id = $1) AS a
                        """, [id])[0]
                    return [try row.decode("m", as: String.self), try row.decode("a", as: String.self)]
                }
                let now = try await bank.owner.query("SELECT now()::text AS t")[0].decode("t", as: String.self)
                let later = try await bank.owner.query("SELECT (bank.month_start(now(), 24) + interval '2 days')::text AS t")[0].decode("t", as: String.self)
                let current = try await message(at: now), future = try await message(at: later)
                for id in [current, future] {
                    try await attempt(id, "retry")
                    try await attempt(id, "delivered")
                    try await attempt(id, "delivered")  // a second success on the channel: recorded once
                }
                #expect(try await bank.count("bank.delivery_attempt WHERE outcome = 'delivered'") == 2)
                #expect(try await partitions(current) == ["bank.message_history", "bank.delivery_attempt_history"])
                #expect(try await partitions(future) == ["bank.message_unplanned", "bank.delivery_attempt_unplanned"])
                // Two years on, the job makes the month: both move in, in one transaction.
                let moved = try await bank.owner.query("""
                    SELECT table_name, sum(moved_rows)::int AS n FROM bank.maintain_monthly_partitions(bank.month_start(now(), 24))
                     WHERE table_name <> 'bank.service_event' GROUP BY 1 ORDER BY 1
                    """).map { "\(try $0.decode("table_name", as: String.self)):\(try $0.decode("n", as: Int.self))" }
                #expect(moved == ["bank.delivery_attempt:2", "bank.message:1"])
                let month = try await bank.owner.query("""
                    SELECT to_char(bank.month_start(now(), 24) AT TIME ZONE 'Asia/Shanghai', 'YYYY"m"MM') AS m
                    """)[0].decode("m", as: String.self)
                #expect(try await partitions(future) == ["bank.message_y\(month)", "bank.delivery_attempt_y\(month)"])
                // Retention, as of two years on: the history (this month's message) is older than 13 months.
                #expect(try await bank.count("bank.message WHERE id = $1", [current]) == 0)
                #expect(try await bank.count("bank.message WHERE id = $1", [future]) == 1)
                #expect(try await bank.count("bank.delivery_attempt WHERE message_id = $1", [future]) == 2)
                #expect(try await bank.count("pg_class WHERE relname IN ('message_history', 'delivery_attempt_history')") == 0)
                #expect(try await bank.count("pg_class WHERE relname = 'service_event_history'") == 1, "service events are kept")
            }
        }

        /// A generated city's past months are partitions of their own (its
        /// history partitions empty), as a city's own database would have them.
        @Test func aGeneratedCityKeepsEachPastMonthInItsOwnPartition() async throws {
            try await Bank.with(workers: false) { bank in
                _ = try await CityGenerator.generate(bank.owner, CityGenerator.Scale(months: 2, services: 200))
                for table in ["service_event", "message", "delivery_attempt"] {
                    #expect(try await bank.count("bank.\(table)_history") == 0, "\(table)")
                    #expect(try await bank.count("bank.\(table)_unplanned") == 0, "\(table)")
                    let months = try await bank.owner.query(
                        "SELECT count(DISTINCT tableoid) AS n FROM bank.\(table)")[0].decode("n", as: Int.self)
                    #expect(months >= 2, "\(table): \(months) partitions hold rows")
                }
                #expect(try await bank.ledgerProblems().isEmpty)
            }
        }

        /// The conversion keeps every row, its id and its time; new rows take ids after them.
        @Test func convertingATableWithEventsKeepsThemAllInTheHistory() async throws {
            try await TestDatabase.with(migrated: false) { database in
                let connection = try await database.connect()
                let project = try Migrator.project()
                try await Migrator(migrations: project.migrations.filter { $0.version <= 33 }).migrate(connection)
                try await connection.execute("SET session_replication_role = replica")
                try await connection.execute("""
                    INSERT INTO bank.service_event (service_id, status, at)
                    SELECT n % 50 + 1, 'published', now() - n * interval '1 hour' FROM generate_series(1, 2000) n
                    """)
                let before = try await connection.query("SELECT count(*) AS n, sum(id)::text AS ids, sum(extract(epoch FROM at))::text AS times FROM bank.service_event")[0]
                try await project.migrate(connection)
                let after = try await connection.query("""
                    SELECT count(*) AS n, sum(id)::text AS ids, sum(extract(epoch FROM at))::text AS times FROM bank.service_event_history
                    """)[0]
                #expect(try after.decode("n", as: Int.self) == before.decode("n", as: Int.self))
                #expect(try after.decode("ids", as: String.self) == before.decode("ids", as: String.self))
                #expect(try after.decode("times", as: String.self) == before.decode("times", as: String.self))
                let next = try await connection.query("""
                    INSERT INTO bank.service_event (service_id, status) VALUES (1, 'published') RETURNING id
                    """)[0].decode("id", as: Int64.self)
                #expect(next == 2001)
                await connection.close()
            }
        }

        /// Attacked as the roles' own logins: the settlement worker runs the
        /// maintenance (its daily job) and nothing else on a partition; no
        /// other role runs it.
        @Test func onlyTheSettlementWorkerMaintainsThePartitionsAndNoLoginChangesThemDirectly() async throws {
            try await Bank.with(workers: false) { bank in
                _ = try await bank.owner.query("SELECT * FROM bank.maintain_monthly_partitions(now())")
                let month = try await bank.owner.query("""
                    SELECT partition_name FROM bank.monthly_partitions()
                     WHERE table_name = 'bank.service_event' AND partition_name ~ '_y' ORDER BY from_time LIMIT 1
                    """)[0].decode("partition_name", as: String.self)
                try await bank.asLogin(memberOf: ["timebank_settlement"]) { connection in
                    #expect(try await connection.query("SELECT count(*) AS n FROM bank.maintain_monthly_partitions(now())")[0]
                        .decode("n", as: Int.self) == 0)
                    try await expectRefused(connection, [
                        "CREATE TABLE bank.forged PARTITION OF bank.service_event FOR VALUES FROM ('2100-01-01') TO ('2100-02-01')",
                        "ALTER TABLE bank.service_event DETACH PARTITION \(month)",
                        "DROP TABLE \(month)",
                        "INSERT INTO \(month) (id, service_id, status, at) VALUES (1, 1, 'published', now())",
                        "SELECT * FROM \(month)",
                        "TRUNCATE bank.service_event_unplanned",
                        "UPDATE bank.monthly_partitioned_table SET retain_months = 1",
                        // The owner's alone: moving the start of the months, and the list of partitions.
                        "SELECT bank.start_monthly_partitions_at(now())",
                        "SELECT count(*) FROM bank.monthly_partitions()",
                    ])
                }
                for role in ["timebank_order", "timebank_api", "timebank_staff", "timebank_analyst"] {
                    try await bank.asLogin(memberOf: [role]) { connection in
                        try await expectRefused(connection, ["SELECT bank.maintain_monthly_partitions(now())",
                                                             "SELECT bank.start_monthly_partitions_at(now())"])
                        try await expectRefused(connection, ["ALTER TABLE bank.service_event DETACH PARTITION \(month)"])
                    }
                }
            }
        }

        /// The settlement worker's daily job does it: one a day, keyed by the Beijing day.
        @Test func theSettlementWorkersDailyJobCreatesTheMonthsAhead() async throws {
            #expect(WorkerKind.settlement.periodicJobs.map(\.kind).contains(PartitionMaintenanceHandler.kind))
            #expect(WorkerKind.settlement.jobKinds.contains("partitions.maintain"))
            try await Bank.with { bank in
                try await bank.owner.execute("SELECT jobs.enqueue('partitions.maintain', '{}'::jsonb, 'settlement')")
                try await bank.eventually("(SELECT count(*) FROM jobs.job WHERE kind = 'partitions.maintain' AND state = 'completed') = 1")
                #expect(try await bank.count("bank.monthly_partitions() WHERE partition_name ~ '_y'") == 3 * 3, "three tables, three months ahead")
            }
        }
    }
}
