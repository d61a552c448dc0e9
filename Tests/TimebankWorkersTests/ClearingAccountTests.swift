import Foundation
import PostgresClient
import TestSupport
import Testing
import TimebankOperations

/// Issue 18, item 1: settlement batches of different services no longer
/// queue on the one clearing account's row (0029), and the ledger still
/// checks that account from its transfers.
@Suite struct ClearingAccountTests {
    @Test func r6TwoSettlementBatchesOfDifferentPeopleSettleAtOnceWithoutWaitingOnTheClearingAccount() async throws {
        try await TestDatabase.with { database in
            let setup = try await database.connect()
            // Two services of two elders and two volunteers: the batches share no person.
            let services = try await SettlementFixture.prepare(setup, services: 2, elders: 2, volunteers: 2)
            try await SettlementFixture.checkOut(setup, services)
            let first = try await database.connect()
            let second = try await database.connect()
            try await first.execute("BEGIN")
            _ = try await first.query("SELECT * FROM bank.settlement_settle($1)", [[services[0]]])
            // The first batch's transaction is open, as a worker's is until its commit. Before
            // 0029 the second waited for it on the clearing account's row (here: lock timeout, 55P03).
            try await second.execute("SET lock_timeout = '2s'")
            let settled = try await second.query("SELECT * FROM bank.settlement_settle($1)", [[services[1]]])
            #expect(settled.count == 1)
            try await first.execute("COMMIT")
            #expect(try await LedgerVerifier.problems(setup) == [])
            for connection in [first, second, setup] { await connection.close() }
        }
    }

    @Test func l4TheClearingAccountsRowKeepsNoTotalsAndLedgerVerifySaysSoWhenItDoes() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            let services = try await SettlementFixture.prepare(connection, services: 20, elders: 5, volunteers: 5)
            try await SettlementFixture.checkOut(connection, Array(services.prefix(10)))
            _ = try await connection.query("SELECT * FROM bank.settlement_settle($1)", [Array(services.prefix(10))])
            let row = try await connection.query("""
                SELECT debits_pending + debits_posted + credits_pending + credits_posted AS n FROM bank.account WHERE kind = 'service_clearing'
                """)[0]
            #expect(try row.decode("n", as: Int64.self) == 0, "holds, payments and credits went through it, its row kept none")
            #expect(try await LedgerVerifier.problems(connection) == [])
            // Totals written on its row (by hand: no function does) are not the ledger's.
            try await connection.execute("UPDATE bank.account SET credits_pending = 60 WHERE kind = 'service_clearing'")
            let problems = try await LedgerVerifier.problems(connection)
            #expect(problems.contains { $0.hasPrefix("L4") }, "\(problems)")
            await connection.close()
        }
    }
}
