import Foundation
import PostgresClient
import TestSupport
import Testing
import TimebankWorkers

/// The bundled templates: one per message the SQL writes, Chinese first.
@Suite struct NotificationTemplatesTests {
    @Test func everyMessageTheOutboxWritesHasAChineseFirstTemplate() throws {
        let templates = try NotificationTemplates.bundled()
        #expect(Set(templates.texts.keys) == [
            "demand_approved", "demand_rejected", "demand_expired", "service_booked", "booking_confirmed", "service_reminder",
            "coins_credited", "gift_received", "milestone_reached", "claim_status", "claim_undeliverable", "insurer_unreachable",
            "supervision_alert",
        ])
        for (name, text) in templates.texts {
            let lines = text.split(separator: "\n")
            #expect(lines.count == 2, "\(name)")
            #expect(lines.first?.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) } == true, "\(name): Chinese first")
        }
    }

    @Test func rendersNamedParametersAndNamesAMissingOne() throws {
        let templates = NotificationTemplates(texts: ["t": "服务 {{service_id}} 得 {{coins}} 币\nService {{service_id}}"])
        #expect(try templates.render("t", ["service_id": .number(42), "coins": .number(1.5)]) == "服务 42 得 1.5 币\nService 42")
        let missing = try #require(throws: TemplateError.self) { try templates.render("t", ["service_id": .number(42)]) }
        #expect(missing.message.contains("coins"))
        #expect(throws: TemplateError.self) { try templates.render("nope", [:]) }
    }

    /// Issue 19, item 5: "1 coin", "2 coins" (it said "1 coins").
    @Test func englishLinesSayOneCoinAndTwoCoins() throws {
        let templates = try NotificationTemplates.bundled()
        let one = try templates.render("coins_credited", ["service_id": .number(7), "coins": .number(1), "minutes": .number(60)])
        #expect(one.hasSuffix("Service 7 is settled: 1 coin (60 minutes) was credited to your account."), "\(one)")
        let some = try templates.render("coins_credited", ["service_id": .number(7), "coins": .number(1.5), "minutes": .number(90)])
        #expect(some.hasSuffix("1.5 coins (90 minutes) were credited to your account."), "\(some)")
        let gift = try templates.render("gift_received", ["coins": .number(1)])
        #expect(gift.hasSuffix("A relative gave you 1 coin; it is in your account."), "\(gift)")
        let gifts = try templates.render("gift_received", ["coins": .number(2)])
        #expect(gifts.hasSuffix("A relative gave you 2 coins; they are in your account."), "\(gifts)")
        let held = try templates.render("demand_approved", ["service_id": .number(7), "starts_at": .string("2026-12-02 09:00"), "coins": .number(1)])
        #expect(held.hasSuffix("1 coin is held for it."), "\(held)")
        let alert = try templates.render("supervision_alert", ["alert_id": .number(3), "kind": .string("frequent_gifts"), "people": .number(1)])
        #expect(alert.hasSuffix("involving 1 person; please review it."), "\(alert)")
        // Every bundled template, rendered with 1 and with 2 of each number: no "1 coins", no "1 minutes".
        for name in templates.texts.keys {
            for count in [1.0, 2.0] {
                var params: [String: JSONValue] = [:]
                for parameter in templates.parameters(of: name) {
                    params[parameter] = ["state": .string("paid"), "milestone": .string("star_1"), "kind": .string("late_night_service"),
                                         "starts_at": .string("2026-12-02 09:00"), "insurer": .string("picc"),
                                         "since": .string("2026-12-02 09:00")][parameter] ?? .number(count)
                }
                let text = try templates.render(name, params)
                #expect(!text.contains(" 1 coins") && !text.contains(" 1 minutes") && !text.contains(" 1 people"), "\(name): \(text)")
                #expect(!text.contains(" 2 coin ") && !text.contains(" 2 coin;") && !text.contains(" 2 person"), "\(name): \(text)")
            }
        }
    }

    /// Issue 19, item 5: a code's name in each language: the Chinese line
    /// holds no English code (it read "状态更新为：refused").
    @Test func statesAreNamedInEachLanguage() throws {
        let templates = try NotificationTemplates.bundled()
        for state in ["validated", "refused", "sent", "received", "more_documents", "approved", "rejected", "paid", "undeliverable"] {
            let text = try templates.render("claim_status", ["claim_id": .number(9), "state": .string(state)])
            let lines = text.split(separator: "\n")
            #expect(lines.count == 2)
            #expect(!lines[0].contains(where: { $0.isASCII && $0.isLetter }), "\(state): \(lines[0])")
            #expect(lines[1].hasPrefix("[Time Bank] Your accident claim 9 is now: "), "\(lines[1])")
        }
        let refused = try templates.render("claim_status", ["claim_id": .number(9), "state": .string("refused")])
        #expect(refused.hasPrefix("【时间银行】您的意外理赔（编号 9）状态更新为：不予受理。"), "\(refused)")
        let milestone = try templates.render("milestone_reached", ["coins": .number(100), "milestone": .string("star_1")])
        #expect(milestone.contains("达到一星志愿者") && milestone.hasSuffix("reached one-star volunteer."), "\(milestone)")
        // A code without a name is an error naming it, never shown raw.
        let unknown = try #require(throws: TemplateError.self) {
            try templates.render("claim_status", ["claim_id": .number(9), "state": .string("lost")])
        }
        #expect(unknown.message == "state lost has no zh name")
    }

    /// Every claim state and alert kind the database allows has a name in
    /// both languages (R21, R26): a new one without is caught here, not by
    /// a message that cannot be rendered.
    @Test func r21r26EveryStateTheDatabaseAllowsHasANameInBothLanguages() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            let rows = try await connection.query("""
                SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
                 WHERE conname IN ('claim_state_known', 'alert_kind_known')
                """)
            var codes: [String] = []
            for row in rows {
                let definition: String = try row.decode("def")
                codes += definition.matches(of: /'([a-z_0-9]+)'/).map { String($0.output.1) }
            }
            await connection.close()
            #expect(codes.contains("more_documents") && codes.contains("frequent_gifts"), "\(codes)")
            for code in codes + ["star_1", "star_2", "star_3", "star_4", "star_5", "coins_10000"] {
                #expect(LocalisedNames.name(of: code, in: "zh") != nil && LocalisedNames.name(of: code, in: "en") != nil, "\(code)")
            }
        }
    }
}
