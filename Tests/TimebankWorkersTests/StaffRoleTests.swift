import Foundation
import PostgresClient
import TestSupport
import TimebankOperations
import Testing

extension BankSuites {
    /// Issue 15, finding 9: the acts of civil-affairs staff (R9 budgets and
    /// grants, R10 welfare grants, R16 reviews, R8 and R2 verifications, R3
    /// statuses, R25 insurance, R5 institutions, R15 items, R24 the registry,
    /// R19 disputes, R21 alerts, R22 fraud) went through the residents' role
    /// with the staff member's name as free text. Now they go through
    /// `timebank_staff` alone, each under the code of a member of
    /// `bank.staff_member`, checked against its district and powers and
    /// recorded with its id. Every test logs in as a real login of the role it
    /// plays (not the superuser with SET ROLE).
    @Suite struct StaffRoleTests {
        /// Every staff act, by name (any signature: the residents' login executes none of any form).
        static let staffActs = [
            "set_district_budget", "grant_coins", "grant_from_welfare", "review_demand", "verify_relative", "verify_guardian",
            "set_person_status", "confirm_insurance", "register_agent_institution", "define_service_item", "import_volunteer_beijing",
            "decide_report", "dismiss_alert", "confirm_fraud",
        ]
        /// One call of each, valid in form, by a member who holds every power.
        static let calls = [
            "SELECT api.set_district_budget('city-1', '110105', current_date, current_date + 30, 1000000000)",
            "SELECT api.grant_coins('city-1', '110105', 1, 'very_old', 5)",
            "SELECT api.grant_from_welfare('city-1', 1, 'very_old', 1)",
            "SELECT api.review_demand('city-1', 1, true)",
            "SELECT api.verify_relative('city-1', 1, 'household register')",
            "SELECT api.verify_guardian('city-1', 1, 'household register')",
            "SELECT api.set_person_status('city-1', 1, 'suspended', 'complaint')",
            "SELECT api.confirm_insurance('city-1', 1, 'Chaoyang Volunteers Association', 'P-1', current_date, current_date + 30)",
            "SELECT api.register_agent_institution('city-1', 'Station', '110105', 'Jinsong Street Office', 'JS-1', '[{\"code\": \"a\", \"name\": \"A\"}]')",
            "SELECT api.define_service_item('city-1', '110105', 'assistance', '代购', 'errands', 60)",
            "SELECT api.import_volunteer_beijing('city-1')",
            "SELECT api.decide_report('city-1', 1, true, 'confirmed')",
            "SELECT api.dismiss_alert('city-1', 1, 'a mistake')",
            "SELECT api.confirm_fraud('city-1', 1, 'collusion')",
        ]
        static let districtPowers = ["grant", "review", "verify", "set_status", "confirm_insurance", "register_institution",
                                     "define_item", "decide_dispute", "dismiss_alert", "confirm_fraud"]
        static let allPowers = districtPowers + ["set_budget", "import_registry"]

        /// A bank whose "client" is `connection` (a real login), for its submit-and-wait and refusal checks.
        static func desk(_ bank: Bank, _ connection: PostgresConnection) -> Bank {
            Bank(database: bank.database, client: connection, owner: bank.owner)
        }

        /// The functions of `names` that the session may execute.
        static func executable(_ connection: PostgresConnection, _ names: [String]) async throws -> [String] {
            try await connection.query("""
                SELECT p.oid::regprocedure::text AS f FROM pg_proc p
                 WHERE p.pronamespace = 'api'::regnamespace AND p.proname = ANY ($1::text[]) AND has_function_privilege(p.oid, 'EXECUTE')
                 ORDER BY 1
                """, [names]).map { try $0.decode("f", as: String.self) }
        }

        /// Finding 9: the residents' login (timebank_api) executes no staff act
        /// at all, of any signature, and every call is refused for want of the
        /// privilege, leaving nothing behind; the staff login executes every
        /// staff act and none of the residents' or agents' acts.
        @Test func finding9TheResidentsLoginExecutesNoStaffAct() async throws {
            try await Bank.with(workers: false) { bank in
                try await bank.asLogin(memberOf: ["timebank_api"]) { connection in
                    let open = try await Self.executable(connection, Self.staffActs)
                    #expect(open.isEmpty, "the residents' login executes \(open)")
                    let before = try await bank.footprint()
                    for sql in Self.calls {
                        let error = try await #require(throws: PostgresError.self, "\(sql)") { try await connection.query(sql) }
                        #expect(error.code == .insufficientPrivilege, "\(sql): \(error)")
                    }
                    #expect(try await bank.footprint() == before)
                    // What a resident or an agent institution does stays the residents' role's.
                    let theirs = try await Self.executable(connection, ["register_person", "publish_demand", "gift_coins", "act_as_agent", "rate_service"])
                    #expect(theirs.count == 5, "\(theirs)")
                    // Nor does it read or write who the staff are.
                    for sql in ["SELECT count(*) FROM bank.staff_member", "SELECT count(*) FROM bank.staff_act",
                                "INSERT INTO bank.staff_member (code, powers) VALUES ('me', '{set_budget}')"] {
                        let error = try await #require(throws: PostgresError.self, "\(sql)") { try await connection.query(sql) }
                        #expect(error.code == .insufficientPrivilege, "\(sql): \(error)")
                    }
                }
                try await bank.asLogin(memberOf: ["timebank_staff"]) { connection in
                    let granted = Set(try await Self.executable(connection, Self.staffActs).map { String($0.prefix { $0 != "(" }) })
                    #expect(granted == Set(Self.staffActs.map { "api." + $0 }), "\(granted)")
                    // The desk acts as staff, never as a resident, an agent or the personal-data reader;
                    // and it cannot make itself a member or a more powerful one.
                    for sql in ["SELECT api.register_person('110105194901010012', 'X', NULL, true, '110105')", "SELECT api.gift_coins(1, 2, 1)",
                                "SELECT api.act_as_agent(1, 'a')", "SELECT * FROM api.read_personal_data(1)", "SELECT api.record_personal_data_read('city-desk', 1, 'y')",
                                "SELECT count(*) FROM bank.staff_member", "UPDATE bank.staff_member SET powers = '{set_budget}'",
                                "INSERT INTO bank.staff_member (code, powers) VALUES ('me', '{set_budget}')"] {
                        let error = try await #require(throws: PostgresError.self, "\(sql)") { try await connection.query(sql) }
                        #expect(error.code == .insufficientPrivilege, "\(sql): \(error)")
                    }
                }
            }
        }

        /// R9, R16, R8, R3, R5, R15: a member of one district acts on its own
        /// district's elders, people, services and institutions, not another's;
        /// a city-level member acts on any.
        @Test func r9r16r8ADistrictMemberActsOnItsOwnDistrictOnly() async throws {
            try await Bank.with { bank in
                try await StaffAdmin.add(bank.owner, code: "city-1", districtCode: nil, powers: Self.allPowers)
                try await StaffAdmin.add(bank.owner, code: "chaoyang-1", districtCode: "110105", powers: Self.districtPowers)
                try await StaffAdmin.add(bank.owner, code: "haidian-1", districtCode: "110108", powers: Self.districtPowers)
                try await bank.asLogin(memberOf: ["timebank_staff"]) { connection in
                    let desk = Self.desk(bank, connection)
                    // A Haidian elder with coins and a demand, and a relative in Haidian.
                    try await desk.completed("api.set_district_budget('city-1', '110108', current_date - 1, current_date + 30, 1000)", [])
                    let elder = try await bank.completed("api.register_person($1, 'Haidian Elder', NULL, true, '110108')",
                                                         [NationalID.sample(age: 75, serial: 901)])["person_id"]!
                    try await bank.completed("api.authenticate_elder($1)", [elder])
                    let son = try await bank.completed("api.register_person($1, 'Haidian Son', NULL, true, '110108')",
                                                       [NationalID.sample(age: 45, serial: 902)])["person_id"]!
                    try await desk.completed("api.grant_coins('haidian-1', '110108', $1, 'dementia', 5)", [elder])
                    let service = try await bank.completed(
                        "api.publish_demand($1, 'assistance', '110108', 'errands', date_trunc('minute', now()) + interval '2 hours', 60)", [elder])["service_id"]!
                    let relationship = try await bank.completed("api.declare_relative($1, $2, 'parent')", [son, elder])["relationship_id"]!

                    let acts = try await bank.count("bank.staff_act")
                    try await desk.expectRefusal("api.grant_coins('chaoyang-1', '110108', $1, 'dementia', 1)", [elder], rule: "R9", field: "staff_code")
                    try await desk.expectRefusal("api.grant_from_welfare('chaoyang-1', $1, 'dementia', 1)", [elder], rule: "R10", field: "staff_code")
                    try await desk.expectRefusal("api.review_demand('chaoyang-1', $1, true)", [service], rule: "R16", field: "staff_code")
                    try await desk.expectRefusal("api.verify_relative('chaoyang-1', $1, 'household register')", [relationship], rule: "R8", field: "staff_code")
                    try await desk.expectRefusal("api.set_person_status('chaoyang-1', $1, 'suspended', 'complaint')", [elder], rule: "R3", field: "staff_code")
                    try await desk.expectRefusal("api.confirm_fraud('chaoyang-1', $1, 'collusion')", [elder], rule: "R22", field: "staff_code")
                    try await desk.expectRefusal(
                        "api.register_agent_institution('chaoyang-1', 'Station', '110108', 'Street Office', 'REF-1', '[{\"code\": \"a\", \"name\": \"A\"}]')",
                        [], rule: "R5", field: "staff_code")
                    try await desk.expectRefusal("api.define_service_item('chaoyang-1', '110108', 'assistance', '理发', 'haircut', 45)", [],
                                                 rule: "R15", field: "staff_code")
                    // A city-wide item is a city-level act.
                    try await desk.expectRefusal("api.define_service_item('chaoyang-1', NULL, 'assistance', '理发', 'haircut', 45)", [],
                                                 rule: "R15", field: "staff_code")
                    #expect(try await bank.count("bank.staff_act") == acts, "a refused act was recorded")

                    // Haidian's own member, and a city-level one, act on Haidian.
                    try await desk.completed("api.review_demand('haidian-1', $1, true)", [service])
                    try await desk.completed("api.verify_relative('city-1', $1, 'household register')", [relationship])
                    try await desk.completed("api.define_service_item('haidian-1', '110108', 'assistance', '理发', 'haircut', 45)", [])
                    try await desk.completed("api.define_service_item('city-1', NULL, 'assistance', '理发', 'haircut', 45)", [])
                    // And Chaoyang's on Chaoyang (the harness's elder is of Chaoyang).
                    let chaoyangElder = try await bank.registerElder(903, coins: nil)
                    try await desk.completed("api.grant_coins('chaoyang-1', '110105', $1, 'dementia', 2)", [chaoyangElder])
                }
            }
        }

        /// A member acts only with the power the act needs (named in the
        /// refusal: the field staff_code and the act's rule), only while
        /// active, and only under a code the database knows: a name is no
        /// longer enough.
        @Test func aMemberWithoutThePowerOrInactiveOrUnknownIsRefusedNamingTheFieldAndTheRule() async throws {
            try await Bank.with { bank in
                try await StaffAdmin.add(bank.owner, code: "reviewer-1", districtCode: "110105", powers: ["review"])
                try await StaffAdmin.add(bank.owner, code: "granter-1", districtCode: "110105", powers: ["grant"])
                try await bank.asLogin(memberOf: ["timebank_staff"]) { connection in
                    let desk = Self.desk(bank, connection)
                    let elder = try await bank.registerElder(911, coins: nil)
                    try await desk.completed("api.grant_coins('granter-1', '110105', $1, 'dementia', 3)", [elder])
                    let service = try await bank.completed(
                        "api.publish_demand($1, 'assistance', '110105', 'errands', date_trunc('minute', now()) + interval '2 hours', 60)", [elder])["service_id"]!
                    let acts = try await bank.count("bank.staff_act")
                    for (sql, rule) in [("api.grant_coins('reviewer-1', '110105', $1, 'dementia', 1)", "R9"),
                                        ("api.grant_from_welfare('reviewer-1', $1, 'dementia', 1)", "R10"),
                                        ("api.set_person_status('reviewer-1', $1, 'suspended', 'complaint')", "R3"),
                                        ("api.confirm_fraud('reviewer-1', $1, 'collusion')", "R22"),
                                        ("api.confirm_insurance('reviewer-1', $1, 'Chaoyang Volunteers Association', 'P-1', current_date, current_date + 30)", "R25")] {
                        let error = try await desk.expectRefusal(sql, [elder], rule: rule, field: "staff_code")
                        #expect(error.message.contains("reviewer-1"), "\(error.message)")
                    }
                    try await desk.expectRefusal("api.review_demand('granter-1', $1, true)", [service], rule: "R16", field: "staff_code")
                    try await desk.expectRefusal("api.decide_report('granter-1', $1, true, 'note')", [service], rule: "R19", field: "staff_code")
                    try await desk.expectRefusal("api.dismiss_alert('granter-1', 1, 'a mistake')", [], rule: "R21", field: "staff_code")
                    try await desk.expectRefusal("api.import_volunteer_beijing('granter-1')", [], rule: "R24", field: "staff_code")
                    // A name as free text, as before, or nothing: no member.
                    try await desk.expectRefusal("api.review_demand('Zhang Wei', $1, true)", [service], rule: "R16", field: "staff_code")
                    try await desk.expectRefusal("api.review_demand(NULL, $1, true)", [service], rule: "R16", field: "staff_code")
                    // A deactivated member acts no more.
                    try await StaffAdmin.deactivate(bank.owner, code: "reviewer-1")
                    try await desk.expectRefusal("api.review_demand('reviewer-1', $1, true)", [service], rule: "R16", field: "staff_code")
                    #expect(try await bank.count("bank.staff_act") == acts, "a refused act was recorded")
                }
                // Powers are a checked set.
                let error = try await #require(throws: PostgresError.self) {
                    try await StaffAdmin.add(bank.owner, code: "mint-1", districtCode: "110105", powers: ["mint_coins"])
                }
                #expect(error.code == .checkViolation && error.constraint == "staff_member_powers_known", "\(error)")
            }
        }

        /// R9: a district's budget is a city-level act. A district member
        /// cannot hold the power, nor use it; a city-level member without
        /// it is refused; one with it sets the budget.
        @Test func r9OnlyACityLevelMemberWithThePowerSetsADistrictsBudget() async throws {
            try await Bank.with(workers: false) { bank in
                let error = try await #require(throws: PostgresError.self) {
                    try await StaffAdmin.add(bank.owner, code: "chaoyang-budget", districtCode: "110105", powers: ["set_budget"])
                }
                #expect(error.code == .checkViolation && error.constraint == "staff_member_city_powers_city_level", "\(error)")
                try await StaffAdmin.add(bank.owner, code: "chaoyang-1", districtCode: "110105", powers: Self.districtPowers)
                try await StaffAdmin.add(bank.owner, code: "city-grants", districtCode: nil, powers: ["grant"])
                let budgeter = try await StaffAdmin.add(bank.owner, code: "city-budget", districtCode: nil, powers: ["set_budget"])
                try await bank.asLogin(memberOf: ["timebank_staff"]) { connection in
                    let desk = Self.desk(bank, connection)
                    for member in ["chaoyang-1", "city-grants"] {
                        try await desk.expectRefusal("api.set_district_budget($1, '110105', current_date, current_date + 30, 1000000000)", [member],
                                                     rule: "R9", field: "staff_code")
                    }
                    let request = try await desk.submit("api.set_district_budget('city-budget', '110101', current_date, current_date + 30, 500)", [])
                    let args = try await bank.owner.query("SELECT args->>'staff_member_id' AS id FROM bank.request WHERE id = $1", [request])
                    #expect(try args[0].decode("id", as: String?.self) == String(budgeter))
                }
            }
        }

        /// Every act is recorded with the member's id: in the request's
        /// arguments and in bank.staff_act (the member, the power, the
        /// request or alert); what the workers write names the member's code
        /// (unique, never reused), not a free-text name.
        @Test func everyStaffActIsRecordedWithTheMembersID() async throws {
            try await Bank.with { bank in
                let member = try await StaffAdmin.add(bank.owner, code: "chaoyang-1", districtCode: "110105", powers: Self.districtPowers)
                try await bank.asLogin(memberOf: ["timebank_staff"]) { connection in
                    let desk = Self.desk(bank, connection)
                    let elder = try await bank.registerElder(921, coins: nil)
                    let grant = try await desk.submit("api.grant_coins('chaoyang-1', '110105', $1, 'dementia', 3)", [elder])
                    #expect(try await desk.outcome(grant).status == "completed")
                    let service = try await bank.completed(
                        "api.publish_demand($1, 'assistance', '110105', 'errands', date_trunc('minute', now()) + interval '2 hours', 60)", [elder])["service_id"]!
                    let review = try await desk.submit("api.review_demand('chaoyang-1', $1, true)", [service])
                    #expect(try await desk.outcome(review).status == "completed")
                    let alert = try await bank.owner.query("""
                        INSERT INTO bank.alert (kind, subject, people, evidence, evidence_at)
                        VALUES ('frequent_gifts', 'gifts:' || $1::bigint, ARRAY[$1::bigint], '{}', now()) RETURNING id
                        """, [elder])[0].decode("id", as: Int64.self)
                    try await connection.execute("SELECT api.dismiss_alert('chaoyang-1', $1, 'a family matter, confirmed by phone')", [alert])

                    for request in [grant, review] {
                        let row = try await bank.owner.query("SELECT (args->>'staff_member_id')::bigint AS id FROM bank.request WHERE id = $1", [request])[0]
                        #expect(try row.decode("id", as: Int64?.self) == member)
                    }
                    let recorded = try await bank.owner.query("""
                        SELECT power, request_id, alert_id FROM bank.staff_act WHERE staff_member_id = $1 ORDER BY id
                        """, [member])
                    #expect(try recorded.map { try $0.decode("power", as: String.self) } == ["grant", "review", "dismiss_alert"])
                    #expect(try recorded.map { try $0.decode("request_id", as: Int64?.self) } == [grant, review, nil])
                    #expect(try recorded[2].decode("alert_id", as: Int64?.self) == alert)
                    #expect(try await bank.count("bank.service WHERE id = $1 AND reviewed_by = 'chaoyang-1'", [service]) == 1)
                    #expect(try await bank.count("bank.alert WHERE id = $1 AND decided_by = 'chaoyang-1'", [alert]) == 1)
                }
            }
        }
    }
}
