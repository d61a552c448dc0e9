import Foundation
import PostgresClient
import Testing
import TimebankDatabase
import TimebankOperations
import TimebankWorkers

extension BankSuites {
    /// R23: national IDs and phone numbers stored encrypted, with a keyed hash
    /// for uniqueness; the keys the database's own; staff reads recorded first.
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

        /// Issue 15, finding 3: a client session that brought its own key made another hash of a
        /// national ID already registered, and registered the same person twice. Now no session's
        /// key is read: the database hashes with its own, and R3 holds whatever the client sets.
        @Test func finding3AClientsOwnKeyChangesNoHashAndR3Holds() async throws {
            try await Bank.with { bank in
                let id = NationalID.sample(age: 72, serial: 84)
                try await bank.completed("api.register_person($1, 'Wu Fang', NULL, true, '110105')", [id])
                // (Its account is opened by a follow-up job: let it finish before counting.)
                try await bank.eventually("NOT EXISTS (SELECT 1 FROM jobs.job WHERE state NOT IN ('completed', 'discarded', 'cancelled'))")
                let before = try await bank.footprint()
                try await bank.asLogin(memberOf: ["timebank_api"],
                                       parameters: [(PersonalDataKey.sessionSetting, "an-attackers-own-key-0123456789-abcdefghij")]) { client in
                    let error = try await #require(throws: PostgresError.self) {
                        try await client.execute("SELECT api.register_person($1, 'Wu Fang', NULL, true, '110105')", [id])
                    }
                    #expect(error.message.hasPrefix("R3: ") && error.detail == "field: national_id", "\(error)")
                }
                #expect(try await bank.footprint() == before)
            }
        }

        /// Issue 15, finding 4: the enrollment role selected the ciphertext and decrypted every
        /// national ID and phone number, unrecorded; a read through the api that was rolled back
        /// left no record. Now no worker's login reads ciphertext, a key or a decryption function,
        /// and staff see an identity only after the read's record is committed.
        @Test func finding4NoWorkerDecryptsAndEveryReadIsRecordedBeforeItIsShown() async throws {
            try await Bank.with { bank in
                let id = NationalID.sample(age: 45, serial: 85)
                let person = try await bank.completed("api.register_person($1, 'Zheng He', '13700137000', true, '110105')", [id])["person_id"]!
                for role in ["timebank_enrollment", "timebank_order", "timebank_settlement", "timebank_insurance_claim",
                             "timebank_notification", "timebank_api", "timebank_analyst"] {
                    try await bank.asLogin(memberOf: [role]) { connection in
                        try await expectRefused(connection, [
                            "SELECT national_id_encrypted FROM bank.person",
                            "SELECT phone_encrypted FROM bank.person",
                            "SELECT hash_key, encryption_key FROM bank.personal_data_key",
                            "SELECT bank.personal_data_decrypt('\\x00'::bytea)",
                            "SELECT public.pgp_sym_decrypt('\\x00'::bytea, 'k')",
                            "SELECT bank.rotate_personal_data_key()",
                        ])
                    }
                }
                try await bank.asLogin(memberOf: ["timebank_personal_data_reader"]) { reader in
                    // Recorded and read in one transaction: refused, so a rollback cannot erase a read.
                    let sameTransaction = try await #require(throws: PostgresError.self) {
                        try await reader.transaction { connection in
                            let read = try connection.query("SELECT api.record_personal_data_read('city-desk', $1, 'an accident claim') AS id", [person])[0]
                                .decode("id", as: Int64.self)
                            _ = try connection.query("SELECT * FROM api.read_personal_data($1)", [read])
                        }
                    }
                    #expect(sameTransaction.message.hasPrefix("R23: ") && sameTransaction.detail == "field: read_id", "\(sameTransaction)")
                    #expect(try await bank.count("bank.personal_data_read WHERE person_id = $1", [person]) == 0)
                    // Recorded first (committed), then shown, and the record stays whatever the reading transaction does.
                    let read = try await reader.query("SELECT api.record_personal_data_read('city-desk', $1, 'an accident claim') AS id", [person])[0]
                        .decode("id", as: Int64.self)
                    try await Task.sleep(for: .milliseconds(5))
                    let identity = try await reader.transaction { connection in
                        let rows = try connection.query("SELECT national_id, phone FROM api.read_personal_data($1)", [read])
                        return (try rows[0].decode("national_id", as: String.self), try rows[0].decode("phone", as: String.self))
                    }
                    #expect(identity.0 == id && identity.1 == "13700137000")
                }
                #expect(try await bank.count("bank.personal_data_read WHERE person_id = $1 AND staff = 'city-desk'", [person]) == 1)
                // Another login cannot use that read.
                try await bank.asLogin(memberOf: ["timebank_personal_data_reader"]) { other in
                    let read = try await bank.owner.query("SELECT max(id) AS id FROM bank.personal_data_read")[0].decode("id", as: Int64.self)
                    let error = try await #require(throws: PostgresError.self) {
                        try await other.query("SELECT * FROM api.read_personal_data($1)", [read])
                    }
                    #expect(error.message.hasPrefix("R23: ") && error.detail == "field: read_id")
                }
            }
        }

        @Test func r23OnlyPersonalDataReadersReadAnIdentityAndEachReadIsRecorded() async throws {
            try await Bank.with { bank in
                let id = NationalID.sample(age: 45, serial: 83)
                let person = try await bank.completed("api.register_person($1, 'Zhou Min', '13500135000', true, '110105')", [id])["person_id"]!
                let reader = try await PostgresConnection.connect(bank.database.settings.with(parameter: "role", "timebank_personal_data_reader"))
                let read = try await reader.query("SELECT api.record_personal_data_read('city-desk', $1, 'checking an accident claim') AS id", [person])[0]
                    .decode("id", as: Int64.self)
                try await Task.sleep(for: .milliseconds(5))
                let identity = try await reader.query("SELECT national_id, phone FROM api.read_personal_data($1)", [read])
                #expect(try identity[0].decode("national_id", as: String.self) == id)
                #expect(try identity[0].decode("phone", as: String.self) == "13500135000")
                let reads = try await bank.owner.query("SELECT staff, purpose, login FROM bank.personal_data_read WHERE person_id = $1", [person])
                #expect(reads.count == 1)
                #expect(try reads[0].decode("staff", as: String.self) == "city-desk" && reads[0].decode("purpose", as: String.self) == "checking an accident claim")
                let unexplained = try await #require(throws: PostgresError.self) {
                    try await reader.execute("SELECT api.record_personal_data_read('city-desk', $1, '')", [person])
                }
                #expect(unexplained.message.hasPrefix("R23: ") && unexplained.detail == "field: purpose")
                // A staff act (finding 9): the member holds read_personal_data, for the person's district.
                try await StaffAdmin.add(bank.owner, code: "dongcheng-desk", districtCode: "110101", powers: ["read_personal_data"])
                try await StaffAdmin.add(bank.owner, code: "review-desk", districtCode: nil, powers: ["review"])
                let before = try await bank.count("bank.personal_data_read")
                for code in ["dongcheng-desk", "review-desk", "nobody"] {
                    let refused = try await #require(throws: PostgresError.self) {
                        try await reader.execute("SELECT api.record_personal_data_read($1, $2, 'curiosity')", [code, person])
                    }
                    #expect(refused.message.hasPrefix("R23: ") && refused.detail == "field: staff_code", "\(code): \(refused)")
                }
                #expect(try await bank.count("bank.personal_data_read") == before)
                #expect(try await bank.count("bank.personal_data_read r JOIN bank.staff_member m ON m.id = r.staff_member_id WHERE m.code = 'city-desk'") == 1)
                await reader.close()
                // A client application, an analyst, a worker: refused.
                for role in ["timebank_api", "timebank_analyst", "timebank_order"] {
                    let session = try await PostgresConnection.connect(bank.database.settings.with(parameter: "role", role))
                    for sql in ["SELECT api.record_personal_data_read('city-desk', $1, 'y')", "SELECT * FROM api.read_personal_data($1)"] {
                        let denied = try await #require(throws: PostgresError.self) { try await session.execute(sql, [person]) }
                        #expect(denied.code == .insufficientPrivilege, "\(role)")
                    }
                    await session.close()
                }
                #expect(try await bank.count("bank.personal_data_read") == 1)
            }
        }
    }
}
