import Foundation
import JobEngine
import PostgresClient
import TimebankWorkers

/// `timebank demo`: the coin's path with two sample people, through the
/// api functions as a client application calls them (as `timebank_api`)
/// and the civil-affairs desk's (as `timebank_staff`, under the demo's own
/// staff members: `demo-city` sets the budget, `demo-chaoyang` grants,
/// reviews and verifies), against running workers, printing each step and
/// the final balances.
///
/// A service lasts hours; the demo does not wait for them. On a
/// development database it moves the development clock (issue 19:
/// `api.advance_development_clock`, through the api like every other
/// step); on any other it moves the service's times into the past instead,
/// with the operator's session, and says so when it does: the only writes
/// not made through the api.
public struct Demo: Sendable {
    let operatorSettings: ConnectionSettings
    let say: @Sendable (String) -> Void

    public init(settings: ConnectionSettings, say: @escaping @Sendable (String) -> Void = { print($0) }) {
        self.operatorSettings = settings
        self.say = say
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs the demo. Starts a worker of each kind in this process when
    /// none is connected to the database (so it also runs on its own).
    public func run() async throws {
        let operatorSession = try await PostgresConnection.connect(operatorSettings)
        let client = try await PostgresConnection.connect(operatorSettings.with(parameter: "role", "timebank_api"))
        let desk = try await PostgresConnection.connect(operatorSettings.with(parameter: "role", "timebank_staff"))
        defer { Task { await client.close(); await desk.close(); await operatorSession.close() } }
        let running = try await operatorSession.query("""
            SELECT count(DISTINCT split_part(application_name, ' ', 1)) AS n FROM pg_stat_activity
             WHERE datname = current_database() AND application_name ~ '^(enrollment|order|settlement)-worker'
            """)[0].decode("n", as: Int.self)
        var inProcess: [(Worker, Task<Void, Error>)] = []
        if running < 3 {
            say("(no running workers found: starting one of each in this process; `timebank up` runs them on their own)")
            for kind in WorkerKind.allCases {
                var configuration = kind.configuration()
                configuration.concurrency = 4
                let worker = try Worker(configuration: configuration, settings: operatorSettings, registry: try kind.registry())
                inProcess.append((worker, Task { try await worker.run() }))
            }
        }
        do {
            try await walk(client, desk, operatorSession)
        } catch {
            for (worker, _) in inProcess { await worker.beginShutdown() }
            throw error
        }
        for (worker, _) in inProcess { await worker.beginShutdown() }
        for (_, task) in inProcess { _ = try? await task.value }
    }

    private func walk(_ client: PostgresConnection, _ desk: PostgresConnection, _ operatorSession: PostgresConnection) async throws {
        let serial = Int(Date().timeIntervalSince1970) % 290_000
        // R12, R13 at demo scale: a star at 100 hours and the milestone at
        // 10,000 coins cannot be reached in a minute, so the demo lowers
        // them (bank.setting) while it runs and puts them back after.
        let saved = try await operatorSession.query("""
            SELECT name, value FROM bank.setting WHERE name IN ('star_1_hours', 'milestone_coins')
            """).map { (try $0.decode("name", as: String.self), try $0.decode("value", as: Int.self)) }
        say("(demo only: star level 1 at 3 hours instead of 100, the 10,000-coin milestone at 3 coins, until the demo ends)")
        try await operatorSession.execute("UPDATE bank.setting SET value = 3 WHERE name IN ('star_1_hours', 'milestone_coins')")
        do {
            try await walkThePath(client, desk, operatorSession, serial: serial)
        } catch {
            for (name, value) in saved { _ = try? await operatorSession.execute("UPDATE bank.setting SET value = $2 WHERE name = $1", [name, value]) }
            throw error
        }
        for (name, value) in saved { try await operatorSession.execute("UPDATE bank.setting SET value = $2 WHERE name = $1", [name, value]) }
    }

    private func walkThePath(_ client: PostgresConnection, _ desk: PostgresConnection, _ operatorSession: PostgresConnection,
                             serial: Int) async throws {
        // The demo's staff members (issue 15, finding 9: staff act under a
        // code the database knows, for a district, with powers), added by the
        // operator once; kept, like every member, for the record.
        try await operatorSession.execute("""
            INSERT INTO bank.staff_member (code, display_name, district_code, powers) VALUES
                ('demo-city', 'Demo: city civil-affairs bureau', NULL, '{set_budget}'),
                ('demo-chaoyang', 'Demo: Chaoyang civil-affairs desk', '110105', '{grant,review,verify}')
            ON CONFLICT (code) DO NOTHING
            """)
        /// Submits a call (a staff act: `asStaff`), waits for it, prints it; returns the ids in its result.
        @discardableResult
        func step(_ title: String, _ sql: String, _ parameters: [any PostgresEncodable], asStaff: Bool = false) async throws -> [String: Int64] {
            let request = try await (asStaff ? desk : client).query("SELECT \(sql) AS id", parameters)[0].decode("id", as: Int64.self)
            let deadline = ContinuousClock.now + .seconds(30)
            while true {
                let row = try await client.query("SELECT status, result::text AS result, refusal FROM api.request_status($1)", [request])[0]
                let status: String = try row.decode("status")
                if status == "completed" {
                    let result: String = try row.decode("result")
                    say("  ✓ \(title)  (request \(request): \(result))")
                    let object = try JSONSerialization.jsonObject(with: Data(result.utf8)) as? [String: Any]
                    return (object ?? [:]).compactMapValues { ($0 as? NSNumber)?.int64Value }
                }
                if status == "refused" {
                    throw Failure(description: "\(title): refused: \(try row.decode("refusal", as: String.self))")
                }
                if ContinuousClock.now > deadline {
                    throw Failure(description: "\(title): request \(request) still pending after 30 s; are the workers running (`timebank up`)?")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        func balance(_ who: String, _ person: Int64) async throws {
            let row = try await client.query("SELECT * FROM api.balance($1)", [person])[0]
            let available: Int = try row.decode("available_minutes"), held: Int = try row.decode("held_minutes")
            say("    \(who): \(available) minutes available (\(Double(available) / 60) coins), \(held) held")
        }

        say("1. People (R3: one per national ID; birth date and age read from it)")
        let elder = try await step("elder Wang Guilan, 78, registered",
            "api.register_person($1, $2, $3, true, '110105')", [NationalID.sample(age: 78, serial: serial), "Wang Guilan", "13800138000"])["person_id"]!
        try await step("elder authenticated (R4)", "api.authenticate_elder($1)", [elder])
        let volunteer = try await step("volunteer Li Ming, 34, registered",
            "api.register_person($1, $2, $3, true, '110105')", [NationalID.sample(age: 34, serial: serial + 1), "Li Ming", "13900139000"])["person_id"]!
        try await step("volunteer approved (R1: 18+, Beijing resident, trained)",
            "api.apply_volunteer($1, current_date - 14)", [volunteer])

        say("2. Coins (R9: Chaoyang district grants 10 coins to a special elder, within its budget)")
        let hasBudget = try await operatorSession.query("""
            SELECT count(*) AS n FROM bank.district_budget WHERE district_code = '110105' AND period @> bank.local_today()
            """)[0].decode("n", as: Int.self) > 0
        if !hasBudget {
            try await step("the city sets Chaoyang's budget: 10,000 coins for this year (staff member 'demo-city')",
                "api.set_district_budget('demo-city', '110105', date_trunc('year', current_date)::date, (date_trunc('year', current_date) + interval '1 year - 1 day')::date, 10000)",
                [], asStaff: true)
        }
        try await step("10 coins granted (staff member 'demo-chaoyang')", "api.grant_coins('demo-chaoyang', '110105', $1, 'severely_disabled', 10)",
                       [elder], asStaff: true)
        try await balance("elder", elder)

        say("3. A demand (R16: published with its coins held at once, then reviewed)")
        let service = try await step("4-hour demand for companionship to the hospital, tomorrow at 09:00",
            "api.publish_demand($1, 'travel_companionship', '110105', 'Company to the hospital and back', date_trunc('day', (SELECT clock_now FROM api.development_clock())) + interval '1 day 1 hour', 240)",
            [elder])["service_id"]!
        try await balance("elder", elder)
        try await step("approved by staff member 'demo-chaoyang'", "api.review_demand('demo-chaoyang', $1, true)", [service], asStaff: true)

        say("4. The service (R17 booking, R18 check-in and check-out)")
        try await step("booked by the volunteer", "api.book_service($1, $2)", [service, volunteer])
        let development = try await client.query("SELECT development FROM api.development_clock()")[0].decode("development", as: Bool.self)
        if development {
            say("  (the development clock moves to tomorrow morning: api.advance_development_clock)")
            try await client.execute("""
                SELECT * FROM api.advance_development_clock(
                    (SELECT s.starts_at FROM api.service_status($1) s) + interval '15 minutes' - (SELECT clock_now FROM api.development_clock()))
                """, [service])
        } else {
            say("  (demo only: moving the service into the past, as if tomorrow morning had come)")
            try await operatorSession.execute("""
                UPDATE bank.service SET starts_at = date_trunc('minute', now()) - interval '225 minutes',
                       ends_at = date_trunc('minute', now()) + interval '15 minutes' WHERE id = $1
                """, [service])
        }
        try await step("checked in", "api.check_in($1, $2)", [service, volunteer])
        if development {
            say("  (the development clock moves 3 hours 45 minutes on: the service's time passes)")
            try await client.execute("SELECT * FROM api.advance_development_clock(interval '225 minutes')")
        } else {
            say("  (demo only: 3 hours 45 minutes of service pass)")
            try await operatorSession.execute("""
                UPDATE bank.service SET checked_in_at = starts_at WHERE id = $1
                """, [service])
        }
        try await step("checked out", "api.check_out($1, $2)", [service, volunteer])

        say("5. Settlement (R6: served minutes credited exactly once, the rest of the hold released)")
        let deadline = ContinuousClock.now + .seconds(30)
        while try await client.query("SELECT settled_at FROM api.service_status($1)", [service])[0].decode("settled_at", as: Date?.self) == nil {
            if ContinuousClock.now > deadline { throw Failure(description: "the service was not settled within 30 s") }
            try await Task.sleep(for: .milliseconds(50))
        }
        let minutes = try await client.query("SELECT settled_minutes FROM api.service_status($1)", [service])[0]
            .decode("settled_minutes", as: Int.self)
        say("  ✓ settled: \(minutes) minutes")
        try await balance("elder", elder)
        try await balance("volunteer", volunteer)

        say("6. Star level and milestone (R12, R13: recorded once, when first reached)")
        for row in try await client.query("SELECT earned_minutes, milestone, reached_at FROM api.achievements($1)", [volunteer]) {
            if let milestone = try row.decode("milestone", as: String?.self) {
                say("  ✓ \(milestone == "coins_10000" ? "the 10,000-coin milestone" : "star level " + milestone.dropFirst(5)) reached with \(try row.decode("earned_minutes", as: Int.self)) minutes earned")
            }
        }

        say("7. A gift to a verified lineal relative (R8)")
        let mother = try await step("the volunteer's mother, 63, registered",
            "api.register_person($1, $2, NULL, true, '110105')", [NationalID.sample(age: 63, serial: serial + 2), "Li Shufen"])["person_id"]!
        let relationship = try await step("declared: she is his parent", "api.declare_relative($1, $2, 'parent')", [volunteer, mother])["relationship_id"]!
        try await step("verified by staff member 'demo-chaoyang' (household register)",
            "api.verify_relative('demo-chaoyang', $1, 'household register 110105-0042')", [relationship], asStaff: true)
        try await step("1 coin given to her", "api.gift_coins($1, $2, 1)", [volunteer, mother])
        try await balance("mother", mother)

        say("8. A donation to the public-welfare account (R10, R11: counted as pure volunteering)")
        try await step("1 coin donated", "api.donate_coins($1, 1)", [volunteer])
        try await balance("volunteer", volunteer)
        let earned = try await client.query("SELECT earned_minutes FROM api.achievements($1) LIMIT 1", [volunteer])[0]
            .decode("earned_minutes", as: Int.self)
        say("    volunteer: \(earned) minutes earned by service (gifts and donations do not change it)")

        say("9. Ledger verify")
        let checks = try await LedgerVerifier.run(operatorSession)
        for check in checks { say("  \(check.problem == nil ? "ok    " : "BROKEN") \(check.name)\(check.problem.map { ": \($0)" } ?? "")") }
        if checks.contains(where: { $0.problem != nil }) { throw Failure(description: "the ledger does not verify") }
    }
}
