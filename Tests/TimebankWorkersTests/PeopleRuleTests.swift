import Foundation
import PostgresClient
import TimebankOperations
import TimebankWorkers
import Testing

extension BankSuites {
    /// R5, R24, R25 and the account's lifecycle, through the api.
    @Suite struct PeopleRuleTests {
        func insured(_ bank: Bank, _ person: Int64, _ day: String) async throws -> String? {
            try await bank.client.query("SELECT api.insured_on($1, $2::date) AS how", [person, day])[0].decode("how")
        }

        @Test func r24AVolunteerApprovedByVolunteerBeijingIsInsuredFromApproval() async throws {
            try await Bank.with { bank in
                let volunteer = try await bank.registerVolunteer(1)
                let other = try await bank.registerVolunteer(2)
                let id = NationalID.sample(age: 30, serial: 1)
                // The registry's own role fills its feed: an approved real-name record, one not approved, one unknown.
                let registry = try await PostgresConnection.connect(bank.database.settings.with(parameter: "role", "timebank_registry"))
                try await registry.execute("""
                    INSERT INTO bank.volunteer_beijing_feed (record_id, national_id, real_name_verified, approved_on) VALUES
                        ('VB-1', $1, true, DATE '2026-03-01'),
                        ('VB-2', $2, false, NULL),
                        ('VB-3', '110101199001010011', true, DATE '2026-03-01')
                    """, [id, NationalID.sample(age: 30, serial: 2)])
                let denied = try await #require(throws: PostgresError.self) { try await registry.execute("SELECT * FROM bank.person") }
                #expect(denied.code == .insufficientPrivilege)
                await registry.close()

                let first = try await bank.asStaff.completed("api.import_volunteer_beijing('city-desk')", [])
                #expect(first == ["imported": 1, "unmatched": 1])
                let again = try await bank.asStaff.completed("api.import_volunteer_beijing('city-desk')", [])   // idempotent
                #expect(again["imported"] == 0)
                #expect(try await insured(bank, volunteer, "2026-03-01") == "volunteer_beijing")
                #expect(try await insured(bank, volunteer, "2026-02-28") == nil)
                #expect(try await insured(bank, other, "2026-06-01") == nil)   // not real-name approved
            }
        }

        @Test func r25OtherwiseTheOrganisationConfirmsAPolicyForItsPeriod() async throws {
            try await Bank.with { bank in
                let volunteer = try await bank.registerVolunteer(3)
                let elder = try await bank.registerElder(4, coins: nil)
                let confirm = "api.confirm_insurance('city-desk', $1, 'Chaoyang Volunteers Association', $2, DATE '2026-01-01', DATE '2026-12-31')"
                try await bank.asStaff.completed(confirm, [volunteer, "PICC-778"])
                #expect(try await insured(bank, volunteer, "2026-07-01") == "policy Chaoyang Volunteers Association PICC-778")
                #expect(try await insured(bank, volunteer, "2027-01-01") == nil)
                try await bank.asStaff.expectRefusal(confirm, [elder, "X-1"], rule: "R25", field: "person_id")
                try await bank.asStaff.expectRefusal(confirm, [volunteer, " "], rule: "R25", field: "policy_number")
            }
        }

        @Test func aSuspendedVolunteerBooksNothingAndIsPaidOnlyWhenReinstated() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(5)
                let volunteer = try await bank.registerVolunteer(6)
                let service = try await bank.publishedService(elder: elder, minutes: 60)
                let other = try await bank.publishedService(elder: elder, minutes: 60, startsIn: .seconds(5 * 3600))
                try await bank.completed("api.book_service($1, $2)", [service, volunteer])
                try await bank.travel(service: service, minutes: 61)
                try await bank.completed("api.check_in($1, $2)", [service, volunteer])
                try await bank.travel(service: service, minutes: 45)
                try await bank.asStaff.completed("api.set_person_status('city-desk', $1, 'suspended', 'complaint under review')", [volunteer])
                // Suspended: no booking; checking out the service in progress is allowed, the pay waits.
                try await bank.expectRefusal("api.book_service($1, $2)", [other, volunteer], rule: "R3", field: "volunteer_id")
                try await bank.completed("api.check_out($1, $2)", [service, volunteer])
                try await bank.eventually("""
                    SELECT state = 'scheduled' AND run_at > now() + interval '50 minutes' FROM jobs.job
                     WHERE kind = 'settlement.settle' AND unique_key = $1::text
                    """, [service])
                #expect(try await bank.balance(volunteer).posted == 0)
                #expect(try await bank.ledgerProblems() == [])   // queued, held: nothing broken
                // Reinstated: the waiting settlement pays (its job brought forward here instead of waiting the hour).
                try await bank.asStaff.completed("api.set_person_status('city-desk', $1, 'active', 'complaint dismissed')", [volunteer])
                try await bank.owner.execute("UPDATE jobs.job SET run_at = now() WHERE kind = 'settlement.settle' AND unique_key = $1::text", [service])
                try await bank.eventually("SELECT settled_at IS NOT NULL FROM bank.service WHERE id = $1", [service])
                #expect(try await bank.balance(volunteer).posted == 45)
            }
        }

        @Test func aClosedAccountDoesNothingNewAndKeepsItsHistory() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(7)
                let service = try await bank.publishedService(elder: elder, minutes: 60)
                try await bank.asStaff.expectRefusal("api.set_person_status('city-desk', $1, 'closed', 'moved away')", [elder], rule: "R3", field: "person_id")
                try await bank.completed("api.cancel_service($1, $2)", [service, elder])
                try await bank.eventually("SELECT hold_released_at IS NOT NULL FROM bank.service WHERE id = $1", [service])
                try await bank.asStaff.completed("api.set_person_status('city-desk', $1, 'closed', 'moved away')", [elder])
                try await bank.expectRefusal(
                    "api.publish_demand($1, 'assistance', '110105', 'help', date_trunc('minute', now()) + interval '1 day', 30)", [elder],
                    rule: "R3", field: "elder_id")
                try await bank.asStaff.expectRefusal("api.set_person_status('city-desk', $1, 'active', 'back')", [elder], rule: "R3", field: "person_id")
                #expect(try await bank.balance(elder).posted == 600)   // the history and the coins stay
                #expect(try await bank.count("bank.service WHERE elder_id = $1", [elder]) == 1)
            }
        }

        @Test func r5AgentInstitutionsActOnlyForTheirPeopleAndEveryStateChangeRecordsWho() async throws {
            try await Bank.with { bank in
                let institution = try await bank.asStaff.completed("""
                    api.register_agent_institution('city-desk', 'Jinsong Elder Service Station', '110105', 'Jinsong Street Office', 'JS-2026-014',
                                                   '[{"code": "w01", "name": "Wang Li"}]'::jsonb)
                    """, [])["institution_id"]!
                // An unconfirmed staff member cannot act.
                let stranger = try await #require(throws: PostgresError.self) {
                    try await bank.client.execute("SELECT api.act_as_agent($1, 'w99')", [institution])
                }
                #expect(stranger.message.hasPrefix("R5: ") && stranger.detail == "field: institution_id")
                let selfRegistered = try await bank.registerElder(8)
                let volunteer = try await bank.registerVolunteer(9)

                // The agent registers an elder who has no smartphone, and acts for her from then on.
                try await bank.client.execute("SELECT api.act_as_agent($1, 'w01')", [institution])
                let elder = try await bank.completed("api.register_person($1, 'Zhang Xiu', NULL, true, '110105')",
                                                     [NationalID.sample(age: 81, serial: 10)])["person_id"]!
                try await bank.completed("api.authenticate_elder($1)", [elder])
                try await bank.expectRefusal("api.apply_volunteer($1, current_date - 1)", [selfRegistered], rule: "R5", field: "agent")
                // Nor as staff: the residents' role executes no staff act at all (issue 15, finding 9).
                let staffAct = try await #require(throws: PostgresError.self) {
                    try await bank.client.execute("SELECT api.set_district_budget('city-desk', '110101', current_date, current_date, 1)")
                }
                #expect(staffAct.code == .insufficientPrivilege, "\(staffAct)")
                try await bank.client.execute("SELECT api.act_as_agent(NULL, NULL)")
                try await bank.asStaff.completed("api.grant_coins('city-desk', '110105', $1, 'very_old', 5)", [elder])
                try await bank.client.execute("SELECT api.act_as_agent($1, 'w01')", [institution])
                let service = try await bank.completed(
                    "api.publish_demand($1, 'assistance', '110105', 'shopping', date_trunc('minute', now()) + interval '3 hours', 60)",
                    [elder])["service_id"]!
                try await bank.client.execute("SELECT api.act_as_agent(NULL, NULL)")
                try await bank.asStaff.completed("api.review_demand('city-desk', $1, true)", [service])
                try await bank.completed("api.book_service($1, $2)", [service, volunteer])
                try await bank.client.execute("SELECT api.act_as_agent($1, 'w01')", [institution])
                try await bank.completed("api.cancel_service($1, $2)", [service, elder])
                try await bank.client.execute("SELECT api.act_as_agent(NULL, NULL)")

                let history = try await bank.client.query("SELECT status, performed_by FROM api.service_history($1)", [service])
                    .map { "\(try $0.decode("status", as: String.self)) by \(try $0.decode("performed_by", as: String.self))" }
                #expect(history == [
                    "awaiting_review by agent \(institution) staff w01 for the elder",
                    "published by staff city-desk",   // a staff act names the member (issue 15, finding 9)
                    "booked by volunteer",            // by role, never by name (issue 19)
                    "cancelled by agent \(institution) staff w01 for the elder",
                ])
                #expect(try await bank.count("bank.request WHERE agent_institution_id = $1 AND agent_staff = 'w01'", [institution]) == 4)
            }
        }
    }
}
