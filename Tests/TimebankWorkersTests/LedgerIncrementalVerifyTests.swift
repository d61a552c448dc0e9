import Foundation
import PostgresClient
import Testing
import TimebankOperations

/// Issue 18, item 4: `ledger verify` from the last verified balance
/// snapshot (incremental, the CLI's default) and from every transfer
/// (`--full`), L4-L12 and the snapshots' own chain.
@Suite struct LedgerIncrementalVerifyTests {
    /// A city of two months snapshotted up to `daysAgo` days before today, and a full run recorded.
    static func verifiedCity(_ bank: Bank, snapshottedDaysAgo daysAgo: Int = 10) async throws -> String {
        _ = try await CityGenerator.generate(bank.owner, CityGenerator.Scale(months: 2, services: 600))
        let day = try await bank.owner.query("SELECT (bank.local_today() - $1::int)::text AS d", [daysAgo])[0].decode("d", as: String.self)
        _ = try await BalanceSnapshots.take(bank.owner, upTo: day)
        let full = try await LedgerVerifier.verify(bank.owner, full: true)
        #expect(full.scope == LedgerVerifier.Scope(mode: "full", fromDay: nil, snapshotDay: day))
        #expect(full.checks.allSatisfy { $0.problem == nil }, "\(full.checks.filter { $0.problem != nil })")
        try await LedgerVerifier.record(bank.owner, full.checks, scope: full.scope)
        return day
    }

    static func problems(_ checks: [LedgerVerifier.Check]) -> [String] {
        checks.compactMap { check in check.problem.map { "\(check.name): \($0)" } }
    }

    /// Changes a row behind the triggers' back (as only a superuser could).
    static func tamper(_ bank: Bank, _ statement: String) async throws {
        try await bank.owner.executeScript("BEGIN; SET LOCAL session_replication_role = replica; \(statement); COMMIT")
    }

    @Test func onACleanLedgerIncrementalAndFullAgreeAndIncrementalStartsFromTheVerifiedSnapshot() async throws {
        try await Bank.with(workers: false) { bank in
            let verifiedDay = try await Self.verifiedCity(bank, snapshottedDaysAgo: 20)
            // Ten more days snapshotted since the verified run.
            _ = try await BalanceSnapshots.take(bank.owner, upTo: try await bank.owner.query("SELECT (bank.local_today() - 10)::text AS d")[0].decode("d"))
            let incremental = try await LedgerVerifier.verify(bank.owner, full: false)
            #expect(incremental.scope.mode == "incremental")
            #expect(incremental.scope.fromDay == verifiedDay)
            let full = try await LedgerVerifier.verify(bank.owner, full: true)
            #expect(Self.problems(incremental.checks) == [])
            #expect(Self.problems(full.checks) == [])
            #expect(incremental.checks.map(\.name) == full.checks.map(\.name), "the same checks, over less history")
            // Recorded, the next incremental run starts from the latest snapshot.
            try await LedgerVerifier.record(bank.owner, incremental.checks, scope: incremental.scope)
            let next = try await LedgerVerifier.verify(bank.owner, full: false)
            #expect(next.scope.fromDay == incremental.scope.snapshotDay)
        }
    }

    @Test func l4ATransferOrAnAccountAlteredAfterTheVerifiedSnapshotIsFoundIncrementally() async throws {
        try await Bank.with(workers: false) { bank in
            let day = try await Self.verifiedCity(bank)
            // A credit of the last days (after the verified snapshot) made larger.
            try await Self.tamper(bank, """
                UPDATE bank.transfer SET amount = amount + 1
                 WHERE id = (SELECT max(id) FROM bank.transfer WHERE kind = 'service_credit' AND created_at >= bank.day_end('\(day)'))
                """)
            let incremental = try await LedgerVerifier.verify(bank.owner, full: false)
            #expect(incremental.scope.mode == "incremental")
            let found = Self.problems(incremental.checks)
            #expect(found.contains { $0.hasPrefix("L4") }, "\(found)")
            #expect(found.contains { $0.hasPrefix("R6") }, "the service's payment and credit differ: \(found)")
        }
        try await Bank.with(workers: false) { bank in
            _ = try await Self.verifiedCity(bank)
            try await Self.tamper(bank, "UPDATE bank.account SET credits_posted = credits_posted + 60 WHERE id = (SELECT max(id) FROM bank.account)")
            let found = Self.problems(try await LedgerVerifier.verify(bank.owner, full: false).checks)
            #expect(found.contains { $0.hasPrefix("L4") }, "\(found)")
        }
    }

    @Test func aSnapshotAlteredBeforeTheVerifiedPointIsFoundByFullAndOneAfterItIncrementally() async throws {
        try await Bank.with(workers: false) { bank in
            let day = try await Self.verifiedCity(bank, snapshottedDaysAgo: 20)
            // Before the verified point: the incremental run trusts it (it was verified); --full does not.
            try await Self.tamper(bank, """
                UPDATE bank.balance_snapshot SET credits_posted = credits_posted + 60
                 WHERE day = '\(day)'::date - 5 AND account_id = (SELECT min(account_id) FROM bank.balance_snapshot
                                                                  WHERE day = '\(day)'::date - 5 AND credits_posted > 0)
                """)
            #expect(Self.problems(try await LedgerVerifier.verify(bank.owner, full: false).checks) == [])
            let full = Self.problems(try await LedgerVerifier.verify(bank.owner, full: true).checks)
            #expect(full.contains { $0.hasPrefix("snapshots: every day's balances") }, "\(full)")
            // After the verified point: a snapshot taken since is checked by the incremental run.
            _ = try await BalanceSnapshots.take(bank.owner, upTo: try await bank.owner.query("SELECT (bank.local_today() - 10)::text AS d")[0].decode("d"))
            try await Self.tamper(bank, """
                UPDATE bank.balance_snapshot SET debits_posted = debits_posted + 60
                 WHERE day = '\(day)'::date + 3 AND account_id = (SELECT min(account_id) FROM bank.balance_snapshot
                                                                  WHERE day = '\(day)'::date + 3 AND debits_posted > 0)
                """)
            let incremental = Self.problems(try await LedgerVerifier.verify(bank.owner, full: false).checks)
            #expect(incremental.contains { $0.hasPrefix("snapshots: every day's balances") }, "\(incremental)")
        }
    }
}
