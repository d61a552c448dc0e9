import DevCluster
import Foundation
import TimebankDatabase

/// Runs `pgbench -c 1 -j 1 -M prepared` with the benchmark's own statements.
struct PGBench {
    enum Script: String { case select, insert }

    let executable: String
    let conninfo: String
    let directory: URL

    init(conninfo: String, rows: Int) throws {
        executable = try ServerTools.pgbench()
        self.conninfo = conninfo
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("driver-bench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try """
            \\set id random(1, \(rows))
            SELECT id, balance, note FROM bench_driver_select WHERE id = :id;
            """.write(to: directory.appendingPathComponent("select.sql"), atomically: true, encoding: .utf8)
        try """
            \\set account random(1, \(rows))
            INSERT INTO bench_driver_insert (account, minutes, note) VALUES (:account, 60, 'bench');
            """.write(to: directory.appendingPathComponent("insert.sql"), atomically: true, encoding: .utf8)
    }

    func run(_ script: Script, seconds: Int) throws -> Measurement {
        let logPrefix = directory.appendingPathComponent("log-\(script.rawValue)-\(UUID().uuidString.prefix(6))").path
        let cpuBefore = cpuSeconds(RUSAGE_CHILDREN.rawValue)
        let outcome = try ChildProcess.run(executable, [
            "-n", "-c", "1", "-j", "1", "-M", "prepared", "-T", String(seconds),
            "-f", directory.appendingPathComponent("\(script.rawValue).sql").path,
            "-l", "--log-prefix", logPrefix, conninfo,
        ])
        let text = outcome.output
        guard outcome.status == 0,
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
            let tps = Double(line.dropFirst(6).prefix { $0 != " " }),
            let transactions = text.split(separator: "\n").first(where: { $0.contains("number of transactions actually processed") })
                .flatMap({ Int($0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) })
        else {
            throw ValidationErrorText("pgbench failed: \(text)")
        }
        // Per-transaction log lines: client_id transaction_no time(us) script_no epoch us
        var latencies: [Duration] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where directory.appendingPathComponent(file).path.hasPrefix(logPrefix) {
            let log = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            for line in log.split(separator: "\n") {
                let fields = line.split(separator: " ")
                if fields.count >= 3, let micros = Int(fields[2]) { latencies.append(.microseconds(micros)) }
            }
        }
        let cpu = (cpuSeconds(RUSAGE_CHILDREN.rawValue) - cpuBefore) * 1e6 / Double(transactions)
        return Measurement(count: transactions, elapsed: .seconds(Double(transactions) / tps), latencies: latencies,
                           clientCPUMicroseconds: cpu)
    }
}

struct ValidationErrorText: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
