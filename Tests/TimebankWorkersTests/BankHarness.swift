import Foundation
import JobEngine
import PostgresClient
import TestSupport
import TimebankOperations
import TimebankDatabase
import TimebankWorkers
import Testing

/// The suites that run a ``Bank`` each, one test at a time: each test's
/// three in-process workers hold a dozen connections.
@Suite(.serialized) struct BankSuites {}

/// A test's time bank: its own database, the three workers running in
/// this process (each as its own database role), a client session acting
/// as `timebank_api`, a staff desk's session acting as `timebank_staff`
/// (``asStaff``), and an owner session for looking behind the api.
struct Bank {
    let database: TestDatabase
    /// A client application: may only call api functions.
    let client: PostgresConnection
    /// The migration owner, for inspecting rows and moving a service's
    /// clock (a test cannot wait two hours for a service to end).
    let owner: PostgresConnection
    /// The civil-affairs desk (issue 15, finding 9): the staff acts.
    var staff: PostgresConnection? = nil

    /// The staff member the suites act as when staff is not what they test:
    /// city-level, with every power (StaffRoleTests makes its own members).
    static let desk = "city-desk"

    /// This bank as the staff desk sees it: `completed`, `expectRefusal`...
    /// call as `timebank_staff`.
    var asStaff: Bank { Bank(database: database, client: staff!, owner: owner, staff: staff) }

    /// With `runtime`, the notification and insurance-claim workers reach
    /// the outside through it; by default messages go to a file of the
    /// temporary directory and claims to no insurer.
    /// The workers of `outOfProcess` are left to the test, which runs them as processes.
    static func with(workers: Bool = true, runtime: WorkerRuntime? = nil, outOfProcess: Set<WorkerKind> = [],
                     _ body: (Bank) async throws -> Void) async throws {
        let runtime = try runtime ?? WorkerRuntime(channels: .file(at: FileManager.default.temporaryDirectory
            .appendingPathComponent("timebank-test-notifications-\(ProcessInfo.processInfo.processIdentifier).jsonl").path))
        try await TestDatabase.with { database in
            let client = try await PostgresConnection.connect(database.settings.with(parameter: "role", "timebank_api"))
            let staff = try await PostgresConnection.connect(database.settings.with(parameter: "role", "timebank_staff"))
            let owner = try await database.connect()
            try await StaffAdmin.add(owner, code: Bank.desk, districtCode: nil, powers: StaffAdmin.powers.map(\.key))
            var running: [(Worker, Task<Void, Error>)] = []
            if workers {
                for kind in WorkerKind.allCases where !outOfProcess.contains(kind) {
                    var configuration = kind.configuration()
                    configuration.concurrency = 4
                    configuration.claimBatch = 4
                    configuration.pollInterval = .milliseconds(100)
                    configuration.promoteInterval = .milliseconds(100)
                    configuration.backoff = Backoff(base: .milliseconds(100), maximum: .seconds(1))
                    let worker = try Worker(configuration: configuration, settings: database.settings, registry: try kind.registry(runtime))
                    running.append((worker, Task { try await worker.run() }))
                }
            }
            let bank = Bank(database: database, client: client, owner: owner, staff: staff)
            var failure: Error?
            do {
                if workers {
                    // R9: Chaoyang's budget, so that the tests' elders can be granted coins.
                    try await bank.asStaff.completed("api.set_district_budget('city-desk', '110105', current_date - 1, current_date + 365, 100000)", [])
                }
                try await body(bank)
            } catch { failure = error }
            for (worker, _) in running { await worker.beginShutdown() }
            for (_, task) in running { _ = try? await task.value }
            await client.close()
            await staff.close()
            await owner.close()
            if let failure { throw failure }
        }
    }

    struct Outcome: Sendable {
        var status: String
        var result: [String: Int64]
        var refusal: String?
    }

    /// Calls an api function that returns a request id.
    func submit(_ sql: String, _ parameters: [any PostgresEncodable]) async throws -> Int64 {
        try await client.query("SELECT \(sql) AS id", parameters)[0].decode("id", as: Int64.self)
    }

    /// Submits two calls in one client transaction: both pass the api's
    /// checks against the same committed state, so that what decides
    /// between them is the race in the workers (the database), not which
    /// call came second. Returns both request ids.
    func submitRacing(_ first: (String, [any PostgresEncodable]), _ second: (String, [any PostgresEncodable])) async throws -> (Int64, Int64) {
        let (sql1, parameters1) = first
        let (sql2, parameters2) = second
        let boxed1 = UncheckedParameters(parameters1), boxed2 = UncheckedParameters(parameters2)
        return try await client.transaction { connection in
            (try connection.query("SELECT \(sql1) AS id", boxed1.values)[0].decode("id", as: Int64.self),
             try connection.query("SELECT \(sql2) AS id", boxed2.values)[0].decode("id", as: Int64.self))
        }
    }

    /// Waits for a request to finish.
    func outcome(_ request: Int64, timeout: Duration = .seconds(20)) async throws -> Outcome {
        let deadline = ContinuousClock.now + timeout
        while true {
            let row = try await client.query("SELECT status, result::text AS result, refusal FROM api.request_status($1)", [request])[0]
            let status: String = try row.decode("status")
            if status != "pending" {
                let json: String? = try row.decode("result")
                let result = try json.map { try JSONDecoder().decode([String: AnyNumber].self, from: Data($0.utf8)) } ?? [:]
                return Outcome(status: status, result: result.compactMapValues(\.integer), refusal: try row.decode("refusal"))
            }
            if ContinuousClock.now > deadline { throw TimedOut(what: "request \(request)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Submits and waits; the request must complete. Returns its result.
    @discardableResult
    func completed(_ sql: String, _ parameters: [any PostgresEncodable]) async throws -> [String: Int64] {
        let outcome = try await outcome(try await submit(sql, parameters))
        #expect(outcome.status == "completed", "\(sql): \(outcome.refusal ?? "")")
        return outcome.result
    }

    func registerElder(_ serial: Int, coins: Int? = 10) async throws -> Int64 {
        let person = try await completed("api.register_person($1, $2, $3, true, '110105')",
                                         [NationalID.sample(age: 72, serial: serial), "Elder \(serial)", "13800000000"])["person_id"]!
        try await completed("api.authenticate_elder($1)", [person])
        if let coins {
            try await asStaff.completed("api.grant_coins('city-desk', '110105', $1, 'economically_disadvantaged', $2)", [person, coins])
        }
        return person
    }

    func registerVolunteer(_ serial: Int) async throws -> Int64 {
        let person = try await completed("api.register_person($1, $2, NULL, true, '110108')",
                                         [NationalID.sample(age: 30, serial: serial), "Volunteer \(serial)"])["person_id"]!
        try await completed("api.apply_volunteer($1, current_date - 30)", [person])
        return person
    }

    /// Publishes and approves a demand starting `startsIn` from now; its service id.
    func publishedService(elder: Int64, minutes: Int = 120, startsIn: Duration = .seconds(3600)) async throws -> Int64 {
        let service = try await completed(
            "api.publish_demand($1, 'emotional_comfort', '110105', 'a chat and a walk', date_trunc('minute', now()) + $2 * interval '1 second', $3)",
            [elder, Int(startsIn.components.seconds), minutes])["service_id"]!
        try await asStaff.completed("api.review_demand('city-desk', $1, true)", [service])
        return service
    }

    /// Moves a service, its check-in and its scheduled jobs `minutes` into the past.
    func travel(service: Int64, minutes: Int) async throws {
        try await owner.transaction { connection in
            _ = try connection.execute("""
                UPDATE bank.service SET starts_at = starts_at - $2 * interval '1 minute', ends_at = ends_at - $2 * interval '1 minute',
                       checked_in_at = checked_in_at - $2 * interval '1 minute' WHERE id = $1
                """, [service, minutes])
            _ = try connection.execute("""
                UPDATE jobs.job SET run_at = run_at - $2 * interval '1 minute'
                 WHERE state = 'scheduled' AND kind IN ('order.expire', 'order.no_show') AND args->>'id' = $1::text
                """, [service, minutes])
        }
    }

    struct Balance: Equatable { var available: Int; var held: Int; var posted: Int }

    func balance(_ person: Int64) async throws -> Balance {
        let row = try await client.query("SELECT * FROM api.balance($1)", [person])[0]
        return Balance(available: try row.decode("available_minutes"), held: try row.decode("held_minutes"),
                       posted: try row.decode("posted_minutes"))
    }

    func serviceStatus(_ service: Int64) async throws -> String {
        try await client.query("SELECT status FROM api.service_status($1)", [service])[0].decode("status")
    }

    /// Waits until `sql` (run as the owner) is true.
    func eventually(_ sql: String, _ parameters: [any PostgresEncodable] = [], timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !owner.query("SELECT (\(sql)) AS ok", parameters)[0].decode("ok", as: Bool.self) {
            if ContinuousClock.now > deadline { throw TimedOut(what: sql) }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    func count(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws -> Int {
        try await owner.query("SELECT count(*) AS n FROM \(sql)", parameters)[0].decode("n", as: Int.self)
    }

    /// Row counts of everything a request could leave behind.
    func footprint() async throws -> [Int] {
        var counts: [Int] = []
        for table in ["bank.request", "jobs.job", "bank.person", "bank.transfer", "bank.service", "bank.account",
                      "bank.relationship", "bank.guardianship", "bank.district_budget", "bank.service_item",
                      "bank.service_rating", "bank.service_dispute", "bank.insurance_policy", "bank.agent_institution",
                      "bank.staff_act"] {
            counts.append(try await count(table))
        }
        return counts
    }

    /// Calls `sql` as a client: it must be refused (SQLSTATE 22023) naming
    /// `rule` and `field` (when given), and leave no row anywhere. Returns the error.
    @discardableResult
    func expectRefusal(
        _ sql: String, _ parameters: [any PostgresEncodable], rule: String?, field: String?,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> PostgresError {
        // Earlier requests' follow-up jobs (an account opened) finish first.
        try await eventually("NOT EXISTS (SELECT 1 FROM jobs.job WHERE state IN ('available', 'running', 'retryable'))")
        let before = try await footprint()
        let error = try await #require(throws: PostgresError.self, "\(sql) was accepted", sourceLocation: sourceLocation) {
            _ = try await submit(sql, parameters)
        }
        #expect(error.code == PostgresError.Code("22023"), "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.wholeMatch(of: /R[0-9]+: .+/) != nil, "\(error.message)", sourceLocation: sourceLocation)
        if let rule { #expect(error.message.hasPrefix("\(rule): "), "\(error.message)", sourceLocation: sourceLocation) }
        if let field { #expect(error.detail == "field: \(field)", "\(error)", sourceLocation: sourceLocation) }
        #expect(try await footprint() == before, "\(sql) left rows behind", sourceLocation: sourceLocation)
        return error
    }

    /// `bank.verify_ledger()`'s broken checks (empty when the ledger holds).
    /// Runs `timebank demo` against this database (its workers, or its own
    /// in-process ones if none run); returns what it printed.
    func runDemo() async throws -> String {
        final class Lines: @unchecked Sendable {
            let lock = NSLock()
            var all: [String] = []
            func add(_ line: String) { lock.withLock { all.append(line) } }
        }
        let lines = Lines()
        try await Demo(settings: database.settings, say: { lines.add($0) }).run()
        return lines.lock.withLock { lines.all.joined(separator: "\n") }
    }

    func ledgerProblems() async throws -> [String] {
        try await LedgerVerifier.problems(owner)
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// A JSON value that may be a number (request results hold ids, and the odd string).
struct AnyNumber: Decodable {
    var integer: Int64?
    init(from decoder: Decoder) throws {
        integer = try? decoder.singleValueContainer().decode(Int64.self)
    }
}

/// Parameters carried into a transaction's body (built and used within one test).
struct UncheckedParameters: @unchecked Sendable {
    let values: [any PostgresEncodable]
    init(_ values: [any PostgresEncodable]) { self.values = values }
}

extension Bank {
    /// The last `bytes` of the test server's log, when the tests can read it
    /// (the local cluster's `postgres.log`); nil otherwise. Read as bytes and
    /// decoded here: the tail may begin inside a character of another test's
    /// Chinese message, which pg_read_file (text) refuses.
    func serverLogTail(bytes: Int) async -> String? {
        (try? await owner.query("""
            SELECT pg_read_binary_file(f, greatest(0, (pg_stat_file(f)).size - $1), $1) AS log
              FROM (SELECT current_setting('data_directory') || '/../postgres.log' AS f) p
            """, [bytes]).first?.decode("log", as: Data.self)).map { String(decoding: $0, as: UTF8.self) }
    }
}
