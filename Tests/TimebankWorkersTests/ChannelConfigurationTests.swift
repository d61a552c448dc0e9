import Foundation
import Testing
import TimebankWorkers

/// A channel configuration is checked before the worker starts, each mistake named by its field.
@Suite struct ChannelConfigurationTests {
    let environment = ["SMS_SECRET": "sms-secret-0123456789", "SHORT": "short"]

    func parse(_ json: String) throws -> ChannelConfiguration {
        try ChannelConfiguration.parse(Data(json.utf8), environment: environment)
    }

    @Test func routesEveryKindOfRecipientToItsChannels() throws {
        let configuration = try parse("""
            {"channels": {"sms": {"type": "webhook", "url": "https://sms.example/hook", "secretEnvironment": "SMS_SECRET", "sendsPhone": true},
                          "log": {"type": "file", "path": "/tmp/n.jsonl"}},
             "routes": {"person": ["sms", "log"], "agent_institution": ["log"], "supervisors": ["log"]}}
            """)
        #expect(configuration.routes["person"]?.map(\.name) == ["sms", "log"])
        let sms = try #require(configuration.routes["person"]?.first as? WebhookChannel)
        #expect(sms.sendsPhone && sms.timeout == .milliseconds(5000))
    }

    @Test func mistakesAreNamedByTheirField() throws {
        let cases: [(String, String)] = [
            (#"{"channels": {"sms": {"type": "webhook", "url": "ftp://x", "secretEnvironment": "SMS_SECRET"}}, "routes": {}}"#, "channels.sms.url"),
            (#"{"channels": {"sms": {"type": "webhook", "url": "https://x"}}, "routes": {}}"#, "channels.sms.secretEnvironment"),
            (#"{"channels": {"sms": {"type": "webhook", "url": "https://x", "secretEnvironment": "SHORT"}}, "routes": {}}"#, "channels.sms.secretEnvironment"),
            (#"{"channels": {"sms": {"type": "webhook", "url": "https://x", "secretEnvironment": "SMS_SECRET", "timeoutMilliseconds": 5}}, "routes": {}}"#, "channels.sms.timeoutMilliseconds"),
            (#"{"channels": {"sms": {"type": "pigeon"}}, "routes": {}}"#, "channels.sms.type"),
            (#"{"channels": {"log": {"type": "file", "path": "/tmp/x"}}, "routes": {"person": ["log"], "agent_institution": ["log"]}}"#, "routes.supervisors"),
            (#"{"channels": {"log": {"type": "file", "path": "/tmp/x"}}, "routes": {"person": ["sms"], "agent_institution": ["log"], "supervisors": ["log"]}}"#, "routes.person"),
            (#"{"channels": {"log": {"type": "file", "path": "/tmp/x"}}, "routes": {"person": ["log"], "agent_institution": ["log"], "supervisors": ["log"], "elders": ["log"]}}"#, "routes.elders"),
            (#"{"routes": {}}"#, "channels"),
        ]
        for (json, field) in cases {
            let error = try #require(throws: ChannelConfigurationError.self) { try parse(json) }
            #expect(error.field == field, "\(error)")
        }
    }
}
