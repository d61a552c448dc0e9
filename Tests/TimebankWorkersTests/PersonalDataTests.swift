import Foundation
import PostgresClient
import Testing
import TimebankDatabase
import TimebankOperations
import TimebankWorkers

extension BankSuites {
    /// R23: national IDs and phone numbers stored encrypted, with a keyed hash
    /// for uniqueness; the key from the environment; staff reads recorded.
    @Suite struct PersonalDataTests {
        @Test func r23IDsAndPhoneNumbersAreStoredEncryptedAndNeverInTheClear() async throws {
            try await Bank.with { bank in
                let id = NationalID.sample(age: 45, serial: 81)
                let request = try await bank.submit("api.register_person($1, 'Sun Li', '13600136000', true, '110105')", [id])
                // Not even the request log holds them in the clear, from the first moment.
                let args = try await bank.owner.query("SELECT args::text AS a FROM bank.request WHERE id = $1", [request])[0].decode("a", as: String.self)
                #expect(!args.contains(id) && !args.contains("13600136000"))
                let person = try #require(try await bank.outcome(request).result["person_id"])
                let row = try await bank.owner.query("SELECT row_to_json(p)::text AS r FROM bank.person p WHERE id = $1", [person])[0]
                    .decode("r", as: String.self)
                #expect(!row.contains(id) && !row.contains("13600136000"))
                let args2 = try await bank.owner.query("SELECT args::text AS a FROM bank.request WHERE id = $1", [request])[0].decode("a", as: String.self)
                #expect(!args2.contains("Sun Li"), "the name leaves the request log once the person exists")
                // R3 still holds, on the keyed hash.
                try await bank.expectRefusal("api.register_person($1, 'Sun Li', NULL, true, '110105')", [id], rule: "R3", field: "national_id")
            }
        }

        @Test func r23ASessionWithoutTheKeyIsRefusedAndWritesNothing() async throws {
            try await Bank.with { bank in
                let keyless = try await PostgresConnection.connect(
                    bank.database.settings.with(parameter: "role", "timebank_api").with(parameter: PersonalDataKey.sessionSetting, ""))
                let before = try await bank.footprint()
                let error = try await #require(throws: PostgresError.self) {
                    try await keyless.execute("SELECT api.register_person($1, 'Qian Wu', NULL, true, '110105')", [NationalID.sample(age: 50, serial: 82)])
                }
                #expect(error.message.hasPrefix("R23: ") && error.code == .insufficientPrivilege)
                #expect(!error.message.contains("timebank-test-personal-data-key"))
                #expect(try await bank.footprint() == before)
                await keyless.close()
            }
        }

        @Test func r23OnlyPersonalDataReadersReadAnIdentityAndEachReadIsRecorded() async throws {
            try await Bank.with { bank in
                let id = NationalID.sample(age: 45, serial: 83)
                let person = try await bank.completed("api.register_person($1, 'Zhou Min', '13500135000', true, '110105')", [id])["person_id"]!
                let reader = try await PostgresConnection.connect(bank.database.settings.with(parameter: "role", "timebank_personal_data_reader"))
                let identity = try await reader.query("SELECT national_id, phone FROM api.read_personal_data($1, 'desk-9', 'checking an accident claim')", [person])
                #expect(try identity[0].decode("national_id", as: String.self) == id)
                #expect(try identity[0].decode("phone", as: String.self) == "13500135000")
                let reads = try await bank.owner.query("SELECT staff, purpose, login FROM bank.personal_data_read WHERE person_id = $1", [person])
                #expect(reads.count == 1)
                #expect(try reads[0].decode("staff", as: String.self) == "desk-9" && reads[0].decode("purpose", as: String.self) == "checking an accident claim")
                let unexplained = try await #require(throws: PostgresError.self) {
                    try await reader.execute("SELECT * FROM api.read_personal_data($1, 'desk-9', '')", [person])
                }
                #expect(unexplained.message.hasPrefix("R23: ") && unexplained.detail == "field: purpose")
                await reader.close()
                // A client application, an analyst, a worker: refused.
                for role in ["timebank_api", "timebank_analyst", "timebank_order"] {
                    let session = try await PostgresConnection.connect(bank.database.settings.with(parameter: "role", role))
                    let denied = try await #require(throws: PostgresError.self) {
                        try await session.execute("SELECT * FROM api.read_personal_data($1, 'x', 'y')", [person])
                    }
                    #expect(denied.code == .insufficientPrivilege, "\(role)")
                    await session.close()
                }
                #expect(try await bank.count("bank.personal_data_read") == 1)
            }
        }
    }
}
