import Foundation
import PostgresClient
import Testing
import TimebankWorkers

extension BankSuites {
    /// Issue 8: the reporting schema, as an analyst sees it. (Issue 15, finding 8,
    /// small groups and the audited detail: AnalystPrivacyTests.)
    @Suite struct ReportingTests {
        /// The README's example queries ("For analysts"), run as they are written there.
        static let hoursThisMonthByCategory = """
            SELECT category_zh, category_en, sum(hours_served) AS hours
              FROM reporting.services_by_month
             WHERE month = date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai')::date
             GROUP BY 1, 2 ORDER BY hours DESC
            """
        static let specialEldersGrantedAndUsed = """
            SELECT district_code, sum(elders)::bigint AS elders, sum(granted_coins) AS granted, sum(spent_coins) AS used
              FROM reporting.special_elders_by_group GROUP BY 1 ORDER BY 1
            """
        static let starVolunteersThisYear = """
            SELECT milestone, sum(volunteers)::bigint AS volunteers
              FROM reporting.milestones_by_year
             WHERE milestone LIKE 'star_%' AND reached_year = extract(year FROM now() AT TIME ZONE 'Asia/Shanghai')
             GROUP BY 1 ORDER BY 1
            """
        static let volunteersByStarLevel = """
            SELECT district_code, star_level, sum(volunteers)::bigint AS volunteers, sum(earned_coins) AS coins
              FROM reporting.volunteers_by_group GROUP BY 1, 2 ORDER BY 1, 2
            """
        /// R23: k (reporting_min_group_size) at 1 shows every group: for the tests of
        /// the figures themselves, with fewer people than production's k.
        static func showEveryGroup(_ bank: Bank) async throws {
            try await bank.owner.execute("UPDATE bank.setting SET value = 1 WHERE name = 'reporting_min_group_size'")
        }

        func analyst(_ bank: Bank) async throws -> PostgresConnection {
            try await PostgresConnection.connect(bank.database.settings.with(parameter: "role", "timebank_analyst"))
        }

        @Test func r23TheAnalystReadsReportingOnlyAndNoViewShowsPersonalData() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(51)
                let volunteer = try await bank.registerVolunteer(52)
                _ = try await bank.served(elder: elder, volunteer: volunteer)
                try await bank.eventually("(SELECT count(*) FROM bank.service WHERE settled_at IS NOT NULL) = 1")
                try await Self.showEveryGroup(bank)  // so that the views have rows to search
                let analyst = try await analyst(bank)

                // Every base table of every other schema is denied.
                let tables = try await bank.owner.query("""
                    SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname IN ('bank', 'jobs', 'meta') ORDER BY 1
                    """).map { try $0.decode("t", as: String.self) }
                #expect(tables.count > 30)
                for table in tables {
                    let error = try await #require(throws: PostgresError.self, "\(table)") {
                        try await analyst.execute("SELECT 1 FROM \(table) LIMIT 1")
                    }
                    #expect(error.code == .insufficientPrivilege, "\(table): \(error)")
                }
                await #expect(throws: PostgresError.self) { try await analyst.execute("SELECT api.balance(1)") }

                // Every view: commented in Chinese and English, no personal-data column, no personal value.
                let columns = try await bank.owner.query("""
                    SELECT c.relname AS view, a.attname AS col, obj_description(c.oid) AS view_comment, col_description(c.oid, a.attnum) AS comment
                      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
                     WHERE n.nspname = 'reporting' AND c.relkind = 'v' AND a.attnum > 0 ORDER BY 1, a.attnum
                    """)
                #expect(Set(try columns.map { try $0.decode("view", as: String.self) }).count >= 10)
                let personalColumns = ["national_id", "name", "phone", "address", "birth_date", "latitude", "longitude", "place", "description", "comment"]
                for row in columns {
                    let view: String = try row.decode("view"), column: String = try row.decode("col")
                    #expect(!personalColumns.contains(column) && !column.hasSuffix("_id") || column == "item_id", "\(view).\(column)")
                    for text in [try row.decode("comment", as: String?.self), try row.decode("view_comment", as: String?.self)] {
                        let comment = try #require(text, "\(view).\(column) has no comment")
                        #expect(comment.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) } && comment.contains("/ "),
                                "\(view).\(column): Chinese and English")
                    }
                }
                let people = try await bank.owner.query("SELECT bank.personal_data_decrypt(national_id_encrypted) AS national_id, name, coalesce(bank.personal_data_decrypt(phone_encrypted), '-') AS phone FROM bank.person")
                let secrets = try people.flatMap { [try $0.decode("national_id", as: String.self), try $0.decode("name", as: String.self),
                                                    try $0.decode("phone", as: String.self)] }.filter { $0 != "-" }
                for view in Set(try columns.map { try $0.decode("view", as: String.self) }) {
                    let rows = try await analyst.query("SELECT to_jsonb(v)::text AS j FROM reporting.\(view) v")
                    for row in rows {
                        let json = try row.decode("j", as: String.self)
                        for secret in secrets { #expect(!json.contains(secret), "reporting.\(view) shows personal data") }
                    }
                }
                #expect(try await analyst.query("SELECT count(*) AS n FROM reporting.services_by_month")[0].decode("n", as: Int.self) == 1)
                await analyst.close()
                // Pseudonyms are stable; they are the detail role's alone (R23, AnalystPrivacyTests).
                try await bank.asLogin(memberOf: ["timebank_analyst_detail"]) { detail in
                    let first = try await detail.query("SELECT volunteer FROM reporting.volunteer_detail('test')")[0].decode("volunteer", as: String.self)
                    let again = try await detail.query("SELECT volunteer FROM reporting.volunteer_detail('test')")[0].decode("volunteer", as: String.self)
                    #expect(first == again && first.hasPrefix("p_") && first.count == 18)
                }
            }
        }

        @Test func theReadmesExampleQueriesAnswerWhatADistrictOfficeAsks() async throws {
            try await Bank.with { bank in
                try await bank.owner.execute("UPDATE bank.setting SET value = 1 WHERE name = 'star_1_hours'")
                let elder = try await bank.registerElder(53, coins: 5)  // granted 5 coins as economically disadvantaged
                let first = try await bank.registerVolunteer(54)
                let second = try await bank.registerVolunteer(55)
                _ = try await bank.served(elder: elder, volunteer: first)
                _ = try await bank.served(elder: elder, volunteer: second)
                try await bank.eventually("(SELECT count(*) FROM bank.service WHERE settled_at IS NOT NULL) = 2")
                try await Self.showEveryGroup(bank)  // one elder, two volunteers: fewer than the default k
                let analyst = try await analyst(bank)

                let hours = try await analyst.query(Self.hoursThisMonthByCategory)
                #expect(hours.count == 1)
                #expect(try hours[0].decode("category_en", as: String.self) == "emotional comfort")
                #expect(try hours[0].decode("hours", as: Double.self) == 2)

                let elders = try await analyst.query(Self.specialEldersGrantedAndUsed)
                #expect(elders.count == 1)
                #expect(try elders[0].decode("elders", as: Int.self) == 1)
                #expect(try elders[0].decode("granted", as: Double.self) == 5)
                #expect(try elders[0].decode("used", as: Double.self) == 2)

                let stars = try await analyst.query(Self.starVolunteersThisYear)
                #expect(try stars.map { "\(try $0.decode("milestone", as: String.self)) \(try $0.decode("volunteers", as: Int.self))" } == ["star_1 2"])

                let levels = try await analyst.query(Self.volunteersByStarLevel)
                #expect(try levels.map { "\(try $0.decode("district_code", as: String.self)) \(try $0.decode("star_level", as: Int.self)) "
                                         + "\(try $0.decode("volunteers", as: Int.self)) \(try $0.decode("coins", as: Double.self))" } == ["110108 1 2 2.0"])
                await analyst.close()
            }
        }

        @Test func balancesAsOfAPastDayComeFromTheTransfersNotTodaysTotals() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(56, coins: 3)
                // A grant three days ago (the ledger takes a backdated insert; it never takes an update).
                try await bank.owner.execute("""
                    INSERT INTO bank.transfer (idempotency_key, phase, kind, debit_account_id, credit_account_id, amount, grant_category, created_at)
                    SELECT 'backdated-grant', 'posted', 'grant', g.id, p.id, 120, 'very_old', now() - interval '3 days'
                      FROM bank.account g, bank.account p WHERE g.district_code = '110105' AND p.person_id = $1
                    """, [elder])
                // Per account: the detail role's, each read recorded (R23).
                try await bank.asLogin(memberOf: ["timebank_analyst_detail"]) { (detail: PostgresConnection) async throws -> Void in
                    func personal(_ daysAgo: Int) async throws -> [Int] {
                        try await detail.query("""
                            SELECT posted_minutes FROM reporting.balances_as_of(((now() AT TIME ZONE 'Asia/Shanghai')::date - $1::integer), 'ledger check')
                             WHERE account_kind = 'personal'
                            """, [daysAgo]).map { try $0.decode("posted_minutes", as: Int.self) }
                    }
                    #expect(try await personal(4) == [])
                    #expect(try await personal(2) == [120])
                    #expect(try await personal(0) == [120 + 180])
                }
                #expect(try await bank.count("bank.reporting_detail_read") == 3)
                // The analyst's, in groups: one personal account is fewer than k (5) and is left out.
                let analyst = try await analyst(bank)
                let grouped = try await analyst.query("""
                    SELECT account_kind FROM reporting.balances_by_district_as_of((now() AT TIME ZONE 'Asia/Shanghai')::date) ORDER BY 1
                    """).map { try $0.decode("account_kind", as: String.self) }
                #expect(!grouped.contains("personal") && grouped.contains("district_grant"), "\(grouped)")
                try await Self.showEveryGroup(bank)
                let chaoyang = try await analyst.query("""
                    SELECT accounts, posted_minutes FROM reporting.balances_by_district_as_of((now() AT TIME ZONE 'Asia/Shanghai')::date)
                     WHERE account_kind = 'personal' AND district_code = '110105'
                    """)
                #expect(try chaoyang.map { "\(try $0.decode("accounts", as: Int.self)) \(try $0.decode("posted_minutes", as: Int.self))" } == ["1 300"])
                // Today's, from the transfers, equal the accounts' running totals.
                let today = try await analyst.query("""
                    SELECT sum(posted_minutes)::bigint AS p FROM reporting.totals_as_of((now() AT TIME ZONE 'Asia/Shanghai')::date)
                    """)[0].decode("p", as: Int.self)
                #expect(today == 0, "double entry: every posted minute is someone's debit")
                let granted = try await analyst.query("""
                    SELECT posted_minutes FROM reporting.totals_as_of((now() AT TIME ZONE 'Asia/Shanghai')::date) WHERE account_kind = 'district_grant'
                    """)[0].decode("posted_minutes", as: Int.self)
                #expect(granted == -300)
                await analyst.close()
            }
        }
    }
}
