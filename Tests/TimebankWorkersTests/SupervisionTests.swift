import Foundation
import PostgresClient
import Testing
import TimebankOperations
import TimebankWorkers

extension BankSuites {
    /// Issue 8: R21 alerts with their evidence and the watch list; R22 the dishonest list.
    @Suite struct SupervisionTests {
        /// Scans follow their events at once.
        func supervise(_ bank: Bank, _ settings: [String: Int] = [:]) async throws {
            try await bank.owner.execute("UPDATE bank.setting SET value = 0 WHERE name = 'alert_event_delay_seconds'")
            for (name, value) in settings {
                try await bank.owner.execute("UPDATE bank.setting SET value = $2::integer WHERE name = $1", [name, value])
            }
        }

        func alerts(_ bank: Bank, _ kind: String) async throws -> [(id: Int64, people: [Int64], evidence: String, status: String)] {
            try await bank.owner.query("SELECT id, people, evidence::text AS e, status FROM bank.alert WHERE kind = $1 ORDER BY id", [kind]).map {
                (try $0.decode("id"), try $0.decode("people"), try $0.decode("e"), try $0.decode("status"))
            }
        }

        /// Two bookings by `volunteer` of services 30 minutes apart, submitted together: the
        /// database books one and refuses the other (R20).
        func raceOverlappingBookings(_ bank: Bank, elder: Int64, volunteer: Int64, startingIn seconds: Int) async throws {
            let first = try await bank.publishedService(elder: elder, minutes: 60, startsIn: .seconds(Int64(seconds)))
            let second = try await bank.publishedService(elder: elder, minutes: 60, startsIn: .seconds(Int64(seconds + 1800)))
            let (one, two) = try await bank.submitRacing(("api.book_service($1, $2)", [first, volunteer]), ("api.book_service($1, $2)", [second, volunteer]))
            let refusals = [try await bank.outcome(one).refusal, try await bank.outcome(two).refusal].compactMap { $0 }
            #expect(refusals.count == 1 && refusals[0].hasPrefix("R20:"), "\(refusals)")
        }

        /// An elder over 60 who also volunteers.
        func elderVolunteer(_ bank: Bank, _ serial: Int) async throws -> Int64 {
            let person = try await bank.registerElder(serial)
            try await bank.completed("api.apply_volunteer($1, current_date - 30)", [person])
            return person
        }

        @Test func r21TwoPeopleServingEachOtherRaiseOneAlertWithTheServicesAsEvidence() async throws {
            try await Bank.with { bank in
                try await supervise(bank, ["alert_mutual_services": 2])
                let a = try await elderVolunteer(bank, 61)
                let b = try await elderVolunteer(bank, 62)
                let first = try await bank.served(elder: b, volunteer: a)
                #expect(try await alerts(bank, "mutual_services").isEmpty)
                let second = try await bank.served(elder: a, volunteer: b)
                try await bank.eventually("EXISTS (SELECT 1 FROM bank.alert WHERE kind = 'mutual_services')")
                let found = try await alerts(bank, "mutual_services")
                #expect(found.count == 1)
                #expect(Set(found[0].people) == [a, b])
                #expect(found[0].evidence == #"{"services": [\#(first), \#(second)]}"#)
                // The supervisors are told, and both people are on the watch list with their accounts.
                try await bank.eventually("EXISTS (SELECT 1 FROM bank.message WHERE template = 'supervision_alert' AND (params->>'alert_id')::bigint = $1)",
                                          [found[0].id])
                let watched = try await SupervisionAdmin.watchList(bank.owner).filter { [a, b].contains($0.personID) }
                #expect(watched.count == 2)
                #expect(watched.allSatisfy { $0.accountID != nil && $0.openAlerts >= 1 && $0.kinds.contains("mutual_services") && !$0.dishonest })
                #expect(try await SupervisionAdmin.alerts(bank.owner).contains { $0.id == found[0].id })
                // Scanning again changes nothing.
                try await bank.owner.execute("SELECT bank.supervision_scan()")
                #expect(try await alerts(bank, "mutual_services").count == 1)
            }
        }

        @Test func r21AServiceLateAtNightInBeijingRaisesAnAlertADaytimeOneDoesNot() async throws {
            try await Bank.with { bank in
                // The scans that check-outs ask for are put off past the test: a check-out
                // made while it is night in Beijing (the test's real clock) would otherwise
                // raise its alert before the service is moved to noon.
                try await supervise(bank, ["alert_event_delay_seconds": 3600])
                let elder = try await bank.registerElder(63)
                let volunteer = try await bank.registerVolunteer(64)
                let night = try await bank.served(elder: elder, volunteer: volunteer)
                try await bank.travel(service: night, minutes: 3 * 24 * 60)  // frees the hour for the next one
                let day = try await bank.served(elder: elder, volunteer: volunteer)
                // Yesterday 12:00-13:00 and 23:00-24:00, Beijing time: the day one moved
                // first, away from the last hour (else, run between 23:00 and 01:00 Beijing
                // time, the night one would overlap it: R20), the night one three days back.
                for (service, hour) in [(day, 12), (night, 23)] {
                    try await bank.owner.execute("""
                        UPDATE bank.service
                           SET starts_at = ((now() AT TIME ZONE 'Asia/Shanghai')::date - 1 + make_interval(hours => $2::integer)) AT TIME ZONE 'Asia/Shanghai',
                               ends_at = ((now() AT TIME ZONE 'Asia/Shanghai')::date - 1 + make_interval(hours => $2::integer + 1)) AT TIME ZONE 'Asia/Shanghai',
                               checked_in_at = ((now() AT TIME ZONE 'Asia/Shanghai')::date - 1 + make_interval(hours => $2::integer)) AT TIME ZONE 'Asia/Shanghai',
                               checked_out_at = ((now() AT TIME ZONE 'Asia/Shanghai')::date - 1 + make_interval(hours => $2::integer + 1)) AT TIME ZONE 'Asia/Shanghai'
                         WHERE id = $1
                        """, [service, hour])
                }
                try await bank.owner.execute("SELECT bank.supervision_scan()")  // the scheduled scan's work
                let subjects = try await bank.owner.query("SELECT subject FROM bank.alert WHERE kind = 'late_night_service'")
                    .map { try $0.decode("subject", as: String.self) }
                #expect(subjects.contains("late_night:\(night)"))
                #expect(!subjects.contains("late_night:\(day)"))
            }
        }

        @Test func r21FrequentGiftsAndRepeatedOverlappingBookingsRaiseAlerts() async throws {
            try await Bank.with { bank in
                try await supervise(bank, ["alert_gifts": 2, "alert_overlap_attempts": 1])
                let elder = try await bank.registerElder(65, coins: 10)
                let child = try await bank.registerVolunteer(66)
                try await bank.travel(service: try await bank.served(elder: elder, volunteer: child), minutes: 24 * 60)
                _ = try await bank.served(elder: elder, volunteer: child)
                try await bank.eventually("bank.available_minutes($1) >= 120", [child])  // both services settled
                let relationship = try await bank.completed("api.declare_relative($1, $2, 'parent')", [child, elder])["relationship_id"]!
                try await bank.asStaff.completed("api.verify_relative('city-desk', $1, 'household register 0042')", [relationship])
                try await bank.completed("api.gift_coins($1, $2, 1)", [child, elder])
                try await bank.completed("api.gift_coins($1, $2, 1)", [child, elder])
                try await bank.eventually("EXISTS (SELECT 1 FROM bank.alert WHERE kind = 'frequent_gifts' AND subject = 'gifts:' || $1)", [child])
                let gifts = try await alerts(bank, "frequent_gifts").first { $0.people.first == child }
                #expect(gifts?.evidence.hasPrefix(#"{"transfers": ["#) == true)

                // R20: two overlapping bookings racing; the database refuses one. (A booking the api
                // refuses at once changes nothing, so leaves nothing to count.)
                try await raceOverlappingBookings(bank, elder: elder, volunteer: child, startingIn: 3 * 3600)
                try await bank.eventually("EXISTS (SELECT 1 FROM bank.alert WHERE kind = 'overlapping_bookings')")
                #expect(try await alerts(bank, "overlapping_bookings").map(\.people) == [[child]])
            }
        }

        @Test func r21ADismissedAlertStaysDismissedUntilThereIsNewEvidence() async throws {
            try await Bank.with { bank in
                try await supervise(bank, ["alert_overlap_attempts": 1])
                let elder = try await bank.registerElder(67, coins: 10)
                let volunteer = try await bank.registerVolunteer(68)
                try await raceOverlappingBookings(bank, elder: elder, volunteer: volunteer, startingIn: 3 * 3600)
                try await bank.eventually("EXISTS (SELECT 1 FROM bank.alert WHERE kind = 'overlapping_bookings')")
                let alert = try await alerts(bank, "overlapping_bookings")[0].id

                let error = try await #require(throws: PostgresError.self) {
                    try await bank.asStaff.client.execute("SELECT api.dismiss_alert('city-desk', $1, '')", [alert])
                }
                #expect(error.message.hasPrefix("R21: ") && error.detail == "field: reason")
                try await bank.asStaff.client.execute("SELECT api.dismiss_alert('city-desk', $1, 'a mistaken tap, confirmed by phone')", [alert])
                try await bank.owner.execute("SELECT bank.supervision_scan()")
                #expect(try await alerts(bank, "overlapping_bookings").map(\.status) == ["dismissed"])

                // New evidence opens a new alert.
                try await raceOverlappingBookings(bank, elder: elder, volunteer: volunteer, startingIn: 6 * 3600)
                try await bank.eventually("(SELECT count(*) FROM bank.alert WHERE kind = 'overlapping_bookings') = 2")
                #expect(try await alerts(bank, "overlapping_bookings").map(\.status) == ["dismissed", "open"])
            }
        }

        @Test func r22ConfirmedFraudListsThePersonStopsTheirServiceAndTakesBackTheCoinsByCorrectingTransfers() async throws {
            try await Bank.with { bank in
                try await supervise(bank, ["alert_mutual_services": 2])
                let a = try await elderVolunteer(bank, 71)
                let b = try await elderVolunteer(bank, 72)
                let fraudulent = try await bank.served(elder: b, volunteer: a)
                _ = try await bank.served(elder: a, volunteer: b)
                try await bank.eventually("(SELECT count(*) FROM bank.service WHERE settled_at IS NOT NULL) = 2")
                try await bank.eventually("EXISTS (SELECT 1 FROM bank.alert WHERE kind = 'mutual_services')")
                let alert = try await alerts(bank, "mutual_services")[0].id
                let before = try await bank.balance(a)
                let transfers = try await bank.count("bank.transfer")

                try await bank.asStaff.expectRefusal("api.confirm_fraud('city-desk', $1, 'collusion', NULL, ARRAY[$2]::bigint[])",
                                             [a, Int64(999_999)], rule: "R22", field: "services")
                let result = try await bank.asStaff.completed("api.confirm_fraud('city-desk', $1, 'collusion between two accounts', $2, ARRAY[$3]::bigint[])",
                                                      [a, alert, fraudulent])
                #expect(result["reversed_minutes"] == 60)
                #expect(try await bank.count("bank.dishonest_person WHERE person_id = $1", [a]) == 1)
                #expect(try await alerts(bank, "mutual_services")[0].status == "confirmed")
                // Taken back by one correcting transfer; nothing edited.
                #expect(try await bank.count("bank.transfer") == transfers + 1)
                #expect(try await bank.count("bank.transfer WHERE kind = 'service_reversal' AND service_id = $1 AND amount = 60", [fraudulent]) == 1)
                #expect(try await bank.balance(a).available == before.available - 60)
                #expect(try await bank.ledgerProblems() == [])

                // No new booking, no reinstatement, through the api...
                let open = try await bank.publishedService(elder: b, minutes: 60, startsIn: .seconds(4 * 3600))
                try await bank.expectRefusal("api.book_service($1, $2)", [open, a], rule: "R3", field: "volunteer_id")
                try await bank.asStaff.expectRefusal("api.set_person_status('city-desk', $1, 'active', 'appeal')", [a], rule: "R22", field: "status")
                // ...nor by any worker writing the tables itself (no worker's login writes a table:
                // issue 15), nor by the tables' owner (a DBA's session): the R22 triggers hold for all.
                try await bank.asLogin(memberOf: ["timebank_order"]) { order in
                    try await expectRefused(order, ["UPDATE bank.service SET status = 'booked', volunteer_id = \(a), booked_at = now() WHERE id = \(open)"])
                }
                try await bank.asLogin(memberOf: ["timebank_enrollment"]) { enrollment in
                    try await expectRefused(enrollment, ["UPDATE bank.person SET status = 'active' WHERE id = \(a)"])
                }
                let booking = try await #require(throws: PostgresError.self) {
                    try await bank.owner.execute("UPDATE bank.service SET status = 'booked', volunteer_id = $2, booked_at = now() WHERE id = $1", [open, a])
                }
                #expect(booking.message.hasPrefix("R22: "))
                let reinstated = try await #require(throws: PostgresError.self) {
                    try await bank.owner.execute("UPDATE bank.person SET status = 'active' WHERE id = $1", [a])
                }
                #expect(reinstated.message.hasPrefix("R22: "))
            }
        }
    }
}
