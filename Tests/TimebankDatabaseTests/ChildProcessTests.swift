import DevCluster
import Foundation
import Testing

/// `ChildProcess.run` awaited: the wait for a child is on a thread of its
/// own. Swift's cooperative pool has as many threads as cores; a test that
/// blocked one while its child (psql) waited on workers of the same process
/// left those workers, on two cores, no thread once a second test blocked
/// the other: their jobs stood still until the child gave up (issue 19's
/// client example, in full-suite runs only).
@Suite struct ChildProcessTests {
    /// More children than the pool has threads; a task started while they
    /// run must run before the first of them ends. Blocking waits could not
    /// let it (it would run only once a child ended and freed a thread).
    /// Tried a few times: other suites of a full run may keep the pool busy
    /// for a while (a cluster's initdb), which is not what this checks.
    @Test func awaitingChildrenLeavesTheCooperativePoolFree() async throws {
        let children = ProcessInfo.processInfo.activeProcessorCount + 1
        var tries: [String] = []
        for _ in 1...5 {
            let (probe, firstEnd) = try await withThrowingTaskGroup(of: (probe: ContinuousClock.Instant?, end: ContinuousClock.Instant?).self) { group in
                for _ in 0..<children {
                    group.addTask {
                        let outcome = try await ChildProcess.run("/bin/sleep", ["2"])
                        #expect(outcome.status == 0, "\(outcome.output)")
                        return (nil, ContinuousClock.now)
                    }
                }
                try await Task.sleep(for: .milliseconds(200))
                group.addTask { (ContinuousClock.now, nil) }
                var probe: ContinuousClock.Instant?, firstEnd: ContinuousClock.Instant?
                for try await (ran, ended) in group {
                    probe = probe ?? ran
                    if let ended { firstEnd = min(firstEnd ?? ended, ended) }
                }
                return (try #require(probe), try #require(firstEnd))
            }
            if probe < firstEnd { return }
            tries.append("the task ran \(probe - firstEnd) after the first child ended")
        }
        Issue.record("with \(children) children awaited, a task waited for one of them to end, 5 times: \(tries)")
    }

    @Test func awaitedRunCapturesOutputAndExitStatus() async throws {
        let outcome = try await ChildProcess.run("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"])
        #expect(outcome.status == 3)
        #expect(outcome.output == "out\nerr\n")
    }
}
