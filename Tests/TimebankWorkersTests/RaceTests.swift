import Foundation
import PostgresClient
import TimebankWorkers
import Testing

extension BankSuites {
    /// Races the api functions cannot see: decided by the database itself.
    @Suite struct RaceTests {
        @Test func r16TwoDemandsRacingForAnEldersLastCoinsExactlyOneIsHeld() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(1, coins: 1)   // 60 minutes: enough for one 45-minute demand
                let publish = "api.publish_demand($1, 'assistance', '110105', 'help', date_trunc('minute', now()) + interval '1 day', 45)"
                // Both pass the api's check (nothing is held yet); the holds race in the settlement worker.
                let (first, second) = try await bank.submitRacing((publish, [elder]), (publish, [elder]))
                let outcomes = [try await bank.outcome(first), try await bank.outcome(second)]
                #expect(outcomes.map(\.status).sorted() == ["completed", "refused"])
                #expect(outcomes.compactMap(\.refusal).first?.hasPrefix("R16:") == true)
                #expect(try await bank.balance(elder) == .init(available: 15, held: 45, posted: 60))
                #expect(try await bank.count("bank.service") == 1)
                #expect(try await bank.count("bank.transfer WHERE kind = 'service_hold'") == 1)
                #expect(try await bank.ledgerProblems() == [])
            }
        }

        @Test func r20TwoBookingsRacingForOverlappingTimesExactlyOneSucceeds() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(2)
                let volunteer = try await bank.registerVolunteer(3)
                let a = try await bank.publishedService(elder: elder, minutes: 60, startsIn: .seconds(7200))
                let b = try await bank.publishedService(elder: elder, minutes: 60, startsIn: .seconds(7200 + 1800))
                let (first, second) = try await bank.submitRacing(
                    ("api.book_service($1, $2)", [a, volunteer]), ("api.book_service($1, $2)", [b, volunteer]))
                let outcomes = [try await bank.outcome(first), try await bank.outcome(second)]
                #expect(outcomes.map(\.status).sorted() == ["completed", "refused"])
                #expect(outcomes.compactMap(\.refusal) == ["R20: the volunteer has another booking at an overlapping time"])
                #expect(try await bank.count("bank.service WHERE volunteer_id = $1 AND status = 'booked'", [volunteer]) == 1)
            }
        }

        /// R20 is the database's: even a writer that skips every check cannot
        /// book one volunteer twice at once.
        @Test func r20TheExclusionConstraintRefusesOverlapsWhoeverWrites() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(4)
                let volunteer = try await bank.registerVolunteer(5)
                let a = try await bank.publishedService(elder: elder, minutes: 60, startsIn: .seconds(7200))
                let b = try await bank.publishedService(elder: elder, minutes: 60, startsIn: .seconds(7200 + 3540))
                try await bank.completed("api.book_service($1, $2)", [a, volunteer])
                let error = try await #require(throws: PostgresError.self) {
                    try await bank.owner.execute(
                        "UPDATE bank.service SET status = 'booked', volunteer_id = $2, booked_at = now() WHERE id = $1", [b, volunteer])
                }
                #expect(error.code == .exclusionViolation)
                #expect(error.constraint == "service_no_double_booking")
            }
        }
    }
}
