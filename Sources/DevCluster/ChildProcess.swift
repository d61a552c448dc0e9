import Foundation
import TimebankDatabase
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to completion and captures its output.
///
/// Why not Foundation's `Process`: on Linux its `waitUntilExit()` was seen
/// to hang for good when called from a Swift concurrency thread (the child
/// left a zombie nobody reaped). `posix_spawn` + `waitpid` has no such
/// moving parts.
public enum ChildProcess {
    public struct Outcome: Sendable {
        public var status: Int32
        public var output: String
    }

    /// Starts a program in the background with its output appended to
    /// `logFile`; returns its pid. Reap it with ``wait(_:)``.
    public static func spawn(_ path: String, _ arguments: [String], environment: [String: String], logFile: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let environmentStrings = environment.map { "\($0.key)=\($0.value)" }
        return try spawn(path, arguments, actions: &actions, environment: environmentStrings)
    }

    /// Waits for a child to end; returns its exit status (128 + signal if killed).
    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS by hand: the macros are not imported.
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Waits for a child to end without holding a thread of Swift's
    /// cooperative pool (as few threads as cores: a few blocked `waitpid`
    /// calls would starve every task): on a thread of its own.
    public static func exitStatus(of pid: pid_t) async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: wait(pid)) }
        }
    }

    /// Runs a program to completion on a thread of its own, so that the
    /// wait holds no thread of Swift's cooperative pool (as many threads as
    /// cores). A test that runs a child which talks to workers running in
    /// the test's own process (psql awaiting their requests) must not block
    /// a pool thread meanwhile: on two cores, two such waits at once left
    /// the workers no thread at all, and their jobs stood still until the
    /// child gave up (ClientExampleTests, issue 19).
    public static func run(_ path: String, _ arguments: [String]) async throws -> Outcome {
        try await offThePool { try run(path, arguments) as Outcome }
    }

    /// Runs blocking work (children waited for synchronously: initdb,
    /// `pg_ctl -w`, curl) on a thread of its own, off Swift's cooperative pool.
    public static func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }

    /// Runs a program to completion, blocking the calling thread: for
    /// synchronous code. Asynchronous code awaits ``run(_:_:)-async``.
    public static func run(_ path: String, _ arguments: [String]) throws -> Outcome {
        var pipeEnds: [Int32] = [-1, -1]
        // Close-on-exec, set before any other spawn can happen (spawnLock): a child another
        // thread spawns meanwhile (a server that outlives it, say) must not inherit the write
        // end, or this read would wait for that server to exit. (A test hung so when two
        // clusters started at once.)
        try spawnLock.withLock {
            guard pipe(&pipeEnds) == 0 else { throw ClusterError("pipe failed: errno \(errno)") }
            _ = fcntl(pipeEnds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(pipeEnds[1], F_SETFD, FD_CLOEXEC)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2)
        posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
        posix_spawn_file_actions_addclose(&actions, pipeEnds[1])

        let pid: pid_t
        do {
            pid = try spawn(path, arguments, actions: &actions, environment: nil)
        } catch {
            close(pipeEnds[1])
            close(pipeEnds[0])
            throw error
        }
        close(pipeEnds[1])
        var output = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(pipeEnds[0], &buffer, buffer.count)
            if count > 0 { output += buffer[0..<count]; continue }
            if count < 0 && errno == EINTR { continue }
            break
        }
        close(pipeEnds[0])
        return Outcome(status: wait(pid), output: String(decoding: output, as: UTF8.self))
    }

    /// Held while a pipe is made close-on-exec and while a child is spawned.
    private static let spawnLock = NSLock()

    private static func spawn(
        _ path: String, _ arguments: [String], actions: inout posix_spawn_file_actions_t, environment: [String]?
    ) throws -> pid_t {
        // The child starts with no blocked signals and default handlers:
        // it would otherwise inherit the calling thread's mask, in which
        // Dispatch blocks signals such as SIGALRM (pgbench -T relies on it)
        // and SIGTERM (a worker must hear it).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = environment.map { $0.map { strdup($0) } + [nil] }
        defer { envp?.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = spawnLock.withLock {
            envp.map { posix_spawn(&pid, path, &actions, &attributes, argv, $0) }
                ?? posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        }
        guard spawned == 0 else {
            throw ClusterError("cannot run \(path): \(String(cString: strerror(spawned)))")
        }
        return pid
    }
}
