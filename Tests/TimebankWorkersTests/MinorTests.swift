import Foundation
import PostgresClient
import TimebankOperations
import TimebankWorkers
import Testing

extension BankSuites {
    /// R2: minors serve only with a verified guardian, on the guardian's service.
    @Suite struct MinorTests {
        @Test func r2AMinorServesOnlyWithAVerifiedGuardianOnTheGuardiansService() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(1)
                let guardian = try await bank.registerVolunteer(2)
                let notVolunteer = try await bank.registerElder(3, coins: nil)
                let minor = try await bank.completed("api.register_person($1, 'Xiao Ming', NULL, true, '110105')",
                                                     [NationalID.sample(age: 15, serial: 4)])["person_id"]!
                func refusal(_ sql: String, _ parameters: [any PostgresEncodable]) async throws -> PostgresError {
                    try await bank.expectRefusal(sql, parameters, rule: nil, field: nil)
                }
                #expect(try await refusal("api.apply_volunteer($1, current_date - 1)", [minor]).message == "R1: a volunteer must be 18 or over")
                let badGuardian = try await refusal("api.link_guardian($1, $2, 'No. 80 Middle School')", [minor, notVolunteer])
                #expect(badGuardian.message.hasPrefix("R2: ") && badGuardian.detail == "field: guardian_id")
                let noSchool = try await refusal("api.link_guardian($1, $2, '')", [minor, guardian])
                #expect(noSchool.detail == "field: school")
                try await bank.completed("api.link_guardian($1, $2, 'No. 80 Middle School')", [minor, guardian])
                let unverified = try await refusal("api.apply_volunteer($1, current_date - 1)", [minor])
                #expect(unverified.message.hasPrefix("R2: ") && unverified.detail == "field: person_id")
                try await bank.asStaff.completed("api.verify_guardian('city-desk', $1, 'household register')", [minor])
                try await bank.completed("api.apply_volunteer($1, current_date - 1)", [minor])

                let service = try await bank.publishedService(elder: elder, minutes: 60)
                let alone = try await refusal("api.book_service($1, $2)", [service, minor])
                #expect(alone.message.hasPrefix("R2: ") && alone.detail == "field: volunteer_id")
                let notYetBooked = try await refusal("api.join_as_minor($1, $2)", [service, minor])
                #expect(notYetBooked.message.hasPrefix("R2: "))
                try await bank.completed("api.book_service($1, $2)", [service, guardian])
                try await bank.completed("api.join_as_minor($1, $2)", [service, minor])
                #expect(try await bank.count("bank.service WHERE id = $1 AND volunteer_id = $2 AND companion_id = $3", [service, guardian, minor]) == 1)
            }
        }
    }
}
