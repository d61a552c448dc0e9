import Foundation

/// The benchmark's table: medians over the rounds, ours beside pgbench.
struct Report {
    var results: [String: [Measurement]]
    var seconds: Int
    var rounds: Int
    var serverVersion: Int
    var rows: Int

    func median(_ key: String) -> Measurement {
        let sorted = results[key]!.sorted { $0.perSecond < $1.perSecond }
        return sorted[sorted.count / 2]
    }

    func print() {
        Swift.print("")
        Swift.print("driver-bench: one connection, \(seconds) s per run, median of \(rounds) rounds, PostgreSQL \(serverVersion / 10000).\(serverVersion % 100)")
        Swift.print("pgbench: -c 1 -j 1 -M prepared, the same statement; ours: prepared and cached, decoded")
        Swift.print("")
        Swift.print(pad("statement / client", 42) + pad("round trips/s", 15) + pad("vs pgbench", 12) + pad("p50 µs", 9) + pad("p99 µs", 9) + "client CPU µs/op")
        for statement in ["select", "insert"] {
            let baseline = median("\(statement) pgbench")
            for (label, key) in [("pgbench", "\(statement) pgbench"), ("ours, on the connection's thread", "\(statement) ours"),
                                 ("ours, a thread hop per call", "\(statement) ours hop"),
                                 ("ours, task on the connection's thread", "\(statement) ours pinned")] {
                let measurement = median(key)
                let ratio = measurement.perSecond / baseline.perSecond * 100
                Swift.print(
                    pad("\(statement): \(label)", 42) + pad(String(format: "%.0f", measurement.perSecond), 15)
                        + pad(String(format: "%.1f %%", ratio), 12)
                        + pad(percentile(measurement, 0.50), 9) + pad(percentile(measurement, 0.99), 9)
                        + String(format: "%.1f", measurement.clientCPUMicroseconds))
            }
        }
        Swift.print("")
        Swift.print("select: SELECT id, balance, note FROM bench_driver_select WHERE id = $1 (random id of \(rows) rows)")
        Swift.print("insert: INSERT INTO bench_driver_insert (account, minutes, note) VALUES ($1, $2, $3), autocommit (one WAL flush each)")
    }

    func percentile(_ measurement: Measurement, _ fraction: Double) -> String {
        guard !measurement.latencies.isEmpty else { return "-" }
        let sorted = measurement.latencies.sorted()
        let value = sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
        return String(format: "%.0f", value.seconds * 1e6)
    }

    func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
