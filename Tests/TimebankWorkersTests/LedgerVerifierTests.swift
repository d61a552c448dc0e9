import DevCluster
import Foundation
import PostgresClient
import TimebankDatabase
import TimebankOperations
import TimebankWorkers
import Testing

extension BankSuites {
    /// `ledger verify` is only worth running if it notices a broken ledger:
    /// each test breaks one invariant behind the ledger's back (as the
    /// owner, triggers off) and expects that check, and only it, to fail.
    @Suite struct LedgerVerifierTests {
        /// A settled service and its people, for breaking.
        func settledService(_ bank: Bank) async throws -> (elder: Int64, volunteer: Int64, service: Int64) {
            let elder = try await bank.registerElder(1, coins: 5)
            let volunteer = try await bank.registerVolunteer(2)
            let service = try await bank.publishedService(elder: elder, minutes: 60)
            try await bank.completed("api.book_service($1, $2)", [service, volunteer])
            try await bank.travel(service: service, minutes: 61)
            try await bank.completed("api.check_in($1, $2)", [service, volunteer])
            try await bank.travel(service: service, minutes: 30)
            try await bank.completed("api.check_out($1, $2)", [service, volunteer])
            try await bank.eventually("SELECT settled_at IS NOT NULL FROM bank.service WHERE id = $1", [service])
            #expect(try await bank.ledgerProblems() == [])
            return (elder, volunteer, service)
        }

        @Test func aTamperedBalanceBreaksL4() async throws {
            try await Bank.with { bank in
                let (_, volunteer, _) = try await settledService(bank)
                let timebank = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("timebank").path
                let verify = ["ledger", "verify", "--database-url", bank.database.settings.conninfoWithDatabase]
                let clean = try await ChildProcess.run(timebank, verify)
                #expect(clean.status == 0, "\(clean.output)")
                #expect(clean.output.contains("the ledger verifies"))

                try await bank.owner.execute("UPDATE bank.account SET credits_posted = credits_posted + 60 WHERE person_id = $1", [volunteer])
                let problems = try await bank.ledgerProblems()
                #expect(problems.first?.hasPrefix("L4 ") == true, "\(problems)")
                #expect(problems.first?.contains("credits 0/90") == true, "\(problems)")
                let broken = try await ChildProcess.run(timebank, verify)
                #expect(broken.status == 1, "\(broken.output)")
                #expect(broken.output.contains("BROKEN L4 account totals equal the sums of their transfers: account"))
            }
        }

        @Test func coinsFromNowhereBreakL7() async throws {
            try await Bank.with { bank in
                let (_, volunteer, _) = try await settledService(bank)
                // Ten coins out of a grant account that are not a grant (the trigger refuses it;
                // inserted with triggers off, totals kept consistent by hand so that only L7 breaks).
                try await bank.owner.executeScript("SET session_replication_role = replica")
                try await bank.owner.execute("""
                    INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount)
                    SELECT 'forged', 'posted', 'service_credit', g.id, a.id, 600
                      FROM bank.account a, bank.account g WHERE a.person_id = $1 AND g.district_code = '110105'
                    """, [volunteer])
                try await bank.owner.execute("UPDATE bank.account SET credits_posted = credits_posted + 600, earned_minutes = earned_minutes + 600 WHERE person_id = $1", [volunteer])
                try await bank.owner.execute("UPDATE bank.account SET debits_posted = debits_posted + 600 WHERE district_code = '110105'")
                try await bank.owner.executeScript("SET session_replication_role = origin")
                let problems = try await bank.ledgerProblems()
                #expect(problems.count == 1 && problems[0].hasPrefix("L7 "), "\(problems)")
                #expect(problems.first?.contains("grants sum to 300") == true, "\(problems)")
            }
        }

        @Test func aServiceSettledTwiceOrNeverBreaksR6() async throws {
            try await Bank.with { bank in
                let (_, _, service) = try await settledService(bank)
                try await bank.owner.execute("UPDATE bank.service SET settled_at = NULL, settled_minutes = NULL WHERE id = $1", [service])
                let problems = try await bank.ledgerProblems()
                #expect(problems.contains { $0.hasPrefix("R6 every settled service") && $0.contains("service \(service)") }, "\(problems)")
                #expect(problems.contains { $0.hasPrefix("R6 every checked-out service") }, "\(problems)")
            }
        }
    }
}
