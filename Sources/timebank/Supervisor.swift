import DevCluster
import Foundation
import TimebankDatabase

/// Runs worker processes and keeps them running: one that exits while the
/// supervisor is not stopping is started again after a pause that doubles
/// with each quick exit (a crash loop does not spin). `stop()` sends
/// SIGTERM to every child, which finishes its running jobs and exits.
actor Supervisor {
    struct Child {
        var name: String
        var executable: String
        var arguments: [String]
        /// Variables that differ from the supervisor's own (a worker's DATABASE_URL).
        var environment: [String: String]
        var pid: pid_t = 0
    }

    private let environment: [String: String]
    private var children: [Int: Child] = [:]
    private var stopping = false
    private var exited: [Int: CheckedContinuation<Void, Never>] = [:]

    init(environment: [String: String]) {
        self.environment = environment
    }

    func start(name: String, executable: String, arguments: [String] = [], environment: [String: String] = [:]) throws {
        let index = children.count
        children[index] = Child(name: name, executable: executable, arguments: arguments, environment: environment)
        try launch(index)
    }

    private func launch(_ index: Int) throws {
        guard var child = children[index] else { return }
        // The children's logs go to this process's standard error.
        child.pid = try ChildProcess.spawn(child.executable, child.arguments, environment: environment.merging(child.environment) { $1 },
                                           logFile: "/dev/stderr")
        children[index] = child
        announce("started \(child.name) (pid \(child.pid))")
        let pid = child.pid
        let started = ContinuousClock.now
        Task {
            let status = await ChildProcess.exitStatus(of: pid)
            await self.childExited(index, status: status, ranFor: started.duration(to: .now))
        }
    }

    private var pauses: [Int: Duration] = [:]

    private func childExited(_ index: Int, status: Int32, ranFor: Duration) async {
        guard let child = children[index] else { return }
        if stopping {
            announce("\(child.name) stopped (status \(status))")
            exited.removeValue(forKey: index)?.resume()
            children[index] = nil
            return
        }
        let pause = ranFor > .seconds(30) ? .seconds(1) : min((pauses[index] ?? .milliseconds(500)) * 2, .seconds(30))
        pauses[index] = pause
        announce("\(child.name) exited with status \(status); starting it again in \(pause)")
        try? await Task.sleep(for: pause)
        if !stopping { try? launch(index) }
    }

    /// SIGTERM to every child; returns when all have exited.
    func stop() async {
        stopping = true
        for (index, child) in children {
            kill(child.pid, SIGTERM)
            await withCheckedContinuation { continuation in
                if children[index] == nil { continuation.resume() } else { exited[index] = continuation }
            }
        }
    }
}

/// A line on standard output, written at once (not buffered), so that it
/// takes its place among the workers' log lines.
func announce(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
