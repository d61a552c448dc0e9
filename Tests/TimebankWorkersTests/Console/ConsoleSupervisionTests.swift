import Console
import Foundation
import PostgresClient
import TestSupport
import Testing

extension BankSuites {
    /// R22 from the console, with the workers running: an operator whose
    /// account names a staff member confirms fraud through api.confirm_fraud,
    /// and the settlement worker lists the person.
    @Suite struct ConsoleSupervisionTests {
        @Test func anOperatorConfirmsFraudAsItsStaffMember() async throws {
            try await Bank.with { bank in
                let person = try await bank.registerElder(91)
                let alert: Int64 = try await bank.owner.query("""
                    INSERT INTO bank.alert (kind, subject, people, evidence, evidence_at)
                    VALUES ('frequent_gifts', 'gifts:' || $1::text, ARRAY[$1::bigint], '{"transfers": []}', now()) RETURNING id
                    """, [person])[0].decode("id")
                _ = try await ConsoleAccounts.add(bank.owner, login: "supervisor1", power: "operator", password: ConsoleHarness.password,
                                                  staffCode: Bank.desk)
                try await ConsoleHarness.withConsoleLogin(bank.database, owner: bank.owner) { settings in
                    let console = try await PostgresConnection.connect(settings)
                    let session = try #require(try await ConsoleHarness.logIn(console, "supervisor1"))
                    await console.close()
                    try await ConsoleHarness.serving(settings) { base in
                        let badServices = try await ConsolePagesTests.request(base, "/alerts/\(alert)/confirm", token: session.token, form: [
                            "csrf": session.csrf, "person": String(person), "reason": "gifts to many", "services": "12x", "back": "/alerts"])
                        #expect(badServices.status == 400)
                        let unknownService = try await ConsolePagesTests.request(base, "/alerts/\(alert)/confirm", token: session.token, form: [
                            "csrf": session.csrf, "person": String(person), "reason": "gifts to many", "services": "999999", "back": "/alerts"])
                        #expect(unknownService.status == 409 && unknownService.body.contains("R22"), "the api's refusal")
                        let confirmed = try await ConsolePagesTests.request(base, "/alerts/\(alert)/confirm", token: session.token, form: [
                            "csrf": session.csrf, "person": String(person), "reason": "gifts to many accounts", "back": "/alerts"])
                        #expect(confirmed.status == 200 && confirmed.body.contains("Fraud confirmation submitted"))
                    }
                }
                try await bank.eventually("EXISTS (SELECT 1 FROM bank.dishonest_person WHERE person_id = $1)", [person])
                #expect(try await bank.owner.query("SELECT status FROM bank.alert WHERE id = $1", [alert])[0].decode("status", as: String.self) == "confirmed")
                let acts: [String] = try await bank.owner.query(
                    "SELECT outcome FROM bank.console_action WHERE action = 'confirm_fraud' ORDER BY id").map { try $0.decode("outcome") }
                #expect(acts == ["refused", "done"], "the malformed form never reached the database")
            }
        }
    }
}
