import DevCluster
import Foundation
import TimebankDatabase
import Testing
import Yams

/// Issue 9: the alert rules, the dashboard and the compose profile in `ops/`.
@Suite struct OperationsConfigTests {
    var root: URL { get throws { try Migration.defaultDirectory().deletingLastPathComponent() } }

    /// Every metric the workers export (the `label:`s of their swift-metrics
    /// calls), with the histogram series of their timers, and those of
    /// `timebank ledger verify --metrics-file` and Prometheus's own `up`.
    func exportedMetrics() throws -> Set<String> {
        var names: Set<String> = ["up", "timebank_ledger_verify_ok", "timebank_ledger_verify_timestamp_seconds"]
        let sources = try root.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: /(Counter|Timer|Gauge|Recorder)\(label: "([a-z_]+)"/) {
                let name = String(match.output.2)
                names.insert(name)
                if match.output.1 == "Timer" { for suffix in ["_sum", "_count", "_bucket"] { names.insert(name + suffix) } }
            }
            // Counters whose label is chosen first (`label = "jobs_completed_total"` in a switch).
            for match in text.matches(of: /label = "([a-z_]+_total)"/) { names.insert(String(match.output.1)) }
        }
        return names
    }

    /// The metric names an expression uses (PromQL's functions and keywords excluded by shape).
    func metricNames(in expression: String) -> Set<String> {
        let candidates = expression.matches(of: /([a-z_][a-z0-9_]*)\s*(\{|\[|\)|$|\s*[<>=!]|\s+(and|or|unless)\b)/)
            .map { String($0.output.1) }
        let promql: Set<String> = ["sum", "max", "min", "rate", "increase", "deriv", "changes", "time", "by", "and", "or", "on",
                                   "unless", "count", "avg", "histogram_quantile", "humanizeDuration", "le"]
        return Set(candidates.filter { !promql.contains($0) && ($0.contains("_") || $0 == "up") })
    }

    @Test func theAlertRulesPassPromtoolAndNameOnlyExportedMetrics() async throws {
        let rules = try root.appendingPathComponent("ops/prometheus/alerts.yml")
        let outcome = try await ChildProcess.run("/usr/bin/env", ["promtool", "check", "rules", rules.path])
        #expect(outcome.status == 0, "\(outcome.output)")
        #expect(outcome.output.contains("SUCCESS"))
        let document = try #require(try Yams.load(yaml: String(contentsOf: rules, encoding: .utf8)) as? [String: Any])
        let alerts = (document["groups"] as? [[String: Any]] ?? []).flatMap { $0["rules"] as? [[String: Any]] ?? [] }
        let names = Set(alerts.compactMap { $0["alert"] as? String })
        #expect(names.isSuperset(of: ["QueueBackingUp", "OldestJobTooOld", "WorkerCrashLooping", "SettlementLatencyOverObjective",
                                      "DeliveriesFailing", "LedgerVerifyFailed"]))
        let exported = try exportedMetrics()
        for alert in alerts {
            let used = metricNames(in: alert["expr"] as? String ?? "")
            #expect(!used.isEmpty && used.isSubset(of: exported), "\(alert["alert"] ?? "?") uses \(used.subtracting(exported))")
        }
    }

    @Test func theDashboardParsesAndNamesOnlyExportedMetrics() throws {
        let data = try Data(contentsOf: try root.appendingPathComponent("ops/grafana/dashboards/timebank.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        #expect(panels.count >= 10)
        let exported = try exportedMetrics()
        for panel in panels {
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                let used = metricNames(in: target["expr"] as? String ?? "")
                #expect(!used.isEmpty && used.isSubset(of: exported), "\(panel["title"] ?? "?") uses \(used.subtracting(exported))")
            }
        }
    }

    @Test func theMonitoringProfileStartsPrometheusAndGrafanaPointedAtTheWorkers() throws {
        let text = try String(contentsOf: try root.appendingPathComponent("docker-compose.yml"), encoding: .utf8)
        let services = try #require((try Yams.load(yaml: text) as? [String: Any])?["services"] as? [String: Any])
        for name in ["prometheus", "grafana"] {
            let service = try #require(services[name] as? [String: Any])
            #expect(service["profiles"] as? [String] == ["monitoring"])
        }
        for name in ["enrollment-worker", "order-worker", "settlement-worker", "notification-worker", "insurance-claim-worker"] {
            let command = try #require((services[name] as? [String: Any])?["command"] as? [String])
            #expect(command.suffix(2) == ["--metrics-port", "9100"], "\(name)")
        }
        let scrape = try String(contentsOf: try root.appendingPathComponent("ops/prometheus/prometheus.yml"), encoding: .utf8)
        #expect(scrape.contains("port: 9100") && scrape.contains("settlement-worker"))
    }
}
