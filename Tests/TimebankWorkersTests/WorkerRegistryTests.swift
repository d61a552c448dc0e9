import Foundation
import JobEngine
import PostgresClient
import TestSupport
import Testing
import TimebankWorkers

extension BankSuites {
    /// Issue 9: every worker process registers and heartbeats; a silent one is marked gone.
    @Suite struct WorkerRegistryTests {
        @Test func threeWorkersOfTwoKindsAreListedAndOneKilledIsMarkedGone() async throws {
            try await Bank.with(workers: false) { bank in
                try await WorkerProcess.killingOnFailure {
                    let flags = ["--heartbeat-milliseconds", "200", "--gone-after-milliseconds", "1500", "--poll-milliseconds", "200"]
                    let workers = [
                        try WorkerProcess.start("settlement-worker", bank.database.settings, flags),
                        try WorkerProcess.start("settlement-worker", bank.database.settings, flags),
                        try WorkerProcess.start("order-worker", bank.database.settings, flags),
                    ]
                    try await bank.eventually("(SELECT count(*) FROM jobs.worker_instance WHERE stopped_at IS NULL AND gone_at IS NULL) = 3")
                    let listed = try await WorkerRegistry.list(bank.owner)
                    #expect(listed.map(\.kind).sorted() == ["order-worker", "settlement-worker", "settlement-worker"])
                    #expect(Set(listed.map(\.pid)) == Set(workers.map { Int($0.pid) }))
                    #expect(listed.allSatisfy { $0.state == "live" && $0.version == WorkerKind.version && $0.concurrency > 0 })
                    #expect(listed.first { $0.kind == "order-worker" }?.queues == ["order"])

                    workers[0].signal(SIGKILL)
                    #expect(await workers[0].wait() == 128 + SIGKILL)
                    try await bank.eventually("EXISTS (SELECT 1 FROM jobs.worker_instance WHERE pid = $1::integer AND gone_at IS NOT NULL)",
                                              [Int(workers[0].pid)], timeout: .seconds(10))
                    for worker in workers.dropFirst() { worker.signal(SIGTERM) }
                    for worker in workers.dropFirst() { #expect(await worker.wait() == 0) }
                    let ended = try await WorkerRegistry.list(bank.owner)
                    #expect(ended.filter { $0.state == "gone" }.map(\.pid) == [Int(workers[0].pid)])
                    #expect(ended.filter { $0.state == "stopped" }.count == 2)
                }
            }
        }
    }
}
