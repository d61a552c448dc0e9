import Foundation
import TimebankDatabase
import Logging

/// The installed PostgreSQL server's programs (`initdb`, `pg_ctl`), run as
/// an unprivileged OS user when we are root, since the server refuses root.
public struct ServerTools {
    var binDirectory: URL
    /// The OS user to run them as, when we are root.
    var runAs: String?
    var logger: Logger

    /// `TIMEBANK_PG_BINDIR`, else the newest `/usr/lib/postgresql/N/bin`
    /// (Debian keeps the server's programs off PATH), else PATH.
    static func locate(environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger) throws -> ServerTools {
        guard let bin = directory(holding: "initdb", environment: environment) else {
            throw ClusterError("no PostgreSQL server found (initdb): install the postgresql package (make setup) or set TIMEBANK_PG_BINDIR")
        }
        var tools = ServerTools(binDirectory: bin, runAs: nil, logger: logger)
        if geteuid() == 0 { tools.runAs = try ensureServerUser() }
        return tools
    }

    /// The first directory holding `program`: `TIMEBANK_PG_BINDIR`, the
    /// newest `/usr/lib/postgresql/N/bin`, then PATH.
    static func directory(holding program: String, environment: [String: String]) -> URL? {
        let fileManager = FileManager.default
        var candidates: [URL] = []
        if let configured = environment["TIMEBANK_PG_BINDIR"], !configured.isEmpty {
            candidates.append(URL(fileURLWithPath: configured))
        }
        let debianRoot = "/usr/lib/postgresql"
        let versions = ((try? fileManager.contentsOfDirectory(atPath: debianRoot)) ?? []).compactMap(Int.init).sorted(by: >)
        candidates += versions.map { URL(fileURLWithPath: "\(debianRoot)/\($0)/bin") }
        candidates += (environment["PATH"] ?? "").split(separator: ":").map { URL(fileURLWithPath: String($0)) }
        return candidates.first { fileManager.isExecutableFile(atPath: $0.appendingPathComponent(program).path) }
    }

    /// The path of `pgbench`, for the benchmarks, found as the server's programs are.
    public static func pgbench(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        guard let directory = directory(holding: "pgbench", environment: environment) else {
            throw ClusterError("pgbench not found: install postgresql-client (scripts/install-deps) or set TIMEBANK_PG_BINDIR")
        }
        return directory.appendingPathComponent("pgbench").path
    }

    /// Runs one of the server's programs; returns its exit status.
    @discardableResult
    func run(_ program: String, _ arguments: [String], allowFailure: Bool = false) throws -> Int32 {
        let path = binDirectory.appendingPathComponent(program).path
        let outcome = try runAs.map { try ChildProcess.run("/usr/sbin/runuser", ["-u", $0, "--", path] + arguments) }
            ?? ChildProcess.run(path, arguments)
        if outcome.status != 0 && !allowFailure {
            throw ClusterError("\(program) \(arguments.first ?? "") failed (exit \(outcome.status)): "
                + outcome.output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return outcome.status
    }

    /// Gives `directory` to the server's OS user (when we are root), and
    /// checks that user can reach it.
    func prepareOwnedDirectory(_ directory: URL) throws {
        guard let runAs else { return }
        try Self.runTool("/bin/chown", [runAs, directory.path])
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        let probe = try ChildProcess.run("/usr/sbin/runuser", ["-u", runAs, "--", "test", "-w", directory.path])
        guard probe.status == 0 else {
            throw ClusterError("the OS user \(runAs) cannot reach \(directory.path) (a parent directory is private); set TIMEBANK_HOME to a directory it can reach, e.g. /var/tmp/timebank")
        }
    }

    /// Replaces a file in the data directory; it stays the server user's.
    func writeOwnedFile(_ file: URL, _ text: String) throws {
        try text.write(to: file, atomically: false, encoding: .utf8)
        if let runAs { try Self.runTool("/bin/chown", [runAs, file.path]) }
    }

    /// The unprivileged OS user the server's programs (and PgBouncer) run as when we are root.
    static func ensureServerUser() throws -> String {
        for name in ["postgres", "timebank"] where getpwnam(name) != nil { return name }
        try runTool("/usr/sbin/useradd", ["--system", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "timebank"])
        return "timebank"
    }

    private static func runTool(_ path: String, _ arguments: [String]) throws {
        let outcome = try ChildProcess.run(path, arguments)
        guard outcome.status == 0 else {
            throw ClusterError("\(path) \(arguments.joined(separator: " ")) failed (exit \(outcome.status)): \(outcome.output)")
        }
    }
}
