import Foundation
import PostgresClient
import TimebankOperations
import TimebankWorkers
import Testing

extension BankSuites {
    /// Every refusal of the api functions names the rule and the field, and
    /// leaves nothing behind: no request, no job, no person, no transfer.
    @Suite struct RefusalTests {
        @Test func r3NationalIDsAreCheckedToTheCheckDigit() async throws {
            try await Bank.with(workers: false) { bank in
                let valid = NationalID.sample(age: 40, serial: 1)
                let wrongCheck = String(valid.dropLast()) + (valid.last == "1" ? "2" : "1")
                let register = "api.register_person($1, 'Sun', NULL, true, '110101')"
                try await bank.expectRefusal(register, [wrongCheck], rule: "R3", field: "national_id")
                try await bank.expectRefusal(register, ["11010519800101"], rule: "R3", field: "national_id")
                try await bank.expectRefusal(register, [NationalID.make(birth: "19800230", sequence: 1)], rule: "R3", field: "national_id")
                try await bank.expectRefusal(register, [NationalID.make(birth: "20990101", sequence: 1)], rule: "R3", field: "national_id")
                try await bank.expectRefusal("api.register_person($1, '', NULL, true, '110101')", [valid], rule: "R3", field: "name")
                try await bank.expectRefusal("api.register_person($1, 'Sun', '12345', true, '110101')", [valid], rule: "R3", field: "phone")
                try await bank.expectRefusal("api.register_person($1, 'Sun', NULL, true, '990101')", [valid], rule: "R15", field: "district_code")
            }
        }

        @Test func r3OnePersonPerNationalID() async throws {
            try await Bank.with { bank in
                let id = NationalID.sample(age: 40, serial: 2)
                try await bank.completed("api.register_person($1, 'Sun', NULL, true, '110101')", [id])
                try await bank.expectRefusal("api.register_person($1, 'Sun Again', NULL, true, '110101')", [id], rule: "R3", field: "national_id")
                // Two registrations racing past the api's check: the second is refused by the worker (unique constraint).
                let other = NationalID.sample(age: 41, serial: 3)
                let (first, second) = try await bank.submitRacing(
                    ("api.register_person($1, 'Qian', NULL, true, '110101')", [other]),
                    ("api.register_person($1, 'Qian', NULL, true, '110101')", [other]))
                let outcomes = [try await bank.outcome(first), try await bank.outcome(second)]
                #expect(outcomes.map(\.status).sorted() == ["completed", "refused"])
                #expect(outcomes.compactMap(\.refusal).allSatisfy { $0.hasPrefix("R3:") })
                #expect(try await bank.count("bank.person WHERE national_id_hash = bank.personal_data_hash($1)", [other]) == 1)
                try await bank.eventually("SELECT count(*) = 2 FROM bank.account WHERE kind = 'personal'")
            }
        }

        @Test func r1VolunteersAreAdultResidentsWhoCompletedTraining() async throws {
            try await Bank.with { bank in
                let minor = try await bank.completed("api.register_person($1, 'Zhou', NULL, true, '110101')",
                                                     [NationalID.sample(age: 16, serial: 4)])["person_id"]!
                let visitor = try await bank.completed("api.register_person($1, 'Wu', NULL, false, '110101')",
                                                       [NationalID.sample(age: 30, serial: 5)])["person_id"]!
                let adult = try await bank.completed("api.register_person($1, 'Zheng', NULL, true, '110101')",
                                                     [NationalID.sample(age: 30, serial: 6)])["person_id"]!
                try await bank.expectRefusal("api.apply_volunteer($1, current_date - 1)", [minor], rule: "R1", field: "person_id")
                try await bank.expectRefusal("api.apply_volunteer($1, current_date - 1)", [visitor], rule: "R1", field: "person_id")
                try await bank.expectRefusal("api.apply_volunteer($1, NULL)", [adult], rule: "R1", field: "training_completed_on")
                try await bank.expectRefusal("api.apply_volunteer($1, current_date + 1)", [adult], rule: "R1", field: "training_completed_on")
                try await bank.expectRefusal("api.apply_volunteer(999999, current_date)", [], rule: "R3", field: "person_id")
                let error = try await #require(throws: PostgresError.self) {
                    _ = try await bank.submit("api.apply_volunteer($1, current_date - 1)", [minor])
                }
                #expect(error.message == "R1: a volunteer must be 18 or over")
            }
        }

        @Test func r4OnlyElders60OrOverAuthenticate() async throws {
            try await Bank.with { bank in
                let young = try await bank.completed("api.register_person($1, 'Wang', NULL, true, '110101')",
                                                     [NationalID.sample(age: 59, serial: 7)])["person_id"]!
                try await bank.expectRefusal("api.authenticate_elder($1)", [young], rule: "R4", field: "person_id")
            }
        }

        @Test func r9GrantsGoToAuthenticatedSpecialEldersForWholeCoins() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(8, coins: nil)   // 72 years old
                let volunteer = try await bank.registerVolunteer(9)
                let grant = "api.grant_coins('city-desk', $1, $2, $3, $4)"
                try await bank.asStaff.expectRefusal(grant, ["110199", elder, "dementia", 5], rule: "R9", field: "district_code")
                try await bank.asStaff.expectRefusal(grant, ["110105", volunteer, "dementia", 5], rule: "R9", field: "elder_id")
                try await bank.asStaff.expectRefusal(grant, ["110105", elder, "rich", 5], rule: "R9", field: "category")
                try await bank.asStaff.expectRefusal(grant, ["110105", elder, "very_old", 5], rule: "R9", field: "category")
                try await bank.asStaff.expectRefusal(grant, ["110105", elder, "dementia", 0], rule: "R9", field: "coins")
                try await bank.asStaff.expectRefusal(grant, ["110105", elder, "dementia", 1001], rule: "R9", field: "coins")
            }
        }

        @Test func r16OnlyAuthenticatedEldersWithEnoughCoinsPublish() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(10, coins: 1)   // 60 minutes
                let notElder = try await bank.registerVolunteer(11)
                let publish = "api.publish_demand($1, $2, '110105', 'help', date_trunc('minute', now()) + $3 * interval '1 minute', $4)"
                try await bank.expectRefusal(publish, [notElder, "assistance", 60, 30], rule: "R7", field: "elder_id")   // a volunteer under 60
                try await bank.expectRefusal(publish, [elder, "assistance", 60, 61], rule: "R16", field: "minutes")
                try await bank.expectRefusal(publish, [elder, "assistance", 60, 5], rule: "R16", field: "minutes")
                try await bank.expectRefusal(publish, [elder, "assistance", -5, 30], rule: "R16", field: "starts_at")
                try await bank.expectRefusal(publish, [elder, "dancing", 60, 30], rule: "R14", field: "category_code")
                // Held coins are not available twice.
                try await bank.completed(publish, [elder, "assistance", 60, 40])
                try await bank.expectRefusal(publish, [elder, "assistance", 200, 30], rule: "R16", field: "minutes")
            }
        }

        @Test func r17r18r20BookingsAndCheckInsFollowTheService() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(12)
                let volunteer = try await bank.registerVolunteer(13)
                let stranger = try await bank.registerVolunteer(14)
                let pending = try await bank.completed(
                    "api.publish_demand($1, 'assistance', '110105', 'help', date_trunc('minute', now()) + interval '2 hours', 60)",
                    [elder])["service_id"]!
                try await bank.expectRefusal("api.book_service($1, $2)", [pending, volunteer], rule: "R17", field: "service_id")
                try await bank.expectRefusal("api.book_service($1, $2)", [999_999, volunteer], rule: "R16", field: "service_id")
                try await bank.expectRefusal("api.book_service($1, $2)", [pending, elder], rule: "R1", field: "volunteer_id")

                let first = try await bank.publishedService(elder: elder, minutes: 60, startsIn: .seconds(3 * 3600))
                let overlapping = try await bank.publishedService(elder: elder, minutes: 60, startsIn: .seconds(3 * 3600 + 1800))
                try await bank.completed("api.book_service($1, $2)", [first, volunteer])
                try await bank.expectRefusal("api.book_service($1, $2)", [overlapping, volunteer], rule: "R20", field: "service_id")
                try await bank.expectRefusal("api.check_in($1, $2)", [first, stranger], rule: "R18", field: "volunteer_id")
                try await bank.expectRefusal("api.check_in($1, $2)", [first, volunteer], rule: "R18", field: "service_id")   // three hours early
                try await bank.expectRefusal("api.check_out($1, $2)", [first, volunteer], rule: "R18", field: "volunteer_id")
                try await bank.expectRefusal("api.cancel_service($1, $2)", [first, volunteer], rule: "R16", field: "elder_id")
            }
        }

        /// Issue 14: a check-in after the booked end is refused (R18), before
        /// anything is written; the service stays booked until it is a no-show.
        /// Before the rule, such a row made every supervision scan fail
        /// ("range lower bound must be less than or equal to range upper
        /// bound"); a row made directly, as an older database may hold, is
        /// now scanned too.
        @Test func r18ACheckInAfterTheBookedEndIsRefused() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(40)
                let volunteer = try await bank.registerVolunteer(41)
                let service = try await bank.publishedService(elder: elder, minutes: 15)
                try await bank.completed("api.book_service($1, $2)", [service, volunteer])
                try await bank.travel(service: service, minutes: 60 + 16)  // ended a minute ago; no-show only at start + 30
                let error = try await bank.expectRefusal("api.check_in($1, $2)", [service, volunteer], rule: "R18", field: "service_id")
                #expect(error.message.hasPrefix("R18: check-in closes at the booked end"))
                #expect(try await bank.serviceStatus(service) == "booked")

                // The same row made directly (as an outside fixture did): the scan copes.
                try await bank.owner.execute(
                    "UPDATE bank.service SET status = 'in_progress', checked_in_at = ends_at + interval '5 minutes' WHERE id = $1", [service])
                try await bank.owner.execute("SELECT bank.supervision_scan()")
            }
        }
    }
}
