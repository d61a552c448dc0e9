import Foundation
import PostgresClient
import TestSupport
import Testing
import TimebankDatabase
import TimebankOperations
import TimebankWorkers

extension Bank {
    /// A real login of its own (not the superuser with SET ROLE), a member of
    /// `roles` (none: any login at all), connected to this bank's database.
    /// Dropped when `body` ends. `parameters`: session settings it connects with.
    func asLogin<T: Sendable>(memberOf roles: [String], parameters: [(String, String)] = [],
                              _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let name = "attacker_" + UUID().uuidString.prefix(8).lowercased()
        try await owner.execute("CREATE ROLE \(name) LOGIN" + (roles.isEmpty ? "" : " IN ROLE " + roles.joined(separator: ", ")))
        let conninfo = database.settings.conninfoWithDatabase
        let login = conninfo.hasPrefix("postgres") ? conninfo + "&user=\(name)" : conninfo + " user=\(name)"
        do {
            let settings = parameters.reduce(ConnectionSettings(conninfo: login)) { $0.with(parameter: $1.0, $1.1) }
            let connection = try await PostgresConnection.connect(settings)
            let value = try await body(connection)
            await connection.close()
            _ = try? await owner.execute("DROP ROLE \(name)")
            return value
        } catch {
            _ = try? await owner.execute("DROP ROLE \(name)")
            throw error
        }
    }
}

/// Each statement refused for want of a privilege (WITH ... AS MATERIALIZED
/// around a call: PostgreSQL checks EXECUTE only when a function's result is used).
func expectRefused(_ connection: PostgresConnection, _ statements: some Sequence<String>,
                   code: PostgresError.Code = .insufficientPrivilege, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    for sql in statements {
        let wrapped = sql.hasPrefix("SELECT") && !sql.contains(" FROM ") ? "WITH r AS MATERIALIZED (\(sql) AS x) SELECT count(*) FROM r" : sql
        let error = try await #require(throws: PostgresError.self, "\(sql)", sourceLocation: sourceLocation) {
            try await connection.query(wrapped)
        }
        #expect(error.code == code, "\(sql): \(error)", sourceLocation: sourceLocation)
    }
}

extension BankSuites {
    /// Issue 15: the boundaries, attacked as each role's own login (finding 7
    /// is in ClaimDeliveryTests).
    @Suite struct TrustBoundaryTests {
        /// Finding 6: any login executed pgcrypto and the jobs functions. Now
        /// PUBLIC executes neither; the worker roles keep what they use.
        @Test func anyLoginExecutesNeitherTheJobFunctionsNorPgcrypto() async throws {
            try await Bank.with(workers: false) { bank in
                let attacks = [
                    "SELECT jobs.enqueue('settlement.grant', '{\"request_id\": 1}', 'settlement')",
                    "SELECT jobs.wake('settlement')",
                    "SELECT public.pgp_sym_decrypt('\\x00'::bytea, 'some key')",
                    "SELECT public.hmac('body', 'secret', 'sha256')",
                    "SELECT public.digest('x', 'sha256')",
                    "SELECT bank.personal_data_decrypt('\\x00'::bytea)",
                ]
                try await bank.asLogin(memberOf: []) { connection in try await expectRefused(connection, attacks) }
                // The order worker's login decrypts nothing either (it reads no ciphertext, but the
                // functions are closed to it too), while it still enqueues into its own queue.
                try await bank.asLogin(memberOf: ["timebank_order"]) { connection in
                    try await expectRefused(connection, attacks)
                    let allowed = try await connection.query(
                        "SELECT has_function_privilege('jobs.enqueue_own(text, jsonb, text, smallint, timestamptz, integer, text, text, text)', 'EXECUTE') AS ok")
                    #expect(try allowed[0].decode("ok", as: Bool.self))
                }
                try await bank.asLogin(memberOf: ["timebank_notification"]) { connection in
                    let row = try await connection.query("""
                        SELECT has_function_privilege('public.hmac(text, text, text)', 'EXECUTE') AS sign,
                               has_function_privilege('public.pgp_sym_decrypt(bytea, text)', 'EXECUTE') AS decrypt,
                               has_function_privilege('public.pgp_sym_encrypt(text, text)', 'EXECUTE') AS encrypt
                        """)[0]
                    // It signs its webhooks; it decrypts nothing itself (issue 15, finding 4: a phone
                    // number reaches it through bank.message_to_send, after a recorded release).
                    #expect(try row.decode("sign", as: Bool.self))
                    #expect(try !row.decode("decrypt", as: Bool.self) && !row.decode("encrypt", as: Bool.self))
                }
            }
        }
        /// What issue 14 added is the owner's alone: the migrator's record of the definitions,
        /// and the operators' views of the queues and workers. A worker's own login can
        /// neither read them nor mark the definitions applied (which would hide a stale set).
        @Test func aWorkerLoginReadsNoOperatorsViewAndWritesNoMigrationRecord() async throws {
            try await Bank.with(workers: false) { bank in
                try await bank.asLogin(memberOf: ["timebank_settlement"]) { connection in
                    for sql in ["SELECT count(*) FROM jobs.queue_depth", "SELECT count(*) FROM jobs.worker_state",
                                "SELECT count(*) FROM meta.applied_definitions",
                                "UPDATE meta.applied_definitions SET checksum = 'x'", "DELETE FROM meta.applied_migrations"] {
                        let error = try await #require(throws: PostgresError.self, "\(sql)") { try await connection.query(sql) }
                        #expect(error.code == .insufficientPrivilege, "\(sql): \(error)")
                    }
                }
            }
        }

        /// Finding 1: the order worker's login rewrote a pending grant's request and inserted a
        /// settlement.grant job, and the settlement worker paid 300,000 minutes to a volunteer;
        /// any worker could delete, delay or run another queue's jobs and reopen a finished
        /// request. Now none of it is possible for a worker's login, and the request's words are
        /// fixed for every role.
        @Test func finding1AWorkerForgesNoRequestAndTouchesNoOtherQueuesJobs() async throws {
            try await Bank.with(workers: false) { bank in
                // A grant's request and job as the api leaves them, and a finished one.
                let grant = try await bank.owner.query("""
                    INSERT INTO bank.request (kind, args) VALUES ('grant_coins', '{"elder_id": 1, "minutes": 600, "district_code": "110105", "category": "dementia"}')
                    RETURNING id
                    """)[0].decode("id", as: Int64.self)
                try await bank.owner.query("SELECT jobs.enqueue('settlement.grant', jsonb_build_object('id', $1::bigint), 'settlement')", [grant])
                let finished = try await bank.owner.query("""
                    INSERT INTO bank.request (kind, args, status, refusal, finished_at) VALUES ('grant_coins', '{}', 'refused', 'R9: test', now())
                    RETURNING id
                    """)[0].decode("id", as: Int64.self)
                let jobsBefore = try await bank.owner.query("SELECT count(*) AS n, max(state::text) AS s FROM jobs.job")[0]
                let settlementJob = try await bank.owner.query("SELECT min(id) AS id FROM jobs.job WHERE queue = 'settlement' AND state = 'available'")[0]
                    .decode("id", as: Int64.self)
                for role in ["timebank_order", "timebank_enrollment", "timebank_notification", "timebank_insurance_claim", "timebank_api"] {
                    try await bank.asLogin(memberOf: [role]) { connection in
                        try await expectRefused(connection, [
                            "UPDATE bank.request SET args = args || '{\"elder_id\": 2, \"minutes\": 300000}' WHERE id = \(grant)",
                            "UPDATE bank.request SET status = 'pending', refusal = NULL, finished_at = NULL WHERE id = \(finished)",
                            "DELETE FROM bank.request WHERE id = \(grant)",
                            "INSERT INTO jobs.job (kind, queue, args) VALUES ('settlement.grant', 'settlement', '{\"id\": \(grant)}')",
                            "UPDATE jobs.job SET run_at = now() + interval '1 year' WHERE queue = 'settlement'",
                            "DELETE FROM jobs.job WHERE queue = 'settlement'",
                            "SELECT jobs.enqueue('settlement.grant', '{\"id\": \(grant)}', 'settlement')",
                            "SELECT jobs.enqueue_own('settlement.grant', '{\"id\": \(grant)}', 'settlement')",
                            "SELECT id FROM jobs.claim('settlement', 10, 'forger', '1 minute')",
                            "SELECT bank.finish_request(\(grant), 'refused', NULL, 'forged')",
                            "SELECT bank.settlement_grant(\(grant))",
                            // Nor makes itself the worker of another queue, nor records a read of personal data.
                            "UPDATE jobs.queue_worker_role SET worker_role = '\(role)' WHERE queue = 'settlement'",
                            "INSERT INTO jobs.queue_worker_role (queue, worker_role) VALUES ('mine', '\(role)')",
                            "INSERT INTO bank.personal_data_read (person_id, staff, purpose) VALUES (1, 'x', 'y')",
                            // Issue 18's engine statements: another queue's claim through the combined one, and
                            // the helpers only the engine's own functions call.
                            "SELECT id FROM jobs.record_and_claim('{}', '{}', '{}', '{}', '{}', 'settlement', 10, 'forger', '1 minute')",
                            "SELECT jobs.commit_without_waiting()",
                            "SELECT jobs.wake_freed_keys(ARRAY['settlement'], ARRAY['insurer:x'])",
                        ] + (role == "timebank_notification" ? [] : ["SELECT bank.release_phone(1)"]))
                        // Its own queue's claim carrying the settlement job's "result": jobs.record's guard
                        // leaves a job of another queue as it was (checked below with the rest).
                        let own = try await bank.owner.query("SELECT queue FROM jobs.queue_worker_role WHERE worker_role = $1 LIMIT 1", [role])
                        if let queue = try own.first?.decode("queue", as: String.self) {
                            _ = try await connection.query("""
                                SELECT count(*) FROM jobs.record_and_claim(
                                    ARRAY[$1::bigint], ARRAY[1], ARRAY['completed'], ARRAY[now()], ARRAY[NULL]::text[], $2, 1, 'forger', '1 minute')
                                """, [settlementJob, queue])
                        }
                    }
                }
                // Run as the settlement worker itself, a step serves only its own kind of request.
                try await bank.asLogin(memberOf: ["timebank_settlement"]) { connection in
                    try await expectRefused(connection, ["SELECT bank.settlement_move(\(grant))", "SELECT bank.settlement_hold(\(grant))"])
                }
                let jobsAfter = try await bank.owner.query("SELECT count(*) AS n, max(state::text) AS s FROM jobs.job")[0]
                #expect(try jobsAfter.decode("n", as: Int.self) == jobsBefore.decode("n", as: Int.self))
                #expect(try jobsAfter.decode("s", as: String.self) == "available")
                // Even the owner's code cannot change what the api recorded, nor reopen a request.
                try await expectRefused(bank.owner, [
                    "UPDATE bank.request SET args = args || '{\"minutes\": 300000}' WHERE id = \(grant)",
                    "UPDATE bank.request SET status = 'pending', refusal = NULL, finished_at = NULL WHERE id = \(finished)",
                    "DELETE FROM bank.request WHERE id = \(grant)",
                ], code: .restrictViolation)
                #expect(try await bank.owner.query("SELECT args->>'minutes' AS m FROM bank.request WHERE id = $1", [grant])[0]
                    .decode("m", as: String.self) == "600")
            }
        }

        /// Finding 1, the rest: a grant whose request names a volunteer and 300,000 minutes (as a
        /// forger with the owner's rights would write it) is refused by the settlement step, which
        /// re-derives R9 from the rows; and a grant written into the ledger behind every step's back
        /// is named by `ledger verify`.
        @Test func finding1TheGrantStepReDerivesR9AndLedgerVerifyNamesAForgedGrant() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(41, coins: 2)
                let volunteer = try await bank.registerVolunteer(42)
                let forged = try await bank.owner.query("""
                    WITH r AS (INSERT INTO bank.request (kind, args)
                               VALUES ('grant_coins', jsonb_build_object('elder_id', $1::bigint, 'minutes', 300000,
                                                                         'district_code', '110105', 'category', 'dementia'))
                               RETURNING id)
                    SELECT id, jobs.enqueue('settlement.grant', jsonb_build_object('id', id), 'settlement') AS job FROM r
                    """, [volunteer])[0].decode("id", as: Int64.self)
                let outcome = try await bank.outcome(forged)
                #expect(outcome.status == "refused")
                #expect(outcome.refusal?.hasPrefix("R9: coins are granted to authenticated elders only") == true, "\(outcome)")
                #expect(try await bank.balance(volunteer).posted == 0)
                #expect(try await bank.ledgerProblems().isEmpty)

                // Behind every step's back (a DBA's session): a grant with no request of its own.
                try await bank.owner.execute("""
                    INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, grant_category)
                    SELECT 'forged', 'posted', 'grant', g.id, v.id, 300000, 'dementia'
                      FROM bank.account g, bank.account v WHERE g.district_code = '110105' AND v.person_id = $1
                    """, [elder])
                let problems = try await bank.ledgerProblems()
                #expect(problems.contains { $0.contains("every grant, gift and donation is its request's") && $0.contains("no request of its kind") },
                        "\(problems)")
            }
        }

        /// Finding 2: the settlement worker's login changed balances without a transfer and wrote
        /// a grant outside every budget. Now it writes the ledger only through its steps.
        @Test func finding2TheSettlementLoginWritesTheLedgerOnlyThroughItsSteps() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(43, coins: 1)
                let before = try await bank.balance(elder)
                try await bank.asLogin(memberOf: ["timebank_settlement"]) { connection in
                    try await expectRefused(connection, [
                        "UPDATE bank.account SET credits_posted = credits_posted + 600000",
                        """
                        INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, grant_category)
                        SELECT 'outside-budget', 'posted', 'grant', g.id, a.id, 600, 'dementia'
                          FROM bank.account g, bank.account a WHERE g.district_code = '110101' AND a.person_id = \(elder)
                        """,
                        "UPDATE bank.district_budget SET budget_minutes = 1000000000",
                        "INSERT INTO bank.district_budget (district_code, period, budget_minutes, request_id) VALUES ('110101', '[2026-01-01,2027-01-01)', 60000000, 1)",
                        "UPDATE bank.service SET settled_at = now()",
                        "SELECT bank.open_account(\(elder))",
                        "SELECT bank.reverse_service_credit(1, 1)",
                    ])
                }
                #expect(try await bank.balance(elder) == before)
                #expect(try await bank.ledgerProblems().isEmpty)
            }
        }

        /// Finding 6, the rest: any login created TEMP tables and could create objects in schema
        /// public. A migrated database (the ACL is the database's, not its template's: a fresh
        /// one, migrated here) lets neither any login nor a worker's.
        @Test func finding6NoLoginCreatesTempTablesOrObjectsInPublic() async throws {
            try await TestDatabase.with(migrated: false) { database in
                let owner = try await database.connect()
                _ = try await Migrator.project().migrate(owner)
                for roles in [[], ["timebank_order"], ["timebank_api"]] {
                    let name = "attacker_" + UUID().uuidString.prefix(8).lowercased()
                    try await owner.execute("CREATE ROLE \(name) LOGIN" + (roles.isEmpty ? "" : " IN ROLE " + roles.joined(separator: ", ")))
                    let connection = try await PostgresConnection.connect(database.settings.withUser(name))
                    try await expectRefused(connection, ["CREATE TEMP TABLE stash (a int)", "CREATE TABLE public.stash (a int)",
                                                         "CREATE FUNCTION public.now() RETURNS int LANGUAGE sql AS 'SELECT 1'"])
                    await connection.close()
                    try await owner.execute("DROP ROLE \(name)")
                }
                await owner.close()
            }
        }

        /// Finding 10: a failing api call sent as plain SQL text (psql, a careless client) wrote the
        /// name, ID and phone into PostgreSQL's log. The client logins run with
        /// log_min_error_statement = panic; another login's same call (the control) is logged.
        @Test func finding10AClientLoginsFailingPlainSQLLeavesNoPersonalDataInTheServerLog() async throws {
            try await Bank.with(workers: false) { bank in
                func serverLog() async throws -> String? { await bank.serverLogTail(bytes: 2_000_000) }
                guard try await serverLog() != nil else { return }  // a server whose log the tests cannot read
                try await LoginAdmin.ensure(bank.owner, password: nil)
                func failingCall(_ connection: PostgresConnection) async throws -> String {
                    let marker = "Name" + UUID().uuidString.prefix(8)
                    // R3 refuses the ID (a wrong check digit); the name is a literal of the statement's text.
                    let error = try await #require(throws: PostgresError.self) {
                        try await connection.execute("SELECT api.register_person('110105194901010012', '\(marker)', NULL, true, 'nowhere')")
                    }
                    #expect(error.message.hasPrefix("R3: "))
                    return marker
                }
                let client = try await PostgresConnection.connect(
                    bank.database.settings.withUser("timebank_api_login").with(parameter: "role", "timebank_api"))
                let quiet = try await failingCall(client)
                await client.close()
                let control = try await bank.asLogin(memberOf: ["timebank_api"], parameters: [("role", "timebank_api")]) { try await failingCall($0) }
                try await Task.sleep(for: .milliseconds(200))
                let log = try #require(try await serverLog())
                #expect(log.contains(control), "the control's statement is logged: the test can see the log")
                #expect(!log.contains(quiet), "the client login's failing statement is not")
            }
        }

        /// Finding 5: every worker logged in as the cluster's superuser with `-c role=...`, and
        /// `SET ROLE NONE` gave the superuser back. Each now has a login of its own
        /// (`timebank logins create`, `timebank up`): after `SET ROLE NONE` it is still itself,
        /// no superuser, and writes nothing.
        @Test func finding5EachWorkersLoginIsItselfAfterSetRoleNone() async throws {
            try await Bank.with(workers: false) { bank in
                try await LoginAdmin.ensure(bank.owner, password: nil)
                for login in LoginAdmin.logins {
                    let settings = bank.database.settings.withUser(login.name).with(parameter: "role", login.group)
                    let connection = try await PostgresConnection.connect(settings)
                    try await connection.execute("SET ROLE NONE")
                    let row = try await connection.query("""
                        SELECT current_user::text AS who, r.rolsuper, r.rolcreaterole, r.rolbypassrls,
                               pg_has_role(current_user, 'timebank_owner', 'MEMBER') AS owner
                          FROM pg_roles r WHERE r.rolname = current_user
                        """)[0]
                    #expect(try row.decode("who", as: String.self) == login.name)
                    #expect(try !row.decode("rolsuper", as: Bool.self) && !row.decode("rolcreaterole", as: Bool.self)
                            && !row.decode("rolbypassrls", as: Bool.self) && !row.decode("owner", as: Bool.self), "\(login.name)")
                    try await expectRefused(connection, ["UPDATE bank.account SET credits_posted = 0", "SET ROLE timebank_owner",
                                                         "SET session_replication_role = replica"])
                    await connection.close()
                }
            }
        }

        /// Finding 5, in part: the owner of the ledger is no superuser and no application login
        /// can become it; so no worker's login disables the ledger's triggers or turns them off
        /// with session_replication_role, and the definer functions hold no superuser's rights.
        /// Issue 18: the per-key limits are the owner's (`timebank jobs limits`): no worker,
        /// client, console or analyst login lifts a slow insurer's rule or refills a key's bucket.
        @Test func noLoginButTheOwnerSetsAJobLimitOrFillsAKeysBucket() async throws {
            try await Bank.with(workers: false) { bank in
                let attacks = [
                    "SELECT jobs.limit_set('claims', 'insurer:', 1000, NULL, NULL)",
                    "SELECT jobs.limit_remove('claims', 'insurer:')",
                    "INSERT INTO jobs.limit_rule (queue, key_prefix, max_running) VALUES ('claims', 'insurer:', 1000)",
                    "UPDATE jobs.limit_rule SET max_running = 1000",
                    "DELETE FROM jobs.limit_rule",
                    "INSERT INTO jobs.limit_state (queue, limit_key, tokens) VALUES ('claims', 'insurer:picc', 1000)",
                    "UPDATE jobs.limit_state SET tokens = 1000",
                ]
                let roles = WorkerKind.allCases.map(\.databaseRole) + ["timebank_api", "timebank_staff", "timebank_analyst", "timebank_console"]
                for role in roles {
                    try await bank.asLogin(memberOf: [role]) { connection in try await expectRefused(connection, attacks) }
                }
            }
        }

        @Test func finding5TheLedgersOwnerIsNoSuperuserAndNoLoginBecomesIt() async throws {
            try await Bank.with(workers: false) { bank in
                let owners = try await bank.owner.query("""
                    SELECT DISTINCT r.rolname, r.rolsuper, r.rolcanlogin FROM pg_class c
                      JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_roles r ON r.oid = c.relowner
                     WHERE n.nspname IN ('jobs', 'bank', 'api', 'reporting')
                    UNION
                    SELECT DISTINCT r.rolname, r.rolsuper, r.rolcanlogin FROM pg_proc p
                      JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_roles r ON r.oid = p.proowner
                     WHERE n.nspname IN ('jobs', 'bank', 'api', 'reporting')
                    """)
                #expect(owners.count == 1)
                #expect(try owners[0].decode("rolname", as: String.self) == "timebank_owner")
                #expect(try !owners[0].decode("rolsuper", as: Bool.self) && !owners[0].decode("rolcanlogin", as: Bool.self))
                for role in ["timebank_settlement", "timebank_order", "timebank_api", "timebank_analyst"] {
                    try await bank.asLogin(memberOf: [role]) { connection in
                        try await expectRefused(connection, [
                            "ALTER TABLE bank.transfer DISABLE TRIGGER transfer_immutable",
                            "SET session_replication_role = replica",
                            "SET ROLE timebank_owner",
                        ])
                    }
                }
            }
        }
    }
}
