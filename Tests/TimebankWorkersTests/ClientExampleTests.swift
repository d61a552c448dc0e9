import DevCluster
import Foundation
import PostgresClient
import TimebankDatabase
import TimebankOperations
import Testing

/// Issue 19, item 1: the README's "For client developers". Its worked
/// example (the seeds' story through the api alone) is run here as it is
/// written there: the SQL between its markers, through psql, as the api's
/// and the staff's own logins, against running workers, in seconds thanks
/// to the development clock.
enum ClientExample {
    static var readme: String {
        get throws {
            let sql = try Migration.defaultDirectory()
            return try String(contentsOf: sql.deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
        }
    }

    /// The README's section for client developers.
    static func section(_ readme: String) throws -> Substring {
        let start = try #require(readme.range(of: "## For client developers\n"), "README has no section For client developers")
        let rest = readme[start.upperBound...]
        return rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)]
    }

    /// The fenced blocks of `language` in `text`, in order.
    static func blocks(_ text: Substring, language: String) -> [String] {
        text.components(separatedBy: "```" + language + "\n").dropFirst()
            .compactMap { $0.components(separatedBy: "\n```").first }
    }

    /// The example's SQL: every sql block between the markers.
    static func script(_ readme: String) throws -> String {
        let section = try section(readme)
        let begin = try #require(section.range(of: "<!-- client-example: begin -->"), "README: no client example")
        let end = try #require(section.range(of: "<!-- client-example: end -->"), "README: the client example does not end")
        return blocks(section[begin.upperBound..<end.lowerBound], language: "sql").joined(separator: "\n")
    }

    /// The operator's commands before it: its `timebank staff add` lines.
    static func staffCommands(_ readme: String) throws -> [String] {
        try blocks(try section(readme), language: "sh")
            .flatMap { $0.split(separator: "\n").map(String.init) }
            .filter { $0.hasPrefix("timebank staff add ") }
    }

    /// This build's `timebank`.
    static var timebank: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("timebank").path
    }

    /// psql, from PATH or beside the server's programs.
    static var psql: String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let candidates = path + ["/usr/bin"] + ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .map { "/usr/lib/postgresql/\($0)/bin" }
        return candidates.map { $0 + "/psql" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

extension BankSuites {
    @Suite struct ClientExampleTests {
        @Test func theREADMEsClientExampleWalksTheSeedsStoryThroughTheAPIInSeconds() async throws {
            let readme = try ClientExample.readme
            let script = try ClientExample.script(readme)
            let staff = try ClientExample.staffCommands(readme)
            #expect(staff.count == 2, "\(staff)")
            let psql = try #require(ClientExample.psql, "psql is not installed (scripts/install-deps)")
            try await Bank.with { bank in
                try await LoginAdmin.ensure(bank.owner, password: nil)
                let url = bank.database.settings.conninfoWithDatabase
                // As the README runs it: psql "$TIMEBANK_API_URL" (below). The operator's commands, as written, with this build's timebank and this test's database.
                // Each child is awaited, off Swift's cooperative pool: psql waits on this process's own
                // workers, which a blocked pool thread could leave with none (ChildProcessTests).
                for command in staff {
                    let line = ClientExample.timebank + command.dropFirst("timebank".count)
                    let outcome = try await ChildProcess.run("/usr/bin/env", ["DATABASE_URL=\(url)", "/bin/bash", "-c", line])
                    #expect(outcome.status == 0, "\(command): \(outcome.output)")
                }
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("client-example-\(UUID().uuidString.prefix(8)).sql")
                try script.write(to: file, atomically: true, encoding: .utf8)
                defer { try? FileManager.default.removeItem(at: file) }
                let api = bank.database.settings.withUser("timebank_api_login").conninfoWithDatabase
                let desk = bank.database.settings.withUser("timebank_staff_login").conninfoWithDatabase
                let started = ContinuousClock.now
                let outcome = try await ChildProcess.run("/usr/bin/env", [
                    "TIMEBANK_API_URL=\(api)", "TIMEBANK_STAFF_URL=\(desk)", "PGOPTIONS=", psql, "-X", "-f", file.path, api,
                ])
                let took = ContinuousClock.now - started
                // On failure, what the requests and their jobs came to.
                let trace = outcome.status == 0 ? "" : (try? await bank.owner.query("""
                    SELECT (SELECT string_agg(format('request %s %s %s %s', id, kind, status, coalesce(refusal, '')), '; ' ORDER BY id) FROM bank.request)
                           || ' | ' ||
                           coalesce((SELECT string_agg(format('job %s %s %s attempt %s held by %s errors %s', id, kind, state, attempt, held_by, errors), '; ' ORDER BY id)
                                       FROM jobs.job), 'no jobs') AS t
                    """)[0].decode("t", as: String.self)) ?? "(no trace)"
                #expect(outcome.status == 0, "psql: \(outcome.output)\n\(trace)")
                #expect(!outcome.output.contains("refused"), "\(outcome.output)")
                #expect(took < .seconds(60), "the example took \(took)")

                // What the story leaves, read behind the api: the three people of Haidian in
                // the order they registered (volunteer, elder, father), one service settled
                // for its two hours (R6), a gift (R8) and a donation (R10), a claim (R26).
                let people = try await bank.owner.query("SELECT id FROM bank.person WHERE district_code = '110108' ORDER BY id")
                    .map { try $0.decode("id", as: Int64.self) }
                try #require(people.count == 3, "\(outcome.output)")
                let (volunteer, elder, father) = (people[0], people[1], people[2])
                #expect(try await bank.balance(volunteer) == Bank.Balance(available: 0, held: 0, posted: 0), "\(outcome.output)")
                #expect(try await bank.balance(elder) == Bank.Balance(available: 480, held: 0, posted: 480))
                #expect(try await bank.balance(father) == Bank.Balance(available: 60, held: 0, posted: 60))
                let service = try await bank.owner.query("""
                    SELECT s.status::text AS status, s.settled_minutes, s.checked_out_at - s.checked_in_at >= interval '2 hours' AS two_hours
                      FROM bank.service s WHERE s.elder_id = $1
                    """, [elder])
                try #require(service.count == 1)
                #expect(try service[0].decode("status", as: String.self) == "checked_out")
                #expect(try service[0].decode("settled_minutes", as: Int?.self) == 120)
                #expect(try service[0].decode("two_hours", as: Bool.self))
                #expect(try await bank.count("bank.service_rating WHERE score = 5") == 1)
                #expect(try await bank.count("bank.accident_claim WHERE volunteer_id = $1", [volunteer]) == 1)
                #expect(try await bank.count("bank.transfer WHERE kind = 'gift'") == 1)
                #expect(try await bank.count("bank.transfer WHERE kind = 'donation'") == 1)
                #expect(outcome.output.contains("validated"), "the claim was validated: \(outcome.output)")
                #expect(outcome.output.contains("relative (parent)"), "the statement names the gift's counterparty by role: \(outcome.output)")
                #expect(try await bank.ledgerProblems().isEmpty)
                // Through the api alone: the clock moved as the example says (2 h 10 min), nothing else did.
                #expect(try await bank.owner.query("SELECT offset_by::text AS o FROM bank.development_clock")[0]
                    .decode("o", as: String.self) == "02:10:00")
            }
        }

        /// `timebank db url --role api` prints a URL that logs in as the residents' client.
        @Test func dbURLWithARolePrintsAWorkingConninfoOfThatLogin() async throws {
            try await Bank.with(workers: false) { bank in
                try await LoginAdmin.ensure(bank.owner, password: nil)
                let port = try #require(try await bank.owner.query("SELECT current_setting('port') AS p")[0].decode("p", as: String.self))
                let home = FileManager.default.temporaryDirectory.appendingPathComponent("timebank-url-\(UUID().uuidString.prefix(8))")
                try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: home) }
                try "\(port)\n".write(to: home.appendingPathComponent("port"), atomically: true, encoding: .utf8)
                let printed = try await ChildProcess.run("/usr/bin/env", ["TIMEBANK_HOME=\(home.path)", ClientExample.timebank, "db", "url", "--role", "api"])
                #expect(printed.status == 0, "\(printed.output)")
                let url = printed.output.trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(url == "postgresql://timebank_api_login@127.0.0.1:\(port)/timebank?application_name=api-client")
                // The same URL, on this test's database (the local cluster's is `timebank`).
                let client = try await PostgresConnection.connect(ConnectionSettings(conninfo: url + "&dbname=" + bank.database.name))
                let row = try await client.query("""
                    SELECT current_user::text AS who, pg_has_role('timebank_api', 'MEMBER') AS api, development FROM api.development_clock()
                    """)[0]
                #expect(try row.decode("who", as: String.self) == "timebank_api_login")
                #expect(try row.decode("api", as: Bool.self))
                await client.close()
                let wrong = try await ChildProcess.run("/usr/bin/env", ["TIMEBANK_HOME=\(home.path)", ClientExample.timebank, "db", "url", "--role", "nobody"])
                #expect(wrong.status != 0)
                #expect(wrong.output.contains("--role: no role is called nobody; one of ") && wrong.output.contains("api,"), "\(wrong.output)")
            }
        }
    }
}
