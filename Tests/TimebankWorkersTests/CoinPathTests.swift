import Foundation
import PostgresClient
import TimebankOperations
import TimebankWorkers
import Testing

extension BankSuites {
    /// The coin's path, start to finish, through the api functions only (the
    /// owner session only moves a service's clock and looks at rows).
    @Suite struct CoinPathTests {
        @Test func grantPublishBookServeAndSettleThroughTheAPI() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(1, coins: 10)        // R9: 600 minutes
                let volunteer = try await bank.registerVolunteer(2)
                #expect(try await bank.balance(elder) == .init(available: 600, held: 0, posted: 600))

                let service = try await bank.publishedService(elder: elder, minutes: 120)   // R16: held at once
                #expect(try await bank.balance(elder) == .init(available: 480, held: 120, posted: 600))
                #expect(try await bank.serviceStatus(service) == "published")

                try await bank.completed("api.book_service($1, $2)", [service, volunteer])           // R17
                #expect(try await bank.serviceStatus(service) == "booked")
                try await bank.travel(service: service, minutes: 61)   // check-in opens an hour before the start
                try await bank.completed("api.check_in($1, $2)", [service, volunteer])               // R18
                // Ninety minutes and some seconds of service: 90 whole minutes earned.
                try await bank.travel(service: service, minutes: 90)
                try await bank.owner.execute("UPDATE bank.service SET checked_in_at = checked_in_at - interval '20 seconds' WHERE id = $1", [service])
                try await bank.completed("api.check_out($1, $2)", [service, volunteer])              // R18, R6
                try await bank.eventually("SELECT settled_at IS NOT NULL FROM bank.service WHERE id = $1", [service])

                let settled = try await bank.client.query("SELECT settled_minutes FROM api.service_status($1)", [service])[0]
                let minutes: Int = try settled.decode("settled_minutes")
                #expect(minutes == 90)
                #expect(try await bank.balance(volunteer) == .init(available: 90, held: 0, posted: 90))   // R6
                #expect(try await bank.balance(elder) == .init(available: 510, held: 0, posted: 510))     // the rest released
                #expect(try await bank.ledgerProblems() == [])
            }
        }

        @Test func aClientWatchingARequestIsNotifiedWhenItEnds() async throws {
            try await Bank.with { bank in
                let listener = try await PostgresConnection.connect(bank.database.settings.with(parameter: "role", "timebank_api"))
                try await listener.listen("timebank_requests")
                // Submitted and watched in one transaction: a worker cannot finish the request
                // before it is watched (a request that finished first is answered by
                // watch_request's own result, and sends no notification).
                let id = NationalID.sample(age: 40, serial: 5)
                let request = try await listener.transaction { connection in
                    let request = try connection.query("SELECT api.register_person($1, 'Zhao', NULL, true, '110101') AS id", [id])[0]
                        .decode("id", as: Int64.self)
                    let watched = try connection.query("SELECT status FROM api.watch_request($1)", [request])[0].decode("status", as: String.self)
                    #expect(watched == "pending")
                    return request
                }
                var payload: String?
                let deadline = ContinuousClock.now + .seconds(20)
                while payload == nil && ContinuousClock.now < deadline {
                    if case .notification(let notification)? = try await listener.nextNotification(timeout: .seconds(1)) {
                        payload = notification.payload
                    }
                }
                #expect(payload == String(request))
                #expect(try await bank.outcome(request).status == "completed")
                await listener.close()
            }
        }

        @Test func cancellingReleasesTheHold() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(11)
                let service = try await bank.publishedService(elder: elder, minutes: 60)
                #expect(try await bank.balance(elder).held == 60)
                try await bank.completed("api.cancel_service($1, $2)", [service, elder])
                try await bank.eventually("SELECT hold_released_at IS NOT NULL FROM bank.service WHERE id = $1", [service])
                #expect(try await bank.serviceStatus(service) == "cancelled")
                #expect(try await bank.balance(elder) == .init(available: 600, held: 0, posted: 600))
                #expect(try await bank.ledgerProblems() == [])
            }
        }

        @Test func aRejectedDemandReleasesTheHold() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(12)
                let service = try await bank.completed(
                    "api.publish_demand($1, 'legal_aid', '110105', 'a will', date_trunc('minute', now()) + interval '1 day', 45)",
                    [elder])["service_id"]!
                #expect(try await bank.serviceStatus(service) == "awaiting_review")
                try await bank.asStaff.completed("api.review_demand('city-desk', $1, false, 'not a legal matter')", [service])
                try await bank.eventually("SELECT hold_released_at IS NOT NULL FROM bank.service WHERE id = $1", [service])
                #expect(try await bank.serviceStatus(service) == "rejected")
                #expect(try await bank.balance(elder).available == 600)
            }
        }

        @Test func anUnbookedDemandExpiresAtItsStartAndItsHoldIsReleased() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(13)
                let service = try await bank.publishedService(elder: elder, minutes: 60, startsIn: .seconds(3600))
                try await bank.travel(service: service, minutes: 61)   // its start has passed; the expire job is due
                try await bank.eventually("SELECT hold_released_at IS NOT NULL FROM bank.service WHERE id = $1", [service])
                #expect(try await bank.serviceStatus(service) == "expired")
                #expect(try await bank.balance(elder).available == 600)
                #expect(try await bank.ledgerProblems() == [])
            }
        }

        @Test func aVolunteerWhoNeverChecksInIsANoShowAfterTheGraceAndTheHoldIsReleased() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(14)
                let volunteer = try await bank.registerVolunteer(15)
                let service = try await bank.publishedService(elder: elder, minutes: 60, startsIn: .seconds(3600))
                try await bank.completed("api.book_service($1, $2)", [service, volunteer])
                try await bank.travel(service: service, minutes: 60 + 10)   // started 10 minutes ago: within the grace
                try await Task.sleep(for: .milliseconds(500))
                #expect(try await bank.serviceStatus(service) == "booked")
                try await bank.travel(service: service, minutes: 30)   // 40 minutes past the start: the grace (30) is over
                try await bank.eventually("SELECT hold_released_at IS NOT NULL FROM bank.service WHERE id = $1", [service])
                #expect(try await bank.serviceStatus(service) == "no_show")
                #expect(try await bank.balance(elder).available == 600)
                #expect(try await bank.balance(volunteer).posted == 0)
            }
        }

        /// R6: how minutes are counted (sql/functions/settlement/settle.sql `bank.served_minutes`).
        @Test func servedMinutesAreWholeFromTheLaterOfCheckInAndStartAndNeverMoreThanBooked() async throws {
            try await Bank.with(workers: false) { bank in
                let served = { (checkIn: String, checkOut: String) async throws -> Int in
                    try await bank.owner.query("""
                        SELECT bank.served_minutes('2026-05-01 09:00+08', 60, $1::timestamptz, $2::timestamptz) AS m
                        """, [checkIn, checkOut])[0].decode("m")
                }
                let partial = try await served("2026-05-01 09:00+08", "2026-05-01 09:45:59+08")
                let early = try await served("2026-05-01 08:30+08", "2026-05-01 09:30+08")
                let over = try await served("2026-05-01 09:00+08", "2026-05-01 11:00+08")
                let short = try await served("2026-05-01 09:10+08", "2026-05-01 09:10:30+08")
                #expect(partial == 45)   // a started minute is not served
                #expect(early == 30)     // early check-in earns nothing extra
                #expect(over == 60)      // never more than booked
                #expect(short == 0)
            }
        }

        @Test func aServiceThatEarnedNothingReleasesItsWholeHold() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(16)
                let volunteer = try await bank.registerVolunteer(17)
                let service = try await bank.publishedService(elder: elder, minutes: 60, startsIn: .seconds(3000))
                try await bank.completed("api.book_service($1, $2)", [service, volunteer])
                try await bank.travel(service: service, minutes: 10)
                try await bank.completed("api.check_in($1, $2)", [service, volunteer])
                try await bank.completed("api.check_out($1, $2)", [service, volunteer])   // before the start: 0 minutes
                try await bank.eventually("SELECT settled_at IS NOT NULL FROM bank.service WHERE id = $1", [service])
                #expect(try await bank.balance(elder) == .init(available: 600, held: 0, posted: 600))
                #expect(try await bank.balance(volunteer).posted == 0)
                #expect(try await bank.ledgerProblems() == [])
            }
        }
    }
}
