import Foundation
import PostgresClient
import TimebankWorkers
import Testing

extension BankSuites {
    /// R26 (with R24, R25): accident reports validated against the service record.
    @Suite struct ClaimTests {
        @Test func r26AnInsuredVolunteersReportDuringTheServiceIsValidated() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(1)
                let volunteer = try await bank.registerVolunteer(2)
                try await bank.insure(volunteer)
                let service = try await bank.served(elder: elder, volunteer: volunteer)
                let outcome = try await bank.reportAccident(service, volunteer, minutesAfterCheckIn: 20)
                #expect(outcome.status == "completed", "\(outcome.refusal ?? "")")
                let claim = try #require(outcome.result["claim_id"])
                let row = try await bank.owner.query("SELECT state, insured_by, documents FROM bank.accident_claim WHERE id = $1", [claim])[0]
                #expect(try row.decode("state", as: String.self) == "validated")
                #expect(try row.decode("insured_by", as: String.self) == "policy Chaoyang Volunteers Association PICC-1")
                #expect(try row.decode("documents", as: [String].self) == ["doc:x-ray-771"])
                let history = try await bank.client.query("SELECT state, performed_by FROM api.claim_history($1)", [claim])
                    .map { "\(try $0.decode("state", as: String.self)) by \(try $0.decode("performed_by", as: String.self))" }
                #expect(history == ["validated by volunteer"])   // by role (issue 19)
            }
        }

        @Test func r26ReportsThatDoNotMatchTheRecordAreRefusedWithTheReasonAndRecorded() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(3)
                let volunteer = try await bank.registerVolunteer(4)
                let other = try await bank.registerVolunteer(5)
                let uninsured = try await bank.registerVolunteer(6)
                try await bank.insure(volunteer)
                try await bank.insure(other)
                let service = try await bank.served(elder: elder, volunteer: volunteer)
                let uninsuredService = try await bank.served(elder: elder, volunteer: uninsured)
                let booked = try await bank.publishedService(elder: elder, minutes: 60, startsIn: .seconds(5 * 3600))
                try await bank.completed("api.book_service($1, $2)", [booked, other])
                let unreviewed = try await bank.completed(
                    "api.publish_demand($1, 'assistance', '110105', 'help', date_trunc('minute', now()) + interval '9 hours', 30)", [elder])["service_id"]!

                let cases: [(Int64, Int64, Int, String)] = [
                    (service, other, 10, "R26: the volunteer was not booked on the service"),
                    (booked, other, 0, "R26: the volunteer never checked in"),
                    (service, volunteer, -120, "R26: the accident time lies outside the service period"),
                    (uninsuredService, uninsured, 10, "R24, R25: the volunteer was not insured on that day"),
                    (unreviewed, volunteer, 0, "R26: the service was not published by the time bank"),
                ]
                for (claimedService, reporter, minutes, reason) in cases {
                    let outcome = try await bank.reportAccident(claimedService, reporter, minutesAfterCheckIn: minutes)
                    #expect(outcome.status == "refused")
                    #expect(outcome.refusal == reason)
                    let claim = try #require(outcome.result["claim_id"])
                    #expect(try await bank.count("bank.accident_claim WHERE id = $1 AND state = 'refused' AND refusal = $2", [claim, reason]) == 1)
                }
                // Unknown service or bad input: refused at once, nothing recorded.
                try await bank.expectRefusal(
                    "api.report_accident(999999, $1, now() - interval '1 hour', 'x', 'y')", [volunteer], rule: "R16", field: "service_id")
                try await bank.expectRefusal(
                    "api.report_accident($1, $2, now() + interval '1 hour', 'x', 'y')", [service, volunteer], rule: "R26", field: "occurred_at")
                try await bank.expectRefusal(
                    "api.report_accident($1, $2, now() - interval '1 hour', '', 'y')", [service, volunteer], rule: "R26", field: "place")
            }
        }
    }
}
