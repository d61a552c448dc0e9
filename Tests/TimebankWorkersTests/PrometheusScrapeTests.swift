import DevCluster
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PostgresClient
import TestSupport
import Testing
import TimebankDatabase

extension BankSuites {
    /// Issue 9: a real Prometheus scrapes two running workers and answers a query over their metrics.
    @Suite struct PrometheusScrapeTests {
        @Test func prometheusScrapesTwoWorkersAndCountsTheirJobs() async throws {
            try await Bank.with(workers: false) { bank in
                try await WorkerProcess.killingOnFailure {
                    let workers = try (0..<2).map { _ in
                        try WorkerProcess.start("order-worker", bank.database.settings, ["--metrics-port", "0", "--poll-milliseconds", "100"])
                    }
                    var ports: [Int] = []
                    for worker in workers { ports.append(try await ObservabilityTests().port(of: worker)) }
                    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("prometheus-\(UUID().uuidString.prefix(8))")
                    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                    defer { try? FileManager.default.removeItem(at: directory) }
                    try """
                        global: {scrape_interval: 1s, evaluation_interval: 1s}
                        scrape_configs:
                          - job_name: timebank-workers
                            static_configs: [{targets: [\(ports.map { "'127.0.0.1:\($0)'" }.joined(separator: ", "))]}]
                        """.write(to: directory.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
                    let prometheusPort = try LocalCluster.freeLoopbackPort()
                    let prometheus = try ChildProcess.spawn("/usr/bin/prometheus", [
                        "--config.file=\(directory.appendingPathComponent("prometheus.yml").path)",
                        "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
                        "--web.listen-address=127.0.0.1:\(prometheusPort)",
                    ], environment: ProcessInfo.processInfo.environment, logFile: directory.appendingPathComponent("prometheus.log").path)
                    defer {
                        kill(prometheus, SIGTERM)
                        _ = ChildProcess.wait(prometheus)
                    }

                    try await bank.owner.execute(
                        "SELECT jobs.enqueue('order.expire', jsonb_build_object('id', 900000 + n), 'order') FROM generate_series(1, 40) n")
                    try await bank.eventually("(SELECT count(*) FROM jobs.job WHERE kind = 'order.expire' AND state = 'completed') = 40")

                    func query(_ promql: String) async throws -> Double? {
                        var components = URLComponents(string: "http://127.0.0.1:\(prometheusPort)/api/v1/query")!
                        components.queryItems = [URLQueryItem(name: "query", value: promql)]
                        guard let (data, _) = try? await URLSession.shared.data(from: components.url!),
                              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                              let result = (json["data"] as? [String: Any])?["result"] as? [[String: Any]],
                              let value = (result.first?["value"] as? [Any])?.last as? String else { return nil }
                        return Double(value)
                    }
                    let deadline = ContinuousClock.now + .seconds(40)
                    var up: Double?, completed: Double?
                    while ContinuousClock.now < deadline {
                        up = try await query(#"sum(up{job="timebank-workers"})"#)
                        completed = try await query(#"sum(jobs_completed_total{kind="order.expire"})"#)
                        if up == 2 && completed == 40 { break }
                        try await Task.sleep(for: .milliseconds(500))
                    }
                    #expect(up == 2, "both workers scraped")
                    #expect(completed == 40, "the jobs the two workers ran, summed by Prometheus")
                    for worker in workers { worker.signal(SIGTERM) }
                    for worker in workers { #expect(await worker.wait() == 0) }
                }
            }
        }
    }
}
