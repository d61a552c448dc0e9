import Foundation
import PostgresClient
import TimebankWorkers

/// `timebank ledger verify`: runs `bank.verify_ledger(full)` (sql/functions/bank/ledger_verify.sql), which
/// re-derives every balance from the immutable transfers and checks the
/// ledger's invariants, in one REPEATABLE READ snapshot. The invariants
/// (stated in full at the top of sql/migrations/0004, enforced by sql/functions/bank/ledger.sql on every write):
///   L1 whole minutes, positive, between two accounts   L5 debits equal credits
///   L2 transfers immutable                               L6 no personal balance below zero
///   L3 one transfer per idempotency key                  L7 coins come only from grants
///   L4 account totals equal their transfers' sums        L8 a hold resolved at most once
/// and R6: every checked-out service settled exactly once, for its served minutes;
/// L9 earned minutes are service credits less reversals, L10 milestones recorded,
/// L11 grants within district budgets, L12 gifts between verified relatives; R19 reversals.
public enum LedgerVerifier {
    public struct Check: Sendable {
        public var name: String
        /// Nil when the check holds; else the first broken account, transfer or service.
        public var problem: String?
    }

    /// What a run covered (issue 18): `full`, or `incremental` from the
    /// last verified balance snapshot (`fromDay`) to the latest (`snapshotDay`).
    public struct Scope: Sendable, Equatable {
        public var mode: String
        public var fromDay: String?
        public var snapshotDay: String?
        public init(mode: String, fromDay: String?, snapshotDay: String?) {
            self.mode = mode
            self.fromDay = fromDay
            self.snapshotDay = snapshotDay
        }
    }

    /// Full: every balance re-derived from every transfer, and every daily
    /// snapshot from its day's transfers. Incremental: from the last
    /// verified snapshot on (sql/functions/bank/ledger_verify.sql says what
    /// each checks); a full run when no run verified a snapshot yet.
    public static func verify(_ connection: PostgresConnection, full: Bool) async throws -> (scope: Scope, checks: [Check]) {
        try await connection.transaction(isolation: .repeatableRead) { connection in
            let row = try connection.query("SELECT mode, from_day::text AS from_day, snapshot_day::text AS snapshot_day FROM bank.ledger_verify_scope($1)",
                                           [full])[0]
            let scope = Scope(mode: try row.decode("mode"), fromDay: try row.decode("from_day"), snapshotDay: try row.decode("snapshot_day"))
            let checks = try connection.query("SELECT check_name, problem FROM bank.verify_ledger($1)", [full]).map {
                Check(name: try $0.decode("check_name"), problem: try $0.decode("problem"))
            }
            return (scope, checks)
        }
    }

    public static func run(_ connection: PostgresConnection) async throws -> [Check] {
        try await verify(connection, full: true).checks
    }

    /// Records an outcome (bank.ledger_verify_run) for the web console's
    /// ledger page and the next incremental run; needs the owner's rights (the DBA's login).
    public static func record(_ connection: PostgresConnection, _ checks: [Check], scope: Scope) async throws {
        let list = checks.map { check -> [String: String?] in ["check": check.name, "problem": check.problem] }
        let json = String(decoding: try JSONEncoder().encode(list), as: UTF8.self)
        _ = try await connection.query("SELECT bank.record_ledger_verify($1::jsonb, $2, $3::date, $4::date)",
                                       [json, scope.mode, scope.fromDay, scope.snapshotDay])
    }

    /// The broken checks, as "name: problem".
    public static func problems(_ connection: PostgresConnection) async throws -> [String] {
        try await run(connection).compactMap { check in check.problem.map { "\(check.name): \($0)" } }
    }
}

/// `timebank ledger snapshot` and the daily ledger.snapshot job: every
/// day not yet snapshotted, up to the last that ended
/// snapshot_delay_minutes ago (bank.take_balance_snapshots).
public enum BalanceSnapshots {
    /// The days taken.
    public static func take(_ connection: PostgresConnection, upTo day: String? = nil) async throws -> Int {
        try await connection.query("SELECT bank.take_balance_snapshots($1::date) AS n", [day])[0].decode("n", as: Int.self)
    }
}
