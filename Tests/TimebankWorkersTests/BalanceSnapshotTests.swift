import Foundation
import PostgresClient
import Testing
import TimebankOperations
import TimebankWorkers

/// Issue 18, item 4: daily balance snapshots (sql/migrations/0033). The
/// as-of answers read the latest snapshot at or before the day plus the
/// transfers after it, and agree with a re-derivation from every transfer.
@Suite struct BalanceSnapshotTests {
    /// Every account's balance at a day's end from every transfer: what
    /// reporting.account_balances computed before snapshots.
    static let fromEveryTransfer = """
        WITH cutoff AS (SELECT (($1::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai') AS at),
        upto AS (SELECT t.* FROM bank.transfer t, cutoff WHERE t.created_at < cutoff.at),
        moves AS (
            SELECT credit_account_id AS account_id, amount AS posted, 0::bigint AS held FROM upto WHERE phase IN ('posted', 'post_pending')
            UNION ALL
            SELECT debit_account_id, -amount, 0 FROM upto WHERE phase IN ('posted', 'post_pending')
            UNION ALL
            SELECT h.debit_account_id, 0, h.amount FROM upto h
             WHERE h.phase = 'pending' AND NOT EXISTS (SELECT 1 FROM upto r WHERE r.pending_id = h.id))
        SELECT coalesce(string_agg(account_id || ':' || posted || ':' || held, ',' ORDER BY account_id), '') AS rows
          FROM (SELECT account_id, sum(posted) AS posted, sum(held) AS held FROM moves GROUP BY account_id) b
        """
    static let fromSnapshots = """
        SELECT coalesce(string_agg(account_id || ':' || posted_minutes || ':' || held_minutes, ',' ORDER BY account_id), '') AS rows
          FROM reporting.account_balances($1::date)
        """

    /// A city of two months, with holds still open on its last day (a demand
    /// published and not yet served), snapshotted up to ten days before today.
    static func city(_ bank: Bank) async throws -> (first: String, snapshotted: String, today: String) {
        _ = try await CityGenerator.generate(bank.owner, CityGenerator.Scale(months: 2, services: 600))
        try await bank.owner.execute("""
            INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount)
            SELECT 'open-hold:' || a.id, 'pending', 'service_hold', a.id, bank.clearing_account(), 60
              FROM bank.account a WHERE a.kind = 'personal' ORDER BY a.id LIMIT 3
            """)
        let row = try await bank.owner.query("""
            SELECT (min(created_at) AT TIME ZONE 'Asia/Shanghai')::date::text AS first, (bank.local_today() - 10)::text AS snapshotted,
                   bank.local_today()::text AS today
              FROM bank.transfer
            """)[0]
        return (try row.decode("first"), try row.decode("snapshotted"), try row.decode("today"))
    }

    @Test func asOfAnswersFromSnapshotsAgreeWithEveryTransferOnEveryDayWithOrWithoutASnapshot() async throws {
        try await Bank.with(workers: false) { bank in
            let days = try await Self.city(bank)
            let taken = try await BalanceSnapshots.take(bank.owner, upTo: days.snapshotted)
            let expected = try await bank.owner.query("SELECT ($2::date - $1::date + 1)::int AS n", [days.first, days.snapshotted])[0]
            #expect(taken == (try expected.decode("n", as: Int.self)), "every day from the first transfer's to the last asked")
            #expect(try await BalanceSnapshots.take(bank.owner, upTo: days.snapshotted) == 0, "idempotent")
            // The day before the first, the first, every snapshotted day, the ten days after the last snapshot, today.
            let all = try await bank.owner.query("SELECT d::date::text AS d FROM generate_series($1::date - 1, $2::date, '1 day') d",
                                                 [days.first, days.today]).map { try $0.decode("d", as: String.self) }
            #expect(all.count > 60)
            for day in all {
                let reference = try await bank.owner.query(Self.fromEveryTransfer, [day])[0].decode("rows", as: String.self)
                let answer = try await bank.owner.query(Self.fromSnapshots, [day])[0].decode("rows", as: String.self)
                #expect(answer == reference, "as of \(day)")
            }
            // Today's, with the open holds: the accounts' running totals.
            let today = try await bank.owner.query("""
                SELECT bool_and(b.posted_minutes = a.credits_posted - a.debits_posted AND b.held_minutes = a.debits_pending) AS same,
                       sum(b.held_minutes)::int AS held
                  FROM reporting.account_balances(bank.local_today()) b JOIN bank.account a ON a.id = b.account_id WHERE a.kind = 'personal'
                """)[0]
            #expect(try today.decode("same", as: Bool.self))
            #expect(try today.decode("held", as: Int.self) == 180)
        }
    }

    @Test func asOfReadsTheSnapshotAndSnapshotsAreImmutable() async throws {
        try await Bank.with(workers: false) { bank in
            let days = try await Self.city(bank)
            _ = try await BalanceSnapshots.take(bank.owner, upTo: days.snapshotted)
            // Immutable, even for the owner (the migration role).
            for statement in ["UPDATE bank.balance_snapshot SET credits_posted = credits_posted + 60 WHERE day = '\(days.snapshotted)'",
                              "DELETE FROM bank.balance_snapshot WHERE day = '\(days.snapshotted)'",
                              "DELETE FROM bank.balance_snapshot_day WHERE day = '\(days.snapshotted)'",
                              "TRUNCATE bank.balance_snapshot"] {
                await #expect(throws: PostgresError.self, "\(statement)") { try await bank.owner.execute(statement) }
            }
            // Altered behind the triggers' back, the snapshot is what the as-of answer
            // for its day and the days after read (not every transfer again).
            let before = try await bank.owner.query(Self.fromSnapshots, [days.today])[0].decode("rows", as: String.self)
            try await bank.owner.executeScript("""
                BEGIN; SET LOCAL session_replication_role = replica;
                UPDATE bank.balance_snapshot SET credits_posted = credits_posted + 60
                 WHERE day = '\(days.snapshotted)' AND account_id = (SELECT min(account_id) FROM bank.balance_snapshot
                                                                     WHERE day = '\(days.snapshotted)' AND credits_posted > 0);
                COMMIT
                """)
            let after = try await bank.owner.query(Self.fromSnapshots, [days.today])[0].decode("rows", as: String.self)
            #expect(after != before)
        }
    }

    @Test func r23TheAnalystSeesSnapshotAnswersOnlyInGroupsOfKAndNeverTheSnapshots() async throws {
        try await Bank.with(workers: false) { bank in
            let days = try await Self.city(bank)
            _ = try await BalanceSnapshots.take(bank.owner, upTo: days.snapshotted)
            // k = 2: the small city's districts have two or three personal accounts each.
            try await bank.owner.execute("UPDATE bank.setting SET value = 2 WHERE name = 'reporting_min_group_size'")
            try await bank.asLogin(memberOf: ["timebank_analyst"]) { analyst in
                for table in ["bank.balance_snapshot", "bank.balance_snapshot_day"] {
                    await #expect(throws: PostgresError.self, "\(table)") { try await analyst.execute("SELECT 1 FROM \(table) LIMIT 1") }
                }
                await #expect(throws: PostgresError.self) { try await analyst.execute("SELECT bank.take_balance_snapshots(NULL)") }
                await #expect(throws: PostgresError.self) { try await analyst.execute("SELECT * FROM reporting.account_balances(bank.local_today())") }
                let shown = try await analyst.query("""
                    SELECT count(*)::int AS n, min(accounts)::int AS fewest FROM reporting.balances_by_district_as_of($1::date)
                     WHERE account_kind = 'personal'
                    """, [days.snapshotted])[0]
                #expect(try shown.decode("n", as: Int.self) > 0)
                #expect(try shown.decode("fewest", as: Int?.self) ?? 0 >= 2)
            }
            // k above every district's and the city's count: no personal cell, no personal total.
            try await bank.owner.execute("UPDATE bank.setting SET value = 100000 WHERE name = 'reporting_min_group_size'")
            try await bank.asLogin(memberOf: ["timebank_analyst"]) { analyst in
                for day in [days.snapshotted, days.today] {
                    let cells = try await analyst.query("""
                        SELECT count(*)::int AS n FROM reporting.balances_by_district_as_of($1::date) WHERE account_kind = 'personal'
                        """, [day])[0].decode("n", as: Int.self)
                    let totals = try await analyst.query("SELECT account_kind FROM reporting.totals_as_of($1::date)", [day])
                        .map { try $0.decode("account_kind", as: String.self) }
                    #expect(cells == 0, "as of \(day)")
                    #expect(!totals.contains("personal") && totals.contains("district_grant"), "as of \(day): \(totals)")
                }
            }
        }
    }

    @Test func theSettlementWorkersDailyJobTakesTheSnapshotsAndNoOtherLoginMayOrChangesThem() async throws {
        #expect(WorkerKind.settlement.periodicJobs.map(\.kind).contains(LedgerSnapshotHandler.kind))
        #expect(WorkerKind.settlement.jobKinds.contains("ledger.snapshot"))
        try await Bank.with(workers: false) { bank in
            _ = try await CityGenerator.generate(bank.owner, CityGenerator.Scale(months: 1, services: 200))
            for role in ["timebank_api", "timebank_order", "timebank_notification", "timebank_analyst"] {
                try await bank.asLogin(memberOf: [role]) { login in
                    await #expect(throws: PostgresError.self, "\(role)") { try await login.execute("SELECT bank.take_balance_snapshots(NULL)") }
                }
            }
            try await bank.asLogin(memberOf: ["timebank_settlement"]) { settlement in
                let taken = try await settlement.query("SELECT bank.take_balance_snapshots(NULL) AS n")[0].decode("n", as: Int.self)
                #expect(taken > 28, "every day of the month's history")
                // It writes them through the owner's function only.
                for statement in ["UPDATE bank.balance_snapshot SET credits_posted = 0",
                                  "INSERT INTO bank.balance_snapshot_day (day, cutoff, transfers, through_transfer_id, granted_minutes) VALUES ('2000-01-01', now(), 0, 0, 0)"] {
                    await #expect(throws: PostgresError.self, "\(statement)") { try await settlement.execute(statement) }
                }
            }
        }
    }
}
