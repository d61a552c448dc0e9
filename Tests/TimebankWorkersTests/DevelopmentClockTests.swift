import DevCluster
import Foundation
import PostgresClient
import TimebankOperations
import Testing

/// Issue 19, item 6: the development clock. On a database marked as
/// development (the tests' are: their template is), the api and the workers
/// read one moved "now" (bank.clock_now), so a two-hour service is walked in
/// seconds through the api; anywhere else it is the real time, and nothing
/// can move it or mark the database.
extension BankSuites {
    @Suite struct DevelopmentClockTests {
        func advance(_ bank: Bank, _ by: String) async throws {
            _ = try await bank.client.query("SELECT * FROM api.advance_development_clock($1::interval)", [by])
        }

        /// R18, R6: booked for now, checked in, checked out two hours later and paid
        /// for the two hours, in seconds; R16: a demand nobody booked expires when the
        /// clock passes its start (its order.expire job moved with the clock).
        @Test func r18r6ATwoHourServiceIsCheckedOutTwoHoursLaterInSecondsAndPaidForTwoHours() async throws {
            try await Bank.with { bank in
                let started = ContinuousClock.now
                let elder = try await bank.registerElder(901)
                let volunteer = try await bank.registerVolunteer(902)
                let service = try await bank.publishedService(elder: elder, minutes: 120, startsIn: .seconds(300))
                let unbooked = try await bank.publishedService(elder: elder, minutes: 60, startsIn: .seconds(3600))
                try await bank.completed("api.book_service($1, $2)", [service, volunteer])
                try await advance(bank, "5 minutes")
                try await bank.completed("api.check_in($1, $2)", [service, volunteer])
                try await advance(bank, "2 hours")
                try await bank.completed("api.check_out($1, $2)", [service, volunteer])
                try await bank.eventually("(SELECT settled_at IS NOT NULL FROM bank.service WHERE id = $1)", [service])

                let row = try await bank.client.query("SELECT * FROM api.service_status($1)", [service])[0]
                #expect(try row.decode("settled_minutes", as: Int?.self) == 120)
                let checkedIn = try #require(try row.decode("checked_in_at", as: Date?.self))
                let checkedOut = try #require(try row.decode("checked_out_at", as: Date?.self))
                #expect(checkedOut.timeIntervalSince(checkedIn) >= 7200, "stamped on the clock: \(checkedIn) to \(checkedOut)")
                #expect(checkedOut.timeIntervalSinceNow > 7000, "the check-out is two hours ahead of the real time")
                #expect(try await bank.balance(volunteer) == Bank.Balance(available: 120, held: 0, posted: 120))
                try await bank.eventually("(SELECT status = 'expired' FROM bank.service WHERE id = $1)", [unbooked])
                try await bank.eventually("(SELECT debits_pending = 0 FROM bank.account WHERE person_id = $1)", [elder])
                #expect(try await bank.balance(elder) == Bank.Balance(available: 480, held: 0, posted: 480), "the expired demand's hold released")
                #expect(try await bank.ledgerProblems().isEmpty)
                #expect(ContinuousClock.now - started < .seconds(60))
                let clock = try await bank.client.query("SELECT development, offset_by::text AS o FROM api.development_clock()")[0]
                #expect(try clock.decode("development", as: Bool.self))
                #expect(try clock.decode("o", as: String.self) == "02:05:00")
            }
        }

        /// A database not marked as development (production): reading the clock gives the
        /// real time; moving it is refused naming the rule, as the api's own login, as the
        /// owner and through `timebank clock`, and changes nothing.
        @Test func theClockIsRefusedOnADatabaseNotMarkedAsDevelopment() async throws {
            try await Bank.with(workers: false) { bank in
                try await bank.owner.execute("DELETE FROM bank.development_clock")
                try await LoginAdmin.ensure(bank.owner, password: nil)
                func expectNotDevelopment(_ connection: PostgresConnection, _ sql: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
                    let error = try await #require(throws: PostgresError.self, "\(sql)", sourceLocation: sourceLocation) {
                        try await connection.query(sql)
                    }
                    #expect(error.code == PostgresError.Code("55000"), "\(error)", sourceLocation: sourceLocation)
                    #expect(error.message.hasPrefix("development clock: this database is not a development database"), "\(error)",
                            sourceLocation: sourceLocation)
                }
                let client = try await PostgresConnection.connect(bank.database.settings.withUser("timebank_api_login"))
                try await expectNotDevelopment(client, "SELECT * FROM api.advance_development_clock('2 hours')")
                let clock = try await client.query("SELECT development, offset_by::text AS o, abs(extract(epoch FROM clock_now - real_now)) AS d FROM api.development_clock()")[0]
                #expect(try !clock.decode("development", as: Bool.self))
                #expect(try clock.decode("o", as: String.self) == "00:00:00")
                await client.close()

                try await bank.owner.execute("SET ROLE timebank_owner")
                try await expectNotDevelopment(bank.owner, "SELECT * FROM api.advance_development_clock('2 hours')")
                try await expectNotDevelopment(bank.owner, "SELECT * FROM bank.advance_development_clock('2 hours')")
                try await expectNotDevelopment(bank.owner, "SELECT * FROM bank.reset_development_clock()")
                #expect(try await bank.owner.query("SELECT bank.clock_now() = now() AS real")[0].decode("real", as: Bool.self))
                try await bank.owner.execute("RESET ROLE")

                let cli = try await ChildProcess.run("/usr/bin/env", ["DATABASE_URL=\(bank.database.settings.conninfoWithDatabase)",
                                                                 ClientExample.timebank, "clock", "advance", "2h"])
                #expect(cli.status != 0)
                #expect(cli.output.contains("development clock: this database is not a development database"), "\(cli.output)")
                #expect(try await bank.count("bank.development_clock") == 0)
            }
        }

        /// Neither the api's login nor the staff's can mark a database as development,
        /// nor move, unmark or read its clock but through the api.
        @Test func noClientLoginMarksADatabaseAsDevelopmentOrMovesItsClockButThroughTheAPI() async throws {
            try await Bank.with(workers: false) { bank in
                try await LoginAdmin.ensure(bank.owner, password: nil)
                for login in ["timebank_api_login", "timebank_staff_login"] {
                    let connection = try await PostgresConnection.connect(bank.database.settings.withUser(login))
                    // On a development database: no direct write, no unmarking.
                    try await expectRefused(connection, [
                        "UPDATE bank.development_clock SET offset_by = interval '1 day'",
                        "DELETE FROM bank.development_clock",
                        "SELECT offset_by FROM bank.development_clock",
                        "SELECT bank.advance_development_clock(interval '1 day')",
                        "SELECT bank.reset_development_clock()",
                    ])
                    await connection.close()
                }
                try await bank.owner.execute("DELETE FROM bank.development_clock")
                for login in ["timebank_api_login", "timebank_staff_login"] {
                    let connection = try await PostgresConnection.connect(bank.database.settings.withUser(login))
                    // On a production database: no mark.
                    try await expectRefused(connection, [
                        "INSERT INTO bank.development_clock DEFAULT VALUES",
                        "SELECT bank.mark_development_database('an attacker')",
                    ])
                    await connection.close()
                }
                #expect(try await bank.count("bank.development_clock") == 0)
            }
        }

        /// Bad steps are refused naming the field and the rule, and move nothing.
        @Test func theClockMovesForwardOnlyByAPositiveInterval() async throws {
            try await Bank.with(workers: false) { bank in
                for by in ["-1 hour", "0", "11 years"] {
                    let error = try await #require(throws: PostgresError.self, "\(by)") {
                        try await bank.client.query("SELECT * FROM api.advance_development_clock($1::interval)", [by])
                    }
                    #expect(error.code == PostgresError.Code("22023"))
                    #expect(error.message.hasPrefix("development clock: "), "\(error)")
                    #expect(error.detail == "field: by", "\(error)")
                }
                let error = try await #require(throws: PostgresError.self) {
                    try await bank.client.query("SELECT * FROM api.advance_development_clock(NULL)")
                }
                #expect(error.detail == "field: by", "\(error)")
                #expect(try await bank.client.query("SELECT offset_by::text AS o FROM api.development_clock()")[0].decode("o", as: String.self) == "00:00:00")
            }
        }
    }
}
