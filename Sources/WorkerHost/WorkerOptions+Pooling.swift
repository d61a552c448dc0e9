import ArgumentParser
import JobEngine

/// Issue 16, item 5: `--pooler`, `--listen-url`, `--poll-only` and their
/// variables, onto the configuration (which refuses what cannot work).
extension WorkerOptions {
    func applyPooling(to configuration: inout WorkerConfiguration, environment: [String: String]) throws {
        if let name: String = try Self.setting(pooler, "TIMEBANK_POOLER", environment) {
            guard let mode = Pooler(rawValue: name) else {
                throw ValidationError("--pooler / TIMEBANK_POOLER: \(name) is not one of \(Pooler.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            configuration.pooler = mode
        }
        if let url: String = try Self.setting(listenUrl, "TIMEBANK_LISTEN_URL", environment) { configuration.listenConninfo = url }
        if pollOnly {
            configuration.pollOnly = true
        } else if let text = environment["TIMEBANK_POLL_ONLY"], !text.isEmpty {
            switch text.lowercased() {
            case "true", "1", "yes": configuration.pollOnly = true
            case "false", "0", "no": configuration.pollOnly = false
            default: throw ValidationError("TIMEBANK_POLL_ONLY: \(text) is not true or false")
            }
        }
    }
}
