import Foundation
import PostgresClient
import TestSupport
import Testing
import TimebankWorkers

extension BankSuites {
    /// Issue 7: `kill -9` of the notification and insurance-claim workers
    /// between sending and recording loses nothing, and the receiver sees
    /// the same idempotency key on the resend.
    @Suite struct DeliveryCrashTests {
        @Test func killedBetweenSendingAndRecordingBothWorkersResendWithTheSameKeyAndRecordOnce() async throws {
            // Every first request of a key is held unanswered: the worker dies waiting for it.
            let receiver = try await TestReceiver.start { _, seen in seen == 0 ? .hang : .ok }
            setenv("TIMEBANK_TEST_SMS_SECRET", "sms-secret-0123456789", 1)
            setenv("TIMEBANK_TEST_DESK_SECRET", "desk-secret-0123456789", 1)
            let channels = FileManager.default.temporaryDirectory.appendingPathComponent("channels-\(UUID().uuidString.prefix(8)).json")
            try Data("""
                {"channels": {
                   "sms":  {"type": "webhook", "url": "\(receiver.url("/sms"))", "secretEnvironment": "TIMEBANK_TEST_SMS_SECRET",
                            "timeoutMilliseconds": 60000, "sendsPhone": true},
                   "desk": {"type": "webhook", "url": "\(receiver.url("/desk"))", "secretEnvironment": "TIMEBANK_TEST_DESK_SECRET",
                            "timeoutMilliseconds": 60000}},
                 "routes": {"person": ["sms"], "agent_institution": ["desk"], "supervisors": ["desk"]}}
                """.utf8).write(to: channels)
            defer { try? FileManager.default.removeItem(at: channels) }

            try await Bank.with(runtime: try receiverRuntime(receiver), outOfProcess: [.notification, .insuranceClaim]) { bank in
                try await WorkerProcess.killingOnFailure {
                    let flags = ["--channels", channels.path, "--poll-milliseconds", "200", "--lease-milliseconds", "1500",
                                 "--rescue-milliseconds", "300", "--log-level", "warning"]
                    func startBoth() throws -> [WorkerProcess] {
                        [try WorkerProcess.start("notification-worker", bank.database.settings, flags),
                         try WorkerProcess.start("insurance-claim-worker", bank.database.settings, flags)]
                    }
                    var workers = try startBoth()
                    // A generous timeout, like the channels': the resend must not time out while other suites
                    // load the machine (a 1 s one did, and the claim went a third time).
                    try await bank.setInsurer("picc", organisations: ["Chaoyang Volunteers Association"], receiver: receiver,
                                              secret: "picc-shared-secret-0123456789", timeoutMilliseconds: 30_000)
                    for n in 1...3 {
                        try await bank.owner.execute("SELECT bank.alert_supervisors('insurer_unreachable', $1::jsonb)",
                                                     ["{\"claim_id\": \(n), \"insurer\": \"picc\", \"since\": \"x\"}"])
                    }
                    let elder = try await bank.registerElder(41)
                    let volunteer = try await bank.registerVolunteer(42)
                    try await bank.insure(volunteer)
                    let service = try await bank.served(elder: elder, volunteer: volunteer)
                    let claim = try #require(try await bank.reportAccident(service, volunteer, minutesAfterCheckIn: 5).result["claim_id"])

                    // The claim and the three alerts are in flight, unanswered: kill -9 both workers.
                    try await eventually {
                        let requests = await receiver.requests
                        return requests.contains { $0.path == "/claims/picc" } && requests.filter { $0.path == "/desk" }.count >= 3
                    }
                    for worker in workers { worker.signal(SIGKILL) }
                    for worker in workers { #expect(await worker.wait() == 128 + SIGKILL) }
                    #expect(try await bank.claimState(claim) == "validated")
                    #expect(try await bank.count("bank.delivery_attempt WHERE outcome = 'delivered'") == 0)

                    // Their replacements rescue the jobs and send again, with the same keys.
                    workers = try startBoth()
                    try await bank.eventually("(SELECT state FROM bank.accident_claim WHERE id = $1) = 'sent'", [claim], timeout: .seconds(30))
                    try await bank.eventually("""
                        (SELECT count(*) FROM bank.delivery_attempt a JOIN bank.message m ON m.id = a.message_id
                          WHERE m.template = 'insurer_unreachable' AND a.outcome = 'delivered') = 3
                        """, timeout: .seconds(30))
                    for worker in workers { worker.signal(SIGTERM) }
                    for worker in workers { #expect(await worker.wait() == 0, "\(worker.output.suffix(2000))") }

                    let requests = await receiver.requests
                    let claimKeys = requests.filter { $0.path == "/claims/picc" }.compactMap(\.idempotencyKey)
                    #expect(claimKeys == ["claim-\(claim)", "claim-\(claim)"])
                    let alertKeys = requests.filter { $0.json?["template"] as? String == "insurer_unreachable" }.compactMap(\.idempotencyKey)
                    #expect(alertKeys.count == 6 && Set(alertKeys).count == 3, "\(alertKeys)")
                    #expect(await receiver.acceptedTwice == 0)
                    #expect(try await bank.count("bank.claim_delivery_attempt WHERE claim_id = $1 AND outcome = 'sent'", [claim]) == 1)
                    #expect(try await bank.count("bank.claim_event WHERE claim_id = $1 AND state = 'sent'", [claim]) == 1)
                }
            }
            await receiver.stop()
        }

        func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
            let deadline = ContinuousClock.now + timeout
            while try await !condition() {
                if ContinuousClock.now > deadline { throw TimedOut(what: "the receiver's requests") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }
}
