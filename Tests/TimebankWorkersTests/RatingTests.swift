import Foundation
import PostgresClient
import TimebankWorkers
import Testing

extension BankSuites {
    /// R19: ratings, and reports that a service was not given.
    @Suite struct RatingTests {
        /// A service of `minutes` served and settled.
        func served(_ bank: Bank, elder: Int64, volunteer: Int64, minutes: Int) async throws -> Int64 {
            let service = try await bank.publishedService(elder: elder, minutes: 120)
            try await bank.completed("api.book_service($1, $2)", [service, volunteer])
            try await bank.travel(service: service, minutes: 61)
            try await bank.completed("api.check_in($1, $2)", [service, volunteer])
            try await bank.travel(service: service, minutes: minutes)
            try await bank.completed("api.check_out($1, $2)", [service, volunteer])
            try await bank.eventually("SELECT settled_at IS NOT NULL FROM bank.service WHERE id = $1", [service])
            return service
        }

        @Test func r19TheElderRatesOnceAfterCheckOutAndRatingsFeedTheFigures() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(1)
                let volunteer = try await bank.registerVolunteer(2)
                let pending = try await bank.publishedService(elder: elder, minutes: 60, startsIn: .seconds(6 * 3600))
                try await bank.expectRefusal("api.rate_service($1, $2, 5)", [pending, elder], rule: "R19", field: "service_id")
                let service = try await served(bank, elder: elder, volunteer: volunteer, minutes: 60)
                try await bank.expectRefusal("api.rate_service($1, $2, 6)", [service, elder], rule: "R19", field: "score")
                try await bank.expectRefusal("api.rate_service($1, $2, 4)", [service, volunteer], rule: "R19", field: "elder_id")
                try await bank.completed("api.rate_service($1, $2, 4, 'kind and on time')", [service, elder])
                try await bank.expectRefusal("api.rate_service($1, $2, 1)", [service, elder], rule: "R19", field: "service_id")
                let figures = try await bank.owner.query("SELECT ratings, average_score::float8 AS a FROM bank.volunteer_rating WHERE volunteer_id = $1", [volunteer])[0]
                #expect(try figures.decode("ratings", as: Int.self) == 1)
                #expect(try figures.decode("a", as: Double.self) == 4)
                #expect(try await bank.count("bank.district_rating WHERE district_code = '110105' AND ratings = 1") == 1)
            }
        }

        @Test func r19AnUpheldReportReversesTheSettlementAsFarAsTheBalanceAllowsAndRecordsTheDebt() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(3, coins: 10)
                let volunteer = try await bank.registerVolunteer(4)
                let relative = try await bank.registerElder(5, coins: nil)
                let first = try await served(bank, elder: elder, volunteer: volunteer, minutes: 90)
                // The volunteer gives 1 coin away first: only 30 of the 90 minutes can come back.
                let relationship = try await bank.completed("api.declare_relative($1, $2, 'parent')", [volunteer, relative])["relationship_id"]!
                try await bank.asStaff.completed("api.verify_relative('city-desk', $1, 'hukou')", [relationship])
                try await bank.completed("api.gift_coins($1, $2, 1)", [volunteer, relative])
                #expect(try await bank.balance(volunteer).available == 30)

                try await bank.expectRefusal("api.report_not_given($1, $2, '')", [first, elder], rule: "R19", field: "reason")
                try await bank.completed("api.report_not_given($1, $2, 'nobody came')", [first, elder])
                try await bank.asStaff.completed("api.decide_report('city-desk', $1, true, 'neighbours confirm')", [first])
                #expect(try await bank.balance(volunteer).available == 0)
                #expect(try await bank.balance(elder).available == 600 - 90 + 30)
                let dispute = try await bank.owner.query("SELECT reversed_minutes, debt_minutes FROM bank.service_dispute WHERE service_id = $1", [first])[0]
                #expect(try dispute.decode("reversed_minutes", as: Int.self) == 30)
                #expect(try dispute.decode("debt_minutes", as: Int.self) == 60)
                let earned = try await bank.client.query("SELECT earned_minutes FROM api.achievements($1) LIMIT 1", [volunteer])[0]
                #expect(try earned.decode("earned_minutes", as: Int.self) == 60)
                // The transfers are corrected, never edited: the credit is still there.
                #expect(try await bank.count("bank.transfer WHERE service_id = $1 AND kind = 'service_credit' AND amount = 90", [first]) == 1)
                #expect(try await bank.ledgerProblems() == [])

                // Outside the window (a service checked out 8 days ago; the window is 7): refused.
                try await bank.owner.execute("""
                    UPDATE bank.service SET starts_at = starts_at - interval '8 days', ends_at = ends_at - interval '8 days',
                           checked_in_at = checked_in_at - interval '8 days', checked_out_at = checked_out_at - interval '8 days'
                     WHERE id = $1
                    """, [first])
                let second = try await served(bank, elder: elder, volunteer: volunteer, minutes: 30)
                try await bank.owner.execute("""
                    UPDATE bank.service SET starts_at = starts_at - interval '9 days', ends_at = ends_at - interval '9 days',
                           checked_in_at = checked_in_at - interval '9 days', checked_out_at = checked_out_at - interval '9 days'
                     WHERE id = $1
                    """, [second])
                try await bank.expectRefusal("api.report_not_given($1, $2, 'again')", [second, elder], rule: "R19", field: "service_id")
            }
        }
    }
}
