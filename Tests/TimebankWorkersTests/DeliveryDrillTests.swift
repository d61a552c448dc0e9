import Foundation
import JobEngine
import PostgresClient
import TestSupport
import Testing
import TimebankWorkers

extension BankSuites {
    /// Issue 7's delivery figures: a thousand messages through a receiver
    /// that fails in every way it can, delivered by two notification-worker
    /// processes. Prints what was sent, retried, failed, and duplicates.
    @Suite struct DeliveryDrillTests {
        @Test func aThousandMessagesThroughAFailingReceiverByTwoReplicasArriveOnceOrFailWithTheReason() async throws {
            let messages = 1000
            // By message id: 1 in 20 refused for good (400); the rest fail once or twice
            // (500, a dropped connection, an answer slower than the 1 s timeout) or pass at once.
            let receiver = try await TestReceiver.start { request, seen in
                let id = (request.json?["message_id"] as? Int) ?? 0
                switch id % 20 {
                case 0: return .status(400)
                case 1...5: return seen == 0 ? .status(500) : .ok
                case 6, 7: return seen == 0 ? .drop : .ok
                case 8, 9: return seen == 0 ? .slow(.milliseconds(1500)) : .ok
                case 10: return seen < 2 ? .status(503) : .ok
                default: return .ok
                }
            }
            setenv("TIMEBANK_DRILL_SECRET", "drill-secret-0123456789", 1)
            let channels = FileManager.default.temporaryDirectory.appendingPathComponent("drill-\(UUID().uuidString.prefix(8)).json")
            try Data("""
                {"channels": {"desk": {"type": "webhook", "url": "\(receiver.url("/desk"))", "secretEnvironment": "TIMEBANK_DRILL_SECRET",
                                       "timeoutMilliseconds": 1000}},
                 "routes": {"person": ["desk"], "agent_institution": ["desk"], "supervisors": ["desk"]}}
                """.utf8).write(to: channels)
            defer { try? FileManager.default.removeItem(at: channels) }

            try await Bank.with(workers: false) { bank in
                try await WorkerProcess.killingOnFailure {
                    let workers = try (0..<2).map { _ in
                        try WorkerProcess.start("notification-worker", bank.database.settings, [
                            "--channels", channels.path, "--poll-milliseconds", "200", "--concurrency", "20", "--log-level", "error",
                        ])
                    }
                    let clock = ContinuousClock()
                    let started = clock.now
                    try await bank.owner.execute("""
                        SELECT bank.alert_supervisors('insurer_unreachable', jsonb_build_object('claim_id', n, 'insurer', 'drill', 'since', 'now'))
                          FROM generate_series(1, $1::integer) n
                        """, [messages])
                    try await bank.eventually(
                        "NOT EXISTS (SELECT 1 FROM jobs.job WHERE kind LIKE 'notify.%' AND state NOT IN ('completed', 'cancelled', 'discarded'))",
                        timeout: .seconds(120))
                    let elapsed = clock.now - started
                    for worker in workers { worker.signal(SIGTERM) }
                    for worker in workers { #expect(await worker.wait() == 0) }

                    func number(_ sql: String) async throws -> Int {
                        try await bank.owner.query("SELECT (\(sql))::integer AS n")[0].decode("n", as: Int.self)
                    }
                    let delivered = try await number("SELECT count(*) FROM bank.delivery_attempt WHERE outcome = 'delivered'")
                    let deliveredMessages = try await number("SELECT count(DISTINCT message_id) FROM bank.delivery_attempt WHERE outcome = 'delivered'")
                    let retries = try await number("SELECT count(*) FROM bank.delivery_attempt WHERE outcome = 'retry'")
                    let failed = try await number("SELECT count(*) FROM bank.delivery_attempt WHERE outcome = 'failed'")
                    let failedWithAnswer = try await number(
                        "SELECT count(*) FROM bank.delivery_attempt WHERE outcome = 'failed' AND http_status = 400 AND answer = 'scripted 400'")
                    let firstIDs = try await number("SELECT min(id) FROM bank.message")
                    let requests = await receiver.requests
                    let keys = Set(requests.compactMap(\.idempotencyKey))
                    // A duplicate the receiver could not recognise: one message arriving under two keys.
                    var keysPerMessage: [Int: Set<String>] = [:]
                    for request in requests {
                        if let id = request.json?["message_id"] as? Int, let key = request.idempotencyKey { keysPerMessage[id, default: []].insert(key) }
                    }
                    let unrecognisable = keysPerMessage.values.filter { $0.count > 1 }.count
                    let acceptedTwice = await receiver.acceptedTwice
                    let refusedExpected = (firstIDs..<(firstIDs + messages)).filter { $0 % 20 == 0 }.count

                    print("""
                        delivery drill: \(messages) messages, 2 notification-worker processes, \(String(format: "%.1f", elapsed.inSeconds)) s
                          receiver saw \(requests.count) requests, \(keys.count) distinct idempotency keys, \(requests.count - keys.count) resends with a known key
                          delivered \(deliveredMessages) (recorded once each: \(delivered) delivered attempts), retried attempts \(retries), failed for good \(failed) (HTTP 400, recorded with the answer)
                          keys the receiver answered 2xx twice (a slow answer after our timeout, then the resend): \(acceptedTwice); messages under two keys: \(unrecognisable)
                        """)
                    #expect(keys.count == messages)
                    #expect(deliveredMessages == messages - refusedExpected && delivered == deliveredMessages)
                    #expect(failed == refusedExpected && failedWithAnswer == failed)
                    #expect(unrecognisable == 0)
                    #expect(retries >= messages / 2)
                }
            }
            await receiver.stop()
        }
    }
}
