import Foundation
import PostgresClient
import TestSupport
import TimebankOperations
import Testing

extension BankSuites {
    /// Issue 15, finding 8 (R23): analysts could single people out (exact
    /// minutes per stable pseudonym beside district, gender and age band).
    /// Attacked as real logins: one that is a member of `timebank_analyst`,
    /// one of `timebank_analyst_detail`; never the superuser with SET ROLE.
    @Suite struct AnalystPrivacyTests {
        static let today = "(now() AT TIME ZONE 'Asia/Shanghai')::date"
        static let setK = "UPDATE bank.setting SET value = $1 WHERE name = 'reporting_min_group_size'"

        /// Rows of every view over people the login may read (all of reporting's
        /// but the job queues'), and of every function it may execute that takes a day.
        static func rowsOverPeople(_ connection: PostgresConnection) async throws -> [String: Int] {
            let views = try await connection.query("""
                SELECT format('%I.%I', n.nspname, c.relname) AS v FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'reporting' AND c.relkind = 'v' AND c.relname <> 'queue_health'
                   AND has_table_privilege(c.oid, 'SELECT') ORDER BY 1
                """).map { try $0.decode("v", as: String.self) }
            let functions = try await connection.query("""
                SELECT format('%I.%I', n.nspname, p.proname) AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname = 'reporting' AND p.proretset AND p.pronargs = 1 AND p.proargtypes[0] = 'date'::regtype
                   AND has_function_privilege(p.oid, 'EXECUTE') ORDER BY 1
                """).map { try $0.decode("f", as: String.self) }
            #expect(views.count >= 8 && functions.count >= 1, "\(views) \(functions)")
            var rows: [String: Int] = [:]
            for view in views {
                rows[view] = try await connection.query("SELECT count(*) AS n FROM \(view)")[0].decode("n", as: Int.self)
            }
            for function in functions {
                // Institutional accounts (a district's grant account, the public-welfare
                // account, clearing) are no people: only the personal accounts count.
                rows[function] = try await connection.query(
                    "SELECT count(*) AS n FROM \(function)(\(today)) WHERE account_kind = 'personal' AND accounts IS NOT NULL"
                )[0].decode("n", as: Int.self)
            }
            return rows
        }

        @Test func r23AnAnalystLoginReadsNoRowPerPseudonym() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(81, coins: 5)
                let volunteer = try await bank.registerVolunteer(82)
                _ = try await bank.served(elder: elder, volunteer: volunteer)
                try await bank.eventually("(SELECT count(*) FROM bank.service WHERE settled_at IS NOT NULL) = 1")
                try await bank.asLogin(memberOf: ["timebank_analyst"]) { analyst in
                    // The per-person views and the per-account balances: gone, or not the analyst's.
                    for sql in ["SELECT * FROM reporting.volunteers", "SELECT * FROM reporting.milestones",
                                "SELECT * FROM reporting.special_elders", "SELECT * FROM reporting.balances_as_of(\(Self.today))",
                                "SELECT * FROM reporting.balances_as_of(\(Self.today), 'curiosity')",
                                "SELECT * FROM reporting.volunteer_detail('curiosity')",
                                "SELECT * FROM reporting.milestone_detail('curiosity')",
                                "SELECT * FROM reporting.special_elder_detail('curiosity')"] {
                        let error = try await #require(throws: PostgresError.self, "\(sql)") { try await analyst.query(sql) }
                        #expect([.insufficientPrivilege, .undefinedTable, PostgresError.Code("42883")].contains(error.code), "\(sql): \(error)")
                    }
                    // Nothing the analyst may read has a column of pseudonyms.
                    let pseudonymous = try await analyst.query("""
                        SELECT format('%I.%I', c.relname, a.attname) AS c FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
                         WHERE n.nspname = 'reporting' AND has_table_privilege(c.oid, 'SELECT')
                           AND a.attname IN ('volunteer', 'elder', 'holder', 'pseudonym', 'person')
                        UNION ALL
                        SELECT format('%s.%s', p.oid::regprocedure, arg) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                          CROSS JOIN unnest(p.proargnames) AS arg
                         WHERE n.nspname = 'reporting' AND has_function_privilege(p.oid, 'EXECUTE')
                           AND arg IN ('volunteer', 'elder', 'holder', 'pseudonym', 'person')
                        """).map { try $0.decode("c", as: String.self) }
                    #expect(pseudonymous == [])
                }
            }
        }

        @Test func r23NoCellOfFewerThanKPeopleReachesTheAnalystAndKIsASetting() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(83, coins: 5)
                let volunteer = try await bank.registerVolunteer(84)
                _ = try await bank.served(elder: elder, volunteer: volunteer)
                try await bank.eventually("(SELECT count(*) FROM bank.service WHERE settled_at IS NOT NULL) = 1")
                try await bank.completed("api.rate_service($1, $2, 5, NULL)", [try await bank.owner.query(
                    "SELECT id FROM bank.service")[0].decode("id", as: Int64.self), elder])
                #expect(try await bank.owner.query("SELECT max(value) AS value FROM bank.setting WHERE name = 'reporting_min_group_size'")[0]
                    .decode("value", as: Int?.self) == 5, "k defaults to 5")
                // Two people in all: at k = 5 (the default) every cell over people is one of fewer than 5.
                try await bank.asLogin(memberOf: ["timebank_analyst"]) { analyst in
                    let shown = try await Self.rowsOverPeople(analyst)
                    #expect(shown.filter { $0.value != 0 } == [:], "cells of fewer than k people: \(shown)")
                    // The institutional accounts stay visible: they are no person's.
                    let kinds = try await analyst.query("SELECT account_kind FROM reporting.totals_as_of(\(Self.today)) WHERE accounts IS NOT NULL ORDER BY 1")
                        .map { try $0.decode("account_kind", as: String.self) }
                    #expect(kinds.contains("district_grant") && !kinds.contains("personal"), "\(kinds)")
                }
                // k is a setting: at 1 nothing is suppressed, and the same figures appear.
                try await bank.owner.execute(Self.setK, [1])
                try await bank.asLogin(memberOf: ["timebank_analyst"]) { analyst in
                    let shown = try await Self.rowsOverPeople(analyst)
                    for view in ["reporting.services_by_month", "reporting.coin_flows_by_month", "reporting.active_people_by_month",
                                 "reporting.ratings_by_month", "reporting.volunteers_by_group", "reporting.special_elders_by_group",
                                 "reporting.balances_by_district_as_of"] {
                        #expect(shown[view, default: 0] > 0, "\(view): \(shown)")
                    }
                    let minutes = try await analyst.query("SELECT sum(minutes_served)::bigint AS m FROM reporting.services_by_month")[0]
                    #expect(try minutes.decode("m", as: Int.self) == 60)
                }
                // A k below 1 would mean nothing: refused.
                await #expect(throws: PostgresError.self) { try await bank.owner.execute(Self.setK, [0]) }
            }
        }

        /// Suppressing the one small cell of a group is not enough: with the group's
        /// total known (another view, a press release), the rest gives it away. The
        /// smallest other cell of the group is suppressed with it.
        @Test func r23TheCellBesideASuppressedOneIsSuppressedTooAgainstDifferencing() async throws {
            try await Bank.with { bank in
                for serial in 101...110 { _ = try await bank.registerVolunteer(serial) }  // 30-39: five men, five women
                let older = try await bank.completed("api.register_person($1, $2, NULL, true, '110108')",
                                                     [NationalID.sample(age: 45, serial: 111), "Volunteer 111"])["person_id"]!
                try await bank.completed("api.apply_volunteer($1, current_date - 30)", [older])
                func cells(_ k: Int) async throws -> [String] {
                    try await bank.owner.execute(Self.setK, [k])
                    return try await bank.asLogin(memberOf: ["timebank_analyst"]) { analyst in
                        try await analyst.query("""
                            SELECT age_band || ' ' || gender || ' ' || volunteers AS cell FROM reporting.volunteers_by_group
                             WHERE district_code = '110108' ORDER BY 1
                            """).map { try $0.decode("cell", as: String.self) }
                    }
                }
                #expect(try await cells(1) == ["30-39 female 5", "30-39 male 5", "40-49 male 1"])
                // k = 5: the 45-year-old's cell of one is suppressed, and so is one of the cells of five
                // (otherwise the district's eleven less the two fives would be that one person).
                let shown = try await cells(5)
                #expect(shown.count == 1 && shown[0].hasPrefix("30-39 ") && shown[0].hasSuffix(" 5"), "\(shown)")
                #expect(try await cells(6) == [])
            }
        }

        /// Per-pseudonym detail is a separate role's, through functions that record
        /// each read (who, when, which, arguments, rows) where that role cannot write;
        /// a read that is rolled back still leaves its trace.
        @Test func r23DetailReadsAreAnotherRolesAndEachIsRecordedEvenWhenRolledBack() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(85, coins: 5)
                let volunteer = try await bank.registerVolunteer(86)
                _ = try await bank.served(elder: elder, volunteer: volunteer)
                try await bank.eventually("(SELECT count(*) FROM bank.service WHERE settled_at IS NOT NULL) = 1")
                let (login, ids) = try await bank.asLogin(memberOf: ["timebank_analyst_detail"]) { detail -> (String, [Int]) in
                    let login = try await detail.query("SELECT session_user AS u")[0].decode("u", as: String.self)
                    let purpose = "R12/R13 award check, ticket 42"
                    let volunteers = try await detail.query("SELECT volunteer, earned_minutes FROM reporting.volunteer_detail($1)", [purpose])
                    #expect(volunteers.count == 1)
                    #expect(try volunteers[0].decode("volunteer", as: String.self).hasPrefix("p_"))
                    #expect(try volunteers[0].decode("earned_minutes", as: Int.self) == 60)
                    let again = try await detail.query("SELECT volunteer FROM reporting.volunteer_detail($1)", [purpose])
                    #expect(try again[0].decode("volunteer", as: String.self) == volunteers[0].decode("volunteer", as: String.self), "stable")
                    let balances = try await detail.query(
                        "SELECT holder, posted_minutes FROM reporting.balances_as_of(\(Self.today), $1) WHERE account_kind = 'personal' ORDER BY 2", [purpose])
                    #expect(try balances.map { try $0.decode("posted_minutes", as: Int.self) } == [60, 240])
                    #expect(try await detail.query("SELECT * FROM reporting.special_elder_detail($1)", [purpose]).count == 1)
                    #expect(try await detail.query("SELECT * FROM reporting.milestone_detail($1)", [purpose]).count == 0)
                    // A read needs a reason (R23).
                    let unexplained = try await #require(throws: PostgresError.self) {
                        try await detail.query("SELECT * FROM reporting.volunteer_detail('  ')")
                    }
                    #expect(unexplained.message.hasPrefix("R23: ") && unexplained.detail == "field: purpose", "\(unexplained)")
                    // The record is out of the detail role's reach: neither read nor changed.
                    for sql in ["SELECT * FROM bank.reporting_detail_read", "DELETE FROM bank.reporting_detail_read",
                                "UPDATE bank.reporting_detail_read SET row_count = 0", "SELECT * FROM bank.person",
                                "SELECT * FROM bank.person_pseudonym"] {
                        let error = try await #require(throws: PostgresError.self, "\(sql)") { try await detail.query(sql) }
                        #expect(error.code == .insufficientPrivilege, "\(sql): \(error)")
                    }
                    // A read rolled back: its row goes with the transaction, its number does not.
                    try await detail.execute("BEGIN")
                    #expect(try await detail.query("SELECT * FROM reporting.volunteer_detail('rolled back, ticket 43')").count == 1)
                    try await detail.execute("ROLLBACK")
                    _ = try await detail.query("SELECT * FROM reporting.volunteer_detail('after the rollback, ticket 44')")
                    let ids = try await bank.owner.query(
                        "SELECT id FROM bank.reporting_detail_read WHERE login = $1 ORDER BY id", [login]).map { try $0.decode("id", as: Int.self) }
                    return (login, ids)
                }
                let accounts = try await bank.count("bank.account a WHERE EXISTS (SELECT 1 FROM bank.transfer t WHERE a.id IN (t.debit_account_id, t.credit_account_id))")
                let reads = try await bank.owner.query("""
                    SELECT function, arguments->>'purpose' AS purpose, row_count, read_at <= now() AS past
                      FROM bank.reporting_detail_read WHERE login = $1 ORDER BY id
                    """, [login])
                // (balances_as_of returned every account: the two people's, the district's grant account, the others.)
                #expect(try reads.map { "\(try $0.decode("function", as: String.self)) \(try $0.decode("row_count", as: Int.self))" } == [
                    "reporting.volunteer_detail 1", "reporting.volunteer_detail 1", "reporting.balances_as_of \(accounts)",
                    "reporting.special_elder_detail 1", "reporting.milestone_detail 0", "reporting.volunteer_detail 1"])
                #expect(try reads[0].decode("purpose", as: String.self) == "R12/R13 award check, ticket 42")
                // The rolled-back read left a gap in the numbers: the privacy officer sees one is missing,
                #expect(ids.count == 6 && ids[5] == ids[4] + 2, "\(ids)")
                let gaps = try await bank.owner.query("SELECT first_missing || '-' || last_missing AS gap FROM bank.reporting_detail_read_gaps")
                #expect(try gaps.map { try $0.decode("gap", as: String.self) } == ["\(ids[4] + 1)-\(ids[4] + 1)"])
                // and the server log, which no rollback erases, has it whole (when the tests can read it).
                if let log = await bank.serverLogTail(bytes: 4_000_000) {
                    #expect(log.contains("reporting.volunteer_detail") && log.contains("rolled back, ticket 43") && log.contains(login))
                }
            }
        }
    }
}
