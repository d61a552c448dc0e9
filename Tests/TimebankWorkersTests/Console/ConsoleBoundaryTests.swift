import Console
import Foundation
import PostgresClient
import TestSupport
import Testing

/// Issue 17, item 2: what the console's login can do, attacked as that
/// login. A compromised console process holds exactly these rights: it
/// cannot act without a live operator session and the session's CSRF
/// token, cannot make itself an account, and reads no personal data.
@Suite struct ConsoleBoundaryTests {
    /// Each action as: no session, a viewer's, an operator's with a wrong
    /// or missing CSRF token: refused, recorded, nothing changed. Then the
    /// operator's with its token: done.
    @Test func actionsNeedALiveOperatorSessionAndItsCSRFToken() async throws {
        try await ConsoleHarness.with { harness in
            let console = try await harness.connectAsConsole()
            let viewer = try #require(try await harness.logIn(console, "viewer1"))
            let operatorSession = try #require(try await harness.logIn(console, "operator1"))
            let attempts: [(token: String, csrf: String?, reason: String)] = [
                (String(repeating: "ab", count: 32), operatorSession.csrf, "no live session"),
                (viewer.token, viewer.csrf, "needs the operator power"),
                (operatorSession.token, viewer.csrf, "CSRF token"),
                (operatorSession.token, nil, "CSRF token"),
            ]
            for attempt in attempts {
                for statement in ["SELECT done, message FROM bank.console_retry_job($1, $2, \(harness.failedJob))",
                                  "SELECT done, message FROM bank.console_set_queue_paused($1, $2, '\(ConsoleHarness.queue)', true)"] {
                    let row = try await console.query(statement, [attempt.token, attempt.csrf])[0]
                    #expect(try !row.decode("done", as: Bool.self), "\(statement)")
                    #expect(try row.decode("message", as: String.self).contains(attempt.reason), "\(statement)")
                }
            }
            #expect(try await harness.jobState(harness.failedJob) == "discarded")
            #expect(try await !harness.queuePaused())
            let refusals: Int = try await harness.owner.query(
                "SELECT count(*)::integer AS n FROM bank.console_action WHERE outcome = 'refused' AND action IN ('retry_job', 'pause_queue')")[0].decode("n")
            #expect(refusals == attempts.count * 2)

            let done = try await console.query("SELECT done, message FROM bank.console_retry_job($1, $2, $3)",
                                               [operatorSession.token, operatorSession.csrf, harness.failedJob])[0]
            #expect(try done.decode("done", as: Bool.self))
            #expect(try await harness.jobState(harness.failedJob) == "available")
            let recorded = try await harness.owner.query("""
                SELECT a.login, c.target FROM bank.console_action c JOIN bank.console_account a ON a.id = c.account_id
                 WHERE c.action = 'retry_job' AND c.outcome = 'done'
                """)
            #expect(try recorded.map { try $0.decode("login", as: String.self) } == ["operator1"])
            #expect(try recorded[0].decode("target", as: String.self) == String(harness.failedJob))
            await console.close()
        }
    }

    /// The console's login writes no table, calls none of the functions that
    /// act without a session, cannot add or read accounts or sessions.
    @Test func theConsolesLoginCannotActAroundTheSessionFunctions() async throws {
        try await ConsoleHarness.with { harness in
            let console = try await harness.connectAsConsole()
            let job = harness.failedJob
            try await expectRefused(console, [
                "UPDATE jobs.job SET state = 'available' WHERE id = \(job)",
                "INSERT INTO jobs.queue (name, paused) VALUES ('\(ConsoleHarness.queue)', true)",
                "DELETE FROM jobs.job",
                "SELECT jobs.retry_job(\(job))",
                "SELECT jobs.set_queue_paused('\(ConsoleHarness.queue)', true)",
                "SELECT bank.retry_message(1)",
                "SELECT bank.claims_resend(1, 'x')",
                "SELECT api.dismiss_alert('s1', 1, 'x')",
                "SELECT bank.console_account_add('intruder', 'operator', 'a long enough password')",
                "SELECT bank.console_act('t', 'c', 'retry_job', '1', 'SELECT true', 'x')",
                "SELECT id FROM bank.console_account",
                "SELECT token_hash FROM bank.console_session",
                "UPDATE bank.console_account SET power = 'operator'",
                "INSERT INTO bank.console_action (action, outcome) VALUES ('log_in', 'done')",
                "SELECT id FROM bank.person",
                "SELECT id FROM jobs.job",
            ])
            #expect(try await harness.jobState(job) == "discarded")
            await console.close()
        }
    }

    /// What the role may read is exactly the console's views, none with a
    /// column of personal data.
    @Test func theConsoleReadsOnlyItsViewsAndNoPersonalData() async throws {
        try await ConsoleHarness.with { harness in
            let readable: [String] = try await harness.owner.query("""
                SELECT c.oid::regclass::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname IN ('jobs', 'bank', 'api', 'reporting', 'meta', 'public') AND c.relkind IN ('r', 'v', 'm', 'p')
                   AND (has_table_privilege('timebank_console', c.oid, 'SELECT')
                        OR has_any_column_privilege('timebank_console', c.oid, 'SELECT'))
                 ORDER BY 1
                """).map { try $0.decode("name") }
            #expect(readable == [
                "bank.alert_summary", "bank.claim_summary", "bank.console_recent_action", "bank.delivery_attempt_summary",
                "bank.failed_delivery", "bank.ledger_verify_last", "bank.settlement_latency",
                "jobs.job_summary", "jobs.queue_depth", "jobs.worker_state",
            ])
            let personal: [String] = try await harness.owner.query("""
                SELECT table_name || '.' || column_name AS name FROM information_schema.columns
                 WHERE table_schema || '.' || table_name = ANY ($1) AND column_name ~ '(name|national|phone|birth|address|place|description)'
                   AND column_name NOT IN ('queue')
                """, [readable]).map { try $0.decode("name") }
            #expect(personal.isEmpty, "\(personal)")
        }
    }

    /// Five wrong passwords lock the account (the right one is refused
    /// then); an idle or disabled account's session ends; log-out ends it.
    @Test func logInIsThrottledAndSessionsEnd() async throws {
        try await ConsoleHarness.with { harness in
            let console = try await harness.connectAsConsole()
            #expect(try await harness.logIn(console, "nobody") == nil)
            for _ in 1...5 { #expect(try await harness.logIn(console, "operator1", password: "wrong password!") == nil) }
            #expect(try await harness.logIn(console, "operator1") == nil, "locked after five failures")
            let reasons: [String] = try await harness.owner.query(
                "SELECT reason FROM bank.console_action WHERE action = 'log_in' ORDER BY id").map { try $0.decode("reason") }
            #expect(reasons == ["no such account"] + Array(repeating: "wrong password", count: 5) + ["locked after repeated failures"])

            let viewer = try #require(try await harness.logIn(console, "viewer1"))
            func live(_ token: String) async throws -> Bool {
                try await !console.query("SELECT login FROM bank.console_session($1)", [token]).isEmpty
            }
            #expect(try await live(viewer.token))
            try await harness.owner.execute("UPDATE bank.console_session SET last_seen_at = now() - interval '2 hours'")
            #expect(try await !live(viewer.token), "an idle session ends")

            let again = try #require(try await harness.logIn(console, "viewer1"))
            #expect(try await !console.query("SELECT bank.console_log_out($1, $2) AS done", [again.token, "wrong"])[0].decode("done", as: Bool.self))
            #expect(try await console.query("SELECT bank.console_log_out($1, $2) AS done", [again.token, again.csrf])[0].decode("done", as: Bool.self))
            #expect(try await !live(again.token), "logged out")

            let third = try #require(try await harness.logIn(console, "viewer1"))
            #expect(try await ConsoleAccounts.disable(harness.owner, login: "viewer1"))
            #expect(try await !live(third.token), "a disabled account's sessions end")
            #expect(try await harness.logIn(console, "viewer1") == nil)
            await console.close()
        }
    }

    /// The DBA's account command refuses bad input and stores only a bcrypt hash.
    @Test func accountsRefuseBadInputAndKeepOnlyAHash() async throws {
        try await ConsoleHarness.with { harness in
            for (login, power, password) in [("short", "viewer", "too short"), ("x y", "viewer", ConsoleHarness.password),
                                             ("ok", "admin", ConsoleHarness.password), ("viewer1", "viewer", ConsoleHarness.password)] {
                await #expect(throws: PostgresError.self, "\(login) \(power)") {
                    _ = try await ConsoleAccounts.add(harness.owner, login: login, power: power, password: password, staffCode: nil)
                }
            }
            let hashes: [String] = try await harness.owner.query("SELECT password_hash FROM bank.console_account").map { try $0.decode("password_hash") }
            #expect(hashes.count == 2 && hashes.allSatisfy { $0.hasPrefix("$2a$") && !$0.contains(ConsoleHarness.password) })
            let accounts = try await ConsoleAccounts.list(harness.owner)
            #expect(accounts.map(\.login) == ["operator1", "viewer1"])
        }
    }
}
