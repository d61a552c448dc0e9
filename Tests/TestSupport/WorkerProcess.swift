import DevCluster
import Foundation
import PostgresClient
import TimebankDatabase

/// A worker executable (built beside the test binary) started as its own
/// process for a test, as in production: killed, signalled, waited for.
public struct WorkerProcess: Sendable {
    public let pid: pid_t
    public let log: String

    /// Starts `executable` (e.g. `settlement-worker`) against `settings`'s
    /// database, its output in a log file of its own.
    public static func start(_ executable: String, _ settings: ConnectionSettings, _ arguments: [String] = [],
                             environment extra: [String: String] = [:]) throws -> WorkerProcess {
        let path = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(executable).path
        let log = "/tmp/\(executable)-\(UUID().uuidString.prefix(8)).log"
        var environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        environment["DATABASE_URL"] = settings.conninfoWithDatabase
        let pid = try ChildProcess.spawn(path, arguments, environment: environment, logFile: log)
        running.withLock { $0.insert(pid) }
        return WorkerProcess(pid: pid, log: log)
    }

    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the process to end; its exit status (128 + signal if killed).
    public func wait() async -> Int32 {
        let pid = self.pid
        let status = await ChildProcess.exitStatus(of: pid)
        _ = Self.running.withLock { $0.remove(pid) }
        return status
    }

    public var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Runs a test's body; if it fails midway, every process it started and
    /// did not reap is killed (else they would poll a dropped database for ever).
    public static func killingOnFailure(_ body: () async throws -> Void) async throws {
        do { try await body() } catch {
            for pid in running.withLock({ $0 }) { kill(pid, SIGKILL) }
            throw error
        }
    }

    /// Processes started and not yet reaped.
    private static let running = LockedPIDs()
}

/// The pids of started processes, shared by the tests.
final class LockedPIDs: @unchecked Sendable {
    private let lock = NSLock()
    private var pids: Set<pid_t> = []
    func withLock<T>(_ body: (inout Set<pid_t>) -> T) -> T { lock.withLock { body(&pids) } }
}
