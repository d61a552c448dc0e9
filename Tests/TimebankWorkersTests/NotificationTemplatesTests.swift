import Foundation
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
}
