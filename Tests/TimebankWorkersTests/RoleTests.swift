import Foundation
import PostgresClient
import TimebankWorkers
import Testing

extension BankSuites {
    /// Each worker's role is granted only what it owns: only the settlement
    /// role's steps write the ledger (no role writes it directly: issue 15);
    /// the client role only calls api functions.
    @Suite struct RoleTests {
        func session(_ bank: Bank, _ role: String) async throws -> PostgresConnection {
            try await PostgresConnection.connect(bank.database.settings.with(parameter: "role", role))
        }

        @Test func onlyTheSettlementRoleWritesTheLedger() async throws {
            try await Bank.with(workers: false) { bank in
                let grant = """
                    INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, grant_category)
                    SELECT 'role-test:' || current_user, 'posted', 'grant', g.id, w.id, 60, 'dementia'
                      FROM bank.account g, bank.account w WHERE g.district_code = '110101' AND w.kind = 'public_welfare'
                    """
                for role in ["timebank_enrollment", "timebank_order", "timebank_notification", "timebank_insurance_claim",
                             "timebank_api", "timebank_analyst", "timebank_settlement"] {
                    let connection = try await session(bank, role)
                    for sql in [grant, "UPDATE bank.account SET credits_posted = credits_posted + 60", "DELETE FROM bank.transfer"]
                                + (role == "timebank_settlement" ? [] : ["SELECT bank.settlement_settle(ARRAY[1]::bigint[])"]) {
                        let error = try await #require(throws: PostgresError.self, "\(role): \(sql)") { try await connection.execute(sql) }
                        #expect(error.code == .insufficientPrivilege, "\(role): \(error)")
                    }
                    await connection.close()
                }
                // The ledger's own rules hold for its owner too: L7 refuses a grant to
                // anything but a person's account.
                let error = try await #require(throws: PostgresError.self) { try await bank.owner.execute(grant) }
                #expect(error.code == .checkViolation)
                #expect(error.message.hasPrefix("L7:"))
                #expect(try await bank.count("bank.transfer") == 0)
            }
        }

        @Test func transfersAreImmutableEvenForTheOwner() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(1, coins: 2)
                #expect(try await bank.count("bank.transfer") == 1)
                for sql in ["UPDATE bank.transfer SET amount = 6000", "DELETE FROM bank.transfer", "TRUNCATE bank.transfer CASCADE"] {
                    let error = try await #require(throws: PostgresError.self) { try await bank.owner.execute(sql) }
                    #expect(error.message.hasPrefix("L2:"), "\(error)")
                }
                #expect(try await bank.balance(elder).posted == 120)
            }
        }

        @Test func theClientRoleOnlyCallsTheAPI() async throws {
            try await Bank.with(workers: false) { bank in
                for sql in ["SELECT * FROM bank.person", "SELECT * FROM bank.request", "SELECT * FROM jobs.job",
                            "SELECT bank.enrollment_register_person(1)", "SELECT jobs.enqueue('order.book')"] {
                    let error = try await #require(throws: PostgresError.self) { try await bank.client.execute(sql) }
                    #expect(error.code == .insufficientPrivilege, "\(sql): \(error)")
                }
            }
        }

        @Test func l6NoPersonalAccountGoesBelowZeroWhoeverWrites() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(2, coins: 1)
                let volunteer = try await bank.registerVolunteer(3)
                try await bank.eventually("SELECT count(*) = 2 FROM bank.account WHERE kind = 'personal'")
                let error = try await #require(throws: PostgresError.self) {
                    try await bank.owner.execute("""
                        INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount)
                        SELECT 'overdraw', 'pending', 'service_hold', a.id, bank.clearing_account(), 61
                          FROM bank.account a WHERE a.person_id = $1
                        """, [elder])
                }
                #expect(error.code == .checkViolation)
                #expect(error.constraint == "account_available_not_negative")
                #expect(try await bank.balance(volunteer).posted == 0)
            }
        }
    }
}
