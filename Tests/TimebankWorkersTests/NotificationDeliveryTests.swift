import Foundation
import JobEngine
import PostgresClient
import TestSupport
import TimebankOperations
import Testing
import TimebankWorkers

/// Noon in Beijing (04:00 UTC): outside quiet hours, whatever the hour the tests run at.
let beijingNoon = Date(timeIntervalSince1970: 1_795_492_800)  // 2026-11-24T04:00:00Z

/// The notification worker reaching a local receiver: persons through an
/// "sms" webhook (which needs the phone number), agent institutions and
/// supervisors through a "desk" webhook.
func receiverRuntime(_ receiver: TestReceiver, timeoutMilliseconds: Int = 2000, now: Date = beijingNoon) throws -> WorkerRuntime {
    let json = """
        {"channels": {
           "sms":  {"type": "webhook", "url": "\(receiver.url("/sms"))", "secretEnvironment": "SMS_SECRET",
                    "timeoutMilliseconds": \(timeoutMilliseconds), "sendsPhone": true},
           "desk": {"type": "webhook", "url": "\(receiver.url("/desk"))", "secretEnvironment": "DESK_SECRET",
                    "timeoutMilliseconds": \(timeoutMilliseconds)}},
         "routes": {"person": ["sms"], "agent_institution": ["desk"], "supervisors": ["desk"]}}
        """
    let channels = try ChannelConfiguration.parse(
        Data(json.utf8), environment: ["SMS_SECRET": "sms-secret-0123456789", "DESK_SECRET": "desk-secret-0123456789"])
    return try WorkerRuntime(channels: channels, now: { now }, claimRetry: Backoff(base: .milliseconds(100), maximum: .milliseconds(500)),
                             exportRetryAfter: .milliseconds(100))
}

extension BankSuites {
    /// Issue 7: the outbox, its channels, retries, quiet hours and R5/R23.
    @Suite struct NotificationDeliveryTests {
        func delivered(_ bank: Bank, template: String, count: Int = 1) async throws {
            try await bank.eventually("""
                (SELECT count(*) FROM bank.delivery_attempt a JOIN bank.message m ON m.id = a.message_id
                  WHERE m.template = $1 AND a.outcome = 'delivered') >= $2
                """, [template, count])
        }

        @Test func r6r23TheCoinPathsMessagesArriveOnceSignedAndWithoutPersonalData() async throws {
            let receiver = try await TestReceiver.start()
            try await Bank.with(runtime: try receiverRuntime(receiver)) { bank in
                let elder = try await bank.registerElder(11)
                let volunteer = try await bank.registerVolunteer(12)
                _ = try await bank.served(elder: elder, volunteer: volunteer)
                try await delivered(bank, template: "coins_credited")
                try await bank.eventually("NOT EXISTS (SELECT 1 FROM jobs.job WHERE kind LIKE 'notify.%' AND state <> 'completed')")

                // (The supervisors' desk may hear of a late-night alert, depending on the hour the test runs.)
                let requests = await receiver.requests.filter { $0.path == "/sms" }
                var byPerson: [Int64: Set<String>] = [:]
                for request in requests {
                    let json = try #require(request.json)
                    let recipient = try #require(json["recipient"] as? [String: Any])
                    let person = try #require(recipient["person_id"] as? Int)
                    byPerson[Int64(person), default: []].insert(try #require(json["template"] as? String))
                    // Signed with the channel's secret: the body's HMAC-SHA256.
                    let expected = try await bank.owner.query(
                        "SELECT 'sha256=' || encode(hmac($1::text, 'sms-secret-0123456789', 'sha256'), 'hex') AS s",
                        [String(decoding: request.body, as: UTF8.self)])[0].decode("s", as: String.self)
                    #expect(request.signature == expected)
                    #expect(request.idempotencyKey == "message-\(try #require(json["message_id"] as? Int))-sms")
                    #expect((json["text"] as? String)?.hasPrefix("【时间银行】") == true, "Chinese first")
                }
                #expect(byPerson[elder]?.isSuperset(of: ["demand_approved", "service_booked"]) == true, "\(byPerson)")
                #expect(byPerson[volunteer]?.isSuperset(of: ["booking_confirmed", "coins_credited"]) == true, "\(byPerson)")
                let credited = try #require(requests.compactMap(\.json).first { $0["template"] as? String == "coins_credited" })
                #expect((credited["params"] as? [String: Any])?["minutes"] as? Int == 60)
                #expect(await receiver.resends == 0)
                #expect(await receiver.acceptedTwice == 0)

                // R23: no national ID or name in any payload; the phone number only where the SMS gateway needs it.
                let people = try await bank.owner.query("SELECT bank.personal_data_decrypt(national_id_encrypted) AS national_id, name FROM bank.person WHERE id IN ($1, $2)", [elder, volunteer])
                for person in people {
                    for text in requests.map({ String(decoding: $0.body, as: UTF8.self) }) {
                        #expect(!text.contains(try person.decode("national_id", as: String.self)))
                        #expect(!text.contains("\"\(try person.decode("name", as: String.self))\""))
                    }
                }
                let elderPhones = requests.compactMap(\.json).filter { ($0["recipient"] as? [String: Any])?["person_id"] as? Int == Int(elder) }
                    .map { ($0["recipient"] as? [String: Any])?["phone"] as? String }
                #expect(!elderPhones.isEmpty && elderPhones.allSatisfy { $0 == "13800000000" })
            }
            await receiver.stop()
        }

        @Test func aFailingReceiverGetsEachMessageOnceInEffectAndEveryAttemptIsRecorded() async throws {
            // Per message: first a 500, then a dropped connection, then a slow answer past the
            // timeout, then accepted; the supervisors' desk refuses one alert for good (400).
            let receiver = try await TestReceiver.start { request, seen in
                if request.json?["template"] as? String == "claim_undeliverable" { return .status(400) }
                switch seen {
                case 0: return .status(500)
                case 1: return .drop
                case 2: return .slow(.milliseconds(1500))
                default: return .ok
                }
            }
            try await Bank.with(runtime: try receiverRuntime(receiver, timeoutMilliseconds: 1000)) { bank in
                try await bank.owner.execute("""
                    SELECT bank.alert_supervisors('insurer_unreachable', jsonb_build_object('claim_id', n, 'insurer', 'picc', 'since', 'x'))
                      FROM generate_series(1, 5) n
                    """)
                try await bank.owner.execute(
                    "SELECT bank.alert_supervisors('claim_undeliverable', '{\"claim_id\": 9, \"insurer\": \"picc\", \"http_status\": 400}')")
                try await delivered(bank, template: "insurer_unreachable", count: 5)
                try await bank.eventually("""
                    EXISTS (SELECT 1 FROM jobs.job WHERE kind = 'notify.deliver' AND state = 'cancelled')
                    """)

                // Four attempts each, the first three recorded as retries, one delivery.
                let outcomes = try await bank.owner.query("""
                    SELECT a.outcome, count(*)::integer AS n FROM bank.delivery_attempt a JOIN bank.message m ON m.id = a.message_id
                     WHERE m.template = 'insurer_unreachable' GROUP BY 1 ORDER BY 1
                    """).map { "\(try $0.decode("outcome", as: String.self)) \(try $0.decode("n", as: Int.self))" }
                #expect(outcomes == ["delivered 5", "retry 15"])
                let refused = try await bank.owner.query("""
                    SELECT a.outcome, a.http_status, a.answer FROM bank.delivery_attempt a JOIN bank.message m ON m.id = a.message_id
                     WHERE m.template = 'claim_undeliverable'
                    """)
                #expect(refused.count == 1)
                #expect(try refused[0].decode("outcome", as: String.self) == "failed")
                #expect(try refused[0].decode("http_status", as: Int.self) == 400)
                #expect(try refused[0].decode("answer", as: String.self) == "scripted 400")
                // Every resend carried its message's key: a receiver deduplicating on it acts once per message
                // (the slow answer it gave after our timeout included).
                let sent = await receiver.requests.filter { $0.json?["template"] as? String == "insurer_unreachable" }
                #expect(sent.count == 20)
                #expect(Set(sent.compactMap(\.idempotencyKey)).count == 5)

                // Operators see it among the failed deliveries, and retry it.
                let failed = try await DeliveryAdmin.failed(bank.owner)
                #expect(failed.map { "\($0.template) \($0.channel) \($0.lastOutcome) \($0.httpStatus ?? 0)" } == ["claim_undeliverable desk failed 400"])
                await receiver.setScript { _, _ in .ok }
                _ = try await DeliveryAdmin.retry(bank.owner, message: failed[0].messageID)
                try await delivered(bank, template: "claim_undeliverable")
                #expect(try await DeliveryAdmin.failed(bank.owner).isEmpty)
                #expect(try await DeliveryAdmin.attempts(bank.owner, message: failed[0].messageID).map(\.outcome) == ["failed", "delivered"])
            }
            await receiver.stop()
        }

        @Test func quietHoursHoldAPersonsMessageUntilSevenButNotAnAlert() async throws {
            let receiver = try await TestReceiver.start()
            let lateEvening = beijingNoon.addingTimeInterval(11.5 * 3600)  // 23:30 in Beijing
            try await Bank.with(runtime: try receiverRuntime(receiver, now: lateEvening)) { bank in
                let elder = try await bank.registerElder(13)
                _ = try await bank.publishedService(elder: elder, minutes: 60)
                try await bank.owner.execute("SELECT bank.alert_supervisors('insurer_unreachable', '{\"claim_id\": 1, \"insurer\": \"x\", \"since\": \"y\"}')")
                try await delivered(bank, template: "insurer_unreachable")
                try await bank.eventually("""
                    EXISTS (SELECT 1 FROM jobs.job j JOIN bank.message m ON j.args->>'id' = m.id::text
                             WHERE j.kind = 'notify.deliver' AND m.template = 'demand_approved' AND j.state = 'scheduled')
                    """)
                // Snoozed for the 7.5 hours until 07:00, not sent, no attempt spent.
                let row = try await bank.owner.query("""
                    SELECT extract(epoch FROM j.run_at - now())::integer AS wait, j.attempt FROM jobs.job j JOIN bank.message m ON j.args->>'id' = m.id::text
                     WHERE j.kind = 'notify.deliver' AND m.template = 'demand_approved'
                    """)[0]
                let wait = try row.decode("wait", as: Int.self)
                #expect(wait > 7 * 3600 + 1700 && wait <= 7 * 3600 + 1800, "\(wait) s")
                #expect(try row.decode("attempt", as: Int.self) == 0)
                #expect(await receiver.requests.allSatisfy { $0.path == "/desk" })
            }
            await receiver.stop()
        }

        @Test func aReminderIsScheduledBeforeTheServiceAndNotSentOnceItIsCancelled() async throws {
            let receiver = try await TestReceiver.start()
            try await Bank.with(runtime: try receiverRuntime(receiver)) { bank in
                let elder = try await bank.registerElder(15)
                let volunteer = try await bank.registerVolunteer(16)
                let service = try await bank.publishedService(elder: elder, minutes: 60, startsIn: .seconds(5 * 3600))
                try await bank.completed("api.book_service($1, $2)", [service, volunteer])
                let reminder = "jobs.job j JOIN bank.message m ON j.args->>'id' = m.id::text WHERE j.kind = 'notify.deliver' AND m.template = 'service_reminder'"
                try await bank.eventually("EXISTS (SELECT 1 FROM \(reminder) AND j.state = 'scheduled')")
                // Due two hours before the start (reminder_minutes_before_service).
                let lead = try await bank.owner.query("""
                    SELECT extract(epoch FROM (SELECT starts_at FROM bank.service WHERE id = $1) - j.run_at)::integer AS lead FROM \(reminder)
                    """, [service])[0].decode("lead", as: Int.self)
                #expect(lead == 120 * 60)

                try await bank.completed("api.cancel_service($1, $2)", [service, elder])
                try await bank.owner.execute("UPDATE jobs.job SET run_at = now() WHERE id = (SELECT j.id FROM \(reminder))")
                try await bank.eventually("EXISTS (SELECT 1 FROM \(reminder) AND j.state = 'completed')")
                #expect(try await bank.count("bank.delivery_attempt a JOIN bank.message m ON m.id = a.message_id WHERE m.template = 'service_reminder' AND a.outcome = 'obsolete'") == 1)
                #expect(await receiver.requests.allSatisfy { $0.json?["template"] as? String != "service_reminder" })
            }
            await receiver.stop()
        }

        @Test func r5APersonRegisteredThroughAnAgentIsReachedThroughTheAgentsDesk() async throws {
            let receiver = try await TestReceiver.start()
            try await Bank.with(runtime: try receiverRuntime(receiver)) { bank in
                let institution = try await bank.asStaff.completed("""
                    api.register_agent_institution('city-desk', 'Jinsong Elder Service Station', '110105', 'Jinsong Street Office', 'JS-2026-014',
                                                   '[{"code": "w01", "name": "Wang Li"}]'::jsonb)
                    """, [])["institution_id"]!
                try await bank.client.execute("SELECT api.act_as_agent($1, 'w01')", [institution])
                let elder = try await bank.completed("api.register_person($1, 'Zhang Xiu', '13900000001', true, '110105')",
                                                     [NationalID.sample(age: 81, serial: 14)])["person_id"]!
                try await bank.completed("api.authenticate_elder($1)", [elder])
                try await bank.client.execute("SELECT api.act_as_agent(NULL, NULL)")
                try await bank.asStaff.completed("api.grant_coins('city-desk', '110105', $1, 'very_old', 5)", [elder])
                _ = try await bank.publishedService(elder: elder, minutes: 60)
                try await delivered(bank, template: "demand_approved")
                let request = try #require(await receiver.requests.first { $0.json?["template"] as? String == "demand_approved" })
                #expect(request.path == "/desk")
                let recipient = try #require(request.json?["recipient"] as? [String: Any])
                #expect(recipient["kind"] as? String == "agent_institution")
                #expect(recipient["agent_institution_id"] as? Int == Int(institution))
                #expect(recipient["on_behalf_of_person_id"] as? Int == Int(elder))
                #expect(recipient["phone"] == nil, "R23: the desk does not need the elder's phone")
            }
            await receiver.stop()
        }
    }
}
