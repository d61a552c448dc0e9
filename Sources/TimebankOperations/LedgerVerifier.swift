import Foundation
import PostgresClient
import TimebankWorkers

/// `timebank ledger verify`: runs `bank.verify_ledger()` (sql/functions/bank/ledger_verify.sql), which
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

    public static func run(_ connection: PostgresConnection) async throws -> [Check] {
        try await connection.transaction(isolation: .repeatableRead) { connection in
            try connection.query("SELECT check_name, problem FROM bank.verify_ledger()").map {
                Check(name: try $0.decode("check_name"), problem: try $0.decode("problem"))
            }
        }
    }

    /// Records an outcome (bank.ledger_verify_run) for the web console's
    /// ledger page; needs the owner's rights (the DBA's login).
    public static func record(_ connection: PostgresConnection, _ checks: [Check]) async throws {
        let list = checks.map { check -> [String: String?] in ["check": check.name, "problem": check.problem] }
        let json = String(decoding: try JSONEncoder().encode(list), as: UTF8.self)
        _ = try await connection.query("SELECT bank.record_ledger_verify($1::jsonb)", [json])
    }

    /// The broken checks, as "name: problem".
    public static func problems(_ connection: PostgresConnection) async throws -> [String] {
        try await run(connection).compactMap { check in check.problem.map { "\(check.name): \($0)" } }
    }
}
