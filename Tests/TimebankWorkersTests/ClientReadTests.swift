import Foundation
import PostgresClient
import TimebankWorkers
import Testing

extension BankSuites {
    /// Issue 19, items 2 and 3: what a client reads back through the api
    /// alone: the valid codes, a statement of account, who did what to a
    /// service, and an unknown person refused everywhere.
    @Suite struct ClientReadTests {
        /// R8, R9, R14, R15: each list of codes, with Chinese and English
        /// names, for the residents' role and the desk's alike.
        @Test func r8r9r14r15TheValidCodesAreListedInBothLanguages() async throws {
            try await Bank.with { bank in
                try await bank.asStaff.completed("api.define_service_item('city-desk', '110105', 'assistance', '代购', 'shopping errands', 60)", [])
                try await bank.asStaff.completed("api.define_service_item('city-desk', NULL, 'anti_fraud', '防诈骗讲解', 'fraud talk', 30)", [])
                try await bank.asStaff.completed("api.define_service_item('city-desk', '110108', 'assistance', '理发', 'haircut', 45)", [])
                for session in [bank.client, bank.staff!] {
                    func codes(_ function: String) async throws -> [String: String] {
                        var names: [String: String] = [:]
                        for row in try await session.query("SELECT code, name_zh, name_en FROM \(function)()") {
                            let zh: String = try row.decode("name_zh"), en: String = try row.decode("name_en")
                            #expect(zh.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }, "\(function): \(zh)")
                            #expect(!en.isEmpty && en.unicodeScalars.allSatisfy(\.isASCII), "\(function): \(en)")
                            names[try row.decode("code", as: String.self)] = en
                        }
                        return names
                    }
                    #expect(try await codes("api.service_categories").count == 8)
                    #expect(try await codes("api.service_categories")["anti_fraud"] == "guidance against financial and online fraud")
                    #expect(Set(try await codes("api.special_elder_categories").keys) == [
                        "economically_disadvantaged", "severely_disabled", "dementia", "special_family_planning",
                        "severely_handicapped", "very_old", "urgent_need"])
                    #expect(Set(try await codes("api.relation_kinds").keys) == ["parent", "grandparent", "child", "grandchild"])
                    #expect(try await codes("api.districts").count == 16)
                    #expect(try await codes("api.districts")["110105"] == "Chaoyang")
                    let chaoyang = try await session.query("SELECT name_zh, name_en, district_code FROM api.service_items('110105')")
                        .map { "\(try $0.decode("name_zh", as: String.self))/\(try $0.decode("name_en", as: String.self))" }
                    #expect(chaoyang == ["防诈骗讲解/fraud talk", "代购/shopping errands"])   // the city-wide first
                    #expect(try await session.query("SELECT * FROM api.service_items()").count == 3)
                }
                let unknown = try await bank.expectRefusal("api.service_items('990101')", [], rule: "R15", field: "district")
                #expect(unknown.message.contains("110105 Chaoyang"), "\(unknown.message)")
            }
        }

        /// Issue 19, item 2: a wrong code is refused with every valid one
        /// and the function that lists them.
        @Test func r8r9r14r15AWrongCodeIsRefusedWithTheValidOnes() async throws {
            try await Bank.with { bank in
                let elder = try await bank.registerElder(1)
                let volunteer = try await bank.registerVolunteer(2)
                let publish = "api.publish_demand($1, $2, $3, 'help', date_trunc('minute', now()) + interval '2 hours', 30)"
                let category = try await bank.expectRefusal(publish, [elder, "dancing", "110105"], rule: "R14", field: "category_code")
                #expect(category.message.contains("'dancing'") && category.message.contains("anti_fraud, assistance, culture_sports"),
                        "\(category.message)")
                #expect(category.message.contains("api.service_categories"))
                let missing = try await bank.expectRefusal(publish, [elder, String?.none, "110105"], rule: "R14", field: "category_code")
                #expect(missing.message.hasPrefix("R14: a service category's code is required; the valid codes are: anti_fraud"), "\(missing.message)")
                let district = try await bank.expectRefusal(publish, [elder, "assistance", "110199"], rule: "R15", field: "district_code")
                #expect(district.message.contains("110101 Dongcheng") && district.message.contains("110119 Yanqing"), "\(district.message)")
                let special = try await bank.asStaff.expectRefusal("api.grant_coins('city-desk', '110105', $1, 'rich', 5)", [elder],
                                                                   rule: "R9", field: "category")
                #expect(special.message.contains("dementia, economically_disadvantaged") && special.message.contains("api.special_elder_categories"),
                        "\(special.message)")
                let welfare = try await bank.asStaff.expectRefusal("api.grant_from_welfare('city-desk', $1, 'rich', 1)", [elder],
                                                                   rule: "R10", field: "category")
                #expect(welfare.message.contains("very_old"), "\(welfare.message)")
                let relation = try await bank.expectRefusal("api.declare_relative($1, $2, 'sibling')", [volunteer, elder], rule: "R8", field: "relation")
                #expect(relation.message == "R8: no lineal relation has the code 'sibling'; the valid codes are: child, grandchild, grandparent, parent (api.relation_kinds lists them with their names)")
                let search = try await bank.expectRefusal("api.find_services($1, 39.9, 116.4, 5, 'dancing')", [volunteer], rule: "R14", field: "category")
                #expect(search.message.contains("emotional_comfort"), "\(search.message)")
                let item = try await bank.asStaff.completed("api.define_service_item('city-desk', '110105', 'assistance', '代购', 'shopping errands', 60)", [])["item_id"]!
                let other = try await bank.asStaff.completed("api.define_service_item('city-desk', '110108', 'assistance', '理发', 'haircut', 45)", [])["item_id"]!
                let itemDemand = "api.publish_item_demand($1, $2, 'help', date_trunc('minute', now()) + interval '2 hours', NULL, NULL)"
                let wrongItem = try await bank.expectRefusal(itemDemand, [elder, other], rule: "R15", field: "item_id")
                #expect(wrongItem.message.contains("the items of district 110105 and the city-wide ones are: \(item) (api.service_items('110105')"),
                        "\(wrongItem.message)")
                try await bank.expectRefusal(itemDemand, [elder, 999_999], rule: "R15", field: "item_id")
                // An item is named in both languages.
                try await bank.asStaff.expectRefusal("api.define_service_item('city-desk', '110105', 'assistance', '陪诊', NULL, 60)", [],
                                                     rule: "R15", field: "name_en")
            }
        }

        /// Issue 19, item 3: each transfer of a person's account with the
        /// counterparty as a role and the balances after it; R5: the
        /// history of a service names the elder, the volunteer, the desk.
        @Test func r6r8r10AStatementOfAccountNamesRolesAndBalances() async throws {
            try await Bank.with { bank in
                let start: Date = try await bank.owner.query("SELECT now() - interval '1 second' AS t")[0].decode("t")
                let elder = try await bank.registerElder(3, coins: 10)   // 600 minutes from Chaoyang
                let volunteer = try await bank.registerVolunteer(4)
                // The elder is the volunteer's parent (R8).
                let relationship = try await bank.completed("api.declare_relative($1, $2, 'parent')", [volunteer, elder])["relationship_id"]!
                try await bank.asStaff.completed("api.verify_relative('city-desk', $1, 'household register 0042')", [relationship])
                let service = try await bank.publishedService(elder: elder, minutes: 120)
                try await bank.completed("api.book_service($1, $2)", [service, volunteer])
                try await bank.travel(service: service, minutes: 61)
                try await bank.completed("api.check_in($1, $2)", [service, volunteer])
                try await bank.travel(service: service, minutes: 120)
                try await bank.completed("api.check_out($1, $2)", [service, volunteer])
                try await bank.eventually("SELECT settled_at IS NOT NULL FROM bank.service WHERE id = $1", [service])
                try await bank.completed("api.gift_coins($1, $2, 1)", [volunteer, elder])
                try await bank.completed("api.donate_coins($1, 1)", [volunteer])

                func statement(_ person: Int64, from: Date) async throws -> [String] {
                    try await bank.client.query("""
                        SELECT kind, phase, amount_minutes, counterparty, posted_after_minutes, available_after_minutes
                          FROM api.account_statement($1, $2, now() + interval '1 hour')
                        """, [person, from]).map {
                        "\(try $0.decode("kind", as: String.self)) \(try $0.decode("phase", as: String.self)) "
                            + "\(try $0.decode("amount_minutes", as: Int.self)) \(try $0.decode("counterparty", as: String.self)) "
                            + "\(try $0.decode("posted_after_minutes", as: Int.self))/\(try $0.decode("available_after_minutes", as: Int.self))"
                    }
                }
                #expect(try await statement(volunteer, from: start) == [
                    "service_credit posted 120 elder 120/120",
                    "gift posted -60 relative (parent) 60/60",
                    "donation posted -60 donation pool 0/0",
                ])
                #expect(try await statement(elder, from: start) == [
                    "grant posted 600 district grant 110105 600/600",
                    "service_hold held -120 service hold 600/480",
                    "service_payment hold_paid -120 volunteer 480/480",
                    "gift posted 60 relative (child) 540/540",
                ])
                // A window after the grant still counts it in the balances.
                let afterGrant: Date = try await bank.owner.query(
                    "SELECT created_at + interval '1 microsecond' AS t FROM bank.transfer WHERE kind = 'grant'")[0].decode("t")
                #expect(try await statement(elder, from: afterGrant).first == "service_hold held -120 service hold 600/480")
                #expect(try await bank.balance(elder) == .init(available: 540, held: 0, posted: 540))
                try await bank.expectRefusal("api.account_statement($1, now(), now() - interval '1 day')", [elder], rule: "R6", field: "to_time")
                try await bank.expectRefusal("api.account_statement($1, NULL, now())", [elder], rule: "R6", field: "from_time")

                // R5: who did each step, by role.
                let history = try await bank.client.query("SELECT status, performed_by FROM api.service_history($1)", [service])
                    .map { "\(try $0.decode("status", as: String.self)) by \(try $0.decode("performed_by", as: String.self))" }
                #expect(history == [
                    "awaiting_review by elder", "published by staff city-desk", "booked by volunteer",
                    "in_progress by volunteer", "checked_out by volunteer",
                ])
            }
        }

        /// Issue 19, item 3: an unknown or missing person is an error in
        /// every api function that takes a person's id (it read as zeros).
        @Test func r3AnUnknownPersonIsRefusedEverywhere() async throws {
            try await Bank.with(workers: false) { bank in
                let unknown: Int64 = 99_999
                let calls: [(String, String)] = [
                    ("api.balance($1)", "person_id"), ("api.achievements($1)", "person_id"),
                    ("api.insured_on($1, current_date)", "person_id"),
                    ("api.account_statement($1, now() - interval '1 day', now())", "person_id"),
                    ("api.apply_volunteer($1, current_date - 1)", "person_id"), ("api.authenticate_elder($1)", "person_id"),
                    ("api.declare_relative($1, $1, 'parent')", "person_id"), ("api.gift_coins($1, $1, 1)", "giver_id"),
                    ("api.donate_coins($1, 1)", "person_id"), ("api.link_guardian($1, $1, 'No. 4 Middle School')", "minor_id"),
                    ("api.publish_demand($1, 'assistance', '110105', 'help', now() + interval '2 hours', 30)", "elder_id"),
                    ("api.publish_item_demand($1, 1, 'help', now() + interval '2 hours', NULL, NULL)", "elder_id"),
                    ("api.find_services($1, 39.9, 116.4)", "volunteer_id"),
                ]
                for (call, field) in calls {
                    let error = try await bank.expectRefusal(call, [unknown], rule: nil, field: field)
                    #expect(error.message.contains("99999"), "\(call): \(error.message)")
                    let missing = try await bank.expectRefusal(call, [Int64?.none], rule: nil, field: field)
                    #expect(!missing.message.contains("NULL"), "\(call): \(missing.message)")
                }
                let error = try await bank.expectRefusal("api.balance($1)", [unknown], rule: "R3", field: "person_id")
                #expect(error.message == "R3: no person is registered with id 99999")
                let missing = try await bank.expectRefusal("api.balance(NULL)", [], rule: "R3", field: "person_id")
                #expect(missing.message == "R3: person_id is required: the id of a registered person")
            }
        }
    }
}
