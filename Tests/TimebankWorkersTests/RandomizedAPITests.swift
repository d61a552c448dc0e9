import Foundation
import PostgresClient
import TimebankOperations
import TimebankWorkers
import Testing

extension BankSuites {
    /// Thousands of random api calls, valid and not, from concurrent
    /// clients while the workers run; then the ledger verifies, every api
    /// error was a refusal naming a rule, and no refusal left anything
    /// behind. Replay a failure with TIMEBANK_RANDOM_SEED=<the printed seed>.
    @Suite struct RandomizedAPITests {
        /// SplitMix64: small, seedable, good enough to pick calls.
        struct Random {
            var state: UInt64
            mutating func next() -> UInt64 {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return z ^ (z >> 31)
            }
            mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
            mutating func chance(_ percent: Int) -> Bool { int(1...100) <= percent }
        }

        struct Tally: Sendable { var accepted = 0; var reads = 0; var refused = 0; var unexpected: [String] = [] }

        static let callsPerClient = 600
        static let clients = 4

        @Test func randomCallsFromConcurrentClientsKeepTheLedgerAndLeaveNothingBehindWhenRefused() async throws {
            let seed = ProcessInfo.processInfo.environment["TIMEBANK_RANDOM_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max / 2)
            print("randomized api test: seed \(seed) (TIMEBANK_RANDOM_SEED=\(seed) replays the calls)")
            try await Bank.with { bank in
                let tallies = try await withThrowingTaskGroup(of: Tally.self) { group in
                    for client in 0..<Self.clients {
                        group.addTask { try await Self.runClient(bank, client: client, random: Random(state: seed &+ UInt64(client) &* 7919)) }
                    }
                    var all: [Tally] = []
                    for try await tally in group { all.append(tally) }
                    return all
                }
                let accepted = tallies.reduce(0) { $0 + $1.accepted }, refused = tallies.reduce(0) { $0 + $1.refused }
                let reads = tallies.reduce(0) { $0 + $1.reads }
                let unexpected = tallies.flatMap(\.unexpected)
                print("randomized api test: \(accepted) accepted, \(reads) reads, \(refused) refused at the api, \(unexpected.count) unexpected errors")
                #expect(unexpected.isEmpty, "\(unexpected.prefix(5))")
                try await bank.eventually("""
                    NOT EXISTS (SELECT 1 FROM bank.request WHERE status = 'pending')
                    AND NOT EXISTS (SELECT 1 FROM jobs.job WHERE state IN ('available', 'running', 'retryable'))
                    """, timeout: .seconds(120))
                // Every accepted call is one request (plus the harness's budget); no refused call made one.
                #expect(try await bank.count("bank.request") == accepted + 1)
                #expect(try await bank.count("jobs.job WHERE state = 'discarded'") == 0)
                // Requests refused by a worker left no row of their own.
                #expect(try await bank.count("""
                    bank.request r WHERE r.status = 'refused' AND (
                        EXISTS (SELECT 1 FROM bank.transfer t WHERE t.request_id = r.id)
                     OR EXISTS (SELECT 1 FROM bank.service s WHERE s.request_id = r.id)
                     OR EXISTS (SELECT 1 FROM bank.person p WHERE p.request_id = r.id)
                     OR EXISTS (SELECT 1 FROM bank.relationship x WHERE x.request_id = r.id))
                    """) == 0)
                let refusedByWorkers = try await bank.count("bank.request WHERE status = 'refused'")
                let services = try await bank.count("bank.service")
                let transfers = try await bank.count("bank.transfer")
                let credits = try await bank.count("bank.transfer WHERE kind = 'service_credit'")
                print("randomized api test: \(refusedByWorkers) refused by workers, \(services) services, \(transfers) transfers (\(credits) service credits)")
                #expect(try await bank.ledgerProblems() == [])
            }
        }

        /// One client's calls: mostly plausible, some deliberately wrong.
        static func runClient(_ bank: Bank, client: Int, random: Random) async throws -> Tally {
            var random = random
            var tally = Tally()
            let session = try await PostgresConnection.connect(bank.database.settings.with(parameter: "role", "timebank_api"))
            // Grants and reviews are staff acts: the staff desk's role, as the harness's city-level member.
            let desk = try await PostgresConnection.connect(bank.database.settings.with(parameter: "role", "timebank_staff"))
            let reader = try await bank.database.connect()
            /// A service in `status` and its volunteer (most check-ins and check-outs are the right person's).
            func booked(_ status: String) async throws -> (Int64, Int64)? {
                let rows = try await reader.query("SELECT id, volunteer_id FROM bank.service WHERE status = $1::bank.service_status ORDER BY random() LIMIT 1", [status])
                guard let row = rows.first else { return nil }
                return (try row.decode("id"), try row.decode("volunteer_id"))
            }
            func pick(_ sql: String) async throws -> Int64 {
                let rows = try await reader.query("SELECT id FROM (\(sql)) x ORDER BY random() LIMIT 1")
                return try rows.first?.decode("id", as: Int64.self) ?? Int64(random.int(1...50))
            }
            for call in 0..<callsPerClient {
                let serial = client * 10_000 + call
                let elder = try await pick("SELECT person_id AS id FROM bank.elder")
                let volunteer = try await pick("SELECT person_id AS id FROM bank.volunteer")
                let person = try await pick("SELECT id FROM bank.person")
                let service = try await pick("SELECT id FROM bank.service WHERE status NOT IN ('cancelled', 'expired', 'rejected')")
                let (sql, parameters): (String, [any PostgresEncodable])
                var staffAct = false
                var read = false
                switch random.int(0...16) {
                case 0, 1:
                    let age = [16, 30, 45, 65, 72, 85][random.int(0...5)]
                    var id = NationalID.sample(age: age, serial: serial)
                    if random.chance(10) { id = String(id.dropLast()) + (id.last == "1" ? "2" : "1") }
                    (sql, parameters) = ("api.register_person($1, 'R', NULL, $2, '110105')", [id, !random.chance(10)])
                case 2: (sql, parameters) = ("api.apply_volunteer($1, current_date - 5)", [person])
                case 3: (sql, parameters) = ("api.authenticate_elder($1)", [person])
                case 4:
                    (sql, parameters) = ("api.grant_coins('city-desk', '110105', $1, 'urgent_need', $2)", [elder, random.int(0...12)])
                    staffAct = true
                case 5, 6:
                    (sql, parameters) = ("api.publish_demand($1, 'assistance', '110105', 'r', date_trunc('minute', now()) + $2 * interval '1 minute', $3)",
                                         [elder, random.int(-5...55), random.int(10...200)])
                case 7:
                    (sql, parameters) = ("api.review_demand('city-desk', $1, $2)", [service, !random.chance(20)])
                    staffAct = true
                case 8, 9: (sql, parameters) = ("api.book_service($1, $2)", [service, volunteer])
                case 10:
                    let (s, v) = random.chance(90) ? try await booked("booked") ?? (service, volunteer) : (service, volunteer)
                    (sql, parameters) = ("api.check_in($1, $2)", [s, v])
                case 11:
                    let (service, volunteer) = random.chance(90) ? try await booked("in_progress") ?? (service, volunteer) : (service, volunteer)
                    // Sometimes let an hour pass for a service in progress (the owner moves its clock), then check out.
                    if random.chance(50) {
                        // (A move that would overlap another booking of the volunteer is refused by R20: skipped.)
                        _ = try? await reader.execute("""
                            UPDATE bank.service SET starts_at = starts_at - interval '1 day', ends_at = ends_at - interval '1 day',
                                   checked_in_at = checked_in_at - interval '1 day' + interval '23 hours' - interval '37 minutes'
                             WHERE id = $1 AND status = 'in_progress'
                            """, [service])
                    }
                    (sql, parameters) = ("api.check_out($1, $2)", [service, volunteer])
                case 12: (sql, parameters) = ("api.cancel_service($1, $2)", [service, elder])
                case 13: (sql, parameters) = ("api.donate_coins($1, $2)", [volunteer, random.int(0...3)])
                case 14: (sql, parameters) = ("api.gift_coins($1, $2, 1)", [volunteer, elder])
                default:
                    // Issue 19: NULLs, unknown ids, the extremes of bigint and
                    // of time: each a refusal naming a rule, never a bare
                    // error (22003 out of range, 22008 timestamp out of range).
                    let extreme: [(String, [any PostgresEncodable], staff: Bool, read: Bool)] = [
                        ("api.set_district_budget('city-desk', '110101', current_date, current_date, $1)", [Int64.max], true, false),
                        ("api.set_district_budget('city-desk', '110101', '-infinity', 'infinity', $1)", [5], true, false),
                        ("api.grant_coins('city-desk', '110105', $1, 'urgent_need', $2)", [elder, Int64.max], true, false),
                        ("api.grant_coins('city-desk', '110105', $1, $2, 1)", [elder, String?.none], true, false),
                        ("api.gift_coins($1, $2, $3)", [volunteer, elder, Int64.max], false, false),
                        ("api.gift_coins($1, $2, 1)", [Int64?.none, elder], false, false),
                        ("api.donate_coins($1, $2)", [volunteer, Int64.min], false, false),
                        ("api.publish_demand($1, 'assistance', '110105', 'r', date_trunc('minute', now()) + interval '2 hours', $2)",
                         [elder, Int64.max], false, false),
                        ("api.publish_demand($1, 'assistance', '110105', 'r', $2::timestamptz, 30)",
                         [elder, ["infinity", "-infinity", "9999-06-01 00:00+00"][random.int(0...2)]], false, false),
                        ("api.publish_demand($1, $2, '110105', 'r', date_trunc('minute', now()) + interval '2 hours', 30)",
                         [elder, String?.none], false, false),
                        ("api.book_service($1, $2)", [Int64?.none, volunteer], false, false),
                        ("api.check_in($1, $2)", [service, Int64?.none], false, false),
                        ("api.check_out($1, $2)", [service, Int64.max], false, false),
                        ("api.report_accident($1, $2, $3::timestamptz, 'stairs', 'slipped')",
                         [service, volunteer, ["-infinity", "infinity"][random.int(0...1)]], false, false),
                        ("api.report_accident($1, $2, NULL, 'stairs', 'slipped')", [service, volunteer], false, false),
                        ("api.declare_relative($1, $2, $3)", [volunteer, elder, String?.none], false, false),
                        ("api.link_guardian($1, $2, 'No. 4 Middle School')", [Int64?.none, volunteer], false, false),
                        ("(SELECT count(*) FROM api.balance($1))", [[Int64.max, Int64.min, 0][random.int(0...2)]], false, true),
                        ("(SELECT count(*) FROM api.balance($1))", [person], false, true),
                        ("(SELECT count(*) FROM api.account_statement($1, '-infinity', 'infinity'))", [person], false, true),
                        ("(SELECT count(*) FROM api.account_statement($1, now(), now() - interval '1 day'))", [person], false, true),
                        ("(SELECT count(*) FROM api.achievements($1))", [Int64?.none], false, true),
                        ("(SELECT count(*) FROM api.find_services($1, 'NaN', 116.4, 'Infinity'))", [volunteer], false, true),
                        ("(SELECT count(*) FROM api.service_items($1))", [["110105", "x", "110108"][random.int(0...2)]], false, true),
                    ]
                    let picked = extreme[random.int(0...(extreme.count - 1))]
                    (sql, parameters) = (picked.0, picked.1)
                    staffAct = picked.staff
                    read = picked.read
                }
                do {
                    _ = try await (staffAct ? desk : session).query("SELECT \(sql) AS id", parameters)
                    if read { tally.reads += 1 } else { tally.accepted += 1 }
                } catch let error as PostgresError where error.code == PostgresError.Code("22023") && error.message.wholeMatch(of: /R[0-9]+: .+/) != nil {
                    tally.refused += 1
                } catch {
                    tally.unexpected.append("\(sql): \(error)")
                }
            }
            await session.close()
            await desk.close()
            await reader.close()
            return tally
        }
    }
}
