import DevCluster
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PostgresClient
import TestSupport
import Testing
import TimebankDatabase
import TimebankWorkers

extension BankSuites {
    /// Issue 9: a worker's /metrics, /healthz and /readyz (`--metrics-port`).
    @Suite struct ObservabilityTests {
        /// The port a worker started with `--metrics-port 0` says it serves on.
        func port(of worker: WorkerProcess) async throws -> Int {
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                if let range = worker.output.range(of: #"port=(\d+)"#, options: .regularExpression) {
                    return Int(worker.output[range].dropFirst("port=".count))!
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw TimedOut(what: "the metrics port in \(worker.log)")
        }

        func get(_ port: Int, _ path: String) async throws -> (status: Int, body: String) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.timeoutInterval = 5
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }

        @Test func metricsCountEveryJobTheWorkerRan() async throws {
            try await Bank.with(workers: false) { bank in
                try await WorkerProcess.killingOnFailure {
                    let worker = try WorkerProcess.start("order-worker", bank.database.settings, ["--metrics-port", "0", "--poll-milliseconds", "100"])
                    let port = try await port(of: worker)
                    #expect(try await get(port, "/healthz").status == 200)
                    // 25 expiry checks of services that do not exist: each completes, changing nothing.
                    try await bank.owner.execute("""
                        SELECT jobs.enqueue('order.expire', jsonb_build_object('id', 900000 + n), 'order') FROM generate_series(1, 25) n
                        """)
                    try await bank.eventually("(SELECT count(*) FROM jobs.job WHERE kind = 'order.expire' AND state = 'completed') = 25")
                    let metrics = try await get(port, "/metrics")
                    #expect(metrics.status == 200)
                    let line = metrics.body.split(separator: "\n").first {
                        $0.hasPrefix("jobs_completed_total") && $0.contains(#"kind="order.expire""#)
                    }
                    #expect(line?.hasSuffix(" 25") == true, "\(metrics.body.prefix(3000))")
                    #expect(metrics.body.contains("job_run_seconds"))
                    #expect(try await get(port, "/readyz").status == 200)
                    worker.signal(SIGTERM)
                    #expect(await worker.wait() == 0)
                }
            }
        }

        @Test func theInsuranceClaimWorkerShowsClaimsByState() async throws {
            try await Bank.with(workers: false) { bank in
                try await WorkerProcess.killingOnFailure {
                    let worker = try WorkerProcess.start("insurance-claim-worker", bank.database.settings,
                                                         ["--metrics-port", "0", "--poll-milliseconds", "100"])
                    let port = try await port(of: worker)
                    try await bank.eventually("EXISTS (SELECT 1 FROM jobs.job WHERE kind = 'claims.sample' AND state = 'scheduled')")
                    let metrics = try await get(port, "/metrics").body
                    #expect(metrics.contains(#"timebank_claims{state="paid"} 0"#), "\(metrics.prefix(2000))")
                    #expect(metrics.contains(#"timebank_claims{state="validated"}"#))
                    worker.signal(SIGTERM)
                    #expect(await worker.wait() == 0)
                }
            }
        }

        @Test func readinessFailsWhileTheDatabaseIsDownAndRecovers() async throws {
            try await ScratchCluster.with("ready") { cluster, url in try await WorkerProcess.killingOnFailure {
                let worker = try WorkerProcess.start("order-worker", ConnectionSettings(conninfo: url), ["--metrics-port", "0"])
                let port = try await port(of: worker)
                #expect(try await get(port, "/readyz").status == 200)
                try cluster.stop()
                let down = try await get(port, "/readyz")
                #expect(down.status == 503 && down.body.contains("database"), "\(down)")
                #expect(try await get(port, "/healthz").status == 200, "alive, though not ready")
                try await cluster.start()
                let deadline = ContinuousClock.now + .seconds(20)
                var status = 0
                while ContinuousClock.now < deadline {
                    status = try await get(port, "/readyz").status
                    if status == 200 { break }
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(status == 200)

                // Issue 14: definitions not those of this build (a release's changed function
                // not yet applied) make it unready too, until `timebank migrate` applies them.
                let owner = try await PostgresConnection.connect(ConnectionSettings(conninfo: url))
                try await owner.execute("UPDATE meta.applied_definitions SET checksum = 'stale' WHERE path = 'functions/order/services.sql'")
                let stale = try await get(port, "/readyz")
                #expect(stale.status == 503 && stale.body.contains("definitions"), "\(stale)")
                #expect(try await Migrator.project().migrate(owner).definitionsApplied)
                #expect(try await get(port, "/readyz").status == 200)
                await owner.close()
                worker.signal(SIGTERM)
                #expect(await worker.wait() == 0)
            } }
        }
    }
}
